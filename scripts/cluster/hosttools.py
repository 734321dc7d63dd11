"""Debian packages the local cluster needs on the host, installed when missing.

A fresh machine has none of them: `make cluster` must install what it runs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# A command (or an absolute path) -> the Debian packages that provide it.
PACKAGES = {
    "ctr": "containerd runc",
    "containerd": "containerd",
    "runc": "runc",
    "/usr/lib/cni/bridge": "containernetworking-plugins",
    "iptables": "iptables",
    "conntrack": "conntrack",
    "openssl": "openssl",
    "ip": "iproute2",
    "findmnt": "util-linux",
    "debootstrap": "debootstrap",
    "gcc": "gcc libc6-dev",
}
NODE_TOOLS = (
    "containerd",
    "runc",
    "ctr",
    "/usr/lib/cni/bridge",
    "iptables",
    "conntrack",
    "openssl",
    "ip",
    "findmnt",
)


def present(tool: str) -> bool:
    return Path(tool).exists() if tool.startswith("/") else shutil.which(tool) is not None


def ensure_host_tools(*tools: str) -> None:
    missing = [t for t in tools if not present(t)]
    if not missing:
        return
    packages = sorted({p for t in missing for p in PACKAGES.get(t, t).split()})
    print(f"cluster: installing {' '.join(packages)} from Debian", flush=True)
    subprocess.run(["apt-get", "update"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", *packages], check=True, stdout=subprocess.DEVNULL)
