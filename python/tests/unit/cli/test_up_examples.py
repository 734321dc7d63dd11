"""The examples `up` prints follow the config: the model, the events rule, or their absence."""

from __future__ import annotations

import json
import shlex

from llmaz_serverless.cli._up_examples import JOB_ID, async_example, events_example
from llmaz_serverless.config import RuntimeConfig

GW = "http://127.0.0.1:8080"
MODELS = [{"name": "small", "playground": "small", "upstream": "http://127.0.0.1:1"}]


def _runtime(**sections: object) -> RuntimeConfig:
    return RuntimeConfig.model_validate({"models": MODELS, **sections})


def _body(lines: list[str]) -> dict:
    """The JSON after -d in a printed command spread over continuation lines."""
    argv = shlex.split(" ".join(line.rstrip("\\") for line in lines), comments=True)
    return json.loads(argv[argv.index("-d") + 1])


def test_async_example_submits_to_the_async_route_and_polls_the_returned_id():
    _, submit, data, poll = async_example(GW, "small")
    assert f"{GW}/v1/async/chat/completions" in submit and "-i" in submit.split()
    assert _body([submit, data])["model"] == "small"
    assert shlex.split(poll, comments=True) == ["curl", "-s", f"{GW}/v1/async/{JOB_ID}"]


def test_events_example_sends_an_event_the_first_prewarm_rule_matches_and_reads_that_model():
    rules = [
        {"name": "off", "enabled": False, "pattern": {"type": ["x"]},
         "actions": [{"prewarm": {"models": ["small"]}}]},
        {"name": "opened", "pattern": {"type": ["com.example.opened"], "source": [{"prefix": "/ui"}]},
         "actions": [{"prewarm": {"models": ["small"], "window": "5m"}}]},
    ]  # fmt: skip
    title, post, data, read = events_example(GW, _runtime(events={"rules": rules}))
    event = _body([post, data])
    assert "rule opened pre-warms small" in title
    # Plain-text alternatives are copied; a matcher such as a prefix keeps the default attribute.
    assert (event["type"], event["source"], event["specversion"]) == (
        "com.example.opened",
        "/llmaz-serverless/up",
        "1.0",
    )
    assert read.split()[-1] == f"{GW}/v1/prewarm/small"


def test_events_example_without_a_prewarm_rule_lists_every_window_and_says_nothing_matches():
    title, _, _, read = events_example(GW, _runtime())
    assert "matches nothing" in title
    assert read.split()[-1] == f"{GW}/v1/prewarm"


def test_events_example_is_left_out_when_the_events_api_is_off():
    assert events_example(GW, _runtime(events={"enabled": False})) == []
