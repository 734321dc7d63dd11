"""Warmup controller: least-privilege RBAC, the readiness-gate webhook and its TLS, the install hook."""

from __future__ import annotations

import base64

from helmrender import NAMESPACE, RELEASE, model, models_json, render

NAME = f"{RELEASE}-llmaz-serverless-warmup"


def test_role_grants_only_what_the_controller_needs_when_rendered() -> None:
    out = render(set_json=[models_json(model("m"))])
    rules = {
        (tuple(r["apiGroups"]), tuple(r["resources"])): sorted(r["verbs"])
        for r in out.get("Role", NAME)["rules"]
    }
    assert rules == {
        (("",), ("pods",)): ["get", "list", "watch"],
        (("",), ("pods/status",)): ["patch"],
        (("",), ("events",)): ["create"],
        (("events.k8s.io",), ("events",)): ["create"],
        (("inference.llmaz.io",), ("playgrounds",)): ["get", "list", "watch"],
    }
    assert not out.kinds("ClusterRole") and not out.kinds("ClusterRoleBinding")
    binding = out.get("RoleBinding", NAME)
    assert binding["roleRef"]["name"] == NAME
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]
    pod = out.get("Deployment", NAME)["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == NAME
    assert pod["containers"][0]["command"] == [
        "llmaz-serverless", "warmup", "controller", "--config", "/etc/llmaz-serverless/runtime.yaml"
    ]  # fmt: skip


def test_webhook_gates_only_this_releases_model_pods_when_rendered() -> None:
    out = render(set_json=[models_json(model("a"), model("b"), model("cold", warmup={"enabled": False}))])
    hook = out.one("MutatingWebhookConfiguration")["webhooks"][0]
    assert hook["rules"] == [
        {
            "apiGroups": [""],
            "apiVersions": ["v1"],
            "operations": ["CREATE"],
            "resources": ["pods"],
            "scope": "Namespaced",
        }
    ]
    assert hook["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": NAMESPACE}}
    (expr,) = hook["objectSelector"]["matchExpressions"]
    assert expr["key"] == "llmaz.io/model-name" and expr["operator"] == "In"
    assert expr["values"] == [f"{RELEASE}-{NAMESPACE}-a", f"{RELEASE}-{NAMESPACE}-b"]
    assert set(expr["values"]) < set(out.names("OpenModel"))
    assert hook["sideEffects"] == "None" and hook["failurePolicy"] == "Ignore"
    service = hook["clientConfig"]["service"]
    assert service["path"] == "/gate-readiness-until-warm"
    svc = out.get("Service", service["name"])
    assert svc["spec"]["ports"][0]["targetPort"] == "webhook"


def test_webhook_trusts_the_ca_of_the_served_certificate_when_the_chart_makes_it() -> None:
    from cryptography import x509

    out = render(set_json=[models_json(model("m"))])
    hook = out.one("MutatingWebhookConfiguration")["webhooks"][0]
    secret = out.get("Secret", f"{RELEASE}-llmaz-serverless-warmup-tls")
    assert hook["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]
    ca = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["ca.crt"]))
    cert = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    assert cert.issuer == ca.subject
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName
    )
    svc = hook["clientConfig"]["service"]["name"]
    assert f"{svc}.{NAMESPACE}.svc" in sans


def test_cert_manager_issues_the_certificate_when_enabled() -> None:
    out = render("ci/09-cert-manager-webhook-values.yaml")
    assert not out.kinds("Secret")
    cert = out.one("Certificate")
    hook = out.one("MutatingWebhookConfiguration")
    assert (
        hook["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
        == f"{NAMESPACE}/{cert['metadata']['name']}"
    )
    assert "caBundle" not in hook["webhooks"][0]["clientConfig"]
    assert hook["webhooks"][0]["failurePolicy"] == "Fail"
    assert cert["spec"]["issuerRef"]["name"] == out.one("Issuer")["metadata"]["name"]
    assert cert["spec"]["secretName"] == f"{RELEASE}-llmaz-serverless-warmup-tls"


def test_no_webhook_when_no_model_is_warmed() -> None:
    out = render(set_json=[models_json(model("m", warmup={"enabled": False}))])
    assert not out.kinds("MutatingWebhookConfiguration") and not out.kinds("Secret")
    assert "webhook-tls" not in str(out.get("Deployment", NAME))


def test_hook_job_prewarms_after_install_and_upgrade_only_when_asked() -> None:
    assert not render("ci/01-single-model-values.yaml").kinds("Job")
    job = render("ci/04-prewarm-cron-values.yaml").one("Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    assert "hook-succeeded" in job["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == [
        "llmaz-serverless",
        "warmup",
        "--once",
        "--config",
        "/etc/llmaz-serverless/runtime.yaml",
    ]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_no_warmup_objects_when_warmup_is_disabled() -> None:
    out = render("ci/10-minimal-values.yaml")
    for kind in ("Role", "RoleBinding", "MutatingWebhookConfiguration", "Job"):
        assert not out.kinds(kind), kind
    assert all("warmup" not in n for n in out.names("Deployment"))
