"""Replica sources against real servers: the emulator's state endpoint and a real Prometheus."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from llmaz_serverless.launcher import free_port
from llmaz_serverless.loadtest.records import read_replicas
from llmaz_serverless.loadtest.replicas import ModelRef, PrometheusSource, ReplicaSampler, StateUrlSource
from llmaz_serverless_testing.appservers import EmulatorServer
from llmaz_serverless_testing.servers import PrometheusServer

pytestmark = pytest.mark.integration


def _wait(predicate, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_state_source_follows_the_emulated_scale_to_zero_when_idle_then_woken(tmp_path: Path) -> None:
    with EmulatorServer(model="m", startup_delay=0.3, scale_to_zero_after=0.4, hold_while_loading=True,
                        ttft=0.01, itl=0.005) as sim:  # fmt: skip
        source = StateUrlSource(f"{sim.url}/emulator/state")
        sampler = ReplicaSampler([source], tmp_path / "replicas.csv", interval=0.05).start()
        try:
            _wait(lambda: sampler.latest.get("m") is not None and sampler.latest["m"].replicas == 0, 5)
            httpx.post(
                f"{sim.url}/v1/completions", json={"model": "m", "prompt": "x", "max_tokens": 2}, timeout=10
            )
            _wait(lambda: sampler.latest["m"].replicas == 0, 5)  # idle again
        finally:
            sampler.stop()
    samples = read_replicas(tmp_path / "replicas.csv")
    seen = [(s.replicas, s.ready) for s in samples]
    # loaded (1, 1) -> zero (0, 0) -> woken: loading (1, 0) or straight to ready -> zero again
    assert (1, 1) in seen and (0, 0) in seen
    first_zero = seen.index((0, 0))
    assert (1, 1) in seen[first_zero:], "the wake-up was not sampled"
    assert sampler.errors == 0
    assert all(s.source == "state" and s.model == "m" for s in samples)


def test_sampler_counts_failed_reads_and_keeps_going_when_the_source_is_down(tmp_path: Path) -> None:
    sampler = ReplicaSampler([StateUrlSource(f"http://127.0.0.1:{free_port()}/emulator/state", "m")],
                             tmp_path / "replicas.csv", interval=0.05).start()  # fmt: skip
    time.sleep(0.3)
    sampler.stop()
    assert sampler.errors >= 3
    assert "state: ConnectError" in sampler.last_error
    assert read_replicas(tmp_path / "replicas.csv") == []


def test_prometheus_source_reads_replicas_and_zero_for_missing_series_when_scraped() -> None:
    registry = CollectorRegistry()
    gauge = Gauge(
        "kube_statefulset_status_replicas", "replicas", ["namespace", "statefulset"], registry=registry
    )
    ready = Gauge(
        "kube_statefulset_status_replicas_ready", "ready", ["namespace", "statefulset"], registry=registry
    )
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        gauge.labels("default", "llama").set(2)
        ready.labels("default", "llama").set(1)
        with PrometheusServer(targets=[f"127.0.0.1:{port}"], scrape_interval="1s") as prom:
            source = PrometheusSource(
                prom.url, [ModelRef("llama-3", "llama"), ModelRef("absent", "nothing-here")]
            )
            try:
                _wait(lambda: source.read()[0].replicas == 2, 30)
                readings = {r.model: r for r in source.read()}
                assert (readings["llama-3"].replicas, readings["llama-3"].ready) == (2, 1)
                # A model at zero exports no series: read as 0, not as an error.
                assert (readings["absent"].replicas, readings["absent"].ready) == (0, 0)
                gauge.labels("default", "llama").set(0)
                _wait(lambda: source.read()[0].replicas == 0, 30)
            finally:
                source.close()
    finally:
        server.shutdown()
        thread.join(timeout=5)
