import json
import logging

import pytest

from llmaz_serverless.gateway.logs import JsonFormatter, setup_logging


def test_json_line_has_standard_and_extra_fields():
    record = logging.makeLogRecord(
        {"name": "llmaz_serverless.gateway.access", "levelname": "INFO", "msg": "request %s", "args": ("ok",)}
    )
    record.request_id = "abc"
    record.status = 200
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "request ok"
    assert line["level"] == "info"
    assert (line["request_id"], line["status"]) == ("abc", 200)
    assert "args" not in line and "levelno" not in line


def test_unknown_level_rejected_naming_the_key():
    with pytest.raises(ValueError, match=r"gateway\.logLevel"):
        setup_logging("loud")
