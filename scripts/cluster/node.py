"""Bring the local single-node cluster up and down.

Every component runs as a host process started here, detached, with its pid in
`<run>/pids` and its log in `<state>/logs`: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, containerd, kubelet, kube-proxy and
CoreDNS. Pods run on containerd; their network is one bridge whose addresses
(198.18.0.0/15) are fenced in by an iptables chain of ours.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import configs
import pki
from hosttools import NODE_TOOLS, ensure_host_tools
from layout import (
    API_PORT,
    BRIDGE,
    CLUSTER_NAME,
    COREDNS_HEALTH,
    ETCD_CLIENT,
    ETCD_PEER,
    GUARDED_RANGE,
    NODE_IP,
    NODE_NAME,
    POD_CIDR,
    SERVICE_CIDR,
    SERVICE_IP,
    Layout,
    load_pins,
)

GUARD_CHAIN = "LLMAZ-SL-GUARD"
# containerd's registry client honours the proxy variables: an image that was not imported
# fails at once against a closed loopback port, and no registry name is ever looked up.
CLOSED_PORT_PROXY = "http://127.0.0.1:9"
NO_PULL_ENV = {"HTTPS_PROXY": CLOSED_PORT_PROXY, "HTTP_PROXY": CLOSED_PORT_PROXY, "NO_PROXY": ""}
CGROUP_ROOT = Path("/sys/fs/cgroup")


def binary_path(lay: Layout, component: str, name: str) -> Path:
    return lay.bin(component, load_pins()[component]["version"]) / name


def binary(lay: Layout, component: str, name: str) -> str:
    path = binary_path(lay, component, name)
    if not path.is_file():
        raise SystemExit(f"{path} is missing: run `make cluster-build` (scripts/cluster/build.py) first")
    return str(path)


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check)


def wait_for(what: str, probe: Callable[[], bool], timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if probe():
                return
        time.sleep(1)
    tail = ""
    if log and log.is_file():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise SystemExit(f"cluster: {what} not ready after {timeout:.0f} s\n{tail}")


# --- processes ------------------------------------------------------------


def pid_of(lay: Layout, name: str) -> int | None:
    path = lay.pids / f"{name}.pid"
    if not path.is_file():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def spawn(lay: Layout, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
    if (pid := pid_of(lay, name)) is not None:
        return pid
    lay.logs.mkdir(parents=True, exist_ok=True)
    lay.pids.mkdir(parents=True, exist_ok=True)
    with (lay.logs / f"{name}.log").open("ab") as log:
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    (lay.pids / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def stop(lay: Layout, name: str, grace: float = 20) -> None:
    pid = pid_of(lay, name)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and pid_of(lay, name) is not None:
            time.sleep(0.2)
        if pid_of(lay, name) is not None:
            os.kill(pid, signal.SIGKILL)
    (lay.pids / f"{name}.pid").unlink(missing_ok=True)


# --- network --------------------------------------------------------------


def network_up() -> None:
    if sh("ip", "link", "show", BRIDGE, check=False).returncode != 0:
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", f"{NODE_IP}/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    for key, value in (
        ("net/ipv4/ip_forward", "1"),
        # Service traffic between two pods on the bridge must pass kube-proxy's rules.
        ("net/bridge/bridge-nf-call-iptables", "1"),
    ):
        Path("/proc/sys", key).write_text(value)
    guard_up()


def guard_rules() -> list[list[str]]:
    """The fence: cluster addresses may only travel over the bridge and loopback."""
    return [
        ["-o", BRIDGE, "-j", "RETURN"],
        ["-o", "lo", "-j", "RETURN"],
        ["-s", GUARDED_RANGE, "-j", "DROP"],
        ["-d", GUARDED_RANGE, "-j", "DROP"],
    ]


def guard_up() -> None:
    if sh("iptables", "-w", "-n", "-L", GUARD_CHAIN, check=False).returncode != 0:
        sh("iptables", "-w", "-N", GUARD_CHAIN)
    sh("iptables", "-w", "-F", GUARD_CHAIN)
    for rule in guard_rules():
        sh("iptables", "-w", "-A", GUARD_CHAIN, *rule)
    for hook in ("OUTPUT", "FORWARD"):
        if sh("iptables", "-w", "-C", hook, "-j", GUARD_CHAIN, check=False).returncode != 0:
            sh("iptables", "-w", "-I", hook, "1", "-j", GUARD_CHAIN)


def remove_kube_chains() -> list[str]:
    """Chains kubelet and kube-proxy leave (`KUBE-*`) in every table, with the jumps to them."""
    removed = []
    for tool in ("iptables", "ip6tables"):
        for table in ("filter", "nat", "mangle"):
            rules = sh(tool, "-w", "-t", table, "-S", check=False).stdout.splitlines()
            chains = [r.split()[1] for r in rules if r.startswith("-N KUBE-")]
            for rule in rules:
                words = rule.split()
                if words[:1] == ["-A"] and words[1] not in chains and any(c in words for c in chains):
                    sh(tool, "-w", "-t", table, "-D", *words[1:], check=False)
            for chain in chains:
                sh(tool, "-w", "-t", table, "-F", chain, check=False)
            for chain in chains:
                sh(tool, "-w", "-t", table, "-X", chain, check=False)
            removed += [f"{tool} {table} {c}" for c in chains]
    return removed


def guard_down() -> None:
    for hook in ("OUTPUT", "FORWARD"):
        while sh("iptables", "-w", "-D", hook, "-j", GUARD_CHAIN, check=False).returncode == 0:
            pass
    sh("iptables", "-w", "-F", GUARD_CHAIN, check=False)
    sh("iptables", "-w", "-X", GUARD_CHAIN, check=False)


# --- control plane --------------------------------------------------------


def admin_get(lay: Layout, path: str) -> bytes:
    ctx = ssl.create_default_context(cafile=str(lay.pki / "ca.crt"))
    ctx.load_cert_chain(str(lay.pki / "admin.crt"), str(lay.pki / "admin.key"))
    with urllib.request.urlopen(f"{lay.api_server}{path}", context=ctx, timeout=5) as resp:
        return resp.read()


def start_etcd(lay: Layout) -> None:
    etcd = binary(lay, "etcd", "etcd")
    spawn(lay, "etcd", [
        etcd, "--name", "node", "--data-dir", str(lay.state / "etcd"),
        "--listen-client-urls", ETCD_CLIENT, "--advertise-client-urls", ETCD_CLIENT,
        "--listen-peer-urls", ETCD_PEER, "--initial-advertise-peer-urls", ETCD_PEER,
        "--initial-cluster", f"node={ETCD_PEER}",
        # A throwaway test cluster on a shared disk: fsync latency is not worth paying.
        "--unsafe-no-fsync",
    ])  # fmt: skip
    wait_for("etcd", lambda: b"true" in urllib.request.urlopen(f"{ETCD_CLIENT}/health", timeout=2).read(),
             60, lay.logs / "etcd.log")  # fmt: skip


def start_apiserver(lay: Layout) -> None:
    k = pki_paths(lay)
    spawn(lay, "kube-apiserver", [
        binary(lay, "kubernetes", "kube-apiserver"),
        f"--etcd-servers={ETCD_CLIENT}",
        f"--advertise-address={NODE_IP}", f"--bind-address={NODE_IP}", f"--secure-port={API_PORT}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        f"--client-ca-file={k['ca.crt']}",
        f"--tls-cert-file={k['apiserver.crt']}", f"--tls-private-key-file={k['apiserver.key']}",
        f"--kubelet-client-certificate={k['apiserver-kubelet-client.crt']}",
        f"--kubelet-client-key={k['apiserver-kubelet-client.key']}",
        f"--kubelet-certificate-authority={k['ca.crt']}",
        "--kubelet-preferred-address-types=InternalIP",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={k['sa.pub']}", f"--service-account-signing-key-file={k['sa.key']}",
        "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=true",
        # API aggregation for KEDA's external.metrics.k8s.io adapter.
        f"--requestheader-client-ca-file={k['front-proxy-ca.crt']}",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--proxy-client-cert-file={k['front-proxy-client.crt']}",
        f"--proxy-client-key-file={k['front-proxy-client.key']}",
        # The apiserver is a host process: it reaches webhooks and aggregated APIs at
        # their pod addresses on the bridge, not through Service IPs.
        "--enable-aggregator-routing=true",
        "--profiling=false",
    ])  # fmt: skip
    wait_for(
        "kube-apiserver", lambda: admin_get(lay, "/readyz") == b"ok", 180, lay.logs / "kube-apiserver.log"
    )


def pki_paths(lay: Layout) -> dict[str, str]:
    return {p.name: str(p) for p in lay.pki.iterdir()}


def start_controllers(lay: Layout, kubeconfigs: dict[str, Path]) -> None:
    k = pki_paths(lay)
    cm = str(kubeconfigs["controller-manager"])
    spawn(lay, "kube-controller-manager", [
        binary(lay, "kubernetes", "kube-controller-manager"),
        f"--kubeconfig={cm}", f"--authentication-kubeconfig={cm}", f"--authorization-kubeconfig={cm}",
        "--bind-address=127.0.0.1", "--leader-elect=false", "--use-service-account-credentials=true",
        f"--cluster-signing-cert-file={k['ca.crt']}", f"--cluster-signing-key-file={k['ca.key']}",
        f"--root-ca-file={k['ca.crt']}", f"--service-account-private-key-file={k['sa.key']}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
    ])  # fmt: skip
    sched = str(kubeconfigs["scheduler"])
    spawn(lay, "kube-scheduler", [
        binary(lay, "kubernetes", "kube-scheduler"),
        f"--kubeconfig={sched}", f"--authentication-kubeconfig={sched}",
        f"--authorization-kubeconfig={sched}",
        "--bind-address=127.0.0.1", "--leader-elect=false",
    ])  # fmt: skip


# --- node -----------------------------------------------------------------


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def start_containerd(lay: Layout) -> None:
    config = write(lay.state / "containerd.toml", configs.containerd_toml(lay))
    write(lay.state / "cni" / "net.d" / "10-llmaz-serverless.conflist", configs.cni_conflist(lay))
    spawn(lay, "containerd", ["containerd", "--config", config], env=NO_PULL_ENV)
    wait_for("containerd", lambda: ctr(lay, "version").returncode == 0, 60, lay.logs / "containerd.log")


def ctr(lay: Layout, *args: str) -> subprocess.CompletedProcess[str]:
    return sh("ctr", "--address", str(lay.containerd_socket), "-n", "k8s.io", *args, check=False)


def start_kubelet(lay: Layout, kubeconfigs: dict[str, Path]) -> None:
    write(lay.state / "resolv.conf", "")
    config = write(lay.state / "kubelet.yaml", configs.kubelet_config(lay))
    spawn(lay, "kubelet", [
        binary(lay, "kubernetes", "kubelet"),
        f"--config={config}", f"--kubeconfig={kubeconfigs['kubelet-client']}",
        f"--hostname-override={NODE_NAME}", f"--node-ip={NODE_IP}",
        f"--root-dir={lay.state / 'kubelet'}", f"--cert-dir={lay.state / 'kubelet-pki'}",
    ])  # fmt: skip


def node_ready(lay: Layout) -> bool:
    node = json.loads(admin_get(lay, f"/api/v1/nodes/{NODE_NAME}"))
    conds = {c["type"]: c["status"] for c in node["status"].get("conditions", [])}
    return conds.get("Ready") == "True"


def start_addons(lay: Layout, kubeconfigs: dict[str, Path], kubectl: str) -> None:
    proxy_cfg = write(
        lay.state / "kube-proxy.yaml", configs.kube_proxy_config(lay, str(kubeconfigs["kube-proxy"]))
    )
    spawn(lay, "kube-proxy", [binary(lay, "kubernetes", "kube-proxy"), f"--config={proxy_cfg}",
                              f"--hostname-override={NODE_NAME}"])  # fmt: skip
    rbac = write(lay.state / "coredns-rbac.yaml", configs.COREDNS_RBAC)
    sh(kubectl, "--kubeconfig", str(lay.kubeconfig), "apply", "--server-side", "-f", rbac)
    core = write(lay.state / "Corefile", configs.corefile(str(kubeconfigs["coredns"])))
    spawn(lay, "coredns", [binary(lay, "coredns", "coredns"), "-conf", core])
    health = f"http://{COREDNS_HEALTH}/health"
    wait_for("CoreDNS", lambda: urllib.request.urlopen(health, timeout=2).status == 200,
             60, lay.logs / "coredns.log")  # fmt: skip


# --- up / down ------------------------------------------------------------


def up(lay: Layout, kubectl: str, import_images: Callable[[str], None]) -> None:
    started = time.monotonic()
    ensure_host_tools(*NODE_TOOLS)
    lay.state.mkdir(parents=True, exist_ok=True)
    network_up()
    addr = pki.ClusterAddresses(NODE_NAME, NODE_IP, SERVICE_IP)
    pki.make_pki(lay.pki, addr)
    kubeconfigs = pki.write_kubeconfigs(lay.pki, lay.state / "kubeconfigs", lay.api_server, CLUSTER_NAME)
    lay.kubeconfig.write_bytes(kubeconfigs["admin"].read_bytes())
    lay.kubeconfig.chmod(0o600)
    start_etcd(lay)
    start_apiserver(lay)
    start_controllers(lay, kubeconfigs)
    start_containerd(lay)
    import_images(str(lay.containerd_socket))
    start_kubelet(lay, kubeconfigs)
    wait_for("the node to be Ready", lambda: node_ready(lay), 180, lay.logs / "kubelet.log")
    start_addons(lay, kubeconfigs, kubectl)
    print(f"cluster: up in {time.monotonic() - started:.0f} s; KUBECONFIG={lay.kubeconfig}", flush=True)


NODE_PROCESSES = ("coredns", "kube-proxy", "kubelet")
CONTROL_PLANE = ("kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd")


def down(lay: Layout) -> list[str]:
    """Stop everything and remove every trace; returns what was cleaned, for the log."""
    done: list[str] = []
    for name in NODE_PROCESSES:
        stop(lay, name)
    if pid_of(lay, "containerd") is not None:
        crictl = binary_path(lay, "cri-tools", "crictl")
        if crictl.is_file():
            # Through the CRI, so the CNI plugin releases addresses and veths.
            sh(
                str(crictl),
                "--runtime-endpoint",
                f"unix://{lay.containerd_socket}",
                "rmp",
                "-fa",
                check=False,
            )
            done.append("pods removed through the CRI")
    stop(lay, "containerd")
    done += kill_leftovers(lay)
    for name in CONTROL_PLANE:
        stop(lay, name)
    kube_proxy = binary_path(lay, "kubernetes", "kube-proxy")
    if kube_proxy.is_file():
        sh(str(kube_proxy), "--cleanup", check=False)
        done.append("kube-proxy rules removed")
    if chains := remove_kube_chains():
        done.append(f"removed {len(chains)} KUBE-* chains kubelet left")
    guard_down()
    done += unmount_under((lay.state, lay.run))
    remove_pod_cgroups()
    if sh("ip", "link", "show", BRIDGE, check=False).returncode == 0:
        sh("ip", "link", "delete", BRIDGE)
        done.append(f"bridge {BRIDGE} deleted")
    for root in (lay.state, lay.run):
        sh("rm", "-rf", "--one-file-system", str(root), check=False)
    remove_host_traces(lay)
    return done


def kill_leftovers(lay: Layout) -> list[str]:
    """containerd shims outlive containerd; kill those of our socket and their containers."""
    killed = []
    marker = str(lay.containerd_socket)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "containerd-shim" in cmdline and marker in cmdline:
                os.kill(int(proc.name), signal.SIGKILL)
                killed.append(proc.name)
    for procs in CGROUP_ROOT.glob("*/kubepods/**/cgroup.procs"):
        with contextlib.suppress(OSError):
            for pid in procs.read_text().split():
                os.kill(int(pid), signal.SIGKILL)
                killed.append(pid)
    return [f"killed {len(killed)} leftover container processes"] if killed else []


def unmount_under(roots: tuple[Path, ...]) -> list[str]:
    mounts = sh("findmnt", "-rn", "-o", "TARGET", check=False).stdout.split()
    ours = [m for m in mounts if any(m == str(r) or m.startswith(f"{r}/") for r in roots)]
    for target in sorted(ours, key=len, reverse=True):
        sh("umount", "-l", target, check=False)
    return [f"unmounted {len(ours)} mounts"] if ours else []


def remove_pod_cgroups() -> None:
    """kubelet's QoS cgroups (kubepods/...) in every v1 hierarchy, deepest first."""
    for top in CGROUP_ROOT.glob("*/kubepods"):
        for d in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                d.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


