"""One async job, timed end to end: submit, then poll its status until it ends.

The gateway's async API (llmaz_serverless/gateway/async_api.py) answers a
submit with 202, the job id and `statusUrl`; `GET /v1/async/{id}` carries
`status` (queued | running | succeeded | failed) and, when done, the result
or where it is. `ttfb_s` is the submit's answer time (what a client waits
before it can go away), `total_s` the time until the job's end was observed,
so it includes up to one `poll_interval` of polling delay. Webhook delivery is
not used here: polling measures the same end-to-end path from the client's side.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import requests

from llmaz_serverless.loadtest.client import REQUEST_ID_HEADER
from llmaz_serverless.loadtest.profile import AsyncOptions
from llmaz_serverless.loadtest.records import RequestRecord

DONE_STATES = frozenset({"succeeded", "completed", "done", "success"})
FAILED_STATES = frozenset(
    {"failed", "error", "dead", "dead_lettered", "deadlettered", "cancelled", "expired"}
)


def status_url(base_url: str, submit_path: str, response: requests.Response, job_id: str) -> str:
    """Where to poll: the body's status URL, else Location, else `<submit path>/<id>`."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    for key in ("status_url", "statusUrl", "url"):
        if isinstance(data, dict) and data.get(key):
            return urljoin(base_url.rstrip("/") + "/", str(data[key]))
    if response.headers.get("Location"):
        return urljoin(base_url.rstrip("/") + "/", response.headers["Location"])
    return f"{base_url.rstrip('/')}{submit_path.rstrip('/')}/{job_id}"


def run_async_job(
    session: requests.Session,
    base_url: str,
    body: dict[str, Any],
    record: RequestRecord,
    options: AsyncOptions,
    headers: dict[str, str] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    sleep: Callable[[float], None] = time.sleep,
) -> RequestRecord:
    """Submit `body`, poll until the job ends or `options.deadline` passes; fills `record`."""
    hdrs = {REQUEST_ID_HEADER: record.request_id, **(headers or {})}
    payload = dict(body)
    record.kind = "async"
    record.start = time.time()
    t0 = clock()
    try:
        resp = session.post(
            base_url.rstrip("/") + options.submit_path, json=payload, headers=hdrs, timeout=30
        )
        record.ttfb_s = clock() - t0
        record.http_status = resp.status_code
        if resp.status_code not in (200, 201, 202):
            record.error = f"http_{resp.status_code}"
            record.error_detail = resp.text[:300]
            record.total_s = clock() - t0
            return record
        data = resp.json() if resp.content else {}
        job_id = str(data.get("id") or data.get("request_id") or record.request_id)
        url = status_url(base_url, options.submit_path, resp, job_id)
        while True:
            if clock() - t0 > options.deadline:
                record.error, record.error_detail = (
                    "timeout",
                    f"job {job_id} not done after {options.deadline}s",
                )
                break
            sleep(options.poll_interval)
            poll = session.get(url, headers=hdrs, timeout=30)
            record.http_status = poll.status_code
            if poll.status_code == 404:
                continue  # not visible yet on this replica of the store
            if poll.status_code >= 400:
                record.error, record.error_detail = f"http_{poll.status_code}", poll.text[:300]
                break
            state = poll.json()
            status = str(state.get("status", "")).lower()
            if status in DONE_STATES:
                usage = (
                    (state.get("result") or {}).get("usage") or {}
                    if isinstance(state.get("result"), dict)
                    else {}
                )
                record.output_tokens = int(usage.get("completion_tokens") or 0)
                break
            if status in FAILED_STATES:
                record.error = "async_failed"
                record.error_detail = str(state.get("error") or status)[:300]
                break
    except requests.RequestException as exc:
        record.error = "timeout" if isinstance(exc, requests.Timeout) else "connection"
        record.error_detail = str(exc)[:300]
    except ValueError as exc:
        record.error, record.error_detail = "bad_response", str(exc)[:300]
    record.total_s = clock() - t0
    if not record.error:
        record.outcome = "ok"
    return record
