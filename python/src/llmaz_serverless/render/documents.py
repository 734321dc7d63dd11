"""Split `helm template` output into objects, keeping the template each came from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from llmaz_serverless.values.loader import PlainLoader

_SEPARATOR = re.compile(r"^---[ \t]*(#.*)?$", re.MULTILINE)
_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)


class ManifestError(ValueError):
    """helm printed something that is not YAML: a template bug, reported with its source."""


@dataclass
class RenderedObject:
    """One object of the manifest and where it was rendered from."""

    body: Any
    source: str  # chart/templates/x.yaml, or "(stdin)"
    index: int  # position in the manifest, for stable ordering
    errors: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", "")) if isinstance(self.body, dict) else ""

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", "")) if isinstance(self.body, dict) else ""

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.body.get("metadata") if isinstance(self.body, dict) else None
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace", "") or "")


def split_manifest(text: str) -> list[RenderedObject]:
    """Objects in order; empty documents (a disabled template) are skipped."""
    objects: list[RenderedObject] = []
    for chunk in _SEPARATOR.split(text):
        if chunk is None or not chunk.strip():
            continue
        match = _SOURCE.search(chunk)
        source = match.group(1).strip() if match else "(manifest)"
        try:
            body = yaml.load(chunk, Loader=PlainLoader)
        except yaml.YAMLError as err:
            raise ManifestError(f"{source}: helm rendered invalid YAML: {err}") from err
        if body is None:
            continue
        objects.append(RenderedObject(body=body, source=source, index=len(objects)))
    return objects
