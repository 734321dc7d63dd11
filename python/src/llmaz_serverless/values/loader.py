"""Load a values file and remember the file and line where each value was set.

The YAML is composed into nodes first (pyyaml keeps a start mark on every
node), then the node tree is walked once: each value is constructed and
its mark is stored in a `MarkTree` that mirrors the data. Later layers
(`merge.py`) graft their subtrees over earlier ones, so after merging the
tree still says which file set the value that won.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml

from llmaz_serverless.values.messages import Path, PathPart


class PlainLoader(yaml.SafeLoader):
    """SafeLoader that reads timestamps as strings, as Helm's Go YAML reader does.

    (`date: 2024-01-01` stays a string; pyyaml would make a datetime.date that
    jsonschema then calls "not a string".)
    """


PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Mark:
    """Where a value was set: `file:line` (1-based), or a `--set` flag."""

    file: str
    line: int  # 0 when there is no line (a --set value)
    column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class MarkTree:
    """Marks shaped like the values: `children` keyed by map key or list index."""

    mark: Mark | None = None
    children: dict[PathPart, MarkTree] = field(default_factory=dict)

    def find(self, path: Path) -> Mark | None:
        """Mark of `path`, or of its nearest ancestor that has one (a missing key points at its parent)."""
        node: MarkTree | None = self
        best = self.mark
        for part in path:
            node = node.children.get(part) if node else None
            if node is None:
                break
            if node.mark is not None:
                best = node.mark
        return best

    def get(self, path: Path) -> MarkTree | None:
        node: MarkTree | None = self
        for part in path:
            if node is None:
                return None
            node = node.children.get(part)
        return node


class ValuesFileError(ValueError):
    """A values file that cannot be read as a YAML mapping, with file and line."""

    def __init__(self, file: str, line: int, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")


@dataclass
class LoadedValues:
    """One values layer: the data, its marks, and keys written twice in one mapping."""

    data: dict[str, Any]
    marks: MarkTree
    source: str
    duplicate_keys: list[tuple[Path, Mark]] = field(default_factory=list)


def load_text(text: str, source: str) -> LoadedValues:
    """Parse one values document; raises ValuesFileError on bad YAML or a non-mapping root."""
    try:
        loader = PlainLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return LoadedValues({}, MarkTree(Mark(source, 1)), source)
            walker = _Walker(loader, source)
            data, marks = walker.walk(node, ())
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 0
        problem = err.problem or str(err)
        raise ValuesFileError(source, line, f"not valid YAML: {problem}") from err
    except yaml.YAMLError as err:
        raise ValuesFileError(source, 0, f"not valid YAML: {err}") from err
    if data is None:
        return LoadedValues({}, MarkTree(Mark(source, 1)), source)
    if not isinstance(data, dict):
        raise ValuesFileError(
            source,
            node.start_mark.line + 1,
            f"the top level must be a mapping of keys, not a {type(data).__name__}",
        )
    return LoadedValues(data, marks, source, walker.duplicates)


def load_file(path: str | FsPath) -> LoadedValues:
    path = FsPath(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ValuesFileError(str(path), 0, "no such file") from err
    except UnicodeDecodeError as err:
        raise ValuesFileError(str(path), 0, f"not UTF-8 text ({err.reason})") from err
    except OSError as err:
        raise ValuesFileError(str(path), 0, f"cannot read: {err.strerror}") from err
    return load_text(text, str(path))


class _Walker:
    """Builds data and MarkTree together from a composed node tree."""

    def __init__(self, loader: PlainLoader, source: str) -> None:
        self.loader = loader
        self.source = source
        self.duplicates: list[tuple[Path, Mark]] = []
        self._open: set[int] = set()  # nodes being walked: a recursive alias would never end

    def _mark(self, node: yaml.Node) -> Mark:
        return Mark(self.source, node.start_mark.line + 1, node.start_mark.column + 1)

    def walk(self, node: yaml.Node, path: Path) -> tuple[Any, MarkTree]:
        if id(node) in self._open:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "an alias refers to a mapping that contains it (recursive anchor)",
                node.start_mark,
            )
        self._open.add(id(node))
        try:
            return self._walk(node, path)
        finally:
            self._open.discard(id(node))

    def _walk(self, node: yaml.Node, path: Path) -> tuple[Any, MarkTree]:
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolves `<<:` merge keys like the constructor does
            data: dict[Any, Any] = {}
            tree = MarkTree(self._mark(node))
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool) or key is None:
                    raise yaml.constructor.ConstructorError(
                        None, None, "a mapping key must be a plain scalar", key_node.start_mark
                    )
                # Helm's Go YAML reader turns every key into a string.
                key = _key_text(key)
                if key in data:
                    self.duplicates.append(((*path, key), self._mark(key_node)))
                value, subtree = self.walk(value_node, (*path, key))
                # The key line is where a user writes `cooldownPeriod: 60`: point there.
                subtree.mark = self._mark(key_node)
                data[key] = value
                tree.children[key] = subtree
            return data, tree
        if isinstance(node, yaml.SequenceNode):
            items = []
            tree = MarkTree(self._mark(node))
            for index, item_node in enumerate(node.value):
                value, subtree = self.walk(item_node, (*path, index))
                items.append(value)
                tree.children[index] = subtree
            return items, tree
        return self.loader.construct_object(node, deep=True), MarkTree(self._mark(node))


def _key_text(key: Any) -> str:
    if key is True:
        return "true"
    if key is False:
        return "false"
    return str(key)
