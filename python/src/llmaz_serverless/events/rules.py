"""Event rules: a pattern and the actions to take when an event matches it.

The chart takes `eventRules:` from values and renders them, unchanged, under
`events.rules` in runtime.yaml; `llmaz-serverless validate` and `events test`
read the same list from values. One model for all three, so the shape is
checked the same way everywhere:

    - name: chat-ui-opened
      description: A chat UI session opened; users will type within a minute.
      pattern:
        type: ["com.example.chat.session.opened"]
        data: {model: ["chat-8b"]}
      actions:
        - prewarm: {models: [chat-8b], replicas: 1, window: 15m}
        - submit:
            model: batch-70b
            api: chat
            request:
              messages: [{role: user, content: "Summarise ${data.url}"}]

Model names are the `name` of entries in the chart's `models:` list. Whether
they exist is checked where the model list is known (`RuleSet.check_models`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from llmaz_serverless.config import CamelModel, Duration
from llmaz_serverless.events.patterns import Pattern, PatternError, compile_pattern
from llmaz_serverless.events.template import Template, TemplateError, compile_template

# Rule names go into metric labels, log lines and Redis members: keep them DNS-label-like.
RULE_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

# The OpenAI API a submitted job calls, as the async queue names it
# (chat: /v1/chat/completions, completions: /v1/completions).
SubmitApi = Literal["chat", "completions"]


class PrewarmAction(CamelModel):
    # `name`s of models (entries of the chart's `models:`) to keep warm.
    models: list[str] = Field(min_length=1)
    # Fewest replicas of each model while the window is open (>= 1).
    replicas: int = Field(default=1, ge=1, le=1000)
    # How long after the LAST matching event the floor holds ("15m"); each new
    # matching event restarts it. KEDA's cooldownPeriod still applies after it.
    window: Duration = 900.0

    @field_validator("window")
    @classmethod
    def _positive_window(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"window must be longer than zero, got {value}s; write e.g. 15m")
        if value > 7 * 86400:
            raise ValueError(
                f"window {value}s is longer than 7 days; use the model's scaling.minReplicaCount "
                "for a floor that never ends"
            )
        return value

    @field_validator("models")
    @classmethod
    def _unique_models(cls, value: list[str]) -> list[str]:
        dupes = sorted({m for m in value if value.count(m) > 1})
        if dupes:
            raise ValueError(f"models lists {', '.join(dupes)} more than once")
        return value


class SubmitAction(CamelModel):
    # `name` of the model (entry of the chart's `models:`) that runs the job on the async path.
    model: str = Field(min_length=1)
    # OpenAI API the job calls: chat (/v1/chat/completions) or completions (/v1/completions).
    api: SubmitApi = "chat"
    # Request body template; `${data.x}` placeholders are filled from the event
    # (see events/template.py). `model` is set from `model` above when absent.
    request: dict[str, Any] = Field(min_length=1)
    # Optional completion webhook URL (template allowed, e.g. "${data.callback}").
    webhook: str | None = None

    _request: Template = PrivateAttr()
    _webhook: Template | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compile(self) -> SubmitAction:
        try:
            self._request = compile_template(self.request, "request")
            self._webhook = compile_template(self.webhook, "webhook") if self.webhook else None
        except TemplateError as exc:
            raise ValueError(str(exc)) from None
        return self

    @property
    def request_template(self) -> Template:
        return self._request

    @property
    def webhook_template(self) -> Template | None:
        return self._webhook


class RuleAction(CamelModel):
    """Exactly one of the keys below."""

    # Keep models at >= N replicas for a window after the last matching event.
    prewarm: PrewarmAction | None = None
    # Queue an async inference job built from the event (once per event id).
    submit: SubmitAction | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> RuleAction:
        chosen = [k for k in ("prewarm", "submit") if getattr(self, k) is not None]
        if len(chosen) != 1:
            got = " and ".join(chosen) or "neither"
            raise ValueError(f"an action has exactly one of `prewarm` or `submit`, got {got}")
        return self

    @property
    def kind(self) -> str:
        return "prewarm" if self.prewarm is not None else "submit"

    @property
    def models(self) -> list[str]:
        if self.prewarm is not None:
            return list(self.prewarm.models)
        assert self.submit is not None
        return [self.submit.model]


class EventRule(CamelModel):
    # Unique rule name (lower-case letters, digits, '-'); shows in metrics and logs.
    name: str = Field(pattern=RULE_NAME, max_length=63)
    # What the rule is for (free text, for people).
    description: str = ""
    # false keeps the rule in values without it matching anything.
    enabled: bool = True
    # Which events match (see events/patterns.py). Required unless `matchAll`.
    pattern: dict[str, Any] = Field(default_factory=dict)
    # Say so explicitly to react to EVERY event: an empty pattern alone is refused,
    # because it is almost always a mistake.
    match_all: bool = False
    # What to do on a match, in order.
    actions: list[RuleAction] = Field(min_length=1)

    _compiled: Pattern = PrivateAttr()

    @model_validator(mode="after")
    def _compile(self) -> EventRule:
        try:
            self._compiled = compile_pattern(self.pattern)
        except PatternError as exc:
            raise ValueError(str(exc)) from None
        if self.match_all and not self._compiled.matches_everything:
            raise ValueError("matchAll is true but a pattern is set: drop one of them")
        if self._compiled.matches_everything and not self.match_all:
            raise ValueError(
                "the pattern is empty, so this rule would match every event; "
                'add a pattern (e.g. type: ["com.example.thing.happened"]) or set matchAll: true'
            )
        return self

    @property
    def compiled(self) -> Pattern:
        return self._compiled

    def models(self) -> set[str]:
        return {m for a in self.actions for m in a.models}


class RuleSetError(ValueError):
    """Rules that are fine one by one but not together (names, unknown models)."""


class RuleSet:
    """The enabled rules, in order, with checks across rules."""

    def __init__(self, rules: Iterable[EventRule]) -> None:
        self.all = list(rules)
        seen: set[str] = set()
        for rule in self.all:
            if rule.name in seen:
                raise RuleSetError(f"eventRules: two rules are named {rule.name!r}; names must be unique")
            seen.add(rule.name)
        self.rules = [r for r in self.all if r.enabled]
        # Most rules name the event types they want: index them by type so an event
        # is only tested against its own type's rules and the rules without one.
        self._by_type: dict[str, list[int]] = {}
        self._any_type: list[int] = []
        for i, rule in enumerate(self.rules):
            types = rule.compiled.exact_values("type")
            if types is None:
                self._any_type.append(i)
            else:
                for t in types:
                    if isinstance(t, str):
                        self._by_type.setdefault(t, []).append(i)

    def matching(self, document: dict[str, Any]) -> list[EventRule]:
        event_type = document.get("type")
        candidates = self._by_type.get(event_type, []) if isinstance(event_type, str) else []
        order = sorted({*candidates, *self._any_type}) if candidates else self._any_type
        return [self.rules[i] for i in order if self.rules[i].compiled.matches(document)]

    def prewarm_models(self) -> set[str]:
        """Models some enabled prewarm action names: the ones KEDA reads state for."""
        return {m for r in self.rules for a in r.actions if a.prewarm is not None for m in a.prewarm.models}

    def unknown_models(self, known: Iterable[str]) -> list[str]:
        """Messages for every action naming a model outside `known`."""
        known_set = set(known)
        problems = []
        for i, rule in enumerate(self.all):
            for j, action in enumerate(rule.actions):
                for model in action.models:
                    if model not in known_set:
                        listed = ", ".join(sorted(known_set)) or "none"
                        problems.append(
                            f"eventRules[{i}] ({rule.name}).actions[{j}].{action.kind}: model {model!r} "
                            f"is not in models (known: {listed}); add it to models or fix the name"
                        )
        return problems

    def check_models(self, known: Iterable[str]) -> None:
        problems = self.unknown_models(known)
        if problems:
            raise RuleSetError("\n".join(problems))
