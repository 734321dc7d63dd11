"""The `events:` section of runtime.yaml: event intake and event rules.

The gateway process reads it: `llmaz-serverless gateway` loads it with
`EventsSettings.load()` (file, env `LLMAZ_SERVERLESS_EVENTS__...`, flags
`--events-...`, see llmaz_serverless.settings) and the events routes get the
result from `RuntimeConfig.section("events", EventsSettings)`. The chart
renders `rules` from the top-level `eventRules:` value and the other keys from
`events.config` (every field below is commented because the chart renders
exactly these keys).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from llmaz_serverless.config import CamelModel, Duration
from llmaz_serverless.events.rules import EventRule, RuleSet
from llmaz_serverless.settings import ComponentSettings

SECTION = "events"


class StreamSettings(CamelModel):
    # Also read events from a Redis stream (entries with an `event` field holding
    # the CloudEvent JSON), for producers inside the cluster.
    enabled: bool = False
    # Stream key producers XADD to.
    name: str = "llmaz-serverless:events"
    # Consumer group shared by the gateway replicas (each entry is handled once).
    group: str = "gateway"
    # Entries read per round.
    batch: int = Field(default=16, ge=1, le=1000)
    # Longest wait for new entries in one read.
    block: Duration = 2.0
    # A pending entry idle this long (its reader died, or its actions failed on
    # Redis or the queue) is taken over and handled again.
    claim_idle: Duration = 30.0
    # Deliveries of one entry before it is dropped (logged) instead of retried.
    max_deliveries: int = Field(default=5, ge=1)


class EventsSettings(ComponentSettings):
    COMPONENT: ClassVar[str] = SECTION
    # The gateway process reads these beside its own settings, so the flags say whose they are.
    FLAG_PREFIX: ClassVar[str] = "events-"

    # Serve POST /v1/events and GET /v1/prewarm/<model> at all.
    enabled: bool = True
    # Largest POST /v1/events body (one event or one batch); larger -> 413.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Most events in one application/cloudevents-batch+json request; more -> 413.
    max_batch_events: int = Field(default=100, ge=1, le=10_000)
    # Prefix of every Redis key this feature writes (pre-warm windows, submit dedupe).
    key_prefix: str = "llmaz-serverless:events:"
    # How long a submitted event's id is remembered, so a redelivery within this
    # time does not queue a second job. Keep it above your producers' retry horizon.
    dedupe_ttl: Duration = 86400.0
    # Require the gateway's API key on GET /v1/prewarm/<model> too. Off by default:
    # KEDA's metrics-api trigger reads it in-cluster and it discloses only a replica count.
    # When on, give the trigger a TriggerAuthentication (authMode apiKey).
    prewarm_endpoint_auth: bool = False
    # How often each gateway re-reads the pre-warm windows of the rules' models
    # from Redis to refresh the windows-active gauges.
    gauge_refresh_interval: Duration = 15.0
    # Tenant recorded on jobs submitted by rules: whose webhook secret signs their
    # notifications and who may read their status. "" uses the worker's
    # notifications.defaultTenant, the tenant of clients without one.
    submit_tenant: str = ""
    # Optional intake from a Redis stream (see events/stream.py).
    stream: StreamSettings = Field(default_factory=StreamSettings)
    # The rules (rendered from the chart's `eventRules:`), matched in order.
    rules: list[EventRule] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _unique(cls, rules: list[EventRule]) -> list[EventRule]:
        RuleSet(rules)  # raises on duplicate names
        return rules

    def rule_set(self) -> RuleSet:
        return RuleSet(self.rules)
