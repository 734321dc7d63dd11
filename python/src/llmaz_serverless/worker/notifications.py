"""Sends the webhooks queued in the outbox stream and records their outcome on the job.

The outbox entry is written by the same Lua script that commits the job's
terminal status, and acknowledged only after the outcome is recorded, so every
committed job with a webhook gets at least one delivery attempt sequence even
if workers die in between. A receiver deduplicates by the event `id`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from llmaz_serverless.notify.cloudevents import job_event
from llmaz_serverless.notify.settings import NotificationSettings
from llmaz_serverless.notify.webhook import WebhookSender
from llmaz_serverless.queue.broker import Broker, Delivery
from llmaz_serverless.queue.status import TERMINAL, StatusStore
from llmaz_serverless.results.store import ResultStore
from llmaz_serverless.worker.metrics import WorkerMetrics

log = logging.getLogger(__name__)

_DONE = ("delivered", "failed")


@dataclass(kw_only=True, eq=False)
class NotificationDispatcher:
    """The notification lane's handler: one outbox entry in, a recorded webhook outcome out."""

    settings: NotificationSettings
    outbox: Broker
    status: StatusStore
    results: ResultStore
    sender: WebhookSender
    metrics: WorkerMetrics
    # Runs of one outbox entry (cut short by dying workers) before its webhook is recorded as failed.
    max_attempts: int

    async def __call__(self, d: Delivery) -> None:
        job_id = d.raw.decode(errors="replace")
        status = await self.status.get(job_id)
        if status is None or status.get("state") not in TERMINAL or not status.get("webhook"):
            await self.outbox.ack(d)  # expired, or nothing to announce
            return
        if (status.get("notification") or {}).get("state") in _DONE:
            await self.outbox.ack(d)  # an earlier delivery finished before its ack was lost
            return
        if not self.settings.enabled:
            await self._record(
                d,
                job_id,
                {
                    "state": "failed",
                    "attempts": 0,
                    "error": "notifications are disabled (queue.notifications.enabled)",
                },
            )
            return
        if d.attempt > self.max_attempts:
            await self._record(
                d,
                job_id,
                {
                    "state": "failed",
                    "attempts": 0,
                    "error": f"gave up after {d.attempt - 1} interrupted delivery runs",
                },
            )
            return
        event = job_event(
            status,
            source=self.settings.source,
            result=await self._inline_result(status),
            result_url=await self._result_url(status),
            status_url=self._status_url(job_id),
        )
        outcome = await self.sender.deliver(status["webhook"], status.get("tenant") or "", event)
        await self._record(d, job_id, outcome)

    async def _record(self, d: Delivery, job_id: str, outcome: dict[str, Any]) -> None:
        await self.status.record_notification(job_id, outcome)
        await self.outbox.ack(d)
        self.metrics.notifications.labels(outcome["state"]).inc()
        if outcome["state"] != "delivered":
            log.warning(
                "webhook for job %s failed after %d attempt(s): %s",
                job_id,
                outcome.get("attempts", 0),
                outcome.get("error"),
            )

    async def _inline_result(self, status: dict[str, Any]) -> Any:
        location = status.get("result") or {}
        if status.get("state") != "succeeded" or not location:
            return None
        if int(location.get("bytes", 0)) > self.settings.include_result_bytes:
            return None
        if location.get("contentType", "application/json") != "application/json":
            return None
        data = await self.results.get(status["id"], location)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None

    async def _result_url(self, status: dict[str, Any]) -> str | None:
        location = status.get("result") or {}
        if status.get("state") != "succeeded" or not location:
            return None
        return await self.results.url(location)

    def _status_url(self, job_id: str) -> str | None:
        base = self.settings.public_base_url.rstrip("/")
        return f"{base}/v1/async/{job_id}" if base else None
