"""Redis Streams broker: one stream per model, one consumer group shared by all workers.

Why these choices:
- KEDA's redis-streams scaler reads a group's `lag` (XINFO GROUPS, Redis 7+)
  to wake workers from zero and its pending count to keep them up, so jobs
  stay in the stream until acknowledged, and the main stream is never
  XDEL'ed (deleting inside the undelivered range makes Redis report the lag
  as unknown). Acknowledged entries are trimmed with XTRIM MINID instead.
- A retry waits as a pending entry whose idle time is set so that it becomes
  claimable after the backoff (XCLAIM ... IDLE). Any worker's reclaim loop
  then takes it over with XAUTOCLAIM, which also counts the attempt, exactly
  like the takeover of an entry whose worker died. No second structure is
  needed, and the waiting retry counts as pending for KEDA.
- Renewing and handing back only touch entries this consumer still owns (a
  small Lua script checks XPENDING first), so a slow worker never steals an
  entry back from the worker that took it over.
"""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError
from redis.typing import EncodableT, FieldT

from llmaz_serverless.queue.broker import Broker, Delivery, QueueDepth
from llmaz_serverless.queue.job import Job

# ARGV: group, consumer, idle_ms (-1: leave), retrycount (-1: leave), ids...
# Returns the ids this consumer no longer owns.
_CLAIM_OWNED = """
local lost = {}
local idle = tonumber(ARGV[3])
local retry = tonumber(ARGV[4])
for i = 5, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #p == 0 or p[1][2] ~= ARGV[2] then
    table.insert(lost, ARGV[i])
  else
    local cmd = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i]}
    if idle >= 0 then table.insert(cmd, 'IDLE'); table.insert(cmd, idle) end
    if retry >= 0 then table.insert(cmd, 'RETRYCOUNT'); table.insert(cmd, retry) end
    table.insert(cmd, 'JUSTID')
    redis.call(unpack(cmd))
  end
end
return lost
"""


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _b(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _field(fields: dict[Any, Any], name: str) -> Any:
    return fields.get(name.encode(), fields.get(name))


class RedisStreamsBroker(Broker):
    """Consumer-group queue over Redis streams.

    `streams` maps each stream key this process consumes to a label (the model
    name) used for metrics; a producer may pass none and only `enqueue`.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        group: str,
        consumer: str,
        streams: dict[str, str] | None = None,
        stream_of: Any = None,
        dead_letter_stream: str | None = None,
        dead_letter_max_len: int = 100_000,
        claim_idle: float = 60.0,
        consumer_gc_idle: float | None = 3600.0,
    ) -> None:
        self.client = client
        self.group = group
        self.consumer = consumer
        self.streams = dict(streams or {})
        # Maps a Job to its stream key (the producer side of per-model streams).
        self._stream_of = stream_of
        self.dead_letter_stream = dead_letter_stream
        self.dead_letter_max_len = dead_letter_max_len
        self.claim_idle_ms = max(1, int(claim_idle * 1000))
        self.consumer_gc_idle_ms = int(consumer_gc_idle * 1000) if consumer_gc_idle else None
        self._claim_owned = client.register_script(_CLAIM_OWNED)
        self._groups_ready: set[str] = set()
        self._autoclaim_cursor: dict[str, str] = {}

    async def _ensure_group(self, stream: str) -> None:
        if stream in self._groups_ready:
            return
        try:
            # From "0": entries added before any worker existed are still delivered.
            await self.client.xgroup_create(stream, self.group, id="0", mkstream=True)
        except ResponseError as err:
            if "BUSYGROUP" not in str(err):
                raise
        self._groups_ready.add(stream)

    async def start(self) -> None:
        for stream in self.streams:
            await self._ensure_group(stream)

    async def enqueue(self, job: Job) -> str:
        if self._stream_of is None:
            raise RuntimeError("this broker was built without a stream_of mapping and cannot enqueue")
        return await self.enqueue_raw(self._stream_of(job), job.encode())

    async def enqueue_raw(self, stream: str, payload: bytes, **extra: str) -> str:
        # The group exists before the first entry, so KEDA reads a real lag at once.
        await self._ensure_group(stream)
        fields: dict[FieldT, EncodableT] = {"job": payload}
        fields.update(extra.items())  # items(): redis-py's key type is a union a dict[str, ...] is not
        entry_id = await self.client.xadd(stream, fields)
        return _s(entry_id)

    def _deliveries(self, stream: str, entries: list[Any], attempts: dict[str, int] | None) -> list[Delivery]:
        out = []
        for entry_id, fields in entries:
            if fields is None:  # deleted while pending (trimmed); nothing to process
                continue
            eid = _s(entry_id)
            raw = _field(fields, "job")
            out.append(
                Delivery(
                    stream=stream,
                    entry_id=eid,
                    raw=_b(raw) if raw is not None else b"",
                    attempt=(attempts or {}).get(eid, 1),
                )
            )
        return out

    async def fetch(self, max_count: int, block: float) -> list[Delivery]:
        if not self.streams or max_count <= 0:
            return []
        reply = await self.client.xreadgroup(
            self.group,
            self.consumer,
            dict.fromkeys(self.streams, ">"),
            count=max_count,
            block=max(1, int(block * 1000)),
        )
        # The client speaks RESP2 (redis-py's default): [[stream, entries], ...], nothing on timeout.
        assert reply is None or isinstance(reply, list)
        out: list[Delivery] = []
        for stream, entries in reply or []:
            out.extend(self._deliveries(_s(stream), entries, None))
        return out

    async def ack(self, delivery: Delivery) -> None:
        await self.client.xack(delivery.stream, self.group, delivery.entry_id)

    async def _claim_own(self, stream: str, ids: list[str], idle_ms: int, retrycount: int) -> list[str]:
        lost = await self._claim_owned(
            keys=[stream], args=[self.group, self.consumer, idle_ms, retrycount, *ids]
        )
        return [_s(x) for x in lost]

    async def retry_later(self, delivery: Delivery, delay: float) -> None:
        # Claimable once idle reaches claim_idle, i.e. `delay` from now.
        idle_ms = max(0, self.claim_idle_ms - int(delay * 1000))
        await self._claim_own(delivery.stream, [delivery.entry_id], idle_ms, -1)

    async def release(self, delivery: Delivery) -> None:
        # Claimable at once, and this interrupted delivery does not count as an attempt.
        await self._claim_own(
            delivery.stream, [delivery.entry_id], self.claim_idle_ms, max(0, delivery.attempt - 1)
        )

    async def renew(self, deliveries: list[Delivery]) -> list[Delivery]:
        by_stream: dict[str, list[Delivery]] = {}
        for d in deliveries:
            by_stream.setdefault(d.stream, []).append(d)
        lost: list[Delivery] = []
        for stream, group in by_stream.items():
            lost_ids = set(await self._claim_own(stream, [d.entry_id for d in group], 0, -1))
            lost.extend(d for d in group if d.entry_id in lost_ids)
        return lost

    async def reclaim(self, max_count: int) -> list[Delivery]:
        out: list[Delivery] = []
        for stream in self.streams:
            if len(out) >= max_count:
                break
            cursor = self._autoclaim_cursor.get(stream, "0-0")
            reply = await self.client.xautoclaim(
                stream,
                self.group,
                self.consumer,
                self.claim_idle_ms,
                start_id=cursor,
                count=max_count - len(out),
            )
            next_cursor, entries = _s(reply[0]), reply[1]
            self._autoclaim_cursor[stream] = next_cursor
            if not entries:
                continue
            ids = [_s(e[0]) for e in entries if e[1] is not None]
            attempts = await self._delivery_counts(stream, ids)
            out.extend(self._deliveries(stream, entries, attempts))
        return out

    async def _delivery_counts(self, stream: str, ids: list[str]) -> dict[str, int]:
        if not ids:
            return {}
        # One XPENDING per id, pipelined: a range query could be crowded out by
        # this consumer's other in-flight entries.
        async with self.client.pipeline(transaction=False) as pipe:
            for eid in ids:
                pipe.xpending_range(stream, self.group, min=eid, max=eid, count=1)
            replies = await pipe.execute()
        counts = {}
        for eid, rows in zip(ids, replies, strict=True):
            if rows:
                counts[eid] = int(rows[0]["times_delivered"])
        return counts

    async def dead_letter(self, delivery: Delivery, job_id: str | None, error: str) -> None:
        if self.dead_letter_stream is None:
            await self.ack(delivery)
            return
        fields: dict[FieldT, EncodableT] = {
            "job": delivery.raw,
            "jobId": job_id or "",
            "error": error[:4000],
            "attempts": str(delivery.attempt),
            "stream": delivery.stream,
            "entryId": delivery.entry_id,
            "failedAt": f"{time.time():.3f}",
        }
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xadd(self.dead_letter_stream, fields, maxlen=self.dead_letter_max_len, approximate=True)
            pipe.xack(delivery.stream, self.group, delivery.entry_id)
            await pipe.execute()

    async def depth(self) -> dict[str, QueueDepth]:
        out: dict[str, QueueDepth] = {}
        for stream, label in self.streams.items():
            try:
                groups = await self.client.xinfo_groups(stream)
            except ResponseError:
                out[label] = QueueDepth(lag=0, pending=0)
                continue
            for g in groups:
                if _s(g["name"]) == self.group:
                    lag = g.get("lag")
                    out[label] = QueueDepth(
                        lag=int(lag) if lag is not None else -1, pending=int(g["pending"])
                    )
        return out

    async def maintain(self) -> None:
        for stream in self.streams:
            await self._trim(stream)
            if self.consumer_gc_idle_ms is not None:
                await self._forget_idle_consumers(stream, self.consumer_gc_idle_ms)

    async def _trim(self, stream: str) -> None:
        """Drop entries every group has delivered and acknowledged."""
        try:
            groups = await self.client.xinfo_groups(stream)
        except ResponseError:
            return
        if not groups:
            return
        floor: str | None = None
        for g in groups:
            keep = _s(g["last-delivered-id"])
            if int(g["pending"]) > 0:
                summary = await self.client.xpending(stream, _s(g["name"]))
                if summary.get("min"):
                    keep = min(keep, _s(summary["min"]), key=_id_key)
            floor = keep if floor is None else min(floor, keep, key=_id_key)
        if floor and floor != "0-0":
            await self.client.xtrim(stream, minid=floor, approximate=True)

    async def _forget_idle_consumers(self, stream: str, idle_ms: int) -> None:
        try:
            consumers = await self.client.xinfo_consumers(stream, self.group)
        except ResponseError:
            return
        for c in consumers:
            name = _s(c["name"])
            if name != self.consumer and int(c["pending"]) == 0 and int(c["idle"]) > idle_ms:
                await self.client.xgroup_delconsumer(stream, self.group, name)

    async def close(self) -> None:
        # The client belongs to whoever built it (the gateway shares one).
        return None


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
