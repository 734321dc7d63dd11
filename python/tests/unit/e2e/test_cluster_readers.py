"""Readers the e2e tests use on KEDA's HPA, fed with objects shaped as the API returns them."""

from typing import Any

from llmaz_serverless_testing.e2e.cluster import hpa_metric_readings, hpa_rescale_reasons, quantity


class FakeCluster:
    def __init__(self, objects: dict[str, dict[str, Any]]) -> None:
        self.objects = objects
        self.asked: list[tuple[str, str | None]] = []

    def get(self, kind: str, name: str | None = None, **_: Any) -> dict[str, Any]:
        self.asked.append((kind, name))
        return self.objects[kind]


def external(name: str, value: str) -> dict[str, Any]:
    return {"type": "External", "external": {"metric": {"name": name}, "current": {"averageValue": value}}}


def test_readings_are_keyed_by_trigger_index_with_quantities_parsed():
    hpa = {
        "status": {
            "currentMetrics": [
                external("s0-http_e2e-emu_concurrency", "1500m"),
                external("s1-prometheus", "3"),
            ]
        }
    }
    cluster = FakeCluster({"hpa": hpa})
    assert hpa_metric_readings(cluster, "e2e-emu") == {0: 1.5, 1: 3.0}  # type: ignore[arg-type]
    assert cluster.asked == [("hpa", "keda-hpa-e2e-emu")]


def test_an_hpa_without_readings_yet_gives_none():
    assert hpa_metric_readings(FakeCluster({"hpa": {"status": {}}}), "x") == {}  # type: ignore[arg-type]


def test_quantities_as_the_hpa_reports_them():
    assert [quantity(q) for q in ("250m", "2", "2k", "0")] == [0.25, 2.0, 2000.0, 0.0]


def test_rescale_reasons_are_only_the_hpas_successful_rescales():
    why = "New size: 3; reason: external metric s1-prometheus(...) above target"

    def event(name: str, reason: str, message: str) -> dict[str, Any]:
        return {"involvedObject": {"name": name}, "reason": reason, "message": message}

    events = {
        "items": [
            event("keda-hpa-e2e-emu", "SuccessfulRescale", why),
            event("keda-hpa-e2e-emu", "FailedGetExternalMetric", "x"),
            event("keda-hpa-other", "SuccessfulRescale", "y"),
        ]
    }
    reasons = hpa_rescale_reasons(FakeCluster({"events": events}), "e2e-emu")  # type: ignore[arg-type]
    assert reasons == [why]
