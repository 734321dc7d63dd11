"""Real model-server processes for the warmup integration tests.

`sim` starts the project's OpenAI-compatible emulator (the server behind
`llmaz-serverless sim`, launched without the whole CLI so it starts in under a
second) as a separate process on a free loopback port, with the flags a test asks for: a slow
start (/health and requests answer 503 until loaded), failures of the first N
requests, streaming with a set time to first token. Each process is stopped by its
own pid when the test ends.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from llmaz_serverless.localserver import free_port, wait_for_port

MODEL = "llama-3-8b"


@dataclass
class Sim:
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# The emulator's own serve loop in a fresh interpreter; settings as JSON (snake_case keys).
RUNNER = (
    "import asyncio, json, sys\n"
    "from llmaz_serverless.emulator import EmulatorSettings, serve\n"
    "asyncio.run(serve(EmulatorSettings.model_validate(json.loads(sys.argv[1])), ready_message=False))\n"
)


def sim_command(port: int, **settings: object) -> list[str]:
    settings = {"model": MODEL, **settings, "host": "127.0.0.1", "port": port}
    return [sys.executable, "-c", RUNNER, json.dumps(settings)]


@pytest.fixture
def sim() -> Iterator:
    """Factory: `sim(startup_delay=1.5, fail_first=2)` starts one emulator process (EmulatorSettings
    fields) and waits for its port;
    `sim(..., wait=False)` returns at once (the port may not be open yet)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(wait: bool = True, port: int | None = None, **flags: object) -> Sim:
        port = port or free_port()
        proc = subprocess.Popen(sim_command(port, **flags), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(proc)
        if wait:
            wait_for_port(port, 20, proc)
        return Sim(port, proc)

    yield start
    for proc in started:
        proc.terminate()
    for proc in started:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
