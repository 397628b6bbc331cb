"""structlog set-up: JSON lines in production, pretty output on a terminal, for our logs and the libraries' alike."""

import logging
import sys
from typing import TextIO

import structlog

# What every line carries, whether it came from structlog or from a library's standard-library logger.
_SHARED: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(log_format: str = "auto", level: str = "INFO", stream: TextIO = sys.stdout) -> None:
    """Configure once at start-up; `auto` means pretty on a terminal and JSON elsewhere.

    The worker logs to stdout; commands whose stdout is their output log to stderr. Faust, mode
    and aiokafka log through the standard library: a bridge renders their records like ours, so
    that the worker's stdout holds nothing but JSON lines when it is not on a terminal.
    """
    pretty = log_format == "console" or (log_format == "auto" and stream.isatty())
    renderer = structlog.dev.ConsoleRenderer() if pretty else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[*_SHARED, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.WriteLoggerFactory(file=stream),  # one write per line: processes share stdout
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Keep the libraries quieter than ours.
    root.setLevel(max(logging.getLevelName(level), logging.WARNING))
