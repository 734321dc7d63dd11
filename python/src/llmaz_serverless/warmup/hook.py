"""The Helm post-install/post-upgrade hook: optionally wake and pre-warm models, and time it.

`llmaz-serverless warmup --once` runs as a hook Job. It does nothing unless
`warmup.onInstall` is true: a fresh install must not start (and bill) a GPU
replica nobody asked for. When asked, it sends each selected model's warmup
prompts the way users reach the model, through the KEDA HTTP interceptor
(`models[].upstream` with the route's Host and headers), so the model scales from
zero exactly as for a user request.

Such a request may wait a whole cold start before its first byte: each attempt is
allowed `timeouts.coldStart + timeouts.responseHeader`, and the whole warmup of a
model `coldStart + responseHeader + warmup.deadline`. 502/503/504, 429 and
connection errors are retried with exponential backoff and full jitter. Models
are warmed concurrently. The report gives, per model, the measured cold start:
seconds from the first request sent to the first token received.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from typing import Any

from llmaz_serverless.config import ModelRuntime, RuntimeConfig
from llmaz_serverless.warmup.client import RetryPolicy, Target, WarmupClient, WarmupReport
from llmaz_serverless.warmup.prompts import build_prompts
from llmaz_serverless.warmup.settings import SECTION, WarmupSettings


class UnknownModelError(ValueError):
    pass


@dataclass
class HookResult:
    model: str
    ok: bool
    # Seconds from the first request sent to its first token: the cold start a user
    # would have seen (about the time to first token if the model was already up).
    cold_start_s: float | None
    duration_s: float
    summary: str

    def line(self) -> str:
        cold = f"{self.cold_start_s:.1f}s" if self.cold_start_s is not None else "n/a"
        status = "warmed" if self.ok else "NOT warmed"
        return f"{self.model}: {status}; cold start (first request to first token) {cold}; {self.summary}"


def interceptor_target(model: ModelRuntime) -> Target:
    """Requests as a user's go: to the upstream (interceptor) with the route's Host and headers."""
    headers = dict(model.headers)
    if model.host:
        headers["Host"] = model.host
    return Target(base_url=model.upstream, model=model.name, headers=headers, path_prefix=model.path_prefix)


def select_models(
    config: RuntimeConfig, settings: WarmupSettings, names: list[str] | None
) -> list[ModelRuntime]:
    """The models to pre-warm: those named (CLI, else `warmup.hook.models`), else all with warmup on."""
    wanted = names or settings.hook.models
    if not wanted:
        return [m for m in config.models if m.warmup.enabled]
    known = {m.name: m for m in config.models}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise UnknownModelError(
            f"warmup.hook.models / --model names {', '.join(unknown)}, not in models[] "
            f"(known: {', '.join(sorted(known)) or 'none'}); fix the name or add the model"
        )
    return [known[name] for name in wanted]


def result_of(model: ModelRuntime, report: WarmupReport) -> HookResult:
    return HookResult(model.name, report.ok, report.first_token_s, report.duration_s, report.summary())


async def prewarm_model(client: WarmupClient, model: ModelRuntime, attempts: int) -> HookResult:
    hold = model.timeouts.cold_start + model.timeouts.response_header
    budget = hold + model.warmup.deadline
    prompts = build_prompts([(p.prompt_tokens, p.max_tokens) for p in model.warmup.prompts], seed=0)
    client_retry = RetryPolicy(attempts=attempts, backoff=client.retry.backoff)
    scoped = WarmupClient(client_retry, session=client.session)
    report = await scoped.warm(
        interceptor_target(model), model.warmup.api, prompts, budget, attempt_timeout_s=hold
    )
    return result_of(model, report)


async def prewarm(
    config: RuntimeConfig, models: list[ModelRuntime], client: WarmupClient | None = None
) -> list[HookResult]:
    settings = config.section(SECTION, WarmupSettings)
    own = client is None
    client = client or WarmupClient(RetryPolicy(backoff=settings.backoff))
    try:
        return list(await asyncio.gather(*(prewarm_model(client, m, settings.hook.attempts) for m in models)))
    finally:
        if own:
            await client.close()


def report_json(results: list[HookResult]) -> str:
    data: dict[str, Any] = {"models": [asdict(r) for r in results], "ok": all(r.ok for r in results)}
    return json.dumps(data, indent=2)
