"""Install KEDA, the HTTP add-on, lws, llmaz, Prometheus, Redis and NATS on the local cluster, offline.

Their Helm repositories cannot be reached here, so each comes from its Go module source in
the module cache, at the version versions.toml [cluster] builds: KEDA, the HTTP add-on and lws from their
kustomize `config/` trees, llmaz from its Helm chart `chart/`. Our overlays in
manifests/local-cluster/ change only images, flags and namespaces. kustomize loads nothing from
outside an overlay's root, so `stage` copies each upstream `config/` to `<workdir>/<name>/config`
and the overlay to `<workdir>/<name>/local` (whose `resources` is `../config/default`); nothing
upstream is ever copied into the repository.

Every step is an argv, so a plan can be printed (`upstream.py plan`) and checked without a
cluster. `upstream.py install` runs them against one kubeconfig.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from layout import cache_dir, load_pins  # noqa: E402

LOCAL = REPO / "manifests" / "local-cluster"
E2E = REPO / "manifests" / "e2e"

# What the upstream configs create (read in their config/ trees), and where our chart looks.
KEDA_NAMESPACE = "keda"
LWS_NAMESPACE = "lws-system"
LLMAZ_NAMESPACE = "llmaz-system"  # the llmaz manager's --namespace default: its certs live here
LLMAZ_RELEASE = "llmaz"
E2E_NAMESPACE = "llmaz-serverless"  # redis.yaml's
KEDA_DEPLOYMENTS = ("keda-operator", "keda-metrics-apiserver", "keda-admission")
HTTP_ADDON_DEPLOYMENTS = tuple(f"keda-add-ons-http-{c}" for c in ("operator", "interceptor", "scaler"))
# Values of our chart (charts/llmaz-serverless `httpAddon`) that point at the add-on as its
# config/ installs it: namePrefix keda-add-ons-http-, namespace keda.
HTTP_ADDON_VALUES = {
    "api": "InterceptorRoute",
    "namespace": KEDA_NAMESPACE,
    "interceptor": {"service": "keda-add-ons-http-interceptor-proxy", "port": 8080},
    "externalScaler": {"service": "keda-add-ons-http-external-scaler", "port": 9090},
}
# Components installed from `config/` through an overlay of ours (versions.toml [cluster] names).
KUSTOMIZED = ("keda", "http-add-on", "lws")
E2E_MANIFESTS = ("prometheus.yaml", "redis.yaml", "nats.yaml")
WAIT = "10m"


@dataclass(frozen=True)
class Step:
    name: str
    argv: list[str]
    # Files the step reads that must exist before the run (repository and module cache).
    files: list[Path] = field(default_factory=list)
    optional: bool = False


def module_cache() -> Path:
    """GOMODCACHE as `go env` reports it (or its default without go)."""
    if os.environ.get("GOMODCACHE"):
        return Path(os.environ["GOMODCACHE"])
    try:
        out = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True)
        if out.stdout.strip():
            return Path(out.stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        pass
    return Path(os.environ.get("GOPATH", Path.home() / "go")) / "pkg" / "mod"


def _escape(module: str) -> str:
    """The module cache's case encoding: each capital letter becomes `!` and the lower case one."""
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in module)


def module_dir(name: str, cache: Path | None = None) -> Path:
    pin = load_pins()[name]
    return (cache or module_cache()) / f"{_escape(pin['module'])}@{pin['version']}"


def llmaz_release() -> str:
    """The llmaz release built here, as our chart's `llmaz.release` value names it."""
    return str(load_pins()["llmaz"]["version"]).removeprefix("v")


def llmaz_chart(cache: Path | None = None) -> Path:
    return module_dir("llmaz", cache) / "chart"


def default_workdir() -> Path:
    """Where `stage` copies to: the cluster cache of build.py, never the repository."""
    return cache_dir() / "install"


def _writable(path: Path) -> None:
    # Module cache files are read-only; their copies must be removable on the next stage.
    for p in [path, *path.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o200)


def _replace_tree(src: Path, dest: Path) -> None:
    if dest.exists():
        _writable(dest)
        shutil.rmtree(dest)
    shutil.copytree(src, dest)
    _writable(dest)


