"""A record that does not open (tampered, or sealed under a key that was retired too early): the
caller hears the same "try again shortly" as when Redis is down, and the desk is alerted, instead
of silence. And the operators' pseudonyms are read before any update can need them.

The update is acknowledged: asking Telegram for it again cannot open the record; the caller was
told, and an operator who restores the key (or erases the case) makes his next message work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog
from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.types import TelegramObject

from bot.desk.operators import OperatorList
from bot.i18n import Translator
from bot.middlewares.chain import Data, Next
from bot.middlewares.errors import tell_try_again
from flows.codec import CodecError
from flows.sealing import SealError

log = structlog.get_logger("hotline.damaged")

ALERT_EVERY = 60.0  # seconds: one desk alert a minute, not one per message of a flood


class DeskAlerts(Protocol):
    def t(self, message_id: str, **params: str | int) -> str: ...

    async def announce(self, text: str) -> None: ...


class Damaged(BaseMiddleware):
    def __init__(
        self,
        translator: Translator,
        desk: DeskAlerts,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.translator = translator
        self.desk = desk
        self.clock = clock
        self._alerted = -ALERT_EVERY

    async def __call__(self, handler: Next, event: TelegramObject, data: Data) -> Any:
        try:
            return await handler(event, data)
        except (SealError, CodecError) as exc:
            reason = exc.reason if isinstance(exc, SealError) else "codec"
            log.error("a stored record does not open", reason=reason)
            await tell_try_again(self.translator, event, data)
            await self._alert_desk(reason)
            return None

    async def _alert_desk(self, reason: str) -> None:
        now = self.clock()
        if now - self._alerted < ALERT_EVERY:
            return
        self._alerted = now
        try:
            await self.desk.announce(self.desk.t("desk-record-damaged", reason=reason))
        except TelegramAPIError as exc:
            log.error("could not alert the desk", error=type(exc).__name__)


class OperatorsReady(BaseMiddleware):
    """The operators' salt is read (once) before the first update is handled."""

    def __init__(self, operators: OperatorList) -> None:
        self.operators = operators

    async def __call__(self, handler: Next, event: TelegramObject, data: Data) -> Any:
        await self.operators.ready()
        return await handler(event, data)
