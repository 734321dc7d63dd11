"""Event patterns: which events a rule reacts to.

A pattern is a mapping over the event as one JSON document: the CloudEvents
attributes (`type`, `source`, `subject`, extensions...) at the top level and
the event's JSON payload under `data`. Written like a cloud event bus rule:

    type: ["com.example.chat.session.opened"]          # one of these values
    source: [{prefix: "/chat-ui/"}]                    # starts with
    data:
      model: ["chat-8b", "chat-70b"]
      user:
        tier: [{anythingBut: ["free", "trial"]}]       # present, and none of these
        banned: [{exists: false}]                      # absent

Every field listed must match (AND); inside a field's list any entry may
match (OR). Nested mappings walk into `data`. When the walk meets an array it
looks inside every element, so `data.files.kind: ["pdf"]` matches if any
file is a pdf. Value comparison is type-strict (`"1"` is not `1`, `true` is
not `1`); binary-mode extension attributes arrive as strings, so match them
with strings.

Patterns are compiled once at load time; mistakes are reported with the
field's path and the fix, never at match time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Scalar = str | int | float | bool | None

# CloudEvents attribute names: lower-case letters and digits (spec section 3.1.1).
ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+$")
DATA = "data"


class PatternError(ValueError):
    """A pattern that cannot be compiled; the message names the path and the fix."""


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _same(a: Any, b: Scalar) -> bool:
    """Type-strict equality: bools only equal bools, numbers compare by value."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class Equals:
    value: Scalar

    def test(self, values: Sequence[Any]) -> bool:
        return any(_same(v, self.value) for v in values)

    def describe(self) -> str:
        return repr(self.value)


@dataclass(frozen=True)
class Prefix:
    prefix: str

    def test(self, values: Sequence[Any]) -> bool:
        return any(isinstance(v, str) and v.startswith(self.prefix) for v in values)

    def describe(self) -> str:
        return f"prefix {self.prefix!r}"


@dataclass(frozen=True)
class Exists:
    present: bool

    def test(self, values: Sequence[Any]) -> bool:
        return bool(values) == self.present

    def describe(self) -> str:
        return "exists" if self.present else "does not exist"


