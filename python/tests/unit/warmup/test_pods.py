import datetime as dt

from llmaz_serverless.warmup import pods
from llmaz_serverless_testing.warmup import T0, make_pod


def test_leader_pod_maps_to_model_by_namespace_and_playground(config):
    model = pods.model_for_pod(config, make_pod())
    assert model is not None and model.name == "llama-3-8b"


def test_no_model_when_namespace_differs_or_label_missing(config):
    assert pods.model_for_pod(config, make_pod(namespace="other")) is None
    pod = make_pod()
    del pod["metadata"]["labels"][pods.LWS_NAME_LABEL]
    assert pods.model_for_pod(config, pod) is None


def test_worker_pod_is_not_leader():
    assert pods.is_leader(make_pod())
    assert not pods.is_leader(make_pod(worker_index="1"))


def test_gate_and_conditions_read_from_a_healthy_gated_pod():
    pod = make_pod("healthy")
    assert pods.has_gate(pod)
    assert pods.containers_ready(pod)
    assert not pods.condition_true(pod, "Ready")
    assert pods.condition(pod, "Ready")["reason"] == "ReadinessGatesNotReady"
    assert pods.pod_ip(pod) == "10.244.1.7"


def test_phase_times_come_from_status_timestamps():
    pod = make_pod("warmed", offsets=(2, 9, 41, 43))
    assert pods.created_at(pod) == T0
    assert pods.condition_time(pod, "PodScheduled") == T0 + dt.timedelta(seconds=2)
    assert pods.container_started_at(pod) == T0 + dt.timedelta(seconds=9)
    assert pods.condition_time(pod, "ContainersReady") == T0 + dt.timedelta(seconds=41)
    assert pods.condition_time(pod, pods.GATE_CONDITION) == T0 + dt.timedelta(seconds=43)


def test_condition_time_is_none_while_condition_false():
    assert pods.condition_time(make_pod("started"), "ContainersReady") is None
    assert pods.container_started_at(make_pod("scheduled")) is None


def test_parse_time_accepts_api_forms_and_rejects_garbage():
    assert pods.parse_time("2026-03-02T09:00:00Z") == T0
    assert pods.parse_time("2026-03-02T09:00:00.250000Z") == T0 + dt.timedelta(milliseconds=250)
    assert pods.parse_time("2026-03-02T10:00:00+01:00") == T0
    assert pods.parse_time("yesterday") is None
    assert pods.parse_time(None) is None


def test_terminating_when_deletion_timestamp_set():
    pod = make_pod()
    assert not pods.is_terminating(pod)
    pod["metadata"]["deletionTimestamp"] = "2026-03-02T09:05:00Z"
    assert pods.is_terminating(pod)
