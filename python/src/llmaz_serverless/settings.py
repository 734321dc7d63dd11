"""One settings layer for every component: gateway, worker, queue, warmup, events, emulator (`sim`).

Each component declares one `<X>Settings(ComponentSettings)` class, and each of
its scalar fields takes four forms, named mechanically from the field's path
(here `cache.max_entry_bytes` of the gateway):

- file: the key in the component's section of runtime.yaml, camelCase
  (`gateway.cache.maxEntryBytes`);
- env: `LLMAZ_SERVERLESS_<COMPONENT>__` + the path in upper case joined by `__`
  (`LLMAZ_SERVERLESS_GATEWAY__CACHE__MAX_ENTRY_BYTES`);
- flag: `--` + the path joined by `-` (`--cache-max-entry-bytes`); a component
  read beside another component's carries its name first (events in the
  gateway: `--events-max-body-bytes`; the queue in the gateway and the worker:
  `--queue-claim-idle`);
- code: keyword arguments of `load()` (`cache={"max_entry_bytes": 1024}`), read
  back as attributes (`settings.cache.max_entry_bytes`).

Precedence, highest first: code > flag > env > file > defaults. A form that
does not set a key leaves the next one's value in place; nested sections merge
key by key. Lists and maps (`warmup.hook.models`, `warmup.healthPaths`) have the
file and code forms only: one flag or variable cannot say a list clearly.

The layering is pydantic-settings': `settings_customise_sources` returns the
four sources in that order and pydantic-settings merges them before one
validation, so cross-field rules see the merged result. `load()` is the entry
point, and records its result in the RuntimeConfig it was given, so that
`runtime.section()` elsewhere in the process returns the same settings (before
any `load()`, `section()` reads the file alone). Constructing `<X>Settings(...)`
directly is code and env (os.environ) only, as with any pydantic-settings class.

Only pydantic-settings APIs present from 2.2 (pyproject's lower bound, run by
`make test-lowest`) to today are used: `BaseSettings`,
`settings_customise_sources` and `PydanticBaseSettingsSource`. Its own env and
CLI sources are not: they name variables by alias (camelCase here) and ignore
unknown names, where ours must name them by path and refuse a typo.
"""

from __future__ import annotations

import argparse
import os
import types
import typing
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar, Self, cast

from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from llmaz_serverless.config import RuntimeConfig

ENV_ROOT = "LLMAZ_SERVERLESS_"
# argparse destinations of generated flags start with this, so they never clash
# with a command's own arguments (`--config`, `--consumer`).
_FLAG_DEST = "settings__"


@dataclass(frozen=True)
class Leaf:
    """A scalar field of a (nested) settings model: what gets a flag and an env var."""

    path: tuple[str, ...]  # snake_case attribute names
    aliases: tuple[str, ...]  # camelCase YAML keys
    annotation: Any

    def flag(self, prefix: str = "") -> str:
        return "--" + prefix + "-".join(p.replace("_", "-") for p in self.path)

    def env(self, prefix: str) -> str:
        return prefix + "__".join(p.upper() for p in self.path)

    @property
    def key(self) -> str:
        return ".".join(self.aliases)

    def coerce(self, value: Any) -> Any:
        """Flags and env vars are strings; a float field takes "1.5" or a duration such as "90s"."""
        if isinstance(value, str) and _strip_optional(self.annotation) is float:
            try:
                return float(value)
            except ValueError:
                return value  # a duration: the field's own validator parses it
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
    """Every scalar field, depth first (lists and maps are skipped: file and code only)."""
    for name, field in model.model_fields.items():
        alias = field.alias or name
        sub = _submodel(field.annotation)
        if sub is not None:
            yield from leaves(sub, (*path, name), (*aliases, alias))
        elif _is_scalar(field.annotation):
            yield Leaf((*path, name), (*aliases, alias), field.annotation)


