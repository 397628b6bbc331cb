"""Off a terminal every line the worker writes is JSON: ours and the Kafka libraries' alike."""

import io
import json
import logging

import structlog

from router.logs import configure_logging


def test_library_records_and_ours_come_out_as_json_lines():
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    try:
        structlog.get_logger("router.worker").info("batch.delivered", records=3)
        logging.getLogger("aiokafka.consumer").warning("Heartbeat failed for group %s", "g1")
        logging.getLogger("mode.worker").info("too chatty: libraries log warnings and worse only")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("router.worker.loop").exception("Crashed")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["batch.delivered", "Heartbeat failed for group g1", "Crashed"]
    assert lines[1]["logger"] == "aiokafka.consumer" and lines[1]["level"] == "warning"
    assert "RuntimeError: boom" in lines[2]["exception"]


class _Writes(io.StringIO):
    """A stream that remembers each write: processes sharing stdout unbuffered interleave between writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_each_line_is_written_whole_in_one_write():
    stream = _Writes()
    configure_logging("json", "INFO", stream)
    try:
        structlog.get_logger("router.worker").warning("mention.dead_lettered", reason="invalid JSON: x" * 100)
        logging.getLogger("aiokafka.consumer").warning("Heartbeat failed")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert len(stream.writes) == 2
    assert all(write.endswith("\n") and write.count("\n") == 1 for write in stream.writes)
