"""The baseline: the same registration as a plain aiogram 3 FSM bot, written as aiogram's docs
show it, with async filters only (aiogram runs a sync filter in a thread).

State and answers live in `RedisStorage` (state and data keys per chat, plain JSON), updates of
one chat are serialised by `RedisEventIsolation` (a Redis lock), one handler per state. It shows
the same texts and keyboards as the project (the project's packs and screen data), checks the
same answers with the same validators and makes the same Bot API calls per update
(bench/dialogue.py): the caller's personal answers deleted, the next screen sent, button spinners
stopped. It does less than the project in what a plain bot leaves out: nothing sealed, no dedupe
of redelivered updates, no outbox, no case indexes, no desk.
"""

from __future__ import annotations

import datetime
import html
import secrets
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
)
from redis.asyncio import BlockingConnectionPool, Redis

from bot.events import ButtonData, Labels
from bot.i18n import Translator
from bot.redis_url import POOL_SIZE, POOL_WAIT
from flows import fields
from flows import surrender as flow

TOKEN = "42:baseline-not-a-real-token"
TTL = datetime.timedelta(days=90)
MENU, DECLARATION, REVIEW, REGISTERED = "menu", "declaration", "review", "registered"
NOT_GIVEN = "not-given"


class Screens:
    """Texts and keyboards of the project's screens, built once."""

    def __init__(self, translator: Translator, lang: str = "ru") -> None:
        self.t = translator
        self.lang = lang

    def text(self, message_id: str, params: dict[str, Any] | None = None) -> str:
        return self.t.text(self.lang, message_id, params or {})

    def prompt(self, state: str, params: dict[str, Any] | None = None) -> str:
        body = self.text(flow.SCREENS[state].prompt, params)
        if state in flow.STEP_OF:
            k, n = flow.STEP_OF[state]
            body = self.text("step", {"k": k, "n": n}) + "\n" + body
        return body

    def keyboard(self, state: str) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
        screen = flow.SCREENS[state]
        if screen.inline:
            rows = [
                [
                    InlineKeyboardButton(
                        text=self.text(b.label),
                        callback_data=ButtonData(screen=state, button=b.id).pack(),
                    )
                ]
                for b in screen.buttons
            ]
            return InlineKeyboardMarkup(inline_keyboard=rows)
        if not screen.buttons:
            return None
        keys: list[KeyboardButton] = [
            KeyboardButton(
                text=self.text(b.label),
                request_contact=b.kind == "contact" or None,
                request_location=b.kind == "location" or None,
            )
            for b in screen.buttons
        ]
        pairs = [keys[i : i + 2] for i in range(0, len(keys), 2)]
        return ReplyKeyboardMarkup(keyboard=pairs, resize_keyboard=True, is_persistent=True)


