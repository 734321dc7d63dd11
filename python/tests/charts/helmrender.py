"""Render the charts with the real helm and look at the objects (helm-unittest, as pytest).

`render()` runs `helm template` and parses the documents; results are cached
per argument set, since many tests look at the same rendering. `render_error()`
returns the error text of a rendering that must fail.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from llmaz_serverless.toolpaths import chart_dir, find_tool, repo_root

CHART = chart_dir("llmaz-serverless")
STACK = chart_dir("llmaz-serverless-stack")
RELEASE = "rel"
NAMESPACE = "models"

# Every values file the chart ships, as a test id -> path (relative to the chart).
PRESETS = sorted(p.name for p in CHART.glob("values-*.yaml"))
EXAMPLES = sorted(f"examples/{p.name}" for p in (CHART / "examples").glob("*.yaml"))
CI_FILES = sorted(f"ci/{p.name}" for p in (CHART / "ci").glob("*-values.yaml"))
ALL_VALUE_FILES = ["", *PRESETS, *EXAMPLES, *CI_FILES]  # "" = chart defaults


class HelmError(RuntimeError):
    pass


@dataclass(frozen=True)
class Rendered:
    objects: tuple[dict[str, Any], ...]

    def kinds(self, *kinds: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] in kinds]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [o for o in self.kinds(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}: {self.names(kind)}"
        return found[0]

    def one(self, kind: str) -> dict[str, Any]:
        found = self.kinds(kind)
        assert len(found) == 1, f"expected one {kind}, found {self.names(kind)}"
        return found[0]

    def names(self, kind: str) -> list[str]:
        return [o["metadata"]["name"] for o in self.kinds(kind)]

    def runtime(self) -> dict[str, Any]:
        """The parsed runtime.yaml of the runtime ConfigMap."""
        cm = self.get("ConfigMap", f"{RELEASE}-llmaz-serverless-runtime")
        return yaml.safe_load(cm["data"]["runtime.yaml"])


def helm() -> str:
    return str(find_tool("helm"))


def _args(
    values: Iterable[str],
    sets: Iterable[str],
    set_json: Iterable[str],
    is_upgrade: bool,
    api_versions: Iterable[str],
    release: str,
    namespace: str,
) -> list[str]:
    args = [release, "--namespace", namespace]
    for v in values:
        if v:
            path = Path(v)
            args += ["-f", str(path if path.is_absolute() else CHART / path)]
    for s in sets:
        args += ["--set", s]
    for s in set_json:
        args += ["--set-json", s]
    for api in api_versions:
        args += ["--api-versions", api]
    if is_upgrade:
        args.append("--is-upgrade")
    return args


def parse_documents(text: str) -> tuple[dict[str, Any], ...]:
    return tuple(d for d in yaml.safe_load_all(text) if d)


@functools.lru_cache(maxsize=256)
def _render(chart: str, args: tuple[str, ...]) -> Rendered:
    proc = subprocess.run([helm(), "template", *args[:1], chart, *args[1:]], capture_output=True, text=True)
    if proc.returncode != 0:
        raise HelmError(proc.stderr.strip())
    return Rendered(parse_documents(proc.stdout))


def render(
    *values: str,
    sets: Iterable[str] = (),
    set_json: Iterable[str] = (),
    is_upgrade: bool = False,
    api_versions: Iterable[str] = (),
    release: str = RELEASE,
    namespace: str = NAMESPACE,
    chart: Path = CHART,
) -> Rendered:
    """`helm template` of the chart with values files (relative to the chart) and --set pairs."""
    args = _args(values, sets, set_json, is_upgrade, api_versions, release, namespace)
    return _render(str(chart), tuple(args))


def render_values(data: dict[str, Any], tmp_path: Path, **kwargs: Any) -> Rendered:
    """Render with a values document written to a temporary file."""
    path = tmp_path / f"values-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return render(str(path), **kwargs)


def render_error(*values: str, sets: Iterable[str] = (), **kwargs: Any) -> str:
    """The error text of a rendering that must fail (AssertionError when it renders)."""
    try:
        render(*values, sets=sets, **kwargs)
    except HelmError as exc:
        return str(exc)
    raise AssertionError(f"expected helm template to fail with values {values} {list(sets)}")


def model(name: str, **extra: Any) -> dict[str, Any]:
    """A minimal models[] entry."""
    return {"name": name, "source": {"modelHub": {"modelID": f"org/{name}"}}, **extra}


def models_json(*entries: dict[str, Any]) -> str:
    return "models=" + json.dumps(list(entries))


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every leaf of a YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}[{i}]")
    else:
        yield path, node


def load_script(name: str) -> ModuleType:
    """Import scripts/<name>.py (lint_charts, gen_chart_docs) as a module."""
    path = repo_root() / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"scripts_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
