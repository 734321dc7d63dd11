from __future__ import annotations

import json

import pytest
from cloudevents.core.bindings.http import to_binary_event, to_structured_event
from cloudevents.core.v1.event import CloudEvent

from llmaz_serverless.events.intake import BATCH, STRUCTURED, BadEvent, Limits, parse_http


def attrs(**extra: str) -> dict[str, str]:
    return {"type": "com.example.chat.session.opened", "source": "/chat-ui", "id": "e-1", **extra}


def test_structured_event_from_the_sdk_parses_with_data_and_extensions():
    event = CloudEvent(attrs(tenantid="acme"), {"model": "chat-8b"})
    msg = to_structured_event(event)
    [got] = parse_http(msg.headers, msg.body)
    assert got.mode == "structured"
    assert (got.id, got.source, got.type) == ("e-1", "/chat-ui", "com.example.chat.session.opened")
    assert got.document["data"] == {"model": "chat-8b"}
    assert got.document["tenantid"] == "acme"
    assert got.document["time"].endswith("Z")


def test_binary_event_from_the_sdk_parses_with_json_data():
    event = CloudEvent(attrs(datacontenttype="application/json", subject="room/7"), {"model": "chat-8b"})
    msg = to_binary_event(event)
    assert "ce-id" in msg.headers
    [got] = parse_http(msg.headers, msg.body)
    assert got.mode == "binary"
    assert got.document["data"] == {"model": "chat-8b"}
    assert got.document["subject"] == "room/7"


def test_binary_event_with_text_data_keeps_text():
    headers = {
        "ce-id": "1",
        "ce-source": "/s",
        "ce-type": "t",
        "ce-specversion": "1.0",
        "content-type": "text/plain",
    }
    [got] = parse_http(headers, b"hello")
    assert got.document["data"] == "hello"


def test_batch_parses_every_event_in_order():
    body = json.dumps(
        [
            {"specversion": "1.0", "id": "a", "source": "/s", "type": "t", "data": {"n": 1}},
            {"specversion": "1.0", "id": "b", "source": "/s", "type": "t", "data": {"n": 2}},
        ]
    ).encode()
    events = parse_http({"Content-Type": BATCH}, body)
    assert [e.id for e in events] == ["a", "b"]
    assert [e.mode for e in events] == ["batch", "batch"]
    assert events[1].document["data"] == {"n": 2}


def test_content_type_parameters_are_ignored_when_choosing_the_mode():
    body = json.dumps({"specversion": "1.0", "id": "a", "source": "/s", "type": "t"}).encode()
    [got] = parse_http({"Content-Type": f"{STRUCTURED}; charset=utf-8"}, body)
    assert got.id == "a"
    assert "data" not in got.document


def test_structured_event_with_base64_data_parses_to_its_bytes():
    body = json.dumps({**attrs(), "specversion": "1.0", "data_base64": "aGk="}).encode()
    [got] = parse_http({"Content-Type": STRUCTURED}, body)
    assert got.event.get_data() == b"hi"


@pytest.mark.parametrize(
    ("headers", "body", "status", "reason", "message"),
    [
        ({"Content-Type": "application/json"}, b"{}", 415, "not_cloudevent", "no ce-\\* headers"),
        ({}, b"", 415, "not_cloudevent", "Content-Type is 'missing'"),
        ({"Content-Type": STRUCTURED}, b"{not json", 400, "bad_json", "not valid JSON"),
        ({"Content-Type": STRUCTURED}, b'{"a": "\xff"}', 400, "bad_json", "not UTF-8 JSON"),
        ({"Content-Type": STRUCTURED}, b"[1]", 400, "not_cloudevent", "JSON list, not a CloudEvent object"),
        (
            {"Content-Type": STRUCTURED},
            b'{"specversion":"1.0","source":"/s","type":"t"}',
            400,
            "not_cloudevent",
            "required attribute 'id' is missing",
        ),
        (
            {"Content-Type": STRUCTURED},
            b'{"specversion":"0.3","id":"1","source":"/s","type":"t"}',
            400,
            "unsupported_specversion",
            "only CloudEvents 1.0",
        ),
        (
            {"Content-Type": STRUCTURED},
            b'{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"yesterday"}',
            400,
            "not_cloudevent",
            "invalid CloudEvent",
        ),
        (
            {"Content-Type": STRUCTURED},
            b'{"specversion":"1.0","id":"1","source":"/s","type":"t","Bad_Ext":"x"}',
            400,
            "not_cloudevent",
            "lowercase letters and numbers",
        ),
        (
            {"ce-source": "/s", "ce-type": "t", "ce-specversion": "1.0"},
            b"",
            400,
            "not_cloudevent",
            "required header ce-id",
        ),
        (
            {
                "ce-id": "1",
                "ce-source": "/s",
                "ce-type": "t",
                "ce-specversion": "1.0",
                "content-type": "application/json",
            },
            b'{"broken": ',
            400,
            "bad_json",
            "Content-Type application/json\\) is not valid JSON",
        ),
        (
            {"Content-Type": STRUCTURED},
            b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":null}',
            400,
            "not_cloudevent",
            "'data_base64' is JSON NoneType; it must be a base64 string",
        ),
        (
            {"Content-Type": STRUCTURED},
            b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"!!"}',
            400,
            "not_cloudevent",
            "'data_base64' is not valid base64",
        ),
        (
            {"Content-Type": STRUCTURED},
            '{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"\u00e9A=="}'.encode(),
            400,
            "not_cloudevent",
            "'data_base64' is not valid base64",
        ),
        (
            {"Content-Type": STRUCTURED},
            b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":null,"data_base64":"AA=="}',
            400,
            "not_cloudevent",
            "'data_base64' is given together with 'data'",
        ),
        ({"Content-Type": BATCH}, b'{"id": "1"}', 400, "not_cloudevent", "must be a JSON array"),
        (
            {"Content-Type": BATCH},
            b'[{"specversion":"1.0","id":"1","source":"/s","type":"t"}, {"specversion":"1.0","source":"/s"}]',
            400,
            "not_cloudevent",
            "batch event \\[1\\]: required attribute 'id'",
        ),
        (
            {"Content-Type": BATCH},
            b"[1]",
            400,
            "not_cloudevent",
            "batch event \\[0\\]: expected a JSON object",
        ),
    ],
)
def test_bad_request_is_refused_with_status_reason_and_message(headers, body, status, reason, message):
    with pytest.raises(BadEvent, match=message) as info:
        parse_http(headers, body)
    assert (info.value.status, info.value.reason) == (status, reason)


def test_oversize_body_is_refused_with_413_naming_the_limit():
    body = json.dumps(
        {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "data": "x" * 2000}
    ).encode()
    with pytest.raises(BadEvent, match=r"over the limit of 1024 \(events\.maxBodyBytes\)") as info:
        parse_http({"Content-Type": STRUCTURED}, body, Limits(max_body_bytes=1024))
    assert (info.value.status, info.value.reason) == (413, "too_large")


def test_batch_over_the_event_limit_is_refused_with_413():
    one = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
    body = json.dumps([one] * 3).encode()
    with pytest.raises(BadEvent, match="holds 3 events, over the limit of 2") as info:
        parse_http({"Content-Type": BATCH}, body, Limits(max_batch_events=2))
    assert info.value.reason == "batch_too_large"
