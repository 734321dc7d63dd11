"""Merge values the way Helm does, keeping each value's mark.

Helm (pkg/cli/values) merges the `-f` files left to right: mappings merge
key by key, anything else (scalars and whole lists) is replaced by the
later file. `--set` is applied on top. The result is then coalesced with
the chart's own values.yaml: user values win, and a user `null` deletes the
chart default. The marks follow the value that won, so an error points at
the file and line the user has to edit.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from llmaz_serverless.values.loader import LoadedValues, Mark, MarkTree
from llmaz_serverless.values.messages import Path


class SetSyntaxError(ValueError):
    """A `--set` expression Helm would not accept either."""


@dataclass
class MergedValues:
    """The values Helm would render with, and where each one came from."""

    data: dict[str, Any]
    marks: MarkTree
    duplicate_keys: list[tuple[Path, Mark]] = field(default_factory=list)

    def mark(self, path: Path) -> Mark | None:
        return self.marks.find(path)


def _merge_into(dst: dict[str, Any], dst_marks: MarkTree, src: dict[str, Any], src_marks: MarkTree) -> None:
    """Helm's mergeMaps: later wins, maps merge recursively, lists and scalars are replaced."""
    for key, value in src.items():
        sub_marks = src_marks.children.get(key, MarkTree())
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            target = dst_marks.children.setdefault(key, MarkTree())
            if sub_marks.mark is not None:
                target.mark = sub_marks.mark
            _merge_into(dst[key], target, value, sub_marks)
        else:
            dst[key] = copy.deepcopy(value)
            dst_marks.children[key] = copy.deepcopy(sub_marks)


def _coalesce(defaults: dict[str, Any], d_marks: MarkTree, user: dict[str, Any], u_marks: MarkTree) -> None:
    """Helm's coalesceValues on `user` in place: fill in defaults, drop keys the user set to null."""
    for key, default in defaults.items():
        if key in user:
            if user[key] is None:
                del user[key]
                u_marks.children.pop(key, None)
            elif isinstance(user[key], dict) and isinstance(default, dict):
                _coalesce(
                    default,
                    d_marks.children.get(key, MarkTree()),
                    user[key],
                    u_marks.children.setdefault(key, MarkTree()),
                )
            # a user scalar over a default mapping: Helm warns and keeps the user's value
        else:
            user[key] = copy.deepcopy(default)
            u_marks.children[key] = copy.deepcopy(d_marks.children.get(key, MarkTree()))


def merge_values(
    defaults: LoadedValues | None, layers: list[LoadedValues], set_values: list[str] | None = None
) -> MergedValues:
    """Chart defaults + `-f` layers (in order) + `--set` expressions, as Helm computes them."""
    data: dict[str, Any] = {}
    marks = MarkTree()
    duplicates: list[tuple[Path, Mark]] = []
    for layer in layers:
        _merge_into(data, marks, layer.data, layer.marks)
        duplicates.extend(layer.duplicate_keys)
    for expression in set_values or []:
        apply_set(data, marks, expression)
    if defaults is not None:
        _coalesce(defaults.data, defaults.marks, data, marks)
        duplicates = list(defaults.duplicate_keys) + duplicates
        if marks.mark is None:
            marks.mark = defaults.marks.mark
    return MergedValues(data, marks, duplicates)


# --- --set -------------------------------------------------------------------------------------

_INDEX = re.compile(r"^(.*?)\[(\d+)\]$")


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, escaped, depth = [], "", False, 0
    for char in text:
        if escaped:
            current += char if char in (sep, "\\", "[", "]", "{", "}", "=") else "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "{":
            depth += 1
            current += char
        elif char == "}":
            depth = max(0, depth - 1)
            current += char
        elif char == sep and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if escaped:
        current += "\\"
    parts.append(current)
    return parts


def typed_value(text: str) -> Any:
    """Helm's strvals typing: true/false, null, integers (no leading zero); everything else a string."""
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if text == "0":
        return 0
    if re.fullmatch(r"-?[1-9]\d*", text):
        return int(text)
    return text


def _parse_key(key: str) -> list[str | int]:
    if not key:
        raise SetSyntaxError("empty key")
    path: list[str | int] = []
    for segment in _split_unescaped(key, "."):
        indexes: list[int] = []
        while True:
            match = _INDEX.match(segment)
            if not match:
                break
            segment, index = match.group(1), int(match.group(2))
            indexes.insert(0, index)
        if segment == "" and not indexes:
            raise SetSyntaxError(f"empty segment in key {key!r}")
        if segment:
            path.append(segment)
        path.extend(indexes)
    return path


def apply_set(data: dict[str, Any], marks: MarkTree, expression: str) -> None:
    """Apply one `--set a.b[0]=v,c=w` expression to data in place."""
    for assignment in _split_unescaped(expression, ","):
        if not assignment:
            continue
        if "=" not in assignment:
            raise SetSyntaxError(f"--set {assignment!r}: expected key=value")
        key, raw = assignment.split("=", 1)
        path = _parse_key(key)
        if raw.startswith("{") and raw.endswith("}"):
            value: Any = [typed_value(v) for v in _split_unescaped(raw[1:-1], ",") if v != ""]
        else:
            value = typed_value(raw)
        _assign(data, marks, path, value, Mark(f"--set {key}", 0))


def _assign(data: Any, marks: MarkTree, path: list[str | int], value: Any, mark: Mark) -> None:
    node: Any = data
    tree = marks
    for i, part in enumerate(path):
        last = i == len(path) - 1
        nxt = None if last else path[i + 1]
        fresh: Any = value if last else ([] if isinstance(nxt, int) else {})
        if isinstance(part, int):
            if not isinstance(node, list):
                raise SetSyntaxError(f"--set: {part} indexes something that is not a list")
            while len(node) <= part:
                node.append(None)
            if last or not isinstance(node[part], dict | list):
                node[part] = fresh
        else:
            if not isinstance(node, dict):
                raise SetSyntaxError(f"--set: key {part!r} is under something that is not a mapping")
            if last or not isinstance(node.get(part), dict | list):
                node[part] = fresh
        tree = tree.children.setdefault(part, MarkTree())
        if last:
            tree.children.clear()
            tree.mark = mark
        node = node[part]
