"""The proxy's HTTP/1.1 client: pooled keep-alive connections, bodies pushed to a sink.

Why not aiohttp's client here: a streamed token through aiohttp's client
takes a parser pass, a StreamReader, a task wake-up and re-chunking on the
way out, about 55 us of gateway CPU per chunk on the development VM against
26 us for a relay that forwards from `data_received` (bench_gateway.py
numbers in docs/benchmarks/gateway.md). Here each piece of the body is
handed to the caller's sink from `data_received`, so a token leaves for the
client in the same event-loop turn it arrived from the model.

Scope, on purpose: one request per connection at a time (no pipelining),
HTTP/1.1 and HTTP/1.0 answers, Content-Length, chunked and read-until-close
bodies, http and https. A pooled connection the upstream closed while idle
is noticed (EOF) and dropped; a request that fails on a reused connection
before any answer byte is sent again once on a new connection.

The answer is parsed by llhttp (Node's parser, the one under uvicorn and
uvloop) through httptools, not by hand: status line, headers, chunked
framing and what counts as malformed are llhttp's, which is strict where
RFC 9112 allows a choice. It rejects a repeated Content-Length (even with
equal values) and Content-Length beside Transfer-Encoding (a
response-splitting sign), and takes whitespace before a chunk's extensions
(`lenient_spaces_after_chunk_size`, as the RFC allows). It takes RTSP/ and
ICE/ in place of HTTP/ in the status line; the version must be 1.0 or 1.1.
Only POST is sent, so no answer is to a HEAD request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import httptools
from multidict import CIMultiDict

# Sink of body pieces; returns True when the receiver is congested (the
# connection then stops reading until `UpstreamResponse.resume()`).
Sink = Callable[[bytes], bool]

_MAX_HEAD = 64 * 1024
_HEAD_QUOTE = 80  # bytes of a bad answer head quoted in the error
_NO_BODY = frozenset({204, 304})


class UpstreamError(Exception):
    """No usable answer: the connection failed or closed before the answer's head."""


class UpstreamProtocolError(UpstreamError):
    """The upstream sent something that is not HTTP/1.x."""


class UpstreamCut(UpstreamError):
    """The upstream closed the connection in the middle of the body."""


class UpstreamResponse:
    """One answer: status and headers at once, the body as it comes."""

    def __init__(self, conn: _Connection, status: int, reason: str, headers: CIMultiDict[str]) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self._conn = conn
        self._pieces: list[bytes] = []
        self._sink: Sink | None = None
        self._on_end: Callable[[], None] | None = None
        self._complete = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[bool] | None = None
        self._done = False

    @property
    def complete(self) -> bool:
        return self._complete

    def stream(self, sink: Sink, on_end: Callable[[], None] | None = None) -> None:
        """From now on every body piece goes to `sink` (pieces already read first).

        `on_end` is called, also from `data_received`, the moment the body is
        complete, so the caller can end its own answer in the same turn.
        """
        self._sink = sink
        self._on_end = on_end
        pending, self._pieces = self._pieces, []
        for piece in pending:
            self._deliver(piece)
        if self._complete and on_end is not None:
            on_end()

    async def wait(self) -> bool:
        """True once the whole body is in; False when the sink reported congestion.

        Raises UpstreamCut when the connection closed mid-body.
        """
        while True:
            if self._error is not None:
                raise self._error
            if self._complete:
                return True
            if self._conn.paused:
                return False
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def resume(self) -> None:
        """Read again after the sink drained."""
        self._conn.resume()

    async def read(self) -> bytes:
        """The whole body (for answers that are not streamed to the client)."""
        while not await self.wait():
            self.resume()
        body = b"".join(self._pieces)
        self._pieces = []
        return body

    def release(self) -> None:
        """Done with this answer: a complete one frees its connection for reuse, else it is closed."""
        if self._done:
            return
        self._done = True
        self._conn.finish(reuse=self._complete)

    def close(self) -> None:
        """Drop the connection now (mid-body: the upstream sees the client go and stops)."""
        if self._done:
            return
        self._done = True
        self._conn.finish(reuse=False)

    # Called by the connection, inside data_received / connection_lost.
    def _deliver(self, piece: bytes) -> None:
        if self._sink is None:
            self._pieces.append(piece)
        elif self._sink(piece):
            self._conn.pause()
            self._wake()

    def _finish(self, error: BaseException | None = None) -> None:
        if error is not None:
            self._error = error
        elif not self._complete:
            self._complete = True
            if self._on_end is not None:
                self._on_end()
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(True)


