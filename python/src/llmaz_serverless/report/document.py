"""The report's content as a list of blocks, rendered to Markdown and to HTML.

Writing the content once keeps the two documents saying exactly the same
thing; `markdown.py` and `html.py` only decide how a block looks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from llmaz_serverless.report.plots import PLOTS
from llmaz_serverless.report.rundata import RunData
from llmaz_serverless.report.summary import METRICS, Summary, fmt
from llmaz_serverless.report.thresholds import Check


@dataclass
class Block:
    kind: str  # heading | para | table | code | image
    text: str = ""
    level: int = 2
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    image: str = ""


def relative_command(meta: dict[str, Any], key: str) -> str:
    """A recorded command with the run's working directory left out of its paths.

    Runs recorded before run.json kept paths relative (loadtest/metadata.py shown_path) wrote
    them absolute under an absolute `cwd`: a published report shows them relative to it.
    """
    text = str(meta.get(key) or "")
    cwd = str(meta.get("cwd") or "")
    if cwd.startswith("/") and cwd != "/":
        text = text.replace(cwd.rstrip("/") + "/", "")
    return text


def _when(ts: float | None) -> str:
    if ts is None:
        return "n/a"
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _where_rows(meta: dict[str, Any]) -> list[list[str]]:
    where = meta.get("where") or {}
    rows = [
        ["Mode", str(where.get("mode_description") or meta.get("mode") or "unknown")],
        ["Target", f"`{meta.get('target', 'unknown')}`"],
        ["Machine", str(where.get("machine") or "unknown")],
        ["Cluster", str(where.get("cluster") or "none")],
        ["Replicas sampled from", str(meta.get("replica_source") or "none")],
    ]
    stack = meta.get("local_stack") or {}
    if stack:
        rows.append(
            ["Local stack", "; ".join(f"{c['name']}: {c['detail']}" for c in stack.get("components", []))]
        )
    sampler = meta.get("sampler") or {}
    if sampler:
        err = f", {sampler.get('errors', 0)} failed reads" if sampler.get("errors") else ""
        last = f" (last: {sampler['last_error']})" if sampler.get("last_error") else ""
        rows.append(["Sampling", f"every {sampler.get('interval')} s{err}{last}"])
    return rows


def build_blocks(run: RunData, summary: Summary, checks: list[Check]) -> list[Block]:
    """The report's sections in reading order: what ran, where and how, then what it measured."""
    return [
        *_intro_blocks(run, summary),
        *_where_blocks(run.meta),
        *_profile_blocks(run),
        *_summary_blocks(run, summary, checks),
        *_scale_up_blocks(run, summary),
        *_error_blocks(run, summary),
        Block("heading", "Plots"),
        *(block for name, (title, _fn) in PLOTS.items() for block in _plot_blocks(name, title)),
    ]


def _plot_blocks(name: str, title: str) -> list[Block]:
    return [Block("heading", title, level=3), Block("image", text=title, image=name)]


def _intro_blocks(run: RunData, summary: Summary) -> list[Block]:
    """Title, the run's window and size, and what a local run's numbers are (not) good for."""
    meta = run.meta
    start, end = run.window
    scenario = meta.get("scenario") or run.schedule.get("kind") or run.path.name
    blocks = [
        Block("heading", f"Load test report: {scenario}", level=1),
        Block(
            "para",
            f"Run `{meta.get('run_id', run.path.name)}`: {_when(start)} to {_when(end)} "
            f"({end - start:.1f} s of load, {summary.metrics['requests']} requests). "
            "Every number below is computed from `requests.csv` and `replicas.csv` in the run directory; "
            "see docs/reading-reports.md for how to read each part.",
        ),
    ]
    if meta.get("mode") == "local":
        blocks.append(
            Block(
                "para",
                "**Local run.** Scale to zero here is the model emulator's local simulation "
                "(it drops to zero replicas after an idle period and holds requests while it 'loads'); "
                "it is not KEDA and there is no Kubernetes. Latencies are those of an emulated model on "
                "loopback, useful for the shape of the curves and for regressions, not as GPU numbers.",
            )
        )
    return blocks


