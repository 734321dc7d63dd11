"""Turn jsonschema errors into sentences a person can act on.

Every explanation names the field (`models[0].scaling.cooldownPeriod`),
what is wrong, the value that was found and a fix. jsonschema's own
messages (`'x' is not of type 'integer'`) say none of that for a human
reading a values file, so each validator keyword gets its own wording here.
Used for values files (against the chart's values.schema.json) and for
rendered objects (against the Kubernetes and CRD schemas) alike.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

PathPart = str | int
Path = tuple[PathPart, ...]

_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_MAX_SHOWN = 160


@dataclass(frozen=True)
class Explanation:
    """One problem: where, what, the value found and how to fix it."""

    path: Path
    what: str
    got: str | None = None
    fix: str | None = None

    def sentence(self) -> str:
        """`path.to.field: what is wrong (got X); fix: ...`"""
        text = f"{format_path(self.path)}: {self.what}"
        if self.got is not None:
            text += f" (got {self.got})"
        if self.fix:
            text += f"; fix: {self.fix}"
        return text


def format_path(path: Sequence[PathPart]) -> str:
    """`models[0].scaling."a.b/c"`; `(root)` for the document itself."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE_KEY.match(part):
            out += f".{part}" if out else part
        else:
            quoted = '"' + part.replace('"', '\\"') + '"'
            out += f".{quoted}" if out else quoted
    return out or "(root)"


def show(value: Any) -> str:
    """A value as the user wrote it in YAML, shortened for one line."""
    if value is None:
        text = "null"
    elif value is True:
        text = "true"
    elif value is False:
        text = "false"
    elif isinstance(value, str):
        text = '"' + value + '"'
    elif isinstance(value, dict):
        text = (
            "a mapping {"
            + ", ".join(str(k) for k in list(value)[:6])
            + (", ..." if len(value) > 6 else "")
            + "}"
        )
    elif isinstance(value, list):
        text = f"a list of {len(value)} item" + ("" if len(value) == 1 else "s")
    else:
        text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


# YAML's word for each Python type a loaded document holds. bool comes before int: True is an int too.
_YAML_TYPE_WORDS: tuple[tuple[type, str], ...] = (
    (type(None), "null"),
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (dict, "mapping"),
    (list, "list"),
)


def yaml_type(value: Any) -> str:
    return next((word for kind, word in _YAML_TYPE_WORDS if isinstance(value, kind)), type(value).__name__)


