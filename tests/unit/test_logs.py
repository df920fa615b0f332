"""The last line of defence for what libraries log: ids and exception texts are scrubbed."""

from __future__ import annotations

import asyncio
import io
import logging

from bot.logs import Redact

CHAT_ID = "100200300"
PHONE = "+79123456789"


def _written(logger_name: str, message: str, *args: object, exc: Exception | None = None) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(Redact())
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        if exc is None:
            logger.warning(message, *args)
        else:
            try:
                raise exc
            except Exception:
                logger.exception(message, *args)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return out.getvalue()


def test_a_library_record_loses_its_ids_and_its_exception_text() -> None:
    secret = f"Bad Request: chat {CHAT_ID} not found, phone {PHONE}"
    line = _written(
        "aiogram.event",
        "Update id=%s from %s failed",
        4242424242,
        CHAT_ID,
        exc=RuntimeError(secret),
    )
    assert CHAT_ID not in line
    assert "4242424242" not in line
    assert "9123456789" not in line
    assert "Bad Request" not in line  # the exception's text may quote anything
    assert "RuntimeError" in line  # its type still says what went wrong
    assert "<id>" in line


def test_short_numbers_in_a_library_record_stay_readable() -> None:
    line = _written("aiohttp.access", "GET /webhook %s in %s ms", 401, 12)
    assert "401" in line
    assert "12 ms" in line


def test_our_own_records_are_left_as_written() -> None:
    # they pass only non-personal fields by construction (the canary tests prove it)
    line = _written("hotline.store", "commit %s update=%d", "k3y", 1234567)
    assert "update=1234567" in line


def test_an_exception_passed_as_an_argument_keeps_only_its_type() -> None:
    # aiogram's webhook logs "Cause exception while process update id=%d by bot id=%d\n%s: %s"
    quoted = ValueError("bad input 'Петренко Петро canary'")
    line = _written("aiogram.event", "Cause exception\n%s: %s", "ValueError", quoted)
    assert "Петренко" not in line
    assert "canary" not in line
    assert "ValueError: ValueError" in line


def test_configured_logs_are_json_with_the_logger_name_library_records_included() -> None:
    import json
    import warnings

    import structlog

    from bot import logs

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    out = io.StringIO()
    try:
        logging.captureWarnings(False)  # as a fresh process starts: nothing captured yet
        logs.configure("DEBUG")
        handler = root.handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(out)
        assert logging.getLogger("transitions").getEffectiveLevel() == logging.WARNING
        logging.getLogger("transitions.core").info("Executed callback for %s", CHAT_ID)
        try:
            raise RuntimeError(f"Bad Request: chat {CHAT_ID} not found")
        except RuntimeError:
            logging.getLogger("aiogram.event").exception("Update id=%s failed", CHAT_ID)
        # what Python does with a warning nobody filters (pytest records them itself)
        warnings.showwarning("deprecated thing", DeprecationWarning, "lib.py", 1)
        structlog.get_logger("hotline.test").info("ours", update=7)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        logging.captureWarnings(False)
        structlog.reset_defaults()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == ["aiogram.event", "py.warnings", "hotline.test"]
    assert all({"event", "level", "timestamp"} <= line.keys() for line in lines)
    failed = lines[0]
    assert failed["level"] == "error"
    assert CHAT_ID not in json.dumps(failed)
    assert "Bad Request" not in json.dumps(failed)
    assert "RuntimeError" in failed["event"]
    assert lines[2]["update"] == 7


def test_a_task_exception_never_retrieved_keeps_only_its_type() -> None:
    """asyncio reports a task that died unobserved with the task's repr, which quotes the
    exception's text: neither may reach the log."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(Redact())
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    logger.propagate = False
    loop = asyncio.new_event_loop()
    try:

        async def dies() -> None:
            raise ValueError(f"Иванов Пётр {PHONE}")

        task = loop.create_task(dies())
        loop.run_until_complete(asyncio.sleep(0))
        assert task.done()
        loop.default_exception_handler(
            {
                "message": "Task exception was never retrieved",
                "exception": task.exception(),
                "future": task,
            }
        )
    finally:
        loop.close()
        logger.removeHandler(handler)
        logger.propagate = True
    line = out.getvalue()
    assert "Task exception was never retrieved" in line
    assert "ValueError" in line
    assert "Иванов" not in line
    assert "9123456789" not in line
