"""KubeApi bodies, and RestKubeApi's requests on the wire.

No API server runs here; the wire test points RestKubeApi at a local aiohttp
server that records what arrives, to check method, path, content type, auth and
body against what the Kubernetes API expects.
"""

import datetime as dt
import json

import pytest
from aiohttp import web
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from llmaz_serverless.warmup.kube import (
    STRATEGIC_MERGE,
    KubeApiError,
    RestKubeApi,
    condition_patch,
    event_body,
    object_reference,
)
from llmaz_serverless_testing.warmup import T0, make_playground, make_pod


def test_condition_patch_sets_one_condition_by_type():
    patch = condition_patch("serving.llmaz-serverless.io/warmed", True, "Warmed", "ok", T0)
    (cond,) = patch["status"]["conditions"]
    assert cond == {
        "type": "serving.llmaz-serverless.io/warmed",
        "status": "True",
        "reason": "Warmed",
        "message": "ok",
        "lastTransitionTime": "2026-03-02T09:00:00Z",
        "lastProbeTime": None,
    }


def test_event_body_refers_to_playground_with_its_uid():
    ref = object_reference(make_playground(1))
    event = event_body(
        ref, "Warning", "WarmupTimedOut", "x" * 2000, T0 + dt.timedelta(microseconds=5), "ctl-0"
    )
    assert event["involvedObject"] == {
        "apiVersion": "inference.llmaz.io/v1alpha1",
        "kind": "Playground",
        "name": "llama",
        "namespace": "models",
        "uid": "c1b2a3d4-0000-4e5f-8a9b-112233445566",
    }
    assert event["metadata"] == {"generateName": "llama.", "namespace": "models"}
    assert len(event["message"]) == 1024
    assert event["eventTime"] == "2026-03-02T09:00:00.000005Z"
    assert event["source"] == {"component": "llmaz-serverless-warmup"}
    assert event["type"] == "Warning"


@pytest.fixture
async def recording_api_server():
    seen: list[dict] = []
    status = {"code": 200}

    async def record(request: web.Request) -> web.Response:
        seen.append(
            {
                "method": request.method,
                "path": request.path,
                "content_type": request.headers.get("Content-Type"),
                "auth": request.headers.get("Authorization"),
                "body": json.loads(await request.text()),
            }
        )
        return web.json_response({"kind": "Status", "code": status["code"]}, status=status["code"])

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", seen, status
    await runner.cleanup()


def rest_api(host: str) -> RestKubeApi:
    """A client configured by the kubernetes package's own kubeconfig loader, as in a real run.

    The loader stores the token under a key that changed between releases of the package
    (`authorization` before 36, `BearerToken` after), so the test does not set it by hand.
    """
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": {"server": host}}],
        "users": [{"name": "test", "user": {"token": "s3cret"}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
        "current-context": "test",
    }
    cfg = k8s.Configuration()
    k8s_config.load_kube_config_from_dict(kubeconfig, client_configuration=cfg)
    return RestKubeApi(cfg)


async def test_pod_status_patch_goes_to_status_subresource_as_strategic_merge(recording_api_server):
    host, seen, _ = recording_api_server
    api = rest_api(host)
    patch = condition_patch("serving.llmaz-serverless.io/warmed", True, "Warmed", "ok", T0)
    await api.patch_pod_status("models", "llama-0", patch)
    await api.close()
    assert seen == [
        {
            "method": "PATCH",
            "path": "/api/v1/namespaces/models/pods/llama-0/status",
            "content_type": STRATEGIC_MERGE,
            "auth": "Bearer s3cret",
            "body": patch,
        }
    ]


async def test_event_is_posted_to_its_namespace(recording_api_server):
    host, seen, _ = recording_api_server
    api = rest_api(host)
    event = event_body(object_reference(make_pod()), "Normal", "Warmed", "ok", T0, "ctl-0")
    await api.create_event("models", event)
    await api.close()
    assert seen[0]["method"] == "POST"
    assert seen[0]["path"] == "/api/v1/namespaces/models/events"
    assert seen[0]["content_type"] == "application/json"
    assert seen[0]["body"]["involvedObject"]["kind"] == "Pod"


async def test_api_error_carries_status_when_forbidden(recording_api_server):
    host, _, status = recording_api_server
    status["code"] = 403
    api = rest_api(host)
    with pytest.raises(KubeApiError) as err:
        await api.patch_pod_status("models", "llama-0", {})
    await api.close()
    assert err.value.status == 403
    assert "pods/llama-0/status answered 403" in str(err.value)
