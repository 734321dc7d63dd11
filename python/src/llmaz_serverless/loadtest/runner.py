"""A bounded, headless load-test run: stack (local) -> sampler -> locust -> run.json -> report.

The runner never imports locust (importing it monkey-patches the process for
gevent); locust runs as a child process with `--headless --run-time`, and the
runner kills it if it overruns that bound by more than its stop timeout plus
a margin. Progress is read from the requests.csv the users append to.

The runner knows scenarios only by the `RunScenario` shape: the catalog's, or one
built above it (a trace replay, trace/replay.py); the report is written by the
caller (cli/loadtest.py). So loadtest/ needs neither trace/ nor report/, which
both build on it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from llmaz_serverless.launcher import stop_process
from llmaz_serverless.loadtest import catalog, shapes
from llmaz_serverless.loadtest.localstack import LocalModelOptions, LocalStack
from llmaz_serverless.loadtest.metadata import (
    command_line,
    machine,
    shown_argv,
    shown_path,
    versions,
    working_dir,
)
from llmaz_serverless.loadtest.profile import PROFILE_ENV, LoadProfile
from llmaz_serverless.loadtest.records import (
    LOCUST_TIMES_JSON,
    PROFILE_JSON,
    REPLICAS_CSV,
    REQUESTS_CSV,
    RUN_JSON,
)
from llmaz_serverless.loadtest.replicas import (
    DEFAULT_READY_QUERY,
    DEFAULT_REPLICAS_QUERY,
    KubernetesSource,
    ModelRef,
    PrometheusSource,
    Reading,
    ReplicaSampler,
    ReplicaSource,
    StateUrlSource,
)


class RunScenario(Protocol):
    """What a run needs of a scenario (catalog.Scenario has it, so does trace.replay.TraceScenario)."""

    # Read-only properties: the catalog's and the trace's scenarios are frozen dataclasses.
    @property
    def name(self) -> str: ...

    @property
    def shape(self) -> str: ...

    @property
    def profile_defaults(self) -> dict[str, Any]: ...

    @property
    def description(self) -> str: ...

    @property
    def locustfile(self) -> Path: ...

    def schedule(self, overrides: dict[str, Any] | None = None) -> shapes.Schedule: ...


@runtime_checkable
class WritesRunFiles(Protocol):
    """A scenario with input files of its own (a trace): written into the run directory."""

    def write(self, run_dir: Path) -> dict[str, Any]:
        """Write the files; returns the shape_params the locust side reads."""
        ...

    def meta(self) -> dict[str, Any]:
        """What run.json records about the scenario's input."""
        ...


@dataclass
class RunOptions:
    scenario: str = "00_mix"
    # None: run the local stack; else the base URL of an OpenAI-compatible endpoint.
    target: str | None = None
    out: Path = Path("runs")
    name: str | None = None
    # LoadProfile fields set on the command line (model, api, stream, ...).
    profile: dict[str, Any] = field(default_factory=dict)
    shape_params: dict[str, Any] = field(default_factory=dict)
    # Upper bound on locust's run time; default: the shape's length + 5 s.
    max_time: float | None = None
    # auto | state | prometheus | kubernetes | none
    replicas_from: str = "auto"
    sample_interval: float | None = None
    state_url: str | None = None
    prometheus_url: str | None = None
    replicas_query: str = DEFAULT_REPLICAS_QUERY
    ready_query: str = DEFAULT_READY_QUERY
    playground: str | None = None
    namespace: str = "default"
    kubeconfig: str | None = None
    local_model: LocalModelOptions = field(default_factory=LocalModelOptions)
    use_gateway: bool = True
    report: bool = True
    thresholds: Path | None = None
    progress: bool = True
    argv: list[str] | None = None
    # Run this scenario instead of the catalog's `scenario` (a trace replay, open loop).
    scenario_override: RunScenario | None = None


@dataclass
class RunResult:
    run_dir: Path
    locust_exit: int | None
    requests: int
    report_files: list[Path] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)


