import json

from llmaz_serverless.gateway.errors import error_body, openai_error


def test_error_has_openai_shape_and_type_by_status():
    assert json.loads(error_body(404, "no such model", code="model_not_found", param="model")) == {
        "error": {
            "message": "no such model",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    assert json.loads(error_body(401, "x"))["error"]["type"] == "authentication_error"
    assert json.loads(error_body(503, "x"))["error"]["type"] == "server_error"


def test_response_keeps_status_and_extra_headers():
    resp = openai_error(503, "later", headers={"Retry-After": "30"})
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "30"
    assert resp.content_type == "application/json"
