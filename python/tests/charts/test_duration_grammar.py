"""One duration grammar: the Python parser, the chart's schema patterns and helm agree on one table.

Each string of TABLE goes to
- the Python parser (`config.Duration` / `OptionalDuration`, as the components read runtime.yaml),
- the patterns of values.schema.json (hand-written `duration`/`optionalDuration` and every
  duration of the generated `<component>.config` fragments), matched as jsonschema matches them,
- the real helm: a render with the string in a hand-written strict and optional duration of
  `models` and in a generated one of `gateway.config`, whose schema verdicts are read from
  helm's error, and the chart's own `durationSeconds` helper (rendered by helm from the
  chart's templates/_models.tpl), whose whole seconds must be Python's rounded up;
and every reader must accept exactly the good strings, with the same seconds.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from helmrender import CHART, helm, model
from pydantic import TypeAdapter, ValidationError

from llmaz_serverless.config import DURATION_PATTERN, OPTIONAL_DURATION_PATTERN, Duration, OptionalDuration
from llmaz_serverless.values.rules import duration_seconds

# text -> seconds, for strings every duration field takes.
GOOD: dict[str, float] = {
    "0": 0.0,
    "0s": 0.0,
    "90s": 90.0,
    "5m": 300.0,
    "2h": 7200.0,
    "1h30m": 5400.0,
    "1h0m0s": 3600.0,
    "1m15s": 75.0,
    "1.5m": 90.0,
    "59.5s": 59.5,
    "250ms": 0.25,
    "100ms": 0.1,
    "10m0.5s": 600.5,
    "1s500ms": 1.5,
}
# Strings no duration field takes: other units, signs, spaces, bare numbers as text,
# half-written numbers, non-ASCII digits.
BAD = [
    "90",
    "5",
    ".5s",
    "5.s",
    "1ns",
    "1us",
    "1µs",
    "1d",
    "1H",
    "-1s",
    "+1s",
    " 90s",
    "90s ",
    "1h 30m",
    "ten minutes",
    "5min",
    "m5",
    "s",
    "1e3s",
    "٣s",
    "0x10s",
]
# "" means "none" and only optional fields take it.
OPTIONAL_ONLY = [""]
TABLE = [*GOOD, *BAD, *OPTIONAL_ONLY]

SCHEMA = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
STRICT = TypeAdapter(Duration)
OPTIONAL = TypeAdapter(OptionalDuration)

# Where the helm render puts the string: (values path, optional?).
COLD_START = "/models/0/timeouts/coldStart"  # hand-written `duration`
REQUEST = "/models/0/timeouts/request"  # hand-written `optionalDuration`
CACHE_TTL = "/gateway/config/cache/ttl"  # generated from GatewaySettings (Duration)
HELM_FIELDS = {COLD_START: False, REQUEST: True, CACHE_TTL: False}


def _python_accepts(text: str, optional: bool) -> bool:
    try:
        (OPTIONAL if optional else STRICT).validate_python(text)
    except ValidationError:
        return False
    return True


def _generated_duration_patterns() -> set[str]:
    """Patterns of every duration in the generated config fragments (a string branch beside a number)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            branches = node.get("anyOf", [])
            types = {b.get("type") for b in branches if isinstance(b, dict)}
            if {"number", "string"} <= types:
                found.update(b["pattern"] for b in branches if b.get("type") == "string" and "pattern" in b)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for component in ("gateway", "worker", "warmup"):
        walk(SCHEMA["properties"][component]["properties"]["config"])
    return found


def test_schema_patterns_are_the_python_grammar() -> None:
    definitions = SCHEMA["definitions"]
    assert definitions["duration"]["pattern"] == DURATION_PATTERN
    assert definitions["optionalDuration"]["pattern"] == OPTIONAL_DURATION_PATTERN
    generated = _generated_duration_patterns()
    assert generated, "no duration found in the generated config schemas"
    assert generated <= {DURATION_PATTERN, OPTIONAL_DURATION_PATTERN}, "run `make docs`"


@pytest.mark.parametrize("text", TABLE)
def test_python_parser_and_schema_patterns_agree(text: str) -> None:
    for optional, pattern in ((False, DURATION_PATTERN), (True, OPTIONAL_DURATION_PATTERN)):
        expected = text in GOOD or (optional and text in OPTIONAL_ONLY)
        assert _python_accepts(text, optional) is expected, (text, optional)
        # jsonschema's `pattern` is a search, not a full match: the anchors must do the work.
        assert (re.search(pattern, text) is not None) is expected, (text, pattern)
    if text in GOOD:
        assert STRICT.validate_python(text) == pytest.approx(GOOD[text])


def _helm_schema_rejections(text: str, tmp_path: Path) -> set[str]:
    """The HELM_FIELDS paths helm's schema check refuses with `text` in each of them."""
    values = {
        "models": [model("m", timeouts={"coldStart": text, "request": text})],
        "gateway": {"config": {"cache": {"ttl": text}}},
    }
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values, allow_unicode=True), encoding="utf-8")
    proc = subprocess.run(
        [helm(), "template", "r", str(CHART), "-f", str(path)], capture_output=True, text=True, check=False
    )
    if "don't meet the specifications of the schema" not in proc.stderr:
        return set()  # schema passed (a cross-field rule may still refuse, e.g. a cold start of 0)
    return {field for field in HELM_FIELDS if f"at '{field}'" in proc.stderr}


@pytest.mark.parametrize("text", TABLE)
def test_helm_schema_accepts_exactly_what_python_accepts(text: str, tmp_path: Path) -> None:
    rejected = _helm_schema_rejections(text, tmp_path)
    expected = {field for field, optional in HELM_FIELDS.items() if not _python_accepts(text, optional)}
    assert rejected == expected, text


def test_chart_duration_seconds_rounds_up_python_seconds(tmp_path: Path) -> None:
    # A throwaway chart holding the real chart's helper file and one template that prints the
    # helper's answer for every good string, in order.
    chart = tmp_path / "durations"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: durations\nversion: 0.0.0\n", encoding="utf-8")
    shutil.copy(CHART / "templates" / "_models.tpl", chart / "templates" / "_models.tpl")
    (chart / "templates" / "seconds.yaml").write_text(
        'seconds:\n{{- range .Values.durations }}\n  - {{ include "llmaz-serverless.durationSeconds" . }}\n'
        "{{- end }}\n",
        encoding="utf-8",
    )
    (chart / "values.yaml").write_text(yaml.safe_dump({"durations": list(GOOD)}), encoding="utf-8")
    proc = subprocess.run([helm(), "template", "r", str(chart)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    rendered = next(d for d in yaml.safe_load_all(proc.stdout) if d)["seconds"]
    expected = [math.ceil(seconds) for seconds in GOOD.values()]
    assert rendered == expected
    assert [duration_seconds(text) for text in GOOD] == expected
