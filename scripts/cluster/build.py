"""Build the local cluster's binaries from their upstream Go modules, at the pins in versions.toml [cluster].

Each component is built once into `<cache>/bin/<name>-<version>/` and reused while its
pin is unchanged (a stamp file holds the pin). The Go module and build caches are
the machine's own (`go env GOMODCACHE GOCACHE`), so a rebuild after a pin change only
compiles what changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gomod import wrapper  # noqa: E402
from layout import cache_dir, default_layout, load_pins  # noqa: E402

STAMP = ".pin"


def bin_dir(name: str, pin: dict) -> Path:
    return default_layout().bin(name, pin["version"])


def pin_digest(pin: dict) -> str:
    return hashlib.sha256(json.dumps(pin, sort_keys=True).encode()).hexdigest()[:16]


def is_built(name: str, pin: dict) -> bool:
    stamp = bin_dir(name, pin) / STAMP
    return stamp.is_file() and stamp.read_text().strip() == pin_digest(pin)


def go_env() -> dict[str, str]:
    env = dict(os.environ)
    # -mod=mod lets `go build` fill the wrapper's go.sum; -modcacherw keeps the cache removable.
    env["GOFLAGS"] = "-mod=mod -modcacherw -buildvcs=false"
    env.setdefault("CGO_ENABLED", "0")
    return env


def download(module: str, version: str) -> Path:
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        capture_output=True, text=True, env=go_env(), check=False,
    )  # fmt: skip
    info = json.loads(out.stdout or "{}")
    if out.returncode != 0 or "Error" in info or "GoMod" not in info:
        detail = info.get("Error") or out.stderr.strip()
        raise SystemExit(f"cannot download {module}@{version} from the Go module proxy: {detail}")
    return Path(info["GoMod"])


def binary_name(name: str, pin: dict, package: str) -> str:
    named = pin.get("binary_names", {})
    return named.get(package) or Path(package).name or name


def build(name: str, pin: dict, log: Path) -> float:
    """Build one component; returns the seconds it took."""
    started = time.monotonic()
    module, version = pin["module"], pin["version"]
    src = cache_dir() / "src" / name
    src.mkdir(parents=True, exist_ok=True)
    upstream = download(module, version).read_text()
    gomod = src / "go.mod"
    text = wrapper(module, version, upstream, pin.get("staging"))
    if not gomod.is_file() or gomod.read_text() != text:
        gomod.write_text(text)
        (src / "go.sum").unlink(missing_ok=True)
    out = bin_dir(name, pin)
    out.mkdir(parents=True, exist_ok=True)
    flags = " ".join(["-s", "-w", *(f"-X {x}" for x in pin.get("ldflags", []))])
    with log.open("a") as sink:
        for package in pin["packages"]:
            target = module if package == "." else f"{module}/{package}"
            argv = ["go", "build", "-trimpath", "-ldflags", flags,
                    "-o", str(out / binary_name(name, pin, package)), target]  # fmt: skip
            sink.write(f"$ {' '.join(argv)}\n")
            sink.flush()
            proc = subprocess.run(argv, cwd=src, env=go_env(), stdout=sink, stderr=sink, check=False)
            if proc.returncode != 0:
                raise SystemExit(f"building {target}@{version} failed; see {log}")
    (out / STAMP).write_text(pin_digest(pin) + "\n")
    return time.monotonic() - started


def build_all(names: list[str] | None = None) -> dict[str, float]:
    """Build what is missing; returns seconds per component built (0 for reused)."""
    pins = load_pins()
    logs = cache_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    took: dict[str, float] = {}
    # Components are the tables with a Go module; `[images]` lives beside them.
    for name in names or [n for n, pin in pins.items() if "module" in pin]:
        pin = pins[name]
        if is_built(name, pin):
            took[name] = 0.0
            continue
        print(f"cluster: building {name} {pin['version']} (log: {logs / f'build-{name}.log'})", flush=True)
        took[name] = build(name, pin, logs / f"build-{name}.log")
        print(f"cluster: built {name} in {took[name]:.0f} s", flush=True)
    return took


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("components", nargs="*", help="names from versions.toml [cluster] (default: all)")
    a = ap.parse_args(argv)
    build_all(a.components or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
