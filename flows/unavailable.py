"""Redis being unreachable, as the store reports it, and the small reply helpers of the store's
modules (store, outbox, locks)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Final

import redis.exceptions

__all__ = ["UNAVAILABLE", "StoreUnavailable", "milliseconds", "text", "unavailable"]


class StoreUnavailable(RuntimeError):
    """Redis cannot be reached or refuses writes; nothing was half-applied. Try again later."""


UNAVAILABLE: Final = (
    redis.exceptions.ConnectionError,  # includes BusyLoadingError
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.MasterDownError,
    redis.exceptions.OutOfMemoryError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,
    ConnectionError,
    TimeoutError,
)


@contextlib.contextmanager
def unavailable() -> Iterator[None]:
    """Turn Redis being down into StoreUnavailable; the message names only the error type."""
    try:
        yield
    except UNAVAILABLE as exc:
        raise StoreUnavailable(f"conversation store unavailable ({type(exc).__name__})") from None


def text(value: Any) -> str | None:
    """A reply as str, whether the client decodes responses or not."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))
