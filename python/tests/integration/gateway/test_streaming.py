"""SSE passes through chunk by chunk; a client that hangs up cancels the model's generation."""

import asyncio
import time

import aiohttp
import httptools
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
    # Not buffered: the first token arrived about 5 ITLs (0.4 s) before the stream
    # ended, and tokens kept arriving over that time rather than all at the end.
    assert end - arrivals[0] >= 0.3
    assert len({round(t, 2) for t in arrivals[:6]}) >= 4


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


async def test_http10_client_gets_the_stream_unframed_until_the_connection_closes(emulator, gateway):
    # HTTP/1.0 has no chunked encoding: pieces go out as they are and the end of
    # the answer is the end of the connection.
    sim = emulator(model="m")
    gw = gateway([model("m", sim.url)])
    host, port = gw.url.removeprefix("http://").rsplit(":", 1)
    body = b'{"model": "m", "prompt": "p", "stream": true, "max_tokens": 3}'
    async with asyncio.timeout(10):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /v1/completions HTTP/1.0\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
        )
        raw = await reader.read()  # until the gateway closes the connection
        writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") and b"chunked" not in head.lower()
    events = [e for e in payload.split(b"\n\n") if e]
    assert len(events) == 4 and events[-1] == b"data: [DONE]"
    assert all(e.startswith(b"data: ") for e in events)  # no chunk-size lines in between


class Answers:
    """httptools callbacks: the bodies of the answers parsed so far, one entry per complete answer."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.current = b""

    def on_body(self, body: bytes) -> None:
        self.current += body

    def on_message_complete(self) -> None:
        self.bodies.append(self.current)
        self.current = b""


async def test_http11_streams_are_chunked_and_ended_once_on_a_kept_alive_connection(emulator, gateway):
    # The gateway writes the closing chunk from the upstream's read callback
    # (proxy._SseRelay.end); the handler's write_eof must then add nothing. A
    # second closing chunk would be read as the start of the next answer.
    sim = emulator(model="m")
    gw = gateway([model("m", sim.url)])
    host, port = gw.url.removeprefix("http://").rsplit(":", 1)
    body = b'{"model": "m", "prompt": "p", "stream": true, "max_tokens": 3}'
    request = (
        b"POST /v1/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
    )
    answers = Answers()
    parser = httptools.HttpResponseParser(answers)  # strict llhttp: stray bytes are a parse error
    async with asyncio.timeout(10):
        reader, writer = await asyncio.open_connection(host, int(port))
        for sent in (1, 2):
            writer.write(request)
            while len(answers.bodies) < sent:
                data = await reader.read(65536)
                assert data, "the gateway closed the kept-alive connection"
                parser.feed_data(data)
        with pytest.raises(TimeoutError):  # and nothing follows the second answer
            async with asyncio.timeout(0.3):
                await reader.read(1)
        writer.close()
    for payload in answers.bodies:
        events = [e for e in payload.split(b"\n\n") if e]
        assert len(events) == 4 and events[-1] == b"data: [DONE]"


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


@pytest.fixture
def dying_upstream(stub_upstream):
    """An upstream that sends two SSE chunks, or half a JSON body, then drops the connection."""
    from aiohttp import web

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if body.get("stream"):
            out = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await out.prepare(request)
            await out.write(b'data: {"choices": [{"text": " one"}]}\n\n')
            await out.write(b'data: {"choices": [{"text": " two"}]}\n\n')
        else:
            out = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "500"})
            await out.prepare(request)
            await out.write(b'{"id": "cmpl-1", "choices": [')
        await asyncio.sleep(0.05)
        request.transport.close()
        return out

    return stub_upstream(handle).url


async def test_stream_ends_with_error_event_and_is_not_cached_when_model_dies_mid_stream(
    dying_upstream, gateway
):
    gw = gateway([model("m", dying_upstream)])
    body = {"model": "m", "prompt": "p", "stream": True, "temperature": 0}
    async with aiohttp.ClientSession() as http:
        for _ in range(2):
            async with http.post(f"{gw.url}/v1/completions", json=body) as resp:
                assert resp.status == 200
                assert resp.headers["X-Cache"] == "MISS"  # the cut stream was not stored
                raw = await resp.read()
        async with http.get(f"{gw.url}/metrics") as resp:
            metrics = await resp.text()
    assert raw.startswith(b'data: {"choices": [{"text": " one"}]}')
    last = raw.strip().split(b"\n\n")[-1]
    assert last.startswith(b'data: {"error": ') and b'"code": "upstream_cut"' in last
    assert 'llmaz_serverless_gateway_upstream_errors_total{model="m",reason="disconnect"} 2.0' in metrics


async def test_502_in_openai_shape_when_model_dies_mid_json_answer(dying_upstream, gateway):
    gw = gateway([model("m", dying_upstream)])
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{gw.url}/v1/completions", json={"model": "m", "prompt": "p"}) as resp,
    ):
        assert resp.status == 502
        err = (await resp.json())["error"]
    assert err["code"] == "upstream_cut"
    assert "closed the connection" in err["message"]
