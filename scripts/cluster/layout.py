"""Where the local cluster keeps things, and the addresses it uses.

Durable things (built binaries, image archives, logs) live in the cache; the
running cluster's state lives in `<cache>/state` and `/run/llmaz-serverless-cluster`
(sockets and runtime state, short paths for the unix-socket limit). `down` removes
both state trees; only the cache of builds stays.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

CLUSTER_NAME = "llmaz-serverless-local"
NODE_NAME = "llmaz-serverless-node"
# 198.18.0.0/15 is reserved for network testing (RFC 2544): nobody's real network,
# so no pod or service address can be mistaken for a host outside this VM.
BRIDGE = "lsc0"
NODE_IP = "198.18.0.1"
POD_CIDR = "198.18.0.0/24"
SERVICE_CIDR = "198.19.0.0/16"
SERVICE_IP = "198.19.0.1"
GUARDED_RANGE = "198.18.0.0/15"
CLUSTER_DOMAIN = "cluster.local"
API_PORT = 6443
ETCD_CLIENT = "http://127.0.0.1:23790"
ETCD_PEER = "http://127.0.0.1:23800"
# CoreDNS's health endpoint, on loopback; an uncommon port (a port-forward on 18080 once
# landed on it instead of the gateway).
COREDNS_HEALTH = "127.0.0.1:19153"


# The project's one pins file, at the repository's root; the cluster's pins are its [cluster.*].
PINS = Path(__file__).resolve().parents[2] / "versions.toml"


def load_pins() -> dict[str, dict]:
    """Every pin of the local cluster (versions.toml [cluster]): the Go components and `[images]`."""
    return tomllib.loads(PINS.read_text())["cluster"]


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "llmaz-serverless-cluster"
    return Path(os.environ.get("LLMAZ_SERVERLESS_CLUSTER_CACHE", default))


@dataclass(frozen=True)
class Layout:
    cache: Path
    run: Path = Path("/run/llmaz-serverless-cluster")

    @property
    def state(self) -> Path:
        return self.cache / "state"

    @property
    def pki(self) -> Path:
        return self.state / "pki"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def pids(self) -> Path:
        return self.run / "pids"

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig users and the e2e tests use."""
        return self.state / "kubeconfig"

    @property
    def containerd_socket(self) -> Path:
        return self.run / "containerd" / "containerd.sock"

    @property
    def api_server(self) -> str:
        return f"https://{NODE_IP}:{API_PORT}"

    def bin(self, component: str, version: str) -> Path:
        return self.cache / "bin" / f"{component}-{version}"


def default_layout() -> Layout:
    return Layout(cache_dir())
