"""How the upstream client (`gateway/upstream.py`, llhttp through httptools) takes an answer.

Bytes are fed straight into a `_Connection`'s `data_received`, split wherever the
test (or hypothesis) likes, so every split a TCP stack could produce is covered:

- the head (status line, headers, 1xx interim answers) split at every byte;
- chunked bodies (extensions, trailers, upper/lower-case and zero-padded sizes)
  split at every and at arbitrary byte boundaries give exactly the payload, are
  delivered as they arrive, end once, and leave the connection reusable;
- Content-Length, read-until-close, 204/304 and Transfer-Encoding other than
  chunked; which answers leave the connection reusable and which never do
  (HTTP/1.0, `Connection: close`, stray bytes after the body, however split);
- errors: bad status or header lines, versions other than HTTP/1.0 and 1.1, a
  101 upgrade, bad, repeated or Transfer-Encoding-shadowed Content-Length,
  oversize head (UpstreamProtocolError); a close before the head
  (UpstreamError); bad chunk size lines, chunk data not followed by CRLF, a
  chunk size past 64 bits and a close in the middle of the body (UpstreamCut).

The wire-level behaviour against real servers is in
tests/integration/gateway/test_upstream_client.py.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmaz_serverless.gateway.upstream import (
    UpstreamCut,
    UpstreamError,
    UpstreamPool,
    UpstreamProtocolError,
    UpstreamResponse,
    _Connection,
)

KEY = ("http", "upstream.test", 80)
REQUEST = b"POST / HTTP/1.1\r\nHost: upstream.test\r\nContent-Length: 0\r\n\r\n"


class FakeTransport(asyncio.Transport):
    """Records what the connection does to its transport; nothing goes on a wire."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False
        self.paused = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


@dataclass
class Fed:
    """What came of feeding an answer to a fresh connection."""

    conn: _Connection
    transport: FakeTransport
    resp: UpstreamResponse
    pieces: list[bytes] = field(default_factory=list)  # what the sink got, in order
    ends: int = 0  # on_end calls
    error: UpstreamError | None = None  # what wait() raised
    reused: bool | None = None  # set by feed(release=True)

    @property
    def body(self) -> bytes:
        return b"".join(self.pieces)


async def start() -> tuple[_Connection, FakeTransport, asyncio.Task[UpstreamResponse]]:
    """A connection with a request sent, waiting for the answer's head."""
    conn = _Connection(UpstreamPool(keepalive_timeout=30, connect_timeout=1), KEY)
    transport = FakeTransport()
    conn.connection_made(transport)
    head = asyncio.ensure_future(conn.request(REQUEST))
    await asyncio.sleep(0)
    assert transport.written == REQUEST
    return conn, transport, head


def feed_all(conn: _Connection, transport: FakeTransport, pieces: list[bytes], eof: bool) -> None:
    for piece in pieces:
        if transport.closed:  # a closed transport delivers nothing more
            break
        conn.data_received(piece)
    if eof or transport.closed:
        conn.connection_lost(None)


async def feed(pieces: list[bytes], *, eof: bool = False, release: bool = False) -> Fed:
    """Feed `pieces` (then EOF if asked) and stream the body to a sink that never congests.

    With `release`, the answer is released after and `reused` says whether the
    connection went back to the pool.
    """
    conn, transport, head = await start()
    feed_all(conn, transport, pieces, eof)
    done, _ = await asyncio.wait({head}, timeout=1)
    assert done, "no answer head after all the bytes"
    fed = Fed(conn, transport, head.result())

    def sink(piece: bytes) -> bool:
        fed.pieces.append(piece)
        return False

    def on_end() -> None:
        fed.ends += 1

    fed.resp.stream(sink, on_end)
    if fed.resp.complete or transport.closed or eof:
        try:
            async with asyncio.timeout(1):
                assert await fed.resp.wait() is True
        except UpstreamError as err:
            fed.error = err
    if release:
        fed.reused = reused_after_release(fed)
    return fed


