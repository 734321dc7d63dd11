"""Job status in Redis: one hash per job, the single source of truth for clients.

States: queued -> running -> (queued again while waiting for a retry) ->
succeeded | failed. The terminal transition is one Lua script (`commit`), so
however many workers end up finishing the same job (a takeover of a worker
that was only slow), exactly one result is recorded and exactly one
notification is queued; later finishers only bump `duplicateCompletions`.
The notification is queued in the same script (an outbox stream), so a crash
between storing a result and notifying never loses the webhook.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis.asyncio as aioredis
from redis.typing import EncodableT, FieldT

from llmaz_serverless.queue.job import Job

TERMINAL = ("succeeded", "failed")

_MARK_RUNNING = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'succeeded' or state == 'failed' then return state end
redis.call('HSET', KEYS[1], 'state', 'running', 'attempts', ARGV[1], 'worker', ARGV[2], 'startedAt', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
if not state then return 'missing' end
return 'running'
"""

# KEYS: status, outbox stream ('' none), inline result key ('' none), job stream to ack ('' none)
# ARGV: state, ttl, job id, result bytes, group, entry id, field/value pairs...
# Order keeps the guarantees even if the script stops half-way: result first
# (first writer wins), then the verdict, the acknowledgement last. `completedAt`
# is Redis's clock at the moment of the commit: when the result was stored.
_COMMIT = """
if KEYS[3] ~= '' then redis.call('SET', KEYS[3], ARGV[4], 'NX', 'EX', ARGV[2]) end
local state = redis.call('HGET', KEYS[1], 'state')
local done = 0
if state == 'succeeded' or state == 'failed' then
  redis.call('HINCRBY', KEYS[1], 'duplicateCompletions', 1)
else
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'state', ARGV[1], 'completedAt', t[1] .. '.' .. string.format('%06d', t[2]))
  if #ARGV >= 7 then redis.call('HSET', KEYS[1], unpack(ARGV, 7)) end
  redis.call('HINCRBY', KEYS[1], 'commits', 1)
  local webhook = redis.call('HGET', KEYS[1], 'webhook')
  if webhook and webhook ~= '' and KEYS[2] ~= '' then
    redis.call('HSET', KEYS[1], 'notification', '{"state":"pending","attempts":0}')
    redis.call('XADD', KEYS[2], '*', 'job', ARGV[3])
  end
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  done = 1
end
if KEYS[4] ~= '' then redis.call('XACK', KEYS[4], ARGV[5], ARGV[6]) end
return done
"""

# Hash fields holding JSON rather than plain strings.
_JSON_FIELDS = ("result", "error", "notification", "lastError")
_FLOAT_FIELDS = ("createdAt", "startedAt", "completedAt", "modelSeconds", "nextAttemptAt")
_INT_FIELDS = ("attempts", "commits", "duplicateCompletions")


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class StatusStore:
    def __init__(
        self, client: aioredis.Redis, *, key_prefix: str, ttl: float, outbox_stream: str = ""
    ) -> None:
        self.client = client
        self.key_prefix = key_prefix
        self.ttl = max(1, int(ttl))
        self.outbox_stream = outbox_stream
        self._mark_running = client.register_script(_MARK_RUNNING)
        self._commit = client.register_script(_COMMIT)

    def key(self, job_id: str) -> str:
        return f"{self.key_prefix}status:{job_id}"

    async def create(self, job: Job, *, input_bytes: int | None = None) -> None:
        fields: dict[FieldT, EncodableT] = {
            "id": job.id,
            "model": job.model,
            "api": job.api,
            "tenant": job.tenant,
            "state": "queued",
            "createdAt": f"{job.created_at:.6f}",
            "attempts": "0",
        }
        if job.webhook:
            fields["webhook"] = job.webhook
        if job.input_location:
            fields["inputLocation"] = job.input_location
        if input_bytes is not None:
            fields["inputBytes"] = str(input_bytes)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(self.key(job.id), mapping=fields)
            pipe.expire(self.key(job.id), self.ttl)
            await pipe.execute()

    async def get(self, job_id: str) -> dict[str, Any] | None:
        raw = await self.client.hgetall(self.key(job_id))
        if not raw:
            return None
        out: dict[str, Any] = {}
        for k, v in raw.items():
            name, text = _s(k), _s(v)
            if name in _JSON_FIELDS:
                out[name] = json.loads(text)
            elif name in _FLOAT_FIELDS:
                out[name] = float(text)
            elif name in _INT_FIELDS:
                out[name] = int(text)
            else:
                out[name] = text
        return out

    async def mark_running(self, job_id: str, attempt: int, worker: str) -> str:
        """'running' (go ahead), 'missing' (status expired; go ahead) or the terminal state (skip)."""
        state = await self._mark_running(
            keys=[self.key(job_id)], args=[attempt, worker, f"{time.time():.6f}", self.ttl]
        )
        return _s(state)

    async def mark_retry(self, job_id: str, attempt: int, error: dict[str, Any], delay: float) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(
                self.key(job_id),
                mapping={
                    "state": "queued",
                    "attempts": str(attempt),
                    "lastError": json.dumps(error),
                    "nextAttemptAt": f"{time.time() + delay:.6f}",
                },
            )
            pipe.expire(self.key(job_id), self.ttl)
            await pipe.execute()

    async def commit(
        self,
        job_id: str,
        state: str,
        fields: dict[str, Any],
        *,
        inline_result: tuple[str, bytes] | None = None,
        ack: tuple[str, str, str] | None = None,
    ) -> bool:
        """Record the terminal state once; False when another attempt already did.

        `inline_result` (key, bytes) stores a Redis result first-writer-wins and
        `ack` (stream, group, entry id) acknowledges a Redis Streams entry, both in
        the same script: one round trip finishes a job, and the entry is never
        acknowledged without its result and verdict stored.
        """
        if state not in TERMINAL:
            raise ValueError(f"commit needs a terminal state, got {state!r}")
        flat: list[str] = []
        for k, v in fields.items():
            flat.extend([k, json.dumps(v) if k in _JSON_FIELDS else str(v)])
        result_key, result = inline_result or ("", b"")
        stream, group, entry_id = ack or ("", "", "")
        done = await self._commit(
            keys=[self.key(job_id), self.outbox_stream, result_key, stream],
            args=[state, self.ttl, job_id, result, group, entry_id, *flat],
        )
        return bool(int(done))

    async def record_notification(self, job_id: str, outcome: dict[str, Any]) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(self.key(job_id), "notification", json.dumps(outcome))
            pipe.expire(self.key(job_id), self.ttl)
            await pipe.execute()
