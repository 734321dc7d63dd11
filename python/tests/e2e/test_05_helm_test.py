"""The chart's own `helm test` hooks pass against the installed release."""

from llmaz_serverless.e2e.plan import NAMESPACE, RELEASE


def test_helm_test_passes(cluster):
    out = cluster.run([cluster.helm, "test", RELEASE, "-n", NAMESPACE, "--logs", "--timeout", "5m"])
    assert "Phase:" in out and "Failed" not in out
