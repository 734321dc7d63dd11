"""Predicted against measured: simulate the trace a load test replayed and set it beside the run.

`plan --against RUN_DIR` reads the run's own trace.csv (what `loadtest --trace` sent, transforms
applied), simulates it with the controller that ran it (`local`: loadtest/scaler.py's rules;
`keda`: KEDA + the add-on + the HPA with the values given) and measures the same quantities from
the run's replicas.csv and requests.csv over the same load window:

- replica-seconds: the integral of sampled replicas (existing, loading included), as the load-test
  report computes it (report/summary.py);
- cold share: requests that started while the sampled Ready replicas were zero.
"""

from __future__ import annotations

import bisect
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from llmaz_serverless.loadtest.records import (
    REPLICAS_CSV,
    REQUESTS_CSV,
    RUN_JSON,
    read_replicas,
    read_requests,
)
from llmaz_serverless.model_timing import ModelTiming
from llmaz_serverless.plan.local import simulate_local
from llmaz_serverless.plan.settings import EventPrewarm, Scaling, Service
from llmaz_serverless.plan.simulate import Outcome, event_windows, simulate_keda
from llmaz_serverless.report import html, markdown
from llmaz_serverless.report.document import Block
from llmaz_serverless.report.summary import replica_seconds
from llmaz_serverless.scale_to_zero import ScaleToZeroSettings
from llmaz_serverless.trace.formats import read_trace
from llmaz_serverless.trace.model import Trace

# The bar: predicted replica-seconds and cold share within 10 % of the measured ones.
TOLERANCE = 0.10


@dataclass
class Measured:
    requests: int
    replica_seconds: float
    cold_requests: int
    peak_replicas: int
    scale_ups_from_zero: int
    window: float
    timeline: list[tuple[float, int]]

    @property
    def cold_share(self) -> float:
        return self.cold_requests / self.requests if self.requests else 0.0


@dataclass
class Comparison:
    run_dir: Path
    trace: Trace
    controller: str
    controller_text: str
    service: Service
    cold_source: str
    predicted: Outcome
    measured: Measured

    def rows(self) -> list[tuple[str, float, float, float | None]]:
        """(quantity, predicted, measured, relative error) of each compared quantity."""
        p, m = self.predicted, self.measured

        def rel(a: float, b: float) -> float | None:
            return None if b == 0 else (a - b) / b

        return [
            (
                "replica-seconds",
                p.replica_seconds,
                m.replica_seconds,
                rel(p.replica_seconds, m.replica_seconds),
            ),
            ("cold share", p.cold_share, m.cold_share, rel(p.cold_share, m.cold_share)),
            ("cold requests", p.cold_requests, m.cold_requests, None),
            ("scale-ups from zero", p.scale_ups_from_zero, m.scale_ups_from_zero, None),
            ("peak replicas", p.peak_replicas, m.peak_replicas, None),
        ]

    @property
    def within(self) -> bool:
        return all(err is not None and abs(err) <= TOLERANCE for _, _, _, err in self.rows()[:2])


def measure(run_dir: Path, model: str) -> Measured:
    meta = json.loads((run_dir / RUN_JSON).read_text(encoding="utf-8"))
    start, end = float(meta["started_at"]), float(meta["ended_at"])
    samples = sorted(
        (s for s in read_replicas(run_dir / REPLICAS_CSV) if s.model == model), key=lambda s: s.time
    )
    if not samples:
        raise ValueError(f"{run_dir}: replicas.csv has no sample of model {model!r}; fix: pass --model")
    records = [r for r in read_requests(run_dir / REQUESTS_CSV) if r.model == model]
    times = [s.time for s in samples]
    cold = 0
    for r in records:
        k = bisect.bisect_right(times, r.start) - 1
        if k < 0 or samples[k].serving == 0:
            cold += 1
    # The window's samples, led by the last one before it: a scale-up right at the start still counts.
    before = [s for s in samples if s.time < start][-1:]
    inside = before + [s for s in samples if start <= s.time <= end]
    ups = sum(1 for a, b in itertools.pairwise(inside) if a.replicas == 0 and b.replicas > 0)
    timeline = [(max(0.0, s.time - start), s.replicas) for s in inside]
    peak = max((s.replicas for s in inside), default=0)
    return Measured(
        len(records), replica_seconds(samples, start, end), cold, peak, ups, end - start, timeline
    )


def local_settings(run_dir: Path) -> tuple[ScaleToZeroSettings, ModelTiming]:
    """The local scaler's rule and the emulator's timing a local run used (run.json), else defaults."""
    from llmaz_serverless.loadtest.localstack import LocalModelOptions

    meta = json.loads((run_dir / RUN_JSON).read_text(encoding="utf-8"))
    recorded = (meta.get("local_stack") or {}).get("options") or {}
    # Keys a newer build recorded are left out: the names record() writes are those it takes back.
    known = LocalModelOptions().record().keys()
    o = LocalModelOptions.from_record({k: v for k, v in recorded.items() if k in known})
    return o.scaling, o.timing


