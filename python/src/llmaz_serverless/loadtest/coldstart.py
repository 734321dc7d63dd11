"""Which requests waited for a scale-up, from the replica timeline.

A request is a cold start when its model had no serving replica at some
sampled moment between the last sample before it was sent and the moment its
response began (headers, or its end if it failed without any; for an async
job, its result). Its cold-start wait is the time it waited for that response
to begin (TTFB; end to end for an async job). This needs
nothing from the server, so it works the same against the emulator, a gateway
or a cluster; its precision is the sampling interval (the runner samples
every 0.25 s locally, 1 s against a cluster).

Scale-up events are the 0 -> >=1 transitions of the serving count; an event
begins at the last sample before it that saw no replica at all (a loading
replica already exists, and is billed, before it serves).
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from llmaz_serverless.loadtest.records import ReplicaSample, RequestRecord


@dataclass
class ScaleUpEvent:
    model: str
    # Time of the last sample that saw zero replicas before the scale-up: it began after this.
    began: float
    # Time of the first sample that saw a serving replica.
    first_ready: float
    # Ids of the requests that waited for it.
    request_ids: list[str] = field(default_factory=list)
    # Longest wait among them (seconds to response start).
    max_wait_s: float = 0.0


def _by_model(samples: list[ReplicaSample]) -> dict[str, list[ReplicaSample]]:
    grouped: dict[str, list[ReplicaSample]] = defaultdict(list)
    for sample in samples:
        grouped[sample.model].append(sample)
    for series in grouped.values():
        series.sort(key=lambda s: s.time)
    return grouped


def wait_for_response(record: RequestRecord) -> float:
    """Seconds until the response started: headers, else the end (failed without any), else 0.

    An async job's submit is answered at once whatever the replicas, so for it
    the wait is the whole submit -> result time: that is what a scale-up delays.
    """
    if record.kind == "async":
        return record.total_s if record.total_s is not None else 0.0
    if record.ttfb_s is not None:
        return record.ttfb_s
    return record.total_s if record.total_s is not None else 0.0


def response_began(record: RequestRecord) -> float:
    return record.start + wait_for_response(record)


def cold_waits(records: list[RequestRecord], samples: list[ReplicaSample]) -> dict[str, float]:
    """request_id -> seconds it waited for a scale-up, for every cold-start request."""
    series = _by_model(samples)
    times = {model: [s.time for s in ss] for model, ss in series.items()}
    out: dict[str, float] = {}
    for record in records:
        ss = series.get(record.model)
        if not ss:
            continue
        began = response_began(record)
        hi = bisect.bisect_right(times[record.model], began)
        if hi == 0:
            continue  # sent and answered before the first sample: unknown
        lo = max(0, bisect.bisect_right(times[record.model], record.start) - 1)
        if any(s.serving == 0 for s in ss[lo:hi]):
            out[record.request_id] = wait_for_response(record)
    return out


def scale_up_events(samples: list[ReplicaSample]) -> list[ScaleUpEvent]:
    """Every 0 -> >=1 transition of the serving replicas, per model, in time order."""
    events = []
    for model, ss in _by_model(samples).items():
        for i, (prev, cur) in enumerate(itertools.pairwise(ss)):
            if prev.serving == 0 and cur.serving > 0:
                began = prev.time
                for back in range(i, -1, -1):
                    if ss[back].replicas == 0:
                        began = ss[back].time
                        break
                    if ss[back].serving > 0:
                        break  # a serving replica earlier: this is a restart, not from zero
                events.append(ScaleUpEvent(model, began, cur.time))
    events.sort(key=lambda e: e.first_ready)
    return events


def attach(events: list[ScaleUpEvent], records: list[RequestRecord], waits: dict[str, float]) -> None:
    """Assign every cold request to the first scale-up of its model that ended after it was sent."""
    by_id = {r.request_id: r for r in records}
    for request_id, wait in sorted(waits.items(), key=lambda kv: by_id[kv[0]].start):
        record = by_id[request_id]
        for event in events:
            if event.model == record.model and event.first_ready >= record.start:
                event.request_ids.append(request_id)
                event.max_wait_s = max(event.max_wait_s, wait)
                break
