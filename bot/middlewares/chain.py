"""What aiogram hands each update middleware: the rest of the chain and the handler data."""

from typing import Any

from aiogram.dispatcher.event.bases import NextMiddlewareType
from aiogram.types import TelegramObject

Next = NextMiddlewareType[TelegramObject]
Data = dict[str, Any]
