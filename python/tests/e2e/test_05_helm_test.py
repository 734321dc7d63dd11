"""The chart's own `helm test` hooks pass against the installed release."""

from llmaz_serverless_testing.e2e.plan import NAMESPACE, RELEASE


def test_helm_test_passes(cluster):
    proc = cluster.call([cluster.helm, "test", RELEASE, "-n", NAMESPACE, "--logs", "--timeout", "5m"])
    assert proc.returncode == 0, f"helm test exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
