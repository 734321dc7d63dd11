"""The `helm test` Pod: renders with auth off and on, and its script passes against a real gateway.

The last tests run the rendered Pod's own shell script with busybox (the
default test image's sh and wget) and with Debian's sh and GNU wget (the
local e2e test image) against the real gateway on loopback, built
from the same rendering's runtime.yaml with auth on. Only the Service URL
is swapped for the loopback one.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helmrender import NAMESPACE, RELEASE, Rendered, render

from llmaz_serverless.config import load_runtime_config
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless_testing.appservers import GatewayServer

CI = "ci/05-async-queue-values.yaml"
GATEWAY = f"{RELEASE}-llmaz-serverless-gateway"
URL = f"http://{GATEWAY}.{NAMESPACE}.svc.cluster.local:80"
SECRET = "gateway-api-keys"
AUTH_ON = [f"gateway.auth.existingSecret={SECRET}"]
# A keys file as a Secret holds it: comments and blank lines around the keys.
KEYS_FILE = "# rotated 2026-12\n\n  k-test-1  \nk-test-2\n"


def _pod(out: Rendered) -> dict[str, Any]:
    (pod,) = [p for p in out.kinds("Pod") if p["metadata"]["annotations"].get("helm.sh/hook") == "test"]
    return pod


def _container(out: Rendered) -> dict[str, Any]:
    return _pod(out)["spec"]["containers"][0]


def _script(out: Rendered) -> str:
    return _container(out)["command"][-1]


def test_pod_lists_models_without_a_key_when_auth_is_off() -> None:
    out = render(CI)
    container = _container(out)
    script = _script(out)
    assert "env" not in container
    assert f'url="{URL}"' in script
    assert 'wget -q -O - "$url/v1/models"' in script and "Authorization" not in script
    assert "'\"batch-model\"'" in script and "'\"online\"'" in script


def test_pod_reads_its_key_from_the_gateway_secret_when_auth_is_on() -> None:
    out = render(CI, sets=AUTH_ON)
    container = _container(out)
    script = _script(out)
    assert container["env"] == [
        {"name": "API_KEYS", "valueFrom": {"secretKeyRef": {"name": SECRET, "key": "api-keys"}}}
    ]
    # the same Secret and key the gateway mounts as its keys file
    gateway = out.get("Deployment", GATEWAY)["spec"]["template"]["spec"]
    volume = next(v for v in gateway["volumes"] if v["name"] == "api-keys")
    assert volume["secret"]["secretName"] == SECRET
    assert out.runtime()["gateway"]["auth"]["keysFile"].endswith("/api-keys")
    assert '--header "Authorization: Bearer $key"' in script
    # the key is never echoed or traced
    assert "set -x" not in script and 'echo "$key"' not in script and "$API_KEYS\n" not in script


def test_pod_checks_the_key_in_the_secret_key_named_by_values_when_set() -> None:
    out = render(CI, sets=[*AUTH_ON, "gateway.auth.key=keys.txt"])
    assert _container(out)["env"][0]["valueFrom"]["secretKeyRef"] == {"name": SECRET, "key": "keys.txt"}


def test_pod_only_checks_that_anonymous_calls_are_refused_when_auth_comes_from_config_alone() -> None:
    out = render(CI, set_json=['gateway.config={"auth":{"enabled":true,"keysEnv":"MY_KEYS"}}'])
    container = _container(out)
    script = _script(out)
    assert "env" not in container
    assert "' 401 '" in script and "/tmp/models.json" not in script


# --- the rendered script against the real gateway -----------------------------------------------

BUSYBOX = shutil.which("busybox")
# The two test clients the chart meets: busybox (tests.image default) and the local e2e plan's
# Debian image (dash, GNU wget, sed, grep), which is what this Debian host has in /bin and /usr/bin.
CLIENTS = [
    pytest.param(
        "busybox",
        marks=pytest.mark.skipif(
            BUSYBOX is None, reason="busybox (the default test image's tools) is missing"
        ),
    ),
    pytest.param("debian"),
]


@pytest.fixture(params=CLIENTS)
def client_path(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """PATH of the test client's tools: busybox applets, or the host's Debian sh and wget."""
    if request.param == "debian":
        return "/usr/bin:/bin"
    assert BUSYBOX is not None
    shim = tmp_path / "busybox-bin"
    shim.mkdir()
    for applet in ("sh", "wget", "sed", "grep", "cat"):
        (shim / applet).symlink_to(BUSYBOX)
    return str(shim)


def _gateway(runtime_doc: dict[str, Any], tmp_path: Path) -> GatewayServer:
    path = tmp_path / "runtime.yaml"
    path.write_text(yaml.safe_dump(runtime_doc), encoding="utf-8")
    runtime = load_runtime_config(path)
    settings = runtime.section("gateway", GatewaySettings).model_copy(
        update={"host": "127.0.0.1", "port": 0, "shutdown_delay": 0.0, "shutdown_timeout": 5.0}
    )
    return GatewayServer(runtime, settings, environ={})


@pytest.fixture
def gateway_with_auth(tmp_path: Path) -> Iterator[str]:
    """The real gateway from the rendering's runtime.yaml, its keys file in tmp_path."""
    runtime_doc = render(CI, sets=AUTH_ON).runtime()
    keys = tmp_path / "api-keys"
    keys.write_text(KEYS_FILE, encoding="utf-8")
    runtime_doc["gateway"]["auth"]["keysFile"] = str(keys)
    with _gateway(runtime_doc, tmp_path) as gw:
        assert gw.settings.auth.enabled
        yield gw.url


