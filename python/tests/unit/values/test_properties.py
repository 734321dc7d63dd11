"""Property test: no values document, however odd, crashes `validate`.

The answer must always be a report (valid or invalid), never an exception:
hypothesis throws random documents, and documents shaped like the chart's
own keys with random values in them, at the whole pipeline (YAML text in,
marks, merge with the chart defaults, schema, rules).
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmaz_serverless.toolpaths import chart_dir
from llmaz_serverless.values.loader import load_file, load_text
from llmaz_serverless.values.merge import merge_values
from llmaz_serverless.values.rules import run_rules
from llmaz_serverless.values.schema import chart_validator, schema_problems

DEFAULTS = load_file(chart_dir() / "values.yaml")
VALIDATOR = chart_validator(chart_dir())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        ["90s", "5m", "0", "", "vllm", "ollama", "Europe/Berlin", "Mars/Base", "0 8 * * *", "*", "http"]
    ),
)
keys = st.one_of(
    st.text(min_size=1, max_size=12),
    st.sampled_from(
        ["name", "source", "scaling", "route", "hosts", "cron", "timezone", "async", "enabled", "backend",
         "flavors", "limits", "nvidia.com/gpu", "minReplicaCount", "maxReplicaCount", "idleReplicaCount",
         "cooldownPeriod", "timeouts", "coldStart", "scalingModifiers", "formula", "prometheus", "failover"]
    ),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=30,
)


def _model(draw: Any) -> dict[str, Any]:
    return draw(
        st.fixed_dictionaries(
            {"name": st.one_of(st.text(max_size=8), scalars)},
            optional={
                "source": documents,
                "backend": st.fixed_dictionaries(
                    {}, optional={"name": st.sampled_from(["vllm", "ollama", "tgi", 3])}
                ),
                "scaling": st.fixed_dictionaries(
                    {},
                    optional={
                        "minReplicaCount": scalars,
                        "maxReplicaCount": scalars,
                        "idleReplicaCount": scalars,
                        "cooldownPeriod": scalars,
                        "cron": st.lists(
                            st.dictionaries(st.sampled_from(["name", "timezone", "start", "end"]), scalars),
                            max_size=2,
                        ),
                        "scalingModifiers": st.dictionaries(st.sampled_from(["enabled", "formula"]), scalars),
                        "prometheus": documents,
                    },
                ),
                "route": documents,
                "timeouts": st.dictionaries(st.sampled_from(["coldStart", "responseHeader"]), scalars),
                "flavors": st.lists(documents, max_size=2),
                "async": documents,
                "failover": scalars,
                "coldStart": documents,
            },
        )
    )


@st.composite
def chart_shaped(draw: Any) -> dict[str, Any]:
    return draw(
        st.fixed_dictionaries(
            {},
            optional={
                "models": st.one_of(
                    st.lists(st.builds(dict) | st.composite(lambda d: _model(d))(), max_size=3), scalars
                ),
                "modelDefaults": documents,
                "worker": st.dictionaries(st.sampled_from(["enabled", "scaling"]), documents),
                "prometheus": st.dictionaries(st.just("enabled"), scalars),
                "gateway": documents,
            },
        )
    )


def _run(doc: Any) -> None:
    text = yaml.safe_dump(doc if isinstance(doc, dict) else {"x": doc}, allow_unicode=True)
    loaded = load_text(text, "fuzz.yaml")
    merged = merge_values(DEFAULTS, [loaded])
    problems = schema_problems(VALIDATOR, merged.data)
    _, broken = run_rules(merged)
    assert broken == [], broken
    for problem in problems:
        assert problem.sentence()
        merged.mark(problem.path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents_never_crash_the_validator_when_checked(doc: Any) -> None:
    _run(doc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chart_shaped())
def test_chart_shaped_documents_never_crash_the_validator_when_checked(doc: dict[str, Any]) -> None:
    _run(doc)
