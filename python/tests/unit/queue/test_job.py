"""The queue entry format: what a worker can and cannot process."""

from __future__ import annotations

import json

import pytest

from llmaz_serverless.queue.job import InvalidJobError, Job, job_id_of, new_job_id


def _job(**kw: object) -> Job:
    base: dict[str, object] = {
        "id": "j1",
        "model": "m",
        "api": "chat",
        "tenant": "t",
        "created_at": 1.5,
        "body": "{}",
    }
    base.update(kw)
    return Job(**base)  # type: ignore[arg-type]


def test_decode_returns_the_same_job_when_encoded_then_decoded() -> None:
    job = _job(webhook="http://127.0.0.1/h", extra={"eventId": "e1"})
    assert Job.decode(job.encode()) == job


def test_job_ids_are_unique_and_time_ordered_when_generated_in_sequence() -> None:
    ids = [new_job_id() for _ in range(200)]
    assert len(set(ids)) == 200
    assert [i.split("-")[1] for i in ids] == sorted(i.split("-")[1] for i in ids)


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON list"),
        (json.dumps({"id": "x", "model": "m"}).encode(), "lacks api, tenant, created_at"),
        (
            json.dumps(
                {
                    "id": "x",
                    "model": "m",
                    "api": "chat",
                    "tenant": "t",
                    "created_at": 1,
                    "body": "{}",
                    "surprise": 1,
                }
            ).encode(),
            "unknown fields ['surprise']",
        ),
        (
            json.dumps(
                {"id": "x", "model": "m", "api": "embeddings", "tenant": "t", "created_at": 1, "body": "{}"}
            ).encode(),
            "unknown api 'embeddings'",
        ),
    ],
)
def test_decode_raises_invalid_job_naming_the_problem_when_entry_is_malformed(
    raw: bytes, reason: str
) -> None:
    with pytest.raises(InvalidJobError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        Job.decode(raw)


def test_job_is_rejected_when_it_has_both_or_neither_body_and_location() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        _job(input_location="s3://b/k")
    with pytest.raises(ValueError, match="exactly one"):
        _job(body=None)


def test_job_id_of_recovers_the_id_when_the_rest_of_the_entry_is_unusable() -> None:
    assert job_id_of(b'{"id": "abc", "api": "nope"}') == "abc"
    assert job_id_of(b"garbage") is None
