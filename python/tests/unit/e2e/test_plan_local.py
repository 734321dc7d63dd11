"""The local-cluster plan (`make e2e CLUSTER=local`), checked without a cluster.

The overlays in manifests/local-cluster/ are rendered with the real `kubectl kustomize` against the
upstream config/ trees in the Go module cache, llmaz's chart and ours with the real `helm
template`, and what comes out is read: images, pull policies, namespaces and the names our
chart points at.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmaz_serverless.toolpaths import ToolMissingError, find_tool, repo_root
from llmaz_serverless_testing.e2e import plan

UP = plan.upstream_module()
COMPONENTS = ("keda", "http-add-on", "lws", "llmaz")


def _missing_modules() -> list[str]:
    return [str(UP.module_dir(n)) for n in COMPONENTS if not UP.module_dir(n).is_dir()]


def _tool(name: str) -> str:
    try:
        return str(find_tool(name))
    except ToolMissingError as err:
        pytest.skip(str(err))


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def _run(argv: list[str]) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, f"{' '.join(argv)}:\n{proc.stderr}"
    return proc.stdout


needs_modules = pytest.mark.skipif(
    bool(_missing_modules()),
    reason=f"Go module cache lacks {', '.join(_missing_modules())} (go mod download them)",
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Every manifest the local plan installs, by step: overlays, llmaz's chart, ours."""
    if _missing_modules():
        pytest.skip(f"Go module cache lacks {', '.join(_missing_modules())}")
    kubectl, helm = _tool("kubectl"), _tool("helm")
    work = tmp_path_factory.mktemp("stage")
    overlays = UP.stage(work)
    out = {name: _docs(_run([kubectl, "kustomize", str(path)])) for name, path in overlays.items()}
    out["keda-crds"] = _docs(_run([kubectl, "kustomize", str(work / "keda" / "config" / "crd")]))
    llmaz = [helm, "template", UP.LLMAZ_RELEASE, str(UP.llmaz_chart()), "-n", UP.LLMAZ_NAMESPACE,
             "-f", str(UP.LOCAL / "llmaz-values.yaml")]  # fmt: skip
    out["llmaz"] = _docs(_run(llmaz))
    out["llmaz-manager-only"] = _docs(_run([*llmaz, "--set", "backendRuntime.install=false"]))
    for profile in plan.PROFILES:
        step = plan.install_plan(profile, provider="local", workdir=work)[-1]
        values = step.argv[step.argv.index("-f") + 1]
        ours = [helm, "template", plan.RELEASE, str(repo_root() / "charts" / "llmaz-serverless"),
                "-n", plan.NAMESPACE, "-f", values]  # fmt: skip
        out[f"ours-{profile}"] = _docs(_run(ours))
    out["receiver"] = _docs((repo_root() / "manifests" / "e2e" / "webhook-receiver.yaml").read_text())
    return out


def _containers(obj: Any) -> list[dict[str, Any]]:
    """Every container of every pod template (or Pod) in obj."""
    found: list[dict[str, Any]] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                found += [c for c in value if isinstance(c, dict) and "image" in c]
            else:
                found += _containers(value)
    elif isinstance(obj, list):
        for item in obj:
            found += _containers(item)
    return found


def _normalize(image: str) -> str:
    """What containerd's CRI looks up: `redis:7` -> `docker.io/library/redis:7`."""
    first, _, rest = image.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        image = f"docker.io/{image}" if rest else f"docker.io/library/{image}"
    return image


def _find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def _images(rendered: dict[str, list[dict[str, Any]]]) -> set[str]:
    return {c["image"] for docs in rendered.values() for d in docs for c in _containers(d)}


def test_the_kind_plan_is_the_default_and_the_local_plan_builds_and_loads_nothing(tmp_path):
    kind = plan.install_plan("emulator")
    assert kind[0].argv[:2] == ["docker", "build"]
    local = plan.install_plan("emulator", provider="local", workdir=tmp_path)
    argvs = [" ".join(s.argv) for s in local]
    assert not any(a.startswith(("docker ", "kind ")) or "dependency build" in a for a in argvs)
    assert "llmaz-serverless-stack" not in " ".join(argvs)
    with pytest.raises(ValueError, match="kind, local"):
        plan.install_plan("emulator", provider="minikube")


