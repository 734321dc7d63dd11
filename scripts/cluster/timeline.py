"""The cold-start timeline of one real 0 -> 1, phase by phase, from the cluster's own records.

    .venv/bin/python scripts/cluster/timeline.py --out docs/reports/e2e-local-<date>/cold-start.json

With the e2e release installed on the local cluster (`make e2e CLUSTER=local`), it waits
until the model is at zero, sends one streamed chat completion through the gateway
(kubectl port-forward), and reads when each phase happened: KEDA's activation (its
operator's log), the Playground's scale-up as the warmup controller saw
it, the pod's creation, scheduling, container start, readiness of the server (the
container's probe), the warmed gate, Ready, then the first byte and the end as the client
saw them. API timestamps are whole seconds; the client's are exact.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from layout import default_layout  # noqa: E402

NAMESPACE = "llmaz-serverless"
GATE = "serving.llmaz-serverless.io/warmed"


def kubectl_text(*args: str) -> str:
    argv = [str(REPO / ".bin" / "kubectl"), "--kubeconfig", str(default_layout().kubeconfig), *args]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def kubectl(*args: str) -> Any:
    return json.loads(kubectl_text(*args))


def keda_activation(scaled_object: str, since: datetime) -> datetime | None:
    """When KEDA's operator set the target 0 -> 1 (its log; the ScaledObject's Active condition
    flips back as soon as the request is answered, so it cannot tell)."""
    for line in kubectl_text("logs", "-n", "keda", "deploy/keda-operator", "--since=1h").splitlines():
        fields = line.split("\t")
        if len(fields) < 5 or "Successfully updated ScaleTarget" not in fields[3]:
            continue
        detail = json.loads(fields[4])
        if (detail.get("scaledobject.Name"), detail.get("Original Replicas Count")) != (scaled_object, 0):
            continue
        at = stamp(fields[0])
        if at and at >= since.replace(microsecond=0):
            return at
    return None


def stamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def condition(obj: dict[str, Any], kind: str) -> datetime | None:
    for cond in obj.get("status", {}).get("conditions") or []:
        if cond.get("type") == kind and cond.get("status") == "True":
            return stamp(cond.get("lastTransitionTime"))
    return None


def port_forward(service: str, port: int) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        local = sock.getsockname()[1]
    argv = [str(REPO / ".bin" / "kubectl"), "--kubeconfig", str(default_layout().kubeconfig), "port-forward",
            "-n", NAMESPACE, f"svc/{service}", f"{local}:{port}"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{local}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"port-forward to {service} did not answer")


def wait_for_zero(playground: str, model: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pg = kubectl("get", "playground", playground, "-n", NAMESPACE, "-o", "json")
        pods = kubectl("get", "pods", "-n", NAMESPACE, "-l", f"llmaz.io/model-name={model}", "-o", "json")
        if int(pg["spec"].get("replicas", 0)) == 0 and not pods["items"]:
            return
        time.sleep(5)
    raise SystemExit(f"{playground} did not reach zero in {timeout:.0f} s")


def send(url: str, served: str) -> dict[str, Any]:
    body = {"model": served, "stream": True, "max_tokens": 16,
            "messages": [{"role": "user", "content": "cold start timeline"}]}  # fmt: skip
    sent = datetime.now(UTC)
    first: datetime | None = None
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=600) as resp:
        for chunk in resp.iter_bytes():
            if chunk and first is None:
                first = datetime.now(UTC)
        status = resp.status_code
    return {"sent": sent, "first_byte": first, "done": datetime.now(UTC), "status": status}


def phases(client: dict[str, Any], playground: str, model: str, scaled_object: str) -> list[tuple[str, Any]]:
    sent = client["sent"]
    events = kubectl("get", "events", "-n", NAMESPACE, "-o", "json")["items"]
    scale_up = [
        stamp(e.get("lastTimestamp") or e.get("eventTime"))
        for e in events
        if e["involvedObject"].get("name") == playground and e.get("reason") == "ScaleUpSeen"
        and "(from_zero)" in e.get("message", "")
    ]  # fmt: skip
    pods = kubectl("get", "pods", "-n", NAMESPACE, "-l", f"llmaz.io/model-name={model}", "-o", "json")[
        "items"
    ]
    pod = min(pods, key=lambda p: p["metadata"]["creationTimestamp"])
    statuses = pod["status"]["containerStatuses"]
    started = [stamp(s["state"].get("running", {}).get("startedAt")) for s in statuses]
    from_zero = [t for t in scale_up if t and t >= sent.replace(microsecond=0)]
    return [
        ("request sent to the gateway (held by the interceptor from here)", sent),
        ("KEDA activation: the operator sets the Playground 0 -> 1", keda_activation(scaled_object, sent)),
        ("replicas 0 -> 1 seen on the Playground", max(from_zero, default=None)),
        ("pod created", stamp(pod["metadata"]["creationTimestamp"])),
        ("pod scheduled", condition(pod, "PodScheduled")),
        ("container started", min((t for t in started if t), default=None)),
        ("server listening (readiness probe passed)", condition(pod, "ContainersReady")),
        ("warmed (readiness gate opened)", condition(pod, GATE)),
        ("pod Ready (in the Service)", condition(pod, "Ready")),
        ("first byte at the client", client["first_byte"]),
        ("response complete at the client", client["done"]),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--playground", default="e2e-emu")
    ap.add_argument(
        "--model-label", default="e2e-llmaz-serverless-emu", help="llmaz.io/model-name of the pods"
    )
    ap.add_argument("--served-name", default="emu-chat")
    ap.add_argument("--scaled-object", default="e2e-emu")
    ap.add_argument("--gateway", default="e2e-llmaz-serverless-gateway")
    ap.add_argument("--wait-for-zero", type=float, default=900)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    wait_for_zero(a.playground, a.model_label, a.wait_for_zero)
    proc, url = port_forward(a.gateway, 80)
    try:
        client = send(url, a.served_name)
    finally:
        proc.terminate()
    time.sleep(5)  # let the last Events land
    rows = phases(client, a.playground, a.model_label, a.scaled_object)
    sent = client["sent"]
    table = [
        {"phase": name, "at": t.isoformat() if t else None,
         "seconds_after_sent": round((t - sent).total_seconds(), 2) if t else None}
        for name, t in rows
    ]  # fmt: skip
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"status": client["status"], "phases": table}, indent=2) + "\n")
    print(f"status {client['status']}")
    for row in table:
        seconds = row["seconds_after_sent"]
        print(f"{'-' if seconds is None else seconds:>8}  {row['phase']}")
    return 0 if client["status"] == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
