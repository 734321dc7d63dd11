"""Every YAML block in README.md and docs/ is real: rendered, validated or loaded.

A YAML block must be preceded by a marker saying how to check it:
  <!-- snippet: values [base=values-prod.yaml] -->  chart values: `validate` finds no error, and
                                                    every object `helm template` renders is valid
  <!-- snippet: manifest -->                        Kubernetes objects: schema-valid
  <!-- snippet: runtime -->                         a runtime.yaml the processes load
  <!-- snippet: illustration -->                    shown for reading only (say why in the text)
A block without a marker fails, so no snippet goes unchecked by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.render.documents import split_manifest
from llmaz_serverless.render.helm import TemplateRequest, helm_template
from llmaz_serverless.render.validate import validate_objects
from llmaz_serverless.toolpaths import chart_dir, repo_root
from llmaz_serverless.values.validate import validate_values

BLOCK = re.compile(r"(?:<!--\s*snippet:\s*(?P<marker>[^>]*?)\s*-->\s*\n)?```ya?ml\n(?P<body>.*?)```", re.S)
KINDS = ("values", "manifest", "runtime", "illustration")


@dataclass(frozen=True)
class Snippet:
    doc: Path
    line: int
    kind: str
    options: dict[str, str]
    body: str

    def __str__(self) -> str:
        return f"{self.doc.relative_to(repo_root())}:{self.line}"


def collect() -> list[Snippet]:
    root = repo_root()
    docs = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    found = []
    for doc in docs:
        text = doc.read_text()
        for match in BLOCK.finditer(text):
            marker = (match.group("marker") or "").split()
            kind = marker[0] if marker else ""
            options = dict(part.split("=", 1) for part in marker[1:] if "=" in part)
            line = text.count("\n", 0, match.start("body"))
            found.append(Snippet(doc, line, kind, options, match.group("body")))
    return found


SNIPPETS = collect()


def test_the_docs_have_snippets_to_check():
    assert any(s.kind == "values" for s in SNIPPETS)


@pytest.mark.parametrize("snippet", SNIPPETS, ids=str)
def test_snippet_is_real(snippet: Snippet, tmp_path: Path):
    assert snippet.kind in KINDS, (
        f"{snippet}: YAML block without a `<!-- snippet: {'|'.join(KINDS)} -->` marker above it"
    )
    if snippet.kind == "illustration":
        yaml.safe_load_all(snippet.body)
        return
    if snippet.kind == "runtime":
        RuntimeConfig.model_validate(yaml.safe_load(snippet.body))
        return
    if snippet.kind == "manifest":
        reports = validate_objects(split_manifest(snippet.body))
        assert [
            (r.kind, r.name, [p.sentence() for p in r.problems]) for r in reports if r.status != "ok"
        ] == []
        return
    values = tmp_path / "snippet-values.yaml"
    values.write_text(snippet.body)
    files = [chart_dir() / snippet.options["base"]] if "base" in snippet.options else []
    files.append(values)
    report = validate_values(files, chart_dir())
    assert [p.text() for p in report.errors] == [], f"{snippet}: values do not validate"
    rendered = helm_template(TemplateRequest(chart=chart_dir(), values_files=files))
    reports = validate_objects(split_manifest(rendered))
    assert [(r.kind, r.name, [p.sentence() for p in r.problems]) for r in reports if r.status != "ok"] == []
