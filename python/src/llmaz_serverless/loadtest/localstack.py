"""The local stack a `--local` load test runs against, all on 127.0.0.1.

- a real `redis-server` (Debian) on a free port, for the gateway's cache and async queue;
- the emulated model, scaled from zero by a LOCAL SIMULATION of KEDA and the
  HTTP add-on (not KEDA), in one of two forms:
  - `max_replicas > 1` (default): `loadtest/scaler.py`, a proxy that holds
    requests while no replica is ready and runs 0..N `llmaz-serverless sim`
    processes from the request concurrency, down to zero after `idle` seconds;
  - `max_replicas == 1`: one `llmaz-serverless sim` with its own emulated
    scale to zero (drops to zero after `idle` seconds, holds the next request
    while it "loads" for `startup_delay` seconds);
- the gateway (`llmaz-serverless gateway`) in front of it, when the package
  has one, with a runtime.yaml written into the run directory; otherwise the
  load goes to the emulator directly and the run metadata says so;
- the async worker, for the async scenario, when the package has one.

Every process is started by `llmaz_serverless.launcher` (as `llmaz-serverless up` starts its own),
logs to RUN_DIR/logs/ and is stopped (SIGTERM, then SIGKILL) on exit or when this process dies.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Self

import httpx
import yaml

from llmaz_serverless.launcher import ManagedProcess, RedisServer, StartStop, component_process, free_port
from llmaz_serverless.loadtest.scaler import STATE_PATH
from llmaz_serverless.model_timing import ModelTiming
from llmaz_serverless.scale_to_zero import ScaleToZeroSettings

# The local stack's scaling defaults, stated once where the rule that uses them lives.
_SCALING = ScaleToZeroSettings()

# The emulated model of a local run: slower than the emulator's own defaults so a load test shows
# latency, and its first 2 requests after a load 3x slower (what warmup absorbs).
LOCAL_TIMING = ModelTiming(ttft=0.03, prefill_per_token=0.00005, itl=0.012, cold_requests=2, cold_factor=3.0)

# The flat names of the held scaling rule, as the `--sim-*` flags and run.json's
# `local_stack.options` spell them: `idle` is the rule's scale_to_zero_after.
_SCALING_NAMES = {
    "idle": "scale_to_zero_after",
    "max_replicas": "max_replicas",
    "target_concurrency": "target_concurrency",
    "scale_down_after": "scale_down_after",
}
_TIMING_NAMES = frozenset(f.name for f in fields(ModelTiming))
# The options' own scalar fields, recorded under their own names.
_OWN_NAMES = frozenset({"model", "startup_delay", "fail_rate"})


@dataclass
class LocalModelOptions:
    """The emulated model of a local run: its `llmaz-serverless sim` replicas and the local scaler's rule.

    `record()` gives the flat form (`ttft`, `idle`, ...: what the `--sim-*` flags and a recorded
    run.json hold) and `from_record()` takes it back.
    """

    model: str = "emulated-llm"
    # Seconds a replica takes to load (real 8B models: 30-60 s, see UPSTREAM.md;
    # short here so a local run stays short).
    startup_delay: float = 3.0
    # Fraction of requests the emulated replicas fail (their --fail-rate).
    fail_rate: float = 0.0
    timing: ModelTiming = LOCAL_TIMING
    # The local scaler's rule; with max_replicas 1 the emulator's own 0/1 mode runs instead, dropping
    # to zero after its scale_to_zero_after (what a local run calls `idle`).
    scaling: ScaleToZeroSettings = _SCALING

    @classmethod
    def from_record(cls, flat: Mapping[str, Any]) -> Self:
        """Options from the flat form; a name it leaves out keeps its default."""
        unknown = sorted(flat.keys() - _OWN_NAMES - _TIMING_NAMES - _SCALING_NAMES.keys())
        if unknown:
            raise TypeError(
                f"LocalModelOptions: unknown option(s) {unknown}; fix: use "
                f"{sorted(_OWN_NAMES | _TIMING_NAMES | _SCALING_NAMES.keys())}"
            )
        return cls(
            **{k: v for k, v in flat.items() if k in _OWN_NAMES},
            timing=replace(LOCAL_TIMING, **{k: v for k, v in flat.items() if k in _TIMING_NAMES}),
            scaling=replace(
                _SCALING, **{_SCALING_NAMES[k]: v for k, v in flat.items() if k in _SCALING_NAMES}
            ),
        )

    def record(self) -> dict[str, Any]:
        """The flat form run.json keeps under `local_stack.options` (and from_record() takes back)."""
        return {
            "model": self.model, "startup_delay": self.startup_delay, "fail_rate": self.fail_rate,
            **asdict(self.timing), **{name: getattr(self.scaling, f) for name, f in _SCALING_NAMES.items()},
        }  # fmt: skip

    def replica_args(self) -> list[str]:
        """Flags of one emulated replica (`llmaz-serverless sim`), without address or scale to zero;
        the timing flags are ModelTiming's field names, as the emulator's settings name them too."""
        timing = [arg for name, value in asdict(self.timing).items() for arg in (_flag(name), str(value))]
        return ["--startup-delay", str(self.startup_delay), *timing, "--fail-rate", str(self.fail_rate)]

    def sim_args(self, port: int) -> list[str]:
        """Flags of a single emulator with its own emulated scale to zero (max_replicas == 1)."""
        return [
            "--model", self.model, "--host", "127.0.0.1", "--port", str(port), *self.replica_args(),
            "--hold-while-loading", "--scale-to-zero-after", str(self.scaling.scale_to_zero_after),
        ]  # fmt: skip

    def scaler_args(self, port: int) -> list[str]:
        s = self.scaling
        return [
            "--port", str(port), "--model", self.model,
            "--max-replicas", str(s.max_replicas), "--target-concurrency", str(s.target_concurrency),
            "--scale-to-zero-after", str(s.scale_to_zero_after),
            "--scale-down-after", str(s.scale_down_after), "--", *self.replica_args(),
        ]  # fmt: skip


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def gateway_available() -> bool:
    return _has_module("llmaz_serverless.cli.gateway")


@dataclass
class LocalStack(StartStop):
    run_dir: Path
    options: LocalModelOptions = field(default_factory=LocalModelOptions)
    use_gateway: bool = True
    use_worker: bool = False
    redis: RedisServer | None = None
    processes: list[ManagedProcess] = field(default_factory=list)
    model_url: str = ""
    target_url: str = ""
    components: list[dict[str, str]] = field(default_factory=list)

    state_url: str = ""
    # What the state URL is, for the report's "Replicas sampled from".
    state_description: str = ""

    def start(self) -> Self:
        log_dir = self.run_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start(log_dir)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, log_dir: Path) -> None:
        o = self.options
        self.redis = RedisServer(orphan_safe=True).start()
        self.components.append({"name": "redis", "detail": f"redis-server on {self.redis.url}"})
        port = free_port()
        self.model_url = f"http://127.0.0.1:{port}"
        t, s = o.timing, o.scaling
        model = (
            f"model {o.model}: load {o.startup_delay}s, TTFT {t.ttft}s + {t.prefill_per_token}s per prompt "
            f"token, ITL {t.itl}s, first {t.cold_requests} requests after a load x{t.cold_factor} slower"
        )
        if s.max_replicas > 1:
            argv = [sys.executable, "-m", "llmaz_serverless.loadtest.scaler", *o.scaler_args(port)]
            self.processes.append(ManagedProcess("scaler", argv, port, log_dir, orphan_safe=True).start())
            self.state_url = f"{self.model_url}{STATE_PATH}"
            self.state_description = f"the local scaler simulation's state {self.state_url} (not KEDA)"
            self.components.append({
                "name": "model replicas",
                "detail": f"0..{s.max_replicas} `llmaz-serverless sim` processes behind the local scaler "
                          f"simulation on {self.model_url} (holds requests at zero, one replica per "
                          f"{s.target_concurrency:g} request(s) in flight, to zero after "
                          f"{s.scale_to_zero_after:g}s idle; a simulation, not KEDA); {model}",
            })  # fmt: skip
        else:
            argv = [sys.executable, "-m", "llmaz_serverless", "sim", *o.sim_args(port)]
            self.processes.append(ManagedProcess("emulator", argv, port, log_dir, orphan_safe=True).start())
            self.state_url = f"{self.model_url}/emulator/state"
            self.state_description = (
                f"the emulator's own state {self.state_url} (its scale to zero, not KEDA)"
            )
            self.components.append({
                "name": "model emulator",
                "detail": f"`llmaz-serverless sim` on {self.model_url} with its own scale to zero after "
                          f"{s.scale_to_zero_after:g}s idle (a simulation, not KEDA); {model}",
            })  # fmt: skip
        self.target_url = self.model_url
        if self.use_worker:
            if not (self.use_gateway and gateway_available()):
                raise RuntimeError("the async scenario needs the gateway's async API: drop --no-gateway")
            self._start_worker(log_dir)
        if self.use_gateway and gateway_available():
            self._start_gateway(log_dir)
        elif self.use_gateway:
            self.components.append({
                "name": "gateway",
                "detail": "not in this build of the package: the load went to the emulator directly",
            })  # fmt: skip

    def runtime_config(self) -> dict[str, Any]:
        """The runtime.yaml the local gateway reads: one model, upstream = the emulator."""
        assert self.redis is not None
        o = self.options
        return {
            "redis": {"url": self.redis.url},
            "models": [{
                "name": o.model, "playground": o.model, "upstream": self.model_url,
                "timeouts": {"coldStart": "120s"}, "cache": False,
            }],
            # No drain pause on shutdown: nothing routes here but this run.
            "gateway": {"shutdownDelay": "0s", "shutdownTimeout": "10s"},
            "worker": {"drainTimeout": "10s"},
            "queue": {"notifications": {"enabled": False}},
        }  # fmt: skip

    def _start_component(self, log_dir: Path, component: str, flags: list[str], port: int) -> None:
        """`llmaz-serverless <component>` reading this run's runtime.yaml, ready on its /readyz."""
        config = self.run_dir / "runtime.yaml"
        config.write_text(yaml.safe_dump(self.runtime_config(), sort_keys=False), encoding="utf-8")
        ready_url = f"http://127.0.0.1:{port}/readyz"
        self.processes.append(component_process(component, config, flags, port, ready_url, log_dir).start())

    def _start_worker(self, log_dir: Path) -> None:
        port = free_port()
        self._start_component(
            log_dir, "worker", ["--metrics-host", "127.0.0.1", "--metrics-port", str(port)], port
        )
        self.components.append(
            {"name": "async worker", "detail": "`llmaz-serverless worker` (Redis Streams)"}
        )

    def _start_gateway(self, log_dir: Path) -> None:
        port = free_port()
        self._start_component(log_dir, "gateway", ["--host", "127.0.0.1", "--port", str(port)], port)
        self.target_url = f"http://127.0.0.1:{port}"
        self.components.append(
            {"name": "gateway", "detail": f"`llmaz-serverless gateway` on {self.target_url}"}
        )

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = httpx.get(self.state_url, timeout=2).json()
        return state

    def wait_for_zero(self) -> float:
        """Wait until the model is at zero replicas; returns the seconds waited.

        The scaler simulation starts at zero; a single emulator loads first and
        then goes idle to zero. A run then starts at zero replicas, so its first burst is a real cold start.
        """
        began = time.monotonic()
        deadline = began + self.options.startup_delay + self.options.scaling.scale_to_zero_after + 15
        while time.monotonic() < deadline:
            if self.state().get("replicas") == 0:
                return time.monotonic() - began
            time.sleep(0.25)
        raise TimeoutError(f"the model did not reach zero replicas within {deadline - began:.0f}s")

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