def remove_host_traces(lay: Layout) -> None:
    """Files kubelet and CNI write outside our directories."""
    for link in Path("/var/log/containers").glob("*.log"):
        with contextlib.suppress(OSError):
            if str(lay.state) in os.readlink(link):
                link.unlink()
    for result in Path("/var/lib/cni/results").glob(f"{CLUSTER_NAME}-*"):
        result.unlink(missing_ok=True)


def status(lay: Layout, kubectl: str) -> str:
    lines = [f"kubeconfig: {lay.kubeconfig}" + ("" if lay.kubeconfig.is_file() else " (absent)")]
    bridge = "up" if sh("ip", "link", "show", BRIDGE, check=False).returncode == 0 else "absent"
    lines.append(f"bridge {BRIDGE}: {bridge}, pods {POD_CIDR}, services {SERVICE_CIDR}")
    for name in (*reversed(CONTROL_PLANE), "containerd", *reversed(NODE_PROCESSES)):
        pid = pid_of(lay, name)
        lines.append(f"  {name:<24} {'running, pid ' + str(pid) if pid else 'stopped'}")
    if pid_of(lay, "kube-apiserver"):
        kc = ["--kubeconfig", str(lay.kubeconfig)]
        lines.append(sh(kubectl, *kc, "get", "nodes", "-o", "wide", check=False).stdout.rstrip())
        lines.append(sh(kubectl, *kc, "get", "pods", "-A", "-o", "wide", check=False).stdout.rstrip())
    return "\n".join(lines)
