from __future__ import annotations

from llmaz_serverless.notify.signing import sign, verify

BODY = b'{"specversion":"1.0","id":"a.succeeded"}'


def test_verify_accepts_when_body_and_secret_match() -> None:
    assert verify(b"s1", BODY, sign(b"s1", BODY))


def test_verify_refuses_when_body_was_changed_or_secret_differs() -> None:
    header = sign(b"s1", BODY)
    assert not verify(b"s1", BODY + b" ", header)
    assert not verify(b"s2", BODY, header)


def test_verify_refuses_when_signature_is_older_than_tolerance() -> None:
    header = sign(b"s1", BODY, timestamp=1_000)
    assert verify(b"s1", BODY, header, now=1_100)
    assert not verify(b"s1", BODY, header, now=1_000 + 301)


def test_verify_refuses_when_timestamp_is_swapped_to_look_fresh() -> None:
    header = sign(b"s1", BODY, timestamp=1_000)
    forged = header.replace("t=1000", "t=5000")
    assert not verify(b"s1", BODY, forged, now=5_000)


def test_verify_accepts_any_listed_v1_when_secrets_rotate() -> None:
    old, new = sign(b"old", BODY, timestamp=10), sign(b"new", BODY, timestamp=10)
    both = f"{old},v1={new.split('v1=')[1]}"
    assert verify(b"new", BODY, both, now=10)
    assert verify(b"old", BODY, both, now=10)


def test_verify_refuses_when_header_is_malformed() -> None:
    for header in ("", "v1=abc", "t=x,v1=abc", "garbage"):
        assert not verify(b"s1", BODY, header)