def to_aliases(model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite snake_case keys to their camelCase aliases, so every source merges on the same keys.

    Unknown keys are kept as written: validation then rejects them by the name the user typed.
    """
    by_key: dict[str, tuple[str, type[BaseModel] | None]] = {}
    for name, field in model.model_fields.items():
        alias = field.alias or name
        by_key[name] = by_key[alias] = (alias, _submodel(field.annotation))
    out: dict[str, Any] = {}
    for key, value in data.items():
        alias, sub = by_key.get(key, (key, None))
        out[alias] = to_aliases(sub, value) if sub is not None and isinstance(value, Mapping) else value
    return out


def _put(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


@dataclass(frozen=True)
class _Inputs:
    """What one `load()` call layers: the parsed runtime.yaml, the parsed flags, the environment."""

    runtime: RuntimeConfig | None
    args: argparse.Namespace | None
    environ: Mapping[str, str]


# pydantic-settings builds its sources inside the constructor, which takes only
# field values; `load()` hands it the file, flags and environment through this.
_INPUTS: ContextVar[_Inputs | None] = ContextVar("llmaz_serverless_settings_inputs", default=None)


class _Source(PydanticBaseSettingsSource):
    """A source that yields one nested dict keyed by aliases; pydantic-settings merges them."""

    def __init__(self, settings_cls: type[ComponentSettings]) -> None:
        super().__init__(settings_cls)
        self.component = settings_cls

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: each source's __call__ builds the whole dict at once


class _CodeSource(_Source):
    def __init__(self, settings_cls: type[ComponentSettings], values: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self.values = values

    def __call__(self) -> dict[str, Any]:
        return to_aliases(self.component, self.values)


class _FlagSource(_Source):
    def __init__(self, settings_cls: type[ComponentSettings], args: argparse.Namespace | None) -> None:
        super().__init__(settings_cls)
        self.args = args

    def __call__(self) -> dict[str, Any]:
        tree: dict[str, Any] = {}
        for leaf in leaves(self.component) if self.args is not None else ():
            value = getattr(self.args, self.component.flag_dest(leaf), None)
            if value is not None:  # an unset flag overrides nothing
                _put(tree, leaf.aliases, leaf.coerce(value))
        return tree


class _EnvSource(_Source):
    def __init__(self, settings_cls: type[ComponentSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = environ

    def __call__(self) -> dict[str, Any]:
        prefix = self.component.env_prefix()
        known = {leaf.env(prefix): leaf for leaf in leaves(self.component)}
        tree: dict[str, Any] = {}
        for name, value in self.environ.items():
            if not name.startswith(prefix):
                continue
            leaf = known.get(name)
            if leaf is None:  # a typo would otherwise be ignored silently
                raise ValueError(
                    f"environment variable {name} matches no setting; valid names: {', '.join(sorted(known))}"
                )
            _put(tree, leaf.aliases, leaf.coerce(value))
        return tree


class _FileSource(_Source):
    def __init__(self, settings_cls: type[ComponentSettings], runtime: RuntimeConfig | None) -> None:
        super().__init__(settings_cls)
        self.runtime = runtime

    def __call__(self) -> dict[str, Any]:
        if self.runtime is None:
            return {}
        return to_aliases(self.component, self.runtime.section_data(self.component.section_key()))


class ComponentSettings(BaseSettings):
    """Base of every component's settings: camelCase file keys, typos rejected, the four forms."""

    model_config = SettingsConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", protected_namespaces=()
    )

    # Component name: env prefix LLMAZ_SERVERLESS_<COMPONENT>__ and, by default, the file section.
    COMPONENT: ClassVar[str] = ""
    # Dotted path of the file section when it is not `COMPONENT` (the emulator's `emulator.defaults`).
    SECTION: ClassVar[str] = ""
    # Put before every flag when another component's process reads these settings (`events-`).
    FLAG_PREFIX: ClassVar[str] = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The precedence, highest first: code > flag > env > file (defaults are the fields' own)."""
        component = cast(type[ComponentSettings], settings_cls)
        inputs = _INPUTS.get() or _Inputs(None, None, os.environ)
        # Newer releases rename top-level init kwargs to aliases, 2.2 keeps them as given;
        # _CodeSource maps both, nested keys included, onto the aliases the other sources use.
        code = getattr(init_settings, "init_kwargs", {})
        return (
            _CodeSource(component, code),
            _FlagSource(component, inputs.args),
            _EnvSource(component, inputs.environ),
            _FileSource(component, inputs.runtime),
        )

    @classmethod
    def load(
        cls,
        runtime: RuntimeConfig | None = None,
        args: argparse.Namespace | None = None,
        environ: Mapping[str, str] | None = None,
        **code: Any,
    ) -> Self:
        """The effective settings from all four forms; `environ` defaults to os.environ.

        The result is also recorded in `runtime`, so every later `runtime.section()` of
        this component in the process (the gateway's route modules, the warmup hook)
        sees the same settings rather than the file alone.
        """
        token = _INPUTS.set(_Inputs(runtime, args, os.environ if environ is None else environ))
        try:
            settings = cls(**code)
        finally:
            _INPUTS.reset(token)
        if runtime is not None:
            runtime.use_section(cls.section_key(), settings)
        return settings

    @classmethod
    def section_key(cls) -> str:
        return cls.SECTION or cls.COMPONENT

    @classmethod
    def env_prefix(cls) -> str:
        return f"{ENV_ROOT}{cls.COMPONENT.upper()}__"

    @classmethod
    def flag_dest(cls, leaf: Leaf) -> str:
        return _FLAG_DEST + "__".join((cls.COMPONENT, *leaf.path))

    @classmethod
    def add_flags(cls, parser: argparse.ArgumentParser, default: Any = None) -> None:
        """One flag per scalar field. `default=argparse.SUPPRESS` repeats them on a subcommand
        without its unset flags hiding the ones given before the subcommand."""
        for leaf in leaves(cls):
            flag, dest = leaf.flag(cls.FLAG_PREFIX), cls.flag_dest(leaf)
            help_text = f"overrides `{cls.section_key()}.{leaf.key}` (env {leaf.env(cls.env_prefix())})"
            inner = _strip_optional(leaf.annotation)
            if inner is bool:
                parser.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=default,
                                    help=help_text)  # fmt: skip
            elif typing.get_origin(inner) is typing.Literal:
                parser.add_argument(flag, dest=dest, default=default, choices=typing.get_args(inner),
                                    help=help_text)  # fmt: skip
            else:
                parser.add_argument(flag, dest=dest, default=default, metavar="VALUE", help=help_text)
