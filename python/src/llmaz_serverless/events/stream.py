"""Events from a Redis stream: producers inside the cluster XADD instead of calling HTTP.

    XADD llmaz-serverless:events * event '{"specversion":"1.0","id":"...","source":"...","type":"...",...}'

The field `event` holds one structured-mode CloudEvent or a JSON array of
them (a batch). Every gateway replica reads the stream in one consumer group,
so each entry is handled by one replica, through the same checks and rules as
POST /v1/events. An entry is acknowledged when its actions ran or failed for
good (a bad event, a template the event cannot fill). When an action failed
on Redis or the queue, the entry stays pending and is taken over again after
`claimIdle` (by any replica), like a redelivered HTTP event; after
`maxDeliveries` it is acknowledged and logged as dropped, so a poison entry
cannot loop for ever.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from llmaz_serverless.events.dispatch import Dispatcher
from llmaz_serverless.events.intake import BATCH, STRUCTURED, BadEvent, Limits, parse_http
from llmaz_serverless.events.metrics import EventMetrics
from llmaz_serverless.events.settings import StreamSettings

log = logging.getLogger("llmaz_serverless.events")

FIELD = b"event"


@dataclasses.dataclass(eq=False)
class StreamIntake:
    redis: Redis
    settings: StreamSettings
    dispatcher: Dispatcher
    metrics: EventMetrics
    limits: Limits
    consumer: str
    # Where the next XAUTOCLAIM of idle entries starts.
    _claim_cursor: str = dataclasses.field(default="0-0", init=False)

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.settings.name, self.settings.group, id="0", mkstream=True)
        except ResponseError as err:
            if "BUSYGROUP" not in str(err):
                raise

    async def step(self) -> int:
        """Take over idle entries, then read new ones; returns how many entries were handled."""
        s = self.settings
        idle_ms = max(1, round(s.claim_idle * 1000))
        cursor, claimed, *_ = await self.redis.xautoclaim(
            s.name, s.group, self.consumer, idle_ms, start_id=self._claim_cursor, count=s.batch
        )
        self._claim_cursor = cursor.decode() if isinstance(cursor, bytes) else str(cursor)
        entries: list[tuple[Any, dict[bytes, bytes]]] = [(i, f) for i, f in claimed if f]
        if not entries:
            block_ms = max(1, round(s.block * 1000))
            read: Any = await self.redis.xreadgroup(
                s.group, self.consumer, {s.name: ">"}, count=s.batch, block=block_ms
            )
            for _stream, items in read or []:
                entries.extend(items)
        for entry_id, fields in entries:
            await self._handle(entry_id, fields)
        return len(entries)

    async def run(self) -> None:
        await self.ensure_group()
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis blip: keep consuming once it is back
                log.warning("event stream %s: %s", self.settings.name, exc)
                await asyncio.sleep(1.0)

    async def _ack(self, entry_id: Any) -> None:
        await self.redis.xack(self.settings.name, self.settings.group, entry_id)

    async def _deliveries(self, entry_id: Any) -> int:
        info = await self.redis.xpending_range(
            self.settings.name, self.settings.group, min=entry_id, max=entry_id, count=1
        )
        return int(info[0]["times_delivered"]) if info else 1

    async def _handle(self, entry_id: Any, fields: dict[bytes, bytes]) -> None:
        raw = fields.get(FIELD, b"")
        ident = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        media = BATCH if raw.lstrip().startswith(b"[") else STRUCTURED
        try:
            if FIELD not in fields:
                raise BadEvent(
                    400, "not_cloudevent", "the entry has no `event` field holding the CloudEvent JSON"
                )
            events = parse_http({"content-type": media}, raw, self.limits)
        except BadEvent as bad:
            self.metrics.rejected.labels(bad.reason).inc()
            log.warning("event stream entry %s dropped reason=%s: %s", ident, bad.reason, bad.message)
            await self._ack(entry_id)
            return
        retry = False
        for event in events:
            result = await self.dispatcher.dispatch(dataclasses.replace(event, mode="stream"))
            retry = retry or result.retryable_failure
        if not retry:
            await self._ack(entry_id)
            return
        deliveries = await self._deliveries(entry_id)
        if deliveries >= self.settings.max_deliveries:
            log.error(
                "event stream entry %s dropped after %d deliveries: its actions kept failing",
                ident,
                deliveries,
            )
            await self._ack(entry_id)
        else:
            log.info("event stream entry %s left pending for a retry (delivery %d)", ident, deliveries)
