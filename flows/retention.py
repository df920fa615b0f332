"""How long each kind of key of a conversation lives without contact."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

__all__ = ["DAY", "DEFAULT_RETENTION", "Retention"]

DAY: Final = 86400.0


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each kind of key lives without contact, in seconds."""

    form: float = 7 * DAY  # an unfinished dialogue (no case)
    registered: float = 90 * DAY  # a conversation with a case
    dedupe: float = 2 * DAY  # processed update_ids are remembered at least this long
    outbox: float = 2 * DAY
    chat_messages: float = 2 * DAY  # Telegram lets bots delete messages for 48 h

    def __post_init__(self) -> None:
        for name in ("form", "registered", "dedupe", "outbox", "chat_messages"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"retention {name} must be a positive number of seconds")
        if self.dedupe < DAY:
            raise ValueError("retention dedupe must be at least 24 h (Telegram redelivers)")


DEFAULT_RETENTION: Final = Retention()
