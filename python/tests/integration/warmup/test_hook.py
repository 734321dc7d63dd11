"""`llmaz-serverless warmup --once` (the Helm hook) against a real model-server process
standing in for the interceptor: it holds requests while the model loads from zero,
as the KEDA HTTP interceptor does."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from llmaz_serverless.cli import main

pytestmark = pytest.mark.integration

MODEL = "llama-3-8b"


def write_config(
    path: Path, upstream: str, *, on_install: bool, fail_release: bool = False, **timeouts
) -> str:
    data = {
        "models": [
            {
                "name": MODEL,
                "playground": "llama",
                "namespace": "models",
                "upstream": upstream,
                "host": "llama.models.svc",
                "timeouts": {"coldStart": "20s", "responseHeader": "10s", **timeouts},
                "warmup": {"deadline": "10s", "prompts": [{"promptTokens": 64, "maxTokens": 4}]},
            }
        ],
        "warmup": {
            "onInstall": on_install,
            "backoff": {"initial": "50ms", "max": "200ms"},
            "hook": {"attempts": 2, "failRelease": fail_release},
        },
    }
    path.write_text(yaml.safe_dump(data))
    return str(path)


def state(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/emulator/state", timeout=5) as resp:
        return json.load(resp)


def test_hook_does_nothing_when_on_install_is_false(sim, tmp_path, capsys):
    interceptor = sim(ttft=0.01)
    config = write_config(tmp_path / "runtime.yaml", interceptor.url, on_install=False)
    assert main(["warmup", "--once", "--config", config]) == 0
    assert "warmup.onInstall is false: no model is woken" in capsys.readouterr().out
    assert state(interceptor.url)["requestsTotal"] == 0


def test_hook_wakes_model_at_zero_waits_the_cold_start_and_reports_it(sim, tmp_path, capsys):
    # Loads for 1.5 s, drops to zero after 0.2 s idle; requests are held while loading.
    interceptor = sim(startup_delay=1.5, hold_while_loading=True, scale_to_zero_after=0.2, ttft=0.01)
    deadline = time.monotonic() + 15
    while state(interceptor.url)["replicas"] != 0:
        assert time.monotonic() < deadline, "emulator never scaled to zero"
        time.sleep(0.1)
    config = write_config(tmp_path / "runtime.yaml", interceptor.url, on_install=True)
    assert main(["warmup", "--once", "--config", config, "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{") :])
    assert report["ok"] is True
    (model,) = report["models"]
    assert model["model"] == MODEL and model["ok"] is True
    assert 1.4 <= model["cold_start_s"] < 10
    after = state(interceptor.url)
    assert after["coldStartsTotal"] == 1
    assert after["completedTotal"] == 1


def test_hook_reports_failure_but_keeps_release_unless_told(sim, tmp_path, capsys):
    # Nothing listens on port 9: every attempt is refused.
    config = write_config(
        tmp_path / "runtime.yaml", "http://127.0.0.1:9", on_install=True, coldStart="1s", responseHeader="1s"
    )
    assert main(["warmup", "--once", "--config", config]) == 0
    assert f"{MODEL}: NOT warmed" in capsys.readouterr().out
    failing = write_config(
        tmp_path / "strict.yaml",
        "http://127.0.0.1:9",
        on_install=True,
        fail_release=True,
        coldStart="1s",
        responseHeader="1s",
    )
    assert main(["warmup", "--once", "--config", failing]) == 1
    assert "warmup.hook.failRelease is true" in capsys.readouterr().out


def test_unknown_model_is_an_actionable_error(tmp_path, capsys):
    config = write_config(tmp_path / "runtime.yaml", "http://127.0.0.1:9", on_install=True)
    assert main(["warmup", "--once", "--config", config, "--model", "mistral"]) == 1
    assert "names mistral, not in models[]" in capsys.readouterr().out


def test_usage_errors_name_what_is_missing(tmp_path, capsys):
    assert main(["warmup"]) == 2
    assert "warmup --once" in capsys.readouterr().out
    assert main(["warmup", "--once"]) == 2
    assert "--config PATH is required" in capsys.readouterr().out
    empty = tmp_path / "empty.yaml"
    empty.write_text("models: []\n")
    assert main(["warmup", "controller", "--config", str(empty)]) == 1
    assert "no models" in capsys.readouterr().out
    assert main(["warmup", "--once", "--config", str(tmp_path / "missing.yaml")]) == 1
    assert "cannot use" in capsys.readouterr().out


def test_controller_outside_a_cluster_says_how_to_give_it_credentials(tmp_path, capsys, monkeypatch):
    config = write_config(tmp_path / "runtime.yaml", "http://127.0.0.1:9", on_install=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setattr("kubernetes.config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION", str(tmp_path / "none"))
    assert main(["warmup", "controller", "--config", config]) == 1
    assert "no Kubernetes credentials" in capsys.readouterr().out
