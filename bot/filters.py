"""Router filters that run on the event loop.

aiogram runs every sync filter, a magic filter (`F.chat.id == x`) included, in a worker thread
(`asyncio.to_thread`), once per router and update: a thread hop of tens to hundreds of µs for a
comparison. `Awaited(F....)` is the same check as a coroutine, which aiogram awaits in place.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter


class Awaited(Filter):
    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, obj: TelegramObject) -> Any:
        return self.magic.resolve(obj)

    def __str__(self) -> str:
        return f"Awaited({self.magic!r})"