class Progress:
    """Counts rows of requests.csv as they are appended and prints one status line per tick."""

    def __init__(self, path: Path, total: float, stream: IO[str], enabled: bool = True) -> None:
        self.path = path
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self.tty = stream.isatty()
        self._offset = 0
        self._header = True
        self._partial = ""
        self.requests = 0
        self.errors = 0
        self._recent: list[tuple[float, float]] = []  # (end time, latency)
        self._last_print = 0.0

    def _read(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            fh.seek(self._offset)
            chunk = fh.read()
            self._offset = fh.tell()
        lines = (self._partial + chunk).split("\n")
        self._partial = lines.pop()  # an incomplete last line waits for the next read
        for line in lines:
            if self._header:
                self._header = False
                continue
            cells = line.split(",")
            if len(cells) < 10:
                continue
            self.requests += 1
            # Columns: request_id, kind, model, stream, start, ttfb_s, ttft_s, total_s, http_status, outcome
            if cells[9] != "ok":
                self.errors += 1
            elif cells[7]:
                self._recent.append((float(cells[4]) + float(cells[7]), float(cells[7])))

    def tick(self, elapsed: float, users: int | None, replicas: str) -> None:
        self._read()
        if not self.enabled:
            return
        now = time.time()
        self._recent = [(t, lat) for t, lat in self._recent if t > now - 10]
        lat = sorted(lat for _, lat in self._recent)
        p50 = f"{lat[len(lat) // 2]:.2f}s" if lat else "-"
        line = (
            f"[{elapsed:5.0f}s/{self.total:.0f}s] users {users if users is not None else '-':>3}  "
            f"requests {self.requests} (errors {self.errors})  {len(self._recent) / 10:.1f} req/s  "
            f"p50(10s) {p50}  replicas {replicas}"
        )
        if self.tty:
            self.stream.write("\r" + line.ljust(110))
            self.stream.flush()
        elif now - self._last_print >= 5:
            self.stream.write(line + "\n")
            self.stream.flush()
            self._last_print = now

    def done(self) -> None:
        self._read()
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _kubeconfig_present(path: str | None) -> bool:
    candidates = [path] if path else [*os.environ.get("KUBECONFIG", "").split(os.pathsep), "~/.kube/config"]
    return any(c and Path(c).expanduser().exists() for c in candidates)


def _sources(opts: RunOptions, model: str, stack: LocalStack | None) -> tuple[list[ReplicaSource], str]:
    """The replica sources for this run and a sentence saying what they are."""
    mode = opts.replicas_from
    if mode == "none":
        return [], "none (disabled with --replicas-from none)"
    if stack is not None and mode in ("auto", "state"):
        return (
            [StateUrlSource(stack.state_url, model)],
            stack.state_description,
        )
    refs = [ModelRef(model, opts.playground or model, opts.namespace)]
    if mode == "prometheus" or (mode == "auto" and opts.prometheus_url):
        if not opts.prometheus_url:
            raise ValueError("--replicas-from prometheus needs --prometheus-url URL")
        return (
            [PrometheusSource(opts.prometheus_url, refs, opts.replicas_query, opts.ready_query)],
            f"Prometheus {opts.prometheus_url}: `{opts.replicas_query.format(**asdict(refs[0]))}`",
        )
    if mode == "state" or (mode == "auto" and opts.state_url):
        if not opts.state_url:
            raise ValueError("--replicas-from state needs --state-url URL")
        return [StateUrlSource(opts.state_url, model)], f"state endpoint {opts.state_url}"
    if mode == "kubernetes" or (mode == "auto" and _kubeconfig_present(opts.kubeconfig)):
        ref = refs[0]
        return (
            [KubernetesSource(refs, opts.kubeconfig)],
            f"Kubernetes: scale subresource of Playground {ref.namespace}/{ref.playground}",
        )
    return [], "none (no --prometheus-url, --state-url or kubeconfig)"


def _cluster_description(opts: RunOptions, source_text: str) -> str:
    if opts.target is None:
        return "none: local processes on 127.0.0.1, no Kubernetes"
    if source_text.startswith("Kubernetes"):
        try:
            from kubernetes import client, config

            _contexts, active = config.list_kube_config_contexts(config_file=opts.kubeconfig)
            version = client.VersionApi().get_code()
            return f"context {active['name']}, Kubernetes {version.git_version}"
        except Exception as exc:
            return f"unknown ({type(exc).__name__}: {exc})"[:200]
    return "unknown (not queried; pass --kubeconfig to describe it)"


def _locust_argv(scenario: RunScenario, target: str, run_dir: Path, stop_timeout: float) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(scenario.locustfile), "--headless",
        # No --run-time: locust ignores it with a shape; the shape stops at profile.max_time.
        "--host", target, "--stop-timeout", f"{int(stop_timeout)}",
        "--csv", str(run_dir / "locust"), "--only-summary", "--loglevel", "WARNING",
        # Failed requests are data here, not a crash: thresholds decide the exit code.
        "--exit-code-on-error", "0",
    ]  # fmt: skip


