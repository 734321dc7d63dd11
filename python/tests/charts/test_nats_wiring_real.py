"""worker.broker: nats for real: the rendered runtime.yaml drives the real gateway and worker on a real
nats-server, and the rendered nats-jetstream triggers' metadata finds, in the server's monitoring
endpoint (/jsz, the document KEDA's scaler reads), a consumer whose backlog rises with a job and drains.

Only the addresses are swapped for loopback ones (Redis, NATS, the model server, the monitoring endpoint);
stream, consumer and account names are the rendered ones.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from helmrender import RELEASE, render

from llmaz_serverless.config import load_runtime_config
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless_testing.appservers import EmulatorServer, GatewayServer
from llmaz_serverless_testing.servers import NatsServer
from llmaz_serverless_testing.worker import running_worker, wait_until_async

pytestmark = pytest.mark.integration

CI = "ci/12-async-nats-values.yaml"
SERVED = "org/batch-3.1"
CHAT = {"model": SERVED, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 4}


@pytest.fixture(scope="module")
def monitored_nats() -> Iterator[NatsServer]:
    with NatsServer(monitoring=True) as server:
        yield server


def keda_backlog(endpoint: str, meta: dict[str, str]) -> int | None:
    """The count KEDA's nats-jetstream scaler derives from /jsz for a trigger's metadata:
    num_pending + num_ack_pending of the named consumer; None when the consumer is missing
    (KEDA then falls back to the stream's last sequence, which never drains)."""
    query = urllib.parse.urlencode({"acc": meta["account"], "consumers": "true", "config": "true"})
    with urllib.request.urlopen(f"http://{endpoint}/jsz?{query}", timeout=5) as resp:
        doc = json.load(resp)
    for account in doc.get("account_details") or []:
        if meta["account"] not in (account.get("name"), account.get("id")):
            continue
        for stream in account.get("stream_detail") or []:
            if stream["name"] != meta["stream"]:
                continue
            for consumer in stream.get("consumer_detail") or []:
                if consumer["name"] == meta["consumer"]:
                    return int(consumer.get("num_pending", 0)) + int(consumer.get("num_ack_pending", 0))
    return None


def _nats_triggers(out: Any) -> dict[str, dict[str, str]]:
    return {
        f"{so['metadata']['name']}/{t['name']}": t["metadata"]
        for so in out.kinds("ScaledObject")
        for t in so["spec"]["triggers"]
        if t["type"] == "nats-jetstream"
    }


async def test_rendered_nats_wiring_queues_wakes_and_drains_through_the_real_gateway_and_worker(
    redis_url: str, monitored_nats: NatsServer, tmp_path: Path
) -> None:
    out = render(CI)
    triggers = _nats_triggers(out)
    assert set(triggers) == {f"{RELEASE}-batch/queue", f"{RELEASE}-llmaz-serverless-worker/queue-batch"}
    doc = out.runtime()
    doc["redis"]["url"] = redis_url
    doc["queue"]["nats"]["url"] = monitored_nats.url
    doc["worker"]["metricsPort"] = 0
    with EmulatorServer(model=SERVED, ttft=0, itl=0) as sim:
        for m in doc["models"]:
            m["upstream"] = sim.url
        path = tmp_path / "runtime.yaml"
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        runtime = load_runtime_config(path)
        settings = runtime.section("gateway", GatewaySettings).model_copy(
            update={"host": "127.0.0.1", "port": 0, "shutdown_delay": 0.0, "shutdown_timeout": 5.0}
        )
        with GatewayServer(runtime, settings, environ={}) as gw:

            async def backlogs() -> dict[str, int | None]:
                return {k: keda_backlog(monitored_nats.monitoring_endpoint, m) for k, m in triggers.items()}

            async def all_equal(value: int) -> dict[str, int | None] | None:
                seen = await backlogs()
                return seen if set(seen.values()) == {value} else None

            # The gateway made the stream and consumers before any job: KEDA reads 0, not a missing consumer.
            await wait_until_async(lambda: all_equal(0), 15, what="the consumers KEDA reads")
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{gw.url}/v1/async/chat/completions", json=CHAT) as resp:
                    accepted = await resp.json()
                    assert resp.status == 202, accepted
                # Queued on NATS, no worker yet: every trigger on the model's consumer counts it.
                assert await backlogs() == dict.fromkeys(triggers, 1)
                async with running_worker(doc):

                    async def finished() -> dict[str, Any] | None:
                        async with session.get(gw.url + accepted["statusUrl"]) as r:
                            body = await r.json()
                        return body if body.get("status") in ("succeeded", "failed") else None

                    done = await wait_until_async(finished, 20, what="the job finished")
                    await wait_until_async(lambda: all_equal(0), 10, what="the backlog drained")
    assert done["status"] == "succeeded" and done["attempts"] == 1
    assert done["result"]["object"] == "chat.completion"
