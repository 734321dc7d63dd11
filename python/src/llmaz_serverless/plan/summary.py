"""The plan as text for the terminal, and the rows every output shares (no plotting imports here,
so `plan` without --report starts fast)."""

from __future__ import annotations

from typing import Any

from llmaz_serverless.plan.planner import ModelResult, PlanResult
from llmaz_serverless.plan.simulate import Outcome


def outcome_row(o: Outcome, gpus: float, price: float | None) -> dict[str, Any]:
    hours = o.gpu_hours(gpus)
    return {
        "requests": o.requests,
        "replica_seconds": round(o.replica_seconds, 1),
        "gpu_hours": round(hours, 3),
        "cost": None if price is None else round(hours * price, 2),
        "cold_share": round(o.cold_share, 4),
        "cold_requests": o.cold_requests,
        "wait_p50_s": round(o.wait_percentile(50), 2),
        "wait_p95_s": round(o.wait_percentile(95), 2),
        "wait_p99_s": round(o.wait_percentile(99), 2),
        "timeouts": o.timeouts,
        "peak_replicas": o.peak_replicas,
        "scale_ups_from_zero": o.scale_ups_from_zero,
    }


HEADER = ["settings", "replica-s", "GPU-h", "cost", "cold", "wait p50/p95/p99", "peak", "from zero"]


def cells(label: str, row: dict[str, Any]) -> list[str]:
    cost = "-" if row["cost"] is None else f"{row['cost']:.2f}"
    return [
        label, f"{row['replica_seconds']:.0f}", f"{row['gpu_hours']:.2f}", cost,
        f"{row['cold_share']:.1%} ({row['cold_requests']})",
        f"{row['wait_p50_s']:.1f} / {row['wait_p95_s']:.1f} / {row['wait_p99_s']:.1f} s",
        str(row["peak_replicas"]), str(row["scale_ups_from_zero"]),
    ]  # fmt: skip


def given_label(m: ModelResult) -> str:
    s = m.model.scaling
    cron = f", {len(s.cron)} cron window(s)" if s.cron else ""
    return f"as given: cooldown {s.cooldown:g}s, min {s.min_replicas}{cron}"


def targets_text(r: PlanResult) -> str:
    t = r.targets
    parts = [f"cold <= {t.max_cold:.1%}" if t.max_cold is not None else ""]
    parts += [f"wait p95 <= {t.max_wait_p95:g}s" if t.max_wait_p95 is not None else ""]
    parts += [f"wait p99 <= {t.max_wait_p99:g}s" if t.max_wait_p99 is not None else ""]
    parts += [f"timeouts <= {t.max_timeouts}"]
    return ", ".join(p for p in parts if p)


def text(r: PlanResult) -> str:
    """What the terminal shows."""
    out = [f"trace: {r.trace.describe()}", f"cold start: {r.service.cold_start:g}s ({r.cold_source})"]
    for m in r.models:
        gpus, price = m.model.gpus_per_replica, r.price
        out.append(f"\nmodel {m.model.name}: {len(m.arrivals)} requests")
        rows = [cells(given_label(m), outcome_row(m.given, gpus, price))]
        if m.chosen is not None:
            rows.append(
                cells(
                    "recommended: " + m.chosen.candidate.label(), outcome_row(m.chosen.outcome, gpus, price)
                )
            )
        widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))]
        for row in [HEADER, *rows]:
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if m.scored and m.chosen is None:
            out.append(f"  no setting of the grid meets the targets ({targets_text(r)})")
        if m.chosen is not None:
            out.append(m.diff or "  (the values as given are already the cheapest that meet the targets)")
    out += [f"note: {u}" for u in r.unmatched]
    out.append(f"\n{r.settings_simulated} setting(s) simulated in {r.seconds:.2f} s")
    return "\n".join(out)
