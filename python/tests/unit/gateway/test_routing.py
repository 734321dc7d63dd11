import pytest

from llmaz_serverless.config import RuntimeConfig
from llmaz_serverless.gateway.routing import ModelRoutes


def _runtime(*models: dict) -> RuntimeConfig:
    return RuntimeConfig.model_validate({"models": list(models)})


def test_route_carries_host_headers_prefix_and_budget():
    routes = ModelRoutes(
        _runtime(
            {
                "name": "llama",
                "playground": "llama",
                "upstream": "http://interceptor:8080/",
                "host": "llama.models.local",
                "headers": {"X-Model": "llama"},
                "pathPrefix": "/llama",
                "timeouts": {"coldStart": "5m", "responseHeader": "30s"},
            }
        )
    )
    route = routes.get("llama")
    assert route is not None
    assert route.url("/v1/completions") == "http://interceptor:8080/llama/v1/completions"
    assert route.headers == {"X-Model": "llama", "Host": "llama.models.local"}
    assert route.header_budget == 330.0
    assert routes.by_prefix("/llama") is route
    assert routes.get("other") is None


def test_rejects_duplicate_names():
    m = {"name": "a", "playground": "a", "upstream": "http://x"}
    with pytest.raises(ValueError, match="'a' appears twice"):
        ModelRoutes(_runtime(m, m))


def test_rejects_failover_to_unknown_or_self():
    a = {"name": "a", "playground": "a", "upstream": "http://x", "failover": "zzz"}
    with pytest.raises(ValueError, match=r"models\[a\].failover: 'zzz'"):
        ModelRoutes(_runtime(a))
    with pytest.raises(ValueError, match="failover"):
        ModelRoutes(_runtime({**a, "failover": "a"}))


def test_rejects_shared_or_relative_path_prefix():
    a = {"name": "a", "playground": "a", "upstream": "http://x", "pathPrefix": "/p"}
    b = {"name": "b", "playground": "b", "upstream": "http://x", "pathPrefix": "/p"}
    with pytest.raises(ValueError, match="also used by model 'a'"):
        ModelRoutes(_runtime(a, b))
    with pytest.raises(ValueError, match="must start with '/'"):
        ModelRoutes(_runtime({**a, "pathPrefix": "p"}))
