"""The `gateway:` section of runtime.yaml.

Each key has the four forms of llmaz_serverless.settings: `gateway.cache.ttl`
in the file (camelCase: `gateway.cache.maxEntryBytes`), `--cache-ttl` on
`llmaz-serverless gateway`, `LLMAZ_SERVERLESS_GATEWAY__CACHE__TTL` in the
environment, `GatewaySettings.load(runtime, cache={"ttl": 60})` and
`settings.cache.ttl` in code; `GatewaySettings.load()` layers them. Per-model
behaviour (upstream, host, headers, timeouts, failover, Retry-After, whether
to cache) lives in the shared `models:` list instead.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from llmaz_serverless.backoff import Backoff, Jitter
from llmaz_serverless.config import CamelModel, Duration
from llmaz_serverless.settings import ComponentSettings

SECTION = "gateway"


class UpstreamBackoff(Backoff):
    # Delay before the second attempt at an upstream that is unreachable or starting.
    initial: Duration = 0.25
    # Longest wait between two attempts; the cold-start budget bounds the total.
    max: Duration = 2.0
    # No randomness: one request's own retries do not need spreading, and the
    # interceptor, not the gateway, holds requests while a model wakes.
    jitter: Jitter = 0.0


class UpstreamSettings(CamelModel):
    # Most connections open to all upstreams together; 0 means no limit (the
    # interceptor and model servers do their own admission).
    max_connections: int = Field(default=0, ge=0)
    # Most connections to one upstream host; 0 means no limit.
    max_connections_per_host: int = Field(default=0, ge=0)
    # How long an idle upstream connection is kept for reuse (nginx keeps them
    # 60s too). The KEDA interceptor, the usual upstream, never closes idle
    # connections (Go http.Server without IdleTimeout), so a model with a few
    # seconds between requests reuses its connection instead of opening one per
    # request. A model server reached directly may close sooner (vLLM's uvicorn
    # after 5s): the gateway sees the close and drops that connection, and a
    # request caught in the race is sent again once on a new connection.
    keepalive_timeout: Duration = 60.0
    # TCP connect timeout of one attempt; failed attempts are retried within the
    # model's cold-start budget.
    connect_timeout: Duration = 5.0
    # Waits between attempts while a model is unreachable or answers 502/503
    # (starting), inside the model's cold-start budget. Replaces `retryBackoff`
    # and `retryBackoffMax` (chart README, "Upgrading").
    backoff: UpstreamBackoff = Field(default_factory=UpstreamBackoff)


class CacheSettings(CamelModel):
    # Cache deterministic answers (temperature 0, top_k 1, or the opt-in header
    # `X-Gateway-Cache: on`) of /v1/completions and /v1/chat/completions in Redis.
    enabled: bool = True
    # How long a cached answer lives.
    ttl: Duration = 3600.0
    # Answers larger than this are served but not stored.
    max_entry_bytes: int = Field(default=1 << 20, ge=1)
    # Redis key prefix of cache entries.
    key_prefix: str = "llmaz-serverless:cache:"
    # Longest wait for Redis on a lookup or store; past it the request is a miss
    # and is proxied, so a slow Redis never stalls traffic.
    redis_timeout: Duration = 0.25
    # Bytes of answers each gateway replica also keeps in memory (LRU, same TTL),
    # so repeat hits skip the Redis round trip; 0 turns the local tier off.
    local_max_bytes: int = Field(default=64 << 20, ge=0)
    # Keep one cache per API key instead of one shared by all clients (a client
    # can otherwise tell from X-Cache that another one sent the same prompt).
    scope_by_api_key: bool = False


class AuthSettings(CamelModel):
    # Require `Authorization: Bearer <key>` on every route except /healthz,
    # /readyz and /metrics.
    enabled: bool = False
    # File with one key per line ('#' starts a comment), e.g. mounted from a
    # Secret; re-read when it changes, so keys rotate without a restart.
    keys_file: str | None = None
    # Environment variable holding comma-separated keys (read once at start).
    keys_env: str = "LLMAZ_SERVERLESS_API_KEYS"


class GatewaySettings(ComponentSettings):
    COMPONENT: ClassVar[str] = SECTION

    # Listen address and port.
    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=0, le=65535)
    # Largest request body accepted; larger ones get 413.
    max_body_bytes: int = Field(default=16 << 20, ge=1)
    # Header carrying the request id: taken from the client when present,
    # generated otherwise, sent upstream and returned on the response.
    request_id_header: str = "X-Request-Id"
    # One JSON log line per request (model, status, duration, cache result).
    access_log: bool = True
    # Log level: debug, info, warning, error.
    log_level: str = "info"
    # Event loop the gateway runs on: "uvloop" (libuv, written in C) or
    # "asyncio" (the standard library's). Every streamed token is one read and
    # one write on the loop; uvloop does them with 7-8% less gateway CPU per
    # stream (docs/benchmarks/gateway.md).
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    # After SIGTERM, how long /readyz answers 503 while requests are still
    # served, so the Service stops routing here before the listener closes.
    shutdown_delay: Duration = 5.0
    # Then how long in-flight requests (long streams) may take to finish. The
    # pod's terminationGracePeriodSeconds must exceed shutdownDelay + this.
    shutdown_timeout: Duration = 120.0
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
