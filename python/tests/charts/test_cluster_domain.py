"""clusterDomain: every in-cluster Service name the chart builds is fully qualified with it."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography import x509
from helmrender import NAMESPACE, RELEASE, render, walk

DOMAIN = "corp.example"
GATEWAY = f"{RELEASE}-llmaz-serverless-gateway.{NAMESPACE}.svc.{DOMAIN}"
# Every host name ending in `.svc` or `.svc.<domain>` inside a rendered string.
SVC_NAME = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.svc(\.[a-z0-9.-]*[a-z0-9])?")


@pytest.mark.parametrize(
    "values",
    [
        "ci/05-async-queue-values.yaml",
        "ci/09-cert-manager-webhook-values.yaml",
        "ci/11-event-rules-values.yaml",
    ],
)
def test_no_service_name_leaves_out_the_cluster_domain_when_it_is_not_the_default(values: str) -> None:
    # The Redis URL is the user's own string; point it at a name outside the cluster.
    out = render(values, sets=[f"clusterDomain={DOMAIN}", "redis.url=redis://redis.example.net:6379/0"])
    names = {
        m.group(0): path
        for obj in out.objects
        # A certificate names every form on purpose (the API server calls the webhook as `<svc>.<ns>.svc`).
        if obj["kind"] != "Certificate"
        for path, leaf in walk(obj)
        if isinstance(leaf, str)
        for m in SVC_NAME.finditer(leaf)
    }
    assert names, "expected in-cluster Service names in the rendering"
    wrong = {name: path for name, path in names.items() if not name.endswith(f".svc.{DOMAIN}")}
    assert wrong == {}


def test_every_in_cluster_url_uses_the_cluster_domain_when_set() -> None:
    out = render(
        "ci/11-event-rules-values.yaml", sets=[f"clusterDomain={DOMAIN}", "httpAddon.namespace=infra"]
    )
    runtime = out.runtime()
    assert {m["upstream"] for m in runtime["models"]} == {
        f"http://keda-add-ons-http-interceptor-proxy.infra.svc.{DOMAIN}:8080"
    }
    so = out.get("ScaledObject", f"{RELEASE}-chat")
    by_type = {t["type"]: t["metadata"] for t in so["spec"]["triggers"]}
    assert (
        by_type["external-push"]["scalerAddress"]
        == f"keda-add-ons-http-external-scaler.infra.svc.{DOMAIN}:9090"
    )
    assert by_type["metrics-api"]["url"] == f"http://{GATEWAY}:80/v1/prewarm/chat-8b"
    test_pod = next(p for p in out.kinds("Pod") if p["metadata"]["annotations"].get("helm.sh/hook") == "test")
    assert f'url="http://{GATEWAY}:80"' in test_pod["spec"]["containers"][0]["command"][-1]


def test_webhook_certificates_name_the_service_in_the_cluster_domain_when_set() -> None:
    svc = f"{RELEASE}-llmaz-serverless-warmup-webhook"
    managed = render("ci/09-cert-manager-webhook-values.yaml", sets=[f"clusterDomain={DOMAIN}"])
    assert f"{svc}.{NAMESPACE}.svc.{DOMAIN}" in managed.one("Certificate")["spec"]["dnsNames"]
    generated = render("ci/11-event-rules-values.yaml", sets=[f"clusterDomain={DOMAIN}"])
    secret = generated.get("Secret", f"{RELEASE}-llmaz-serverless-warmup-tls")
    cert = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert f"{svc}.{NAMESPACE}.svc.{DOMAIN}" in sans.get_values_for_type(x509.DNSName)


def test_cluster_domain_defaults_to_cluster_local_when_unset() -> None:
    out = render("ci/11-event-rules-values.yaml")
    assert {m["upstream"] for m in out.runtime()["models"]} == {
        "http://keda-add-ons-http-interceptor-proxy.keda.svc.cluster.local:8080"
    }