@needs_modules
@pytest.mark.parametrize("profile", plan.PROFILES)
def test_every_file_a_local_step_reads_exists(profile, tmp_path):
    steps = plan.install_plan(profile, provider="local", workdir=tmp_path)
    missing = [str(f) for step in steps for f in step.files if not f.exists()]
    assert missing == []
    # Nothing the plan writes or stages lands in the repository.
    written = [a for s in steps for a in s.argv if a.startswith(str(tmp_path))]
    assert written and not any(Path(a).is_relative_to(repo_root()) for a in written)


def test_local_steps_go_in_dependency_order(tmp_path):
    names = [s.name for s in plan.install_plan("emulator", provider="local", workdir=tmp_path)]

    def at(prefix: str) -> int:
        return next(i for i, n in enumerate(names) if n.startswith(prefix))

    assert at("stage") == 0
    assert at("install KEDA's CRDs") < at("install KEDA (") < at("wait for KEDA's external metrics API")
    assert at("wait for KEDA's external metrics API") < at("install the HTTP add-on")
    assert at("wait for the HTTP add-on") < at("install LeaderWorkerSet")
    # No LWS pod before lws's pod webhook answers; no BackendRuntime before llmaz's does.
    assert at("wait for the LeaderWorkerSet webhooks") < at("install llmaz (manager only)")
    assert at("wait for the llmaz webhooks") < at("install llmaz's BackendRuntimes")
    assert at("install llmaz's BackendRuntimes") < at("install Prometheus, Redis and NATS")
    assert at("wait for Redis") < at("register the emulator") < at("install llmaz-serverless")
    assert names[-1] == "install llmaz-serverless with the e2e values"


@pytest.mark.parametrize("profile", plan.PROFILES)
def test_our_chart_values_point_at_the_add_on_from_config_and_pull_nothing(profile, tmp_path):
    step = plan.install_plan(profile, provider="local", workdir=tmp_path)[-1]
    values = yaml.safe_load(Path(step.argv[step.argv.index("-f") + 1]).read_text())
    stack = yaml.safe_load(plan.values_file(profile).read_text())["llmaz-serverless"]
    assert values["httpAddon"] == UP.HTTP_ADDON_VALUES
    assert values["httpAddon"]["namespace"] == "keda"
    assert values["image"]["pullPolicy"] == "Never"
    # The llmaz built from versions.toml [cluster], and a test pod image that is built, not pulled.
    assert values["llmaz"] == {"release": UP.load_pins()["llmaz"]["version"].removeprefix("v")}
    assert values["tests"]["image"] == plan.LOCAL_TEST_IMAGE
    # Everything else is the profile's own `llmaz-serverless:` values.
    local_only = ("httpAddon", "image", "llmaz", "tests")
    rest = {k: v for k, v in values.items() if k not in local_only}
    assert rest == {k: v for k, v in stack.items() if k not in local_only}
    assert step.argv[step.argv.index("upgrade") + 3] == str(repo_root() / "charts" / "llmaz-serverless")


def test_every_deployment_a_step_waits_for_is_rendered_in_that_namespace(rendered):
    deployments = {
        (d["metadata"].get("namespace"), d["metadata"]["name"])
        for docs in rendered.values()
        for d in docs
        if d["kind"] == "Deployment"
    }
    waited = []
    for step in UP.install_steps(workdir=Path("/tmp/unused")):
        if "rolled-out" in step.argv:
            at = step.argv.index("-n")
            waited += [(step.argv[at + 1], name) for name in step.argv[at + 2 :]]
    assert len(waited) == 10  # KEDA 3, the add-on 3, lws, Prometheus, Redis, NATS
    assert [w for w in waited if w not in deployments] == []


def test_the_add_on_services_our_chart_names_exist_where_it_looks(rendered):
    addon, values = rendered["http-add-on"], UP.HTTP_ADDON_VALUES
    for key in ("interceptor", "externalScaler"):
        service = _find(addon, "Service", values[key]["service"])
        assert service["metadata"]["namespace"] == values["namespace"]
        assert values[key]["port"] in [p["port"] for p in service["spec"]["ports"]]
    # And our chart, rendered with the local values, uses exactly those addresses.
    interceptor = values["interceptor"]
    scaler = values["externalScaler"]
    ours = yaml.safe_dump_all(rendered["ours-emulator"])
    # Fully qualified with the chart's clusterDomain (cluster.local unless set).
    domain = f"{values['namespace']}.svc.cluster.local"
    assert f"http://{interceptor['service']}.{domain}:{interceptor['port']}" in ours
    assert f"{scaler['service']}.{domain}:{scaler['port']}" in ours
    # The add-on's own ScaledObject reaches the same scaler.
    so = _find(addon, "ScaledObject", "keda-add-ons-http-interceptor")
    assert so["spec"]["triggers"][0]["metadata"]["scalerAddress"] == f"{scaler['service']}:{scaler['port']}"


