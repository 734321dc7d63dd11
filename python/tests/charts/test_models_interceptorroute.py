"""InterceptorRoutes: routing rules, per-model timeouts, cold-start fallback and placeholder."""

from __future__ import annotations

import json

from helmrender import RELEASE, model, models_json, render


def _route(out, name: str) -> dict:
    return out.get("InterceptorRoute", f"{RELEASE}-{name}")["spec"]


def test_route_matches_its_own_host_and_the_gateway_header_when_nothing_is_configured() -> None:
    spec = _route(render("ci/01-single-model-values.yaml"), "tiny")
    assert spec["target"] == {"service": f"{RELEASE}-tiny-lb", "portName": "http"}
    assert spec["rules"] == [
        {
            "hosts": [f"{RELEASE}-tiny"],
            "headers": [{"name": "x-llmaz-serverless-route", "value": f"{RELEASE}-tiny"}],
        }
    ]
    assert spec["scalingMetric"] == {"concurrency": {"targetValue": 8}}


def test_timeouts_cover_the_cold_start_and_never_cut_a_stream_when_defaults_apply() -> None:
    spec = _route(render("ci/01-single-model-values.yaml"), "tiny")
    # readiness = the whole expected cold start (minutes), no total request deadline
    assert spec["timeouts"] == {"readiness": "10m", "responseHeader": "5m", "request": "0s"}


def test_timeouts_follow_the_model_when_it_sets_them() -> None:
    out = render(
        set_json=[
            models_json(model("m", timeouts={"coldStart": "14m", "responseHeader": "90s", "request": "2h"}))
        ]
    )
    assert _route(out, "m")["timeouts"] == {"readiness": "14m", "responseHeader": "90s", "request": "2h"}


def test_hosts_paths_and_header_value_come_from_the_model_when_set() -> None:
    route = {
        "hosts": ["a.example.com", "*.llm.example.com"],
        "pathPrefixes": ["/a/"],
        "header": {"name": "X-Model", "value": "a"},
    }
    spec = _route(render(set_json=[models_json(model("a", route=route))]), "a")
    assert spec["rules"] == [
        {
            "hosts": ["a.example.com", "*.llm.example.com"],
            "paths": [{"value": "/a/"}],
            "headers": [{"name": "X-Model", "value": "a"}],
        }
    ]


def test_no_header_rule_when_header_matching_is_disabled() -> None:
    spec = _route(render("ci/10-minimal-values.yaml"), "bare")
    assert spec["rules"] == [{"hosts": ["bare.models.example.com"]}]


def test_request_rate_joins_concurrency_when_enabled() -> None:
    rate = {"enabled": True, "targetValue": 3, "window": "2m", "granularity": "2s"}
    spec = _route(
        render(set_json=[models_json(model("m", scaling={"http": {"concurrency": 4, "requestRate": rate}}))]),
        "m",
    )
    assert spec["scalingMetric"] == {
        "concurrency": {"targetValue": 4},
        "requestRate": {"targetValue": 3, "window": "2m", "granularity": "2s"},
    }


def test_cold_requests_go_to_the_fallback_model_after_its_readiness_when_fallback_is_enabled() -> None:
    spec = _route(render("ci/07-fallback-model-values.yaml"), "big")
    assert spec["coldStart"] == {"fallback": {"service": {"name": f"{RELEASE}-small-lb", "portName": "http"}}}
    assert spec["timeouts"]["readiness"] == "20s"
    assert "coldStart" not in _route(render("ci/07-fallback-model-values.yaml"), "small")


def test_placeholder_is_an_openai_503_with_retry_after_when_enabled() -> None:
    spec = _route(render("ci/03-coldstart-placeholder-values.yaml"), "fast-fail")
    response = spec["coldStart"]["placeholder"]["response"]
    assert response["statusCode"] == 503
    assert response["headers"] == {"Content-Type": "application/json", "Retry-After": "20"}
    body = json.loads(response["body"])
    assert body["error"]["code"] == "model_cold_start"
    assert body["error"]["type"] == "server_error"
    assert "fast-fail" in body["error"]["message"] and "20 seconds" in body["error"]["message"]


def test_placeholder_body_is_the_users_when_given() -> None:
    placeholder = {"enabled": True, "statusCode": 429, "body": '{"error":{"message":"later"}}'}
    out = render(set_json=[models_json(model("m", coldStart={"placeholder": placeholder}))])
    response = _route(out, "m")["coldStart"]["placeholder"]["response"]
    assert (response["statusCode"], response["body"]) == (429, '{"error":{"message":"later"}}')


def test_no_legacy_objects_when_the_interceptorroute_api_is_used() -> None:
    out = render("ci/01-single-model-values.yaml")
    assert not out.kinds("HTTPScaledObject")
    assert out.names("InterceptorRoute") == [f"{RELEASE}-tiny"]
