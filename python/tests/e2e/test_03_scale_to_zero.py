"""After idle the model returns to zero within cooldown + polling tolerance."""

from llmaz_serverless_testing.e2e.names import subchart_values
from llmaz_serverless_testing.e2e.wait import wait_until


def test_model_returns_to_zero_after_idle(cluster, names, profile):
    model = names.models[0]
    scaling = subchart_values(profile)["models"][0]["scaling"]
    # cooldown + HPA scale-down stabilisation + two polling intervals + pod termination
    budget = (
        scaling["cooldownPeriod"]
        + scaling["behavior"]["scaleDown"]["stabilizationWindowSeconds"]
        + 2 * scaling["pollingInterval"]
        + 120
    )
    wait_until(
        lambda: cluster.playground_replicas(model.playground) == 0,
        what="the Playground to return to zero replicas",
        timeout=budget,
        interval=10,
    )
    wait_until(
        lambda: not cluster.get("pods", selector=f"llmaz.io/model-name={model.open_model}")["items"],
        what="the model pods to terminate",
        timeout=180,
        interval=5,
    )
