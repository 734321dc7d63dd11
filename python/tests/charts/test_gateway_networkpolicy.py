"""The gateway NetworkPolicy's KEDA peer: the add-on's namespace however the values name it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helmrender import (
    NAMESPACE,
    RELEASE,
    STACK,
    helm,
    load_script,
    model,
    models_json,
    parse_documents,
    render,
)

NAME = f"{RELEASE}-llmaz-serverless-gateway"
# A prewarm rule makes KEDA's operator a client of the gateway (GET /v1/prewarm/<model>).
PREWARM_RULE = json.dumps(
    [
        {
            "name": "r",
            "pattern": {"type": ["com.example.r"]},
            "actions": [{"prewarm": {"models": ["m"], "window": "5m"}}],
        }
    ]
)
POLICY_SETS = ["gateway.networkPolicy.enabled=true"]
POLICY_JSON = [
    'gateway.networkPolicy.ingressFrom=[{"podSelector":{"matchLabels":{"role":"client"}}}]',
    models_json(model("m")),
    f"eventRules={PREWARM_RULE}",
]


def _keda_namespaces(policy: dict[str, Any]) -> list[str]:
    (rule,) = policy["spec"]["ingress"]
    return [
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for peer in rule.get("from", [])
        if "namespaceSelector" in peer
    ]


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        pytest.param(["httpAddon.namespace=infra"], "infra", id="set"),
        pytest.param(["httpAddon.namespace="], NAMESPACE, id="empty-means-release-namespace"),
        pytest.param(["httpAddon.namespace=null"], NAMESPACE, id="unset-means-release-namespace"),
        pytest.param([], "keda", id="chart-default"),
    ],
)
def test_keda_peer_is_the_addon_namespace_when_a_prewarm_rule_needs_it(
    sets: list[str], expected: str
) -> None:
    out = render(sets=[*POLICY_SETS, *sets], set_json=POLICY_JSON)
    policy = out.get("NetworkPolicy", NAME)
    assert _keda_namespaces(policy) == [expected]
    # the same helper names the namespace in the interceptor URL the gateway proxies to
    assert out.runtime()["models"][0]["upstream"].startswith(
        f"http://keda-add-ons-http-interceptor-proxy.{expected}."
    )


def test_no_keda_peer_when_no_prewarm_rule_asks_for_it() -> None:
    out = render(sets=POLICY_SETS, set_json=POLICY_JSON[:2])
    policy = out.get("NetworkPolicy", NAME)
    assert _keda_namespaces(policy) == []
    assert policy["spec"]["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {"role": "client"}}}]


def test_keda_peer_is_the_stack_namespace_when_rendered_by_the_stack_chart(tmp_path: Path) -> None:
    values = {
        "keda": {"enabled": False},
        "keda-add-ons-http": {"enabled": False},
        "llmaz": {"enabled": False},
        "llmaz-serverless": {
            "models": [model("m")],
            "eventRules": json.loads(PREWARM_RULE),
            "gateway": {
                "networkPolicy": {"enabled": True, "ingressFrom": [{"podSelector": {}}]},
            },
        },
    }
    path = tmp_path / "values.yaml"
    path.write_text(json.dumps(values), encoding="utf-8")
    lint_charts = load_script("lint_charts")
    with lint_charts.assembled(STACK, log=False) as chart:
        proc = subprocess.run(
            [helm(), "template", "stack", str(chart), "--namespace", "platform", "-f", str(path)],
            capture_output=True,
            text=True,
        )
    assert proc.returncode == 0, proc.stderr
    (policy,) = [d for d in parse_documents(proc.stdout) if d["kind"] == "NetworkPolicy"]
    assert _keda_namespaces(policy) == ["platform"]
