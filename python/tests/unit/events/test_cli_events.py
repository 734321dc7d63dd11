"""`llmaz-serverless events test`: in-process for the output, once as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from llmaz_serverless.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main

VALUES = {
    "worker": {"enabled": True},
    "models": [
        {"name": "chat", "source": {"modelHub": {"modelID": "org/chat"}}},
        {
            "name": "batch",
            "servedName": "batch-72b",
            "source": {"modelHub": {"modelID": "org/batch"}},
            "async": {"enabled": True},
        },
    ],
    "eventRules": [
        {
            "name": "chat-ui-opened",
            "pattern": {
                "type": ["com.example.chat.session.opened"],
                "data": {"user": {"tier": [{"anythingBut": ["free"]}]}},
            },
            "actions": [{"prewarm": {"models": ["chat"], "replicas": 2, "window": "15m"}}],
        },
        {
            "name": "nightly-upload",
            "pattern": {"type": ["com.example.upload.finished"]},
            "actions": [
                {
                    "submit": {
                        "model": "batch",
                        "request": {"messages": [{"role": "user", "content": "Do ${data.url}"}]},
                    }
                }
            ],
        },
        {"name": "off", "enabled": False, "matchAll": True, "actions": [{"prewarm": {"models": ["chat"]}}]},
    ],
}


def _event(event_type: str, **data: object) -> dict:
    return {"specversion": "1.0", "id": "e-1", "source": "/test", "type": event_type, "data": data}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(VALUES))
    event = tmp_path / "event.json"
    event.write_text(json.dumps(_event("com.example.chat.session.opened", user={"tier": "pro"})))
    return values, event


def test_prints_match_with_the_action_and_why_other_rules_do_not(files, capsys):
    values, event = files
    assert main(["events", "test", "-f", str(values), str(event)]) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "event e-1 (type com.example.chat.session.opened, source /test):"
    assert out[1] == "  MATCH chat-ui-opened"
    assert out[2] == "    prewarm chat: keep >= 2 replica(s) for 15m after the last matching event"
    assert out[3] == (
        '  no    nightly-upload: type is "com.example.chat.session.opened"; '
        "the rule wants 'com.example.upload.finished'"
    )
    assert out[4] == "  skip  off: disabled"


def test_names_the_failing_field_when_a_nested_matcher_fails(files, capsys, tmp_path):
    values, _ = files
    event = tmp_path / "free.json"
    event.write_text(json.dumps(_event("com.example.chat.session.opened", user={"tier": "free"})))
    assert main(["events", "test", "-f", str(values), str(event)]) == EXIT_OK
    assert "  no    chat-ui-opened: data.user.tier is \"free\"; the rule wants anything but ['free']" in (
        capsys.readouterr().out
    )


def test_json_output_shows_the_rendered_job_for_a_batch(files, capsys, tmp_path):
    values, _ = files
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([_event("com.example.upload.finished", url="s3://x"), _event("other")]))
    assert main(["events", "test", "-f", str(values), "-o", "json", str(batch)]) == EXIT_OK
    plans = json.loads(capsys.readouterr().out)["events"]
    assert len(plans) == 2
    [upload] = [r for r in plans[0]["rules"] if r["result"] == "match"]
    [action] = upload["actions"]
    # The request names the model as the gateway and the queue know it: its served name.
    assert action["request"] == {"messages": [{"role": "user", "content": "Do s3://x"}], "model": "batch-72b"}
    assert action["jobId"].startswith("event-")
    assert all(r["result"] != "match" for r in plans[1]["rules"])


def test_reports_a_template_path_the_event_lacks(files, capsys, tmp_path):
    values, _ = files
    event = tmp_path / "e.json"
    event.write_text(json.dumps(_event("com.example.upload.finished")))
    assert main(["events", "test", "-f", str(values), str(event)]) == EXIT_OK
    assert "submit: FAILS for this event: request.messages[0].content: the event has no `data.url`" in (
        capsys.readouterr().out
    )


def test_invalid_rules_exit_1_naming_rule_and_model(tmp_path, capsys):
    bad = dict(
        VALUES,
        eventRules=[
            {"name": "x", "pattern": {"type": ["t"]}, "actions": [{"prewarm": {"models": ["ghost"]}}]}
        ],
    )
    values = tmp_path / "v.yaml"
    values.write_text(yaml.safe_dump(bad))
    event = tmp_path / "e.json"
    event.write_text(json.dumps(_event("t")))
    assert main(["events", "test", "-f", str(values), str(event)]) == EXIT_INVALID
    assert "eventRules[0] (x).actions[0].prewarm: model 'ghost' is not in models" in capsys.readouterr().err


def test_an_event_that_is_not_a_cloudevent_exits_1_with_the_reason(files, tmp_path, capsys):
    values, _ = files
    event = tmp_path / "e.json"
    event.write_text('{"type": "t"}')
    assert main(["events", "test", "-f", str(values), str(event)]) == EXIT_INVALID
    assert "required attribute 'id' is missing" in capsys.readouterr().err


def test_missing_event_file_is_a_usage_error(files, tmp_path):
    values, _ = files
    assert main(["events", "test", "-f", str(values), str(tmp_path / "nope.json")]) == EXIT_USAGE


def test_runs_as_a_real_command_reading_the_event_from_stdin(files):
    values, event = files
    proc = subprocess.run(
        [sys.executable, "-m", "llmaz_serverless", "events", "test", "-f", str(values), "-"],
        input=event.read_bytes(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"MATCH chat-ui-opened" in proc.stdout
