"""KubernetesSource through the real kubernetes client against a loopback HTTP endpoint.

No API server runs on this machine (see ENVIRONMENT.md), so a small aiohttp
app answers the two calls the source makes, the Playground scale subresource
and the pods of its selector, with the documents the API server returns;
everything else (kubeconfig loading, the client, the URLs it builds) is real.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from llmaz_serverless.launcher import free_port
from llmaz_serverless.loadtest.replicas import KubernetesSource, ModelRef

pytestmark = pytest.mark.integration

SCALE_PATH = "/apis/inference.llmaz.io/v1alpha1/namespaces/models/playgrounds/llama3-8b/scale"
PODS_PATH = "/api/v1/namespaces/models/pods"


def _pod(name: str, ready: str, deleting: bool = False) -> dict:
    metadata: dict = {"name": name, "namespace": "models"}
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-06T17:00:00Z"
    return {"metadata": metadata, "status": {"conditions": [{"type": "Ready", "status": ready}]}}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    seen: list[str] = []

    async def scale(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": "llama3-8b", "namespace": "models"},
            "spec": {"replicas": 2}, "status": {"replicas": 1, "selector": "app=llama3-8b"},
        })  # fmt: skip

    async def pods(request: web.Request) -> web.Response:
        seen.append(f"{request.path}?labelSelector={request.query.get('labelSelector')}")
        # One loading pod, one Ready, one Ready but being deleted (scale-down): 1 Ready counts.
        items = [_pod("llama3-8b-0", "False"), _pod("llama3-8b-1", "True"), _pod("llama3-8b-2", "True", True)]
        return web.json_response({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})

    port = free_port()
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_get(SCALE_PATH, scale)
    app.router.add_get(PODS_PATH, pods)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: local\n"
        f"clusters: [{{name: local, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "contexts: [{name: local, context: {cluster: local, user: me}}]\n"
        "users: [{name: me, user: {token: t}}]\n"
    )
    try:
        yield kubeconfig, seen
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


def test_scale_subresource_gives_replicas_and_desired_and_ready_pods_when_read(
    api: tuple[Path, list[str]],
) -> None:
    kubeconfig, seen = api
    source = KubernetesSource([ModelRef("llama-3-8b", "llama3-8b", "models")], kubeconfig=str(kubeconfig))
    try:
        (reading,) = source.read()
    finally:
        source.close()
    assert seen == [SCALE_PATH, f"{PODS_PATH}?labelSelector=app=llama3-8b"]
    assert (reading.model, reading.replicas, reading.desired, reading.ready) == ("llama-3-8b", 1, 2, 1)
