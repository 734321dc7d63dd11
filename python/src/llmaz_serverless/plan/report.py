"""The plan as a report like the load-test ones: plan.md, plan.html (self-contained), plan.json and
one frontier and one replicas PNG per model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from llmaz_serverless.plan.planner import ModelResult, PlanResult
from llmaz_serverless.plan.simulate import Outcome
from llmaz_serverless.plan.summary import HEADER, cells, given_label, outcome_row, targets_text
from llmaz_serverless.report import html, markdown
from llmaz_serverless.report.document import Block

DPI = 110


def _frontier_png(m: ModelResult, price: float | None, path: Path) -> Path:
    gpus = m.model.gpus_per_replica
    fig, ax = plt.subplots(figsize=(8, 4.6))

    def scale(o: Outcome) -> float:
        """The y value of an outcome: its cost when a price is given, else its GPU-hours."""
        hours = o.gpu_hours(gpus)
        return hours * price if price is not None else hours

    ok = [s for s in m.scored if s.ok]
    miss = [s for s in m.scored if not s.ok]
    for group, color, label in ((ok, "#2ca02c", "meets the targets"), (miss, "#bbbbbb", "misses a target")):
        ax.scatter([s.outcome.cold_share * 100 for s in group], [scale(s.outcome) for s in group],
                   s=18, color=color, label=label)  # fmt: skip
    front = sorted((s for s in m.scored if s.frontier), key=lambda s: s.outcome.cold_share)
    ax.plot([s.outcome.cold_share * 100 for s in front], [scale(s.outcome) for s in front],
            color="#1f77b4", lw=1.2, label="frontier")  # fmt: skip
    ax.scatter(
        [m.given.cold_share * 100], [scale(m.given)], marker="s", s=60, color="#d62728", label="as given"
    )
    if m.chosen is not None:
        ax.scatter([m.chosen.outcome.cold_share * 100], [scale(m.chosen.outcome)], marker="*", s=160,
                   color="#ff7f0e", label="recommended", zorder=5)  # fmt: skip
    ax.set_xlabel("requests arriving at zero replicas (%)")
    ax.set_ylabel("cost" if price is not None else "GPU-hours")
    ax.set_title(f"{m.model.name}: cost versus cold share over the trace")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _replicas_png(m: ModelResult, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(10, 3.6))
    series = [(m.given, "as given", "#d62728")]
    if m.chosen_timeline is not None:
        series.append((m.chosen_timeline, "recommended", "#ff7f0e"))
    for o, label, color in series:
        xs = [t for t, _ in o.timeline] + [o.duration]
        ys = [n for _, n in o.timeline] + [o.timeline[-1][1] if o.timeline else 0]
        ax.step(xs, ys, where="post", label=label, color=color)
    ax.eventplot(
        [a.t for a in m.arrivals], lineoffsets=-0.3, linelengths=0.3, colors="#7f7f7f", linewidths=0.3
    )
    ax.set_xlabel("seconds of the trace")
    ax.set_ylabel("replicas")
    ax.set_title(f"{m.model.name}: simulated replicas (ticks: arrivals)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def blocks(r: PlanResult, command: str, images: dict[str, tuple[str, str]]) -> list[Block]:
    t, timing = r.trace, r.service.timing
    out = [
        Block("heading", "Idle settings plan", level=1),
        Block(
            "para",
            f"Trace `{t.name}`: {len(t.arrivals)} requests over {t.duration:.0f} s; "
            f"transforms: {', '.join(t.transforms) or 'none'}. Cold start {r.service.cold_start:g} s "
            f"({r.cold_source}). Service time per request: {timing.ttft:g} s + "
            f"{timing.prefill_per_token:g} s per prompt token + {timing.itl:g} s per output token. "
            f"Targets: {targets_text(r)}."
            + (f" Price: {r.price:g} per GPU-hour." if r.price is not None else ""),
        ),
    ]
    if t.attribution:
        out.append(Block("para", f"Trace data: {t.attribution}."))
    out += [
        Block(
            "para",
            "Every number is a simulation of the decision loop in docs/design/planner.md, not a measurement.",
        ),
        Block("heading", "Command"),
        Block("code", command),
    ]
    for m in r.models:
        gpus = m.model.gpus_per_replica
        out.append(Block("heading", f"Model {m.model.name}"))
        rows = [cells(given_label(m), outcome_row(m.given, gpus, r.price))]
        if m.chosen is not None:
            rows.append(
                cells(
                    "**recommended**: " + m.chosen.candidate.label(),
                    outcome_row(m.chosen.outcome, gpus, r.price),
                )
            )
        out.append(Block("table", header=HEADER, rows=rows))
        if m.scored and m.chosen is None:
            out.append(Block("para", f"No setting of the grid meets the targets ({targets_text(r)})."))
        if m.chosen is not None:
            out += [
                Block("para", "As a values change:"),
                Block("code", m.diff or "(no change: the values as given win)"),
            ]
        if m.model.name in images:
            frontier, replicas = images[m.model.name]
            out += [
                Block("image", "cost versus cold share", image=frontier),
                Block("image", "replicas", image=replicas),
            ]
        if m.scored:
            front = sorted((s for s in m.scored if s.frontier), key=lambda s: s.outcome.cold_share)
            out += [
                Block("heading", "Frontier (no setting is both cheaper and colder)", level=3),
                Block(
                    "table",
                    header=HEADER,
                    rows=[cells(s.candidate.label(), outcome_row(s.outcome, gpus, r.price)) for s in front],
                ),
            ]
    out.append(Block("para", f"{r.settings_simulated} setting(s) simulated in {r.seconds:.2f} s."))
    return out


def as_json(r: PlanResult) -> dict[str, Any]:
    return {
        "trace": {"name": r.trace.name, "requests": len(r.trace.arrivals), "duration_s": r.trace.duration,
                  "transforms": r.trace.transforms, "attribution": r.trace.attribution},
        "cold_start_s": r.service.cold_start,
        "cold_start_source": r.cold_source,
        "models": [
            {
                "name": m.model.name,
                "given": outcome_row(m.given, m.model.gpus_per_replica, r.price),
                "recommended": None if m.chosen is None else {
                    "settings": m.chosen.candidate.label(),
                    **outcome_row(m.chosen.outcome, m.model.gpus_per_replica, r.price),
                },
                "diff": m.diff,
                "grid": [
                    {"settings": s.candidate.label(), "frontier": s.frontier, "misses": s.misses,
                     **outcome_row(s.outcome, m.model.gpus_per_replica, r.price)}
                    for s in m.scored
                ],
            }
            for m in r.models
        ],
        "settings_simulated": r.settings_simulated,
        "seconds": round(r.seconds, 3),
        "notes": r.unmatched,
    }  # fmt: skip


def write(r: PlanResult, out_dir: Path, command: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    images: dict[str, tuple[str, str]] = {}
    files: list[Path] = []
    for m in r.models:
        if m.scored:
            slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in m.model.name)
            files.append(_frontier_png(m, r.price, out_dir / f"frontier-{slug}.png"))
            files.append(_replicas_png(m, out_dir / f"replicas-{slug}.png"))
            images[m.model.name] = (files[-2].name, files[-1].name)
    doc = blocks(r, command, images)
    for name, content in (("plan.md", markdown.render(doc)), ("plan.html", html.render(doc, out_dir)),
                          ("plan.json", json.dumps(as_json(r), indent=2))):  # fmt: skip
        path = out_dir / name
        path.write_text(content, encoding="utf-8")
        files.append(path)
    return files
