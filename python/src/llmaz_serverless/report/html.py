"""Blocks -> one self-contained HTML page: PNGs embedded as base64, CSS inline, no external fetch."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from llmaz_serverless.report.document import Block

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td:nth-child(2) { font-variant-numeric: tabular-nums; }
code, pre { background: #f6f8fa; border-radius: 3px; font-size: 0.9em; }
code { padding: 0.1em 0.3em; }
pre { padding: 0.7em; overflow-x: auto; white-space: pre-wrap; }
img { max-width: 100%; border: 1px solid #eee; }
"""

_INLINE_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def _inline(text: str) -> str:
    escaped = html.escape(text)
    escaped = _INLINE_CODE.sub(r"<code>\1</code>", escaped)
    return _BOLD.sub(r"<strong>\1</strong>", escaped)


def render(blocks: list[Block], image_dir: Path) -> str:
    title = next((b.text for b in blocks if b.kind == "heading"), "Load test report")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
    ]
    for b in blocks:
        if b.kind == "heading":
            parts.append(f"<h{b.level}>{_inline(b.text)}</h{b.level}>")
        elif b.kind == "para":
            parts.append(f"<p>{_inline(b.text)}</p>")
        elif b.kind == "code":
            parts.append(f"<pre><code>{html.escape(b.text)}</code></pre>")
        elif b.kind == "image":
            data = base64.b64encode((image_dir / b.image).read_bytes()).decode("ascii")
            parts.append(f'<p><img alt="{html.escape(b.text)}" src="data:image/png;base64,{data}"></p>')
        elif b.kind == "table":
            head = "".join(f"<th>{_inline(h)}</th>" for h in b.header)
            body = "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in b.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)
