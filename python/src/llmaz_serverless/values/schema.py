"""Check merged values against the chart's values.schema.json, read at run time.

The schema is the chart's own file (what `helm install` enforces), never a
copy: a field added to the chart is validated here the moment it exists.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import relevance

from llmaz_serverless.values.messages import Explanation, explain

SCHEMA_FILE = "values.schema.json"


class ChartSchemaError(ValueError):
    """The chart has no usable values.schema.json."""


@cache
def _compiled(path: str, mtime_ns: int) -> jsonschema.protocols.Validator:
    try:
        with open(path, encoding="utf-8") as handle:
            schema = json.load(handle)
    except FileNotFoundError as err:
        raise ChartSchemaError(f"{path}: not found; is --chart a chart directory?") from err
    except json.JSONDecodeError as err:
        raise ChartSchemaError(f"{path}:{err.lineno}: not valid JSON: {err.msg}") from err
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as err:
        raise ChartSchemaError(f"{path}: not a valid JSON schema: {err.message}") from err
    return cls(schema)


def chart_validator(chart: Path) -> jsonschema.protocols.Validator:
    path = chart / SCHEMA_FILE
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError as err:
        raise ChartSchemaError(f"{path}: not found; is {chart} a chart directory?") from err
    return _compiled(str(path), mtime)


def schema_problems(validator: jsonschema.protocols.Validator, values: Any) -> list[Explanation]:
    """Every schema problem of `values`, most specific first within a path."""
    out: list[Explanation] = []
    errors = sorted(
        validator.iter_errors(values), key=lambda e: (list(map(str, e.absolute_path)), relevance(e))
    )
    for error in errors:
        for item in explain(error):
            if item not in out:
                out.append(item)
    return out
