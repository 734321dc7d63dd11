"""The whole controller process logic (`run_controller`: kopf, webhook, /metrics) against a
stand-in Kubernetes API on loopback.

No API server runs here, so a small aiohttp app answers the few endpoints the
controller uses, the way the API does: discovery, list + watch of pods and
Playgrounds in one namespace (JSON lines), pods/status patches (merged by
condition type, then sent back on the watch) and Event creation. Everything it
is asked is recorded, so the test also checks the controller stays inside its RBAC
(pods get/list/watch, pods/status patch, events create, playgrounds get/list/watch).
The model server behind the pod's IP is a real emulator process.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import datetime as dt
import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp import web

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.launcher import free_port
from llmaz_serverless.warmup.operator import run_controller
from llmaz_serverless.warmup.pods import GATE_CONDITION
from llmaz_serverless_testing.warmup import apply_status_patch, make_playground, make_pod

pytestmark = pytest.mark.integration

NS = "models"
POD_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]
API_V1 = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": POD_VERBS},
        {"name": "pods/status", "singularName": "", "namespaced": True, "kind": "Pod",
         "verbs": ["get", "patch"]},
        {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event", "verbs": POD_VERBS},
        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
         "verbs": ["get", "list", "watch"]},
    ],
}  # fmt: skip
LLMAZ_V1ALPHA1 = {
    "kind": "APIResourceList",
    "groupVersion": "inference.llmaz.io/v1alpha1",
    "resources": [
        {"name": "playgrounds", "singularName": "playground", "namespaced": True, "kind": "Playground",
         "verbs": POD_VERBS},
        {"name": "playgrounds/scale", "singularName": "", "namespaced": True, "kind": "Scale",
         "group": "autoscaling", "version": "v1", "verbs": ["get", "patch", "update"]},
    ],
}  # fmt: skip
API_GROUPS = {
    "kind": "APIGroupList",
    "apiVersion": "v1",
    "groups": [
        {
            "name": "inference.llmaz.io",
            "versions": [{"groupVersion": "inference.llmaz.io/v1alpha1", "version": "v1alpha1"}],
            "preferredVersion": {"groupVersion": "inference.llmaz.io/v1alpha1", "version": "v1alpha1"},
        }
    ],
}


@dataclass
class FakeApi:
    pods: dict[str, dict] = field(default_factory=dict)
    playgrounds: dict[str, dict] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    patches: list[tuple[str, dict]] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    watchers: dict[str, list[asyncio.Queue]] = field(default_factory=lambda: {"pods": [], "playgrounds": []})
    version: int = 10

    def push(self, kind: str, event_type: str, obj: dict) -> None:
        """Store and send a change to every open watch, as the API would."""
        self.version += 1
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self.version)
        store = self.pods if kind == "pods" else self.playgrounds
        if event_type == "DELETED":
            store.pop(obj["metadata"]["name"], None)
        else:
            store[obj["metadata"]["name"]] = obj
        for queue in self.watchers[kind]:
            queue.put_nowait({"type": event_type, "object": obj})

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.requests.append((request.method, request.path_qs))
            path = request.path
            if request.method == "GET" and path == "/version":
                return web.json_response({"major": "1", "minor": "35", "gitVersion": "v1.35.2"})
            if request.method == "GET" and path == "/api":
                return web.json_response({"kind": "APIVersions", "versions": ["v1"]})
            if request.method == "GET" and path == "/api/v1":
                return web.json_response(API_V1)
            if request.method == "GET" and path == "/apis":
                return web.json_response(API_GROUPS)
            if request.method == "GET" and path == "/apis/inference.llmaz.io/v1alpha1":
                return web.json_response(LLMAZ_V1ALPHA1)
            if path == f"/api/v1/namespaces/{NS}/pods" and request.method == "GET":
                return await self._list_or_watch(request, "pods", "PodList", "v1")
            if (
                path == f"/apis/inference.llmaz.io/v1alpha1/namespaces/{NS}/playgrounds"
                and request.method == "GET"
            ):
                return await self._list_or_watch(
                    request, "playgrounds", "PlaygroundList", "inference.llmaz.io/v1alpha1"
                )
            if (
                request.method == "PATCH"
                and path.startswith(f"/api/v1/namespaces/{NS}/pods/")
                and path.endswith("/status")
            ):
                assert request.headers["Content-Type"] == "application/strategic-merge-patch+json"
                name = path.split("/")[-2]
                patch = await request.json()
                self.patches.append((name, patch))
                patched = apply_status_patch(self.pods[name], patch)
                self.push("pods", "MODIFIED", patched)
                return web.json_response(self.pods[name])
            if request.method == "POST" and path == f"/api/v1/namespaces/{NS}/events":
                self.events.append(await request.json())
                return web.json_response(self.events[-1], status=201)
            return web.json_response({"kind": "Status", "code": 404, "message": f"no {path}"}, status=404)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        return app

    async def _list_or_watch(self, request: web.Request, kind: str, list_kind: str, api_version: str):
        store = self.pods if kind == "pods" else self.playgrounds
        if request.query.get("watch") not in ("true", "1"):
            return web.json_response(
                {
                    "kind": list_kind,
                    "apiVersion": api_version,
                    "metadata": {"resourceVersion": str(self.version)},
                    "items": list(store.values()),
                }
            )
        queue: asyncio.Queue = asyncio.Queue()
        self.watchers[kind].append(queue)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        try:
            while True:
                event = await queue.get()
                await response.write(json.dumps(event).encode() + b"\n")
        finally:
            self.watchers[kind].remove(queue)


async def wait_for(predicate, within: float = 20.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not predicate():
        assert loop.time() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_controller_gates_warms_and_times_a_scale_up_through_kopf(
    sim, tmp_path: Path, write_tls, monkeypatch
):
    model_server = sim(ttft=0.01)
    fake = FakeApi()
    fake.playgrounds["llama"] = make_playground(0)
    runner = web.AppRunner(fake.app(), handler_cancellation=True)
    await runner.setup()
    api_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{api_port}"}}],
                "users": [{"name": "warmup", "user": {"token": "t0k3n"}}],
                "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "warmup"}}],
                "current-context": "fake",
            }
        )
    )
    # Both kopf's login and RestKubeApi load the default kubeconfig, whose path the
    # kubernetes package reads from $KUBECONFIG once, at import.
    monkeypatch.setattr("kubernetes.config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    cert_file, key_file = write_tls(tmp_path, "127.0.0.1")
    metrics_port, webhook_port = free_port(), free_port()
    config = RuntimeConfig.model_validate(
        {
            "models": [
                {
                    "name": "llama-3-8b",
                    "playground": "llama",
                    "namespace": NS,
                    "upstream": "http://127.0.0.1:9",
                    "warmup": {"deadline": "15s", "prompts": [{"promptTokens": 64, "maxTokens": 4}]},
                }
            ],
            "warmup": {
                "modelPort": model_server.port,
                "metricsPort": metrics_port,
                "listenAddress": "127.0.0.1",
                "webhook": {"port": webhook_port, "certFile": str(cert_file), "keyFile": str(key_file)},
                "timeline": {"firstTokenPollInterval": "100ms"},
            },
        }
    )
    stop = asyncio.Event()
    controller = asyncio.create_task(run_controller(config, stop_flag=stop))
    try:
        await wait_for(lambda: fake.watchers["pods"] and fake.watchers["playgrounds"], what="watches")

        # KEDA scales the Playground 0 -> 1; llmaz/LWS create the leader pod, which starts.
        fake.push("playgrounds", "MODIFIED", make_playground(1))
        await wait_for(lambda: any(e["reason"] == "ScaleUpSeen" for e in fake.events), what="ScaleUpSeen")
        created = dt.datetime.now(dt.UTC).replace(microsecond=0)
        for stage in ("created", "scheduled", "started", "healthy"):
            pod = make_pod(stage, pod_ip="127.0.0.1", created=created, offsets=(0, 1, 2, 3))
            fake.push("pods", "ADDED" if stage == "created" else "MODIFIED", pod)
        await wait_for(lambda: fake.patches, what="gate patch")
        await wait_for(lambda: any(e["reason"] == "ColdStartTimeline" for e in fake.events), what="summary")

        ((name, patch),) = fake.patches
        (cond,) = patch["status"]["conditions"]
        assert (name, cond["type"], cond["status"], cond["reason"]) == (
            "llama-0",
            GATE_CONDITION,
            "True",
            "Warmed",
        )
        assert fake.pods["llama-0"]["status"]["conditions"][-2]["type"] == "Ready"
        reasons = [(e["involvedObject"]["kind"], e["reason"]) for e in fake.events]
        assert ("Pod", "Warmed") in reasons
        assert [r for k, r in reasons if k == "Playground"][:2] == ["ScaleUpSeen", "ReplicaCreated"]

        # The admission webhook is served by the same process with the chart's certificate.
        ca = ssl.create_default_context(cafile=str(cert_file))
        review = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "0a1b",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "namespace": NS,
                "operation": "CREATE",
                "userInfo": {"username": "system:serviceaccount:kube-system:statefulset-controller"},
                "object": {k: v for k, v in make_pod("created", gated=False).items() if k != "status"},
            },
        }
        async with aiohttp.ClientSession() as session:
            url = f"https://127.0.0.1:{webhook_port}/gate-readiness-until-warm"
            async with session.post(url, json=review, ssl=ca) as resp:
                answer = (await resp.json())["response"]
            async with session.get(f"http://127.0.0.1:{metrics_port}/metrics") as resp:
                metrics_text = await resp.text()
        assert answer["allowed"] is True
        assert json.loads(base64.b64decode(answer["patch"])) == [
            {"op": "add", "path": "/spec/readinessGates", "value": [{"conditionType": GATE_CONDITION}]}
        ]
        assert (
            'llmaz_serverless_readiness_gates_opened_total{model="llama-3-8b",reason="Warmed"} 1.0'
            in metrics_text
        )
    finally:
        stop.set()
        await asyncio.wait_for(controller, 30)
        await runner.cleanup()

    # RBAC footprint: reads of pods and Playgrounds in the models' namespace, discovery,
    # pods/status patches and Event creation; nothing else.
    for method, path in fake.requests:
        allowed = (
            (method == "GET" and path.split("?")[0] in ("/version", "/api", "/api/v1", "/apis"))
            or (method == "GET" and path.startswith("/apis/inference.llmaz.io/v1alpha1"))
            or (method == "GET" and path.startswith(f"/api/v1/namespaces/{NS}/pods"))
            or (method == "PATCH" and path.endswith("/status") and f"/namespaces/{NS}/pods/" in path)
            or (method == "POST" and path == f"/api/v1/namespaces/{NS}/events")
        )
        assert allowed, f"controller called {method} {path}, outside its RBAC"
