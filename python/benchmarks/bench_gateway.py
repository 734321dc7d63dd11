"""What the gateway adds to a streamed request, and how fast it serves a cache hit.

    .venv/bin/python python/benchmarks/bench_gateway.py [--streams 64] [--rounds 12]

Starts on loopback: redis-server, the emulator (`llmaz-serverless sim`, its own
process) and the gateway (`llmaz-serverless gateway`, its own process, default
settings, JSON access log and cache on; `--upstream-keepalive` sets how long
it keeps idle upstream connections, 60 s by default as in the gateway), then
runs the same closed-loop load
(`--streams` concurrent SSE streams, `--tokens` tokens each after `--ttft`,
`--itl` apart) alternately straight at the emulator and through the gateway,
in the same run, so both see the same machine; a bare aiohttp relay (the same
stack without any gateway feature) runs as a third path: the floor of this
stack on this machine. With `--nginx`, nginx (Debian's nginx-light, one
worker, keep-alive upstream, no buffering) runs as a fourth: what one proxy
hop written in C costs on this machine. With `--baseline REV`, the gateway as
of git revision REV runs as one more path: a change measured against the code
it replaces, in the same run; both gateways' added p99, the difference of
their total p99 and its ratio are printed with 90% intervals from resampling
whole rounds. Prints p50/p99 of time to
first token and of total time per path, the gateway's added p50/p99 and the
p99 ratio, the added p99 of each stream's first request in a round against
the later ones (new upstream connections show there), how far that p99 moves
by chance (each half of the rounds, and a 90% interval from resampling whole
rounds) and the host's CPU steal while the rounds ran; then the p50/p99 of
cache hits (greedy requests already cached): sent by 4 clients in a process
of their own (hits_under_load.py) while the gateway carries the same
streaming load, all of them and those in seconds without steal; then
`--hit-concurrency` closed-loop clients doing nothing but hits.
Every loop is bounded in count. Targets (issue 5): added total p99 <= 1.5 ms,
p99 ratio <= 1.05, hit p99 <= 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from hits_under_load import HitsUnderLoad, cached_bodies, hit_bodies, host_cpu_ticks, steal_share

from llmaz_serverless.gateway.settings import UpstreamSettings
from llmaz_serverless.launcher import RedisServer, free_port, wait_for_port

TARGETS = {"added_p99_ms": 1.5, "ratio_p99": 1.05, "hit_p99_ms": 5.0}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pooled(rounds: list[dict[str, list]], name: str) -> list[tuple[float, float]]:
    """All of path `name`'s (ttft, total) samples over `rounds`."""
    return [sample for r in rounds for sample in r[name]]


def added_p99_ms(rounds: list[dict[str, list]], path: str = "gateway", against: str = "direct") -> float:
    """What `path` adds to the total p99 of `against` over `rounds`, in ms."""
    ours = [s[1] for s in pooled(rounds, path)]
    theirs = [s[1] for s in pooled(rounds, against)]
    return (pct(ours, 99) - pct(theirs, 99)) * 1000


def p99_ratio(rounds: list[dict[str, list]], path: str, against: str) -> float:
    """Total p99 of `path` over that of `against`."""
    return pct([s[1] for s in pooled(rounds, path)], 99) / pct([s[1] for s in pooled(rounds, against)], 99)


def by_position(rounds: list[dict[str, list]], per_stream: int, first: bool) -> list[dict[str, list]]:
    """`rounds` with only each stream's first request of the round (`first`), or only the later ones.

    `phase` returns each stream's requests in order, so position i % per_stream
    is 0 for the first. A path's first requests in a round may open new
    connections (its idle ones expired while the other paths ran); the later
    ones reuse them, as every request does in a steady state.
    """
    return [
        {name: [s for i, s in enumerate(samples) if (i % per_stream == 0) == first]
         for name, samples in r.items()}
        for r in rounds
    ]  # fmt: skip


