"""Logging: every line JSON (or plain in the console), ours and the libraries', nothing personal.

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
        if isinstance(record.msg, dict):  # a structlog event: its fields, not a format string
            record.msg = {
                key: _LONG_DIGITS.sub("<id>", value)
                if isinstance(value, str) and key != "timestamp"
                else value
                for key, value in record.msg.items()
            }
            return True
        if isinstance(record.args, tuple):
            # an exception passed as an argument ("%s: %s", type, exc) would print its text,
            # which may quote anything: only its type is kept
            record.args = tuple(
                type(a).__name__ if isinstance(a, BaseException) else a for a in record.args
            )
        message = record.getMessage()
        if record.name == "asyncio":
            # its lines after the first are reprs of the task or future, and a task's repr
            # quotes the text of the exception it died of: only the first line is its own
            message = message.partition("\n")[0]
        record.msg = _LONG_DIGITS.sub("<id>", message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.msg += f" ({record.exc_info[0].__name__})"
        record.exc_info = None
        record.exc_text = None
        return True


def formatter(*, json: bool = True) -> logging.Formatter:
    """One line per record, ours and every library's alike: JSON with the time, the level and
    the logger's name (or a plain line in the console). Non-ASCII stays as it is, so a grep
    for a name in Cyrillic finds it."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


_SHARED: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.format_exc_info,
]


def configure(level: str = "INFO", *, json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(Redact())
    handler.setFormatter(formatter(json=json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # every event of every conversation's machine at INFO: noise, and no use to a deployer
    logging.getLogger("transitions").setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)  # a library's warning is a JSON line too, not bare stderr
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
