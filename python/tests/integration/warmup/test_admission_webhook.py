"""The admission handler behind kopf's own webhook server, over real HTTPS on loopback.

The API server cannot run here, so the test plays its part: it POSTs AdmissionReview
requests to the URL and path the chart's MutatingWebhookConfiguration uses
(`/gate-readiness-until-warm`), trusting the CA the chart would put in `caBundle`,
and applies the JSONPatch answered to the pod. kopf's request handling
(`serve_admission_request`) is wired the way `kopf.operator` wires it; only resource
discovery is replaced by the one resource the webhook serves (pods).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import ssl
import uuid

import aiohttp
import jsonpatch
import kopf
import pytest
from kopf._cogs.structs import references
from kopf._core.engines import admission as kopf_admission
from kopf._core.engines.indexing import OperatorIndexers
from kopf._core.reactor.inventory import ResourceMemories

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.launcher import free_port
from llmaz_serverless.warmup.controller import WarmupController
from llmaz_serverless.warmup.operator import build_registry, operator_settings
from llmaz_serverless.warmup.pods import GATE_CONDITION
from llmaz_serverless.warmup.settings import WarmupSettings
from llmaz_serverless_testing.warmup import RecordingKubeApi, make_pod

pytestmark = pytest.mark.integration

PODS = references.Resource(
    group="", version="v1", plural="pods", kind="Pod", singular="pod", namespaced=True,
    subresources=frozenset({"status"}), verbs=frozenset({"create", "get", "list", "watch", "patch"}),
)  # fmt: skip


def review(pod: dict, namespace: str) -> dict:
    """An AdmissionReview as the API server sends it for a pod CREATE by the StatefulSet controller."""
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "name": pod["metadata"]["name"],
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {
                "username": "system:serviceaccount:kube-system:statefulset-controller",
                "groups": ["system:serviceaccounts", "system:authenticated"],
            },
            "object": pod,
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


def admitted_pod(**kwargs) -> dict:
    pod = make_pod("created", gated=False, **kwargs)
    pod.pop("status")
    pod["metadata"].pop("uid")
    pod["metadata"].pop("resourceVersion")
    return pod


@pytest.fixture
async def webhook(tmp_path, write_tls):
    config = RuntimeConfig.model_validate(
        {
            "models": [
                {
                    "name": "llama-3-8b",
                    "playground": "llama",
                    "namespace": "models",
                    "upstream": "http://x:8080",
                }
            ]
        }
    )
    controller = WarmupController.build(config, RecordingKubeApi(), instance="ctl-0")
    cert_file, key_file = write_tls(tmp_path, "localhost")
    port = free_port()
    settings = WarmupSettings.model_validate(
        {"webhook": {"port": port, "certFile": str(cert_file), "keyFile": str(key_file)}}
    )
    ks = operator_settings(settings)
    server = ks.admission.server
    server.addr, server.host = "127.0.0.1", "localhost"  # loopback only in tests
    insights = references.Insights()
    insights.webhook_resources.add(PODS)
    webhookfn = functools.partial(
        kopf_admission.serve_admission_request,
        settings=ks,
        registry=build_registry(webhook=True),
        insights=insights,
        memories=ResourceMemories(),
        memobase=kopf.Memo(warmup=controller),
        indices=OperatorIndexers().indices,
    )
    configs = server(webhookfn)
    client_config = await asyncio.wait_for(configs.__anext__(), 10)
    ca = ssl.create_default_context(cadata=base64.b64decode(client_config["caBundle"]).decode())
    try:
        yield client_config, ca
    finally:
        await configs.aclose()
        await controller.close()


async def post(client_config: dict, ca: ssl.SSLContext, body: dict) -> dict:
    url = f"{client_config['url'].rstrip('/')}/gate-readiness-until-warm"
    async with aiohttp.ClientSession() as session, session.post(url, json=body, ssl=ca) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def test_model_pod_gets_readiness_gate_through_kopf_webhook_over_https(webhook):
    client_config, ca = webhook
    assert client_config["url"].startswith("https://localhost:")
    pod = admitted_pod()
    request = review(pod, "models")
    answer = await post(client_config, ca, request)
    response = answer["response"]
    assert answer["kind"] == "AdmissionReview"
    assert response["uid"] == request["request"]["uid"]
    assert response["allowed"] is True
    assert response["patchType"] == "JSONPatch"
    ops = jsonpatch.JsonPatch.from_string(base64.b64decode(response["patch"]).decode())
    patched = ops.apply(pod)
    assert patched["spec"]["readinessGates"] == [{"conditionType": GATE_CONDITION}]
    assert patched["spec"]["containers"] == pod["spec"]["containers"]


async def test_unrelated_pod_is_allowed_unchanged(webhook):
    client_config, ca = webhook
    for pod, ns in ((admitted_pod(namespace="team-b"), "team-b"), (admitted_pod(worker_index="1"), "models")):
        response = (await post(client_config, ca, review(pod, ns)))["response"]
        assert response["allowed"] is True
        assert "patch" not in response


async def test_server_refuses_clients_that_do_not_trust_its_certificate(webhook):
    client_config, _ = webhook
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        await post(client_config, ssl.create_default_context(), review(admitted_pod(), "models"))
