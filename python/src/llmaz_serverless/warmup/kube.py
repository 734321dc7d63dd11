"""The few Kubernetes API writes the warmup controller makes, behind a small interface.

Reads come from kopf's watches; the controller itself only writes two things,
which is all its RBAC allows (pods/status patch, events create):

- the readiness-gate condition on a pod's status (a strategic merge patch, which
  merges `status.conditions` by `type`, so other conditions are left alone);
- core/v1 Events on pods and Playgrounds (the cold-start timeline, warnings).

`KubeApi` is the interface the handlers use; `RestKubeApi` talks to the API
server over aiohttp with the credentials the `kubernetes` package resolves
(in-cluster service account, or a kubeconfig when run by hand). Unit tests pass a
recording implementation instead, since no API server runs here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
from typing import Any, Protocol

import aiohttp

STRATEGIC_MERGE = "application/strategic-merge-patch+json"
COMPONENT = "llmaz-serverless-warmup"


class KubeApiError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class KubeApi(Protocol):
    async def patch_pod_status(self, namespace: str, name: str, patch: dict[str, Any]) -> None: ...

    async def create_event(self, namespace: str, event: dict[str, Any]) -> None: ...


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def rfc3339(moment: dt.datetime) -> str:
    """The API's timestamp form: UTC, seconds resolution, `Z` suffix."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_time(moment: dt.datetime) -> str:
    """MicroTime (Event.eventTime): microseconds, `Z` suffix."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def condition_patch(
    condition_type: str, status: bool, reason: str, message: str, at: dt.datetime
) -> dict[str, Any]:
    """Strategic merge patch setting one pod condition (merged by `type`)."""
    return {
        "status": {
            "conditions": [
                {
                    "type": condition_type,
                    "status": "True" if status else "False",
                    "reason": reason,
                    "message": message[:1024],
                    "lastTransitionTime": rfc3339(at),
                    "lastProbeTime": None,
                }
            ]
        }
    }


def object_reference(obj: dict[str, Any]) -> dict[str, Any]:
    """An ObjectReference to a Pod or Playground as returned by the API."""
    meta = obj.get("metadata") or {}
    ref = {
        "apiVersion": obj.get("apiVersion", "v1"),
        "kind": obj.get("kind", "Pod"),
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
    }
    if meta.get("uid"):
        ref["uid"] = meta["uid"]
    return ref


def event_body(
    involved: dict[str, Any],
    event_type: str,
    reason: str,
    message: str,
    at: dt.datetime,
    instance: str,
    action: str = "Warmup",
) -> dict[str, Any]:
    """A core/v1 Event about `involved` (an ObjectReference), created once (never patched)."""
    name = involved.get("name") or "unknown"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{name}.", "namespace": involved.get("namespace")},
        "involvedObject": involved,
        "type": event_type,
        "reason": reason,
        "message": message[:1024],
        "action": action,
        "count": 1,
        "firstTimestamp": rfc3339(at),
        "lastTimestamp": rfc3339(at),
        "eventTime": micro_time(at),
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": instance[:128],
    }


class RestKubeApi:
    """KubeApi over HTTPS with aiohttp, authenticated like the `kubernetes` package would."""

    def __init__(self, configuration: Any, *, timeout_s: float = 30.0) -> None:
        # A kubernetes.client.Configuration: host, TLS files, bearer token (with refresh hook).
        self._cfg = configuration
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_environment(cls) -> RestKubeApi:
        """In-cluster service account when there is one, else the local kubeconfig."""
        from kubernetes import client, config

        cfg = client.Configuration()
        try:
            config.load_incluster_config(client_configuration=cfg)
        except config.ConfigException:
            try:
                config.load_kube_config(client_configuration=cfg)
            except config.ConfigException as err:
                raise KubeApiError(
                    f"no Kubernetes credentials: not in a pod with a service account, and no usable "
                    f"kubeconfig ({err}); run in the cluster or set KUBECONFIG"
                ) from err
        return cls(cfg)

    def _ssl(self) -> ssl.SSLContext | bool:
        if not self._cfg.host.startswith("https"):
            return False
        if not self._cfg.verify_ssl:
            return False
        context = ssl.create_default_context(cafile=self._cfg.ssl_ca_cert or None)
        if self._cfg.cert_file and self._cfg.key_file:
            context.load_cert_chain(self._cfg.cert_file, self._cfg.key_file)
        return context

    def _headers(self, content_type: str) -> dict[str, str]:
        headers = {"Content-Type": content_type, "Accept": "application/json", "User-Agent": COMPONENT}
        for auth in self._cfg.auth_settings().values():
            if auth.get("in") == "header" and auth.get("value"):
                headers[auth["key"]] = auth["value"]
        return headers

    async def _request(self, method: str, path: str, body: dict[str, Any], content_type: str) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, connector=aiohttp.TCPConnector(ssl=self._ssl())
            )
        # The token refresh hook may read a file: keep it off the event loop.
        headers = await asyncio.to_thread(self._headers, content_type)
        url = self._cfg.host.rstrip("/") + path
        async with self._session.request(method, url, data=json.dumps(body), headers=headers) as resp:
            if resp.status >= 300:
                text = (await resp.text(errors="replace"))[:500]
                raise KubeApiError(f"{method} {path} answered {resp.status}: {text}", resp.status)
            await resp.read()

    async def patch_pod_status(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        await self._request(
            "PATCH", f"/api/v1/namespaces/{namespace}/pods/{name}/status", patch, STRATEGIC_MERGE
        )

    async def create_event(self, namespace: str, event: dict[str, Any]) -> None:
        await self._request("POST", f"/api/v1/namespaces/{namespace}/events", event, "application/json")

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