def _run_pod_script(
    script: str, gateway_url: str, keys: str | None, tmp_path: Path, path: str
) -> subprocess.CompletedProcess[str]:
    assert script.count(f'url="{URL}"') == 1
    local = script.replace(f'url="{URL}"', f'url="{gateway_url}"')
    # The Pod mounts an emptyDir at /tmp; here a private directory stands in for it.
    scratch = tmp_path / "pod-tmp"
    scratch.mkdir(exist_ok=True)
    local = local.replace("/tmp/", f"{scratch}/")
    env = {"PATH": path, **({"API_KEYS": keys} if keys is not None else {})}
    sh = shutil.which("sh", path=path)
    assert sh is not None
    return subprocess.run([sh, "-c", local], env=env, capture_output=True, text=True, timeout=60)


def test_pod_script_passes_against_the_real_gateway_when_auth_is_on(
    gateway_with_auth: str, client_path: str, tmp_path: Path
) -> None:
    script = _script(render(CI, sets=AUTH_ON))
    proc = _run_pod_script(script, gateway_with_auth, KEYS_FILE, tmp_path, client_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "anonymous /v1/models refused (401)" in proc.stdout
    assert '"batch-model"' in proc.stdout and "helm test passed" in proc.stdout
    for key in ("k-test-1", "k-test-2"):
        assert key not in proc.stdout + proc.stderr


def test_pod_script_fails_against_the_real_gateway_when_the_secret_holds_no_valid_key(
    gateway_with_auth: str, client_path: str, tmp_path: Path
) -> None:
    script = _script(render(CI, sets=AUTH_ON))
    proc = _run_pod_script(script, gateway_with_auth, "# only a comment\nk-wrong\n", tmp_path, client_path)
    assert proc.returncode != 0
    assert "helm test passed" not in proc.stdout


def test_keyless_pod_script_fails_against_the_real_gateway_when_auth_is_on(
    gateway_with_auth: str, client_path: str, tmp_path: Path
) -> None:
    # The Pod rendered without the Secret (the old behaviour) cannot pass against an auth-on gateway.
    proc = _run_pod_script(_script(render(CI)), gateway_with_auth, None, tmp_path, client_path)
    assert proc.returncode != 0


def test_pod_script_passes_against_the_real_gateway_when_auth_is_off(
    client_path: str, tmp_path: Path
) -> None:
    out = render(CI)
    with _gateway(out.runtime(), tmp_path) as gw:
        proc = _run_pod_script(_script(out), gw.url, None, tmp_path, client_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"online"' in proc.stdout and "helm test passed" in proc.stdout