# A round counts as quiet when no phase of it lost more than this share of CPU time to steal;
# so does a second of the cache hits under load.
QUIET_STEAL = 0.01
# Fewer quiet rounds than this give no quiet-rounds figure (too few samples for a p99 of each path).
MIN_QUIET_ROUNDS = 4
# Cache hits under load: clients and their pause between requests, in a process of their own
# (hits_under_load.py), during this many phases of the streaming load (about 3.3 s each).
HIT_CLIENTS = 4
HIT_PAUSE = 0.005
HIT_LOAD_PHASES = 4
# Fewer hits than this in quiet seconds give no quiet figure (a p99 of them would be a handful).
MIN_QUIET_HITS = 1000


def quiet_rounds(rounds: list[dict[str, list]], steal_by_round: list[float]) -> list[dict[str, list]]:
    """The rounds in which the hypervisor took under QUIET_STEAL of the CPU time in every phase.

    On a shared host, steal comes in bursts of seconds and stretches the tail
    of every path in the round it hits by several milliseconds (runs C, F, G
    in docs/benchmarks/gateway.md); those rounds measure the host, not the
    paths. Both paths of a round are kept or dropped together, so the
    comparison stays paired.
    """
    return [r for r, steal in zip(rounds, steal_by_round, strict=True) if steal < QUIET_STEAL]


def interval(
    rounds: list[dict[str, list]],
    statistic: Callable[[list[dict[str, list]]], float] = added_p99_ms,
    resamples: int = 1000,
) -> tuple[float, float]:
    """90% interval of `statistic` (by default the gateway's added total p99), by resampling whole rounds.

    A round is the unit that shares machine state (every path ran in it, a
    few seconds apart), so rounds, not single streams, are drawn with
    replacement; the interval shows how far the run's figure could have
    landed on the same machine. Fixed seed: the same samples print the same
    interval, and every statistic of a run is drawn from the same resamples.
    """
    rng = random.Random(5)
    values = [statistic([rng.choice(rounds) for _ in rounds]) for _ in range(resamples)]
    return pct(values, 5), pct(values, 95)


def against_baseline(rounds: list[dict[str, list]], per_stream: int) -> dict[str, Any]:
    """This gateway against the `--baseline` one, both measured in the same rounds, with 90% intervals.

    Each figure comes with the interval of its own resampling: the gateway's
    and the baseline's added p99 (against the direct path), their difference
    (this gateway's total p99 minus the baseline's) and the p99 ratio
    (this / baseline); the difference also for the later requests of each
    stream alone (no new connections among them).
    """

    def diff(rs: list[dict[str, list]]) -> float:
        return added_p99_ms(rs, "gateway", "baseline")

    def ratio(rs: list[dict[str, list]]) -> float:
        return p99_ratio(rs, "gateway", "baseline")

    def baseline_added(rs: list[dict[str, list]]) -> float:
        return added_p99_ms(rs, "baseline")

    later = by_position(rounds, per_stream, first=False)
    return {
        "gateway_added_p99_ms": added_p99_ms(rounds),
        "gateway_added_p99_interval_ms": interval(rounds),
        "baseline_added_p99_ms": baseline_added(rounds),
        "baseline_added_p99_interval_ms": interval(rounds, baseline_added),
        "diff_p99_ms": diff(rounds),
        "diff_p99_interval_ms": interval(rounds, diff),
        "diff_p99_later_ms": diff(later),
        "diff_p99_later_interval_ms": interval(later, diff),
        "ratio_p99": ratio(rounds),
        "ratio_p99_interval": interval(rounds, ratio),
    }


async def one_stream(http: aiohttp.ClientSession, url: str, body: bytes) -> tuple[float, float]:
    start = time.perf_counter()
    first = 0.0
    async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
        if resp.status != 200:
            raise RuntimeError(f"{url}: HTTP {resp.status}: {await resp.text()}")
        async for chunk in resp.content.iter_any():
            if not first and b"data: {" in chunk:
                first = time.perf_counter() - start
    return first, time.perf_counter() - start


async def phase(
    http: aiohttp.ClientSession, url: str, body: bytes, streams: int, per_stream: int, stagger: float
) -> list[tuple]:
    """`streams` workers, each running `per_stream` requests back to back.

    Worker i starts i/streams of `stagger` late, so requests arrive spread out
    as in a steady state of `streams` concurrent streams; with stagger 0 all
    start together and stay in lockstep (a burst every stream length).
    """

    async def worker(i: int) -> list[tuple[float, float]]:
        await asyncio.sleep(stagger * i / streams)
        return [await one_stream(http, url, body) for _ in range(per_stream)]

    results = await asyncio.gather(*(worker(i) for i in range(streams)))
    return [r for rs in results for r in rs]