class _Connection(asyncio.Protocol):
    """One upstream connection; llhttp (httptools) parses the answer, this class keeps the state.

    The parser's callbacks only record (head fields, body pieces, the end);
    `data_received` acts on them once `feed_data` returns, so the caller's
    sink and `on_end` never run inside the C parser, and the body pieces of
    one read go to the sink joined, as one write.
    """

    def __init__(self, pool: UpstreamPool, key: tuple[str, str, int]) -> None:
        self._pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.paused = False
        self.used = False  # has carried an answer before (a stale-reuse candidate)
        self.answered = False  # answer bytes came for the current request
        self.idle_timer: asyncio.TimerHandle | None = None
        self._parser = httptools.HttpResponseParser(self)
        # RFC 9112 7.1.1 allows whitespace between a chunk size and its extensions (" ;ext");
        # strict llhttp rejects it. A size followed by anything else ("5 5") is still an error.
        self._parser.set_dangerous_leniencies(lenient_spaces_after_chunk_size=True)
        self._head: asyncio.Future[UpstreamResponse] | None = None
        self._head_bytes = 0
        self._head_start = b""
        self._reason = ""
        self._headers: CIMultiDict[str] = CIMultiDict()
        self._resp: UpstreamResponse | None = None
        self._pending: list[bytes] = []  # body pieces of the current read
        self._ended = False  # the parser saw the end of the answer's body
        self._reusable = False
        self._until_close = False  # the body runs until the upstream closes

    # --- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        resp = self._resp
        if resp is None:
            if self._head is None or self._head.done():
                # Bytes while idle, or for a request given up: out of step, never reuse it.
                self._close()
                return
            self.answered = True
            if len(self._head_start) < _HEAD_QUOTE:  # quoted in a head error, to tell what answered
                self._head_start += data[: _HEAD_QUOTE - len(self._head_start)]
            self._head_bytes += len(data)
        elif self._ended:
            self._reusable = False  # bytes after a complete answer: out of step, never reuse it
            return
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as err:
            error: UpstreamError | None = self._parse_error(err)
        else:
            error = None
        resp = self._resp
        if resp is None:
            if error is None and self._head_bytes > _MAX_HEAD:
                error = UpstreamProtocolError(f"answer head longer than {_MAX_HEAD} bytes")
            if error is not None:
                self._fail_head(error)
            return
        if self._head is not None and not self._head.done():
            self._head.set_result(resp)
        if self._pending:
            pieces, self._pending = self._pending, []
            resp._deliver(pieces[0] if len(pieces) == 1 else b"".join(pieces))
        if self._ended:
            if error is not None:  # bytes after the body that are no answer: out of step
                self._reusable = False
            if not resp.complete:
                resp._finish()
        elif error is not None:
            self._close()
            resp._finish(error)

    def eof_received(self) -> bool | None:
        return False  # close the transport; connection_lost does the rest

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._pool.forget(self)
        why = f": {exc}" if exc else ""
        if self._head is not None and not self._head.done():
            self._head.set_exception(UpstreamError(f"connection closed before the answer's head{why}"))
        resp = self._resp
        if resp is not None and not (resp.complete or resp._error):
            if self._until_close:
                resp._finish()
            else:
                resp._finish(UpstreamCut(f"connection closed in the middle of the body{why}"))

    # --- llhttp callbacks (httptools calls them from inside feed_data)
    def on_message_begin(self) -> None:
        if self._resp is not None:  # a second answer after the complete one: out of step
            self._reusable = False
        self._reason = ""
        self._headers = CIMultiDict()

    def on_status(self, reason: bytes) -> None:
        self._reason += reason.decode("latin-1")  # in pieces when the status line is split

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._resp is None:  # trailers after a chunked body are not kept
            self._headers.add(name.decode("latin-1"), value.decode("latin-1").strip(" \t"))

    def on_headers_complete(self) -> None:
        parser = self._parser
        status = parser.get_status_code()
        if 100 <= status < 200:  # 1xx interim answer: the real one follows
            return
        version = parser.get_http_version()
        if version not in ("1.1", "1.0"):
            raise UpstreamProtocolError(f"not an HTTP/1.x answer: HTTP/{version}")
        headers = self._headers
        self._reusable = version == "1.1" and parser.should_keep_alive()
        # The same rule llhttp applies to an answer: chunked only as the last coding, then
        # Content-Length, else until close (llhttp rejects Content-Length beside Transfer-Encoding).
        codings = ",".join(headers.getall("Transfer-Encoding", ())).rsplit(",", 1)[-1]
        chunked = codings.strip().lower() == "chunked"
        self._until_close = status not in _NO_BODY and not chunked and "Content-Length" not in headers
        self._ended = False
        self._resp = UpstreamResponse(self, status, self._reason, headers)

    def on_body(self, body: bytes) -> None:
        self._pending.append(body)

    def on_message_complete(self) -> None:
        if self._resp is not None:  # else the end of a 1xx interim answer
            self._ended = True

    # --- used by the pool and the response
    async def request(self, data: bytes) -> UpstreamResponse:
        assert self.transport is not None
        self._head = asyncio.get_running_loop().create_future()
        self._resp = None
        self._head_bytes = 0
        self._head_start = b""
        self._ended = False
        self.answered = False
        self.transport.write(data)
        try:
            return await self._head
        finally:
            self._head = None

    def pause(self) -> None:
        if not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    def finish(self, reuse: bool) -> None:
        self.resume()
        self._resp = None
        if reuse and self._reusable and self.transport is not None and not self.transport.is_closing():
            self.used = True
            self._pool.give_back(self)
        else:
            self._close()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self._pool.forget(self)

    def _parse_error(self, err: Exception) -> UpstreamError:
        """What llhttp rejected (or a callback raised), as the error the caller gets.

        In the head: UpstreamProtocolError (no answer). In the body: UpstreamCut,
        as for a close mid-body; the status went to the client already.
        """
        if isinstance(err.__context__, UpstreamError):  # raised by a callback, wrapped by httptools
            return err.__context__
        if isinstance(err, httptools.HttpParserUpgrade):
            return UpstreamProtocolError(
                "the upstream switched protocols (101); the gateway does not upgrade"
            )
        if self._resp is None:
            return UpstreamProtocolError(
                f"not a valid HTTP/1.x answer head ({err}); it began {self._head_start!r}"
            )
        return UpstreamCut(f"bad chunked body: {err}")

    def _fail_head(self, err: UpstreamError) -> None:
        self._close()
        if self._head is not None and not self._head.done():
            self._head.set_exception(err)


