"""`make cluster`, `make cluster-down`, `make cluster-status`: one real Kubernetes node on this machine.

    python3 scripts/cluster/cluster.py build    # binaries and images only (cached)
    python3 scripts/cluster/cluster.py up       # build what is missing, then start the node
    python3 scripts/cluster/cluster.py status   # kubeconfig, node, processes, pods
    python3 scripts/cluster/cluster.py down     # stop everything and remove every trace
    python3 scripts/cluster/cluster.py cached   # exit 0 if every binary is built (CI's e2e gate)

Needs root (bridge, iptables, mounts). Works offline: every binary is built from its
upstream Go module (versions.toml [cluster]) and every image is built locally.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import build  # noqa: E402
import images  # noqa: E402
import node  # noqa: E402
from layout import default_layout, load_pins  # noqa: E402


def kubectl() -> str:
    local = REPO / ".bin" / "kubectl"
    found = str(local) if local.is_file() else shutil.which("kubectl")
    if not found:
        raise SystemExit("kubectl not found: run `make tools` first")
    return found


def build_everything() -> None:
    started = time.monotonic()
    build.build_all()
    images.build_all()
    print(f"cluster: binaries and images ready in {time.monotonic() - started:.0f} s", flush=True)


def cached() -> int:
    """0 when every pinned binary is built (the hour of compiling is done); else 1, saying what is missing.

    Images are not part of it: `up` builds any that are missing in minutes.
    """
    pins = load_pins()
    missing = [f"{n} {p['version']}" for n, p in pins.items() if "module" in p and not build.is_built(n, p)]
    if missing:
        print(f"the local cluster is not built on this machine (missing: {', '.join(missing)}); "
              "`make cluster-build` builds it (about an hour on 2 cores)")  # fmt: skip
        return 1
    print(f"every binary of the local cluster is built in {build.cache_dir() / 'bin'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["build", "up", "down", "status", "cached"])
    a = ap.parse_args(argv)
    lay = default_layout()
    if a.command == "cached":
        return cached()
    if a.command != "build" and os.geteuid() != 0:
        raise SystemExit("the local cluster needs root (bridge, iptables, mounts): run it with sudo")
    if a.command == "build":
        build_everything()
    elif a.command == "up":
        build_everything()
        node.up(lay, kubectl(), images.import_all)
        print(node.status(lay, kubectl()))
    elif a.command == "down":
        for line in node.down(lay):
            print(f"cluster: {line}")
        print("cluster: down")
    else:
        print(node.status(lay, kubectl()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