def _test_start(run_dir: Path, fallback: float) -> float:
    """When locust's test (and its shape clock) started, once users.py has written it."""
    try:
        return float(json.loads((run_dir / LOCUST_TIMES_JSON).read_text())["started_at"])
    except (OSError, ValueError, KeyError):
        return fallback


def new_run_dir(out: Path, scenario: str, name: str | None) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = out / (name or f"{stamp}-{scenario}")
    if run_dir.exists() and any(run_dir.iterdir()):
        raise FileExistsError(f"{run_dir}: already holds a run; pick another --name or --out")
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _replicas_text(latest: Reading | None) -> str:
    """The progress line's replica count: `2`, `2 (ready 1)`, or `-` before the first sample."""
    if latest is None:
        return "-"
    return f"{latest.replicas}" + (f" (ready {latest.ready})" if latest.ready is not None else "")


# Long on purpose: one run's life in order (profile, run.json facts, local stack, sampler, locust)
# inside one try/finally, so whatever was started is stopped and run.json is written even when a
# step fails; the finally block needs every one of those handles.
def run(opts: RunOptions, stream: IO[str] = sys.stderr) -> RunResult:
    scenario: RunScenario = opts.scenario_override or catalog.get(opts.scenario)
    schedule = scenario.schedule(opts.shape_params)  # refuses unknown shape parameters up front
    profile = LoadProfile.model_validate({
        **scenario.profile_defaults, **opts.profile, "scenario": scenario.name,
        "shape": scenario.shape, "shape_params": opts.shape_params,
    })  # fmt: skip
    if opts.target is None and "model" not in opts.profile:
        profile.model = opts.local_model.model
    elif opts.target is None:
        opts.local_model.model = profile.model
    run_dir = new_run_dir(opts.out, scenario.name, opts.name).resolve()
    # Relative to the working directory locust inherits: no absolute path in profile.json.
    profile.run_dir = shown_path(run_dir)
    if isinstance(scenario, WritesRunFiles):
        profile.shape_params = scenario.write(run_dir)
    bound = opts.max_time if opts.max_time is not None else schedule.total + 5
    profile.max_time = bound
    (run_dir / PROFILE_JSON).write_text(profile.to_json(), encoding="utf-8")
    stop_timeout = min(profile.request_timeout, 60.0)
    meta: dict[str, Any] = {
        "run_id": run_dir.name,
        "scenario": scenario.name,
        "scenario_description": scenario.description,
        "mode": "local" if opts.target is None else "target",
        "command": command_line(opts.argv),
        "cwd": working_dir(),
        "versions": versions(),
        "profile": json.loads(profile.to_json()),
    }
    if isinstance(scenario, WritesRunFiles):
        meta["trace"] = scenario.meta()
    stack: LocalStack | None = None
    sampler: ReplicaSampler | None = None
    proc: subprocess.Popen[bytes] | None = None
    locust_exit: int | None = None
    started_wall = time.time()
    try:
        if opts.target is None:
            stream.write(f"starting the local stack (logs in {run_dir / 'logs'}) ...\n")
            stack = LocalStack(
                run_dir, opts.local_model, use_gateway=opts.use_gateway, use_worker=profile.api == "async"
            ).start()
            stream.write(
                "making sure the model starts at zero replicas, so the first burst is a cold start ...\n"
            )
            stack.wait_for_zero()
            target = stack.target_url
            # The options too: `plan --against` simulates the local scaler with the run's own settings.
            meta["local_stack"] = {"components": stack.components, "options": opts.local_model.record()}
        else:
            target = opts.target
        meta["target"] = target
        sources, source_text = _sources(opts, profile.model, stack)
        meta["replica_source"] = source_text
        meta["where"] = {
            "mode_description": (
                "local: every process on this machine, loopback only, no Kubernetes"
                if opts.target is None
                else f"remote target {target}"
            ),
            "machine": machine() + (" (load generator)" if opts.target else ""),
            "cluster": _cluster_description(opts, source_text),
        }
        interval = opts.sample_interval or (0.25 if opts.target is None else 1.0)
        sampler = ReplicaSampler(sources, run_dir / REPLICAS_CSV, interval).start()
        argv = _locust_argv(scenario, target, run_dir, stop_timeout)
        meta["locust_command"] = (
            f"{PROFILE_ENV}={shlex.quote(shown_path(run_dir / PROFILE_JSON))} "
            + shlex.join(["locust", *shown_argv(argv[3:])])
        )
        stream.write(
            f"running {scenario.name} against {target} for up to {bound:.0f}s: {scenario.description}\n"
        )
        env = {**os.environ, PROFILE_ENV: str(run_dir / PROFILE_JSON)}
        started_wall = time.time()
        with open(run_dir / "locust.log", "wb") as log:
            proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
            progress = Progress(run_dir / REQUESTS_CSV, schedule.total, stream, opts.progress)
            hard_deadline = time.monotonic() + bound + stop_timeout + 60
            while proc.poll() is None:
                if time.monotonic() > hard_deadline:
                    stream.write(f"\nlocust overran its {bound:.0f}s bound: stopping it\n")
                    stop_process(proc, timeout=15)
                    break
                elapsed = time.time() - _test_start(run_dir, started_wall)
                at = schedule.at(elapsed)
                progress.tick(elapsed, at[0] if at else 0, _replicas_text(sampler.latest.get(profile.model)))
                time.sleep(0.5)
            locust_exit = proc.wait()
            progress.done()
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if sampler is not None:
            sampler.stop()
            meta["sampler"] = {
                "interval": sampler.interval,
                "samples": sampler.samples,
                "errors": sampler.errors,
                "last_error": sampler.last_error,
            }
        if stack is not None:
            try:
                # The simulation's own counters (scale-ups from zero, requests) let a reader
                # check the timeline-based cold-start detection against ground truth.
                meta.setdefault("local_stack", {})["final_state"] = stack.state()
            except Exception as exc:  # the stack may already be gone
                meta.setdefault("local_stack", {})["final_state"] = {"error": str(exc)}
            stack.stop()
        times_path = run_dir / LOCUST_TIMES_JSON
        times = json.loads(times_path.read_text()) if times_path.exists() else {}
        meta["started_at"] = times.get("started_at", started_wall)
        meta["ended_at"] = times.get("ended_at", time.time())
        meta["locust_exit_code"] = locust_exit
        (run_dir / RUN_JSON).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    result = RunResult(run_dir, locust_exit, progress.requests)
    if locust_exit not in (0, None):
        stream.write(f"locust exited with {locust_exit}; see {run_dir / 'locust.log'}\n")
    return result