class UpstreamPool:
    """Keep-alive connections per (scheme, host, port); most recently used first."""

    def __init__(
        self,
        *,
        keepalive_timeout: float,
        connect_timeout: float,
        max_connections: int = 0,
        max_connections_per_host: int = 0,
    ) -> None:
        self._keepalive = keepalive_timeout
        self._connect_timeout = connect_timeout
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._limit = asyncio.Semaphore(max_connections) if max_connections else None
        self._per_host_limit = max_connections_per_host
        self._per_host: dict[tuple[str, str, int], asyncio.Semaphore] = {}
        self._held: dict[_Connection, list[asyncio.Semaphore]] = {}
        self._ssl: ssl.SSLContext | None = None
        self._closed = False

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> UpstreamResponse:
        """POST `body` to `url`; returns once the answer's head is in.

        Raises UpstreamError when no answer head came (connect failure, reset,
        not HTTP); a request that failed on a reused connection before any
        answer byte is sent once more on a new connection.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream URL {url!r}: only http:// and https:// URLs with a host work")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        data = _serialize(target, parts.netloc, body, headers)
        for attempt in (1, 2):
            conn = await self._checkout(key, reuse=attempt == 1)
            try:
                return await conn.request(data)
            except UpstreamError:
                # The upstream may have run the request once answer bytes came: never twice.
                retry = attempt == 1 and conn.used and not conn.answered
                conn.finish(reuse=False)
                if not retry:
                    raise
            except BaseException:
                conn.finish(reuse=False)
                raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        self._closed = True
        for conn in list(self._open):
            if conn.transport is not None:
                conn.transport.close()
        self._idle.clear()

    # --- connections
    async def _checkout(self, key: tuple[str, str, int], reuse: bool = True) -> _Connection:
        """A connection for `key`: the most recently used idle one, or (without `reuse`) a new one."""
        if self._closed:
            raise UpstreamError("the gateway is shutting down")
        held = await self._acquire(key)
        idle = self._idle.get(key) if reuse else None
        while idle:
            conn = idle.pop()
            if conn.idle_timer is not None:
                conn.idle_timer.cancel()
                conn.idle_timer = None
            if conn.transport is not None and not conn.transport.is_closing():
                self._held[conn] = held
                return conn
        try:
            conn = await self._connect(key)
        except BaseException:
            for sem in held:
                sem.release()
            raise
        self._held[conn] = held
        return conn

    async def _acquire(self, key: tuple[str, str, int]) -> list[asyncio.Semaphore]:
        sems = []
        if self._limit is not None:
            sems.append(self._limit)
        if self._per_host_limit:
            sems.append(self._per_host.setdefault(key, asyncio.Semaphore(self._per_host_limit)))
        taken: list[asyncio.Semaphore] = []
        try:
            for sem in sems:
                await sem.acquire()
                taken.append(sem)
        except BaseException:
            for sem in taken:
                sem.release()
            raise
        return taken

    async def _connect(self, key: tuple[str, str, int]) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        context = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: _Connection(self, key), host, port, ssl=context,
                    server_hostname=host if context else None,
                )  # fmt: skip
        except TimeoutError:
            why = f"connect to {host}:{port} timed out after {self._connect_timeout:g}s"
            raise UpstreamError(why) from None
        except OSError as err:
            raise UpstreamError(f"cannot connect to {host}:{port}: {err}") from err
        self._open.add(conn)
        return conn

    def give_back(self, conn: _Connection) -> None:
        self._release_limits(conn)
        if self._closed:
            conn._close()
            return
        self._idle.setdefault(conn.key, []).append(conn)
        conn.idle_timer = asyncio.get_running_loop().call_later(self._keepalive, conn._close)

    def forget(self, conn: _Connection) -> None:
        self._release_limits(conn)
        self._open.discard(conn)
        if conn.idle_timer is not None:
            conn.idle_timer.cancel()
            conn.idle_timer = None
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)

    def _release_limits(self, conn: _Connection) -> None:
        for sem in self._held.pop(conn, ()):
            sem.release()


def _serialize(target: str, netloc: str, body: bytes, headers: Mapping[str, str]) -> bytes:
    host = netloc
    lines = [f"POST {target} HTTP/1.1"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise ValueError(f"header {name!r}: line breaks or ':' are not allowed in upstream headers")
        lower = name.lower()
        if lower == "host":
            host = value
        elif lower != "content-length":
            lines.append(f"{name}: {value}")
    lines.insert(1, f"Host: {host}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