def _where_blocks(meta: dict[str, Any]) -> list[Block]:
    """Machine, versions, and the command lines that reproduce the run."""
    blocks = [
        Block("heading", "Where it ran"),
        Block("table", header=["", ""], rows=_where_rows(meta)),
        Block("heading", "Versions"),
        Block(
            "table",
            header=["component", "version"],
            rows=[[k, str(v)] for k, v in (meta.get("versions") or {}).items()],
        ),
        Block("heading", "Command"),
        Block("para", "Reproduce the run with:"),
        Block("code", relative_command(meta, "command") or "unknown (run.json has no command)"),
    ]
    if meta.get("locust_command"):
        blocks += [
            Block("para", "which ran locust as:"),
            Block("code", relative_command(meta, "locust_command")),
        ]
    return blocks


def _profile_blocks(run: RunData) -> list[Block]:
    """What each simulated user sent; nothing when run.json has no profile."""
    profile = run.meta.get("profile") or {}
    if not profile:
        return []
    return [
        Block("heading", "What was sent"),
        Block(
            "table",
            header=["setting", "value"],
            rows=[
                ["model", str(profile.get("model"))],
                ["API", f"{profile.get('api')}, stream={profile.get('stream')}"],
                ["prompt tokens", f"`{profile.get('prompt_tokens')}`"],
                ["output tokens", f"`{profile.get('output_tokens')}`"],
                ["pace per user", f"{profile.get('user_rps')} req/s"],
                [
                    "traffic shape",
                    f"{run.schedule.get('kind', profile.get('shape'))} {run.schedule.get('params', '')}",
                ],
            ],
        ),
    ]


def _summary_blocks(run: RunData, summary: Summary, checks: list[Check]) -> list[Block]:
    """The metrics table, the cost line, and the thresholds when any were checked."""
    m = summary.metrics
    start, end = run.window
    blocks = [
        Block("heading", "Summary"),
        Block(
            "table",
            header=["Metric", "Value", "Key"],
            rows=[[label, fmt(key, m.get(key)), f"`{key}`"] for key, label in METRICS],
        ),
    ]
    if summary.costs:
        saved = m.get("replica_seconds_saved_pct")
        blocks.append(
            Block(
                "para",
                f"**Cost line:** {m['replica_seconds']:.0f} replica-seconds used against "
                f"{m['always_on_replica_seconds']:.0f} for an always-on deployment at the peak of "
                f"{m['replicas_peak']} replica(s) over the same {end - start:.0f} s"
                + (f": {saved:.1f}% saved" if saved is not None else "")
                + f", paid for with {m['cold_requests']} request(s) waiting for "
                f"{m['cold_events']} scale-up(s).",
            )
        )
    if checks:
        blocks += [
            Block("heading", "Thresholds"),
            Block(
                "table",
                header=["Key", "Bound", "Limit", "Value", "Result"],
                rows=[[f"`{c.key}`", c.bound, f"{c.limit:g}", fmt(c.key, c.value), c.status] for c in checks],
            ),
        ]
    return blocks


def _scale_up_blocks(run: RunData, summary: Summary) -> list[Block]:
    """One row per scale-up from zero seen in the replica samples."""
    start = run.window[0]
    if not summary.events:
        return [
            Block("heading", "Scale-ups from zero"),
            Block("para", "None observed in the replica samples."),
        ]
    return [
        Block("heading", "Scale-ups from zero"),
        Block(
            "table",
            header=[
                "#",
                "model",
                "began after (s)",
                "first ready (s)",
                "requests waiting",
                "longest wait (s)",
            ],
            rows=[
                [
                    str(i + 1),
                    e.model,
                    f"{e.began - start:.2f}",
                    f"{e.first_ready - start:.2f}",
                    str(len(e.request_ids)),
                    f"{e.max_wait_s:.3f}",
                ]
                for i, e in enumerate(summary.events)
            ],
        ),
    ]


def _error_blocks(run: RunData, summary: Summary) -> list[Block]:
    """Failed requests by kind, each with the first example's detail."""
    if not summary.errors_by_kind:
        return [Block("heading", "Errors"), Block("para", "No request failed.")]
    examples: dict[str, str] = {}
    for r in run.records:
        if r.outcome != "ok":
            examples.setdefault(r.error or "unknown", r.error_detail)
    return [
        Block("heading", "Errors"),
        Block(
            "table",
            header=["kind", "count", "example"],
            rows=[
                [k, str(v), (examples.get(k) or "").replace("|", "/").replace("\n", " ")[:120]]
                for k, v in summary.errors_by_kind.items()
            ],
        ),
    ]
