from __future__ import annotations

from llmaz_serverless.loadtest.coldstart import attach, cold_waits, scale_up_events
from llmaz_serverless.loadtest.records import ReplicaSample, RequestRecord


def _samples(points: list[tuple[float, int, int | None]], model: str = "m") -> list[ReplicaSample]:
    return [ReplicaSample(t, model, replicas, ready) for t, replicas, ready in points]


def _req(
    rid: str, start: float, ttfb: float | None, total: float | None = None, model: str = "m"
) -> RequestRecord:
    return RequestRecord(rid, "chat", model, True, start, ttfb_s=ttfb, total_s=total or ttfb, outcome="ok")


# Zero until 10 s, loading 10-13 s, ready 13-30 s, zero from 30 s.
TIMELINE = _samples(
    [(0, 0, 0), (5, 0, 0), (10, 1, 0), (12, 1, 0), (13, 1, 1), (20, 1, 1), (30, 0, 0), (40, 0, 0)]
)


def test_request_sent_at_zero_is_cold_with_its_wait_when_response_starts_after_scale_up() -> None:
    waits = cold_waits([_req("a", 9.5, 3.6)], TIMELINE)
    assert waits == {"a": 3.6}


def test_request_sent_while_loading_is_cold_when_no_replica_serves_yet() -> None:
    assert "b" in cold_waits([_req("b", 11.0, 2.1)], TIMELINE)


def test_request_sent_to_a_ready_replica_is_warm_when_nothing_was_at_zero() -> None:
    assert cold_waits([_req("c", 15.0, 0.01), _req("d", 20.5, 0.02)], TIMELINE) == {}


def test_request_is_unknown_when_it_ended_before_the_first_sample() -> None:
    late = _samples([(100, 0, 0)])
    assert cold_waits([_req("e", 1.0, 0.5)], late) == {}


def test_request_of_another_model_is_never_cold_when_only_this_model_was_sampled() -> None:
    assert cold_waits([_req("f", 9.5, 3.6, model="other")], TIMELINE) == {}


def test_failed_request_without_headers_uses_its_end_when_judged() -> None:
    record = RequestRecord(
        "g", "chat", "m", True, 9.0, ttfb_s=None, total_s=2.0, outcome="error", error="connection"
    )
    assert cold_waits([record], TIMELINE) == {"g": 2.0}


def test_scale_up_event_begins_at_the_last_sample_with_no_replica_when_loading_is_visible() -> None:
    events = scale_up_events(TIMELINE)
    assert len(events) == 1
    assert (events[0].began, events[0].first_ready) == (5, 13)


def test_ready_unknown_falls_back_to_replicas_when_source_has_no_ready_count() -> None:
    events = scale_up_events(_samples([(0, 0, None), (1, 2, None), (2, 0, None), (3, 1, None)]))
    assert [(e.began, e.first_ready) for e in events] == [(0, 1), (2, 3)]


def test_restart_of_a_serving_replica_is_not_a_scale_up_from_zero_when_replicas_never_hit_zero() -> None:
    events = scale_up_events(_samples([(0, 1, 1), (1, 1, 0), (2, 1, 1)]))
    assert len(events) == 1
    assert events[0].began == 1  # counted from the last not-ready sample, never before the serving one


def test_attach_assigns_each_cold_request_to_the_scale_up_it_waited_for() -> None:
    timeline = _samples([(0, 0, 0), (2, 1, 1), (10, 0, 0), (12, 1, 1)])
    records = [_req("a", 1.0, 1.5), _req("b", 1.2, 1.4), _req("c", 11.0, 1.2), _req("w", 5.0, 0.01)]
    waits = cold_waits(records, timeline)
    events = scale_up_events(timeline)
    attach(events, records, waits)
    assert [sorted(e.request_ids) for e in events] == [["a", "b"], ["c"]]
    assert events[0].max_wait_s == 1.5


def test_async_job_is_judged_on_its_whole_life_when_the_submit_was_answered_at_once() -> None:
    job = RequestRecord("j", "async", "m", False, 9.0, ttfb_s=0.05, total_s=5.0, outcome="ok")
    # Submitted at zero, accepted in 50 ms, done after the scale-up: it waited 5 s for it.
    assert cold_waits([job], TIMELINE) == {"j": 5.0}
    warm = RequestRecord("k", "async", "m", False, 15.0, ttfb_s=0.05, total_s=0.8, outcome="ok")
    assert cold_waits([warm], TIMELINE) == {}
