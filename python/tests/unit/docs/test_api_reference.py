"""docs/design/api.md's values tables are the generated ones (make docs), not a stale copy."""

from __future__ import annotations

import importlib.util

from llmaz_serverless.toolpaths import chart_dir, repo_root


def test_values_reference_in_api_doc_matches_the_chart_comments():
    spec = importlib.util.spec_from_file_location(
        "gen_chart_docs", repo_root() / "scripts" / "gen_chart_docs.py"
    )
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    api = repo_root() / "docs" / "design" / "api.md"
    assert (chart_dir(), api) in gen.targets()
    assert gen.stale_diff(chart_dir(), api) == ""
    assert "| `models`" in api.read_text() and "| `gateway.replicas`" in api.read_text()
