"""Pre-warm windows in Redis: "keep model M at >= N replicas until T".

One sorted set per model, `<keyPrefix>prewarm:<model>`: each member is a
rule and its replica floor (`<rule>|<N>`), its score the window's end in ms.
A matching event moves the end to now + window (never backwards), and the
key's own TTL is set to the latest end, so Redis deletes the state by itself
when the last window closes. Every gateway replica reads and writes the same
keys, and a restarted gateway finds them where it left them.

Time comes from the Redis server (`TIME` inside the scripts), not from the
gateway pods, so replicas with skewed clocks still agree on when a window ends.
The floor of a model is the largest N among its open windows; KEDA reads it
through `GET /v1/prewarm/<model>` (a `metrics-api` trigger on the model's
ScaledObject).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

# KEYS[1] the model's set; ARGV[1] member; ARGV[2] window in ms.
# Returns {now, end, member, end, ...}: the new end and every open window after the
# update, so the caller learns the model's floor in the same round trip.
_OPEN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ends = now + tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], 'GT', ends, ARGV[1])
local open = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], open[#open])
table.insert(open, 1, ends)
table.insert(open, 1, now)
return open
"""

# KEYS[1] the model's set. Returns {now, member, end, member, end, ...} of open windows.
_READ = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local open = redis.call('ZRANGE', KEYS[1], '(' .. now, '+inf', 'BYSCORE', 'WITHSCORES')
table.insert(open, 1, now)
return open
"""


@dataclass(frozen=True)
class Window:
    rule: str
    replicas: int
    # Epoch milliseconds (Redis server time) when the window closes.
    ends_ms: int

    def remaining(self, now_ms: int) -> float:
        return max(0.0, (self.ends_ms - now_ms) / 1000.0)


@dataclass(frozen=True)
class PrewarmState:
    model: str
    now_ms: int
    windows: tuple[Window, ...]

    @property
    def replicas(self) -> int:
        """The replica floor now: the largest N of the open windows, 0 with none."""
        return max((w.replicas for w in self.windows), default=0)

    def as_json(self) -> dict[str, Any]:
        # `replicas` is what KEDA's metrics-api trigger reads (valueLocation: replicas).
        return {
            "model": self.model,
            "replicas": self.replicas,
            "windows": [
                {
                    "rule": w.rule,
                    "replicas": w.replicas,
                    "endsAt": w.ends_ms / 1000.0,
                    "remainingSeconds": round(w.remaining(self.now_ms), 3),
                }
                for w in sorted(self.windows, key=lambda w: (-w.replicas, -w.ends_ms))
            ],
        }


class PrewarmStore:
    """Pre-warm windows shared by every gateway replica through Redis."""

    def __init__(self, redis: Redis, key_prefix: str = "llmaz-serverless:events:") -> None:
        self.redis = redis
        self.key_prefix = key_prefix
        self._open = redis.register_script(_OPEN)
        self._read = redis.register_script(_READ)

    def key(self, model: str) -> str:
        return f"{self.key_prefix}prewarm:{model}"

    async def open(self, model: str, rule: str, replicas: int, window: float) -> tuple[Window, PrewarmState]:
        """Open or extend `rule`'s window on `model` so it ends `window` seconds from now;
        returns that window and the model's state after the update."""
        window_ms = max(1, round(window * 1000))
        raw = await self._open(keys=[self.key(model)], args=[f"{rule}|{replicas}", window_ms])
        state = self._parse(model, int(raw[0]), raw[2:])
        return Window(rule, replicas, int(raw[1])), state

    async def state(self, model: str) -> PrewarmState:
        raw = await self._read(keys=[self.key(model)])
        return self._parse(model, int(raw[0]), raw[1:])

    def _parse(self, model: str, now_ms: int, pairs: list[Any]) -> PrewarmState:
        windows = []
        for member, score in zip(pairs[0::2], pairs[1::2], strict=True):
            text = member.decode() if isinstance(member, bytes) else str(member)
            rule, _, replicas = text.rpartition("|")
            if not rule or not replicas.isdigit():
                continue  # not written by this module; ignore rather than fail KEDA's poll
            ends = int(float(score))
            if ends > now_ms:
                windows.append(Window(rule, int(replicas), ends))
        return PrewarmState(model, now_ms, tuple(windows))

    async def states(self, models: Iterable[str]) -> list[PrewarmState]:
        return [await self.state(m) for m in models]
