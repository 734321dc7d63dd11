"""The emulator over real HTTP on loopback, as the gateway, warmup and load tests use it."""

import asyncio
import json
import time

import aiohttp
import pytest

from llmaz_serverless_testing.appservers import EmulatorServer

pytestmark = pytest.mark.integration


async def _sse_events(resp: aiohttp.ClientResponse) -> list[str]:
    events = []
    async for line in resp.content:
        text = line.decode().strip()
        if text.startswith("data: "):
            events.append(text[6:])
    return events


async def test_health_503_and_requests_503_while_loading_then_200():
    with EmulatorServer(model="m", startup_delay=0.6, ttft=0, itl=0) as sim:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{sim.url}/health") as resp:
                assert resp.status == 503
            body = {"model": "m", "prompt": "hi"}
            async with http.post(f"{sim.url}/v1/completions", json=body) as resp:
                assert resp.status == 503
                assert (await resp.json())["error"]["code"] == 503
            await asyncio.sleep(0.8)
            async with http.get(f"{sim.url}/health") as resp:
                assert resp.status == 200
            async with http.post(f"{sim.url}/v1/completions", json=body) as resp:
                assert resp.status == 200
        assert sim.state()["rejectedLoadingTotal"] == 1


async def test_request_held_until_loaded_when_hold_while_loading():
    with EmulatorServer(model="m", startup_delay=0.5, hold_while_loading=True, ttft=0, itl=0) as sim:
        start = time.monotonic()
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{sim.url}/v1/completions", json={"model": "m", "prompt": "x"}) as resp,
        ):
            assert resp.status == 200
        assert time.monotonic() - start >= 0.4


async def test_chat_stream_has_openai_chunks_usage_and_done():
    with EmulatorServer(model="m", ttft=0.01, itl=0.001) as sim:
        body = {
            "model": "m",
            "messages": [{"role": "user", "content": "a b c"}],
            "stream": True,
            "max_tokens": 4,
            "stream_options": {"include_usage": True},
        }
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{sim.url}/v1/chat/completions", json=body) as resp,
        ):
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            events = await _sse_events(resp)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "m" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    content = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert len(content) == 4
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 4, "completion_tokens": 4, "total_tokens": 8}


async def test_completion_identical_when_temperature_zero():
    with EmulatorServer(model="m", ttft=0, itl=0) as sim:
        body = {"model": "m", "prompt": "same prompt", "temperature": 0, "max_tokens": 12}
        async with aiohttp.ClientSession() as http:
            texts = []
            for _ in range(2):
                async with http.post(f"{sim.url}/v1/completions", json=body) as resp:
                    data = await resp.json()
                    texts.append(data["choices"][0]["text"])
                    assert data["object"] == "text_completion"
                    assert data["usage"]["completion_tokens"] == 12
    assert texts[0] == texts[1]
    assert len(texts[0].split()) == 12


async def test_stream_chunks_arrive_paced_by_itl():
    with EmulatorServer(model="m", ttft=0.05, itl=0.05) as sim:
        body = {"model": "m", "prompt": "p", "stream": True, "max_tokens": 5}
        arrivals = []
        async with aiohttp.ClientSession() as http:
            start = time.monotonic()
            async with http.post(f"{sim.url}/v1/completions", json=body) as resp:
                async for line in resp.content:
                    if line.startswith(b"data: {"):
                        arrivals.append(time.monotonic() - start)
    assert len(arrivals) == 5
    assert arrivals[0] >= 0.045
    # The stream is not buffered: the last token comes ~4 ITLs after the first.
    assert arrivals[-1] - arrivals[0] >= 0.15


async def test_unknown_model_404_and_bad_json_400():
    with EmulatorServer(model="m") as sim:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{sim.url}/v1/completions", json={"model": "x", "prompt": "p"}) as resp:
                assert resp.status == 404
                assert "does not exist" in (await resp.json())["error"]["message"]
            async with http.post(f"{sim.url}/v1/completions", data=b"{not json") as resp:
                assert resp.status == 400
            async with http.post(f"{sim.url}/v1/chat/completions", json={"model": "m"}) as resp:
                assert resp.status == 400
                assert "messages" in (await resp.json())["error"]["message"]


