"""One rule book: `helm template` and `llmaz-serverless validate` agree on every values file.

Both directions, on every values file the repository has (bad_values/, the
chart's ci/ and examples/, the presets, the chart defaults) and on values
generated around each rule's limit:

- the chart rejects in its schema  => validate reports a `schema` error;
- the chart rejects in _validate.tpl => validate's error rule ids are exactly
  the `[rule id]`s of the chart's lines;
- the chart renders                 => validate reports no error (warnings allowed);
- every error of validate names a file (and line) and a fix.

The rule ids themselves are compared too: every ERROR rule of validate is a
rule of templates/_validate.tpl and the other way round.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from helmrender import CHART, HelmError, render
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmaz_serverless.values.rules import ERROR, RULES
from llmaz_serverless.values.validate import SCHEMA_RULE, validate_values

BAD = Path(__file__).parent / "bad_values"
VALUE_FILES = [
    *sorted(BAD.glob("*.yaml")),
    *sorted((CHART / "ci").glob("*.yaml")),
    *sorted((CHART / "examples").glob("*.yaml")),
    *sorted(CHART.glob("values-*.yaml")),
]
RULE_ID = re.compile(r"\[([a-z]+/[a-z0-9-]+)\]$", re.MULTILINE)
SCHEMA_FAILURE = "don't meet the specifications of the schema"
VALIDATION_FAILURE = "VALUES VALIDATION:"


@dataclass(frozen=True)
class ChartVerdict:
    """What `helm template` said: rendered, a schema error, or the rule ids of _validate.tpl."""

    rendered: bool
    schema: bool = False
    rule_ids: frozenset[str] = field(default_factory=frozenset)
    text: str = ""


def chart_verdict(values: Path | None) -> ChartVerdict:
    try:
        render(*([str(values)] if values else []))
    except HelmError as err:
        text = str(err)
        if SCHEMA_FAILURE in text:
            return ChartVerdict(False, schema=True, text=text)
        assert VALIDATION_FAILURE in text, f"helm failed outside the rule book:\n{text}"
        ids = frozenset(RULE_ID.findall(text))
        body = text.split(VALIDATION_FAILURE, 1)[1].split("Use --debug flag", 1)[0]
        lines = [line for line in body.splitlines() if line.strip()]
        assert len(RULE_ID.findall(text)) == len(lines), f"a chart line carries no [rule id]:\n{text}"
        return ChartVerdict(False, rule_ids=ids, text=text)
    return ChartVerdict(True)


def assert_agree(values: Path | None) -> None:
    chart = chart_verdict(values)
    report = validate_values([values] if values else [], CHART)
    errors = {p.rule for p in report.errors}
    shown = "\n".join(p.text() for p in report.problems)
    if chart.rendered:
        assert errors == set(), f"the chart renders, validate says:\n{shown}"
    elif chart.schema:
        assert SCHEMA_RULE in errors, f"helm:\n{chart.text}\nvalidate:\n{shown}"
    else:
        assert errors == chart.rule_ids, f"helm:\n{chart.text}\nvalidate:\n{shown}"
    for problem in report.errors:
        # Where to edit and what to do: the two things helm's own message cannot give.
        assert problem.mark is not None and problem.mark.file, problem.text()
        assert problem.explanation.fix, problem.text()


@pytest.mark.parametrize("values", [None, *VALUE_FILES], ids=["defaults", *(p.name for p in VALUE_FILES)])
def test_validate_agrees_with_the_chart_on_every_shipped_values_file(values: Path | None) -> None:
    assert_agree(values)


REPO = CHART.parent.parent
# Stack-chart values (e2e installs, the stack's ci/): the part our chart sees is
# their `llmaz-serverless:` section, which the e2e harness passes on as it is.
STACK_VALUE_FILES = [
    *sorted((REPO / "manifests" / "e2e").glob("values-*.yaml")),
    *sorted((REPO / "charts" / "llmaz-serverless-stack" / "ci").glob("*.yaml")),
]


@pytest.mark.parametrize(
    "values", STACK_VALUE_FILES, ids=[f"{p.parent.name}/{p.name}" for p in STACK_VALUE_FILES]
)
def test_validate_agrees_with_the_chart_on_the_stack_values_sections(values: Path, tmp_path: Path) -> None:
    section = yaml.safe_load(values.read_text(encoding="utf-8")).get("llmaz-serverless") or {}
    part = tmp_path / values.name
    part.write_text(yaml.safe_dump(section), encoding="utf-8")
    assert_agree(part)
    assert validate_values([part], CHART).errors == [], f"{values}: the shipped install must be valid"


def _chart_rule_ids() -> set[str]:
    return set(RULE_ID.findall((CHART / "templates" / "_validate.tpl").read_text(encoding="utf-8")))


def test_the_chart_and_validate_have_the_same_error_rules() -> None:
    errors = {r.id for r in RULES if r.severity == ERROR}
    assert _chart_rule_ids() == errors


def test_every_chart_rule_fails_some_bad_values_file() -> None:
    seen: set[str] = set()
    for path in sorted(BAD.glob("*.yaml")):
        seen |= chart_verdict(path).rule_ids
    assert _chart_rule_ids() - seen == set()


# --- generated values around each rule's limit --------------------------------------------------

# Seconds around every limit the rules compute: the load floors (15 s, 60 s),
# floor + warmup.deadline (45/75/135/180 s), the default timeouts.coldStart
# (600 s) and the gateway/worker shutdown budgets (120/125 s).
SECONDS = st.sampled_from(
    [14, 15, 16, 44, 45, 59, 60, 61, 74, 75, 119, 120, 121, 125, 126, 134, 135, 136, 180, 599, 600, 601]
)
DURATION = st.one_of(
    SECONDS.map(lambda s: f"{s}s"), st.sampled_from(["1m", "2m", "2.5m", "59.5s", "10m", "1m15s"])
)
BACKEND = st.sampled_from(["vllm", "sglang", "tgi", "llamacpp", "ollama"])
# Cron expressions at the edges of each field's range, steps, names and field counts.
CRON_EXPRESSIONS = [
    "0 8 * * 1-5", "59 23 31 12 7", "60 8 * * *", "0 24 * * *", "0 8 0 * *", "0 8 * 13 *", "0 8 * * 8",
    "*/15 8-18 * * MON-FRI", "*/0 8 * * *", "0 8 * JAN-dec sun", "0 8 * * MON-XYZ", "0 8 * * * *",
    "0 8-9-10 * * *",
]  # fmt: skip


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _model(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "source": {"uri": f"ollama://{name}"}, **extra}


# Each mutation patches the document {models: [a]} near one rule's limit.
MUTATIONS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "load time": st.fixed_dictionaries(
        {
            "timeouts": st.fixed_dictionaries({"coldStart": DURATION}),
            "backend": st.fixed_dictionaries({"name": BACKEND}),
            "warmup": st.fixed_dictionaries(
                {"enabled": st.booleans(), "deadline": st.sampled_from(["0s", "30s", "1m", "2m"])}
            ),
        }
    ).map(lambda m: {"a": m}),
    "cooldown": st.fixed_dictionaries({"cooldown": SECONDS, "coldStart": DURATION}).map(
        lambda c: {
            "a": {"scaling": {"cooldownPeriod": c["cooldown"]}, "timeouts": {"coldStart": c["coldStart"]}}
        }
    ),
    "prewarm": st.fixed_dictionaries(
        {
            "prewarm": st.fixed_dictionaries({"onInstall": st.booleans(), "replicas": st.integers(1, 4)}),
            "scaling": st.fixed_dictionaries({"initialCooldownPeriod": SECONDS}),
        }
    ).map(lambda m: {"a": m}),
    "replicas": st.fixed_dictionaries(
        {
            "minReplicaCount": st.integers(0, 3),
            "maxReplicaCount": st.integers(1, 3),
            "idleReplicaCount": st.sampled_from([None, 0, 1, 2]),
        }
    ).map(lambda s: {"a": {"scaling": s}}),
    "fallback": st.fixed_dictionaries(
        {
            "target": st.sampled_from(["small", "a", "ghost", ""]),
            "small": st.fixed_dictionaries(
                {"minReplicaCount": st.integers(0, 2), "idleReplicaCount": st.sampled_from([None, 0])}
            ),
            "placeholder": st.booleans(),
            "api": st.sampled_from(["InterceptorRoute", "HTTPScaledObject"]),
        }
    ).map(
        lambda f: {
            "a": {
                "coldStart": {
                    "fallback": {"enabled": True, "model": f["target"]},
                    "placeholder": {"enabled": f["placeholder"]},
                }
            },
            "+small": {"scaling": f["small"]},
            "httpAddon": {"api": f["api"]},
        }
    ),
    "modifiers": st.fixed_dictionaries(
        {
            "scalingModifiers": st.fixed_dictionaries(
                {
                    "enabled": st.just(True),
                    "formula": st.sampled_from(
                        ["", "max(http, waiting)", "waiting", "queue", "cron-w + waiting"]
                    ),
                    "metricType": st.sampled_from(["AverageValue", "Value"]),
                    "target": st.sampled_from(["1", "0", "2.5", "10"]),
                }
            ),
            "fallback": st.fixed_dictionaries({"enabled": st.booleans()}),
            "minReplicaCount": st.integers(0, 1),
        }
    ).map(lambda s: {"a": {"scaling": s}}),
    # Which trigger names a formula may use depends on the broker, async, Prometheus and event rules.
    "triggers": st.fixed_dictionaries(
        {
            "formula": st.sampled_from(
                ["max(http, inflight)", "max(http, queue, inflight)", "max(http, prewarm)", "http + kvcache"]
            ),
            "broker": st.sampled_from(["redis", "nats"]),
            "async": st.booleans(),
            "prometheus": st.booleans(),
            "prewarm": st.booleans(),
        }
    ).map(
        lambda t: {
            "a": {
                "backend": {"name": "vllm"},
                "async": {"enabled": t["async"]},
                "scaling": {"scalingModifiers": {"enabled": True, "formula": t["formula"]}},
            },
            "worker": {"enabled": True, "broker": t["broker"]},
            "prometheus": {"enabled": t["prometheus"]},
            "eventRules": [
                {
                    "name": "open",
                    "pattern": {"type": ["com.example.opened"]},
                    "actions": [{"prewarm": {"models": ["a"], "replicas": 1, "window": "15m"}}],
                }
            ]
            if t["prewarm"]
            else [],
        }
    ),
    "async": st.fixed_dictionaries(
        {"worker": st.booleans(), "async": st.booleans(), "grace": st.sampled_from([119, 120, 121, 900])}
    ).map(
        lambda w: {
            "a": {"async": {"enabled": w["async"]}},
            "worker": {"enabled": w["worker"], "terminationGracePeriodSeconds": w["grace"]},
        }
    ),
    "gateway": st.fixed_dictionaries(
        {
            "replicas": st.integers(1, 3),
            "pdb": st.fixed_dictionaries(
                {"enabled": st.booleans(), "minAvailable": st.one_of(st.integers(0, 3), st.just("50%"))}
            ),
            "terminationGracePeriodSeconds": st.sampled_from([124, 125, 126, 150]),
        }
    ).map(lambda g: {"gateway": g}),
    "routes": st.fixed_dictionaries(
        {
            "hosts": st.sampled_from([[], ["llm.example.com"], ["LLM.example.com", "other.example.com"]]),
            "paths": st.sampled_from([[], ["/v1"]]),
            "header": st.sampled_from(
                [{"name": ""}, {"name": "x-h", "value": "v"}, {"name": "x-h", "value": ""}]
            ),
            "servedName": st.sampled_from(["", "org/x"]),
        }
    ).map(
        lambda r: {
            "a": {"route": {"hosts": ["llm.example.com"], "header": {"name": "x-h", "value": "v"}}},
            "+b": {
                "servedName": r["servedName"],
                "route": {"hosts": r["hosts"], "pathPrefixes": r["paths"], "header": r["header"]},
            },
        }
    ),
    "cron": st.lists(
        st.tuples(st.sampled_from(["w", "x"]), st.sampled_from(CRON_EXPRESSIONS)), min_size=1, max_size=3
    ).map(
        lambda windows: {
            "a": {
                "scaling": {
                    "cron": [
                        {"name": name, "timezone": "UTC", "start": start, "end": "0 19 * * *"}
                        for name, start in windows
                    ]
                }
            }
        }
    ),
    "prometheus": st.fixed_dictionaries(
        {
            "on": st.just(True),  # off is what every other example has
            "backend": BACKEND,
            "signal": st.sampled_from(["waiting", "kvCache"]),
            "query": st.sampled_from(
                [
                    "",
                    "sum(vllm:num_requests_waiting)",
                    'sum(sglang:num_queue_reqs{m="vllm:x"})',
                    "tgi_queue_size",
                ]
            ),
        }
    ).map(
        lambda p: {
            "prometheus": {"enabled": p["on"]},
            "a": {
                "backend": {"name": p["backend"]},
                "scaling": {"prometheus": {p["signal"]: {"enabled": True, "query": p["query"]}}},
            },
        }
    ),
    "events": st.fixed_dictionaries(
        {
            "pattern": st.sampled_from([{}, {"type": ["com.example.opened"]}]),
            "matchAll": st.booleans(),
            "action": st.sampled_from(
                [
                    {"prewarm": {"models": ["a"], "replicas": 1, "window": "15m"}},
                    {"prewarm": {"models": ["ghost"], "replicas": 1, "window": "15m"}},
                    {"submit": {"model": "a", "api": "chat", "request": {"messages": []}}},
                ]
            ),
            "gateway": st.booleans(),
        }
    ).map(
        lambda e: {
            "eventRules": [
                {"name": "r", "pattern": e["pattern"], "matchAll": e["matchAll"], "actions": [e["action"]]}
            ],
            "gateway": {"enabled": e["gateway"]},
        }
    ),
}


def _document(patches: list[dict[str, Any]]) -> dict[str, Any]:
    """{models: [a, ...]} with every patch applied: `a` patches model a, `+name` adds a model."""
    doc: dict[str, Any] = {"models": [_model("a")]}
    for patch in patches:
        for key, value in patch.items():
            if key == "a":
                _merge(doc["models"][0], value)
            elif key.startswith("+"):
                doc["models"].append(_model(key[1:], **value))
            else:
                doc.setdefault(key, {})
                _merge(doc, {key: value})
    return doc


@st.composite
def mutated_values(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=2, unique=True))
    return _document([draw(MUTATIONS[name]) for name in names])


# helm renders in ~0.3 s: a fixed, modest number of examples, derandomized so CI sees the same ones.
@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_values())
def test_validate_agrees_with_the_chart_on_values_near_each_limit(doc: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "values.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        assert_agree(path)
