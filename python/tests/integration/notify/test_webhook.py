"""Webhook delivery against real local HTTP receivers: retries, refusals, redirects, signatures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from llmaz_serverless.notify.secrets import TenantSecrets
from llmaz_serverless.notify.settings import NotificationSettings
from llmaz_serverless.notify.webhook import WebhookSender
from llmaz_serverless_testing.worker import WebhookReceiver

pytestmark = pytest.mark.integration

SECRET = b"acme-secret"
EVENT = {"specversion": "1.0", "id": "j.succeeded", "source": "/x", "type": "t", "data": {"id": "j"}}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def _sender(session: aiohttp.ClientSession, tmp_path: Path, **settings: object) -> WebhookSender:
    (tmp_path / "acme").write_bytes(SECRET)
    s = NotificationSettings.model_validate({"backoff": {"initial": "0.01s", "jitter": 0}, **settings})
    return WebhookSender(session, s, TenantSecrets(tmp_path))


async def _serve(handler: object) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/hook", handler)  # type: ignore[arg-type]
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/hook"


async def test_delivery_is_retried_until_accepted_when_the_receiver_answers_5xx(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    receiver = await WebhookReceiver(secret=SECRET, fail_first=3, fail_status=503).start()
    try:
        outcome = await _sender(session, tmp_path, maxAttempts=5).deliver(receiver.url, "acme", EVENT)
    finally:
        await receiver.stop()
    assert outcome["state"] == "delivered" and outcome["attempts"] == 4
    assert [r.answered for r in receiver.received] == [503, 503, 503, 200]
    assert all(r.signature_ok for r in receiver.received)  # re-signed on every attempt


async def test_delivery_stops_at_once_when_the_receiver_refuses_with_4xx(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    receiver = await WebhookReceiver(secret=SECRET, fail_first=10, fail_status=401).start()
    try:
        outcome = await _sender(session, tmp_path).deliver(receiver.url, "acme", EVENT)
    finally:
        await receiver.stop()
    assert outcome == {**outcome, "state": "failed", "attempts": 1, "statusCode": 401}
    assert len(receiver.received) == 1


async def test_delivery_gives_up_after_max_attempts_when_the_receiver_is_down(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    from llmaz_serverless.launcher import free_port

    outcome = await _sender(session, tmp_path, maxAttempts=3).deliver(
        f"http://127.0.0.1:{free_port()}/hook", "acme", EVENT
    )
    assert outcome["state"] == "failed" and outcome["attempts"] == 3
    assert "ClientConnectorError" in outcome["error"]


async def test_redirect_is_not_followed_when_the_receiver_answers_3xx(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    followed: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        followed.append(request.path)
        raise web.HTTPTemporaryRedirect("/hook")

    runner, url = await _serve(redirect)
    try:
        outcome = await _sender(session, tmp_path, maxAttempts=2).deliver(url, "acme", EVENT)
    finally:
        await runner.cleanup()
    assert outcome["state"] == "failed" and outcome["statusCode"] == 307
    assert followed == ["/hook"]


async def test_unsigned_delivery_is_sent_when_signatures_are_not_required_and_tenant_has_no_secret(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    receiver = await WebhookReceiver(secret=SECRET).start()
    try:
        outcome = await _sender(session, tmp_path, requireSignature=False).deliver(
            receiver.url, "other", EVENT
        )
    finally:
        await receiver.stop()
    assert outcome["state"] == "delivered"
    assert "X-Llmaz-Signature" not in receiver.received[0].headers
