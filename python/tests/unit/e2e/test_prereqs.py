import os
import stat
from pathlib import Path

from llmaz_serverless_testing.e2e.prereqs import E2E_ENV, missing_prerequisites


def test_reason_names_make_e2e_when_not_opted_in():
    reason = missing_prerequisites({})
    assert reason is not None and "make e2e" in reason and E2E_ENV in reason


def test_reason_names_kind_when_kind_is_missing(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = missing_prerequisites({E2E_ENV: "1"})
    assert reason is not None and "kind is not on PATH" in reason


def test_reason_names_the_docker_engine_when_it_does_not_answer(monkeypatch, tmp_path: Path):
    # A kind binary and a docker client whose engine is down, as on machines
    # with the Docker CLI but no daemon.
    for name, script in {
        "kind": "#!/bin/sh\nexit 0\n",
        "docker": "#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n",
    }.items():
        path = tmp_path / name
        path.write_text(script)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    reason = missing_prerequisites({E2E_ENV: "1"})
    assert reason is not None
    assert "no Docker engine" in reason and "Cannot connect to the Docker daemon" in reason


def _fake_kubectl(tmp_path: Path, stdout: str, code: int) -> str:
    path = tmp_path / "kubectl"
    path.write_text(f"#!/bin/sh\necho '{stdout}'\nexit {code}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_local_provider_names_make_cluster_when_the_cluster_is_not_running(tmp_path: Path):
    reason = missing_prerequisites({E2E_ENV: "1", "E2E_CLUSTER": "local"}, kubeconfig=tmp_path / "absent")
    assert reason is not None and "make cluster" in reason and "absent" in reason


def test_local_provider_is_ready_when_its_api_server_answers_readyz(monkeypatch, tmp_path: Path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("{}")
    _fake_kubectl(tmp_path, "ok", 0)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    assert missing_prerequisites({E2E_ENV: "1", "E2E_CLUSTER": "local"}, kubeconfig=kubeconfig) is None


def test_local_provider_reports_an_api_server_that_does_not_answer(monkeypatch, tmp_path: Path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("{}")
    _fake_kubectl(tmp_path, "connection refused", 1)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    reason = missing_prerequisites({E2E_ENV: "1", "E2E_CLUSTER": "local"}, kubeconfig=kubeconfig)
    assert reason is not None and "/readyz" in reason and "make cluster" in reason


def test_an_unknown_provider_is_named_with_the_choices():
    reason = missing_prerequisites({E2E_ENV: "1", "E2E_CLUSTER": "minikube"})
    assert reason is not None and "minikube" in reason and "kind, local" in reason
