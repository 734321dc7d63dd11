"""Write a run's report: PNG plots, summary.md, report.html and summary.json beside the data."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from llmaz_serverless.report import html, markdown
from llmaz_serverless.report.document import build_blocks
from llmaz_serverless.report.plots import draw_all
from llmaz_serverless.report.rundata import load_run
from llmaz_serverless.report.summary import Summary, summarize
from llmaz_serverless.report.thresholds import Check, evaluate, load_thresholds

SUMMARY_MD = "summary.md"
REPORT_HTML = "report.html"
SUMMARY_JSON = "summary.json"


@dataclass
class Report:
    summary: Summary
    checks: list[Check]
    files: list[Path]

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if c.status == "FAIL"]


def write_report(
    run_dir: str | Path, out_dir: str | Path | None = None, thresholds: Path | None = None
) -> Report:
    """Read RUN_DIR, write the report into `out_dir` (default: RUN_DIR itself)."""
    run = load_run(run_dir)
    out = Path(out_dir) if out_dir else run.path
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(run)
    scenario = str(run.meta.get("scenario") or "")
    local = run.meta.get("mode") == "local"
    checks = evaluate(summary.metrics, load_thresholds(thresholds, scenario, local))
    pngs = draw_all(run, summary, out)
    blocks = build_blocks(run, summary, checks)
    md_path = out / SUMMARY_MD
    md_path.write_text(markdown.render(blocks), encoding="utf-8")
    html_path = out / REPORT_HTML
    html_path.write_text(html.render(blocks, out), encoding="utf-8")
    json_path = out / SUMMARY_JSON
    json_path.write_text(
        json.dumps(
            {
                "metrics": summary.metrics,
                "errors_by_kind": summary.errors_by_kind,
                "costs": [asdict(c) for c in summary.costs],
                "scale_ups": [asdict(e) for e in summary.events],
                "checks": [{**asdict(c), "status": c.status} for c in checks],
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    return Report(summary, checks, [*pngs, md_path, html_path, json_path])
