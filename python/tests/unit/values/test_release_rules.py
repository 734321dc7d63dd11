"""The release-wide rules (values/release_rules.py): one values file each accepts and one each flags.

Their twins in the chart's templates/_validate.tpl are held to the same
verdicts by tests/charts/test_validate_parity.py; here each rule's own
wording, path and line are checked without helm.
"""

from __future__ import annotations

import pytest

from llmaz_serverless.toolpaths import chart_dir
from llmaz_serverless.values.loader import load_file, load_text
from llmaz_serverless.values.merge import merge_values
from llmaz_serverless.values.rules import RULES, run_rules

DEFAULTS = load_file(chart_dir() / "values.yaml")


def model(name: str, extra: str = "") -> str:
    return f"  - name: {name}\n    source: {{uri: 'ollama://{name}'}}\n" + extra


def findings(user: str, rule_id: str) -> list[str]:
    merged = merge_values(DEFAULTS, [load_text(user, "user.yaml")])
    found, broken = run_rules(merged)
    assert broken == []
    return [f"{f.mark}: {f.severity}: {f.explanation.sentence()}" for r, f in found if r.id == rule_id]


ALWAYS_ON = "    scaling: {minReplicaCount: 1}\n"
ASYNC = "    async: {enabled: true}\n"

# rule id -> (values it accepts, values it flags, what the finding says)
CASES: dict[str, tuple[str, str, str]] = {
    "models/duplicate-name": (
        "models:\n" + model("a") + model("b"),
        "models:\n" + model("a") + model("a", "    enabled: false\n"),
        'user.yaml:4: error: models[1].name: is also the name of models[0] (got "a")',
    ),
    "routing/duplicate-served-name": (
        "models:\n" + model("a", "    servedName: org/x\n") + model("b"),
        "models:\n" + model("a", "    servedName: org/x\n") + model("b", "    servedName: org/x\n"),
        'models[1].servedName: is already served by models[0] (got "org/x")',
    ),
    "coldstart/fallback-scales-to-zero": (
        "models:\n"
        + model("big", "    coldStart: {fallback: {enabled: true, model: small}}\n")
        + model("small", ALWAYS_ON),
        "models:\n"
        + model("big", "    coldStart: {fallback: {enabled: true, model: small}}\n")
        + model("small"),
        "names 'small', which scales to zero (minReplicaCount 0, idleReplicaCount null)",
    ),
    "coldstart/fallback-and-placeholder": (
        "models:\n" + model("a", "    coldStart: {placeholder: {enabled: true}}\n"),
        "models:\n"
        + model("a", "    coldStart: {placeholder: {enabled: true}, fallback: {enabled: true, model: b}}\n")
        + model("b", ALWAYS_ON),
        "models[0].coldStart: enables both fallback and placeholder",
    ),
    "coldstart/placeholder-needs-interceptorroute": (
        "models:\n" + model("a", "    coldStart: {placeholder: {enabled: true}}\n"),
        "httpAddon: {api: HTTPScaledObject}\nmodels:\n"
        + model("a", "    coldStart: {placeholder: {enabled: true}}\n"),
        "needs the InterceptorRoute API, but httpAddon.api is HTTPScaledObject",
    ),
    "scaling/prewarm-above-max": (
        "models:\n" + model("a", "    prewarm: {onInstall: true, replicas: 2}\n"),
        "models:\n" + model("a", "    prewarm: {onInstall: true, replicas: 3}\n"),
        "models[0].prewarm.replicas: is more than scaling.maxReplicaCount (2) (got 3)",
    ),
    "scaling/modifiers-formula-empty": (
        "models:\n" + model("a", "    scaling: {scalingModifiers: {enabled: true, formula: http}}\n"),
        "models:\n" + model("a", "    scaling: {scalingModifiers: {enabled: true}}\n"),
        "models[0].scaling.scalingModifiers.formula: is empty while scalingModifiers is enabled",
    ),
    "scaling/modifiers-unknown-trigger": (
        "worker: {enabled: true, broker: nats}\nmodels:\n"
        + model(
            "a", ASYNC + "    scaling: {scalingModifiers: {enabled: true, formula: 'max(http, queue)'}}\n"
        ),
        "worker: {enabled: true, broker: nats}\nmodels:\n"
        + model(
            "a", ASYNC + "    scaling: {scalingModifiers: {enabled: true, formula: 'max(queue, inflight)'}}\n"
        ),
        "user.yaml:6: error: models[0].scaling.scalingModifiers.formula: names inflight, which this model's "
        "ScaledObject does not have (it has http, queue)",
    ),
    "scaling/modifiers-fallback-needs-average-value": (
        "models:\n"
        + model(
            "a",
            "    scaling: {fallback: {enabled: true}, scalingModifiers: {enabled: true, formula: http}}\n",
        ),
        "models:\n"
        + model(
            "a",
            "    scaling:\n      fallback: {enabled: true}\n"
            "      scalingModifiers: {enabled: true, formula: http, target: '2.5'}\n",
        ),
        "has metricType AverageValue and target '2.5' while scaling.fallback is enabled",
    ),
    "cron/duplicate-name": (
        "models:\n"
        + model(
            "a",
            "    scaling:\n      cron: [{name: w, timezone: UTC, start: '0 8 * * *', end: '0 9 * * *'}]\n",
        ),
        "models:\n"
        + model(
            "a",
            "    scaling:\n      cron:\n"
            "        - {name: w, timezone: UTC, start: '0 8 * * *', end: '0 9 * * *'}\n"
            "        - {name: w, timezone: UTC, start: '0 18 * * *', end: '0 19 * * *'}\n",
        ),
        "models[0].scaling.cron: names two windows 'w'",
    ),
    "async/worker-without-async-model": (
        "worker: {enabled: true}\nmodels:\n" + model("a", ASYNC),
        "worker: {enabled: true}\nmodels:\n" + model("a"),
        "user.yaml:1: error: worker.enabled: is true but no enabled model has async.enabled",
    ),
    "values/moved-key": (
        "warmup: {config: {backoff: {initial: 1s}}}\n",
        "warmup: {config: {backoff: {base: 1s}}}\n",
        'user.yaml:1: error: warmup.config.backoff.base: this setting moved (got "1s"); '
        "fix: set it as warmup.config.backoff.initial instead",
    ),
    "gateway/pdb-blocks-eviction": (
        "gateway: {replicas: 2, pdb: {enabled: true, minAvailable: 1}}\n",
        "gateway: {replicas: 2, pdb: {enabled: true, minAvailable: 2}}\n",
        "gateway.pdb.minAvailable: leaves no pod that may be evicted with gateway.replicas 2 (got 2)",
    ),
    "gateway/grace-period-below-shutdown": (
        "gateway: {terminationGracePeriodSeconds: 126}\n",
        "gateway: {terminationGracePeriodSeconds: 125}\n",
        "is not longer than shutdownDelay 5s + shutdownTimeout 120s (got 125); fix: raise it above 125",
    ),
    "worker/grace-period-below-drain": (
        "worker: {enabled: true, terminationGracePeriodSeconds: 121}\nmodels:\n" + model("a", ASYNC),
        "worker: {enabled: true, terminationGracePeriodSeconds: 120}\nmodels:\n" + model("a", ASYNC),
        "worker.terminationGracePeriodSeconds: is not longer than drainTimeout 120s (got 120)",
    ),
}


def test_every_release_rule_has_a_good_and_a_bad_case_when_registered() -> None:
    mine = {r.id for r in RULES if r.check.__module__ == "llmaz_serverless.values.release_rules"}
    assert set(CASES) == mine


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_release_rule_stays_quiet_when_values_are_sound(rule_id: str) -> None:
    assert findings(CASES[rule_id][0], rule_id) == []


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_release_rule_reports_the_problem_when_values_are_wrong(rule_id: str) -> None:
    found = findings(CASES[rule_id][1], rule_id)
    assert any(CASES[rule_id][2] in f for f in found), found


def test_grace_period_follows_the_gateways_own_shutdown_settings_when_set() -> None:
    user = "gateway: {terminationGracePeriodSeconds: 150, config: {shutdownTimeout: 3m}}\n"
    found = findings(user, "gateway/grace-period-below-shutdown")
    assert found and "shutdownTimeout 180s" in found[0]


def test_percent_min_available_is_left_to_kubernetes_when_written_as_a_string() -> None:
    assert (
        findings(
            "gateway: {replicas: 1, pdb: {enabled: true, minAvailable: '50%'}}\n",
            "gateway/pdb-blocks-eviction",
        )
        == []
    )
