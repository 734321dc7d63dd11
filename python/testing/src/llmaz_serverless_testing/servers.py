"""Debian servers on loopback that only the tests use: NATS JetStream and Prometheus.

They run like the runtime's own Redis (`llmaz_serverless.launcher.LocalServer`):
a free port, a temporary directory, waited for until they answer, stopped on exit.
"""

from __future__ import annotations

import time
import urllib.request

from llmaz_serverless.launcher import LocalServer, free_port


class NatsServer(LocalServer):
    """nats-server with JetStream; `monitoring=True` also serves the HTTP monitoring
    endpoint (/jsz, what KEDA's nats-jetstream scaler reads) on `monitor_port`."""

    binary = "nats-server"

    def __init__(self, port: int | None = None, monitoring: bool = False) -> None:
        super().__init__(port)
        self.monitor_port = free_port() if monitoring else None

    def command(self, path: str) -> list[str]:
        cmd = [path, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.dir)]
        if self.monitor_port is not None:
            cmd += ["-m", str(self.monitor_port)]
        return cmd

    @property
    def monitoring_endpoint(self) -> str:
        """`host:port` of the monitoring endpoint, as KEDA's trigger metadata names it."""
        if self.monitor_port is None:
            raise ValueError("this NatsServer was started without monitoring=True")
        return f"127.0.0.1:{self.monitor_port}"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


class PrometheusServer(LocalServer):
    """Prometheus scraping the given targets ("host:port") every `scrape_interval`."""

    binary = "prometheus"
    startup_timeout = 60.0

    def __init__(
        self, targets: list[str] | None = None, scrape_interval: str = "1s", port: int | None = None
    ) -> None:
        super().__init__(port)
        self.targets = targets or []
        self.scrape_interval = scrape_interval

    def command(self, path: str) -> list[str]:
        targets = ", ".join(f'"{t}"' for t in self.targets)
        (self.dir / "prometheus.yml").write_text(
            "global:\n"
            f"  scrape_interval: {self.scrape_interval}\n"
            f"  evaluation_interval: {self.scrape_interval}\n"
            "scrape_configs:\n"
            "  - job_name: local\n"
            f"    static_configs: [{{targets: [{targets}]}}]\n"
        )
        return [
            path,
            f"--config.file={self.dir / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]

    def ready(self) -> None:
        super().ready()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("prometheus did not become ready")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
