"""`validate`: load, merge, schema-check and rule-check values files; report every problem at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmaz_serverless.values.loader import LoadedValues, Mark, ValuesFileError, load_file
from llmaz_serverless.values.merge import MergedValues, SetSyntaxError, merge_values
from llmaz_serverless.values.messages import Explanation, format_path
from llmaz_serverless.values.rules import ERROR, WARNING, run_rules
from llmaz_serverless.values.schema import chart_validator, schema_problems

SCHEMA_RULE = "schema"
YAML_RULE = "yaml/duplicate-key"
INTERNAL_RULE = "internal"


@dataclass(frozen=True)
class Problem:
    """One reported problem: rule id, severity, explanation and where to edit."""

    rule: str
    severity: str
    explanation: Explanation
    mark: Mark | None

    def text(self) -> str:
        where = f"{self.mark}: " if self.mark else ""
        return f"{where}{self.severity}: {self.explanation.sentence()} [{self.rule}]"

    def as_dict(self) -> dict[str, Any]:
        exp = self.explanation
        return {
            "rule": self.rule,
            "severity": self.severity,
            "path": format_path(exp.path),
            "message": exp.what,
            "got": exp.got,
            "fix": exp.fix,
            "file": self.mark.file if self.mark else None,
            "line": self.mark.line if self.mark and self.mark.line else None,
            "text": exp.sentence(),
        }


@dataclass
class Report:
    """The outcome of one `validate` run."""

    files: list[str]
    chart: str
    problems: list[Problem] = field(default_factory=list)
    merged: MergedValues | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    def ok(self, strict: bool = False) -> bool:
        return not self.errors and not (strict and self.warnings)

    def as_dict(self, strict: bool = False) -> dict[str, Any]:
        return {
            "valid": self.ok(strict),
            "chart": self.chart,
            "files": self.files,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [p.as_dict() for p in self.problems],
        }


def _order(problem: Problem, files: list[str]) -> tuple[int, int, str]:
    mark = problem.mark
    rank = files.index(mark.file) if mark and mark.file in files else len(files)
    return rank, mark.line if mark else 0, format_path(problem.explanation.path)


def validate_values(
    files: list[Path],
    chart: Path,
    set_values: list[str] | None = None,
    skip_rules: set[str] | None = None,
    with_defaults: bool = True,
) -> Report:
    """Everything wrong with `files` (+ `--set`) for `chart`.

    Raises ValuesFileError / SetSyntaxError / ChartSchemaError for input that
    cannot be read at all (a usage error, not an invalid configuration).
    """
    defaults_path = chart / "values.yaml"
    defaults: LoadedValues | None = (
        load_file(defaults_path) if with_defaults and defaults_path.exists() else None
    )
    layers = [load_file(f) for f in files]
    merged = merge_values(defaults, layers, set_values)
    order = [str(f) for f in files] + ([str(defaults_path)] if defaults else [])
    report = Report(files=[str(f) for f in files], chart=str(chart), merged=merged)

    for path, mark in merged.duplicate_keys:
        report.problems.append(
            Problem(
                YAML_RULE,
                WARNING,
                Explanation(
                    path, "is written twice in one mapping; only the last one counts", None, "keep one"
                ),
                mark,
            )
        )
    validator = chart_validator(chart)
    for explanation in schema_problems(validator, merged.data):
        report.problems.append(Problem(SCHEMA_RULE, ERROR, explanation, merged.mark(explanation.path)))
    found, broken = run_rules(merged, skip_rules)
    for rule, finding in found:
        report.problems.append(Problem(rule.id, finding.severity, finding.explanation, finding.mark))
    for message in broken:
        report.problems.append(Problem(INTERNAL_RULE, WARNING, Explanation((), message), None))
    report.problems.sort(key=lambda p: _order(p, order))
    return report


__all__ = ["Problem", "Report", "SetSyntaxError", "ValuesFileError", "validate_values"]
