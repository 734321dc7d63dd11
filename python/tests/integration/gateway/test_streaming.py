"""SSE passes through chunk by chunk; a client that hangs up cancels the model's generation."""

import asyncio
import itertools
import time

import aiohttp
import pytest

pytestmark = pytest.mark.integration


def model(name, upstream, **extra):
    return {"name": name, "playground": name, "upstream": upstream, **extra}


async def test_chunks_reach_client_as_model_emits_them(emulator, gateway):
    sim = emulator(model="m", ttft=0.05, itl=0.08)
    gw = gateway([model("m", sim.url)])
    body = {"model": "m", "prompt": "p", "stream": True, "max_tokens": 6}
    arrivals: list[float] = []
    async with aiohttp.ClientSession() as http:
        start = time.monotonic()
        async with http.post(f"{gw.url}/v1/completions", json=body) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            async for line in resp.content:
                if line.startswith(b"data: "):
                    arrivals.append(time.monotonic() - start)
            end = time.monotonic() - start
    assert len(arrivals) == 7  # 6 tokens + [DONE]
    # Not buffered: the first token arrived about 5 ITLs (0.4 s) before the stream ended.
    assert end - arrivals[0] >= 0.3
    gaps = [b - a for a, b in itertools.pairwise(arrivals[:6])]
    assert min(gaps) >= 0.04


async def test_stream_bytes_identical_to_direct_when_greedy(emulator, gateway):
    sim = emulator(model="m")
    gw = gateway([model("m", sim.url, cache=False)])
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True, "temperature": 0}
    async with aiohttp.ClientSession() as http:
        texts = []
        for base in (sim.url, gw.url):
            async with http.post(f"{base}/v1/chat/completions", json=body) as resp:
                raw = await resp.read()
            texts.append([line for line in raw.split(b"\n\n") if b'"content": " ' in line])
    strip = [[line.split(b'"choices"')[1] for line in t] for t in texts]
    assert strip[0] == strip[1]
    assert len(strip[0]) == 16


async def test_client_disconnect_cancels_upstream_generation(emulator, gateway):
    sim = emulator(model="m", ttft=0.01, itl=0.05)
    gw = gateway([model("m", sim.url)])
    body = {"model": "m", "prompt": "p", "stream": True, "max_tokens": 200}
    async with aiohttp.ClientSession() as http:
        resp = await http.post(f"{gw.url}/v1/completions", json=body)
        await resp.content.readline()
        assert sim.state()["running"] == 1
        resp.close()  # the client goes away 10 s before the stream would end
    for _ in range(100):
        if sim.state()["cancelledTotal"]:
            break
        await asyncio.sleep(0.02)
    state = sim.state()
    assert state["cancelledTotal"] == 1
    assert state["running"] == 0
    assert state["completedTotal"] == 0


async def test_client_disconnect_while_held_cancels_the_held_request(emulator, gateway):
    sim = emulator(model="m", startup_delay=30, hold_while_loading=True)
    gw = gateway([model("m", sim.url)])
    async with aiohttp.ClientSession() as http:
        task = asyncio.create_task(http.post(f"{gw.url}/v1/completions", json={"model": "m", "prompt": "p"}))
        for _ in range(100):
            if sim.state()["holding"]:
                break
            await asyncio.sleep(0.02)
        assert sim.state()["holding"] == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    for _ in range(100):
        if not sim.state()["holding"]:
            break
        await asyncio.sleep(0.02)
    assert sim.state()["holding"] == 0