_JSON_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt key or value, if one is close enough."""
    options = [c for c in candidates if isinstance(c, str)]
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return close[0]
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def _hint(schema: Any) -> str | None:
    """First sentence of a schema description, as a pointer when no better fix exists."""
    if not isinstance(schema, dict):
        return None
    text = schema.get("description")
    if not isinstance(text, str) or not text.strip():
        return None
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return first if len(first) <= _MAX_SHOWN else first[: _MAX_SHOWN - 3] + "..."


def _allowed_keys(schema: dict[str, Any]) -> list[str]:
    return sorted(schema.get("properties", {}))


def _unexpected_keys(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    allowed = set(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    return [k for k in instance if k not in allowed and not any(p.search(str(k)) for p in patterns)]


def _required_only(subschemas: Sequence[Any]) -> list[list[str]] | None:
    """[[port], [portName]] when every branch only says `required: [...]`."""
    groups = []
    for sub in subschemas:
        if not isinstance(sub, dict) or set(sub) != {"required"}:
            return None
        groups.append(list(sub["required"]))
    return groups


# Keys that moved in an earlier release: the fix names their new place instead of "remove it".
# The schema refuses them and `explain` below names the new place. A key renamed inside a
# component's `config` (CONFIG_RENAMES) is the exception: helm's own schema error cannot name
# the new place, so the generated config schema lets it through and the `values/moved-key`
# rule refuses it (release_rules.py; the chart's `movedKeys` in _validate.tpl lists the same
# pairs). Upgrade notes: the chart README, "Upgrading".
MOVED_KEYS: dict[tuple[str, ...], str] = {
    # The chart owns these now and writes them into the runtime config itself.
    ("worker", "config", "broker"): "worker.broker",
    ("worker", "config", "nats"): "worker.nats",
    # One backoff shape (initial, max, multiplier, jitter) for every component.
    ("gateway", "config", "upstream", "retryBackoff"): "gateway.config.upstream.backoff.initial",
    ("gateway", "config", "upstream", "retryBackoffMax"): "gateway.config.upstream.backoff.max",
    ("warmup", "config", "backoff", "base"): "warmup.config.backoff.initial",
}
CONFIG_RENAMES: dict[tuple[str, ...], str] = {
    path: new
    for path, new in MOVED_KEYS.items()
    if path[1:2] == ("config",) and new.startswith(f"{path[0]}.config.")
}


def _join(names: Iterable[str]) -> str:
    return ", ".join(names)


# Long on purpose: one branch per JSON-schema keyword, each a few lines that turn that keyword's
# error into a sentence and a fix; read as one table it shows which keywords have their own wording.
def explain(error: ValidationError) -> list[Explanation]:
    """All explanations for one jsonschema error (an additionalProperties error can name several keys)."""
    path: Path = tuple(error.absolute_path)
    keyword = error.validator
    instance = error.instance
    value = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}

    if keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = _allowed_keys(schema)
        out = []
        for key in _unexpected_keys(instance, schema):
            guess = did_you_mean(str(key), allowed)
            moved = MOVED_KEYS.get(tuple(str(p) for p in (*path, key)))
            if moved:
                fix = f"this setting moved to `{moved}`: set it there"
            elif guess:
                fix = f"did you mean `{guess}`?"
            elif allowed:
                fix = f"remove it; allowed keys here: {_join(allowed)}"
            else:
                fix = "remove it; no keys are allowed here"
            out.append(Explanation((*path, key), "unknown key", show(key), fix))
        if out:
            return out
        return [Explanation(path, error.message)]

    if keyword == "type":
        expected: list[str] = value if isinstance(value, list) else [value]
        expected = [t for t in expected if t != "null"] or expected
        words = " or ".join(_JSON_TYPE_WORDS.get(t, t) for t in expected)
        if "string" in expected and isinstance(instance, bool | int | float) and instance is not None:
            fix = f'quote it: "{show(instance)}"'
        elif isinstance(instance, str) and ("integer" in expected or "number" in expected):
            if re.fullmatch(r"[-+]?\d+(\.\d+)?", instance.strip()):
                fix = f"drop the quotes: {instance.strip()}"
            else:
                fix = f"write {words}" + (f" ({_hint(schema)})" if _hint(schema) else "")
        elif instance is None:
            fix = f"set {words} or delete the key to take the chart default"
        elif "boolean" in expected and isinstance(instance, str):
            fix = "write true or false without quotes"
        else:
            fix = _hint(schema) or f"write {words}"
        return [Explanation(path, f"must be {words}, not {yaml_type(instance)}", show(instance), fix)]

    if keyword == "enum":
        options = list(value)
        guess = did_you_mean(str(instance), [str(o) for o in options]) if isinstance(instance, str) else None
        fix = f"did you mean {show(guess)}?" if guess else f"use one of: {_join(show(o) for o in options)}"
        return [Explanation(path, "is not one of the allowed values", show(instance), fix)]

    if keyword == "const":
        return [Explanation(path, f"must be {show(value)}", show(instance), f"set it to {show(value)}")]

    if keyword == "required":
        missing = [k for k in value if isinstance(instance, dict) and k not in instance]
        return [
            Explanation((*path, key), "is required but missing", None, _required_fix(key, schema))
            for key in missing
        ] or [Explanation(path, error.message)]

    if keyword in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[keyword]
        fix = f"set a value {op} {value}"
        if _hint(schema):
            fix += f" ({_hint(schema)})"
        return [Explanation(path, f"must be {op} {value}", show(instance), fix)]

    if keyword == "minLength":
        what = "must not be empty" if value == 1 else f"must be at least {value} characters long"
        return [Explanation(path, what, show(instance), _hint(schema) or "set a non-empty value")]

    if keyword == "maxLength":
        return [
            Explanation(
                path, f"must be at most {value} characters long", f"{len(instance)} characters", "shorten it"
            )
        ]

    if keyword == "minItems":
        what = "must not be empty" if value == 1 else f"needs at least {value} items"
        return [Explanation(path, what, show(instance), _hint(schema) or f"add at least {value} item(s)")]

    if keyword == "maxItems":
        return [Explanation(path, f"allows at most {value} items", show(instance), f"keep {value} or fewer")]

    if keyword == "uniqueItems":
        seen: list[Any] = []
        dupes = []
        for item in instance:
            if item in seen and item not in dupes:
                dupes.append(item)
            seen.append(item)
        return [
            Explanation(path, "has duplicate items", _join(show(d) for d in dupes), "list each item once")
        ]

    if keyword == "pattern":
        fix = _hint(schema) or f"write a value matching {value}"
        return [Explanation(path, "has the wrong format", show(instance), fix)]

    if keyword == "format":
        return [Explanation(path, f"is not a valid {value}", show(instance), _hint(schema))]

    if keyword == "multipleOf":
        return [Explanation(path, f"must be a multiple of {value}", show(instance), None)]

    if keyword in ("oneOf", "anyOf"):
        groups = _required_only(value)
        present = [k for k in (instance if isinstance(instance, dict) else {})]
        if groups is not None:
            names = [_join(g) for g in groups]
            chosen = [n for n, g in zip(names, groups, strict=True) if all(k in present for k in g)]
            if keyword == "oneOf" and len(chosen) > 1:
                return [
                    Explanation(
                        path,
                        f"sets more than one of: {_join(names)}",
                        _join(chosen),
                        f"keep exactly one of {_join(names)}",
                    )
                ]
            need = "exactly one" if keyword == "oneOf" else "at least one"
            return [
                Explanation(path, f"needs {need} of: {_join(names)}", "none of them", f"set {need} of them")
            ]
        if keyword == "oneOf" and not error.context:
            return [
                Explanation(path, "matches more than one of the allowed forms", show(instance), _hint(schema))
            ]
        forms = [_describe_form(sub) for sub in value]
        if error.context and all(not e.relative_path for e in error.context) and all(forms):
            # Every branch judged the value itself: list the forms rather than guess one.
            inner = explain(best_match(error.context))[0]
            return [
                Explanation(path, f"must be {' or '.join(f for f in forms if f)}", show(instance), inner.fix)
            ]
        closest = _closest(error.context) if error.context else None
        if closest is not None:
            return explain(closest)
        return [Explanation(path, "does not match any allowed form", show(instance), _hint(schema))]

    if keyword == "not":
        if isinstance(value, dict) and set(value) == {"required"}:
            keys = list(value["required"])
            if len(keys) == 1:
                return [Explanation((*path, keys[0]), "must not be set here", None, "remove it")]
            return [
                Explanation(path, f"sets {_join(keys)} together", None, f"keep only one of {_join(keys)}")
            ]
        return [Explanation(path, "has a value that is not allowed here", show(instance), _hint(schema))]

    if keyword in ("dependentRequired", "dependencies") and isinstance(instance, dict):
        out = []
        for key, needs in (value or {}).items():
            if key in instance and isinstance(needs, list):
                for need in needs:
                    if need not in instance:
                        out.append(Explanation((*path, need), f"is required when `{key}` is set", None, None))
        if out:
            return out

    if keyword == "propertyNames" and error.context:
        return explain(best_match(error.context))

    return [Explanation(path, error.message, None, _hint(schema))]


def _closest(context: Sequence[ValidationError]) -> ValidationError | None:
    """The error of the branch the user most likely meant.

    A branch whose type did not even match (a list where a mapping was given)
    is the wrong branch; among the others the deepest error is the one to fix.
    jsonschema's best_match prefers shallow errors, which here means "must be
    a list" for a mapping with one bad field.
    """
    branches: dict[Any, list[ValidationError]] = {}
    for err in context:
        branches.setdefault(err.schema_path[0] if err.schema_path else None, []).append(err)
    plausible = [
        errs
        for errs in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errs)
    ]
    if plausible:
        candidates = [e for errs in plausible for e in errs]
        return max(candidates, key=lambda e: len(e.relative_path))
    return best_match(context)


def _describe_form(sub: Any) -> str | None:
    """`a string matching ^[0-9]+%$` for a simple branch of anyOf/oneOf; None when not simple."""
    if (
        not isinstance(sub, dict)
        or "type" not in sub
        or set(sub) - {"type", "pattern", "enum", "description"}
    ):
        return None
    types = sub["type"] if isinstance(sub["type"], list) else [sub["type"]]
    text = " or ".join(_JSON_TYPE_WORDS.get(t, str(t)) for t in types)
    if "pattern" in sub:
        text += f" matching {sub['pattern']}"
    if "enum" in sub:
        text += " (one of " + ", ".join(show(v) for v in sub["enum"]) + ")"
    return text


def _required_fix(key: str, parent_schema: dict[str, Any]) -> str:
    sub = parent_schema.get("properties", {}).get(key)
    hint = _hint(sub)
    return f"add `{key}`" + (f" ({hint})" if hint else "")