def compare(
    run_dir: Path,
    service: Service,
    cold_source: str,
    local: ScaleToZeroSettings | None = None,
    keda: Scaling | None = None,
    prewarms: list[EventPrewarm] | None = None,
    model_names: tuple[str, ...] = (),
) -> Comparison:
    meta = json.loads((run_dir / RUN_JSON).read_text(encoding="utf-8"))
    info = meta.get("trace")
    if not info:
        raise ValueError(
            f"{run_dir}: not a trace replay (run.json has no `trace`); fix: run loadtest --trace"
        )
    trace = read_trace(run_dir / info.get("file", "trace.csv"))
    trace.name, trace.transforms, trace.attribution = (
        info["name"],
        list(info["transforms"]),
        info.get("attribution", ""),
    )
    model = str(meta["profile"]["model"])
    measured = measure(run_dir, model)
    if keda is not None:
        windows = event_windows(trace.events, prewarms or [], model_names)
        predicted = simulate_keda(
            trace.arrivals, keda, service, None, measured.window, timeline=True, prewarm=windows
        )
        controller, text = "keda", f"KEDA + HTTP add-on + HPA with the values given: {keda}"
    else:
        local = local or ScaleToZeroSettings()
        predicted = simulate_local(trace.arrivals, local, service, measured.window, timeline=True)
        controller, text = "local", f"the local stack's scaler simulation (loadtest/scaler.py): {local}"
    return Comparison(run_dir, trace, controller, text, service, cold_source, predicted, measured)


def _fmt(name: str, value: float) -> str:
    return (
        f"{value:.1%}"
        if name == "cold share"
        else f"{value:.0f}"
        if name != "replica-seconds"
        else f"{value:.1f}"
    )


def text(c: Comparison) -> str:
    out = [f"run: {c.run_dir}", f"trace: {c.trace.describe()}", f"controller: {c.controller_text}",
           f"cold start: {c.service.cold_start:.2f}s ({c.cold_source})", ""]  # fmt: skip
    for name, p, m, err in c.rows():
        rel = "" if err is None else f"  {err:+.1%}"
        out.append(f"  {name:20} predicted {_fmt(name, p):>8}  measured {_fmt(name, m):>8}{rel}")
    verdict = "within" if c.within else "NOT within"
    out.append(f"\nreplica-seconds and cold share {verdict} {TOLERANCE:.0%} of the measured run")
    return "\n".join(out)


def _png(c: Comparison, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(10, 3.8))
    m = c.measured.timeline
    ax.step(
        [t for t, _ in m], [n for _, n in m], where="post", label="measured (replicas.csv)", color="#6a3d9a"
    )
    p = c.predicted.timeline
    xs = [t for t, _ in p] + [c.predicted.duration]
    ax.step(
        xs,
        [n for _, n in p] + [p[-1][1] if p else 0],
        where="post",
        label="predicted",
        color="#ff7f0e",
        ls="--",
    )
    ax.eventplot(
        [a.t for a in c.trace.arrivals], lineoffsets=-0.3, linelengths=0.3, colors="#7f7f7f", linewidths=0.3
    )
    ax.set_xlabel("seconds since the load started")
    ax.set_ylabel("replicas")
    ax.set_title("replicas: predicted by plan vs measured on the run (ticks: arrivals)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def as_json(c: Comparison) -> dict[str, Any]:
    return {
        "run": str(c.run_dir),
        "trace": {"name": c.trace.name, "transforms": c.trace.transforms, "requests": len(c.trace.arrivals)},
        "controller": c.controller,
        "controller_settings": c.controller_text,
        "cold_start_s": c.service.cold_start,
        "cold_start_source": c.cold_source,
        "rows": [
            {"quantity": n, "predicted": p, "measured": m, "relative_error": e} for n, p, m, e in c.rows()
        ],
        "tolerance": TOLERANCE,
        "within": c.within,
    }


def write(c: Comparison, out_dir: Path, command: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    image = _png(c, out_dir / "predicted-vs-measured.png")
    rows = [[n, _fmt(n, p), _fmt(n, m), "" if e is None else f"{e:+.1%}"] for n, p, m, e in c.rows()]
    doc = [
        Block("heading", "Planner against a measured run", level=1),
        Block("para", f"Run `{c.run_dir.name}`, trace {c.trace.describe()}."),
        Block(
            "para",
            f"Simulated controller: {c.controller_text}. Cold start {c.service.cold_start:.2f} s "
            f"({c.cold_source}).",
        ),
        Block("table", header=["quantity", "predicted", "measured", "error"], rows=rows),
        Block(
            "para",
            f"**Replica-seconds and cold share {'within' if c.within else 'NOT within'} "
            f"{TOLERANCE:.0%} of the measured run.**",
        ),
        Block("image", "predicted vs measured replicas", image=image.name),
        Block("heading", "Command"),
        Block("code", command),
    ]
    files = [image]
    for name, content in (("compare.md", markdown.render(doc)), ("compare.html", html.render(doc, out_dir)),
                          ("compare.json", json.dumps(as_json(c), indent=2))):  # fmt: skip
        (out_dir / name).write_text(content, encoding="utf-8")
        files.append(out_dir / name)
    return files