@dataclass(frozen=True)
class AnythingBut:
    """Present, and no value is one of `values` or starts with `prefix`."""

    values: tuple[Scalar, ...] = ()
    prefix: str | None = None

    def test(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        for v in values:
            if any(_same(v, bad) for bad in self.values):
                return False
            if self.prefix is not None and isinstance(v, str) and v.startswith(self.prefix):
                return False
        return True

    def describe(self) -> str:
        if self.prefix is not None:
            return f"anything but prefix {self.prefix!r}"
        return f"anything but {list(self.values)!r}"


Matcher = Equals | Prefix | Exists | AnythingBut


@dataclass(frozen=True)
class FieldTest:
    """One field of a pattern: its path in the event document and the alternatives."""

    path: tuple[str, ...]
    matchers: tuple[Matcher, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    def test(self, document: Mapping[str, Any]) -> bool:
        values = resolve(document, self.path)
        return any(m.test(values) for m in self.matchers)

    def describe(self) -> str:
        return " or ".join(m.describe() for m in self.matchers)


def resolve(document: Any, path: Sequence[str]) -> list[Any]:
    """Every value at `path`; arrays on the way (and at the end) are looked into.

    An empty list means the field is absent. A present `null` is `[None]`.
    """
    # Fast path: plain nested objects, the common case (matching runs per rule per event).
    node = document
    for key in path:
        if isinstance(node, dict):
            if key not in node:
                return []
            node = node[key]
        else:
            break
    else:
        return list(_flatten(node)) if isinstance(node, list) else [node]
    current: list[Any] = [document]
    for key in path:
        found: list[Any] = []
        for node in _flatten(current):
            if isinstance(node, Mapping) and key in node:
                found.append(node[key])
        current = found
        if not current:
            return []
    return list(_flatten(current))


def _flatten(values: Iterable[Any]) -> Iterable[Any]:
    for v in values:
        if isinstance(v, list):
            yield from _flatten(v)
        else:
            yield v


@dataclass(frozen=True)
class Pattern:
    """A compiled pattern: every field test must pass."""

    tests: tuple[FieldTest, ...]

    @property
    def matches_everything(self) -> bool:
        return not self.tests

    def matches(self, document: Mapping[str, Any]) -> bool:
        return all(t.test(document) for t in self.tests)

    def exact_values(self, attribute: str) -> tuple[Scalar, ...] | None:
        """The allowed values of a top-level attribute when they are plain values only
        (so a rule can be looked up by the event's `type`); None otherwise."""
        for t in self.tests:
            if t.path == (attribute,) and all(isinstance(m, Equals) for m in t.matchers):
                return tuple(m.value for m in t.matchers if isinstance(m, Equals))
        return None

    def first_mismatch(self, document: Mapping[str, Any]) -> FieldTest | None:
        """The first field that does not match (for `events test` and debug logs)."""
        return next((t for t in self.tests if not t.test(document)), None)


def compile_pattern(raw: Any, where: str = "pattern") -> Pattern:
    """Compile a pattern mapping. An empty mapping compiles to match-everything;
    whether that is allowed is the rule's decision (`matchAll`)."""
    if raw is None:
        return Pattern(())
    if not isinstance(raw, Mapping):
        raise PatternError(
            f"{where}: expected a mapping of event fields (type, source, data, ...), got {type(raw).__name__}"
        )
    tests: list[FieldTest] = []
    for key, value in raw.items():
        if not isinstance(key, str) or not ATTRIBUTE_NAME.match(key):
            raise PatternError(
                f"{where}.{key}: not a CloudEvents attribute name (lower-case letters and digits "
                f"only, e.g. type, source, subject, or an extension such as tenantid); "
                f"match payload fields under `data:`"
            )
        path = (key,)
        if key == DATA and isinstance(value, Mapping):
            tests.extend(_compile_mapping(value, path, f"{where}.{key}"))
        else:
            tests.append(_compile_field(value, path, f"{where}.{key}"))
    return Pattern(tuple(tests))


def _compile_mapping(raw: Mapping[Any, Any], path: tuple[str, ...], where: str) -> list[FieldTest]:
    if not raw:
        raise PatternError(
            f"{where}: an empty mapping constrains nothing; remove it or list the fields to match"
        )
    tests: list[FieldTest] = []
    for key, value in raw.items():
        if not isinstance(key, str) or key == "":
            raise PatternError(f"{where}: field names must be non-empty strings, got {key!r}")
        sub = (*path, key)
        if isinstance(value, Mapping):
            tests.extend(_compile_mapping(value, sub, f"{where}.{key}"))
        else:
            tests.append(_compile_field(value, sub, f"{where}.{key}"))
    return tests


def _compile_field(raw: Any, path: tuple[str, ...], where: str) -> FieldTest:
    if not isinstance(raw, list):
        hint = f"[{raw!r}]" if _is_scalar(raw) else "[value, {prefix: ...}, ...]"
        raise PatternError(f"{where}: expected a list of allowed values or matchers, e.g. {hint}")
    if not raw:
        raise PatternError(
            f"{where}: an empty list matches no event; list allowed values, "
            "or use [{exists: true}] / [{exists: false}]"
        )
    return FieldTest(path, tuple(_compile_matcher(item, f"{where}[{i}]") for i, item in enumerate(raw)))


_MATCHER_KEYS = ("prefix", "exists", "anythingBut")


def _compile_matcher(raw: Any, where: str) -> Matcher:
    if _is_scalar(raw):
        return Equals(raw)
    if not isinstance(raw, Mapping):
        raise PatternError(f"{where}: expected a value or one of {{prefix|exists|anythingBut: ...}}")
    if len(raw) != 1 or next(iter(raw)) not in _MATCHER_KEYS:
        keys = ", ".join(map(str, raw)) or "nothing"
        raise PatternError(
            f"{where}: a matcher has exactly one key, one of prefix, exists, anythingBut; got {keys}"
        )
    ((kind, arg),) = raw.items()
    if kind == "prefix":
        if not isinstance(arg, str) or not arg:
            raise PatternError(f"{where}.prefix: expected a non-empty string, got {arg!r}")
        return Prefix(arg)
    if kind == "exists":
        if not isinstance(arg, bool):
            raise PatternError(f"{where}.exists: expected true or false, got {arg!r}")
        return Exists(arg)
    return _compile_anything_but(arg, f"{where}.anythingBut")


def _compile_anything_but(arg: Any, where: str) -> AnythingBut:
    if _is_scalar(arg):
        return AnythingBut(values=(arg,))
    if isinstance(arg, list):
        if not arg:
            raise PatternError(f"{where}: an empty list excludes nothing; use [{{exists: true}}] instead")
        bad = [v for v in arg if not _is_scalar(v)]
        if bad:
            raise PatternError(f"{where}: expected a list of plain values, got {bad[0]!r}")
        return AnythingBut(values=tuple(arg))
    if isinstance(arg, Mapping) and set(arg) == {"prefix"}:
        prefix = arg["prefix"]
        if not isinstance(prefix, str) or not prefix:
            raise PatternError(f"{where}.prefix: expected a non-empty string, got {prefix!r}")
        return AnythingBut(prefix=prefix)
    raise PatternError(f"{where}: expected a value, a list of values or {{prefix: ...}}, got {arg!r}")
