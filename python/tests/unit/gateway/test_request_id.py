import string

from llmaz_serverless.gateway.middleware import _request_id


def test_client_id_kept_when_short_and_printable():
    assert _request_id("req-123") == "req-123"


def test_new_ids_are_32_hex_digits_and_never_repeat():
    ids = [_request_id(None) for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(len(i) == 32 and set(i) <= set(string.hexdigits.lower()) for i in ids)


def test_forged_or_oversized_client_ids_are_replaced():
    for bad in ("a\nforged log line", "x" * 129, ""):
        new = _request_id(bad)
        assert new != bad and len(new) == 32
