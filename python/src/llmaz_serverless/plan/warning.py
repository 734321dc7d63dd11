"""`validate --trace FILE`: the planner as a warning on values that are otherwise valid.

For each model the trace has requests for, the values as given are simulated (no grid search);
a model whose share of requests arriving at zero is above `max_cold` gets one warning line:
"on this trace, these settings send 18% of requests into a cold start". The cold start is
`--cold-start` when given, else the rule book's least load time of the model's backend plus its
warmup deadline (values/rules.py `load_seconds`, the same estimate the cold-start rules use).
"""

from __future__ import annotations

from pathlib import Path

from llmaz_serverless.plan.planner import match_models
from llmaz_serverless.plan.settings import Service
from llmaz_serverless.plan.simulate import event_windows, simulate_keda
from llmaz_serverless.plan.values import load_event_prewarms, load_models
from llmaz_serverless.trace.formats import read_trace
from llmaz_serverless.values.rules import Model, load_seconds

RULE = "plan/cold-share"


def trace_warnings(
    trace_path: Path,
    values: list[Path],
    set_values: list[str],
    chart: Path,
    cold_start: float | None = None,
    max_cold: float = 0.05,
) -> list[str]:
    trace = read_trace(trace_path)
    models = load_models(values, set_values, chart)
    prewarms = load_event_prewarms(values, set_values, chart)
    try:
        pairs, _ = match_models(
            trace, models, None if len({a.model for a in trace.arrivals}) > 1 else models[0].name
        )
    except ValueError as err:
        return [f"{trace_path}: warning: {err} [{RULE}]"]
    out = []
    for model, arrivals in pairs:
        load: float
        if cold_start is None:
            load, why = load_seconds(Model(model.index, model.name, {}, model.data))
        else:
            load, why = cold_start, "--cold-start"
        events = event_windows(trace.events, prewarms, (model.name, model.served_name))
        o = simulate_keda(
            arrivals, model.scaling, Service(load), trace.start_epoch, trace.duration + 1.0, prewarm=events
        )
        if o.cold_share > max_cold:
            out.append(
                f"{trace_path}: warning: models[{model.index}] ({model.name}): on this trace, these settings "
                f"send {o.cold_share:.0%} of requests into a cold start "
                f"(added wait p95 {o.wait_percentile(95):.0f}s, "
                f"cold start {load:g}s: {why}); fix: run `llmaz-serverless plan --trace {trace_path} -f ...` "
                f"for the cheapest settings under your targets [{RULE}]"
            )
    return out
