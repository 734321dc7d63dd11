"""Async worker: its own ScaledObject wakes on backlog and holds while jobs are in flight."""

from __future__ import annotations

from helmrender import RELEASE, render

NAME = f"{RELEASE}-llmaz-serverless-worker"


def test_worker_scales_from_zero_on_lag_and_holds_on_pending_entries_when_async_models_exist() -> None:
    out = render("ci/05-async-queue-values.yaml")
    so = out.get("ScaledObject", NAME)
    assert so["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME}
    assert so["spec"]["minReplicaCount"] == 0
    triggers = {t["name"]: t for t in so["spec"]["triggers"]}
    assert set(triggers) == {"queue-batch", "inflight-batch", "notify-queue", "notify-inflight"}
    lag, pending = triggers["queue-batch"]["metadata"], triggers["inflight-batch"]["metadata"]
    # one count per trigger: KEDA reads lagCount instead of pendingEntriesCount when both are given
    assert lag["lagCount"] == "10" and lag["activationLagCount"] == "0" and "pendingEntriesCount" not in lag
    assert (
        pending["pendingEntriesCount"] == "4"
        and "lagCount" not in pending
        and "activationLagCount" not in pending
    )
    assert lag["stream"] == pending["stream"] == "llmaz-serverless:async:batch-model"


def test_worker_starts_at_zero_pods_and_drains_when_installed() -> None:
    dep = render("ci/05-async-queue-values.yaml").get("Deployment", NAME)
    assert dep["spec"]["replicas"] == 0
    spec = dep["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] == 900
    assert spec["containers"][0]["command"] == [
        "llmaz-serverless",
        "worker",
        "--config",
        "/etc/llmaz-serverless/runtime.yaml",
    ]


def test_no_worker_objects_when_the_worker_is_disabled() -> None:
    out = render("ci/01-single-model-values.yaml")
    assert NAME not in out.names("Deployment") and NAME not in out.names("ScaledObject")
    assert f"{RELEASE}-llmaz-serverless-gateway" in out.names("Deployment")
    assert NAME not in out.names("ServiceAccount")


def test_redis_address_comes_from_the_url_or_the_override_when_set() -> None:
    sets = [
        "redis.url=rediss://:pw@cache.example:6380/5",
        "redis.keda.enableTLS=true",
        "redis.keda.authenticationRef=redis-auth",
    ]
    out = render("ci/05-async-queue-values.yaml", sets=sets)
    trigger = out.get("ScaledObject", NAME)["spec"]["triggers"][0]
    assert trigger["metadata"]["address"] == "cache.example:6380"
    assert trigger["metadata"]["databaseIndex"] == "5"
    assert trigger["metadata"]["enableTLS"] == "true"
    assert trigger["authenticationRef"] == {"name": "redis-auth"}
    out = render("ci/05-async-queue-values.yaml", sets=["redis.keda.address=redis.other:6379"])
    assert out.get("ScaledObject", NAME)["spec"]["triggers"][0]["metadata"]["address"] == "redis.other:6379"


def test_worker_stays_up_while_webhook_notifications_wait_in_the_outbox() -> None:
    out = render("ci/05-async-queue-values.yaml")
    triggers = {t["name"]: t["metadata"] for t in out.get("ScaledObject", NAME)["spec"]["triggers"]}
    runtime = out.runtime()["queue"]
    assert (
        triggers["notify-queue"]["stream"] == triggers["notify-inflight"]["stream"] == runtime["notifyStream"]
    )
    assert triggers["notify-queue"]["lagCount"] == "10"
    assert triggers["notify-inflight"]["pendingEntriesCount"] == "4"


def test_gateway_accepts_async_jobs_only_for_models_whose_stream_is_watched() -> None:
    out = render("ci/05-async-queue-values.yaml")
    runtime = out.runtime()
    async_models = runtime["queue"]["models"]
    watched = {t["metadata"]["stream"] for t in out.get("ScaledObject", NAME)["spec"]["triggers"]}
    assert async_models == ["batch-model"]
    assert {f"{runtime['queue']['streamPrefix']}{m}" for m in async_models} <= watched
    served = {m["name"] for m in runtime["models"]}
    assert set(async_models) < served, "the non-async model must not be accepted on the async path"


def test_worker_is_ready_only_when_its_readiness_endpoint_answers() -> None:
    container = render("ci/05-async-queue-values.yaml").get("Deployment", NAME)["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
