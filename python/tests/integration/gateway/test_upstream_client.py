"""The gateway's upstream HTTP/1.1 client (`gateway/upstream.py`) against real servers on loopback.

Most servers here are `asyncio.start_server` handlers that write crafted raw
HTTP answers and record what they read (requests, accepted connections, EOF);
three tests use a real aiohttp server (the `stub_upstream` fixture). Covered:

- bodies: Content-Length, chunked (pieces reach the sink as they are sent),
  read-until-close (HTTP/1.0 and HTTP/1.1 without a length), 1xx interim
  answers skipped, 204 without a body; `on_end` exactly once, also when the
  body was complete before `stream()`;
- the request: request line, target and query, Host (and its override from the
  headers), Content-Length, header injection refused;
- the pool: keep-alive reuse (one accepted connection), no reuse after
  `Connection: close` or HTTP/1.0, idle connections closed after
  keepalive_timeout, an idle connection the server closed is replaced, a
  request that fails on a reused connection before any answer byte is sent
  again once on a new connection (and only then), no request lost to a server
  that closes idle connections sooner than the pool's default keep-alive,
  `max_connections_per_host` and `max_connections`, `close()`;
- failures: connect refused and connect timeout (UpstreamError naming
  host:port), not HTTP (UpstreamProtocolError), a close in the middle of the
  body (UpstreamCut from wait() and read());
- cancellation: a cancelled post() closes its connection (the server sees EOF)
  and frees its slot; a cancelled wait() leaves the answer to its owner, whose
  close() drops the connection;
- backpressure: a congested sink pauses reading (wait() returns False, nothing
  more arrives) until resume(); every byte arrives, in order.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiohttp import web
from multidict import CIMultiDict

from llmaz_serverless.gateway.settings import UpstreamSettings
from llmaz_serverless.gateway.upstream import (
    UpstreamCut,
    UpstreamError,
    UpstreamPool,
    UpstreamProtocolError,
    UpstreamResponse,
)
from llmaz_serverless.launcher import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

LIMIT = 5  # seconds any single test may take; a hang is a failure, not a stuck suite


# --- a raw HTTP server that records what it sees -----------------------------------


@dataclass
class Request:
    line: str
    headers: CIMultiDict[str]
    body: bytes
    conn: int  # index of the connection it came on


class Peer:
    """One accepted connection, as the server sees it."""

    def __init__(
        self, server: RawServer, index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ):
        self.server = server
        self.index = index
        self.reader = reader
        self.writer = writer
        self.requests = 0
        self.eof = asyncio.Event()

    async def read_request(self) -> Request | None:
        """The next request on this connection; None at EOF."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            self.eof.set()
            return None
        line, *fields = head[:-4].decode("latin-1").split("\r\n")
        headers: CIMultiDict[str] = CIMultiDict()
        for field in fields:
            name, _, value = field.partition(":")
            headers.add(name, value.strip())
        body = await self.reader.readexactly(int(headers.get("Content-Length", "0")))
        request = Request(line, headers, body, self.index)
        self.requests += 1
        self.server.requests.append(request)
        self.server.arrived.set()
        return request

    async def until_eof(self) -> None:
        try:
            while await self.reader.read(65536):
                pass
        except ConnectionError:
            pass
        self.eof.set()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


Handler = Callable[[Peer], Awaitable[None]]