def stage(workdir: Path, cache: Path | None = None) -> dict[str, Path]:
    """Copy the upstream trees and our overlays into workdir; returns each overlay's directory."""
    overlays: dict[str, Path] = {}
    for name in KUSTOMIZED:
        config = module_dir(name, cache) / "config"
        if not config.is_dir():
            pin = load_pins()[name]
            raise SystemExit(f"{config} is missing: run `go mod download {pin['module']}@{pin['version']}`")
        _replace_tree(config, workdir / name / "config")
        _replace_tree(LOCAL / name, workdir / name / "local")
        overlays[name] = workdir / name / "local"
    _replace_tree(LOCAL / "e2e", workdir / "e2e" / "local")
    for manifest in E2E_MANIFESTS:
        shutil.copyfile(E2E / manifest, workdir / "e2e" / "local" / manifest)
    overlays["e2e"] = workdir / "e2e" / "local"
    return overlays


def _kube(tool: str, kubeconfig: Path | None) -> list[str]:
    return [tool, "--kubeconfig", str(kubeconfig)] if kubeconfig else [tool]


def install_steps(
    kubectl: str = "kubectl",
    helm: str = "helm",
    workdir: Path | None = None,
    kubeconfig: Path | None = None,
    python: str = sys.executable,
    cache: Path | None = None,
) -> list[Step]:
    """KEDA, the HTTP add-on, lws, llmaz, then Prometheus, Redis and NATS; each waited for."""
    work = workdir or default_workdir()
    k = _kube(kubectl, kubeconfig)
    h = _kube(helm, kubeconfig)
    me = [python, str(Path(__file__).resolve())]
    kcfg = ["--kubeconfig", str(kubeconfig)] if kubeconfig else []
    upstream = {name: module_dir(name, cache) for name in (*KUSTOMIZED, "llmaz")}
    chart = llmaz_chart(cache)
    llmaz_values = LOCAL / "llmaz-values.yaml"
    probes = LOCAL / "probes"

    def apply(name: str, tree: str = "local") -> list[str]:
        # On a second run the fields these manifests set win over later changes (e.g. the
        # interceptor's replicas, which KEDA scales): every step must be re-runnable.
        return [*k, "apply", "--server-side", "--force-conflicts", "-k", str(work / name / tree)]

    def available(namespace: str, deployments: tuple[str, ...]) -> list[str]:
        # `kubectl wait --for=condition=Available` is already true for a new one-replica
        # Deployment (maxUnavailable rounds to that one pod): wait for the rollout instead.
        return [*me, "rolled-out", "--kubectl", kubectl, *kcfg, "-n", namespace, *deployments]

    def llmaz(*sets: str) -> list[str]:
        argv = [*h, "upgrade", "--install", LLMAZ_RELEASE, str(chart), "-n", LLMAZ_NAMESPACE,
                "--create-namespace", "-f", str(llmaz_values), "--wait", "--timeout", WAIT]  # fmt: skip
        for item in sets:
            argv += ["--set", item]
        return argv

    def accepted(probe: str) -> list[str]:
        return [*me, "wait-accepted", "--kubectl", kubectl, *kcfg, str(probes / probe)]

    def established(name: str) -> list[str]:
        crds = work / name / "config" / "crd" / "bases"
        return [*k, "wait", "--for=condition=Established", "--timeout=2m", "-f", str(crds)]

    metrics_api = "apiservice/v1beta1.external.metrics.k8s.io"
    staged = [upstream[n] / "config" for n in KUSTOMIZED] + [LOCAL / n for n in (*KUSTOMIZED, "e2e")]
    return [
        Step(
            "stage the upstream config/ trees and our overlays",
            [*me, "stage", "--workdir", str(work)],
            [*staged, *(E2E / m for m in E2E_MANIFESTS)],
        ),
        # CRDs first: the KEDA overlay and the add-on's ScaledObject need them served.
        Step("install KEDA's CRDs", apply("keda", "config/crd")),
        Step("wait for KEDA's CRDs", established("keda")),
        Step("install KEDA (operator, metrics adapter, admission webhooks)", apply("keda")),
        Step("wait for KEDA", available(KEDA_NAMESPACE, KEDA_DEPLOYMENTS)),
        Step(
            "wait for KEDA's external metrics API",
            [*k, "wait", "--for=condition=Available", f"--timeout={WAIT}", metrics_api],
        ),
        Step("install the HTTP add-on", apply("http-add-on")),
        Step("wait for the HTTP add-on's CRDs", established("http-add-on")),
        Step("wait for the HTTP add-on", available(KEDA_NAMESPACE, HTTP_ADDON_DEPLOYMENTS)),
        Step("install LeaderWorkerSet", apply("lws")),
        Step("wait for LeaderWorkerSet", available(LWS_NAMESPACE, ("lws-controller-manager",))),
        # Its pod webhook (failurePolicy Fail) must answer before llmaz creates any LWS pod;
        # the readiness probe answers before the webhook has its certificate.
        Step("wait for the LeaderWorkerSet webhooks", accepted("lws.yaml"), [probes / "lws.yaml"]),
        # The chart's BackendRuntimes go through llmaz's own webhooks (failurePolicy Fail),
        # which serve only once the manager has made its certificate: manager first.
        Step(
            "install llmaz (manager only)",
            llmaz("backendRuntime.install=false"),
            [chart / "Chart.yaml", llmaz_values],
        ),
        Step("wait for the llmaz webhooks", accepted("llmaz.yaml"), [probes / "llmaz.yaml"]),
        Step("install llmaz's BackendRuntimes", llmaz(), [chart / "Chart.yaml", llmaz_values]),
        Step("install Prometheus, Redis and NATS", apply("e2e")),
        Step("wait for Prometheus", available("monitoring", ("prometheus",))),
        Step("wait for Redis", available(E2E_NAMESPACE, ("redis",))),
        Step("wait for NATS", available("nats", ("nats",))),
    ]


