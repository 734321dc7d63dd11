"""Every semantic rule: one values file it accepts and one it flags, on the chart's real layout.

The chart's own values.yaml is the bottom layer, exactly as `validate` uses it,
so a rule that reads a key the chart renamed fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmaz_serverless.config import duration_or_none
from llmaz_serverless.toolpaths import chart_dir, repo_root
from llmaz_serverless.values.loader import load_file, load_text
from llmaz_serverless.values.merge import merge_values
from llmaz_serverless.values.rules import RULES, cron_problem, duration_seconds, run_rules

DEFAULTS = load_file(chart_dir() / "values.yaml")
MODEL = """\
  - name: llama
    source: {modelHub: {modelID: meta-llama/Llama-3.1-8B-Instruct}}
"""


def findings(user: str, rule_id: str | None = None) -> list[str]:
    merged = merge_values(DEFAULTS, [load_text(user, "user.yaml")])
    found, broken = run_rules(merged)
    assert broken == []
    return [
        f"{f.mark}: {f.severity}: {f.explanation.sentence()}"
        for r, f in found
        if rule_id is None or r.id == rule_id
    ]


# rule id -> (values it accepts, values it flags, a phrase the finding must contain)
CASES: dict[str, tuple[str, str, str]] = {
    "timeouts/cold-start-below-load-time": (
        "models:\n" + MODEL + "    timeouts: {coldStart: 5m}\n",
        "models:\n" + MODEL + "    timeouts: {coldStart: 90s}\n",
        "models[0].timeouts.coldStart: is shorter than the model's load time: vllm needs at least 1m to load "
        'plus up to 2m of warmup (warmup.deadline), 3m in all (got "90s")',
    ),
    "scaling/cooldown-below-cold-start": (
        "models:\n" + MODEL + "    scaling: {cooldownPeriod: 600}\n",
        "models:\n" + MODEL + "    scaling: {cooldownPeriod: 599}\n",
        "models[0].scaling.cooldownPeriod: is shorter than the cold start: timeouts.coldStart is 10m "
        "(got 599)",
    ),
    "scaling/initial-cooldown-below-cold-start": (
        "models:\n" + MODEL + "    prewarm: {onInstall: true}\n    scaling: {initialCooldownPeriod: 600}\n",
        "models:\n" + MODEL + "    prewarm: {onInstall: true}\n    scaling: {initialCooldownPeriod: 30}\n",
        "models[0].scaling.initialCooldownPeriod: is shorter than the pre-warmed pods' cold start",
    ),
    "scaling/max-below-min": (
        "models:\n" + MODEL + "    scaling: {minReplicaCount: 2, maxReplicaCount: 2}\n",
        "models:\n" + MODEL + "    scaling: {minReplicaCount: 3, maxReplicaCount: 2}\n",
        "models[0].scaling.maxReplicaCount: is below scaling.minReplicaCount (3) (got 2)",
    ),
    "scaling/idle-not-below-min": (
        "models:\n" + MODEL + "    scaling: {minReplicaCount: 1, idleReplicaCount: 0}\n",
        "models:\n" + MODEL + "    scaling: {minReplicaCount: 1, idleReplicaCount: 1}\n",
        "models[0].scaling.idleReplicaCount: must be below minReplicaCount (1) (got 1)",
    ),
    "scaling/zero-without-wake-trigger": (
        "models:\n"
        + MODEL
        + "    scaling: {scalingModifiers: {enabled: true, formula: 'max(http, waiting)'}}\n",
        "models:\n"
        + MODEL
        + "    scaling: {scalingModifiers: {enabled: true, formula: 'waiting + kvcache'}}\n",
        "models[0].scaling.scalingModifiers.formula: uses no trigger that can wake the model from zero",
    ),
    "async/queue-without-worker": (
        "worker: {enabled: true}\nmodels:\n" + MODEL + "    async: {enabled: true}\n",
        "worker: {enabled: false}\nmodels:\n" + MODEL + "    async: {enabled: true}\n",
        "models[0].async.enabled: is true but worker.enabled is false: nothing consumes this model's queue",
    ),
    "prometheus/metric-not-exported": (
        "prometheus: {enabled: true}\nmodels:\n" + MODEL + "    backend: {name: tgi}\n"
        "    scaling: {prometheus: {kvCache: {enabled: false}}}\n",
        "prometheus: {enabled: true}\nmodels:\n" + MODEL + "    backend: {name: tgi}\n"
        "    scaling: {prometheus: {kvCache: {enabled: true}}}\n",
        "user.yaml:6: error: models[0].scaling.prometheus.kvCache.enabled: is true but tgi exports no "
        "kvCache metric",
    ),
    "scheduling/gpu-without-placement": (
        "models:\n"
        + MODEL
        + "    flavors: [{name: h100, limits: {nvidia.com/gpu: 1}, nodeSelector: {gpu: h100}}]\n",
        "models:\n" + MODEL + "    flavors: [{name: h100, limits: {nvidia.com/gpu: 1}}]\n",
        "warning: models[0].flavors[0].nodeSelector: is empty while the flavor asks for nvidia.com/gpu",
    ),
    "routing/duplicate-host-path": (
        "models:\n" + MODEL + "    route: {hosts: [a.example.com]}\n"
        "  - name: small\n    source: {uri: 'ollama://qwen'}\n    route: {hosts: [a.example.com], "
        "pathPrefixes: [/small]}\n",
        "models:\n" + MODEL + "    route: {hosts: [a.example.com], header: {name: ''}}\n"
        "  - name: small\n    source: {uri: 'ollama://qwen'}\n    route: {hosts: [A.example.com], header: "
        "{name: ''}}\n",
        "models[1].route: matches the same requests as model 'llama' (models[0]): host a.example.com, path "
        "(any)",
    ),
    "routing/unknown-model-reference": (
        "models:\n" + MODEL + "    failover: small\n  - name: small\n    source: {uri: 'ollama://qwen'}\n",
        "models:\n" + MODEL + "    failover: smal\n  - name: small\n    source: {uri: 'ollama://qwen'}\n",
        "models[0].failover: names no enabled model of `models` (got \"smal\"); fix: did you mean 'small'?",
    ),
    "cron/invalid-timezone": (
        "models:\n"
        + MODEL
        + "    scaling:\n      cron: [{name: am, timezone: Europe/Berlin, start: '0 8 * * *', "
        "end: '0 9 * * *'}]\n",
        "models:\n"
        + MODEL
        + "    scaling:\n      cron: [{name: am, timezone: Europe/Berln, start: '0 8 * * *', "
        "end: '0 9 * * *'}]\n",
        'models[0].scaling.cron[0].timezone: is not an IANA time zone (got "Europe/Berln"); fix: did you '
        "mean "
        "'Europe/Berlin'?",
    ),
    "cron/invalid-schedule": (
        "models:\n"
        + MODEL
        + "    scaling:\n      cron: [{name: am, timezone: UTC, start: '0 8 * * MON-FRI', "
        "end: '30 17 * * 1-5'}]\n",
        "models:\n" + MODEL + "    scaling:\n      cron: [{name: am, timezone: UTC, start: '0 25 * * *', "
        "end: '0 9 * *'}]\n",
        "models[0].scaling.cron[0].start: hour field '25': '25' is outside 0-23",
    ),
}


def test_every_rule_has_a_good_and_a_bad_case_when_registered() -> None:
    # Rules other packages register (events/* in values/event_rules.py) are tested beside their code.
    mine = {r.id for r in RULES if r.check.__module__ == "llmaz_serverless.values.rules"}
    assert set(CASES) == mine


def test_rule_ids_are_documented_when_registered() -> None:
    doc = (repo_root() / "docs" / "design" / "validation.md").read_text(encoding="utf-8")
    for rule in RULES:
        assert f"`{rule.id}`" in doc, rule.id


def test_plain_model_raises_no_finding_when_left_at_chart_defaults() -> None:
    assert findings("models:\n" + MODEL) == []


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_stays_quiet_when_values_are_sound(rule_id: str) -> None:
    assert findings(CASES[rule_id][0], rule_id) == []


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_reports_the_problem_when_values_are_wrong(rule_id: str) -> None:
    found = findings(CASES[rule_id][1], rule_id)
    assert found, f"{rule_id} missed its bad case"
    assert any(CASES[rule_id][2] in f for f in found), found


def test_finding_points_at_the_users_line_when_the_user_set_the_value() -> None:
    found = findings(
        "models:\n" + MODEL + "    scaling:\n      cooldownPeriod: 60\n", "scaling/cooldown-below-cold-start"
    )
    assert found[0].startswith("user.yaml:5: error:")


def test_finding_points_at_model_defaults_when_the_value_is_inherited() -> None:
    user = "modelDefaults:\n  scaling:\n    cooldownPeriod: 30\nmodels:\n" + MODEL
    found = findings(user, "scaling/cooldown-below-cold-start")
    assert found[0].startswith("user.yaml:3: error: models[0].scaling.cooldownPeriod: is shorter")
    assert "(inherited from modelDefaults.scaling.cooldownPeriod)" in found[0]


def test_inherited_metric_default_is_a_warning_when_the_user_did_not_enable_it() -> None:
    user = "prometheus: {enabled: true}\nmodels:\n" + MODEL + "    backend: {name: ollama}\n"
    found = findings(user, "prometheus/metric-not-exported")
    assert len(found) == 2 and all(": warning: " in f for f in found)
    assert all(str(chart_dir() / "values.yaml") in f for f in found)


def test_foreign_metric_in_a_custom_query_is_flagged_when_backend_differs() -> None:
    user = (
        "prometheus: {enabled: true}\nmodels:\n" + MODEL + "    backend: {name: sglang}\n"
        "    scaling: {prometheus: {waiting: {query: 'sum(vllm:num_requests_waiting{x=\"1\"})'}}}\n"
    )
    found = findings(user, "prometheus/metric-not-exported")
    assert any(
        "error: models[0].scaling.prometheus.waiting.query: queries vllm:num_requests_waiting" in f
        for f in found
    )


def test_disabled_model_is_skipped_when_rules_run() -> None:
    user = "models:\n" + MODEL + "    enabled: false\n    scaling: {minReplicaCount: 3, maxReplicaCount: 2}\n"
    assert findings(user, "scaling/max-below-min") == []


def test_fallback_route_skips_the_cold_start_rule_when_enabled() -> None:
    user = (
        "models:\n"
        + MODEL
        + "    timeouts: {coldStart: 60s}\n    coldStart: {fallback: {enabled: true, model: small}}\n"
        "  - name: small\n    source: {uri: 'ollama://qwen'}\n"
    )
    assert findings(user, "timeouts/cold-start-below-load-time") == []
    assert findings(user, "routing/unknown-model-reference") == []


def test_worker_bounds_are_checked_when_the_worker_is_enabled() -> None:
    user = "worker: {enabled: true, scaling: {minReplicaCount: 5, maxReplicaCount: 2}}\n"
    assert findings(user, "scaling/max-below-min") == [
        "user.yaml:1: error: worker.scaling.maxReplicaCount: is below worker.scaling.minReplicaCount (5) "
        "(got 2); "
        "fix: set it to 5 or more"
    ]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("1h30m", 5400),
        ("250ms", 0.25),
        ("1.5m", 90),
        (30, 30),
        ("0", 0),
        ("", None),
        ("5 min", None),
    ],
)
def test_durations_parse_like_go_when_read(text: object, seconds: float | None) -> None:
    assert duration_or_none(text) == seconds


@pytest.mark.parametrize(
    ("expr", "ok"),
    [("0 8 * * 1-5", True), ("*/15 * * * *", True), ("0 0 1 JAN SUN", True), ("0 8 * *", False),
     ("60 * * * *", False), ("0 8 * * MON-XYZ", False), ("*/0 * * * *", False), ("*/ * * * *", False),
     ("0\u00a08 * * *", False)],
)  # fmt: skip
def test_cron_expressions_are_checked_when_parsed(expr: str, ok: bool) -> None:
    assert (cron_problem(expr) is None) is ok


def test_rules_survive_a_malformed_document_when_run(tmp_path: Path) -> None:
    user = (
        "models:\n  - 5\n  - name: x\n    scaling: [1]\n    route: {hosts: 3}\n"
        "worker: []\nprometheus: {enabled: true}\n"
    )
    merged = merge_values(DEFAULTS, [load_text(user, "user.yaml")])
    _, broken = run_rules(merged)
    assert broken == []


def test_cron_window_wakes_the_model_when_the_formula_names_it_as_the_chart_does() -> None:
    cron = (
        "    scaling:\n"
        "      cron: [{name: office-hours, timezone: UTC, start: '0 8 * * *', end: '0 18 * * *'}]\n"
    )
    formula = "      scalingModifiers: {{enabled: true, formula: '{}'}}\n"
    ok = "models:\n" + MODEL + cron + formula.format("cron_office_hours")
    assert findings(ok, "scaling/zero-without-wake-trigger") == []
    dashed = "models:\n" + MODEL + cron + formula.format("cron-office-hours + http")
    found = findings(dashed, "scaling/zero-without-wake-trigger")
    assert any("write cron_office_hours instead" in f for f in found), found


def test_idle_zero_is_flagged_when_min_is_zero_too() -> None:
    found = findings(
        "models:\n" + MODEL + "    scaling: {idleReplicaCount: 0}\n", "scaling/idle-not-below-min"
    )
    assert found and "must be below minReplicaCount (0) (got 0)" in found[0]


def test_cooldown_is_not_checked_when_the_model_never_reaches_zero() -> None:
    user = "models:\n" + MODEL + "    scaling: {minReplicaCount: 1, cooldownPeriod: 30}\n"
    assert findings(user, "scaling/cooldown-below-cold-start") == []


def test_cold_start_budget_is_the_load_time_when_timeouts_cold_start_is_shorter() -> None:
    # A fallback route may wait 60 s, but the model still needs 1m + 2m of warmup to load.
    user = (
        "models:\n" + MODEL + "    timeouts: {coldStart: 60s}\n    scaling: {cooldownPeriod: 179}\n"
        "    coldStart: {fallback: {enabled: true, model: small}}\n"
        "  - name: small\n    source: {uri: 'ollama://qwen'}\n    scaling: {minReplicaCount: 1}\n"
    )
    found = findings(user, "scaling/cooldown-below-cold-start")
    assert (
        found
        and "vllm needs at least 1m to load plus up to 2m of warmup (warmup.deadline), 3m in all" in found[0]
    )
    assert (
        findings(
            user.replace("cooldownPeriod: 179", "cooldownPeriod: 180"), "scaling/cooldown-below-cold-start"
        )
        == []
    )


def test_durations_round_up_to_whole_seconds_when_compared_as_the_chart_does() -> None:
    assert duration_seconds("59.5s") == 60
    assert duration_seconds("90") == 90
    assert duration_seconds(5) == 5
    assert duration_seconds("soon") is None


def test_routes_without_hosts_never_overlap_when_names_differ() -> None:
    user = "models:\n" + MODEL + "  - name: small\n    source: {uri: 'ollama://qwen'}\n"
    assert findings(user, "routing/duplicate-host-path") == []


def test_metric_names_inside_quoted_label_values_are_not_read_as_metrics() -> None:
    user = (
        "prometheus: {enabled: true}\nmodels:\n" + MODEL + "    backend: {name: sglang}\n"
        "    scaling: {prometheus: {waiting: {query: 'sum(sglang:num_queue_reqs{m=\"vllm:x\"})'}}}\n"
    )
    assert findings(user, "prometheus/metric-not-exported") == []
