"""Logging: structlog events as JSON (or plain lines in the console), with nothing personal.

Our own log calls pass only non-personal fields. Libraries may put Telegram ids or texts into
their messages and exceptions (aiogram's flood-control error names the chat), so every record
from outside `hotline.*` has digit runs and exception texts scrubbed before it is written.
"""

from __future__ import annotations

import logging
import re
import sys

import structlog

_LONG_DIGITS = re.compile(r"\d{5,}")


class Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("hotline"):
            return True
        if isinstance(record.args, tuple):
            # an exception passed as an argument ("%s: %s", type, exc) would print its text,
            # which may quote anything: only its type is kept
            record.args = tuple(
                type(a).__name__ if isinstance(a, BaseException) else a for a in record.args
            )
        message = record.getMessage()
        record.msg = _LONG_DIGITS.sub("<id>", message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.msg += f" ({record.exc_info[0].__name__})"
        record.exc_info = None
        record.exc_text = None
        return True


def configure(level: str = "INFO", *, json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(Redact())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