async def head_error(pieces: list[bytes], *, eof: bool = False) -> UpstreamError:
    """The error the answer's head raised (the test fails when a head came)."""
    conn, transport, head = await start()
    feed_all(conn, transport, pieces, eof)
    done, _ = await asyncio.wait({head}, timeout=1)
    assert done, "neither an answer head nor an error"
    err = head.exception()
    assert isinstance(err, UpstreamError), f"expected an error, got {head.result()!r}"
    assert transport.closed or eof
    return err


def reused_after_release(fed: Fed) -> bool:
    """Release the answer; True when the connection went back to the pool open."""
    fed.resp.release()
    return fed.conn.used and not fed.transport.closed


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(set(cuts)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def chunked_head(extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
        + extra
        + b"\r\n"
    )


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST = b"0\r\n\r\n"


# --- chunked bodies, split anywhere -------------------------------------------------


@st.composite
def chunked_bodies(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """(payload, chunked wire form) with random sizes' spelling, extensions and trailers."""
    extensions = st.sampled_from([b"", b";x", b";name=value", b';q="a;b=c"', b" ;a=1;b"])
    wire = b""
    payload = b""
    for data in draw(st.lists(st.binary(min_size=1, max_size=300), max_size=6)):
        size = draw(st.sampled_from(["%x", "%X", "0%x", "000%X"])) % len(data)
        wire += size.encode() + draw(extensions) + b"\r\n" + data + b"\r\n"
        payload += data
    wire += draw(st.sampled_from([b"0", b"000"])) + draw(extensions) + b"\r\n"
    for i in range(draw(st.integers(0, 3))):
        wire += b"X-Trailer-%d: %s\r\n" % (i, draw(st.sampled_from([b"v", b"", b"a b\tc"])))
    return payload, wire + b"\r\n"


@settings(max_examples=300, deadline=None)
@given(chunked_bodies(), st.data())
def test_chunked_body_split_anywhere_gives_exactly_the_payload(
    body: tuple[bytes, bytes], data: st.DataObject
) -> None:
    payload, wire = body
    message = chunked_head() + wire
    cuts = data.draw(st.lists(st.integers(0, len(message)), max_size=20))
    fed = asyncio.run(feed(split_at(message, cuts), release=True))
    assert fed.error is None
    assert fed.resp.status == 200
    assert fed.body == payload
    assert all(fed.pieces), "the sink was handed an empty piece"
    assert fed.resp.complete and fed.ends == 1
    assert fed.reused


@settings(max_examples=40, deadline=None)
@given(chunked_bodies())
def test_chunked_body_fed_byte_by_byte_gives_exactly_the_payload(body: tuple[bytes, bytes]) -> None:
    payload, wire = body
    fed = asyncio.run(feed(bytewise(chunked_head() + wire)))
    assert fed.error is None
    assert fed.body == payload
    assert fed.resp.complete and fed.ends == 1


async def test_chunked_fixed_body_at_every_split_point() -> None:
    wire = chunk(b"data: one\n\n") + b"A;ext=1\r\n0123456789\r\n" + b"0;end\r\nX-Checksum: 1\r\n\r\n"
    message = chunked_head() + wire
    for cut in range(len(message) + 1):
        for second in (cut, min(cut + 3, len(message))):
            fed = await feed(split_at(message, [cut, second]))
            assert fed.error is None, cut
            assert fed.body == b"data: one\n\n0123456789", cut
            assert fed.resp.complete and fed.ends == 1, cut
            assert reused_after_release(fed), cut


async def test_chunk_pieces_are_delivered_as_they_arrive() -> None:
    conn, _transport, head = await start()
    conn.data_received(chunked_head() + b"5\r\nhel")
    resp = await head
    got: list[bytes] = []
    ends: list[bool] = []
    resp.stream(lambda p: got.append(p) or False, lambda: ends.append(True))
    assert got == [b"hel"] and not resp.complete
    conn.data_received(b"lo\r\n")
    assert got == [b"hel", b"lo"] and not resp.complete
    conn.data_received(chunk(b"world"))
    assert got[-1] == b"world" and not ends
    conn.data_received(LAST)
    assert resp.complete and ends == [True]
    assert b"".join(got) == b"helloworld"


@pytest.mark.parametrize(
    "codings, framing",
    [
        ([b"gzip, chunked"], "chunked"),
        ([b"Chunked"], "chunked"),
        ([b"gzip", b"chunked"], "chunked"),  # two fields make one list
        ([b"chunked, gzip"], "raw"),
        ([b"chunked", b"gzip"], "raw"),
        ([b"gzip"], "raw"),
    ],
)
async def test_transfer_encoding_chunked_only_when_last(codings: list[bytes], framing: str) -> None:
    wire = chunk(b"abc") + LAST
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"Transfer-Encoding: %s\r\n" % c for c in codings) + b"\r\n"
    fed = await feed([head, wire], eof=True)
    assert fed.error is None and fed.resp.complete
    if framing == "chunked":
        assert fed.body == b"abc"
    else:  # another coding last: the body runs until the upstream closes, bytes as they are
        assert fed.body == wire


@pytest.mark.parametrize("coding", [b"chunked", b"gzip, chunked", b"gzip"])
async def test_content_length_beside_transfer_encoding_is_a_protocol_error(coding: bytes) -> None:
    """RFC 9112 6.3: such an answer "ought to be handled as an error" (a response-splitting sign)."""
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\nContent-Length: 3\r\n\r\n" % coding
    err = await head_error([head + chunk(b"abc") + LAST])
    assert isinstance(err, UpstreamProtocolError)
    assert "Content-Length" in str(err)


# --- head parsing -------------------------------------------------------------------


async def test_head_split_at_every_byte_with_interim_answers() -> None:
    message = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 201 Created Now\r\nX-A: 1\r\nx-a:  2 \r\nContent-Length: 4\r\n\r\nbody"
    )
    for cut in range(len(message) + 1):
        fed = await feed(split_at(message, [cut]))
        assert (fed.resp.status, fed.resp.reason) == (201, "Created Now"), cut
        assert fed.resp.headers.getall("X-A") == ["1", "2"], cut
        assert "Link" not in fed.resp.headers, cut  # the interim answer's headers are not kept
        assert fed.body == b"body" and fed.ends == 1, cut
    fed = await feed(bytewise(message))
    assert fed.resp.status == 201 and fed.body == b"body"


