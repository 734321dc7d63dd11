"""Response cache for deterministic requests, in Redis.

Eligible: POST /v1/completions and /v1/chat/completions of a model with
`cache: true`, when the request is greedy (`temperature: 0` or `top_k: 1`) or
opts in with `X-Gateway-Cache: on`. `X-Gateway-Cache: off` and
`Cache-Control: no-store` bypass the cache both ways; `Cache-Control:
no-cache` skips the lookup but stores the fresh answer. Only complete 200
answers up to `maxEntryBytes` are stored; streamed answers are stored as their
SSE bytes and replayed as SSE.

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

    def encode(self) -> bytes:
        # One Redis string per entry: "<content-type>\n<body>", one GET to serve a hit.
        return self.content_type.encode() + b"\n" + self.body

    @classmethod
    def decode(cls, raw: bytes) -> CachedResponse:
        head, _, body = raw.partition(b"\n")
        return cls(head.decode(), body)


class ResponseCache:
    """Lookups and stores that never fail a request: Redis errors and timeouts count as misses."""

    def __init__(
        self, client: aioredis.Redis, settings: CacheSettings, errors: Counter | None = None
    ) -> None:
        self.client = client
        self.settings = settings
        self._errors = errors

    def _failed(self, what: str, err: BaseException) -> None:
        if self._errors is not None:
            self._errors.inc()
        log.warning("cache %s failed: %r", what, err)

    async def get(self, key: str) -> CachedResponse | None:
        try:
            async with asyncio.timeout(self.settings.redis_timeout):
                raw = await self.client.get(key)
        except (TimeoutError, aioredis.RedisError, OSError) as err:
            self._failed("lookup (served as a miss)", err)
            return None
        return CachedResponse.decode(raw) if raw is not None else None

    async def put(self, key: str, entry: CachedResponse) -> bool:
        data = entry.encode()
        if len(data) > self.settings.max_entry_bytes:
            return False
        try:
            async with asyncio.timeout(self.settings.redis_timeout):
                await self.client.set(key, data, ex=max(1, int(self.settings.ttl)))
        except (TimeoutError, aioredis.RedisError, OSError) as err:
            self._failed("store", err)
            return False
        return True
