"""A trace: request arrivals in seconds from its start, with their token counts and model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Arrival:
    # Seconds after the trace's first request (the first arrival is at 0 unless a window moved it).
    t: float
    # Tokens of the prompt and of the answer; None when the source did not record them.
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    # The OpenAI `model` of the request; None when the trace has one model only.
    model: str | None = None


@dataclass
class Trace:
    # What the trace is (its file name), for reports.
    name: str
    arrivals: list[Arrival]
    # Wall-clock (epoch seconds) of t = 0, when the source had absolute times; cron windows need it.
    start_epoch: float | None = None
    # The transforms applied, in order, as text (`window=0s..600s`, `thin=0.05 seed=1`, ...).
    transforms: list[str] = field(default_factory=list)
    # Attribution the source asks for (the Azure trace's CC-BY 4.0), carried into reports.
    attribution: str = ""
    # CloudEvents seen beside the requests (rows with an `event`): (seconds, attributes such as
    # `type`). The planner opens the pre-warm windows of matching event rules; the replay skips them.
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.arrivals[-1].t if self.arrivals else 0.0

    def models(self) -> list[str | None]:
        return sorted({a.model for a in self.arrivals}, key=lambda m: (m is not None, m or ""))

    def for_model(self, model: str | None) -> list[Arrival]:
        """Arrivals of `model`; None selects every arrival (a one-model trace, or all models as one)."""
        return self.arrivals if model is None else [a for a in self.arrivals if a.model == model]

    def describe(self) -> str:
        steps = ", ".join(self.transforms) if self.transforms else "as recorded"
        events = f", {len(self.events)} events" if self.events else ""
        return f"{self.name} ({len(self.arrivals)} requests{events} over {self.duration:.0f} s; {steps})"
