"""The warmup controller process: kopf operator + admission webhook + /metrics.

`llmaz-serverless warmup controller --config runtime.yaml` runs this. It watches
pods and Playgrounds only in the namespaces of runtime.yaml's models (no
cluster-wide list), runs standalone (no kopf peering objects: run one replica),
and keeps kopf from storing anything on the objects it watches (event handlers
only), so its RBAC is exactly: pods get/list/watch, pods/status patch, events
create, playgrounds get/list/watch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import TYPE_CHECKING, cast

import kopf

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.warmup import admission, replicas, timeline
from llmaz_serverless.warmup.controller import WarmupController
from llmaz_serverless.warmup.kube import KubeApi, RestKubeApi
from llmaz_serverless.warmup.metrics import start_metrics_server

if TYPE_CHECKING:
    # For the type only: kopf.operator() takes this NewType of str, which kopf does not
    # re-export; a runtime import of its private module would break on any kopf re-layout.
    from kopf._core.engines.peering import Identity
from llmaz_serverless.warmup.settings import WarmupSettings

log = logging.getLogger(__name__)


class NoModelsError(ValueError):
    pass


def build_registry(webhook: bool) -> kopf.OperatorRegistry:
    """The controller's handlers; the admission handler only when the webhook is served
    (kopf refuses to start with admission handlers and no webhook server)."""
    registry = kopf.OperatorRegistry()
    # A plain registry has no login handler (only kopf's default one does): log in the
    # way RestKubeApi does, in-cluster service account first, then the kubeconfig.
    kopf.on.login(registry=registry)(kopf.login_via_client)
    replicas.register(registry)
    timeline.register(registry)
    if webhook:
        admission.register(registry)
    return registry


def operator_settings(settings: WarmupSettings) -> kopf.OperatorSettings:
    ks = kopf.OperatorSettings()
    # kopf turns handler log lines into Events by default; we post our own, so
    # only its warnings and errors become Events.
    ks.posting.level = logging.WARNING
    # No cluster-wide observation of namespaces and CRDs (it needs RBAC the controller
    # does not get): the namespaces are runtime.yaml's, the resources those found at
    # start-up (install llmaz before this chart, or restart the controller after).
    ks.scanning.disabled = True
    # The chart owns the MutatingWebhookConfiguration (no RBAC to manage it here).
    ks.admission.managed = None
    if settings.webhook.enabled:
        ks.admission.server = kopf.WebhookServer(
            addr=settings.listen_address,
            port=settings.webhook.port,
            certfile=settings.webhook.cert_file,
            pkeyfile=settings.webhook.key_file,
        )
    else:
        ks.admission.server = None
    return ks


def operator_identity() -> Identity:
    """Who this controller is, for kopf, without a passwd entry for the process's uid.

    kopf's default asks getpass.getuser(), which raises KeyError when the pod runs as a
    uid the image's /etc/passwd does not list (the chart's runAsUser 65532): the
    controller then crashed at start on a real cluster.
    """
    return cast("Identity", f"llmaz-serverless-warmup@{socket.gethostname()}/{os.getpid()}")


async def run_controller(
    config: RuntimeConfig,
    *,
    api: KubeApi | None = None,
    stop_flag: asyncio.Event | None = None,
) -> None:
    if not config.models:
        raise NoModelsError("runtime.yaml has no models: the warmup controller has nothing to watch")
    api = api or RestKubeApi.from_environment()
    controller = WarmupController.build(config, api)
    settings = controller.settings
    runner = await start_metrics_server(controller.metrics, settings.listen_address, settings.metrics_port)
    log.info(
        "warmup controller: %d model(s) in namespaces %s; metrics on :%d; webhook %s",
        len(config.models),
        ", ".join(controller.namespaces),
        settings.metrics_port,
        f"on :{settings.webhook.port}" if settings.webhook.enabled else "off",
    )
    try:
        await kopf.operator(
            registry=build_registry(settings.webhook.enabled),
            settings=operator_settings(settings),
            memo=kopf.Memo(warmup=controller),
            namespaces=controller.namespaces,
            standalone=True,
            stop_flag=stop_flag,
            identity=operator_identity(),
        )
    finally:
        await controller.close()
        await runner.cleanup()
        close = getattr(api, "close", None)
        if close is not None:
            await close()
