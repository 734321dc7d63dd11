import io
import json
import logging

import pytest

from llmaz_serverless.gateway.logs import (
    QUEUE_RECORDS,
    BatchedWriter,
    JsonFormatter,
    setup_logging,
    stop_logging,
)


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
    assert isinstance(logging.getLogger().handlers[0], BatchedWriter)
    log = logging.getLogger("llmaz_serverless.gateway.access")
    log.info("request %s", "ok", extra={"request_id": "r1", "status": 200})
    log.debug("not at info level")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed %d", 7)
    stop_logging()  # writes out what is queued, as at exit
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert [x["msg"] for x in lines] == ["request ok", "failed 7"]
    assert (lines[0]["request_id"], lines[0]["status"], lines[0]["level"]) == ("r1", 200, "info")
    assert "RuntimeError: boom" in lines[1]["exc"]


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _record(msg: str) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "t", "levelno": logging.INFO, "levelname": "INFO", "msg": msg})


def test_lines_logged_within_the_flush_window_go_out_in_one_write():
    stream = CountingStream()
    writer = BatchedWriter(stream, flush_seconds=0.5)
    for i in range(50):
        writer.handle(_record(f"line {i}"))
    writer.close()
    assert [json.loads(x)["msg"] for x in stream.getvalue().splitlines()] == [f"line {i}" for i in range(50)]
    assert stream.writes == 1


def test_full_queue_drops_lines_without_blocking_and_says_how_many():
    writer = BatchedWriter(io.StringIO())
    writer.close()  # no writer thread: nothing drains the queue, as when stderr is not read
    for i in range(QUEUE_RECORDS + 5):
        writer.handle(_record(f"line {i}"))
    assert writer.dropped == 5
    assert len(writer.lines) == QUEUE_RECORDS
    del writer.lines[:2]  # room for the note and one more line
    writer.handle(_record("after"))
    assert json.loads(writer.lines[-2])["msg"].startswith("dropped 5 log records")
    assert json.loads(writer.lines[-1])["msg"] == "after"
    assert writer.dropped == 0
