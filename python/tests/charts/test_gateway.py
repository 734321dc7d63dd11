"""Gateway: Deployment, Service, PDB, NetworkPolicy and monitors (helm test Pod: test_helm_test_pod.py)."""

from __future__ import annotations

from helmrender import RELEASE, render

NAME = f"{RELEASE}-llmaz-serverless-gateway"
MONITORING = "monitoring.coreos.com/v1"


def test_gateway_serves_from_the_runtime_config_when_rendered() -> None:
    out = render("ci/01-single-model-values.yaml")
    pod = out.get("Deployment", NAME)["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["command"] == [
        "llmaz-serverless",
        "gateway",
        "--config",
        "/etc/llmaz-serverless/runtime.yaml",
    ]
    assert container["image"] == "llmaz-serverless:0.1.0"
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "runtime")
    assert volume["configMap"]["name"] == f"{RELEASE}-llmaz-serverless-runtime"
    assert pod["metadata"]["annotations"]["checksum/runtime"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    svc = out.get("Service", NAME)
    assert svc["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]


def test_pods_restart_when_the_runtime_config_changes() -> None:
    a = render("ci/01-single-model-values.yaml").get("Deployment", NAME)
    b = render("ci/01-single-model-values.yaml", sets=["modelDefaults.retryAfter=9"]).get("Deployment", NAME)
    key = "checksum/runtime"
    assert (
        a["spec"]["template"]["metadata"]["annotations"][key]
        != b["spec"]["template"]["metadata"]["annotations"][key]
    )


def test_pdb_and_networkpolicy_protect_the_gateway_when_the_prod_preset_is_used() -> None:
    out = render("values-prod.yaml")
    pdb = out.get("PodDisruptionBudget", NAME)
    assert pdb["spec"]["minAvailable"] == 2
    assert pdb["spec"]["selector"] == out.get("Deployment", NAME)["spec"]["selector"]
    policy = out.get("NetworkPolicy", NAME)
    assert policy["spec"]["podSelector"] == out.get("Deployment", NAME)["spec"]["selector"]
    assert policy["spec"]["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]


def test_no_pdb_or_networkpolicy_when_defaults_apply() -> None:
    out = render("ci/01-single-model-values.yaml")
    assert not out.kinds("PodDisruptionBudget") and not out.kinds("NetworkPolicy")


def test_monitors_render_only_when_the_cluster_has_the_prometheus_operator() -> None:
    assert not render("ci/05-async-queue-values.yaml").kinds("ServiceMonitor", "PodMonitor")
    out = render("ci/05-async-queue-values.yaml", api_versions=[MONITORING])
    assert out.get("ServiceMonitor", NAME)["spec"]["endpoints"][0]["port"] == "http"
    monitors = {m["metadata"]["name"]: m for m in out.kinds("PodMonitor")}
    models = monitors[f"{RELEASE}-llmaz-serverless-models"]
    (expr,) = models["spec"]["selector"]["matchExpressions"]
    assert expr["values"] == out.names("OpenModel")
    assert models["spec"]["podMetricsEndpoints"][0]["targetPort"] == 8080
    assert (
        f"{RELEASE}-llmaz-serverless-worker" in monitors and f"{RELEASE}-llmaz-serverless-warmup" in monitors
    )


def test_monitors_stay_off_when_disabled_even_with_the_operator() -> None:
    out = render(
        "ci/05-async-queue-values.yaml",
        sets=["monitoring.serviceMonitor.enabled=false", "monitoring.podMonitor.enabled=false"],
        api_versions=[MONITORING],
    )
    assert not out.kinds("ServiceMonitor", "PodMonitor")


def test_component_placement_falls_back_to_the_global_one_when_unset() -> None:
    out = render(
        "ci/05-async-queue-values.yaml", sets=["nodeSelector.pool=cpu", "gateway.nodeSelector.pool=edge"]
    )
    assert out.get("Deployment", NAME)["spec"]["template"]["spec"]["nodeSelector"] == {"pool": "edge"}
    worker = out.get("Deployment", f"{RELEASE}-llmaz-serverless-worker")
    assert worker["spec"]["template"]["spec"]["nodeSelector"] == {"pool": "cpu"}
