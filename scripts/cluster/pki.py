"""Certificates and kubeconfigs of the local cluster, made with the openssl CLI.

One cluster CA signs every serving and client certificate; a second CA signs the
front proxy's client certificate, because the aggregation layer (KEDA's metrics
adapter) trusts the request-header identity only from that CA. Identities follow
kubeadm's (CN = user, O = group) so the built-in RBAC roles apply unchanged.
"""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DAYS = "3650"


@dataclass(frozen=True)
class Identity:
    """One certificate: its file stem, subject and (for servers) SANs."""

    stem: str
    cn: str
    groups: tuple[str, ...] = ()
    sans: tuple[str, ...] = ()
    ca: str = "ca"
    server: bool = False


@dataclass(frozen=True)
class ClusterAddresses:
    node_name: str
    node_ip: str
    service_ip: str
    sans: tuple[str, ...] = field(default=())


def identities(addr: ClusterAddresses) -> list[Identity]:
    api_sans = (
        f"IP:{addr.node_ip}",
        f"IP:{addr.service_ip}",
        "IP:127.0.0.1",
        "DNS:localhost",
        "DNS:kubernetes",
        "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc",
        "DNS:kubernetes.default.svc.cluster.local",
    )
    node = addr.node_name
    return [
        Identity("apiserver", "kube-apiserver", sans=api_sans, server=True),
        # The apiserver's client certificate to kubelets (logs, exec, port-forward).
        Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("system:masters",)),
        Identity("front-proxy-client", "front-proxy-client", ca="front-proxy-ca"),
        Identity("admin", "kubernetes-admin", ("system:masters",)),
        Identity("controller-manager", "system:kube-controller-manager"),
        Identity("scheduler", "system:kube-scheduler"),
        Identity("kubelet-client", f"system:node:{node}", ("system:nodes",)),
        Identity(
            "kubelet-serving", f"system:node:{node}", sans=(f"IP:{addr.node_ip}", f"DNS:{node}"), server=True
        ),
        Identity("kube-proxy", "system:kube-proxy"),
        # CoreDNS runs on the host; it reads Services and EndpointSlices as this user,
        # bound to the `system:coredns` ClusterRole that node.py applies.
        Identity("coredns", "system:coredns"),
    ]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(pki: Path, stem: str, cn: str) -> None:
    if (pki / f"{stem}.crt").is_file():
        return
    _openssl("genrsa", "-out", f"{stem}.key", "2048", cwd=pki)
    _openssl("req", "-x509", "-new", "-key", f"{stem}.key", "-days", DAYS, "-subj", f"/CN={cn}",
             "-out", f"{stem}.crt", cwd=pki)  # fmt: skip


def make_cert(pki: Path, ident: Identity) -> None:
    if (pki / f"{ident.stem}.crt").is_file():
        return
    subject = "".join(f"/O={g}" for g in ident.groups) + f"/CN={ident.cn}"
    usage = "serverAuth" if ident.server else "clientAuth"
    ext = [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        f"extendedKeyUsage={usage}",
    ]
    if ident.sans:
        ext.append("subjectAltName=" + ",".join(ident.sans))
    (pki / f"{ident.stem}.ext").write_text("\n".join(ext) + "\n")
    _openssl("genrsa", "-out", f"{ident.stem}.key", "2048", cwd=pki)
    _openssl(
        "req", "-new", "-key", f"{ident.stem}.key", "-subj", subject, "-out", f"{ident.stem}.csr", cwd=pki
    )
    _openssl("x509", "-req", "-in", f"{ident.stem}.csr", "-CA", f"{ident.ca}.crt",
             "-CAkey", f"{ident.ca}.key", "-CAcreateserial", "-days", DAYS,
             "-extfile", f"{ident.stem}.ext", "-out", f"{ident.stem}.crt", cwd=pki)  # fmt: skip


def make_pki(pki: Path, addr: ClusterAddresses) -> None:
    """Create every key and certificate the cluster needs (kept if already there)."""
    pki.mkdir(parents=True, exist_ok=True)
    make_ca(pki, "ca", "llmaz-serverless-local-ca")
    make_ca(pki, "front-proxy-ca", "llmaz-serverless-local-front-proxy-ca")
    for ident in identities(addr):
        make_cert(pki, ident)
    if not (pki / "sa.key").is_file():
        _openssl("genrsa", "-out", "sa.key", "2048", cwd=pki)
        _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def kubeconfig(pki: Path, stem: str, server: str, cluster: str) -> dict:
    """A kubeconfig with the certificates embedded, so it can be copied anywhere."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster,
                "cluster": {"server": server, "certificate-authority-data": _b64(pki / "ca.crt")},
            }
        ],
        "users": [
            {
                "name": stem,
                "user": {
                    "client-certificate-data": _b64(pki / f"{stem}.crt"),
                    "client-key-data": _b64(pki / f"{stem}.key"),
                },
            }
        ],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": stem}}],
        "current-context": cluster,
    }


def write_kubeconfigs(pki: Path, out: Path, server: str, cluster: str) -> dict[str, Path]:
    """One kubeconfig per client identity; returns stem -> path."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for stem in ("admin", "controller-manager", "scheduler", "kubelet-client", "kube-proxy", "coredns"):
        path = out / f"{stem}.kubeconfig"
        path.write_text(yaml.safe_dump(kubeconfig(pki, stem, server, cluster), sort_keys=False))
        path.chmod(0o600)
        paths[stem] = path
    return paths
