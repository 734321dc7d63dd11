"""The grid, the recommendation (cheapest that meets the targets), the frontier and the values diff."""

from __future__ import annotations

from pathlib import Path

from llmaz_serverless.model_timing import ModelTiming
from llmaz_serverless.plan.diff import values_diff
from llmaz_serverless.plan.prewarm import candidates as prewarm_candidates
from llmaz_serverless.plan.search import Targets, candidates, evaluate, recommend
from llmaz_serverless.plan.settings import CronWindow, Scaling, Service
from llmaz_serverless.plan.values import load_models
from llmaz_serverless.trace.model import Arrival

# One second of work per request, whatever its tokens.
SVC = Service(cold_start=60.0, timing=ModelTiming(ttft=1.0, prefill_per_token=0.0, itl=0.0))
GIVEN = Scaling(min_replicas=0, max_replicas=2, polling_interval=15.0, cooldown=900.0, concurrency_target=8.0)
# Bursts every 20 minutes: a cooldown above ~20 minutes never reaches zero between them.
BURSTS = [Arrival(float(b * 1200 + k)) for b in range(6) for k in range(10)]


def test_grid_has_every_combination_once_and_the_given_values() -> None:
    grid = candidates(GIVEN, (60.0, 300.0), (0, 1))
    labels = [c.label() for c in grid]
    assert len(labels) == len(set(labels))
    # min 0 with each cooldown (incl. the given 900), min 1 once (its cooldown does nothing).
    assert sorted((c.cooldown, c.min_replicas) for c in grid) == [(60, 0), (300, 0), (900, 0), (900, 1)]


def test_recommendation_is_the_cheapest_that_meets_the_targets() -> None:
    grid = candidates(GIVEN, (60.0, 300.0, 1800.0), (0, 1))
    # Every 10-request burst starts cold with a short cooldown: all requests wait, which these targets allow.
    loose = recommend(evaluate(BURSTS, GIVEN, SVC, grid, Targets(max_cold=1.0), None))
    assert loose is not None and loose.candidate.cooldown == 60.0 and loose.outcome.cold_share == 1.0
    scored = evaluate(BURSTS, GIVEN, SVC, grid, Targets(max_cold=0.2, max_wait_p95=10.0), None)
    best = recommend(scored)
    assert best is not None and best.outcome.cold_share <= 0.2 and best.outcome.wait_percentile(95) <= 10.0
    cheaper = [s for s in scored if s.outcome.replica_seconds < best.outcome.replica_seconds]
    assert cheaper and all(not s.ok for s in cheaper)
    assert best.outcome.replica_seconds > 4 * loose.outcome.replica_seconds  # what staying warm costs here


def test_nothing_meets_impossible_targets() -> None:
    grid = candidates(GIVEN, (60.0,), (0,))
    assert recommend(evaluate(BURSTS, GIVEN, SVC, grid, Targets(max_cold=0.0), None)) is None


def test_frontier_points_are_not_dominated() -> None:
    scored = evaluate(
        BURSTS, GIVEN, SVC, candidates(GIVEN, (60.0, 300.0, 600.0, 1800.0), (0, 1)), Targets(), None
    )
    front = [s for s in scored if s.frontier]
    for f in front:
        assert not any(
            o.outcome.replica_seconds <= f.outcome.replica_seconds
            and o.outcome.cold_share < f.outcome.cold_share
            for o in scored
        )


def test_prewarm_window_candidates_and_cron_in_the_simulation() -> None:
    window = CronWindow("w", "0 10 * * *", "0 11 * * *")
    grid = candidates(GIVEN, (60.0,), (0,), (window,))
    assert [c.cron_label for c in grid].count("+ 0 10 * * * .. 0 11 * * *") == 2  # cooldowns 60 and 900
    # A trace starting at 10:30 UTC, inside the window: a replica is up, so nothing arrives at zero.
    start = 1_796_551_200.0 + 1800  # 2026-12-06T10:30:00Z
    scored = evaluate(BURSTS[:10], GIVEN, SVC, grid, Targets(), start)
    warm = [s for s in scored if s.candidate.cron]
    assert all(s.outcome.cold_requests == 0 for s in warm)


def test_values_diff_names_the_changed_keys(tmp_path: Path) -> None:
    values = tmp_path / "v.yaml"
    values.write_text(
        "models:\n  - name: m\n    source: {modelHub: {modelID: x}}\n"
        "    scaling:\n      cooldownPeriod: 900\n"
    )
    model = load_models([values])[0]
    grid = candidates(model.scaling, (60.0,), (0,))
    diff = values_diff(model, next(c for c in grid if c.cooldown == 60.0))
    assert "-    cooldownPeriod: 900" in diff and "+    cooldownPeriod: 60" in diff
    assert "minReplicaCount" not in [
        line[1:].strip().split(":")[0]
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_prewarm_candidates_from_the_trace_hours() -> None:
    start = 1_796_551_200.0  # 2026-12-06T10:00:00Z
    # Traffic at 10:xx and 11:xx (a run), and a little at 15:xx.
    arrivals = [Arrival(t) for t in (60.0, 120.0, 3700.0, 3800.0, 3900.0, 5 * 3600 + 10.0)]
    found = prewarm_candidates(arrivals, start)
    assert [(w.start, w.end) for w in found] == [
        ("0 10 * * *", "0 12 * * *"),  # the run of busy hours, the heaviest first
        ("0 15 * * *", "0 16 * * *"),
        ("0 11 * * *", "0 12 * * *"),  # then single busy hours
        ("0 10 * * *", "0 11 * * *"),
    ]
    assert prewarm_candidates(arrivals, None) == ()  # relative times: no wall clock, no window