def _review_params(data: dict[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for detail in flow.DETAILS:
        value = data.get(detail.name, NOT_GIVEN)
        if detail.name == "birth_date" and value != NOT_GIVEN:
            year, month, day = value.split("-")
            value = f"{day}.{month}.{year}"
        params[detail.name.replace("_", "-")] = html.escape(value)
    return params


def _next_detail(state: str) -> str:
    names = [d.state for d in flow.DETAILS]
    i = names.index(state)
    return names[i + 1] if i + 1 < len(names) else REVIEW


def build_router(translator: Translator) -> Router:
    screens = Screens(translator)
    labels = Labels(translator)

    async def show(
        message: Message, state_name: str, params: dict[str, Any] | None = None
    ) -> None:
        await message.answer(
            screens.prompt(state_name, params), reply_markup=screens.keyboard(state_name)
        )

    async def private(event: TelegramObject) -> bool:
        chat = event.chat if isinstance(event, Message) else None
        if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
            chat = event.message.chat
        return chat is not None and chat.type == "private"

    async def on_start(message: Message, state: FSMContext) -> None:
        await state.set_state(MENU)
        await message.answer(screens.text("greeting"), reply_markup=ReplyKeyboardRemove())
        await show(message, MENU)

    async def on_status(message: Message, state: FSMContext, raw_state: str | None) -> None:
        phase = "registered" if raw_state == REGISTERED else "form"
        await message.answer(screens.text("status", {"phase": phase}))  # never the code

    async def on_menu(message: Message, state: FSMContext) -> None:
        if labels.button_for(message.text or "") != "menu-surrender":
            await message.answer(screens.text("use-buttons"))
            return
        await state.set_state(DECLARATION)
        await show(message, DECLARATION)

    async def on_declaration(message: Message, state: FSMContext) -> None:
        if not fields.is_declaration(message.text or ""):
            await message.answer(screens.text("declaration-hint"))
            return
        first = flow.DETAILS[0].state
        await state.set_state(first)
        await show(message, first)

    async def on_detail(
        message: Message, bot: Bot, state: FSMContext, raw_state: str | None
    ) -> None:
        detail = flow.DETAIL_BY_STATE[raw_state or ""]
        text = message.text or ""
        button = labels.button_for(text)
        if button is not None and button in detail.choices:
            value = button
        elif detail.validate is not None:
            outcome = detail.validate(text, datetime.date.today())
            if isinstance(outcome, fields.Rejected):
                await message.answer(screens.text(outcome.message_id, dict(outcome.params)))
                return
            value = outcome.value
        else:
            await message.answer(screens.text("use-buttons"))
            return
        data = await state.get_data()
        data[detail.name] = value
        after = REVIEW if data.pop("editing", None) else _next_detail(detail.state)
        await state.set_data(data)
        await state.set_state(after)
        await bot.delete_messages(message.chat.id, [message.message_id])
        await show(message, after, _review_params(data) if after == REVIEW else None)

    async def on_review(callback: CallbackQuery, bot: Bot, state: FSMContext) -> None:
        message = callback.message
        assert isinstance(message, Message)  # the private filter let only shown messages in
        button = ButtonData.unpack(callback.data or "").button
        await callback.answer()
        # the review with his details leaves the chat once he moves on (as the project does)
        await bot.delete_messages(message.chat.id, [message.message_id])
        if button == "confirm":
            code = fields.new_case_code()
            await state.update_data(case_code=code, case_id=secrets.token_hex(6))
            await state.set_state(REGISTERED)
            await show(message, REGISTERED)
            await message.answer(screens.text("code-once", {"code": code}))  # shown once
            return
        target = f"details_{button.removeprefix('edit-').replace('-', '_')}"
        await state.update_data(editing=True)
        await state.set_state(target)
        await show(message, target)

    router = Router(name="baseline")
    for observer in (router.message, router.callback_query):
        observer.filter(private)
    router.message.register(on_start, CommandStart())
    router.message.register(on_status, Command("status"))
    router.message.register(on_menu, StateFilter(MENU))
    router.message.register(on_declaration, StateFilter(DECLARATION))
    router.message.register(on_detail, StateFilter(*flow.DETAIL_BY_STATE))
    router.callback_query.register(on_review, StateFilter(REVIEW))
    return router


def build_baseline(
    redis_url: str | None, session: Any, translator: Translator
) -> tuple[Bot, Dispatcher]:
    """The baseline on `redis_url`; without one, the same bot on aiogram's MemoryStorage (no
    Redis at all: what aiogram and this dialogue cost alone, a ceiling for any bot of them)."""
    if redis_url is None:
        dispatcher = Dispatcher(storage=MemoryStorage())
    else:
        # the project's pool (bot/redis_url.py): aiogram's default one fails an update at once
        # when every connection is in use, which a burst polled as tasks reaches at once
        pool = BlockingConnectionPool.from_url(
            redis_url, max_connections=POOL_SIZE, timeout=POOL_WAIT
        )
        storage = RedisStorage(Redis.from_pool(pool), state_ttl=TTL, data_ttl=TTL)
        isolation = RedisEventIsolation(storage.redis)
        dispatcher = Dispatcher(storage=storage, events_isolation=isolation)
    dispatcher.include_router(build_router(translator))
    bot = Bot(
        TOKEN,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, protect_content=True),
    )
    return bot, dispatcher
