"""The report's figures, one PNG each, drawn with matplotlib's Agg backend (no display needed).

Time axes are seconds since the load started; the traffic shape's phases are
drawn as dotted lines with their names so a spike can be read against what
the load was doing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from llmaz_serverless.loadtest.coldstart import wait_for_response
from llmaz_serverless.report.rundata import RunData
from llmaz_serverless.report.summary import Summary, percentile

SIZE = (10, 4.4)
DPI = 110
COLORS = {
    "p50": "#1f77b4",
    "p95": "#ff7f0e",
    "p99": "#d62728",
    "ok": "#2ca02c",
    "err": "#d62728",
    "replicas": "#6a3d9a",
    "ready": "#b15928",
    "rate": "#1f77b4",
    "always": "#7f7f7f",
}


def _percentile_or_gap(values: list[float], q: float) -> float:
    """The percentile, or NaN (a gap in the line) for an empty bucket."""
    found = percentile(values, q)
    return np.nan if found is None else found


def bucket_width(window: float) -> float:
    """About 40 buckets per run, whole seconds, at least 1 s."""
    return float(max(1, math.ceil(window / 40)))


def _time_axis(ax: Axes, run: RunData, xlabel: str, title: str, *, log: bool = False) -> None:
    """The x axis of every over-time plot: seconds over the load's window, phases shaded, a grid
    (minor lines too on a log scale)."""
    start, end = run.window
    _phases(ax, run)
    ax.set_xlim(0, end - start)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(True, which="both" if log else "major", alpha=0.3)


def _phases(ax: Axes, run: RunData, label: bool = True) -> None:
    for i, phase in enumerate(run.schedule.get("phases", [])):
        x = float(phase["start_s"])
        ax.axvline(x, color="#999999", linestyle=":", linewidth=0.8, zorder=0)
        if label:
            ax.annotate(
                phase["name"],
                xy=(x, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, -2 - 9 * (i % 2)),
                textcoords="offset points",
                fontsize=7,
                color="#555555",
                va="top",
            )


def _legend(ax: Axes, *axes: Axes) -> None:
    """Legend under the plot: inside it would hide data or the phase names at the top."""
    handles = [h for a in (ax, *axes) for h in a.get_legend_handles_labels()[0]]
    if handles:
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.17),
            ncol=min(4, len(handles)),
            fontsize=8,
            frameon=False,
        )


def _finish(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=11, color="#555555")


def latency_over_time(run: RunData, summary: Summary, path: Path) -> Path:
    start, end = run.window
    width = bucket_width(end - start)
    ok = [r for r in run.records if r.outcome == "ok" and r.total_s is not None]
    fig, ax = plt.subplots(figsize=SIZE)
    nb = max(1, math.ceil((end - start) / width))
    buckets: list[list[float]] = [[] for _ in range(nb)]
    ttft_buckets: list[list[float]] = [[] for _ in range(nb)]
    for r in ok:
        i = min(nb - 1, max(0, int((r.start - start) // width)))
        buckets[i].append(r.total_s or 0.0)
        if r.ttft_s is not None:
            ttft_buckets[i].append(r.ttft_s)
    xs = [(i + 0.5) * width for i in range(nb)]
    if ok:
        for q, key in ((50, "p50"), (95, "p95"), (99, "p99")):
            ax.plot(
                xs,
                [_percentile_or_gap(b, q) for b in buckets],
                marker=".",
                color=COLORS[key],
                label=f"latency {key}",
            )
        if any(ttft_buckets):
            ax.plot(
                xs,
                [_percentile_or_gap(b, 50) for b in ttft_buckets],
                linestyle="--",
                color="#17becf",
                label="TTFT p50",
            )
        ax.set_yscale("log")
        _legend(ax)
    else:
        _empty(ax, "no successful request")
    ax.set_ylabel("seconds (log scale)")
    _time_axis(
        ax,
        run,
        f"seconds since start (requests grouped by send time, {width:g} s buckets)",
        "Latency percentiles over time (successful requests)",
        log=True,
    )
    return _finish(fig, path)


def _distribution(values: list[float], unit: str, title: str, path: Path, empty_text: str) -> Path:
    fig, ax = plt.subplots(figsize=SIZE)
    if values:
        arr = np.asarray(values, dtype=float)
        positive = arr[arr > 0]
        bins: int | list[float]
        if len(positive) and positive.max() / max(positive.min(), 1e-9) > 50:
            bins = np.logspace(np.log10(max(positive.min(), 1e-6)), np.log10(positive.max()), 50).tolist()
            ax.set_xscale("log")
        else:
            bins = 50
        ax.hist(arr, bins=bins, color="#4c72b0", alpha=0.85)
        for q, color in ((50, COLORS["p50"]), (90, COLORS["p95"]), (99, COLORS["p99"])):
            v = _percentile_or_gap(values, q)
            ax.axvline(v, color=color, linestyle="--", linewidth=1.2, label=f"p{q} = {v:.3g} {unit}")
        ax.legend(fontsize=8)
        ax.set_ylabel("count")
    else:
        _empty(ax, empty_text)
    ax.set_xlabel(unit)
    ax.set_title(f"{title} (n = {len(values)})")
    ax.grid(True, alpha=0.3)
    return _finish(fig, path)


def ttft_distribution(run: RunData, summary: Summary, path: Path) -> Path:
    values = [r.ttft_s for r in run.records if r.outcome == "ok" and r.ttft_s is not None]
    return _distribution(
        values,
        "s",
        "Time to first token, successful streamed requests",
        path,
        "no streamed request succeeded: TTFT needs streaming",
    )


def itl_distribution(run: RunData, summary: Summary, path: Path) -> Path:
    values = [g for r in run.records if r.outcome == "ok" for g in r.itl_ms]
    return _distribution(
        values,
        "ms",
        "Inter-token latency, every gap of every successful stream",
        path,
        "no inter-token gap measured (no streamed request with 2+ tokens)",
    )


def throughput(run: RunData, summary: Summary, path: Path) -> Path:
    start, end = run.window
    width = bucket_width(end - start)
    nb = max(1, math.ceil((end - start) / width))
    ok = np.zeros(nb)
    err = np.zeros(nb)
    tokens = np.zeros(nb)
    for r in run.records:
        finished = r.end if r.end is not None else r.start
        i = min(nb - 1, max(0, int((finished - start) // width)))
        if r.outcome == "ok":
            ok[i] += 1
            tokens[i] += r.output_tokens
        else:
            err[i] += 1
    xs = np.arange(nb) * width
    fig, ax = plt.subplots(figsize=SIZE)
    ax.bar(xs, ok / width, width=width, align="edge", color=COLORS["ok"], alpha=0.8, label="successful req/s")
    ax.bar(
        xs,
        err / width,
        width=width,
        align="edge",
        bottom=ok / width,
        color=COLORS["err"],
        alpha=0.8,
        label="failed req/s",
    )
    ax.set_ylabel("requests/s (by completion time)")
    ax2 = ax.twinx()
    ax2.plot(xs + width / 2, tokens / width, color="#333333", marker=".", label="output tokens/s")
    ax2.set_ylabel("output tokens/s")
    ax2.set_ylim(bottom=0)
    _legend(ax, ax2)
    _time_axis(ax, run, f"seconds since start ({width:g} s buckets)", "Throughput")
    return _finish(fig, path)


def _steps(run: RunData, model: str, attr: str) -> tuple[list[float], list[float]]:
    start, end = run.window
    ss = sorted((s for s in run.samples if s.model == model), key=lambda s: s.time)
    xs = [s.time - start for s in ss]
    ys = [float(getattr(s, attr) if getattr(s, attr) is not None else s.replicas) for s in ss]
    if ss:
        xs.append(max(xs[-1], end - start))
        ys.append(ys[-1])
    return xs, ys


def replicas_over_time(run: RunData, summary: Summary, path: Path) -> Path:
    start, end = run.window
    fig, ax = plt.subplots(figsize=SIZE)
    if run.samples:
        for model in sorted({s.model for s in run.samples}):
            xs, ys = _steps(run, model, "replicas")
            ax.step(xs, ys, where="post", color=COLORS["replicas"], linewidth=2, label=f"{model}: replicas")
            if any(s.ready is not None for s in run.samples if s.model == model):
                xs, ys = _steps(run, model, "ready")
                ax.step(xs, ys, where="post", color=COLORS["ready"], linestyle="--", label=f"{model}: ready")
        ax.set_ylim(bottom=-0.05, top=max(s.replicas for s in run.samples) + 1)
        locator = ax.yaxis.get_major_locator()
        if isinstance(locator, MaxNLocator):  # a linear axis's AutoLocator is one
            locator.set_params(integer=True)
    else:
        _empty(ax, "no replica samples (no source was available for this run)")
    ax.set_ylabel("replicas")
    width = 1.0
    nb = max(1, math.ceil((end - start) / width))
    sent = np.zeros(nb)
    for r in run.records:
        sent[min(nb - 1, max(0, int((r.start - start) // width)))] += 1
    ax2 = ax.twinx()
    ax2.plot(
        np.arange(nb) * width + width / 2,
        sent / width,
        color=COLORS["rate"],
        alpha=0.6,
        label="requests sent/s",
    )
    ax2.set_ylabel("requests sent/s")
    ax2.set_ylim(bottom=0)
    _legend(ax, ax2)
    _time_axis(ax, run, "seconds since start", "Replicas over time, with the request rate")
    return _finish(fig, path)


def cold_starts(run: RunData, summary: Summary, path: Path) -> Path:
    start = run.window[0]
    fig, ax = plt.subplots(figsize=SIZE)
    warm_x, warm_y, cold_x, cold_y = [], [], [], []
    for r in run.records:
        wait = wait_for_response(r)
        if r.request_id in summary.cold:
            cold_x.append(r.start - start)
            cold_y.append(max(wait, 1e-4))
        else:
            warm_x.append(r.start - start)
            warm_y.append(max(wait, 1e-4))
    for event in summary.events:
        ax.axvspan(event.began - start, event.first_ready - start, color="#fdbf6f", alpha=0.35, zorder=0)
    if run.records:
        ax.scatter(warm_x, warm_y, s=8, color="#7f7f7f", alpha=0.6, label=f"warm requests ({len(warm_x)})")
        ax.scatter(cold_x, cold_y, s=18, color=COLORS["err"], label=f"waited for a scale-up ({len(cold_x)})")
        ax.set_yscale("log")
        _legend(ax)
    else:
        _empty(ax, "no request")
    ax.set_ylabel("wait for the response (s, log)\nheaders; async: end to end")
    _time_axis(
        ax,
        run,
        "seconds since start (send time); shaded: scale-ups from zero (last sample at zero -> first ready)",
        f"Cold-start waits: {len(summary.events)} scale-up(s) from zero",
        log=True,
    )
    return _finish(fig, path)


def errors(run: RunData, summary: Summary, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=SIZE)
    if summary.errors_by_kind:
        kinds = list(summary.errors_by_kind)
        counts = [summary.errors_by_kind[k] for k in kinds]
        bars = ax.barh(kinds[::-1], counts[::-1], color=COLORS["err"], alpha=0.8)
        ax.bar_label(bars, padding=3, fontsize=8)
        ax.set_xlabel("failed requests")
    else:
        _empty(ax, f"no errors in {len(run.records)} requests")
        ax.set_yticks([])
    ax.set_title(
        f"Error breakdown ({sum(summary.errors_by_kind.values())} of {len(run.records)} requests failed)"
    )
    ax.grid(True, axis="x", alpha=0.3)
    return _finish(fig, path)


def cost(run: RunData, summary: Summary, path: Path) -> Path:
    start, end = run.window
    fig, ax = plt.subplots(figsize=SIZE)
    m = summary.metrics
    if summary.costs and not m.get("always_on_replica_seconds"):
        _empty(ax, "replicas stayed at zero for the whole load: nothing was used, nothing to compare")
    elif summary.costs:
        grid = np.linspace(start, end, 400)
        used = np.zeros_like(grid)
        peak_total = sum(c.peak for c in summary.costs)
        for c in summary.costs:
            ss = sorted((s for s in run.samples if s.model == c.model), key=lambda s: s.time)
            times = np.array([s.time for s in ss])
            values = np.array([s.replicas for s in ss], dtype=float)
            idx = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, len(ss) - 1)
            used += values[idx]
        dt = np.diff(grid, prepend=start)
        cumulative_used = np.cumsum(used * dt)
        xs = grid - start
        ax.plot(
            xs,
            xs * peak_total,
            color=COLORS["always"],
            linestyle="--",
            linewidth=2,
            label=f"always-on at peak ({peak_total} replica(s)): "
            f"{m['always_on_replica_seconds']:.0f} replica-s",
        )
        ax.plot(
            xs,
            cumulative_used,
            color=COLORS["replicas"],
            linewidth=2,
            label=f"scale to zero (used): {m['replica_seconds']:.0f} replica-s",
        )
        ax.fill_between(
            xs,
            cumulative_used,
            xs * peak_total,
            color="#b2df8a",
            alpha=0.35,
            label=f"saved: {m['replica_seconds_saved_pct']:.1f}%",
        )
        _legend(ax)
    else:
        _empty(ax, "no replica samples: cost cannot be computed")
    _phases(ax, run, label=False)
    ax.set_xlim(0, end - start)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("cumulative replica-seconds")
    ax.set_title("Cost line: replica-seconds used vs always-on at the peak replica count")
    ax.grid(True, alpha=0.3)
    return _finish(fig, path)


Plot = Callable[[RunData, Summary, Path], Path]

# File name -> (title, function), in report order.
PLOTS: dict[str, tuple[str, Plot]] = {
    "latency_over_time.png": ("Latency percentiles over time", latency_over_time),
    "ttft_distribution.png": ("Time to first token", ttft_distribution),
    "itl_distribution.png": ("Inter-token latency", itl_distribution),
    "throughput.png": ("Throughput", throughput),
    "replicas.png": ("Replicas over time with the request rate", replicas_over_time),
    "cold_starts.png": ("Cold-start waits", cold_starts),
    "errors.png": ("Error breakdown", errors),
    "cost.png": ("Cost line", cost),
}


def draw_all(run: RunData, summary: Summary, out_dir: Path) -> list[Path]:
    return [fn(run, summary, out_dir / name) for name, (_title, fn) in PLOTS.items()]
