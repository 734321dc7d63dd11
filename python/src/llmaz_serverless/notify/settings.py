"""Webhook notifications: the `notifications` key of `queue:`.

Owned by the notify package, whose sender reads it. Both sides of the queue
read it too: the gateway takes the tenant of a submit (`tenantHeader`,
`defaultTenant`) and checks webhook hosts (`allowedHosts`), the worker sends.
"""

from __future__ import annotations

from pydantic import Field

from llmaz_serverless.backoff import Backoff
from llmaz_serverless.config import CamelModel, Duration


class NotificationSettings(CamelModel):
    # Send webhooks at all (jobs without a webhook URL never send one).
    enabled: bool = True
    # Directory holding one file per tenant whose content is that tenant's HMAC
    # secret (a Kubernetes Secret mounted as a volume: key = tenant name).
    secrets_dir: str = "/etc/llmaz-serverless/webhook-secrets"
    # Refuse to send unsigned webhooks; the notification is recorded as failed
    # with the missing tenant named.
    require_signature: bool = True
    # Tenant name used when the request carries no tenant identity.
    default_tenant: str = "default"
    # Header naming the tenant, set by a trusted authenticating proxy in front of
    # the gateway (e.g. from a JWT claim). Empty: never read from the request,
    # because a client choosing its tenant could get events signed with another
    # tenant's secret. Also what scopes GET /v1/async/<id> to its submitter.
    tenant_header: str = ""
    # Delivery attempts per notification before it is recorded as failed.
    max_attempts: int = Field(default=5, ge=1)
    # Backoff between delivery attempts.
    backoff: Backoff = Field(default_factory=Backoff)
    # Timeout of one webhook POST.
    timeout: Duration = 10.0
    # Webhook hosts accepted at submit; empty accepts any host (set it in
    # production so the worker cannot be pointed at internal services).
    allowed_hosts: list[str] = Field(default_factory=list)
    # CloudEvents `source` attribute of every event.
    source: str = "/llmaz-serverless/async"
    # Results up to this size are embedded in the event's `data.result`; larger
    # ones are announced by location only (0 never embeds).
    include_result_bytes: int = Field(default=65_536, ge=0)
    # The gateway's external URL; when set, events carry `data.statusUrl`.
    public_base_url: str = ""
    # Concurrent webhook deliveries per worker process.
    concurrency: int = Field(default=16, ge=1)
