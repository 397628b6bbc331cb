"""structlog set-up: JSON lines in production, pretty output on a terminal."""

import logging
import sys
from typing import TextIO

import structlog


def configure_logging(log_format: str = "auto", level: str = "INFO", stream: TextIO = sys.stdout) -> None:
    """Configure once at start-up; `auto` means pretty on a terminal and JSON elsewhere.

    The worker logs to stdout; commands whose stdout is their output log to stderr.
    """
    pretty = log_format == "console" or (log_format == "auto" and stream.isatty())
    renderer = structlog.dev.ConsoleRenderer() if pretty else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=True,
    )
    # Faust, aiokafka and mode log through the standard library; keep them quieter than ours.
    logging.basicConfig(stream=stream, level=max(logging.getLevelName(level), logging.WARNING))
