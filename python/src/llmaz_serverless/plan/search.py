"""Price a model's settings on a trace, search a grid of idle settings, pick the cheapest that meets
the targets, and mark the cost-versus-cold-share frontier."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from llmaz_serverless.plan.settings import CronWindow, Scaling, Service
from llmaz_serverless.plan.simulate import Outcome, service_times, simulate_keda
from llmaz_serverless.trace.model import Arrival

DEFAULT_COOLDOWNS = (60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
DEFAULT_MIN_REPLICAS = (0, 1)


@dataclass(frozen=True)
class Targets:
    # Most share of requests that may arrive while the model is at zero (0.05 = 5 %).
    max_cold: float | None = None
    # Most added wait (seconds) at the 95th / 99th percentile of all requests.
    max_wait_p95: float | None = None
    max_wait_p99: float | None = None
    # Most requests that may time out waiting (timeouts.coldStart).
    max_timeouts: int = 0

    def misses(self, o: Outcome) -> list[str]:
        out = []
        if self.max_cold is not None and o.cold_share > self.max_cold + 1e-12:
            out.append(f"cold {o.cold_share:.1%} > {self.max_cold:.1%}")
        if self.max_wait_p95 is not None and o.wait_percentile(95) > self.max_wait_p95:
            out.append(f"wait p95 {o.wait_percentile(95):.1f}s > {self.max_wait_p95:g}s")
        if self.max_wait_p99 is not None and o.wait_percentile(99) > self.max_wait_p99:
            out.append(f"wait p99 {o.wait_percentile(99):.1f}s > {self.max_wait_p99:g}s")
        if o.timeouts > self.max_timeouts:
            out.append(f"{o.timeouts} request(s) time out cold")
        return out


@dataclass(frozen=True)
class Candidate:
    cooldown: float
    min_replicas: int
    cron: tuple[CronWindow, ...]
    # What the cron choice is, for tables ("as in the values", "none", a window).
    cron_label: str

    def apply(self, s: Scaling) -> Scaling:
        return dataclasses.replace(s, cooldown=self.cooldown, min_replicas=self.min_replicas, cron=self.cron)

    def label(self) -> str:
        return f"cooldown {self.cooldown:g}s, min {self.min_replicas}, pre-warm {self.cron_label}"


@dataclass
class Scored:
    candidate: Candidate
    outcome: Outcome
    misses: list[str] = field(default_factory=list)
    frontier: bool = False

    @property
    def ok(self) -> bool:
        return not self.misses


def candidates(
    given: Scaling,
    cooldowns: tuple[float, ...] = DEFAULT_COOLDOWNS,
    min_replicas: tuple[int, ...] = DEFAULT_MIN_REPLICAS,
    prewarm: tuple[CronWindow, ...] = (),
) -> list[Candidate]:
    """The grid: cooldowns x min replicas x pre-warm choices (the values' own, none, each window)."""
    crons: list[tuple[tuple[CronWindow, ...], str]] = [
        (given.cron, "as in the values" if given.cron else "none")
    ]
    if given.cron:
        crons.append(((), "none"))
    crons += [((*given.cron, w), f"+ {w.start} .. {w.end}") for w in prewarm]
    out = []
    seen = set()
    for cooldown in sorted({*cooldowns, given.cooldown}):
        for floor in sorted({*min_replicas, given.min_replicas}):
            for cron, label in crons:
                # With a floor and no idleReplicaCount the model never reaches zero: cooldown does nothing.
                cd = given.cooldown if floor > 0 and given.idle_replicas is None else cooldown
                key = (cd, floor, cron)
                if key not in seen and floor <= given.max_replicas:
                    seen.add(key)
                    out.append(Candidate(cd, floor, cron, label))
    return out


def evaluate(
    arrivals: list[Arrival],
    given: Scaling,
    svc: Service,
    grid: list[Candidate],
    targets: Targets,
    start_epoch: float | None,
    events: tuple[tuple[float, float, int], ...] = (),
) -> list[Scored]:
    """Every candidate simulated; `events`: the model's event pre-warm windows (the same for all)."""
    scored = []
    service = service_times(arrivals, svc)
    for c in grid:
        outcome = simulate_keda(arrivals, c.apply(given), svc, start_epoch, service_s=service, prewarm=events)
        scored.append(Scored(c, outcome, targets.misses(outcome)))
    mark_frontier(scored)
    return scored


def mark_frontier(scored: list[Scored]) -> None:
    """Pareto frontier of (replica-seconds, cold share): no other point is cheaper and no colder."""
    best_cold = float("inf")
    for s in sorted(scored, key=lambda s: (s.outcome.replica_seconds, s.outcome.cold_share)):
        if s.outcome.cold_share < best_cold - 1e-12:
            s.frontier = True
            best_cold = s.outcome.cold_share


def recommend(scored: list[Scored]) -> Scored | None:
    """The cheapest setting that meets every target (ties: fewer cold requests, then shorter cooldown)."""
    ok = [s for s in scored if s.ok]
    if not ok:
        return None
    return min(
        ok, key=lambda s: (round(s.outcome.replica_seconds, 6), s.outcome.cold_share, s.candidate.cooldown)
    )
