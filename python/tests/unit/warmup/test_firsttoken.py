from llmaz_serverless.warmup.firsttoken import counter_value

VLLM_METRICS = """\
# HELP vllm:time_to_first_token_seconds Time to first token.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="llama"} 3.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="llama"} 5.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="llama"} 5.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="llama"} 1.5
vllm:time_to_first_token_seconds_count{engine="1",model_name="llama"} 2.0
"""


def test_counter_sums_all_label_sets_of_the_sample():
    assert counter_value(VLLM_METRICS, "vllm:time_to_first_token_seconds_count") == 7.0


def test_absent_sample_or_non_prometheus_text_is_not_observable():
    assert counter_value(VLLM_METRICS, "sglang:time_to_first_token_seconds_count") is None
    assert counter_value("<html>not metrics</html>", "vllm:time_to_first_token_seconds_count") is None
