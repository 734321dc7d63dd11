"""Under load the model goes 1 -> N on the Prometheus trigger alone.

The load keeps HTTP concurrency under the add-on trigger's target, while the
model server's waiting queue (vllm:num_requests_waiting) rises above the
Prometheus trigger's threshold: the scale-out must come from that metric. The
HPA KEDA made says so in its own words (its SuccessfulRescale Event names the
metric above target), and its readings of the HTTP metric stay under target.
"""

import concurrent.futures

import httpx

from llmaz_serverless_testing.e2e.cluster import hpa_metric_readings, hpa_rescale_reasons
from llmaz_serverless_testing.e2e.names import subchart_values
from llmaz_serverless_testing.e2e.wait import wait_until

CLIENTS = 4
REQUESTS = 32


def test_waiting_queue_scales_the_model_out_while_http_concurrency_is_under_target(
    cluster, names, profile, gateway_url, ledger
):
    model = names.models[0]
    scaling = subchart_values(profile)["models"][0]["scaling"]
    http_target = float(scaling["http"]["concurrency"])
    assert http_target > CLIENTS, "the load must stay under the HTTP trigger's target"
    http_index = model.triggers.index("external-push")
    waiting_index = model.triggers.index("prometheus")

    def one(i: int) -> int:
        response = httpx.post(
            f"{gateway_url}/v1/completions",
            json={"model": model.served_name, "prompt": f"load {i} " * 64, "max_tokens": 256},
            timeout=600,
        )
        ledger.record(f"load request {i}", response.status_code)
        return response.status_code

    readings: list[dict[int, float]] = []

    def scaled_out() -> bool:
        readings.append(hpa_metric_readings(cluster, model.scaled_object))
        return cluster.playground_replicas(model.playground) >= 2

    with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(one, i) for i in range(REQUESTS)]
        scaled = wait_until(
            scaled_out, what="the Playground to scale beyond one replica", timeout=300, interval=5
        )
        statuses = [f.result() for f in futures]
    assert scaled
    assert all(s == 200 for s in statuses)
    rescales = hpa_rescale_reasons(cluster, model.scaled_object)
    assert any(f"s{waiting_index}-prometheus" in r and "above target" in r for r in rescales), (
        f"no scale-up named the waiting-queue metric (trigger {waiting_index}): {rescales}"
    )
    http = [r[http_index] for r in readings if http_index in r]
    assert http, f"KEDA's HPA never reported the HTTP metric: {readings}"
    assert max(http) < http_target, f"HTTP concurrency reached its target ({http_target}): {readings}"
