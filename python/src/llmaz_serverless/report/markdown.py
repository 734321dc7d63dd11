"""Blocks -> Markdown (GitHub-flavoured tables; images referenced by file name beside it)."""

from __future__ import annotations

from llmaz_serverless.report.document import Block


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if b.kind == "heading":
            out.append(f"{'#' * b.level} {b.text}")
        elif b.kind == "para":
            out.append(b.text)
        elif b.kind == "code":
            out.append(f"```\n{b.text}\n```")
        elif b.kind == "image":
            out.append(f"![{b.text}]({b.image})")
        elif b.kind == "table":
            lines = [
                "| " + " | ".join(_cell(h) for h in b.header) + " |",
                "|" + "|".join("---" for _ in b.header) + "|",
            ]
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in b.rows]
            out.append("\n".join(lines))
        out.append("")
    return "\n".join(out)