def test_keda_and_the_add_on_run_in_the_namespace_our_chart_expects(rendered):
    chart_values = yaml.safe_load((repo_root() / "charts" / "llmaz-serverless" / "values.yaml").read_text())
    assert chart_values["httpAddon"]["namespace"] == UP.KEDA_NAMESPACE
    for name in ("keda", "http-add-on"):
        workloads = [d for d in rendered[name] if d["kind"] in ("Deployment", "Service", "ScaledObject")]
        assert {d["metadata"]["namespace"] for d in workloads} == {UP.KEDA_NAMESPACE}, name
    api = _find(rendered["keda"], "APIService", "v1beta1.external.metrics.k8s.io")
    assert api["spec"]["service"] == {"name": "keda-metrics-apiserver", "namespace": UP.KEDA_NAMESPACE}
    operator = _find(rendered["keda"], "Deployment", "keda-operator")
    assert "--enable-cert-rotation=true" in operator["spec"]["template"]["spec"]["containers"][0]["args"]


def test_nothing_rendered_pulls_from_a_registry(rendered):
    for name, docs in rendered.items():
        for doc in docs:
            for c in _containers(doc):
                where = f"{name}: {doc['kind']}/{doc['metadata']['name']}: {c['image']}"
                assert c.get("imagePullPolicy", "IfNotPresent") in ("IfNotPresent", "Never"), where
                last = c["image"].rsplit("/", 1)[-1]
                # Untagged or :latest defaults the pull policy to Always.
                assert ":" in last and not last.endswith(":latest"), where


def test_release_images_replace_the_development_ones(rendered):
    images = _images(rendered)
    assert {
        "ghcr.io/kedacore/keda:2.20.2",
        "ghcr.io/kedacore/keda-metrics-apiserver:2.20.2",
        "ghcr.io/kedacore/keda-admission-webhooks:2.20.2",
        "ghcr.io/kedacore/http-add-on-operator:0.15.0",
        "ghcr.io/kedacore/http-add-on-interceptor:0.15.0",
        "ghcr.io/kedacore/http-add-on-scaler:0.15.0",
        "registry.k8s.io/lws/lws:v0.6.1",
        "inftyai/llmaz:v0.1.0",
        "localhost/llmaz-serverless/redis:7.0-debian12",
    } <= images
    assert not [i for i in images if i.startswith("ko://") or ":main" in i or "k8s-staging" in i]
    assert not [i for i in images if "redis:7.4" in i]


def test_every_rendered_image_is_one_the_cluster_pins_build(rendered):
    pins = UP.load_pins()
    if "images" not in pins:
        pytest.skip(f"versions.toml has no [cluster.images] yet; rendered: {sorted(_images(rendered))}")
    known = {
        _normalize(n) for spec in pins["images"].values() for n in [spec["name"], *spec.get("aliases", [])]
    }
    # The emulator profile's model pods run the emulator BackendRuntime's image:version.
    runtime = yaml.safe_load((repo_root() / "manifests" / "e2e" / "backendruntime-emulator.yaml").read_text())
    images = _images(rendered) | {f"{runtime['spec']['image']}:{runtime['spec']['version']}"}
    assert sorted(i for i in images if _normalize(i) not in known) == []


def test_the_e2e_manifests_change_only_images(rendered):
    source = [d for m in UP.E2E_MANIFESTS for d in _docs((repo_root() / "manifests" / "e2e" / m).read_text())]
    local = {(d["kind"], d["metadata"]["name"]): d for d in rendered["e2e"]}
    assert set(local) - {(d["kind"], d["metadata"]["name"]) for d in source} == {
        ("Namespace", plan.NAMESPACE)
    }
    for doc in source:
        got = copy.deepcopy(local[(doc["kind"], doc["metadata"]["name"])])
        for container in _containers(got):
            container["image"] = next(c["image"] for c in _containers(doc) if c["name"] == container["name"])
        assert got == doc


def test_redis_from_debian_accepts_clients_from_other_pods(rendered):
    """Debian's redis-server starts in protected mode (DENIED to all but loopback) unless told not to."""
    pins = UP.load_pins()
    container = _find(rendered["e2e"], "Deployment", "redis")["spec"]["template"]["spec"]["containers"][0]
    spec = next((s for s in pins.get("images", {}).values() if s["name"] == container["image"]), None)
    if spec is None:
        pytest.skip(f"versions.toml [cluster.images] does not build {container['image']} yet")
    argv = [*container.get("command", spec["entrypoint"]), *container.get("args", spec.get("cmd", []))]
    flags = [a for a in argv if a.startswith("--")]
    assert "--protected-mode" in flags and argv[argv.index("--protected-mode") + 1] == "no"
    assert argv.count("--protected-mode") == 1


