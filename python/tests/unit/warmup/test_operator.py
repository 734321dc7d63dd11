import logging

import kopf
import pytest

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.launcher import free_port
from llmaz_serverless.warmup.operator import (
    NoModelsError,
    build_registry,
    operator_identity,
    operator_settings,
    run_controller,
)
from llmaz_serverless.warmup.settings import WarmupSettings


def test_registry_has_pod_and_playground_watches_and_webhook_when_enabled():
    registry = build_registry(webhook=True)
    watched = sorted(h.selector.any_name for h in registry._watching.get_all_handlers())
    assert watched == ["playgrounds", "pods"]
    assert [h.id for h in registry._webhooks.get_all_handlers()] == ["gate-readiness-until-warm"]


def test_registry_logs_in_like_kopfs_default_registry():
    (login,) = build_registry(webhook=False)._activities.get_all_handlers()
    assert login.fn is kopf.login_via_client


def test_registry_has_no_admission_handler_when_webhook_disabled():
    assert build_registry(webhook=False)._webhooks.get_all_handlers() == []


def test_no_change_detecting_handlers_so_kopf_never_patches_watched_objects():
    # create/update/resume handlers make kopf store state on the object (pods patch
    # RBAC); the controller uses only event handlers.
    assert build_registry(webhook=True)._changing.get_all_handlers() == []


def test_kopf_settings_serve_webhook_with_chart_certs_and_do_not_manage_its_config():
    settings = WarmupSettings.model_validate(
        {"webhook": {"port": 8443, "certFile": "/c.crt", "keyFile": "/c.key"}}
    )
    ks = operator_settings(settings)
    assert ks.admission.managed is None
    assert ks.admission.server.port == 8443
    assert (ks.admission.server.certfile, ks.admission.server.pkeyfile) == ("/c.crt", "/c.key")
    assert ks.posting.level == logging.WARNING


def test_kopf_settings_have_no_webhook_server_when_disabled():
    assert (
        operator_settings(WarmupSettings.model_validate({"webhook": {"enabled": False}})).admission.server
        is None
    )


async def test_controller_refuses_to_start_without_models():
    with pytest.raises(NoModelsError, match="no models"):
        await run_controller(RuntimeConfig.model_validate({}))


def test_identity_needs_no_passwd_entry_for_the_pods_uid(monkeypatch):
    def no_passwd_entry() -> str:
        raise KeyError("getpwuid(): uid not found: 65532")

    monkeypatch.setattr("getpass.getuser", no_passwd_entry)
    assert operator_identity().startswith("llmaz-serverless-warmup@")


async def test_controller_hands_kopf_its_own_identity(monkeypatch, config, api):
    seen = {}

    async def fake_operator(**kwargs):
        seen.update(kwargs)

    monkeypatch.setattr(kopf, "operator", fake_operator)
    config.warmup.update({"metricsPort": free_port(), "listenAddress": "127.0.0.1"})
    await run_controller(config, api=api)
    assert seen["identity"] == operator_identity()
