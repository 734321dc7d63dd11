"""Response cache for deterministic requests, in Redis.

Eligible: POST /v1/completions and /v1/chat/completions of a model with
`cache: true`, when the request is greedy (`temperature: 0` or `top_k: 1`) or
opts in with `X-Gateway-Cache: on`. `X-Gateway-Cache: off` and
`Cache-Control: no-store` bypass the cache both ways; `Cache-Control:
no-cache` skips the lookup but stores the fresh answer. Only complete 200
answers up to `maxEntryBytes` are stored; streamed answers are stored as their
SSE bytes and replayed as SSE. Entries live in Redis (shared by replicas)
and in a small in-process LRU (`localMaxBytes`) that serves repeat hits
without a Redis round trip.

Key: sha256 over the endpoint and the request body with the fields that do not
change the output removed (`user`, `metadata`, `store`, `service_tier`) and
keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` share an entry. The
stream flag stays in the key: a streamed and a plain answer differ in shape.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from prometheus_client import Counter

from llmaz_serverless.gateway.settings import CacheSettings

log = logging.getLogger("llmaz_serverless.gateway.cache")

OPT_IN_HEADER = "X-Gateway-Cache"
# Request fields that never change what the model generates.
IGNORED_FIELDS = frozenset({"user", "metadata", "store", "service_tier"})


@dataclass(frozen=True)
class CacheDecision:
    lookup: bool  # may answer from the cache
    store: bool  # may store the answer
    label: str  # X-Cache value when the lookup misses: MISS, or BYPASS when not cached at all


BYPASS = CacheDecision(False, False, "BYPASS")
_LOOKUP_AND_STORE = CacheDecision(True, True, "MISS")
_STORE_ONLY = CacheDecision(False, True, "MISS")


def is_deterministic(body: dict[str, Any]) -> bool:
    temperature = body.get("temperature")
    top_k = body.get("top_k")
    greedy_t = isinstance(temperature, int | float) and not isinstance(temperature, bool) and temperature == 0
    greedy_k = isinstance(top_k, int) and not isinstance(top_k, bool) and top_k == 1
    return greedy_t or greedy_k


def decide(
    headers: Mapping[str, str], body: dict[str, Any], model_allows: bool, settings: CacheSettings
) -> CacheDecision:
    """Whether this request (its headers and JSON body) may be answered from, and stored in, the cache."""
    if not settings.enabled or not model_allows:
        return BYPASS
    opt = headers.get(OPT_IN_HEADER, "").strip().lower()
    if opt == "off":
        return BYPASS
    cache_control = headers.get("Cache-Control", "").lower()
    if "no-store" in cache_control:
        return BYPASS
    if opt != "on" and not is_deterministic(body):
        return BYPASS
    if "no-cache" in cache_control:
        return _STORE_ONLY
    return _LOOKUP_AND_STORE


def cache_key(prefix: str, api_path: str, body: dict[str, Any], scope: str = "") -> str:
    normalised = {k: v for k, v in body.items() if k not in IGNORED_FIELDS}
    blob = json.dumps(
        [api_path, scope, normalised], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return prefix + hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class CachedResponse:
    content_type: str
    body: bytes
    # Wall-clock expiry (epoch seconds), carried in the entry so a replica that
    # copies it into its local tier knows how long it may keep it.
    expires_at: float = 0.0

    def encode(self) -> bytes:
        # One Redis string per entry, "<expires_at>\n<content-type>\n<body>": one GET serves a hit.
        return f"{self.expires_at:.3f}\n{self.content_type}\n".encode() + self.body

    @classmethod
    def decode(cls, raw: bytes) -> CachedResponse:
        expires, _, rest = raw.partition(b"\n")
        head, _, body = rest.partition(b"\n")
        return cls(head.decode(), body, float(expires))

    @property
    def size(self) -> int:
        return len(self.body) + len(self.content_type) + 16


class ResponseCache:
    """Two tiers: a small in-process LRU in front of Redis, shared by all gateway replicas.

    A hit in the local tier costs no network round trip (and no await), which
    keeps hits fast while the event loop is busy relaying streams; Redis makes
    an answer stored by one replica a hit on every other. Both tiers honour the
    entry's expiry. Lookups and stores never fail a request: Redis errors and
    timeouts count as misses.
    """

    def __init__(
        self, client: aioredis.Redis, settings: CacheSettings, errors: Counter | None = None
    ) -> None:
        self.client = client
        self.settings = settings
        self._errors = errors
        self._local: OrderedDict[str, CachedResponse] = OrderedDict()
        self._local_bytes = 0

    def _failed(self, what: str, err: BaseException) -> None:
        if self._errors is not None:
            self._errors.inc()
        log.warning("cache %s failed: %r", what, err)

    def _remember(self, key: str, entry: CachedResponse) -> None:
        limit = self.settings.local_max_bytes
        if entry.size > limit:
            return
        old = self._local.pop(key, None)
        if old is not None:
            self._local_bytes -= old.size
        self._local[key] = entry
        self._local_bytes += entry.size
        while self._local_bytes > limit:
            _, evicted = self._local.popitem(last=False)
            self._local_bytes -= evicted.size

    def _local_get(self, key: str) -> CachedResponse | None:
        entry = self._local.get(key)
        if entry is None:
            return None
        if entry.expires_at <= time.time():
            del self._local[key]
            self._local_bytes -= entry.size
            return None
        self._local.move_to_end(key)
        return entry

    async def get(self, key: str) -> CachedResponse | None:
        found = await self.lookup(key)
        return found[0] if found is not None else None

    async def lookup(self, key: str) -> tuple[CachedResponse, str] | None:
        """The entry and the tier that had it ("local" or "redis"), or None on a miss."""
        entry = self._local_get(key)
        if entry is not None:
            return entry, "local"
        try:
            async with asyncio.timeout(self.settings.redis_timeout):
                raw = await self.client.get(key)
        except (TimeoutError, aioredis.RedisError, OSError) as err:
            self._failed("lookup (served as a miss)", err)
            return None
        if raw is None:
            return None
        # Our clients leave decode_responses off, so a value is bytes (redis-py types it bytes | str).
        assert isinstance(raw, bytes)
        try:
            entry = CachedResponse.decode(raw)
        except ValueError:
            return None  # not an entry this version wrote: a miss, overwritten by the next store
        self._remember(key, entry)
        return entry, "redis"

    async def put(self, key: str, entry: CachedResponse) -> bool:
        ttl = max(1, int(self.settings.ttl))
        entry = CachedResponse(entry.content_type, entry.body, time.time() + ttl)
        data = entry.encode()
        if len(data) > self.settings.max_entry_bytes:
            return False
        self._remember(key, entry)
        try:
            async with asyncio.timeout(self.settings.redis_timeout):
                await self.client.set(key, data, ex=ttl)
        except (TimeoutError, aioredis.RedisError, OSError) as err:
            self._failed("store", err)
            return False
        return True