def wait_accepted(
    kubectl: str, kubeconfig: Path | None, manifest: Path, timeout: float, interval: float = 3
) -> int:
    """Retry a server-side dry-run create of manifest until its admission webhooks accept it."""
    argv = [*_kube(kubectl, kubeconfig), "create", "--dry-run=server", "-o", "name", "-f", str(manifest)]
    deadline = time.monotonic() + timeout
    while True:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return 0
        if time.monotonic() > deadline:
            print(f"not accepted after {timeout:.0f} s: {proc.stderr.strip()}", file=sys.stderr)
            return 1
        time.sleep(interval)


def rolled_out(kubectl: str, kubeconfig: Path | None, namespace: str, deployments: list[str]) -> int:
    """`kubectl rollout status` of each Deployment: every replica of the current spec is Ready."""
    for name in deployments:
        argv = [*_kube(kubectl, kubeconfig), "-n", namespace, "rollout", "status", f"deployment/{name}",
                f"--timeout={WAIT}"]  # fmt: skip
        if subprocess.run(argv, check=False).returncode != 0:
            return 1
    return 0


def run(steps: list[Step], kubeconfig: Path | None) -> None:
    env = {**os.environ, **({"KUBECONFIG": str(kubeconfig)} if kubeconfig else {})}
    for step in steps:
        print(f"upstream: {step.name}", flush=True)
        proc = subprocess.run(step.argv, env=env, check=False)
        if proc.returncode != 0 and not step.optional:
            raise SystemExit(f"step failed ({proc.returncode}): {' '.join(step.argv)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("plan", "install"):
        p = sub.add_parser(name, help=f"{name} the steps")
        p.add_argument("--kubectl", default="kubectl")
        p.add_argument("--helm", default="helm")
        p.add_argument("--kubeconfig", type=Path)
        p.add_argument("--workdir", type=Path, default=default_workdir())
    p = sub.add_parser("stage", help="copy upstream config/ trees and our overlays into a work dir")
    p.add_argument("--workdir", type=Path, default=default_workdir())
    p = sub.add_parser("wait-accepted", help="retry `kubectl create --dry-run=server -f FILE`")
    p.add_argument("--kubectl", default="kubectl")
    p.add_argument("--kubeconfig", type=Path)
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("manifest", type=Path)
    p = sub.add_parser("rolled-out", help="`kubectl rollout status` of each Deployment")
    p.add_argument("--kubectl", default="kubectl")
    p.add_argument("--kubeconfig", type=Path)
    p.add_argument("-n", "--namespace", required=True)
    p.add_argument("deployments", nargs="+")
    a = ap.parse_args(argv)
    if a.command == "stage":
        for name, path in stage(a.workdir).items():
            print(f"{name}: {path}")
        return 0
    if a.command == "wait-accepted":
        return wait_accepted(a.kubectl, a.kubeconfig, a.manifest, a.timeout)
    if a.command == "rolled-out":
        return rolled_out(a.kubectl, a.kubeconfig, a.namespace, a.deployments)
    steps = install_steps(a.kubectl, a.helm, a.workdir, a.kubeconfig)
    if a.command == "plan":
        for step in steps:
            print(f"# {step.name}\n{' '.join(step.argv)}")
        return 0
    run(steps, a.kubeconfig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