async def test_first_n_fail_with_status_then_succeed():
    with EmulatorServer(model="m", fail_first=2, fail_status=500, ttft=0, itl=0) as sim:
        async with aiohttp.ClientSession() as http:
            statuses = []
            for _ in range(3):
                async with http.post(f"{sim.url}/v1/completions", json={"model": "m", "prompt": "p"}) as resp:
                    statuses.append(resp.status)
    assert statuses == [500, 500, 200]


async def test_waiting_reported_when_over_max_concurrency():
    with EmulatorServer(model="m", max_concurrency=2, ttft=0.4, itl=0) as sim:
        async with aiohttp.ClientSession() as http:

            async def one() -> int:
                async with http.post(f"{sim.url}/v1/completions", json={"model": "m", "prompt": "p"}) as r:
                    await r.read()
                    return r.status

            tasks = [asyncio.create_task(one()) for _ in range(5)]
            await asyncio.sleep(0.2)
            state = sim.state()
            async with http.get(f"{sim.url}/metrics") as resp:
                metrics = await resp.text()
            statuses = await asyncio.gather(*tasks)
    assert (state["running"], state["waiting"]) == (2, 3)
    assert 'vllm:num_requests_waiting{engine="0",model_name="m"} 3.0' in metrics
    assert 'vllm:num_requests_running{engine="0",model_name="m"} 2.0' in metrics
    assert statuses == [200] * 5


async def test_abort_counted_when_client_disconnects_mid_stream():
    with EmulatorServer(model="m", ttft=0.01, itl=0.05) as sim:
        body = {"model": "m", "prompt": "p", "stream": True, "max_tokens": 100}
        async with aiohttp.ClientSession() as http:
            resp = await http.post(f"{sim.url}/v1/completions", json=body)
            await resp.content.readline()
            resp.close()
        for _ in range(50):
            if sim.state()["cancelledTotal"]:
                break
            await asyncio.sleep(0.02)
        state = sim.state()
        async with aiohttp.ClientSession() as http, http.get(f"{sim.url}/metrics") as resp:
            metrics = await resp.text()
    assert state["cancelledTotal"] == 1
    assert state["running"] == 0
    assert 'vllm:request_success_total{engine="0",finished_reason="abort",model_name="m"} 1.0' in metrics


async def test_models_lists_the_served_model_and_metrics_use_vllm_names():
    with EmulatorServer(model="llama", ttft=0, itl=0) as sim:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{sim.url}/v1/models") as resp:
                data = await resp.json()
            async with http.post(f"{sim.url}/v1/completions", json={"model": "llama", "prompt": "a b"}) as r:
                assert r.status == 200
            async with http.get(f"{sim.url}/metrics") as resp:
                metrics = await resp.text()
    assert [m["id"] for m in data["data"]] == ["llama"]
    for name in (
        "vllm:num_requests_running",
        "vllm:num_requests_waiting",
        "vllm:gpu_cache_usage_perc",
        "vllm:kv_cache_usage_perc",
        "vllm:time_to_first_token_seconds_bucket",
        "vllm:e2e_request_latency_seconds_count",
        "vllm:prompt_tokens_total",
        "vllm:generation_tokens_total",
    ):
        assert name + "{" in metrics, name
    assert 'vllm:request_success_total{engine="0",finished_reason="length",model_name="llama"} 1.0' in metrics


async def test_request_over_the_context_length_is_400_like_vllm_and_integral_float_max_tokens_is_served():
    with EmulatorServer(model="m", ttft=0, itl=0, max_model_len=64) as sim:
        async with aiohttp.ClientSession() as s:
            over = {"model": "m", "prompt": "hi", "max_tokens": 10**12}
            async with s.post(f"{sim.url}/v1/completions", json=over) as r:
                refused = (r.status, (await r.json())["error"]["message"])
            within = {"model": "m", "prompt": "hi", "max_tokens": 8.0}
            async with s.post(f"{sim.url}/v1/completions", json=within) as r:
                served = (r.status, (await r.json())["usage"]["completion_tokens"])
    assert refused[0] == 400 and "maximum context length is 64 tokens" in refused[1]
    assert served == (200, 8)
