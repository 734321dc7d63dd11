"""CloudEvents 1.0 over HTTP in, matchable events out.

Three request shapes (CloudEvents HTTP protocol binding 1.0):

- structured: `Content-Type: application/cloudevents+json`, the whole event
  (attributes and `data`) in the JSON body;
- binary: attributes in `ce-*` headers, `Content-Type` is the data's type,
  the body is the data;
- batch: `Content-Type: application/cloudevents-batch+json`, a JSON array of
  structured events.

The CloudEvents SDK does the parsing; the checks here close gaps that would
otherwise slip through it: the SDK invents an `id` for an event without one
(which would defeat idempotency), and silently keeps an unparsable JSON body
as text. Every rejection is a `BadEvent` with an HTTP status, a short reason
(the metric label) and a message saying what to fix. A batch is checked as a
whole before any of it runs, so a bad element never leaves half a batch done.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_binary, from_structured
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
REQUIRED = ("id", "source", "type", "specversion")

_FORMAT = JSONFormat()


@dataclass
class BadEvent(Exception):
    """A request that is not an acceptable CloudEvent; `reason` labels the rejection metric."""

    status: int
    reason: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ReceivedEvent:
    """One parsed event and the JSON document patterns and templates see."""

    event: BaseCloudEvent
    document: dict[str, Any] = field(repr=False)
    mode: str

    @property
    def id(self) -> str:
        return self.event.get_id()

    @property
    def source(self) -> str:
        return self.event.get_source()

    @property
    def type(self) -> str:
        return self.event.get_type()


@dataclass(frozen=True)
class Limits:
    # Largest request body (one event or one batch).
    max_body_bytes: int = 1_048_576
    # Most events in one batch.
    max_batch_events: int = 100


def document_of(event: BaseCloudEvent) -> dict[str, Any]:
    """The event as one JSON document: attributes on top, the payload under `data`.

    `time` is its RFC 3339 text (so a prefix such as "2026-01-" matches). Binary
    payloads (bytes) are left out: patterns and templates only see JSON and text.
    """
    doc: dict[str, Any] = {}
    for name, value in event.get_attributes().items():
        if value is None:
            continue
        if isinstance(value, datetime):
            text = value.isoformat()
            value = text[:-6] + "Z" if text.endswith("+00:00") else text
        doc[name] = value
    data = event.get_data()
    if data is not None and not isinstance(data, bytes | bytearray):
        doc["data"] = data
    return doc


def _media_type(headers: Mapping[str, str]) -> str:
    value = _header(headers, "content-type") or ""
    return value.split(";", 1)[0].strip().lower()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _is_json_media(media: str) -> bool:
    # The JSON media types of the CloudEvents JSON format: application/json, text/json, x+json.
    if media in ("application/json", "text/json"):
        return True
    return media.startswith(("application/", "text/")) and media.endswith("+json")


def parse_http(headers: Mapping[str, str], body: bytes, limits: Limits | None = None) -> list[ReceivedEvent]:
    """Parse one HTTP request into events, or raise BadEvent."""
    limits = limits or Limits()
    if len(body) > limits.max_body_bytes:
        raise BadEvent(
            413,
            "too_large",
            f"request body is {len(body)} bytes, over the limit of {limits.max_body_bytes} "
            "(events.maxBodyBytes); send smaller events or split the batch",
        )
    media = _media_type(headers)
    if media == BATCH:
        return _parse_batch(body, limits)
    if media == STRUCTURED:
        return [_parse_structured(_json_object(body, "the body"), "structured", "")]
    if any(key.lower().startswith("ce-") for key in headers):
        return [_parse_binary(headers, body, media)]
    raise BadEvent(
        415,
        "not_cloudevent",
        f"not a CloudEvent: Content-Type is {media or 'missing'!r} and there are no ce-* headers; "
        f"send {STRUCTURED} (structured mode), ce-id/ce-source/ce-type/ce-specversion headers "
        f"(binary mode) or {BATCH} (a JSON array of events)",
    )


def _load_json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise BadEvent(400, "bad_json", f"{what} is not UTF-8 JSON: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BadEvent(400, "bad_json", f"{what} is not valid JSON: {exc}") from None


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    value = _load_json(body, what)
    if not isinstance(value, dict):
        raise BadEvent(
            400,
            "not_cloudevent",
            f"{what} is JSON {type(value).__name__}, not a CloudEvent object; "
            f"a batch needs Content-Type {BATCH}",
        )
    return value


def _check_required(attributes: Mapping[str, Any], where: str, header: bool = False) -> None:
    for name in REQUIRED:
        value = attributes.get(name)
        if not isinstance(value, str) or not value:
            what = f"header ce-{name}" if header else f"attribute {name!r}"
            raise BadEvent(
                400,
                "not_cloudevent",
                f"{where}required {what} is missing or not a non-empty string",
            )
    if attributes["specversion"] != "1.0":
        raise BadEvent(
            400,
            "unsupported_specversion",
            f"{where}specversion is {attributes['specversion']!r}; only CloudEvents 1.0 is accepted",
        )


def _check_base64_data(obj: Mapping[str, Any], where: str) -> None:
    # The JSON event format makes `data_base64` a base64 string that replaces `data`; the SDK
    # lets a null through, takes both when `data` is null, and decodes leniently (skipping
    # stray characters), so an event could mean something other than what was sent.
    if "data_base64" not in obj:
        return
    value = obj["data_base64"]
    problem = ""
    if "data" in obj:
        problem = "is given together with 'data'; send one of the two"
    elif not isinstance(value, str):
        problem = f"is JSON {type(value).__name__}; it must be a base64 string"
    else:
        try:
            base64.b64decode(value, validate=True)
        except ValueError as exc:  # binascii.Error, or a non-ASCII string
            problem = f"is not valid base64 ({exc})"
    if problem:
        raise BadEvent(400, "not_cloudevent", f"{where}attribute 'data_base64' {problem}")


def _sdk_error(exc: Exception, where: str) -> BadEvent:
    return BadEvent(400, "not_cloudevent", f"{where}invalid CloudEvent: {exc}")


def _parse_structured(obj: dict[str, Any], mode: str, where: str) -> ReceivedEvent:
    _check_required(obj, where)
    _check_base64_data(obj, where)
    # Re-serialised so the SDK reads exactly what a structured body would hold.
    message = HTTPMessage(headers={"content-type": STRUCTURED}, body=json.dumps(obj).encode())
    try:
        event = from_structured(message, _FORMAT, CloudEvent)
    except (BaseCloudEventException, ValueError, TypeError) as exc:
        raise _sdk_error(exc, where) from None
    return ReceivedEvent(event, document_of(event), mode)


def _parse_binary(headers: Mapping[str, str], body: bytes, media: str) -> ReceivedEvent:
    attributes = {k.lower()[3:]: v for k, v in headers.items() if k.lower().startswith("ce-")}
    _check_required(attributes, "binary mode: ", header=True)
    if body and _is_json_media(media or "application/json"):
        # The SDK would keep a broken JSON body as a plain string; refuse it instead.
        _load_json(body, f"the body (Content-Type {media or 'application/json'})")
    message = HTTPMessage(headers=dict(headers), body=body)
    try:
        event = from_binary(message, _FORMAT, CloudEvent)
    except (BaseCloudEventException, ValueError, TypeError) as exc:
        raise _sdk_error(exc, "binary mode: ") from None
    return ReceivedEvent(event, document_of(event), "binary")


def _parse_batch(body: bytes, limits: Limits) -> list[ReceivedEvent]:
    items = _load_json(body, "the batch body")
    if not isinstance(items, list):
        raise BadEvent(
            400,
            "not_cloudevent",
            f"a {BATCH} body must be a JSON array of events, got {type(items).__name__}",
        )
    if len(items) > limits.max_batch_events:
        raise BadEvent(
            413,
            "batch_too_large",
            f"the batch holds {len(items)} events, over the limit of {limits.max_batch_events} "
            "(events.maxBatchEvents); split it",
        )
    events = []
    for i, item in enumerate(items):
        where = f"batch event [{i}]: "
        if not isinstance(item, dict):
            raise BadEvent(400, "not_cloudevent", f"{where}expected a JSON object, got {type(item).__name__}")
        events.append(_parse_structured(item, "batch", where))
    return events
