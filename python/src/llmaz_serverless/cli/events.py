"""`llmaz-serverless events test`: which event rules an event matches, and what they would do.

Reads `eventRules` and `models` from values files merged like Helm merges
them (chart defaults underneath), parses the event file as the gateway
parses a structured or batched CloudEvent, and prints, per event and rule,
MATCH with the planned actions (the job request rendered from the event) or
why not (the first field that does not match). Nothing is sent anywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from llmaz_serverless.cli._command import Command, values_and_output
from llmaz_serverless.openai_paths import BY_API

EPILOG = """\
The event file holds one CloudEvent in structured JSON form (specversion, id,
source, type, data...) or a JSON array of them (a batch). Model names in the
output are the values' `models[].name`.

exit codes:
  0  the rules were evaluated (whether or not any matched)
  1  the rules or the event are invalid (messages name the field)
  2  usage error: unreadable file, bad --set
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = Command(
        "events",
        help="work with event rules (eventRules) offline",
        description="Work with event rules (eventRules) without a cluster.",
    ).add_to(subparsers, lambda _args: _usage(parser))
    sub = parser.add_subparsers(dest="events_command", metavar="SUBCOMMAND")
    chart_help = "chart whose values.yaml lies underneath (default: the repo's)"
    Command(
        "test",
        help="show which rules an event matches and what they would do",
        description="Show which event rules an event matches and what they would do.",
        epilog=EPILOG,
        flags=(values_and_output("text", "json", chart_help=chart_help), _add_test_flags),
    ).add_to(sub, run_test)


def _add_test_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "event", type=Path, help="event JSON file (one structured CloudEvent or an array); - for stdin"
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _load_values(args: argparse.Namespace) -> dict[str, Any]:
    from llmaz_serverless.toolpaths import chart_dir
    from llmaz_serverless.values.loader import load_file
    from llmaz_serverless.values.merge import merge_values

    chart = args.chart or chart_dir()
    defaults_path = chart / "values.yaml"
    defaults = load_file(defaults_path) if defaults_path.exists() else None
    return merge_values(defaults, [load_file(f) for f in args.values], args.set_values).data


def _served_names(values: dict[str, Any]) -> dict[str, str]:
    """`models[].name` -> the OpenAI id the gateway and the queue know it by (the chart's servedName)."""
    defaults = values.get("modelDefaults") or {}
    default_served = defaults.get("servedName") if isinstance(defaults, dict) else None
    out = {}
    for entry in values.get("models") or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            out[entry["name"]] = entry.get("servedName") or default_served or entry["name"]
    return out


def _enabled_models(values: dict[str, Any]) -> list[str]:
    defaults = values.get("modelDefaults") or {}
    names = []
    for entry in values.get("models") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        enabled = entry.get("enabled", defaults.get("enabled", True) if isinstance(defaults, dict) else True)
        if enabled is not False:
            names.append(entry["name"])
    return names


def _rules(values: dict[str, Any]) -> tuple[Any, list[str]]:
    from pydantic import ValidationError

    from llmaz_serverless.events.rules import EventRule, RuleSet, RuleSetError

    raw = values.get("eventRules") or []
    if not isinstance(raw, list):
        return None, [f"eventRules: expected a list, got {type(raw).__name__}"]
    parsed, problems = [], []
    for i, entry in enumerate(raw):
        try:
            parsed.append(EventRule.model_validate(entry))
        except ValidationError as err:
            for e in err.errors():
                where = ".".join(str(p) for p in e["loc"])
                message = e["msg"].removeprefix("Value error, ")
                problems.append(f"eventRules[{i}]{'.' + where if where else ''}: {message}")
    if problems:
        return None, problems
    try:
        rules = RuleSet(parsed)
    except RuleSetError as err:
        return None, [str(err)]
    return rules, rules.unknown_models(_enabled_models(values))


def _read_event(path: Path) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    return path.read_bytes()


def _plan(rules: Any, event: Any, served: dict[str, str]) -> dict[str, Any]:
    from llmaz_serverless.events.dispatch import plan_rule

    out: dict[str, Any] = {"id": event.id, "source": event.source, "type": event.type, "rules": []}
    for rule in rules.all:
        entry: dict[str, Any] = {"rule": rule.name}
        if not rule.enabled:
            entry["result"] = "disabled"
        elif rule.compiled.matches(event.document):
            entry["result"] = "match"
            entry["actions"] = []
            for action in plan_rule(rule, event):
                item: dict[str, Any] = {"action": action.kind, "says": action.describe()}
                if action.job is not None:
                    item["model"] = action.job.model
                    item["api"] = action.job.api
                    item["jobId"] = action.job.job_id
                    item["request"] = dict(action.job.body)
                    submit = rule.actions[action.index].submit
                    if submit is not None and "model" not in submit.request:
                        # At runtime the chart has put the served name here.
                        item["request"]["model"] = served.get(action.job.model, action.job.model)
                    if action.job.webhook:
                        item["webhook"] = action.job.webhook
                if action.error:
                    item["error"] = action.error
                entry["actions"].append(item)
        else:
            miss = rule.compiled.first_mismatch(event.document)
            assert miss is not None
            from llmaz_serverless.events.patterns import resolve

            found = resolve(event.document, miss.path)
            got = "absent" if not found else "is " + ", ".join(json.dumps(v) for v in found)
            entry["result"] = "no match"
            entry["why"] = f"{miss.dotted} {got}; the rule wants {miss.describe()}"
        out["rules"].append(entry)
    return out


def _print_text(plans: list[dict[str, Any]]) -> None:
    for plan in plans:
        print(f"event {plan['id']} (type {plan['type']}, source {plan['source']}):")
        if not plan["rules"]:
            print("  no eventRules in the values")
        for entry in plan["rules"]:
            if entry["result"] == "disabled":
                print(f"  skip  {entry['rule']}: disabled")
            elif entry["result"] == "no match":
                print(f"  no    {entry['rule']}: {entry['why']}")
            else:
                print(f"  MATCH {entry['rule']}")
                for action in entry["actions"]:
                    print(f"    {action['says']}")
                    if "request" in action:
                        body = json.dumps(action["request"], indent=2).replace("\n", "\n      ")
                        print(f"      POST {BY_API[action['api']].async_path} {body}")
                    if "webhook" in action:
                        print(f"      webhook: {action['webhook']}")


def run_test(args: argparse.Namespace) -> int:
    from llmaz_serverless.events.intake import BATCH, STRUCTURED, BadEvent, parse_http
    from llmaz_serverless.values.loader import ValuesFileError
    from llmaz_serverless.values.merge import SetSyntaxError

    try:
        values = _load_values(args)
        body = _read_event(args.event)
    except (ValuesFileError, SetSyntaxError, OSError) as err:
        print(f"events test: {err}", file=sys.stderr)
        return EXIT_USAGE
    rules, problems = _rules(values)
    if problems:
        for problem in problems:
            print(f"events test: {problem}", file=sys.stderr)
        return EXIT_INVALID
    content_type = BATCH if body.lstrip().startswith(b"[") else STRUCTURED
    try:
        events = parse_http({"content-type": content_type}, body)
    except BadEvent as err:
        print(f"events test: {args.event}: {err.message}", file=sys.stderr)
        return EXIT_INVALID
    plans = [_plan(rules, e, _served_names(values)) for e in events]
    if args.output == "json":
        print(json.dumps({"events": plans}, indent=2))
    else:
        _print_text(plans)
    return EXIT_OK
