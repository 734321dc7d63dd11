"""One concept, four forms: a settings field as YAML key, CLI flag, env var and attribute.

For a section model such as `GatewaySettings`, the field `cache.ttl` is
- YAML key `gateway.cache.ttl` in runtime.yaml (camelCase: `cache.maxEntryBytes`),
- flag `--cache-ttl` (`--cache-max-entry-bytes`),
- env var `LLMAZ_SERVERLESS_GATEWAY__CACHE__TTL` (`..._CACHE__MAX_ENTRY_BYTES`),
- attribute `settings.cache.ttl`.
Precedence: flag > env > file > default. Nothing here is gateway-specific: any
component's section model works (the emulator's CLI uses it too).
"""

from __future__ import annotations

import argparse
import os
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

_DEST_PREFIX = "override__"


@dataclass(frozen=True)
class Leaf:
    """A scalar field of a (nested) settings model."""

    path: tuple[str, ...]  # snake_case attribute names
    aliases: tuple[str, ...]  # camelCase YAML keys
    annotation: Any

    @property
    def flag(self) -> str:
        return "--" + "-".join(p.replace("_", "-") for p in self.path)

    def env(self, prefix: str) -> str:
        return prefix + "__".join(p.upper() for p in self.path)

    @property
    def key(self) -> str:
        return ".".join(self.aliases)

    @property
    def is_bool(self) -> bool:
        return _strip_optional(self.annotation) is bool

    def coerce(self, value: Any) -> Any:
        """Flags and env vars are strings; durations take "90s" or a bare number of seconds."""
        if isinstance(value, str) and _strip_optional(self.annotation) is float:
            try:
                return float(value)
            except ValueError:
                return value  # a duration such as "90s": the field's own validator parses it
        return value


def _strip_optional(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    if origin is typing.Annotated:
        return _strip_optional(args[0])
    return annotation


def _submodel(annotation: Any) -> type[BaseModel] | None:
    inner = _strip_optional(annotation)
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


def _is_scalar(annotation: Any) -> bool:
    inner = _strip_optional(annotation)
    return inner in (str, int, float, bool) or typing.get_origin(inner) is typing.Literal


def leaves(
    model: type[BaseModel], path: tuple[str, ...] = (), aliases: tuple[str, ...] = ()
) -> Iterator[Leaf]:
    """Every scalar field, depth first; lists and maps are file-only (no flag or env form)."""
    for name, field in model.model_fields.items():
        alias = field.alias or name
        sub = _submodel(field.annotation)
        if sub is not None:
            yield from leaves(sub, (*path, name), (*aliases, alias))
        elif _is_scalar(field.annotation):
            yield Leaf((*path, name), (*aliases, alias), field.annotation)


def add_flags(parser: argparse.ArgumentParser | Any, model: type[BaseModel], env_prefix: str = "") -> None:
    """Add one flag per scalar field; unset flags do not override anything."""
    for leaf in leaves(model):
        help_text = f"overrides `{leaf.key}`" + (f" (env {leaf.env(env_prefix)})" if env_prefix else "")
        dest = _DEST_PREFIX + "__".join(leaf.path)
        if leaf.is_bool:
            parser.add_argument(leaf.flag, dest=dest, action=argparse.BooleanOptionalAction, default=None,
                                help=help_text)  # fmt: skip
        elif typing.get_origin(inner := _strip_optional(leaf.annotation)) is typing.Literal:
            parser.add_argument(leaf.flag, dest=dest, default=None, choices=typing.get_args(inner),
                                help=help_text)  # fmt: skip
        else:
            parser.add_argument(leaf.flag, dest=dest, default=None, metavar="VALUE", help=help_text)


def _set(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        node = tree.get(key)
        if not isinstance(node, dict):
            node = {}
            tree[key] = node
        tree = node
    tree[path[-1]] = value


def overrides_from_args(model: type[BaseModel], args: argparse.Namespace) -> dict[str, Any]:
    """The flags the user set, as a nested dict keyed by YAML (camelCase) names."""
    tree: dict[str, Any] = {}
    for leaf in leaves(model):
        value = getattr(args, _DEST_PREFIX + "__".join(leaf.path), None)
        if value is not None:
            _set(tree, leaf.aliases, leaf.coerce(value))
    return tree


def overrides_from_env(
    model: type[BaseModel], prefix: str, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Env vars under `prefix` as a nested dict; an unknown name is an error that lists the valid ones."""
    environ = os.environ if environ is None else environ
    known = {leaf.env(prefix): leaf for leaf in leaves(model)}
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(prefix):
            continue
        leaf = known.get(name)
        if leaf is None:
            raise ValueError(
                f"environment variable {name} matches no setting; valid names: {', '.join(sorted(known))}"
            )
        _set(tree, leaf.aliases, leaf.coerce(value))
    return tree


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of nested dicts; `over` wins. Give both the same key style (see `to_aliases`)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def to_aliases(model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite snake_case keys of a settings dict to their camelCase aliases (so merges line up)."""
    out: dict[str, Any] = {}
    by_name = {
        name: (field.alias or name, _submodel(field.annotation)) for name, field in model.model_fields.items()
    }
    for key, value in data.items():
        alias, sub = by_name.get(key, (key, None))
        if sub is None:
            sub = next((s for a, s in by_name.values() if a == key), None)
        out[alias] = to_aliases(sub, value) if sub is not None and isinstance(value, Mapping) else value
    return out
