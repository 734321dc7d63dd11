"""Under load the model goes 1 -> N (HTTP concurrency and the Prometheus trigger)."""

import concurrent.futures

import httpx

from llmaz_serverless.e2e.wait import wait_until


def test_model_scales_out_under_concurrent_load(cluster, names, gateway_url, ledger):
    model = names.models[0]

    def one(i: int) -> int:
        response = httpx.post(
            f"{gateway_url}/v1/completions",
            json={"model": model.served_name, "prompt": f"load {i} " * 64, "max_tokens": 256},
            timeout=600,
        )
        ledger.record(f"load request {i}", response.status_code)
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        futures = [pool.submit(one, i) for i in range(96)]
        scaled = wait_until(
            lambda: cluster.playground_replicas(model.playground) >= 2,
            what="the Playground to scale beyond one replica",
            timeout=300,
            interval=5,
        )
        statuses = [f.result() for f in futures]
    assert scaled
    assert all(s == 200 for s in statuses)