async def test_status_line_without_reason() -> None:
    fed = await feed([b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"])
    assert (fed.resp.status, fed.resp.reason, fed.body) == (200, "", b"ok")


@pytest.mark.parametrize(
    "status_line",
    [b"HTTP/2 200 OK", b"HTTP/1.2 200 OK", b"ICY 200 OK", b"HTTP/1.1 20 OK", b"HTTP/1.1 2000 OK",
     b"HTTP/1.1 abc OK", b"HTTP/1.1 \xb2\xb2\xb2 OK", b"<html>", b"",
     b"HTTP/2.0 200 OK", b"HTTP/0.9 200 OK"],
)  # fmt: skip
async def test_bad_status_line_is_a_protocol_error(status_line: bytes) -> None:
    err = await head_error([status_line + b"\r\nContent-Length: 0\r\n\r\n"])
    assert isinstance(err, UpstreamProtocolError)


@pytest.mark.parametrize(
    "line", [b"NoColon", b" Folded: x", b"\tFolded: x", b"Name : v", b": no name", b"Name\t: v"]
)
async def test_malformed_header_line_is_a_protocol_error(line: bytes) -> None:
    err = await head_error([b"HTTP/1.1 200 OK\r\nX-Ok: 1\r\n" + line + b"\r\nContent-Length: 0\r\n\r\n"])
    assert isinstance(err, UpstreamProtocolError)
    assert "header" in str(err)


@pytest.mark.parametrize(
    "lengths", [["abc"], ["-1"], ["+5"], ["5, 5"], ["5", "6"], ["0x5"], ["5 5"], ["\xb2"], [""]]
)
async def test_bad_content_length_is_a_protocol_error(lengths: list[str]) -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"Content-Length: %s\r\n" % v.encode("latin-1") for v in lengths)
    err = await head_error([head + b"\r\nhello"])
    assert isinstance(err, UpstreamProtocolError)
    assert "Content-Length" in str(err)


async def test_repeated_content_length_is_a_protocol_error() -> None:
    """Even with equal values: RFC 9110 8.6 lets a recipient reject it, and llhttp does."""
    err = await head_error([b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length:  5\r\n\r\nhello"])
    assert isinstance(err, UpstreamProtocolError)
    assert "Content-Length" in str(err)


async def test_switching_protocols_is_a_protocol_error() -> None:
    err = await head_error(
        [b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\nraw"]
    )
    assert isinstance(err, UpstreamProtocolError)
    assert "101" in str(err)


async def test_oversize_head_is_a_protocol_error() -> None:
    line = b"X-Filler: " + b"f" * 1000 + b"\r\n"
    pieces = [b"HTTP/1.1 200 OK\r\n"] + [line] * 70  # > 64 KiB and no end of head
    err = await head_error(pieces)
    assert isinstance(err, UpstreamProtocolError)
    assert "longer than" in str(err)


async def test_close_before_the_head_is_an_upstream_error() -> None:
    for pieces in ([], [b"HTTP/1.1 200 OK\r\nContent-"]):
        err = await head_error(pieces, eof=True)
        assert type(err) is UpstreamError
        assert "before the answer's head" in str(err)


async def test_bytes_while_idle_close_the_connection() -> None:
    fed = await feed([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])
    assert reused_after_release(fed)
    fed.conn.data_received(b"HTTP/1.1 200 OK\r\n")  # nobody asked: out of step
    assert fed.transport.closed


# --- Content-Length, until-close, no body; reuse ----------------------------------


async def test_content_length_body_in_pieces() -> None:
    fed = await feed([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01", b"234", b"56789"])
    assert fed.pieces == [b"01", b"234", b"56789"]
    assert fed.resp.complete and fed.ends == 1
    assert reused_after_release(fed)


async def test_content_length_body_cut_short_is_upstream_cut() -> None:
    fed = await feed([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234"], eof=True)
    assert isinstance(fed.error, UpstreamCut)
    assert fed.body == b"01234" and not fed.resp.complete and fed.ends == 0


@pytest.mark.parametrize("status", [204, 304])
async def test_no_body_statuses_are_complete_at_once(status: int) -> None:
    fed = await feed([b"HTTP/1.1 %d Nothing\r\nContent-Length: 7\r\n\r\n" % status])
    assert fed.resp.complete and fed.body == b"" and fed.ends == 1
    assert reused_after_release(fed)


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.0 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
    ],
)
async def test_body_without_length_runs_until_close(head: bytes) -> None:
    conn, _transport, task = await start()
    conn.data_received(head + b"part one, ")
    resp = await task
    conn.data_received(b"part two")
    assert not resp.complete
    conn.connection_lost(None)
    assert resp.complete
    assert await resp.read() == b"part one, part two"


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\n",
    ],
)
async def test_answers_that_forbid_reuse(head: bytes) -> None:
    fed = await feed([head + b"ok"])
    assert fed.body == b"ok" and fed.resp.complete
    assert not reused_after_release(fed)
    assert fed.transport.closed


@pytest.mark.parametrize(
    "message, body",
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokSTRAY", b"ok"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nSTRAY", b""),
        (b"HTTP/1.1 204 No Content\r\n\r\nSTRAY", b""),
        (chunked_head() + chunk(b"ok") + LAST + b"STRAY", b"ok"),
    ],
)
async def test_stray_bytes_after_the_body_never_reuse_however_split(message: bytes, body: bytes) -> None:
    """The answer is complete, but the connection is out of step: it is closed, not pooled."""
    for cut in range(len(message) - len(b"STRAY") - 2, len(message) + 1):
        fed = await feed(split_at(message, [cut]))
        assert fed.error is None, cut
        assert fed.body == body and fed.resp.complete and fed.ends == 1, cut
        assert not reused_after_release(fed), cut
        assert fed.transport.closed, cut


# --- chunked errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "size_line", [b"zz", b"", b";ext", b"-5", b"+5", b"0x5", b"5_0", b"5 5", b"\xb2", b"g"]
)
async def test_bad_chunk_size_line_is_upstream_cut(size_line: bytes) -> None:
    fed = await feed([chunked_head() + chunk(b"first") + size_line + b"\r\nhello\r\n" + LAST])
    assert isinstance(fed.error, UpstreamCut)
    assert "chunk size" in str(fed.error)
    assert fed.transport.closed
    assert fed.ends == 0 and not fed.resp.complete


@pytest.mark.parametrize("after", [b"XY", b"\rX", b"\nX", b"X\r\n"])
async def test_chunk_data_not_followed_by_crlf_is_upstream_cut(after: bytes) -> None:
    for pieces in (
        [chunked_head() + b"5\r\nhello" + after + LAST],
        [chunked_head() + b"5\r\nhello", *bytewise(after)],
    ):
        fed = await feed(pieces)
        assert isinstance(fed.error, UpstreamCut)
        assert "after chunk data" in str(fed.error)
        assert fed.body == b"hello"
        assert fed.transport.closed and fed.ends == 0


async def test_chunk_size_past_64_bits_is_upstream_cut() -> None:
    fed = await feed([chunked_head(), b"1" * 2000, b"1" * 2000, b"1" * 2000])
    assert isinstance(fed.error, UpstreamCut)
    assert "overflow" in str(fed.error)
    assert fed.transport.closed


async def test_long_chunk_extension_within_the_limit_is_fine() -> None:
    fed = await feed([chunked_head(), b"3;" + b"e" * 4000 + b"\r\nabc\r\n", LAST])
    assert fed.error is None and fed.body == b"abc"


@pytest.mark.parametrize(
    "wire",
    [
        b"",
        b"5\r\nhel",
        b"5\r\nhello",
        b"5\r\nhello\r\n",
        b"5\r\nhello\r\n0\r\n",
        b"5\r\nhello\r\n0\r\nX-T: 1\r\n",
    ],
)
async def test_close_inside_a_chunked_body_is_upstream_cut(wire: bytes) -> None:
    fed = await feed([chunked_head(), wire], eof=True)
    assert isinstance(fed.error, UpstreamCut)
    assert "middle of the body" in str(fed.error)
    assert not fed.resp.complete and fed.ends == 0


# --- the response object ------------------------------------------------------------


async def test_congested_sink_pauses_reading_until_resume() -> None:
    conn, transport, task = await start()
    conn.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab")
    resp = await task
    got: list[bytes] = []
    resp.stream(lambda p: got.append(p) or True)  # pending "ab" is handed on, then congested
    assert got == [b"ab"] and transport.paused and conn.paused
    assert await resp.wait() is False
    resp.resume()
    assert not transport.paused
    conn.data_received(b"cdef")
    assert transport.paused  # congested again, but the body is complete now
    assert await resp.wait() is True
    resp.release()
    assert not transport.paused and conn.used and not transport.closed  # reading again, pooled


async def test_read_collects_body_that_came_before_and_after() -> None:
    conn, _transport, task = await start()
    conn.data_received(chunked_head() + chunk(b"one "))
    resp = await task
    reader = asyncio.ensure_future(resp.read())
    await asyncio.sleep(0)
    conn.data_received(chunk(b"two") + LAST)
    async with asyncio.timeout(1):
        assert await reader == b"one two"


async def test_on_end_once_when_body_complete_before_stream() -> None:
    conn, _transport, task = await start()
    conn.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
    resp = await task
    assert resp.complete
    ends: list[bool] = []
    got: list[bytes] = []
    resp.stream(lambda p: got.append(p) or False, lambda: ends.append(True))
    assert got == [b"abc"] and ends == [True]
    assert await resp.wait() is True
    conn.data_received(b"late")  # stray, after the end
    conn.connection_lost(None)
    assert ends == [True] and got == [b"abc"]


async def test_close_mid_body_closes_the_transport() -> None:
    conn, transport, task = await start()
    conn.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
    resp = await task
    resp.close()
    assert transport.closed and not conn.used
    resp.release()  # no effect after close
    assert not conn.used
