"""One `plan` run: the trace's arrivals per model, the values as given, the grid, the recommendation."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from llmaz_serverless.plan import prewarm
from llmaz_serverless.plan.diff import values_diff
from llmaz_serverless.plan.search import Candidate, Scored, Targets, candidates, evaluate, recommend
from llmaz_serverless.plan.settings import CronWindow, EventPrewarm, Service
from llmaz_serverless.plan.simulate import Outcome, event_windows, simulate_keda
from llmaz_serverless.plan.values import ModelPlan
from llmaz_serverless.trace.model import Arrival, Trace


@dataclass
class ModelResult:
    model: ModelPlan
    arrivals: list[Arrival]
    given: Outcome
    scored: list[Scored] = field(default_factory=list)
    chosen: Scored | None = None
    chosen_timeline: Outcome | None = None

    @property
    def diff(self) -> str:
        return values_diff(self.model, self.chosen.candidate) if self.chosen else ""


@dataclass
class GridSpec:
    cooldowns: tuple[float, ...]
    min_replicas: tuple[int, ...]
    prewarm: tuple[CronWindow, ...] = ()
    # Also try the pre-warm windows the trace suggests (plan/prewarm.py).
    auto_prewarm: bool = False


@dataclass
class PlanResult:
    trace: Trace
    service: Service
    cold_source: str
    targets: Targets
    price: float | None
    models: list[ModelResult]
    seconds: float
    settings_simulated: int
    # Models of the values the trace has no request for, and trace models the values lack.
    unmatched: list[str] = field(default_factory=list)


def match_models(
    trace: Trace, models: list[ModelPlan], only: str | None
) -> tuple[list[tuple[ModelPlan, list[Arrival]]], list[str]]:
    """Each model with its arrivals (by `name` or `servedName`); a trace naming no model goes to one model."""
    chosen = [m for m in models if only in (None, m.name, m.served_name)]
    if only and not chosen:
        names = ", ".join(m.name for m in models)
        raise ValueError(f"--model {only!r}: not in the values (models: {names}); fix: pass one of them")
    trace_models = {a.model for a in trace.arrivals}
    if trace_models == {None}:
        if len(chosen) > 1:
            names = ", ".join(m.name for m in chosen)
            raise ValueError(
                f"{trace.name}: the trace names no model and the values have several ({names}); "
                "fix: pass --model NAME to plan one of them"
            )
        return [(chosen[0], trace.arrivals)], []
    pairs, unmatched = [], []
    for m in chosen:
        arrivals = [a for a in trace.arrivals if a.model in (m.name, m.served_name)]
        if arrivals:
            pairs.append((m, arrivals))
        else:
            unmatched.append(f"model {m.name}: no request in the trace")
    known = {n for m in models for n in (m.name, m.served_name)}
    unmatched += [
        f"trace model {t}: not in the values" for t in sorted(t for t in trace_models if t and t not in known)
    ]
    if not pairs:
        raise ValueError(
            f"{trace.name}: no request for any model of the values; fix: check the trace's model column"
        )
    return pairs, unmatched


def plan(
    trace: Trace,
    models: list[ModelPlan],
    service: Service,
    cold_source: str,
    targets: Targets,
    grid: GridSpec | None,
    price: float | None = None,
    only: str | None = None,
    prewarms: list[EventPrewarm] | None = None,
) -> PlanResult:
    began = time.perf_counter()
    pairs, unmatched = match_models(trace, models, only)
    results, simulated = [], 0
    end = trace.duration + 1.0
    for model, arrivals in pairs:
        events = event_windows(trace.events, prewarms or [], (model.name, model.served_name))
        given = simulate_keda(
            arrivals, model.scaling, service, trace.start_epoch, end, timeline=True, prewarm=events
        )
        simulated += 1
        result = ModelResult(model, arrivals, given)
        if grid is not None:
            windows = grid.prewarm
            if grid.auto_prewarm:
                named = {(w.start, w.end) for w in windows}
                found = prewarm.candidates(arrivals, trace.start_epoch)
                windows += tuple(w for w in found if (w.start, w.end) not in named)
            cands: list[Candidate] = candidates(model.scaling, grid.cooldowns, grid.min_replicas, windows)
            result.scored = evaluate(
                arrivals, model.scaling, service, cands, targets, trace.start_epoch, events
            )
            simulated += len(cands)
            result.chosen = recommend(result.scored)
            if result.chosen is not None:
                result.chosen_timeline = simulate_keda(
                    arrivals, result.chosen.candidate.apply(model.scaling), service, trace.start_epoch, end,
                    timeline=True, prewarm=events,
                )  # fmt: skip
        results.append(result)
    return PlanResult(
        trace,
        service,
        cold_source,
        targets,
        price,
        results,
        time.perf_counter() - began,
        simulated,
        unmatched,
    )
