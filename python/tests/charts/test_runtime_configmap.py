"""runtime.yaml: what every process reads, validated by the processes' own models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helmrender import ALL_VALUE_FILES, NAMESPACE, RELEASE, model, models_json, render

from llmaz_serverless.config import REDIS_URL_ENV, load_runtime_config
from llmaz_serverless.gateway.settings import GatewaySettings
from llmaz_serverless.queue.settings import QueueSettings
from llmaz_serverless.warmup.settings import WarmupSettings
from llmaz_serverless.worker.settings import WorkerSettings

SECTIONS = {
    "gateway": GatewaySettings,
    "queue": QueueSettings,
    "worker": WorkerSettings,
    "warmup": WarmupSettings,
}


def _load(out, tmp_path: Path):
    cm = out.get("ConfigMap", f"{RELEASE}-llmaz-serverless-runtime")
    path = tmp_path / "runtime.yaml"
    path.write_text(cm["data"]["runtime.yaml"], encoding="utf-8")
    return load_runtime_config(path)


@pytest.mark.parametrize("values", ALL_VALUE_FILES)
def test_runtime_config_loads_in_every_component_when_rendering_any_values_file(
    values: str, tmp_path: Path
) -> None:
    out = render(values)
    runtime = _load(out, tmp_path)
    for key, section_model in SECTIONS.items():
        runtime.section(key, section_model)  # raises on an unknown key or a bad value
    assert [m.playground for m in runtime.models] == out.names("Playground")


def test_models_point_at_the_interceptor_with_their_route_when_rendered(tmp_path: Path) -> None:
    out = render(set_json=[models_json(model("m", servedName="org/M", failover="small"), model("small"))])
    runtime = _load(out, tmp_path)
    m = runtime.model("org/M")
    assert m is not None
    assert m.playground == f"{RELEASE}-m" and m.namespace == NAMESPACE and m.backend == "vllm"
    assert m.upstream == "http://keda-add-ons-http-interceptor-proxy.keda.svc.cluster.local:8080"
    route = out.get("InterceptorRoute", f"{RELEASE}-m")["spec"]["rules"][0]
    assert m.host == route["hosts"][0]
    assert m.headers == {h["name"]: h["value"] for h in route["headers"]}
    # failover names the other model's OpenAI id, which is what the gateway routes on
    assert m.failover == "small"
    assert (m.timeouts.cold_start, m.timeouts.response_header, m.timeouts.request) == (600.0, 300.0, None)
    assert m.retry_after == 30 and m.cache is True
    assert [(p.prompt_tokens, p.max_tokens) for p in m.warmup.prompts] == [(16, 16), (512, 64), (2048, 16)]


def test_path_prefix_and_interceptor_namespace_follow_values_when_set(tmp_path: Path) -> None:
    route = {"pathPrefixes": ["/team-a/"], "hosts": ["llm.example.com"]}
    out = render(
        set_json=[models_json(model("m", route=route))], sets=["httpAddon.namespace="], namespace="infra"
    )
    m = _load(out, tmp_path).models[0]
    assert m.path_prefix == "/team-a"
    assert m.host == "llm.example.com"
    assert m.upstream == "http://keda-add-ons-http-interceptor-proxy.infra.svc.cluster.local:8080"


def test_worker_streams_are_the_streams_keda_reads_when_async_is_enabled(tmp_path: Path) -> None:
    out = render("ci/05-async-queue-values.yaml")
    runtime = _load(out, tmp_path)
    queue = runtime.section("queue", QueueSettings)
    streams = {
        t["metadata"]["stream"]
        for so in out.kinds("ScaledObject")
        for t in so["spec"]["triggers"]
        if t["type"] == "redis-streams"
    }
    assert streams == {queue.stream_for("batch-model"), queue.notify_stream}
    groups = {
        t["metadata"]["consumerGroup"]
        for so in out.kinds("ScaledObject")
        for t in so["spec"]["triggers"]
        if t["type"] == "redis-streams"
    }
    assert groups == {queue.consumer_group}
    assert runtime.redis.url == "redis://redis-master.redis.svc:6379/2"


def test_chart_owned_keys_match_the_pods_when_rendered(tmp_path: Path) -> None:
    out = render(
        "ci/05-async-queue-values.yaml",
        sets=["gateway.port=9000", "worker.metricsPort=9191", "warmup.metricsPort=9292"],
    )
    runtime = _load(out, tmp_path)
    gateway = runtime.section("gateway", GatewaySettings)
    worker = runtime.section("worker", WorkerSettings)
    warmup = runtime.section("warmup", WarmupSettings)

    def port(deployment: str, name: str) -> int:
        dep = out.get("Deployment", f"{RELEASE}-llmaz-serverless-{deployment}")
        ports = dep["spec"]["template"]["spec"]["containers"][0]["ports"]
        return next(p["containerPort"] for p in ports if p["name"] == name)

    assert gateway.port == port("gateway", "http") == 9000
    assert worker.metrics_port == port("worker", "metrics") == 9191
    assert warmup.metrics_port == port("warmup", "metrics") == 9292
    assert warmup.webhook.port == port("warmup", "webhook") == 9443
    mounts = out.get("Deployment", f"{RELEASE}-llmaz-serverless-warmup")["spec"]["template"]["spec"][
        "containers"
    ][0]["volumeMounts"]
    tls = next(m for m in mounts if m["name"] == "webhook-tls")
    assert (
        Path(warmup.webhook.cert_file).parent
        == Path(warmup.webhook.key_file).parent
        == Path(tls["mountPath"])
    )


def test_user_config_reaches_the_sections_when_set(tmp_path: Path) -> None:
    out = render(
        "ci/05-async-queue-values.yaml",
        set_json=[
            'gateway.config={"cache": {"ttl": "10m"}, "maxBodyBytes": 1024}',
            'worker.config={"maxAttempts": 2}',
            'warmup.config={"attempts": 7}',
        ],
    )
    runtime = _load(out, tmp_path)
    assert runtime.section("gateway", GatewaySettings).cache.ttl == 600.0
    assert runtime.section("gateway", GatewaySettings).max_body_bytes == 1024
    assert runtime.section("worker", WorkerSettings).max_attempts == 2
    assert runtime.section("warmup", WarmupSettings).attempts == 7


def test_worker_config_is_split_into_the_queue_contract_and_the_worker_section_when_set(
    tmp_path: Path,
) -> None:
    # Users set both under worker.config; the gateway must read the shared part from `queue:`.
    shared = {
        "keyPrefix": "k:", "deadLetterStream": "dl", "deadLetterMaxLen": 7, "notifyStream": "n",
        "claimIdle": "2m", "models": ["batch-model"], "payloads": {"maxBytes": 2048, "inlineMaxBytes": 1024},
        "results": {"ttl": "1h"}, "objectStore": {"type": "filesystem"},
        "notifications": {"defaultTenant": "t"},
    }  # fmt: skip
    out = render("ci/05-async-queue-values.yaml", set_json=[
        "worker.config=" + json.dumps({**shared, "maxAttempts": 2, "drainTimeout": "30s"})
    ])  # fmt: skip
    document = out.runtime()
    runtime = _load(out, tmp_path)
    queue = runtime.section("queue", QueueSettings)
    worker = runtime.section("worker", WorkerSettings)
    assert shared.keys() <= document["queue"].keys()
    assert not shared.keys() & document["worker"].keys()
    assert (queue.key_prefix, queue.dead_letter_stream, queue.dead_letter_max_len) == ("k:", "dl", 7)
    assert (queue.notify_stream, queue.claim_idle, queue.models) == ("n", 120.0, ["batch-model"])
    assert (queue.payloads.max_bytes, queue.results.ttl, queue.object_store.type) == (
        2048,
        3600.0,
        "filesystem",
    )
    assert queue.notifications.default_tenant == "t"
    assert (worker.max_attempts, worker.drain_timeout) == (2, 30.0)


def test_every_queue_key_a_user_may_set_is_one_the_chart_moves_to_queue() -> None:
    # The chart's list (_runtime.tpl queue.configKeys) and the model must not drift apart: a queue
    # key left out would land in `worker:` and fail the worker, or never reach the gateway.
    # Written from their own values (worker.streamPrefix, worker.broker ...), not from worker.config.
    owned_by_values = {"stream_prefix", "consumer_group", "broker", "nats"}
    every_key = QueueSettings().model_dump(by_alias=True, mode="json", exclude=owned_by_values)
    out = render("ci/05-async-queue-values.yaml", set_json=["worker.config=" + json.dumps(every_key)])
    document = out.runtime()
    assert every_key.keys() <= document["queue"].keys()
    assert not every_key.keys() & document["worker"].keys()


def test_secrets_are_mounted_where_the_config_says_when_given(tmp_path: Path) -> None:
    out = render(
        "ci/05-async-queue-values.yaml",
        sets=["gateway.auth.existingSecret=keys", "worker.notificationSecrets.existingSecret=hmac"],
    )
    runtime = _load(out, tmp_path)
    auth = runtime.section("gateway", GatewaySettings).auth
    secrets_dir = runtime.section("queue", QueueSettings).notifications.secrets_dir

    def mounted(deployment: str, secret: str) -> str:
        spec = out.get("Deployment", f"{RELEASE}-llmaz-serverless-{deployment}")["spec"]["template"]["spec"]
        volume = next(v["name"] for v in spec["volumes"] if v.get("secret", {}).get("secretName") == secret)
        return next(m["mountPath"] for m in spec["containers"][0]["volumeMounts"] if m["name"] == volume)

    assert auth.enabled is True
    assert Path(auth.keys_file).parent == Path(mounted("gateway", "keys"))
    assert secrets_dir == mounted("worker", "hmac")


def test_redis_url_comes_from_the_secret_when_an_existing_secret_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = render(
        "ci/05-async-queue-values.yaml", sets=["redis.existingSecret=redis", "redis.existingSecretKey=url"]
    )
    for name in ("gateway", "worker", "warmup"):
        env = out.get("Deployment", f"{RELEASE}-llmaz-serverless-{name}")["spec"]["template"]["spec"][
            "containers"
        ][0]["env"]
        (var,) = [e for e in env if e["name"] == REDIS_URL_ENV]
        assert var["valueFrom"] == {"secretKeyRef": {"name": "redis", "key": "url"}}
    monkeypatch.setenv(REDIS_URL_ENV, "redis://:s3cret@redis:6379/1")
    assert _load(out, tmp_path).redis.url == "redis://:s3cret@redis:6379/1"
