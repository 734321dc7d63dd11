import json
import logging
import logging.handlers

import pytest

from llmaz_serverless.gateway.logs import QUEUE_RECORDS, JsonFormatter, setup_logging, stop_logging


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


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    stop_logging()
    root.handlers[:], level = saved
    root.setLevel(level)


def test_lines_written_by_the_writer_thread_with_extras_and_traceback(capsys, restore_logging):
    setup_logging("info")
    assert isinstance(logging.getLogger().handlers[0], logging.handlers.QueueHandler)
    log = logging.getLogger("llmaz_serverless.gateway.access")
    log.info("request %s", "ok", extra={"request_id": "r1", "status": 200})
    log.debug("not at info level")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed %d", 7)
    stop_logging()  # drains the queue, as at exit
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert [x["msg"] for x in lines] == ["request ok", "failed 7"]
    assert (lines[0]["request_id"], lines[0]["status"], lines[0]["level"]) == ("r1", 200, "info")
    assert "RuntimeError: boom" in lines[1]["exc"]


def test_full_queue_drops_records_without_blocking_and_says_how_many(capsys, restore_logging):
    setup_logging("info")
    handler = logging.getLogger().handlers[0]
    stop_logging()  # no writer: nothing drains the queue
    log = logging.getLogger("t")
    for i in range(QUEUE_RECORDS + 5):
        log.info("line %d", i)
    assert handler.dropped == 5
    handler.queue.get_nowait()  # room for the note and one more record
    handler.queue.get_nowait()
    log.info("after")
    queued = [handler.queue.get_nowait() for _ in range(handler.queue.qsize())]
    assert queued[-2].getMessage().startswith("dropped 5 log records")
    assert queued[-1].getMessage() == "after"
    assert handler.dropped == 0
