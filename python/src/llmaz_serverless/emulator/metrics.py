"""vLLM's Prometheus metric names, served by the emulator's /metrics.

The chart's Prometheus triggers and llmaz's preStop drain read these names,
so the emulator must export the same ones with the same labels (`model_name`,
plus `engine` as vLLM's V1 engine does). Both the older
`vllm:gpu_cache_usage_perc` and its V1 replacement `vllm:kv_cache_usage_perc`
are exported. Each emulator owns a registry, so several can share a process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from llmaz_serverless.metric_set import MetricSet

_LATENCY_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
    2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
)  # fmt: skip
_TOKEN_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)


class VllmMetrics:
    def __init__(self, model: str) -> None:
        self.registry = CollectorRegistry()
        labels = ["model_name", "engine"]
        values = {"model_name": model, "engine": "0"}
        m = MetricSet(self.registry, "vllm:")

        def gauge(name: str, doc: str) -> Gauge:
            return m.gauge(name, doc, labels).labels(**values)

        def histogram(name: str, doc: str, buckets: tuple[float, ...]) -> Histogram:
            return m.histogram(name, doc, labels, buckets=buckets).labels(**values)

        def counter(name: str, doc: str) -> Counter:
            return m.counter(name, doc, labels).labels(**values)

        self.running = gauge("num_requests_running", "Requests currently generating.")
        self.waiting = gauge("num_requests_waiting", "Requests queued for a generation slot.")
        self.gpu_cache_usage = gauge("gpu_cache_usage_perc", "KV-cache usage, 1 = 100% (pre-V1 name).")
        self.kv_cache_usage = gauge("kv_cache_usage_perc", "KV-cache usage, 1 = 100%.")
        self.prompt_tokens = counter("prompt_tokens", "Prefill tokens processed.")
        self.generation_tokens = counter("generation_tokens", "Generation tokens produced.")
        self.preemptions = counter("num_preemptions", "Preemptions (always 0 here).")
        self._success = m.counter(
            "request_success", "Finished requests by finish reason.", [*labels, "finished_reason"]
        )
        self.success_length = self._success.labels(finished_reason="length", **values)
        self.success_abort = self._success.labels(finished_reason="abort", **values)
        self.ttft = histogram("time_to_first_token_seconds", "Time to first token.", _LATENCY_BUCKETS)
        self.tpot = histogram(
            "time_per_output_token_seconds", "Time per output token after the first.", _LATENCY_BUCKETS
        )
        self.itl = histogram("inter_token_latency_seconds", "Inter-token latency.", _LATENCY_BUCKETS)
        self.e2e = histogram("e2e_request_latency_seconds", "End-to-end request latency.", _LATENCY_BUCKETS)
        self.queue_time = histogram(
            "request_queue_time_seconds", "Time spent waiting for a slot.", _LATENCY_BUCKETS
        )
        self.request_prompt_tokens = histogram(
            "request_prompt_tokens", "Prompt tokens per request.", _TOKEN_BUCKETS
        )
        self.request_generation_tokens = histogram(
            "request_generation_tokens", "Generation tokens per request.", _TOKEN_BUCKETS
        )