async def fill_cache(http: aiohttp.ClientSession, url: str, bodies: list[bytes]) -> None:
    for body in bodies:  # misses: the answers get stored
        async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
            await resp.read()
    await asyncio.sleep(0.2)


async def cache_hits(
    http: aiohttp.ClientSession, url: str, model: str, concurrency: int, requests: int, stream: bool
) -> tuple[list[float], int]:
    """Closed loop: `concurrency` clients sending cached requests back to back (saturation)."""
    prompts = cached_bodies(model, concurrency, stream)
    await fill_cache(http, url, prompts)
    latencies: list[float] = []
    not_hits = 0

    async def worker(body: bytes, count: int) -> None:
        nonlocal not_hits
        for _ in range(count):
            start = time.perf_counter()
            async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
                await resp.read()
                if resp.headers.get("X-Cache") != "HIT":
                    not_hits += 1
            latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(worker(body, requests // concurrency) for body in prompts))
    return latencies, not_hits


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection in the load generator while a phase is timed.

    A full collection in this process pauses every stream it is reading for
    milliseconds; that is the measuring instrument's noise, not the path's.
    The garbage of one phase is collected before the next one starts.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def overhead_histogram(http: aiohttp.ClientSession, gateway_url: str) -> dict[float, float]:
    """Cumulative bucket counts of the gateway's own `overhead_seconds` histogram, from its /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    async with http.get(gateway_url.rsplit("/v1/", 1)[0] + "/metrics") as resp:
        text = await resp.text()
    for family in text_string_to_metric_families(text):
        if family.name == "llmaz_serverless_gateway_overhead_seconds":
            return {float(s.labels["le"]): s.value for s in family.samples if s.name.endswith("_bucket")}
    return {}


def histogram_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """Quantile of what was observed between two scrapes, linear inside a bucket (as PromQL does)."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return float("nan")
    rank = q / 100 * counts[-1]
    lower, below = 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-12)
        lower, below = bound, count
    return bounds[-1]


def summarize(name: str, samples: list[tuple[float, float]]) -> dict[str, float]:
    ttft = [s[0] * 1000 for s in samples]
    total = [s[1] * 1000 for s in samples]
    return {
        "path": name,
        "n": len(samples),
        "ttft_p50": pct(ttft, 50),
        "ttft_p99": pct(ttft, 99),
        "total_p50": pct(total, 50),
        "total_p99": pct(total, 99),
        "total_mean": statistics.fmean(total),
    }


def serve_bare_proxy(port: int, upstream: str) -> None:
    """Reference floor: the same stack (aiohttp server + one ClientSession) with no gateway features."""
    from aiohttp import web

    http_key = web.AppKey("http", aiohttp.ClientSession)

    async def relay(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {"Content-Type": "application/json"}
        async with request.app[http_key].post(upstream, data=body, headers=headers) as up:
            out = web.StreamResponse(status=up.status, headers={"Content-Type": up.headers["Content-Type"]})
            await out.prepare(request)
            async for chunk in up.content.iter_any():
                await out.write(chunk)
            await out.write_eof()
            return out

    async def session(app: web.Application):  # type: ignore[no-untyped-def]
        app[http_key] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        yield
        await app[http_key].close()

    app = web.Application()
    app.cleanup_ctx.append(session)
    app.router.add_post("/v1/completions", relay)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def start(args: argparse.Namespace, redis_url: str, workdir: Path) -> dict[str, subprocess.Popen]:
    """Emulator, gateway and the reference relays as their own processes (logs in `workdir`).

    Each process gets a `url` attribute: where the load is sent to reach that path.
    """
    sim_port, gw_port = free_port(), free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(workdir / "sim.log", "wb") as sim_log:
        sim = subprocess.Popen(
            [sys.executable, "-m", "llmaz_serverless", "sim", "--port", str(sim_port), "--model", "bench",
             "--ttft", str(args.ttft), "--itl", str(args.itl), "--max-concurrency", "4096"],
            stdout=sim_log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    upstream = f"http://127.0.0.1:{sim_port}/v1/completions"
    config = {
        "models": [{"name": "bench", "playground": "bench", "upstream": f"http://127.0.0.1:{sim_port}"}],
        "redis": {"url": redis_url},
        # Idle upstream connections kept as long as nginx keeps them (60 s): the
        # rounds leave each path idle for 6-13 s, longer than the default 4 s
        # (set for uvicorn's 5 s; the emulator keeps idle connections an hour),
        # so each stream's first request of a round would open a new connection,
        # which a steady state of `--streams` streams never does.
        "gateway": {"host": "127.0.0.1", "port": gw_port, "shutdownDelay": 0,
                    "upstream": {"keepaliveTimeout": args.upstream_keepalive}},
    }  # fmt: skip
    (workdir / "runtime.yaml").write_text(yaml.safe_dump(config))
    profile = ["-m", "cProfile", "-o", args.profile_gateway] if args.profile_gateway else []
    with open(workdir / "gateway.log", "wb") as gw_log:
        gw = subprocess.Popen(
            [sys.executable, *profile, "-m", "llmaz_serverless", "gateway",
             "--config", str(workdir / "runtime.yaml")],
            stdout=gw_log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    bare_port = free_port()
    with open(workdir / "bare.log", "wb") as bare_log:
        bare = subprocess.Popen(
            [sys.executable, __file__, "--serve-bare-proxy", str(bare_port), upstream],
            stdout=bare_log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    procs = {"direct": (sim, sim_port), "gateway": (gw, gw_port), "bare": (bare, bare_port)}
    if args.nginx:
        nginx_port = free_port()
        procs["nginx"] = (start_nginx(nginx_port, sim_port, workdir), nginx_port)
    if args.baseline:
        base_port = free_port()
        base_config = {**config, "gateway": {**config["gateway"], "port": base_port}}
        (workdir / "baseline.yaml").write_text(yaml.safe_dump(base_config))
        base_env = {**env, "PYTHONPATH": str(export_source(args.baseline, workdir / "baseline-src"))}
        with open(workdir / "baseline.log", "wb") as base_log:
            base = subprocess.Popen(
                [sys.executable, "-m", "llmaz_serverless", "gateway",
                 "--config", str(workdir / "baseline.yaml")],
                stdout=base_log, stderr=subprocess.STDOUT, env=base_env,
            )  # fmt: skip
        procs["baseline"] = (base, base_port)
    for proc, port in procs.values():
        wait_for_port(port, 60, proc)
    for proc, port in procs.values():
        proc.url = f"http://127.0.0.1:{port}/v1/completions"  # type: ignore[attr-defined]
    return {name: proc for name, (proc, _) in procs.items()}


def export_source(rev: str, dest: Path) -> Path:
    """The package source of git revision `rev`, written under `dest`; returns the dir for PYTHONPATH.

    Lets a change be measured against the code it replaces in the same run:
    separate runs of this script differ by more than most single changes are worth.
    """
    repo = Path(__file__).resolve().parents[2]
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", rev, "python/src"],
        capture_output=True, check=False,
    )  # fmt: skip
    if archive.returncode != 0:
        raise SystemExit(f"--baseline {rev}: git archive failed: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest / "python" / "src"


def start_nginx(port: int, sim_port: int, workdir: Path) -> subprocess.Popen:
    """nginx in the foreground as a plain streaming reverse proxy to the emulator.

    One worker (like the one gateway process), keep-alive connections to the
    upstream, no response or request buffering, no access log.
    """
    binary = shutil.which("nginx") or next(
        (c for c in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(c, os.X_OK)), None
    )
    if binary is None:
        raise SystemExit("--nginx: no nginx binary found; install it (apt-get install nginx-light) "
                         "or run without --nginx")  # fmt: skip
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"worker_processes 1;\ndaemon off;\npid {workdir}/nginx.pid;\nerror_log {workdir}/nginx.log;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        "  access_log off;\n"
        f"  upstream sim {{ server 127.0.0.1:{sim_port}; keepalive 256; }}\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n"
        "    location / {\n"
        "      proxy_pass http://sim;\n      proxy_http_version 1.1;\n"
        '      proxy_set_header Connection "";\n'
        "      proxy_buffering off;\n      proxy_request_buffering off;\n"
        "    }\n  }\n}\n"
    )
    return subprocess.Popen([binary, "-c", str(conf), "-p", str(workdir), "-e", str(workdir / "nginx.log")])


def process_cpu_seconds(pid: int) -> float:
    """CPU of a process and its children (nginx's work happens in its worker)."""
    total = cpu_seconds(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        total += sum(cpu_seconds(int(child)) for child in children.read_text().split())
    return total


async def measure(args: argparse.Namespace, urls: dict[str, str], pids: dict[str, int]) -> dict:
    """Every path in `urls` (direct first, gateway second, then the references), rounds alternating."""
    via = urls["gateway"]
    body = json.dumps({"model": "bench", "prompt": "benchmark prompt", "stream": True,
                       "max_tokens": args.tokens, "temperature": 1.0}).encode()  # fmt: skip
    out: dict = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        stagger = 0.0 if args.burst else args.ttft + args.itl * (args.tokens - 1)
        for url in urls.values():  # warm connections and code paths
            await phase(http, url, body, args.streams, 1, 0)
        await fill_cache(http, via, hit_bodies())
        rounds: list[dict[str, list]] = []
        steal_by_round: list[float] = []  # the highest steal share of any phase of the round
        cpu0 = {name: process_cpu_seconds(pid) for name, pid in pids.items()}
        host0 = host_cpu_ticks()
        overhead0 = await overhead_histogram(http, via)
        for i in range(args.rounds):
            order = list(urls.items())
            shift = i % len(order)
            order = order[shift:] + order[:shift]  # rotate so no path always runs in the same slot
            rounds.append({})
            worst_steal = 0.0
            for name, url in order:
                before = host_cpu_ticks()
                with collector_paused():
                    rounds[-1][name] = await phase(http, url, body, args.streams, args.per_stream, stagger)
                after = host_cpu_ticks()
                worst_steal = max(worst_steal, steal_share(before, after))
            steal_by_round.append(worst_steal)
        out["cpu"] = {name: process_cpu_seconds(pid) - cpu0[name] for name, pid in pids.items()}
        host1 = host_cpu_ticks()
        out["steal_share"] = steal_share(host0, host1)
        overhead1 = await overhead_histogram(http, via)
        out["overhead_us"] = [histogram_quantile(overhead0, overhead1, q) * 1e6 for q in (50, 99)]
        out["rounds"] = rounds
        out["steal_by_round"] = steal_by_round
        # Cache hits, from a process of their own, while the gateway carries the same streaming load.
        async with HitsUnderLoad(via, HIT_CLIENTS, HIT_PAUSE) as loaded:
            for _ in range(HIT_LOAD_PHASES):
                with collector_paused():
                    await phase(http, via, body, args.streams, args.per_stream, stagger)
        out["loaded_hits"] = loaded
        out["hits_json"] = await cache_hits(
            http, via, "bench", args.hit_concurrency, args.hit_requests, False
        )
        out["hits_sse"] = await cache_hits(http, via, "bench", args.hit_concurrency, args.hit_requests, True)
    return out


def _hits(result: tuple[list[float], int]) -> dict:
    ms = [x * 1000 for x in result[0]]
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p99_ms": pct(ms, 99), "not_hits": result[1]}


def _loaded_hits(loaded: HitsUnderLoad) -> dict:
    """All hits under load, and those in seconds with steal under QUIET_STEAL (None when too few)."""
    out = _hits(([seconds for _, seconds in loaded.hits], loaded.not_hits))
    quiet, quiet_windows = loaded.quiet(QUIET_STEAL)
    out["windows"] = len(loaded.windows)
    out["steal_share"] = max((steal for _, _, steal in loaded.windows), default=0.0)
    out["quiet_windows"] = quiet_windows
    out["quiet"] = _hits((quiet, 0)) if len(quiet) >= MIN_QUIET_HITS else None
    return out


# Reference relays: what each is, for the printed lines.
REFERENCES = {
    "bare": "bare aiohttp relay (same stack, no features)",
    "nginx": "nginx (one C proxy hop, no buffering)",
    "baseline": "gateway at the --baseline revision",
}


def run(args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    with RedisServer() as redis_server:
        procs = start(args, redis_server.url, workdir)
        urls = {name: proc.url for name, proc in procs.items()}  # type: ignore[attr-defined]
        try:
            pids = {name: proc.pid for name, proc in procs.items()}
            raw = asyncio.run(measure(args, urls, pids))
        finally:
            for proc in reversed(procs.values()):  # the emulator last
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:  # e.g. a gateway still draining a failed run's clients
                    proc.kill()
                    proc.wait()
    paths = {name: summarize(name, pooled(raw["rounds"], name)) for name in urls}
    d, g = paths["direct"], paths["gateway"]
    streams = sum(p["n"] for p in paths.values())
    middle = (len(raw["rounds"]) + 1) // 2
    quiet = quiet_rounds(raw["rounds"], raw["steal_by_round"])
    return {
        "direct": d,
        "gateway": g,
        "added_ttft_p50_ms": g["ttft_p50"] - d["ttft_p50"],
        "added_ttft_p99_ms": g["ttft_p99"] - d["ttft_p99"],
        "added_p50_ms": g["total_p50"] - d["total_p50"],
        "added_p99_ms": g["total_p99"] - d["total_p99"],
        "ratio_p99": g["total_p99"] / d["total_p99"],
        # The same statistic on each half of the rounds: how far one run's p99 moves by chance.
        # With an odd count of rounds the first half has the extra one.
        "added_p99_halves_ms": [
            added_p99_ms(raw["rounds"][:middle]),
            added_p99_ms(raw["rounds"][middle:]),
        ],
        "added_p99_interval_ms": interval(raw["rounds"]),
        "steal_by_round": raw["steal_by_round"],
        "quiet_rounds": len(quiet),
        "added_p99_quiet_ms": added_p99_ms(quiet) if len(quiet) >= MIN_QUIET_ROUNDS else None,
        "added_p99_quiet_interval_ms": (interval(quiet) if len(quiet) >= MIN_QUIET_ROUNDS else None),
        # First request of each stream in a round against the later ones (see by_position).
        "added_p99_first_later_ms": [
            added_p99_ms(by_position(raw["rounds"], args.per_stream, first=True)),
            added_p99_ms(by_position(raw["rounds"], args.per_stream, first=False)),
        ],
        "host_steal_share": raw["steal_share"],
        "gateway_cpu_ms_per_stream": raw["cpu"]["gateway"] * 1000 / g["n"],
        # The emulator serves every path's streams.
        "emulator_cpu_ms_per_stream": raw["cpu"]["direct"] * 1000 / streams,
        "references": {
            name: {
                **paths[name],
                "added_ttft_p99_ms": paths[name]["ttft_p99"] - d["ttft_p99"],
                "added_p50_ms": paths[name]["total_p50"] - d["total_p50"],
                "added_p99_ms": paths[name]["total_p99"] - d["total_p99"],
                "cpu_ms_per_stream": raw["cpu"][name] * 1000 / paths[name]["n"],
            }
            for name in paths
            if name in REFERENCES
        },
        # The gateway's own histogram: taking the request to handing it to the upstream pool.
        "gateway_overhead_p50_us": raw["overhead_us"][0],
        "gateway_overhead_p99_us": raw["overhead_us"][1],
        "hit_under_load": _loaded_hits(raw["loaded_hits"]),
        "hit_json": _hits(raw["hits_json"]),
        "hit_sse": _hits(raw["hits_sse"]),
        "load_average_end": os.getloadavg()[0],
        "baseline": against_baseline(raw["rounds"], args.per_stream) if "baseline" in paths else None,
    }


def print_baseline(result: dict, rev: str) -> None:
    """This gateway against the one at `rev`: both added p99s, their difference and ratio, 90% intervals."""
    b = result["baseline"]
    base, this = result["references"]["baseline"], result["gateway"]

    def span(key: str, unit: str = " ms", fmt: str = "+.2f") -> str:
        low, high = b[key]
        return f"90% interval {low:{fmt}} to {high:{fmt}}{unit}"

    print(f"this gateway against the gateway at {rev}, same rounds:")
    print(f"  adds total p99: this {b['gateway_added_p99_ms']:+.2f} ms "
          f"({span('gateway_added_p99_interval_ms')}), "
          f"{rev} {b['baseline_added_p99_ms']:+.2f} ms "
          f"({span('baseline_added_p99_interval_ms')})")  # fmt: skip
    print(f"  total p99 this minus {rev}: {b['diff_p99_ms']:+.2f} ms ({span('diff_p99_interval_ms')}); "
          f"on the later requests of each stream: {b['diff_p99_later_ms']:+.2f} ms "
          f"({span('diff_p99_later_interval_ms')})")  # fmt: skip
    print(f"  total p99 ratio this / {rev}: {b['ratio_p99']:.5f} ({span('ratio_p99_interval', '', '.5f')}); "
          f"total p50 this minus {rev}: {this['total_p50'] - base['total_p50']:+.2f} ms")  # fmt: skip
    print(f"  CPU per stream: this {result['gateway_cpu_ms_per_stream']:.3f} ms, "
          f"{rev} {base['cpu_ms_per_stream']:.3f} ms")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", type=int, default=64, help="concurrent streams (default 64)")
    parser.add_argument("--tokens", type=int, default=32, help="tokens per stream (default 32)")
    parser.add_argument("--ttft", type=float, default=0.02, help="emulated time to first token, s")
    parser.add_argument(
        "--itl", type=float, default=0.02, help="emulated inter-token delay, s (default 0.02)"
    )
    parser.add_argument("--rounds", type=int, default=12, help="alternating rounds of the paths (default 12)")
    parser.add_argument("--per-stream", type=int, default=4, help="requests per stream per round (default 4)")
    parser.add_argument(
        "--upstream-keepalive",
        type=float,
        default=UpstreamSettings().keepalive_timeout,
        help="the gateway's upstream.keepaliveTimeout, s (default: the gateway's own, 60; "
        "before 2026-12-06 it was 4)",
    )
    parser.add_argument("--burst", action="store_true", help="start all streams together (lockstep bursts)")
    parser.add_argument("--hit-concurrency", type=int, default=64, help="closed-loop cache-hit clients")
    parser.add_argument("--hit-requests", type=int, default=4096, help="cache-hit requests in total")
    parser.add_argument(
        "--nginx", action="store_true", help="also measure nginx as a reference proxy (needs nginx installed)"
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also measure the gateway as of git revision REV (e.g. HEAD while changes are uncommitted), "
        "as one more path in the same alternating run",
    )
    parser.add_argument(
        "--profile-gateway", metavar="PATH", help="run the gateway under cProfile, stats to PATH"
    )
    parser.add_argument("--serve-bare-proxy", nargs=2, metavar=("PORT", "UPSTREAM"), help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object only")
    args = parser.parse_args()
    if args.serve_bare_proxy:
        serve_bare_proxy(int(args.serve_bare_proxy[0]), args.serve_bare_proxy[1])
        return 0
    result = run(args)
    if args.json:
        print(json.dumps(result))
        return 0
    d, g = result["direct"], result["gateway"]
    print(f"machine: {platform.node()} {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f} at end, "
          f"steal {result['host_steal_share']:.1%} of CPU time during the timed rounds "
          "(time the hypervisor gave the vCPUs to other guests)")  # fmt: skip
    shape = "lockstep bursts" if args.burst else "staggered"
    print(f"load: {args.streams} concurrent SSE streams ({shape}), {args.tokens} tokens, "
          f"ttft {args.ttft * 1000:g} ms, itl {args.itl * 1000:g} ms, "
          f"{args.rounds} alternating rounds x {args.per_stream} per stream; "
          f"gateway upstream keep-alive {args.upstream_keepalive:g} s")  # fmt: skip
    print(f"{'path':<8} {'n':>6} {'ttft p50':>9} {'ttft p99':>9} {'total p50':>10} {'total p99':>10}  (ms)")
    for row in (d, g, *result["references"].values()):
        print(f"{row['path']:<8} {row['n']:>6} {row['ttft_p50']:>9.2f} {row['ttft_p99']:>9.2f} "
              f"{row['total_p50']:>10.2f} {row['total_p99']:>10.2f}")  # fmt: skip
    print(f"gateway adds: ttft p50 {result['added_ttft_p50_ms']:+.2f} ms, "
          f"p99 {result['added_ttft_p99_ms']:+.2f} ms; "
          f"total p50 {result['added_p50_ms']:+.2f} ms, p99 {result['added_p99_ms']:+.2f} ms "
          f"(target <= {TARGETS['added_p99_ms']} ms); p99 ratio {result['ratio_p99']:.4f} "
          f"(target <= {TARGETS['ratio_p99']})")  # fmt: skip
    first, second = result["added_p99_halves_ms"]
    print(f"same statistic on each half of the rounds: added total p99 {first:+.2f} ms / {second:+.2f} ms")
    first, later = result["added_p99_first_later_ms"]
    print(f"added total p99 on each stream's first request of a round: {first:+.2f} ms; "
          f"on the later ones: {later:+.2f} ms")  # fmt: skip
    quiet = result["quiet_rounds"]
    if result["added_p99_quiet_ms"] is not None:
        q_low, q_high = result["added_p99_quiet_interval_ms"]
        print(f"added total p99 over the {quiet} of {args.rounds} rounds with steal under "
              f"{QUIET_STEAL:.0%} in every phase: {result['added_p99_quiet_ms']:+.2f} ms "
              f"(90% interval {q_low:+.2f} to {q_high:+.2f} ms)")  # fmt: skip
    else:
        print(f"only {quiet} of {args.rounds} rounds had steal under {QUIET_STEAL:.0%} in every phase: "
              f"too few (under {MIN_QUIET_ROUNDS}) for a quiet-rounds figure")  # fmt: skip
    low, high = result["added_p99_interval_ms"]
    print(f"added total p99, 90% interval from resampling the {args.rounds} rounds: "
          f"{low:+.2f} to {high:+.2f} ms")  # fmt: skip
    for name, ref in result["references"].items():
        print(f"{REFERENCES[name]} adds: ttft p99 {ref['added_ttft_p99_ms']:+.2f} ms; "
              f"total p50 {ref['added_p50_ms']:+.2f} ms, p99 {ref['added_p99_ms']:+.2f} ms")  # fmt: skip
    if result["baseline"] is not None:
        print_baseline(result, args.baseline)
    print(f"gateway's own time per request (its overhead_seconds histogram, taking the request to "
          f"handing it upstream): p50 {result['gateway_overhead_p50_us']:.0f} us, "
          f"p99 {result['gateway_overhead_p99_us']:.0f} us")  # fmt: skip
    refs = result["references"]
    refs_cpu = "".join(f"{name} {ref['cpu_ms_per_stream']:.3f} ms, " for name, ref in refs.items())
    print(f"CPU per stream: gateway {result['gateway_cpu_ms_per_stream']:.3f} ms, {refs_cpu}"
          f"emulator {result['emulator_cpu_ms_per_stream']:.3f} ms")  # fmt: skip
    h = result["hit_under_load"]
    print(f"cache hits during the {args.streams}-stream load ({HIT_CLIENTS} clients in their own process, "
          f"JSON): n {h['n']}, p50 {h['p50_ms']:.2f} ms, p99 {h['p99_ms']:.2f} ms "
          f"(target <= {TARGETS['hit_p99_ms']} ms), not hits {h['not_hits']}; "
          f"worst steal in a second {h['steal_share']:.2%}")  # fmt: skip
    q = h["quiet"]
    if q is not None:
        print(f"cache hits under load in the {h['quiet_windows']} of {h['windows']} seconds with steal "
              f"under {QUIET_STEAL:.0%}: n {q['n']}, p50 {q['p50_ms']:.2f} ms, "
              f"p99 {q['p99_ms']:.2f} ms")  # fmt: skip
    else:
        print(f"cache hits under load: {h['quiet_windows']} of {h['windows']} seconds had steal under "
              f"{QUIET_STEAL:.0%}, too few hits in them (under {MIN_QUIET_HITS}) "
              "for a quiet figure")  # fmt: skip
    for name in ("hit_json", "hit_sse"):
        h = result[name]
        kind = "JSON" if name == "hit_json" else "SSE replay"
        print(f"cache hits alone ({kind}), {args.hit_concurrency} "
              f"closed-loop clients: "
              f"n {h['n']}, p50 {h['p50_ms']:.2f} ms, p99 {h['p99_ms']:.2f} ms "
              f"(target <= {TARGETS['hit_p99_ms']} ms), not hits {h['not_hits']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
