"""Playgrounds: no elasticConfig, served names, and replicas on install and upgrade.

A Playground created without spec.replicas gets 1 from llmaz's default (a
pod); KEDA sets the count afterwards through the scale subresource. So the
chart writes 0 (or the pre-warm count) when it creates a Playground, and on
an upgrade sends back the count the live object has, read with `lookup`
(llmaz-serverless.replicas in _models.tpl). The upgrade cases run
`helm template --dry-run=server` against fake_apiserver, so helm performs
the lookup for real.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from fake_apiserver import serve
from helmrender import (
    CHART,
    NAMESPACE,
    RELEASE,
    helm,
    model,
    models_json,
    parse_documents,
    render,
    render_error,
)


def _replicas(out, name: str) -> int:
    return out.get("Playground", f"{RELEASE}-{name}")["spec"]["replicas"]


def test_no_pod_starts_when_a_model_is_installed() -> None:
    out = render(set_json=[models_json(model("a"))])
    assert _replicas(out, "a") == 0


def test_prewarm_replicas_start_when_prewarm_on_install_is_asked() -> None:
    out = render(
        set_json=[
            models_json(
                model("a", prewarm={"onInstall": True, "replicas": 2}, scaling={"maxReplicaCount": 2})
            )
        ]
    )
    assert _replicas(out, "a") == 2


def test_replicas_are_never_left_to_the_crd_default_when_rendered_as_an_upgrade_without_a_cluster() -> None:
    # `helm template --is-upgrade` cannot look up: an object new in this upgrade gets the install value.
    out = render(set_json=[models_json(model("a"))], is_upgrade=True)
    assert _replicas(out, "a") == 0


def _template_against(api, tmp_path: Path, *args: str) -> list[dict]:
    kubeconfig = api.kubeconfig(tmp_path)
    proc = subprocess.run(
        [
            helm(),
            "template",
            RELEASE,
            str(CHART),
            "--namespace",
            NAMESPACE,
            "--kubeconfig",
            str(kubeconfig),
            "--dry-run=server",
            "--disable-openapi-validation",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return list(parse_documents(proc.stdout))


def _kinds_of(rendered) -> set[tuple[str, str]]:
    return {(o["apiVersion"], o["kind"]) for o in rendered.objects}


def _live_playground(name: str, replicas: int) -> dict:
    return {
        "apiVersion": "inference.llmaz.io/v1alpha1",
        "kind": "Playground",
        "metadata": {"name": f"{RELEASE}-{name}", "namespace": NAMESPACE},
        "spec": {"replicas": replicas, "modelClaim": {"modelName": "x"}},
    }


def test_upgrade_keeps_the_replica_count_keda_set_when_the_playground_exists(tmp_path: Path) -> None:
    values = models_json(model("a"), model("b"), model("new"))
    offline = render(set_json=[values])
    live = [_live_playground("a", 3), _live_playground("b", 0)]
    with serve(_kinds_of(offline), live) as api:
        docs = _template_against(api, tmp_path, "--is-upgrade", "--set-json", values)
        looked_up = [p for p in api.requests if "/playgrounds/" in p]
    replicas = {d["metadata"]["name"]: d["spec"]["replicas"] for d in docs if d["kind"] == "Playground"}
    # KEDA's counts come back unchanged (3 and 0), a model added by the upgrade starts at 0
    assert replicas == {f"{RELEASE}-a": 3, f"{RELEASE}-b": 0, f"{RELEASE}-new": 0}
    assert f"/apis/inference.llmaz.io/v1alpha1/namespaces/{NAMESPACE}/playgrounds/{RELEASE}-a" in looked_up


def test_install_writes_the_install_count_when_it_adopts_a_live_playground(tmp_path: Path) -> None:
    # e.g. a reinstall after `helm uninstall` kept the objects: install never reads the cluster
    values = models_json(model("a"))
    offline = render(set_json=[values])
    live = _live_playground("a", 5)
    live["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "Helm"}
    live["metadata"]["annotations"] = {
        "meta.helm.sh/release-name": RELEASE,
        "meta.helm.sh/release-namespace": NAMESPACE,
    }
    with serve(_kinds_of(offline), [live]) as api:
        docs = _template_against(api, tmp_path, "--set-json", values)
    assert [d["spec"]["replicas"] for d in docs if d["kind"] == "Playground"] == [0]


def test_upgrade_keeps_the_worker_count_keda_set_when_the_deployment_exists(tmp_path: Path) -> None:
    args = ["-f", str(CHART / "ci/05-async-queue-values.yaml")]
    offline = render("ci/05-async-queue-values.yaml")
    worker = offline.get("Deployment", f"{RELEASE}-llmaz-serverless-worker")
    assert worker["spec"]["replicas"] == 0  # install: KEDA wakes it on the first job
    live = {**worker, "spec": {**worker["spec"], "replicas": 4}}
    with serve(_kinds_of(offline), [live]) as api:
        docs = _template_against(api, tmp_path, "--is-upgrade", *args)
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert deployments[f"{RELEASE}-llmaz-serverless-worker"]["spec"]["replicas"] == 4
    # the gateway is not KEDA-scaled: its count comes from values
    assert deployments[f"{RELEASE}-llmaz-serverless-gateway"]["spec"]["replicas"] == 2


def test_webhook_certificate_is_reused_when_the_tls_secret_exists(tmp_path: Path) -> None:
    values = models_json(model("a"))
    offline = render(set_json=[values])
    secret = offline.get("Secret", f"{RELEASE}-llmaz-serverless-warmup-tls")
    with serve(_kinds_of(offline), [secret]) as api:
        docs = _template_against(api, tmp_path, "--is-upgrade", "--set-json", values)
    again = next(d for d in docs if d["kind"] == "Secret")
    webhook = next(d for d in docs if d["kind"] == "MutatingWebhookConfiguration")
    assert again["data"] == secret["data"]
    assert webhook["webhooks"][0]["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("vllm", ["--served-model-name", "org/Model-1"]),
        ("sglang", ["--served-model-name", "org/Model-1"]),
        ("tgi", ["--served-model-name", "org/Model-1"]),
        ("llamacpp", ["--alias", "org/Model-1"]),
        ("ollama", None),
    ],
)
def test_server_answers_to_the_served_name_when_the_backend_takes_a_name_flag(backend: str, expected) -> None:
    out = render(set_json=[models_json(model("m", servedName="org/Model-1", backend={"name": backend}))])
    brc = out.get("Playground", f"{RELEASE}-m")["spec"]["backendRuntimeConfig"]
    assert brc["backendName"] == backend
    assert brc.get("args") == expected


def test_backend_settings_pass_through_when_set() -> None:
    backend = {
        "name": "vllm",
        "runtime": "my-vllm",
        "version": "v0.8.5",
        "configName": "default",
        "args": ["--max-model-len", "4096"],
        "envs": [{"name": "HF_HUB_OFFLINE", "value": "1"}],
        "resources": {"requests": {"cpu": "4", "memory": "16Gi"}},
        "sharedMemorySize": "2Gi",
        "setServedName": False,
    }
    pg = render(set_json=[models_json(model("m", backend=backend))]).get("Playground", f"{RELEASE}-m")
    assert pg["spec"]["backendRuntimeConfig"] == {
        "backendName": "my-vllm",
        "version": "v0.8.5",
        "configName": "default",
        "args": ["--max-model-len", "4096"],
        "envs": [{"name": "HF_HUB_OFFLINE", "value": "1"}],
        "resources": {"requests": {"cpu": "4", "memory": "16Gi"}},
        "sharedMemorySize": "2Gi",
    }
    assert pg["spec"]["modelClaim"] == {"modelName": f"{RELEASE}-{NAMESPACE}-m"}
    assert yaml.safe_dump(pg).count("elasticConfig") == 0


def test_always_on_models_start_at_their_floor_when_installed() -> None:
    out = render(
        set_json=[
            models_json(
                model("floor", scaling={"minReplicaCount": 1}),
                model("idle", scaling={"minReplicaCount": 2, "idleReplicaCount": 0}),
            )
        ]
    )
    assert _replicas(out, "floor") == 1
    # idleReplicaCount is what KEDA settles on with no activity
    assert _replicas(out, "idle") == 0


def test_llmaz_0_1_4_takes_the_backend_as_backend_name_and_args_as_a_list() -> None:
    out = render(set_json=[models_json(model("a", backend={"name": "vllm", "args": ["--x"]}))])
    config = out.get("Playground", f"{RELEASE}-a")["spec"]["backendRuntimeConfig"]
    assert config["backendName"] == "vllm" and "name" not in config
    assert config["args"] == ["--served-model-name", "a", "--x"]


def test_llmaz_0_1_0_takes_the_backend_as_name_and_args_as_one_flags_object() -> None:
    out = render(
        sets=["llmaz.release=0.1.0"],
        set_json=[models_json(model("a", backend={"name": "vllm", "runtime": "emu", "args": ["--x"]}))],
    )
    config = out.get("Playground", f"{RELEASE}-a")["spec"]["backendRuntimeConfig"]
    assert config["name"] == "emu" and "backendName" not in config
    assert config["args"] == {"flags": ["--served-model-name", "a", "--x"]}


def test_llmaz_0_1_0_rejects_fields_its_playground_does_not_have() -> None:
    err = render_error(
        sets=["llmaz.release=0.1.0"], set_json=[models_json(model("a", backend={"sharedMemorySize": "1Gi"}))]
    )
    assert "sharedMemorySize" in err


def test_llmaz_0_1_0_gets_no_open_model_owner_its_crd_lacks() -> None:
    entry = model("a", ownedBy="team-a")
    assert render(set_json=[models_json(entry)]).get("OpenModel", f"{RELEASE}-{NAMESPACE}-a")["spec"][
        "ownedBy"
    ]
    old = render(sets=["llmaz.release=0.1.0"], set_json=[models_json(entry)])
    assert "ownedBy" not in old.get("OpenModel", f"{RELEASE}-{NAMESPACE}-a")["spec"]


def test_llmaz_0_1_0_gets_the_leader_service_the_interceptor_routes_to_and_0_1_4_does_not() -> None:
    old = render(sets=["llmaz.release=0.1.0"], set_json=[models_json(model("a"))])
    route = old.get("InterceptorRoute", f"{RELEASE}-a")["spec"]["target"]
    service = old.get("Service", route["service"])["spec"]
    assert [p["name"] for p in service["ports"]] == [route["portName"]]
    assert service["selector"] == {
        "leaderworkerset.sigs.k8s.io/name": f"{RELEASE}-a",
        "leaderworkerset.sigs.k8s.io/worker-index": "0",
    }
    new = render(set_json=[models_json(model("a"))])
    assert route["service"] not in new.names("Service")
