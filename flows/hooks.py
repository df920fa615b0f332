"""Hand-off events and the one small interface their consumers implement.

A `HookEvent` says that something happened to a case: its kind, the case's pseudonymous id, when,
and for escalations their priority and reason. It never carries personal data (no Telegram id, no
name, no phone, no case code), so any consumer may keep it: the operator group (built in), an
HTTP webhook, a log. The flow's `CaseEvent` effects and the desk's own actions (a claim) become
hook events; `Hooks` hands each one to every configured consumer, and a failing consumer never
stops the others, nor the caller's flow.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

__all__ = [
    "KINDS",
    "PRIORITIES",
    "HookConsumer",
    "HookEvent",
    "Hooks",
    "LogConsumer",
]

log = logging.getLogger("hotline.hooks")

KINDS: Final = frozenset(
    {
        "registered",
        "escalated",
        "claimed",
        "recall",
        "meetup",
        "completed",
        "withdrawn",
        "erased",
    }
)
PRIORITIES: Final = ("normal", "high", "highest")
# A pseudonymous case id: a random token (hex) or a keyed hash (base32), never free text
_CASE: Final = re.compile(r"[0-9a-z]{6,64}")
_REASON: Final = re.compile(r"[a-z][a-z-]{0,31}")


@dataclass(frozen=True, slots=True)
class HookEvent:
    """Something happened to a case. `case` is its pseudonymous id (random, or a keyed hash),
    `at` a Unix time; `priority` and `reason` are set for escalations. `id` is unique per event:
    a consumer may receive an event twice (delivery is at least once) and drop the repeat."""

    kind: str
    case: str
    at: float
    priority: str | None = None
    reason: str | None = None
    id: str = field(default_factory=lambda: secrets.token_hex(8))

    def __post_init__(self) -> None:
        # What reaches a consumer is checked here, so nothing personal can slip into an event
        if self.kind not in KINDS:
            raise ValueError(f"unknown hook event kind {self.kind!r}")
        if not _CASE.fullmatch(self.case):
            raise ValueError("a hook event's case must be a pseudonymous id")
        if self.priority is not None and self.priority not in PRIORITIES:
            raise ValueError(f"unknown priority {self.priority!r}")
        if self.reason is not None and not _REASON.fullmatch(self.reason):
            raise ValueError("a hook event's reason is a short lowercase word")

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "kind": self.kind, "case": self.case}
        data["at"] = round(self.at, 3)
        if self.priority is not None:
            data["priority"] = self.priority
        if self.reason is not None:
            data["reason"] = self.reason
        return data


class HookConsumer(Protocol):
    """Takes hook events. `handle` should return quickly: slow work (a network call) belongs in
    the consumer's own queue, never on the caller's path."""

    async def handle(self, event: HookEvent) -> None: ...


class Hooks:
    """Fan-out to every consumer, in order; one consumer's failure is logged and skipped."""

    def __init__(self, consumers: Iterable[HookConsumer] = ()) -> None:
        self.consumers: list[HookConsumer] = list(consumers)

    async def emit(self, event: HookEvent) -> None:
        for consumer in self.consumers:
            try:
                await consumer.handle(event)
            except Exception as exc:
                # the type only: an exception's text may quote anything
                log.error(
                    "hook consumer %s failed on %s: %s",
                    type(consumer).__name__,
                    event.kind,
                    type(exc).__name__,
                )


class LogConsumer:
    """Writes each event as one log line (it holds nothing personal, by construction)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger or log

    async def handle(self, event: HookEvent) -> None:
        self.log.info(
            "hook %s case=%s priority=%s reason=%s",
            event.kind,
            event.case,
            event.priority or "-",
            event.reason or "-",
        )
