"""Scaling settings read from values files, merged over modelDefaults like the chart does."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmaz_serverless.plan.settings import Policy
from llmaz_serverless.plan.values import load_event_prewarms, load_models


def test_example_values_with_chart_defaults(repo: Path) -> None:
    (model,) = load_models([repo / "charts/llmaz-serverless/examples/vllm-gpu.yaml"])
    s = model.scaling
    assert (model.name, s.max_replicas, s.concurrency_target) == ("llama-8b", 4, 16.0)
    # From the chart's modelDefaults: cooldown, polling, the HPA behavior, the cold-start hold.
    assert (s.cooldown, s.polling_interval, s.min_replicas) == (900.0, 15.0, 0)
    assert s.up.policies == (Policy("Pods", 2, 60),)
    assert s.down.window == 600.0
    assert s.hold_timeout == 480.0  # timeouts.coldStart: 8m in the example
    assert model.gpus_per_replica == 1.0


def test_cron_rate_and_idle(tmp_path: Path) -> None:
    values = tmp_path / "v.yaml"
    values.write_text(
        "models:\n  - name: m\n    source: {modelHub: {modelID: x}}\n    scaling:\n"
        "      minReplicaCount: 1\n      idleReplicaCount: 0\n"
        "      http: {requestRate: {enabled: true, targetValue: 5, window: 2m}}\n"
        "      cron: [{name: day, timezone: Europe/Berlin, start: '0 8 * * *', end: '0 18 * * *',"
        " desiredReplicas: 2}]\n"
    )
    s = load_models([values])[0].scaling
    assert (s.min_replicas, s.idle_replicas, s.rate_target, s.rate_window) == (1, 0, 5.0, 120.0)
    assert [(c.timezone, c.start, c.desired) for c in s.cron] == [("Europe/Berlin", "0 8 * * *", 2)]


def test_no_models_is_an_error_with_a_fix(tmp_path: Path) -> None:
    values = tmp_path / "v.yaml"
    values.write_text("gateway: {}\n")
    with pytest.raises(ValueError, match="`models` is empty; fix:"):
        load_models([values])


def test_stack_chart_values_are_read_under_their_subchart_key(repo: Path) -> None:
    (model,) = load_models([repo / "manifests/e2e/values-emulator.yaml"])
    s = model.scaling
    assert (model.name, model.served_name) == ("emu", "emu-chat")
    assert (s.cooldown, s.polling_interval, s.max_replicas, s.down.window) == (90.0, 5.0, 3, 30.0)
    assert s.down.policies == (Policy("Pods", 1, 15),)


def test_event_prewarm_rules_are_read_when_events_are_enabled(repo: Path, tmp_path: Path) -> None:
    (p,) = load_event_prewarms([repo / "manifests/e2e/values-emulator.yaml"])
    assert (p.rule, p.models, p.replicas, p.window) == ("ui-session-opened", ("emu",), 1, 180.0)
    assert p.pattern.matches({"type": "com.example.chatui.session.opened"})
    assert not p.pattern.matches({"type": "other"})
    off = tmp_path / "off.yaml"
    off.write_text("llmaz-serverless:\n  events:\n    enabled: false\n")
    assert load_event_prewarms([repo / "manifests/e2e/values-emulator.yaml", off]) == []