class RawServer:
    """An asyncio server on 127.0.0.1; every accepted connection is handled by `handler(peer)`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.peers: list[Peer] = []
        self.requests: list[Request] = []
        self.arrived = asyncio.Event()  # set on every request; clear it to wait for the next
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    def url(self, path: str = "/v1/completions") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def accepted(self) -> int:
        return len(self.peers)

    async def start(self) -> RawServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for peer in self.peers:
            peer.writer.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), LIMIT)

    async def next_request(self) -> Request:
        self.arrived.clear()
        seen = len(self.requests)
        while len(self.requests) == seen:
            await self.arrived.wait()
        return self.requests[-1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer = Peer(self, len(self.peers), reader, writer)
        self.peers.append(peer)
        try:
            await self.handler(peer)
        except (ConnectionError, asyncio.CancelledError):  # CancelledError: stop() ends the handler
            pass
        finally:
            writer.close()


def answer(body: bytes = b"ok", status: str = "200 OK", *headers: str, version: str = "HTTP/1.1") -> bytes:
    """A raw answer with a Content-Length body."""
    lines = [f"{version} {status}", *headers, f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def answering(*answers: bytes) -> Handler:
    """Answers each request on a connection with the next of `answers` (the last one repeats)."""

    async def handle(peer: Peer) -> None:
        while await peer.read_request() is not None:
            await peer.send(answers[min(peer.requests, len(answers)) - 1])

    return handle


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[RawServer]]]:
    servers: list[RawServer] = []

    async def start(handler: Handler) -> RawServer:
        server = await RawServer(handler).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def pool() -> AsyncIterator[Callable[..., UpstreamPool]]:
    pools: list[UpstreamPool] = []

    def make(**options: float) -> UpstreamPool:
        made = UpstreamPool(**{"keepalive_timeout": 30, "connect_timeout": 2, **options})  # type: ignore[arg-type]
        pools.append(made)
        return made

    yield make
    for made in pools:
        await made.close()


async def post(client: UpstreamPool, url: str, body: bytes = b"{}", **headers: str) -> UpstreamResponse:
    return await client.post(url, body, headers)


async def fetch(client: UpstreamPool, url: str, body: bytes = b"{}") -> tuple[int, bytes]:
    """POST, read the whole body and release the connection."""
    resp = await post(client, url, body)
    data = await resp.read()
    resp.release()
    return resp.status, data


class Collector:
    """A sink (and on_end) that records what it got; congested when `congested` is True."""

    def __init__(self, congested: bool = False) -> None:
        self.pieces: list[bytes] = []
        self.ends = 0
        self.congested = congested
        self.got = asyncio.Event()

    def __call__(self, piece: bytes) -> bool:
        self.pieces.append(piece)
        self.got.set()
        return self.congested

    def end(self) -> None:
        self.ends += 1

    @property
    def body(self) -> bytes:
        return b"".join(self.pieces)


# --- bodies -------------------------------------------------------------------------


async def test_content_length_body(serve, pool):
    server = await serve(
        answering(answer(b'{"id": 1}', "201 Created", "Content-Type: application/json", "X-A: 1"))
    )
    async with asyncio.timeout(LIMIT):
        resp = await post(pool(), server.url())
        assert (resp.status, resp.reason) == (201, "Created")
        assert resp.headers["content-type"] == "application/json"
        assert resp.headers["X-A"] == "1"
        assert await resp.read() == b'{"id": 1}'
        assert resp.complete


async def test_chunked_pieces_reach_the_sink_as_they_are_sent(serve, pool):
    go_on = asyncio.Event()

    async def handle(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(CHUNKED_HEAD + b"b\r\ndata: one\n\n\r\n")
        await go_on.wait()  # the rest only once the client has the first piece
        await peer.send(b"B;ext=1\r\ndata: two\n\n\r\n" + b"0\r\nX-Trailer: t\r\n\r\n")
        await peer.until_eof()

    server = await serve(handle)
    async with asyncio.timeout(LIMIT):
        resp = await post(pool(), server.url())
        assert resp.headers["Transfer-Encoding"] == "chunked"
        sink = Collector()
        resp.stream(sink, sink.end)
        await sink.got.wait()
        assert sink.body == b"data: one\n\n" and sink.ends == 0 and not resp.complete
        go_on.set()
        assert await resp.wait() is True
        assert sink.body == b"data: one\n\ndata: two\n\n"
        assert sink.ends == 1


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n",
    ],
)
async def test_body_without_length_runs_until_the_server_closes(serve, pool, head):
    async def handle(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(head + b"first part, ")
        await asyncio.sleep(0.05)
        await peer.send(b"second part")
        # the handler returns: the server closes the connection

    server = await serve(handle)
    client = pool()
    async with asyncio.timeout(LIMIT):
        resp = await post(client, server.url())
        sink = Collector()
        resp.stream(sink, sink.end)
        assert await resp.wait() is True
        assert sink.body == b"first part, second part" and sink.ends == 1
        resp.release()
        assert await fetch(client, server.url()) == (200, b"first part, second part")
    assert server.accepted == 2  # the connection ended with the body


async def test_interim_answers_are_skipped(serve, pool):
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
    server = await serve(answering(interim + answer(b"final", "200 OK", "X-Final: yes")))
    async with asyncio.timeout(LIMIT):
        resp = await post(pool(), server.url())
        assert resp.status == 200 and resp.headers["X-Final"] == "yes"
        assert "Link" not in resp.headers
        assert await resp.read() == b"final"


async def test_204_has_no_body_and_keeps_the_connection(serve, pool):
    server = await serve(answering(b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n", answer(b"second")))
    client = pool()
    async with asyncio.timeout(LIMIT):
        resp = await post(client, server.url())
        assert resp.status == 204 and resp.complete
        sink = Collector()
        resp.stream(sink, sink.end)
        assert sink.ends == 1 and sink.pieces == []
        assert await resp.read() == b""
        resp.release()
        assert await fetch(client, server.url()) == (200, b"second")
        assert server.accepted == 1


async def test_on_end_once_when_the_body_was_complete_before_stream(serve, pool):
    server = await serve(answering(answer(b"all at once")))
    async with asyncio.timeout(LIMIT):
        resp = await post(pool(), server.url())
        assert await resp.wait() is True  # no sink yet: the body is kept
        sink = Collector()
        resp.stream(sink, sink.end)
        assert sink.ends == 1 and sink.body == b"all at once"  # both during stream()
        assert await resp.wait() is True
        resp.release()
        assert sink.ends == 1


async def test_on_end_is_called_from_data_received_before_wait_returns(serve, pool):
    go_on = asyncio.Event()

    async def handle(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc")
        await go_on.wait()
        await peer.send(b"def")
        await peer.until_eof()

    server = await serve(handle)
    async with asyncio.timeout(LIMIT):
        resp = await post(pool(), server.url())
        seen: list[tuple[bool, bytes, asyncio.Task[object] | None]] = []
        sink = Collector()
        resp.stream(sink, lambda: seen.append((resp.complete, sink.body, asyncio.current_task())))
        waiter = asyncio.ensure_future(resp.wait())
        await sink.got.wait()
        go_on.set()
        assert await waiter is True
        # called once, with the whole body, from data_received (no task), not from a waking wait()
        assert seen == [(True, b"abcdef", None)]


# --- the request --------------------------------------------------------------------


async def test_request_line_headers_and_body(serve, pool):
    server = await serve(answering(answer()))
    client = pool()
    async with asyncio.timeout(LIMIT):
        body = b'{"prompt": "hi"}'
        resp = await client.post(
            server.url("/v1/chat/completions?a=1&b=x%20y"),
            body,
            {"Content-Type": "application/json", "Content-Length": "999", "X-Request-Id": "r1"},
        )
        await resp.read()
        request = server.requests[-1]
        assert request.line == "POST /v1/chat/completions?a=1&b=x%20y HTTP/1.1"
        assert request.headers["Host"] == f"127.0.0.1:{server.port}"
        assert request.headers.getall("Content-Length") == [str(len(body))]  # the caller's is replaced
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["X-Request-Id"] == "r1"
        assert request.body == body
        resp.release()

        await fetch(client, f"http://127.0.0.1:{server.port}")
        assert server.requests[-1].line == "POST / HTTP/1.1"
        assert server.requests[-1].body == b"{}"


async def test_host_header_from_the_headers_wins(serve, pool):
    server = await serve(answering(answer()))
    async with asyncio.timeout(LIMIT):
        resp = await pool().post(server.url(), b"", {"host": "model.internal:8000"})
        await resp.read()
        request = server.requests[-1]
        assert request.headers.getall("Host") == ["model.internal:8000"]
        assert request.headers["Content-Length"] == "0" and request.body == b""


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "a\r\nX-Injected: 1"}, {"X-A": "a\nb"}, {"X-A": "a\rb"}, {"X-A\r\nX-B": "1"}, {"X-A:": "1"}],
)
async def test_header_injection_is_refused(serve, pool, headers):
    server = await serve(answering(answer()))
    async with asyncio.timeout(LIMIT):
        with pytest.raises(ValueError, match="not allowed"):
            await pool().post(server.url(), b"{}", headers)
        await asyncio.sleep(0.05)
        assert server.accepted == 0  # refused before connecting


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http:///v1", "127.0.0.1:80/v1"])
async def test_only_http_urls_with_a_host(pool, url):
    with pytest.raises(ValueError, match="only http"):
        await pool().post(url, b"", {})


# --- keep-alive and the pool ----------------------------------------------------------


async def test_keep_alive_connection_is_reused(serve, pool):
    server = await serve(answering(answer(b"one"), CHUNKED_HEAD + chunked(b"two", b"!"), answer(b"three")))
    client = pool()
    async with asyncio.timeout(LIMIT):
        assert await fetch(client, server.url()) == (200, b"one")
        assert await fetch(client, server.url()) == (200, b"two!")
        assert await fetch(client, server.url()) == (200, b"three")
    assert server.accepted == 1
    assert [r.conn for r in server.requests] == [0, 0, 0]


@pytest.mark.parametrize(
    "first",
    [
        answer(b"bye", "200 OK", "Connection: close"),
        answer(b"bye", "200 OK", "Connection: keep-alive, close"),
        answer(b"bye", version="HTTP/1.0"),
        answer(b"bye", "200 OK", "Connection: keep-alive", version="HTTP/1.0"),
    ],
)
async def test_answers_that_forbid_reuse_close_the_connection(serve, pool, first):
    server = await serve(answering(first, answer(b"never on this connection")))
    client = pool()
    async with asyncio.timeout(LIMIT):
        assert await fetch(client, server.url()) == (200, b"bye")
        await server.peers[0].eof.wait()  # the server kept it open; the client closed it
        assert await fetch(client, server.url()) == (200, b"bye")
    assert server.accepted == 2
    assert [p.requests for p in server.peers] == [1, 1]


async def test_idle_connection_closed_after_keepalive_timeout(serve, pool):
    server = await serve(answering(answer()))
    client = pool(keepalive_timeout=0.3)
    async with asyncio.timeout(LIMIT):
        await fetch(client, server.url())
        released = time.monotonic()
        await server.peers[0].eof.wait()
        assert time.monotonic() - released >= 0.25  # pooled until the timeout, then closed
        await fetch(client, server.url())
    assert server.accepted == 2


async def test_idle_connection_the_server_closed_is_replaced(serve, pool):
    async def handle(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(answer(b"conn %d" % peer.index))
        # no Connection: close, but the server drops the idle connection right after

    server = await serve(handle)
    client = pool()
    async with asyncio.timeout(LIMIT):
        assert await fetch(client, server.url()) == (200, b"conn 0")
        await asyncio.sleep(0.1)  # the client reads the EOF and drops the pooled connection
        assert await fetch(client, server.url()) == (200, b"conn 1")
    assert [p.requests for p in server.peers] == [1, 1]


def close_on_request(stale: set[int], partial: bytes = b"") -> Handler:
    """Answers the first request of each connection; connections in `stale` then
    close on their next request (after sending `partial`), as a server that timed
    out the idle connection just as the request went out."""

    async def handle(peer: Peer) -> None:
        while await peer.read_request() is not None:
            if peer.requests > 1 and peer.index in stale:
                if partial:
                    await peer.send(partial)
                return
            await peer.send(answer(b"conn %d" % peer.index))

    return handle


async def test_request_failing_on_a_reused_connection_is_sent_again(serve, pool):
    server = await serve(close_on_request(stale={0}))
    client = pool()
    async with asyncio.timeout(LIMIT):
        assert await fetch(client, server.url()) == (200, b"conn 0")
        assert await fetch(client, server.url()) == (200, b"conn 1")
    assert [(r.conn, r.body) for r in server.requests] == [(0, b"{}"), (0, b"{}"), (1, b"{}")]


async def test_resend_goes_to_a_new_connection_not_another_pooled_one(serve, pool):
    server = await serve(close_on_request(stale={0, 1}))
    client = pool()
    async with asyncio.timeout(LIMIT):
        first, second = await asyncio.gather(post(client, server.url()), post(client, server.url()))
        for resp in (first, second):
            await resp.read()
            resp.release()
        assert server.accepted == 2  # two idle pooled connections, both about to fail
        assert await fetch(client, server.url()) == (200, b"conn 2")
    # one stale connection got the request and failed; the other stayed in the pool
    assert sorted(p.requests for p in server.peers) == [1, 1, 2]
    assert server.requests[-1].conn == 2


async def test_no_resend_once_answer_bytes_came(serve, pool):
    """The upstream got the request and began to answer: sending it again would run it twice."""
    server = await serve(close_on_request(stale={0}, partial=b"HTTP/1.1 200 OK\r\nContent-"))
    client = pool()
    async with asyncio.timeout(LIMIT):
        await fetch(client, server.url())
        with pytest.raises(UpstreamError, match="before the answer's head"):
            await post(client, server.url())
    assert len(server.requests) == 2 and server.accepted == 1


async def test_no_resend_on_a_new_connection(serve, pool):
    async def handle(peer: Peer) -> None:
        await peer.read_request()  # and close without an answer

    server = await serve(handle)
    async with asyncio.timeout(LIMIT):
        with pytest.raises(UpstreamError, match="before the answer's head"):
            await post(pool(), server.url())
    assert len(server.requests) == 1


async def test_max_connections_per_host_holds_the_second_request(serve, pool):
    server = await serve(answering(answer(b"first"), answer(b"second")))
    client = pool(max_connections_per_host=1)
    async with asyncio.timeout(LIMIT):
        first = await post(client, server.url())
        second = asyncio.ensure_future(post(client, server.url()))
        await asyncio.sleep(0.2)
        assert not second.done()
        assert server.accepted == 1 and len(server.requests) == 1
        assert await first.read() == b"first"
        first.release()
        resp = await second
        assert await resp.read() == b"second"
        resp.release()
    assert server.accepted == 1  # the second went over the released connection


async def test_max_connections_per_host_is_per_host(serve, pool):
    one = await serve(answering(answer(b"one")))
    two = await serve(answering(answer(b"two")))
    client = pool(max_connections_per_host=1)
    async with asyncio.timeout(LIMIT):
        first = await post(client, one.url())
        other = await post(client, two.url())  # another host: not held
        assert await other.read() == b"two"
        first.close()
        other.release()


async def test_max_connections_is_across_hosts(serve, pool):
    one = await serve(answering(answer(b"one")))
    two = await serve(answering(answer(b"two")))
    client = pool(max_connections=1)
    async with asyncio.timeout(LIMIT):
        first = await post(client, one.url())
        other = asyncio.ensure_future(post(client, two.url()))
        await asyncio.sleep(0.2)
        assert not other.done() and two.accepted == 0
        first.close()  # a connection dropped mid-answer frees its slot too
        resp = await other
        assert await resp.read() == b"two"
        resp.release()


async def test_pool_close_closes_idle_connections_and_refuses_new_requests(serve, pool):
    server = await serve(answering(answer()))
    client = pool()
    async with asyncio.timeout(LIMIT):
        await fetch(client, server.url())
        await client.close()
        await server.peers[0].eof.wait()
        with pytest.raises(UpstreamError, match="shutting down"):
            await post(client, server.url())
    assert server.accepted == 1


# --- failures -----------------------------------------------------------------------


async def test_connect_refused_names_host_and_port(pool):
    port = free_port()
    async with asyncio.timeout(LIMIT):
        with pytest.raises(UpstreamError, match=f"cannot connect to 127.0.0.1:{port}"):
            await post(pool(), f"http://127.0.0.1:{port}/v1/completions")


async def test_connect_timeout(pool):
    # A listener with a full accept queue: the kernel drops further SYNs, so connect hangs.
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        async with asyncio.timeout(LIMIT):
            started = time.monotonic()
            with pytest.raises(UpstreamError, match=f"connect to 127.0.0.1:{port} timed out after 0.3s"):
                await post(pool(connect_timeout=0.3), f"http://127.0.0.1:{port}/")
            assert 0.25 <= time.monotonic() - started < 3
    finally:
        for sock in [listener, *fillers]:
            sock.close()


async def test_connect_timeout_covers_the_tls_handshake(serve, pool):
    async def handle(peer: Peer) -> None:
        await peer.until_eof()  # accepts TCP, never answers the TLS hello

    server = await serve(handle)
    async with asyncio.timeout(LIMIT):
        with pytest.raises(UpstreamError, match=f"127.0.0.1:{server.port} timed out"):
            await post(pool(connect_timeout=0.3), f"https://127.0.0.1:{server.port}/v1")
        await server.peers[0].eof.wait()  # and the half-open connection is closed


async def test_not_http_is_a_protocol_error(serve, pool):
    server = await serve(answering(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"))
    async with asyncio.timeout(LIMIT):
        with pytest.raises(
            UpstreamProtocolError, match=r"not a valid HTTP/1\.x answer head .* began b'SSH-2\.0"
        ):
            await post(pool(), server.url())
        await server.peers[0].eof.wait()


def cut_after(head_and_part: bytes) -> Handler:
    async def handle(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(head_and_part)
        await asyncio.sleep(0.05)  # then the server goes away mid-body

    return handle


@pytest.mark.parametrize(
    "sent, part",
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", b"partial"),
        (CHUNKED_HEAD + b"7\r\npartial\r\n", b"partial"),
        (CHUNKED_HEAD + b"10\r\npartial", b"partial"),
    ],
)
async def test_close_mid_body_is_upstream_cut(serve, pool, sent, part):
    server = await serve(cut_after(sent))
    client = pool()
    async with asyncio.timeout(LIMIT):
        resp = await post(client, server.url())
        sink = Collector()
        resp.stream(sink, sink.end)
        with pytest.raises(UpstreamCut, match="middle of the body"):
            await resp.wait()
        assert sink.body == part and sink.ends == 0
        with pytest.raises(UpstreamCut):
            await resp.wait()  # and it stays so
        resp.release()  # incomplete: not pooled

        resp = await post(client, server.url())
        with pytest.raises(UpstreamCut):
            await resp.read()
        resp.close()
    assert server.accepted == 2


# --- cancellation -------------------------------------------------------------------


async def test_cancelled_post_closes_its_connection_and_frees_its_slot(serve, pool):
    async def handle(peer: Peer) -> None:
        await peer.read_request()
        if peer.index == 0:
            await peer.until_eof()  # never answers the first connection
        else:
            await peer.send(answer(b"later"))
            await peer.until_eof()

    server = await serve(handle)
    client = pool(max_connections_per_host=1)
    async with asyncio.timeout(LIMIT):
        task = asyncio.ensure_future(post(client, server.url()))
        await server.next_request()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await server.peers[0].eof.wait()
        assert await fetch(client, server.url()) == (200, b"later")


async def test_cancelled_while_waiting_for_a_slot(serve, pool):
    server = await serve(answering(answer(b"x")))
    client = pool(max_connections_per_host=1)
    async with asyncio.timeout(LIMIT):
        first = await post(client, server.url())
        waiting = asyncio.ensure_future(post(client, server.url()))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await first.read()
        first.release()
        assert await fetch(client, server.url()) == (200, b"x")  # the slot was not leaked
    assert server.accepted == 1


def slow_body() -> tuple[Handler, asyncio.Event]:
    go_on = asyncio.Event()

    async def handle(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234")
        reading = asyncio.ensure_future(peer.until_eof())  # notes an EOF while the body is held
        try:
            await go_on.wait()
            await peer.send(b"56789")
            await reading
        finally:
            reading.cancel()

    return handle, go_on


async def test_cancelled_wait_then_close_drops_the_connection(serve, pool):
    """What the proxy does when its client goes: the wait is cancelled, the owner closes."""
    handle, _ = slow_body()
    server = await serve(handle)
    client = pool(max_connections_per_host=1)
    async with asyncio.timeout(LIMIT):
        resp = await post(client, server.url())
        sink = Collector()
        resp.stream(sink)

        async def relay() -> None:
            try:
                await resp.wait()
            except BaseException:
                resp.close()
                raise

        task = asyncio.ensure_future(relay())
        await sink.got.wait()
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await server.peers[0].eof.wait()
        second = asyncio.ensure_future(post(client, server.url()))  # the slot is free again
        await server.next_request()
        assert server.accepted == 2
        second.cancel()


async def test_wait_can_be_cancelled_and_awaited_again(serve, pool):
    handle, go_on = slow_body()
    server = await serve(handle)
    async with asyncio.timeout(LIMIT):
        resp = await post(pool(), server.url())
        sink = Collector()
        resp.stream(sink, sink.end)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await resp.wait()
        go_on.set()
        assert await resp.wait() is True
        assert sink.body == b"0123456789" and sink.ends == 1
        resp.release()
    assert not server.peers[0].eof.is_set()  # pooled, not closed


# --- backpressure -------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_congested_sink_pauses_reading_until_resume(serve, pool, framing):
    payload = bytes(i % 251 for i in range(3 * 1024 * 1024))  # a pattern that shows reordering
    piece = 64 * 1024

    async def handle(peer: Peer) -> None:
        await peer.read_request()
        if framing == "length":
            await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload))
            for i in range(0, len(payload), piece):
                await peer.send(payload[i : i + piece])
        else:
            await peer.send(CHUNKED_HEAD)
            for i in range(0, len(payload), piece):
                await peer.send(chunked(payload[i : i + piece])[: -len(b"0\r\n\r\n")])
            await peer.send(b"0\r\n\r\n")
        await peer.until_eof()

    server = await serve(handle)
    async with asyncio.timeout(LIMIT):
        resp = await post(pool(), server.url())
        sink = Collector(congested=True)
        resp.stream(sink, sink.end)
        pauses = 0
        while not await resp.wait():
            pauses += 1
            if pauses <= 3:  # paused: nothing more arrives however long we wait
                held = len(sink.pieces)
                await asyncio.sleep(0.05)
                assert len(sink.pieces) == held
            resp.resume()
        assert pauses >= 3  # the sink was asked to take the body in several pieces
        assert sink.body == payload and sink.ends == 1
        resp.release()


# --- a real aiohttp server ----------------------------------------------------------


async def test_aiohttp_server_content_length_and_chunked_over_one_connection(stub_upstream, pool):
    peers: list[object] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        body = await request.read()
        if request.path == "/stream":
            out = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await out.prepare(request)
            for i in range(5):
                await out.write(b"data: %d %s\n\n" % (i, body))
                await asyncio.sleep(0.01)
            await out.write_eof()
            return out
        return web.json_response({"path": request.path, "query": request.query_string, "body": body.decode()})

    server = stub_upstream(handle)
    client = pool()
    async with asyncio.timeout(LIMIT):
        status, data = await fetch(client, f"{server.url}/v1/models?x=1")
        assert status == 200
        assert data == b'{"path": "/v1/models", "query": "x=1", "body": "{}"}'
        resp = await post(client, f"{server.url}/stream", b"p")
        assert resp.headers["Transfer-Encoding"] == "chunked"
        sink = Collector()
        resp.stream(sink, sink.end)
        assert await resp.wait() is True
        assert sink.body == b"".join(b"data: %d p\n\n" % i for i in range(5)) and sink.ends == 1
        resp.release()
        assert (await fetch(client, f"{server.url}/again"))[0] == 200
    assert len(peers) == 3 and len(set(peers)) == 1  # one keep-alive connection


async def test_server_closing_idle_connections_sooner_than_the_pool_loses_no_request(stub_upstream, pool):
    """The gateway keeps idle connections 60 s by default; vLLM's uvicorn closes them after 5 s.

    Here the server closes after 0.2 s and requests go out 0.10-0.30 s apart,
    so some land just as the server closes: each is answered, on the pooled
    connection, after the pool dropped the closed one, or sent again once.
    """
    peers: list[object] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response({"n": len(peers)})

    server = stub_upstream(handle, keepalive_timeout=0.2)
    client = pool(keepalive_timeout=UpstreamSettings().keepalive_timeout)
    async with asyncio.timeout(LIMIT):
        for i in range(11):
            await asyncio.sleep(0.1 + i * 0.02)
            assert await fetch(client, server.url) == (200, b'{"n": %d}' % len(peers))
    assert UpstreamSettings().keepalive_timeout > 0.3  # the pool itself never closed one here
    assert len(set(peers)) > 1  # the server did close idle connections under the pool
