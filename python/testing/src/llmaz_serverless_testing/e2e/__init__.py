"""The `make e2e` harness: a kind cluster with KEDA, the HTTP add-on, llmaz and
Prometheus, our images and the stack chart, plus readers and waits the e2e tests use.

Everything here that does not need a cluster (prerequisite checks, the install
plan, values files, waits) is exercised by the unit tests on every machine.
"""
