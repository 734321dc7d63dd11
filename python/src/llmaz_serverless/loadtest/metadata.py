"""Where and with what a run happened: machine, versions, the exact command.

A report that cannot be reproduced is an anecdote, so run.json records the
command line as typed (with `make` noted when make ran it), the locust
command, the machine and every version that shapes the numbers.
"""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from llmaz_serverless.toolpaths import repo_root


def _run(argv: list[str], cwd: Path | None = None) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False, cwd=cwd)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def machine() -> str:
    mem = _memory_gib()
    mem_text = f", {mem:.0f} GiB RAM" if mem else ""
    return (
        f"{socket.gethostname()}: {_os_name()}, Linux {platform.release()}, {os.cpu_count()} cores "
        f"({_cpu_model()}){mem_text}, Python {platform.python_version()}"
    )


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    root = repo_root()
    commit = _run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root)
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root)
    out = {
        "llmaz-serverless": _version("llmaz-serverless"),
        "git commit": f"{commit}{' (uncommitted changes)' if dirty else ''}" if commit else "unknown",
        "python": platform.python_version(),
        "locust": _version("locust"),
        "aiohttp": _version("aiohttp"),
        "matplotlib": _version("matplotlib"),
    }
    redis = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin:/usr/bin")
    if redis:
        # "Redis server v=7.0.15 sha=... malloc=..." -> "7.0.15"
        words = _run([redis, "--version"]).split()
        out["redis-server"] = next((w[2:] for w in words if w.startswith("v=")), "unknown")
    return out


def shown_path(path: str | Path, base: Path | None = None) -> str:
    """A path as a recorded command shows it: relative to `base` (default: the working directory,
    the repository's root under `make loadtest`) when under it, so that published reports carry
    no machine's absolute paths and the command runs again from the same place; `~/...` under the
    home directory; else unchanged."""
    root = (base or Path.cwd()).resolve()
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(root).as_posix() or "."
    except ValueError:
        pass
    try:
        # Under the home directory (a kubeconfig, a cache): `~/...`, which a shell expands anywhere.
        return "~/" + resolved.relative_to(Path.home().resolve()).as_posix()
    except ValueError:
        return str(path)


def working_dir() -> str:
    """Where the run started: relative to the repository ('.' at its root), absolute outside it."""
    return shown_path(Path.cwd(), repo_root())


def shown_argv(argv: list[str]) -> list[str]:
    """argv with every absolute path argument shown by shown_path."""
    return [shown_path(arg) if arg.startswith("/") else arg for arg in argv]


def command_line(argv: list[str] | None = None) -> str:
    """The command as a person would type it again (`python -m llmaz_serverless ...` for module runs)."""
    argv = list(sys.argv if argv is None else argv)
    first = argv[0] if argv else "llmaz-serverless"
    if first.endswith("__main__.py") or first == "-m":
        prog = ["python", "-m", "llmaz_serverless"]
    else:
        prog = [Path(first).name]
    text = shlex.join(prog + shown_argv(argv[1:]))
    if os.environ.get("MAKELEVEL"):
        text += "    # run by make (e.g. `make loadtest`)"
    return text
