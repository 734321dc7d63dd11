"""Request templates: build a job's request body from an event.

A template is any JSON value. Strings in it may hold `${path}` placeholders,
where `path` walks the event document (attributes at the top, payload under
`data`): `${id}`, `${subject}`, `${data.prompt}`, `${data.files.0.url}`.

- A string that is exactly one placeholder is replaced by the value with its
  JSON type, so `messages: "${data.messages}"` copies a whole array and
  `max_tokens: "${data.maxTokens}"` stays a number.
- A placeholder inside a longer string is replaced by its text (JSON for
  objects and arrays).
- `$${` writes a literal `${`.
- A path missing from the event fails the action with the path named: a job
  built from half an event is worse than no job.

Mapping keys are never templated. `${...}` (not `{{ }}`) so Helm leaves the
templates alone when it renders values into the runtime config.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmaz_serverless.events.patterns import ATTRIBUTE_NAME, DATA

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_SEGMENT = re.compile(r"^[A-Za-z0-9_\-]+$")


class TemplateError(ValueError):
    """A template that cannot be compiled or rendered; names the place and the path."""


@dataclass(frozen=True)
class _Placeholder:
    path: tuple[str, ...]

    @property
    def text(self) -> str:
        return "${" + ".".join(self.path) + "}"


@dataclass(frozen=True)
class _Text:
    """A string split into literal parts and placeholders."""

    parts: tuple[str | _Placeholder, ...]
    where: str


@dataclass(frozen=True)
class Template:
    """A compiled template; `render(document)` returns a fresh JSON value."""

    root: Any

    def render(self, document: Mapping[str, Any]) -> Any:
        return _render(self.root, document)

    @property
    def paths(self) -> list[str]:
        """Every placeholder path, for docs and `events test` output."""
        found: list[str] = []
        _collect(self.root, found)
        return found


def compile_template(raw: Any, where: str) -> Template:
    return Template(_compile(raw, where))


def _compile(raw: Any, where: str) -> Any:
    if isinstance(raw, str):
        return _compile_text(raw, where)
    if isinstance(raw, Mapping):
        return {str(k): _compile(v, f"{where}.{k}") for k, v in raw.items()}
    if isinstance(raw, list):
        return [_compile(v, f"{where}[{i}]") for i, v in enumerate(raw)]
    if raw is None or isinstance(raw, bool | int | float):
        return raw
    raise TemplateError(f"{where}: {type(raw).__name__} is not a JSON value")


def _compile_text(text: str, where: str) -> str | _Text:
    parts: list[str | _Placeholder] = []
    pos = 0
    literal = ""
    for m in _TOKEN.finditer(text):
        literal += text[pos : m.start()]
        pos = m.end()
        if m.group(0) == "$${":
            literal += "${"
            continue
        if literal:
            parts.append(literal)
            literal = ""
        parts.append(_Placeholder(_parse_path(m.group(1), where)))
    literal += text[pos:]
    if "${" in text[pos:]:
        raise TemplateError(
            f"{where}: unclosed placeholder in {text!r}; write ${{path}}, or $${{ for a literal ${{"
        )
    if literal:
        parts.append(literal)
    if not any(isinstance(p, _Placeholder) for p in parts):
        return "".join(p for p in parts if isinstance(p, str))
    return _Text(tuple(parts), where)


def _parse_path(expr: str, where: str) -> tuple[str, ...]:
    segments = tuple(expr.strip().split("."))
    if not expr.strip() or not all(_SEGMENT.match(s) for s in segments):
        raise TemplateError(
            f"{where}: bad placeholder ${{{expr}}}; use a dotted path such as ${{data.prompt}} "
            "or ${data.files.0.url} (letters, digits, _ and - per segment)"
        )
    head = segments[0]
    if head != DATA and not ATTRIBUTE_NAME.match(head):
        raise TemplateError(
            f"{where}: ${{{expr}}} must start with an event attribute (id, source, type, subject, "
            "time, an extension) or `data`"
        )
    return segments


def _lookup(document: Any, path: tuple[str, ...], where: str) -> Any:
    node = document
    for i, key in enumerate(path):
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            missing = ".".join(path[: i + 1])
            raise TemplateError(f"{where}: the event has no `{missing}` (needed by ${{{'.'.join(path)}}})")
    return node


def _render(node: Any, document: Mapping[str, Any]) -> Any:
    if isinstance(node, _Text):
        if len(node.parts) == 1 and isinstance(node.parts[0], _Placeholder):
            return _copy(_lookup(document, node.parts[0].path, node.where))
        out = []
        for part in node.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = _lookup(document, part.path, node.where)
            out.append(value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
        return "".join(out)
    if isinstance(node, dict):
        return {k: _render(v, document) for k, v in node.items()}
    if isinstance(node, list):
        return [_render(v, document) for v in node]
    return node


def _copy(value: Any) -> Any:
    # The document belongs to the event; the rendered request must not alias it.
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _collect(node: Any, found: list[str]) -> None:
    if isinstance(node, _Text):
        found.extend(p.text[2:-1] for p in node.parts if isinstance(p, _Placeholder))
    elif isinstance(node, dict):
        for v in node.values():
            _collect(v, found)
    elif isinstance(node, list):
        for v in node:
            _collect(v, found)
