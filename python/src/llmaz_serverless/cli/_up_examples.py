"""The curl examples `llmaz-serverless up` prints, built from the running config.

Three groups, each runnable as printed against the local stack: a synchronous
chat completion, an async job (202, then a status poll until `succeeded`, which
needs the worker `up` starts), and a CloudEvent through the event rules with the
pre-warm state it leaves. `tests/integration/gateway/test_up_cli.py` runs the
async and events examples exactly as printed, so they cannot rot. (The leading
underscore keeps this helper out of the CLI: every other module here is a command.)
"""

from __future__ import annotations

import json
import shlex

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.events.rules import EventRule
from llmaz_serverless.events.settings import EventsSettings

# Placeholder in the poll command for the id the 202 answer carries.
JOB_ID = "<id>"
# Attributes an example event copies from a rule's pattern when its first alternative is plain text.
_EVENT_ATTRIBUTES = ("type", "source", "subject")
_JSON = "-H 'content-type: application/json'"


def _chat_body(model: str) -> str:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    return shlex.quote(json.dumps(body, separators=(",", ":")))


def sync_example(gateway: str, model: str) -> list[str]:
    return [
        f"  curl -s {gateway}/v1/models",
        f"  curl -s {gateway}/v1/chat/completions {_JSON} \\",
        f"    -d {_chat_body(model)}",
    ]


def async_example(gateway: str, model: str) -> list[str]:
    return [
        'Async (202 now with a Location; the worker calls the model; poll until "succeeded"):',
        f"  curl -s -i {gateway}/v1/async/chat/completions {_JSON} \\",
        f"    -d {_chat_body(model)}",
        f'  curl -s {gateway}/v1/async/{JOB_ID}  # {JOB_ID}: the "id" of the 202 answer',
    ]


def _prewarm_rule(events: EventsSettings) -> tuple[EventRule, str] | None:
    """The first enabled rule that pre-warms a model, with that model."""
    for rule in events.rules:
        if not rule.enabled:
            continue
        for action in rule.actions:
            if action.prewarm is not None:
                return rule, action.prewarm.models[0]
    return None


def _example_event(rule: EventRule | None) -> dict[str, str]:
    """A CloudEvent the rule matches when its pattern constrains only plain-text attributes."""
    event = {"specversion": "1.0", "id": "up-example-1", "source": "/llmaz-serverless/up",
             "type": "com.example.up"}  # fmt: skip
    if rule is None:
        return event
    for key in _EVENT_ATTRIBUTES:
        alternatives = rule.pattern.get(key)
        if isinstance(alternatives, list) and alternatives and isinstance(alternatives[0], str):
            event[key] = alternatives[0]
    return event


def events_example(gateway: str, runtime: RuntimeConfig) -> list[str]:
    """POST a CloudEvent to /v1/events, then read the pre-warm floor it opened; [] without events."""
    events = runtime.section("events", EventsSettings)
    if not events.enabled:
        return []
    found = _prewarm_rule(events)
    if found is None:
        event = _example_event(None)
        title = "Events (no rule pre-warms a model: the event matches nothing):"
        read = f"  curl -s {gateway}/v1/prewarm"
    else:
        rule, model = found
        event = _example_event(rule)
        title = (
            f"Events (rule {rule.name} pre-warms {model}; KEDA would read the floor, "
            "here it is only reported):"
        )
        read = f"  curl -s {gateway}/v1/prewarm/{model}"
    body = shlex.quote(json.dumps(event, separators=(",", ":")))
    return [
        title,
        f"  curl -s {gateway}/v1/events -H 'content-type: application/cloudevents+json' \\",
        f"    -d {body}",
        read,
    ]