def test_lws_fits_the_two_core_node_and_runs_as_released(rendered):
    manager = _find(rendered["lws"], "Deployment", "lws-controller-manager")
    assert manager["metadata"]["namespace"] == UP.LWS_NAMESPACE
    assert manager["spec"]["replicas"] == 1
    assert manager["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "100m"
    webhook = _find(rendered["lws"], "MutatingWebhookConfiguration", "lws-mutating-webhook-configuration")
    assert {w["clientConfig"]["service"]["namespace"] for w in webhook["webhooks"]} == {UP.LWS_NAMESPACE}


def test_llmaz_runs_without_its_embedded_lws_and_with_the_names_its_cert_controller_patches(rendered):
    docs = rendered["llmaz"]
    kinds = {d["kind"] for d in docs}
    assert not [d for d in docs if d["metadata"]["name"] in ("lws-system", "lws-controller-manager")]
    assert not [d for d in docs if "leaderworkerset" in d["metadata"]["name"]]
    assert not [i for i in _images({"llmaz": docs}) if "/lws/" in i]
    for kind, name in [
        ("Service", "llmaz-webhook-service"),
        ("Secret", "llmaz-webhook-server-cert"),
        ("ValidatingWebhookConfiguration", "llmaz-validating-webhook-configuration"),
        ("MutatingWebhookConfiguration", "llmaz-mutating-webhook-configuration"),
    ]:
        _find(docs, kind, name)
    manager = _find(docs, "Deployment", "llmaz-controller-manager")
    assert f"--namespace={UP.LLMAZ_NAMESPACE}" in manager["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "BackendRuntime" in kinds
    assert "BackendRuntime" not in {d["kind"] for d in rendered["llmaz-manager-only"]}


def test_webhook_probes_are_kinds_the_installed_crds_serve(rendered):
    served = {
        (f"{c['spec']['group']}/{v['name']}", c["spec"]["names"]["kind"])
        for docs in rendered.values()
        for c in docs
        if c["kind"] == "CustomResourceDefinition"
        for v in c["spec"]["versions"]
        if v.get("served")
    }
    for crd in (UP.llmaz_chart() / "crds").glob("*.yaml"):
        for c in _docs(crd.read_text()):
            kind = c["spec"]["names"]["kind"]
            served |= {
                (f"{c['spec']['group']}/{v['name']}", kind) for v in c["spec"]["versions"] if v["served"]
            }
    for probe in sorted((UP.LOCAL / "probes").glob("*.yaml")):
        doc = yaml.safe_load(probe.read_text())
        assert (doc["apiVersion"], doc["kind"]) in served, probe.name


def test_module_cache_paths_use_gos_case_encoding():
    assert UP._escape("github.com/inftyai/llmaz") == "github.com/inftyai/llmaz"
    assert UP._escape("github.com/Azure/go-autorest") == "github.com/!azure/go-autorest"
    assert UP.module_dir("keda", Path("/m")) == Path("/m/github.com/kedacore/keda/v2@v2.20.2")


def test_wait_accepted_retries_until_the_webhook_answers_and_gives_up_in_time(tmp_path):
    """A fake kubectl that refuses twice (as a webhook without its certificate does)."""
    count = tmp_path / "count"
    fake = tmp_path / "kubectl"
    fake.write_text(
        "#!/bin/sh\n"
        f"n=$(cat {count} 2>/dev/null || echo 0); echo $((n+1)) > {count}\n"
        f'echo "$@" >> {tmp_path / "argv"}\n'
        '[ "$n" -ge 2 ] && exit 0\n'
        'echo "failed calling webhook: x509: certificate signed by unknown authority" >&2; exit 1\n'
    )
    fake.chmod(0o755)
    probe = tmp_path / "probe.yaml"
    assert UP.wait_accepted(str(fake), tmp_path / "kc", probe, timeout=30, interval=0.01) == 0
    assert count.read_text().strip() == "3"
    assert (
        f"--kubeconfig {tmp_path / 'kc'} create --dry-run=server -o name -f {probe}"
        in (tmp_path / "argv").read_text()
    )
    count.write_text("-100")
    assert UP.wait_accepted(str(fake), None, probe, timeout=0.05, interval=0.01) == 1
