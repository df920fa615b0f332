"""What aiogram hands each update middleware: the rest of the chain and the handler data; and
each request middleware of the bot's session (bot.throttle, bot.metrics): the rest of its chain
and the method, for the method's response."""

from typing import Any, TypeVar

from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.dispatcher.event.bases import NextMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.types import TelegramObject

Next = NextMiddlewareType[TelegramObject]
Data = dict[str, Any]

R = TypeVar("R")  # what a request's method returns
NextRequest = NextRequestMiddlewareType
Method = TelegramMethod
