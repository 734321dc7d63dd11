"""A Kubernetes API stand-in on 127.0.0.1 that helm can `lookup` against.

No API server runs on this machine, yet the chart's upgrade path reads live
objects with `lookup` (the replica count KEDA set, the webhook's TLS Secret).
`helm template --dry-run=server` performs those lookups for real against the
kubeconfig's server; this process answers them: API discovery for the kinds
the chart renders (so helm can map every document) and GET of the objects a
test put in its store. Anything else is a 404, which `lookup` reads as absent.
Every request is recorded, so tests can assert what helm asked for.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from llmaz_serverless.launcher import free_port

CLUSTER_SCOPED = {
    "OpenModel",
    "MutatingWebhookConfiguration",
    "ClusterRole",
    "ClusterRoleBinding",
    "Namespace",
}


def plural(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    if lower.endswith("s"):
        return lower + "es"
    return lower + "s"


@dataclass
class FakeAPIServer:
    kinds: set[tuple[str, str]]  # (apiVersion, kind) to announce in discovery
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # URL path -> object
    requests: list[str] = field(default_factory=list)
    port: int = 0

    def add(self, obj: dict[str, Any]) -> None:
        """Store an object; helm's lookup GETs it by its REST path."""
        self.kinds.add((obj["apiVersion"], obj["kind"]))
        self.objects[self.path_of(obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace"),
                                  obj["metadata"]["name"])] = obj  # fmt: skip

    @staticmethod
    def path_of(api_version: str, kind: str, namespace: str | None, name: str) -> str:
        base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        if kind in CLUSTER_SCOPED or not namespace:
            return f"{base}/{plural(kind)}/{name}"
        return f"{base}/namespaces/{namespace}/{plural(kind)}/{name}"

    def _group_versions(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for api_version, kind in sorted(self.kinds):
            out.setdefault(api_version, []).append(kind)
        return out

    def respond(self, path: str) -> tuple[int, dict[str, Any]]:
        gvs = self._group_versions()
        if path == "/version":
            return 200, {"major": "1", "minor": "35", "gitVersion": "v1.35.2", "platform": "linux/amd64"}
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if path == "/apis":
            groups: dict[str, list[str]] = {}
            for gv in gvs:
                if "/" in gv:
                    group, version = gv.split("/")
                    groups.setdefault(group, []).append(version)
            return 200, {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [
                    {
                        "name": g,
                        "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                        "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]},
                    }
                    for g, vs in groups.items()
                ],
            }
        for gv, kinds in gvs.items():
            if path == (f"/api/{gv}" if "/" not in gv else f"/apis/{gv}"):
                return 200, {
                    "kind": "APIResourceList",
                    "groupVersion": gv,
                    "resources": [
                        {
                            "name": plural(k),
                            "singularName": k.lower(),
                            "namespaced": k not in CLUSTER_SCOPED,
                            "kind": k,
                            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                        }
                        for k in kinds
                    ],
                }
        if path in self.objects:
            return 200, self.objects[path]
        return 404, {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": "NotFound",
            "code": 404,
        }

    def kubeconfig(self, directory: Path) -> Path:
        path = directory / "kubeconfig"
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{self.port}"}}],
                    "users": [{"name": "u", "user": {"token": "fake"}}],
                    "contexts": [{"name": "c", "context": {"cluster": "fake", "user": "u"}}],
                    "current-context": "c",
                }
            ),
            encoding="utf-8",
        )
        path.chmod(0o600)
        return path


@contextmanager
def serve(
    kinds: Iterable[tuple[str, str]], objects: Iterable[dict[str, Any]] = ()
) -> Iterator[FakeAPIServer]:
    api = FakeAPIServer(kinds=set(kinds))
    for obj in objects:
        api.add(obj)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            api.requests.append(path)
            status, body = api.respond(path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    api.port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", api.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
