"""Events are CloudEvents 1.0 as the reference SDK reads them."""

from __future__ import annotations

from cloudevents.core.bindings.http import HTTPMessage, from_http_event

from llmaz_serverless.notify.cloudevents import CONTENT_TYPE, encode, job_event

LOCATION = {
    "store": "s3",
    "uri": "s3://b/p/results/job-1.json",
    "bytes": 10,
    "contentType": "application/json",
}
SUCCEEDED = {
    "id": "job-1", "model": "m", "state": "succeeded", "attempts": 2,
    "createdAt": 100.0, "completedAt": 160.5, "result": LOCATION,
}  # fmt: skip


def _parse(event: dict) -> object:
    return from_http_event(HTTPMessage(headers={"content-type": CONTENT_TYPE}, body=encode(event)))


def test_success_event_parses_as_cloudevent_with_result_location_when_job_succeeded() -> None:
    event = job_event(
        SUCCEEDED, source="/llmaz-serverless/async", result_url="http://signed", status_url="http://s"
    )
    parsed = _parse(event)
    assert parsed.get_type() == "io.llmaz.serverless.async.job.succeeded"  # type: ignore[attr-defined]
    assert parsed.get_id() == "job-1.succeeded"  # type: ignore[attr-defined]
    assert parsed.get_subject() == "job-1"  # type: ignore[attr-defined]
    data = parsed.get_data()  # type: ignore[attr-defined]
    assert data["resultLocation"]["uri"] == "s3://b/p/results/job-1.json"
    assert data["resultUrl"] == "http://signed"
    assert event["time"] == "1970-01-01T00:02:40.500000Z"


def test_failure_event_carries_the_error_and_a_distinct_id_when_job_failed() -> None:
    failed = {**SUCCEEDED, "state": "failed", "error": {"code": "model_rejected", "message": "400"}}
    failed.pop("result")
    parsed = _parse(job_event(failed, source="/x"))
    assert parsed.get_type() == "io.llmaz.serverless.async.job.failed"  # type: ignore[attr-defined]
    assert parsed.get_id() == "job-1.failed"  # type: ignore[attr-defined]
    assert parsed.get_data()["error"]["code"] == "model_rejected"  # type: ignore[attr-defined]
