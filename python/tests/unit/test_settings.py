"""The settings layer (llmaz_serverless.settings): one precedence and one naming for every component."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.emulator.settings import EmulatorSettings
from llmaz_serverless.events.settings import EventsSettings
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless.queue.settings import QueueSettings
from llmaz_serverless.settings import ComponentSettings, leaves, to_aliases
from llmaz_serverless.warmup.settings import WarmupSettings
from llmaz_serverless.worker.settings import WorkerSettings

COMPONENTS: list[type[ComponentSettings]] = [
    GatewaySettings,
    WorkerSettings,
    WarmupSettings,
    EventsSettings,
    EmulatorSettings,
    QueueSettings,
]

# Per component, a top-level count, a nested count and a duration: the same kinds
# of field everywhere. Each form below sets its own value, so the one that wins shows.
FIELDS: list[tuple[type[ComponentSettings], tuple[str, ...]]] = [
    (GatewaySettings, ("max_body_bytes",)),
    (GatewaySettings, ("cache", "max_entry_bytes")),
    (GatewaySettings, ("cache", "ttl")),
    (WorkerSettings, ("concurrency",)),
    (WorkerSettings, ("backoff", "initial")),
    (WorkerSettings, ("drain_timeout",)),
    (WarmupSettings, ("max_concurrent_warmups",)),
    (WarmupSettings, ("hook", "attempts")),
    (WarmupSettings, ("timeline", "first_token_window")),
    (EventsSettings, ("max_batch_events",)),
    (EventsSettings, ("stream", "batch")),
    (EventsSettings, ("dedupe_ttl",)),
    (EmulatorSettings, ("max_concurrency",)),
    (EmulatorSettings, ("ttft",)),
    (QueueSettings, ("dead_letter_max_len",)),
    (QueueSettings, ("payloads", "inline_max_bytes")),
    (QueueSettings, ("claim_idle",)),
]
FORMS = ("file", "env", "flag", "code")  # lowest precedence first


def _leaf(cls: type[ComponentSettings], path: tuple[str, ...]) -> Any:
    return next(leaf for leaf in leaves(cls) if leaf.path == path)


def _nest(keys: tuple[str, ...], value: Any) -> dict[str, Any]:
    tree: dict[str, Any] = {keys[-1]: value}
    for key in reversed(keys[:-1]):
        tree = {key: tree}
    return tree


def _attr(obj: object, path: tuple[str, ...]) -> Any:
    for name in path:
        obj = getattr(obj, name)
    return obj


def _parser(cls: type[ComponentSettings]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    cls.add_flags(parser)
    return parser


def _load_with(cls: type[ComponentSettings], path: tuple[str, ...], given: dict[str, str]) -> Any:
    """Load with the field set in the forms of `given` (form -> value as text), the rest unset."""
    leaf = _leaf(cls, path)
    file_doc = (
        _nest((*cls.section_key().split("."), *leaf.aliases), int(given["file"])) if "file" in given else {}
    )
    environ = {leaf.env(cls.env_prefix()): given["env"]} if "env" in given else {}
    argv = [leaf.flag(cls.FLAG_PREFIX), given["flag"]] if "flag" in given else []
    code = _nest(path, float(given["code"])) if "code" in given else {}
    runtime = RuntimeConfig.model_validate(file_doc)
    return cls.load(runtime, _parser(cls).parse_args(argv), environ, **code)


@pytest.mark.parametrize(("cls", "path"), FIELDS, ids=[f"{c.COMPONENT}:{'.'.join(p)}" for c, p in FIELDS])
def test_code_beats_flag_beats_env_beats_file_for_every_component(
    cls: type[ComponentSettings], path: tuple[str, ...]
) -> None:
    values = {form: str(11 + i) for i, form in enumerate(FORMS)}  # file 11, env 12, flag 13, code 14
    for upto in range(len(FORMS)):
        given = {form: values[form] for form in FORMS[: upto + 1]}
        settings = _load_with(cls, path, given)
        assert _attr(settings, path) == 11 + upto, f"{cls.__name__}: {FORMS[upto]} should win over {given}"
    assert _attr(cls.load(RuntimeConfig(), None, {}), path) == _attr(cls.model_validate({}), path)


@pytest.mark.parametrize("cls", COMPONENTS, ids=[c.COMPONENT for c in COMPONENTS])
def test_every_scalar_key_is_named_alike_and_reads_the_same_from_file_env_and_flag(
    cls: type[ComponentSettings],
) -> None:
    defaults = cls.model_validate({})
    parser = _parser(cls)
    flags = {option for action in parser._actions for option in action.option_strings}
    checked = 0
    for leaf in leaves(cls):
        assert leaf.env(cls.env_prefix()) == f"LLMAZ_SERVERLESS_{cls.COMPONENT.upper()}__" + "__".join(
            p.upper() for p in leaf.path
        )
        assert leaf.flag(cls.FLAG_PREFIX) == "--" + cls.FLAG_PREFIX + "-".join(leaf.path).replace("_", "-")
        assert leaf.flag(cls.FLAG_PREFIX) in flags
        value = _attr(defaults, leaf.path)
        if value is None:  # "no limit": it has no text form to send through env or flag
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        file_doc = _nest((*cls.section_key().split("."), *leaf.aliases), value)
        from_file = cls.load(RuntimeConfig.model_validate(file_doc), None, {})
        from_env = cls.load(RuntimeConfig(), None, {leaf.env(cls.env_prefix()): text})
        flag = leaf.flag(cls.FLAG_PREFIX)
        argv = [flag if value else "--no-" + flag[2:]] if isinstance(value, bool) else [flag, text]
        from_flag = cls.load(RuntimeConfig(), parser.parse_args(argv), {})
        assert (
            _attr(from_file, leaf.path) == _attr(from_env, leaf.path) == _attr(from_flag, leaf.path) == value
        )
        checked += 1
    assert checked >= 5


def test_a_component_read_by_another_process_has_its_name_in_its_flags() -> None:
    parser = argparse.ArgumentParser()
    GatewaySettings.add_flags(parser)
    EventsSettings.add_flags(parser)  # the gateway process serves both: no flag may clash
    args = parser.parse_args(["--max-body-bytes", "4096", "--events-max-body-bytes", "2048"])
    runtime = RuntimeConfig()
    assert GatewaySettings.load(runtime, args, {}).max_body_bytes == 4096
    assert EventsSettings.load(runtime, args, {}).max_body_bytes == 2048


def test_nested_sections_merge_key_by_key_across_forms() -> None:
    runtime = RuntimeConfig.model_validate({"gateway": {"cache": {"keyPrefix": "p:", "ttl": "1m"}}})
    env = {"LLMAZ_SERVERLESS_GATEWAY__CACHE__TTL": "2m"}
    settings = GatewaySettings.load(runtime, None, env, cache={"max_entry_bytes": 5})
    assert (settings.cache.key_prefix, settings.cache.ttl, settings.cache.max_entry_bytes) == ("p:", 120.0, 5)


def test_cross_field_rules_judge_the_merged_forms_not_the_file_alone() -> None:
    # The file alone is refused (an s3 store needs a bucket); the env var completes it.
    runtime = RuntimeConfig.model_validate({"queue": {"objectStore": {"type": "s3"}}})
    with pytest.raises(ValueError, match="bucket is empty"):
        QueueSettings.load(runtime, None, {})
    env = {"LLMAZ_SERVERLESS_QUEUE__OBJECT_STORE__BUCKET": "jobs"}
    assert QueueSettings.load(runtime, None, env).object_store.bucket == "jobs"


def test_a_setting_with_fixed_choices_has_a_flag_that_refuses_other_values() -> None:
    parser = _parser(GatewaySettings)
    assert (
        GatewaySettings.load(None, parser.parse_args(["--event-loop", "asyncio"]), {}).event_loop == "asyncio"
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["--event-loop", "trio"])
    env = {"LLMAZ_SERVERLESS_GATEWAY__EVENT_LOOP": "asyncio"}
    assert GatewaySettings.load(None, None, env).event_loop == "asyncio"


def test_bare_numbers_are_seconds_when_a_duration_comes_from_env() -> None:
    env = {"LLMAZ_SERVERLESS_GATEWAY__SHUTDOWN_DELAY": "1.5", "LLMAZ_SERVERLESS_GATEWAY__CACHE__TTL": "90s"}
    settings = GatewaySettings.load(None, None, env)
    assert (settings.shutdown_delay, settings.cache.ttl) == (1.5, 90.0)


@pytest.mark.parametrize("cls", COMPONENTS, ids=[c.COMPONENT for c in COMPONENTS])
def test_unknown_env_var_is_an_error_listing_the_valid_names(cls: type[ComponentSettings]) -> None:
    typo = cls.env_prefix() + "NO_SUCH_KEY"
    some_valid = next(iter(leaves(cls))).env(cls.env_prefix())
    with pytest.raises(ValueError, match=rf"{typo} matches no setting; valid names: .*{some_valid}"):
        cls.load(None, None, {typo: "1"})


def test_unset_flags_override_nothing_and_a_suppressed_copy_keeps_earlier_ones() -> None:
    parser = argparse.ArgumentParser()
    WarmupSettings.add_flags(parser)
    sub = parser.add_subparsers(dest="command")
    WarmupSettings.add_flags(sub.add_parser("controller"), default=argparse.SUPPRESS)
    runtime = RuntimeConfig.model_validate({"warmup": {"attempts": 2, "hook": {"attempts": 3}}})
    settings = WarmupSettings.load(runtime, parser.parse_args(["--attempts", "6", "controller"]), {})
    assert (settings.attempts, settings.hook.attempts) == (6, 3)
    after = WarmupSettings.load(runtime, parser.parse_args(["controller", "--hook-attempts", "9"]), {})
    assert (after.attempts, after.hook.attempts) == (2, 9)


def test_load_records_the_effective_section_for_later_readers_of_the_runtime() -> None:
    runtime = RuntimeConfig.model_validate({"warmup": {"attempts": 2}})
    assert runtime.section("warmup", WarmupSettings).attempts == 2
    loaded = WarmupSettings.load(runtime, None, {"LLMAZ_SERVERLESS_WARMUP__ATTEMPTS": "7"})
    assert runtime.section("warmup", WarmupSettings) is loaded
    assert loaded.attempts == 7


def test_the_emulator_reads_its_file_form_from_emulator_defaults() -> None:
    runtime = RuntimeConfig.model_validate({"emulator": {"defaults": {"startupDelay": "2s"}, "models": {}}})
    assert EmulatorSettings.load(runtime, None, {}).startup_delay == 2.0


def test_a_section_that_is_not_a_mapping_is_refused_naming_it() -> None:
    runtime = RuntimeConfig.model_validate({"gateway": ["port", 1]})
    with pytest.raises(ValueError, match=r"runtime.yaml `gateway`: expected a mapping"):
        GatewaySettings.load(runtime, None, {})


def test_direct_construction_is_code_over_env_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMAZ_SERVERLESS_WORKER__CONCURRENCY", "9")
    assert WorkerSettings().concurrency == 9
    assert WorkerSettings(concurrency=4).concurrency == 4


def test_to_aliases_lines_up_snake_and_camel_keys_and_keeps_typos_as_typed() -> None:
    data = {"max_body_bytes": 10, "cache": {"key_prefix": "p:", "ttl": 5}, "cahce": {"x": 1}}
    assert to_aliases(GatewaySettings, data) == {
        "maxBodyBytes": 10,
        "cache": {"keyPrefix": "p:", "ttl": 5},
        "cahce": {"x": 1},
    }
