"""Real model-server processes for the warmup integration tests.

`sim` starts the project's OpenAI-compatible emulator (the server behind
`llmaz-serverless sim`, launched without the whole CLI so it starts in under a
second) as a separate process on a free loopback port, with the settings a test asks for: a slow
start (/health and requests answer 503 until loaded), failures of the first N
requests, streaming with a set time to first token. Each process is stopped by its
own pid when the test ends.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from llmaz_serverless.launcher import free_port, wait_for_port

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
def sim(tmp_path: Path) -> Iterator:
    """Factory: `sim(startup_delay=1.5, fail_first=2)` starts one emulator process (keyword
    arguments are EmulatorSettings fields) and waits for its port; `sim(..., wait=False)`
    returns at once (the port may not be open yet)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(wait: bool = True, port: int | None = None, **settings: object) -> Sim:
        port = port or free_port()
        log = tmp_path / f"sim-{port}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(sim_command(port, **settings), stdout=out, stderr=subprocess.STDOUT)
        started.append(proc)
        if wait:
            try:
                wait_for_port(port, 20, proc)
            except RuntimeError as err:
                raise RuntimeError(f"{err}; its output:\n{log.read_text()}") from err
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


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write_tls(directory: Path, host: str) -> tuple[Path, Path]:
    """A self-signed serving certificate like the chart's (CA = the certificate itself)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([_san(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "tls.crt", directory / "tls.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@pytest.fixture
def write_tls():
    """`write_tls(directory, host)` -> (cert file, key file) of a self-signed serving certificate."""
    return _write_tls
