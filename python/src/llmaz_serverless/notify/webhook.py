"""Webhook delivery: signed POSTs with retries and backoff, and the outcome to record.

Retried: connection errors, timeouts, 408, 429 and 5xx (the receiver may
recover). Not retried: other 4xx (the receiver refuses this event, e.g. a
bad signature or an unknown endpoint; repeating will not help). Redirects are
not followed, so an allowed host cannot bounce deliveries elsewhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

import aiohttp

from llmaz_serverless.notify import cloudevents
from llmaz_serverless.notify.secrets import MissingSecretError, TenantSecrets
from llmaz_serverless.notify.settings import NotificationSettings
from llmaz_serverless.notify.signing import SIGNATURE_HEADER, sign

RETRYABLE_STATUS = {408, 429}


def check_webhook_url(url: str, allowed_hosts: list[str]) -> str | None:
    """Why `url` is not an acceptable webhook, or None when it is."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return f"webhook {url!r} must be an absolute http:// or https:// URL"
    if allowed_hosts and parsed.hostname not in allowed_hosts:
        return f"webhook host {parsed.hostname!r} is not in queue.notifications.allowedHosts {allowed_hosts}"
    return None


class WebhookSender:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: NotificationSettings,
        secrets: TenantSecrets,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.session = session
        self.settings = settings
        self.secrets = secrets
        self._sleep = sleep

    async def deliver(self, url: str, tenant: str, event: dict[str, Any]) -> dict[str, Any]:
        """POST the event until it is accepted or attempts run out; returns the outcome."""
        outcome: dict[str, Any] = {"state": "failed", "attempts": 0, "eventId": event["id"]}
        problem = check_webhook_url(url, self.settings.allowed_hosts)
        if problem:
            outcome["error"] = problem
            return outcome
        secret: bytes | None = None
        try:
            secret = self.secrets.get(tenant)
        except MissingSecretError as err:
            if self.settings.require_signature:
                outcome["error"] = str(err)
                return outcome
        body = cloudevents.encode(event)
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout)
        for attempt in range(1, self.settings.max_attempts + 1):
            outcome["attempts"] = attempt
            outcome["lastAttemptAt"] = round(time.time(), 3)
            headers = {
                "Content-Type": cloudevents.CONTENT_TYPE,
                "User-Agent": "llmaz-serverless-worker",
                "X-Llmaz-Delivery-Attempt": str(attempt),
            }
            if secret is not None:
                # Signed per attempt: the timestamp in the MAC stays fresh for the receiver's replay window.
                headers[SIGNATURE_HEADER] = sign(secret, body)
            retry = True
            try:
                async with self.session.post(
                    url, data=body, headers=headers, timeout=timeout, allow_redirects=False
                ) as resp:
                    await resp.read()
                    outcome["statusCode"] = resp.status
                    if 200 <= resp.status < 300:
                        outcome["state"] = "delivered"
                        outcome.pop("error", None)
                        return outcome
                    outcome["error"] = f"receiver answered HTTP {resp.status}"
                    retry = resp.status >= 500 or resp.status in RETRYABLE_STATUS
            except (aiohttp.ClientError, TimeoutError) as err:
                outcome.pop("statusCode", None)
                outcome["error"] = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            if not retry or attempt == self.settings.max_attempts:
                break
            await self._sleep(self.settings.backoff.delay(attempt))
        return outcome
