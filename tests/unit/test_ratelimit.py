"""Per-caller rate limit: a flood from one id gets one notice per window and nothing more; a flood
from very many ids keeps the limiter's memory bounded and real callers are still answered."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import fakeredis
import pytest
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import TelegramObject, Update

from bot.app import App, build_app
from bot.i18n import Translator
from bot.middlewares.errors import StoreDown
from bot.middlewares.ratelimit import WINDOW, CallerRateLimit
from bot.offline.client import Account, Telegram, private_chat
from bot.offline.session import RecordingSession
from bot.settings import Settings
from flows.store import StoreUnavailable

T = Translator()
PER_MINUTE = 20


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def app() -> AsyncIterator[tuple[App, RecordingSession, Clock]]:
    clock = Clock()
    session = RecordingSession()
    app = build_app(
        Settings(rate_limit_per_minute=PER_MINUTE, operator_chat_id=-1001000000555),
        session=session,
        redis=fakeredis.FakeAsyncRedis(),
        clock=clock,
        throttle=False,
        translator=T,
    )
    yield app, session, clock
    await app.drain()


def caller(user_id: int, lang: str = "ru", *, first_update_id: int = 1) -> Account:
    """An account whose updates are numbered from `first_update_id`."""
    telegram = Telegram(update_ids=itertools.count(first_update_id))
    return Account(telegram, *private_chat(user_id, lang))


def limiter_of(app: App) -> CallerRateLimit:
    found = [m for m in app.dispatcher.message.outer_middleware if isinstance(m, CallerRateLimit)]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("lang", ["ru", "uk"])
async def test_a_flood_from_one_id_gets_one_notice_per_window(
    app: tuple[App, RecordingSession, Clock], lang: str
) -> None:
    bot_app, session, clock = app
    user = 100_000_777
    notice = T.text(lang, "rate-limited")
    him = caller(user, lang)

    async def flood(count: int) -> list[SendMessage]:
        mark = len(session.sent)
        for _ in range(count):
            await bot_app.dispatcher.feed_update(bot_app.bot, him.command("help"))
        await bot_app.drain()
        return [s.method for s in session.sent[mark:] if isinstance(s.method, SendMessage)]

    sent = await flood(60)
    notices = [m for m in sent if m.text == notice]
    assert len(notices) == 1
    assert notices[0].chat_id == user
    assert notices[0].protect_content is True
    answered = [m for m in sent if m.text == T.text(lang, "help")]
    assert len(answered) == PER_MINUTE  # the first 20 were handled, the other 40 dropped
    assert limiter_of(bot_app).dropped == 40

    clock.now += WINDOW / 2  # same window: still silent
    assert [m for m in await flood(10) if m.text == notice] == []

    clock.now += WINDOW  # a new window: served again, and at most one more notice
    sent = await flood(30)
    assert len([m for m in sent if m.text == notice]) == 1
    assert len([m for m in sent if m.text == T.text(lang, "help")]) == PER_MINUTE


async def test_a_limited_button_press_is_still_answered(
    app: tuple[App, RecordingSession, Clock],
) -> None:
    bot_app, session, _ = app
    user = 100_000_888
    limiter = limiter_of(bot_app)
    for i in range(PER_MINUTE):
        assert await limiter.check(user, 10 + i) == (True, False)
    him = caller(user, "uk", first_update_id=100)
    presses = [him.press("b:menu:menu-premob", 5, query_id=f"q{i}") for i in range(3)]
    for update in presses:
        await bot_app.dispatcher.feed_update(bot_app.bot, update)
    answers = [s.method for s in session.sent if isinstance(s.method, AnswerCallbackQuery)]
    # every press stops its spinner; only the first tells him why, as an alert
    assert [(a.callback_query_id, a.text, a.show_alert) for a in answers] == [
        ("q0", T.text("uk", "rate-limited"), True),
        ("q1", None, None),
        ("q2", None, None),
    ]
    assert not [s for s in session.sent if s.name == "SendMessage"]


async def test_a_flood_from_100000_ids_keeps_memory_bounded_and_real_callers_answered() -> None:
    clock = Clock()
    limiter = CallerRateLimit(T, per_minute=PER_MINUTE, clock=clock, max_tracked=5_000)
    handled: list[int] = []
    real = 100_000_999

    async def handler(event: TelegramObject, data: dict[str, Any]) -> None:
        handled.append(data["event_from_user"].id)

    def data_of(user_id: int) -> dict[str, Any]:
        # what aiogram's UserContextMiddleware puts in `data`, without pydantic's cost
        return {
            "event_chat": SimpleNamespace(id=user_id, type="private"),
            "event_from_user": SimpleNamespace(id=user_id, is_bot=False, language_code="ru"),
        }

    event = Update.model_construct(update_id=0)
    biggest = 0
    for i in range(100_000):
        await limiter(handler, event, data_of(5_000_000 + i))
        if i % 5_000 == 0:
            await limiter(handler, event, data_of(real))  # a real caller in between
            clock.now += 16  # four messages a minute from him
        biggest = max(biggest, len(limiter))
    assert biggest <= 5_000
    assert handled.count(real) == 20  # every one of his answered
    assert len(handled) == 100_020  # each flooding id sent once: within its limit


async def test_a_flood_of_ids_through_the_dispatcher_leaves_a_real_caller_answered(
    app: tuple[App, RecordingSession, Clock],
) -> None:
    bot_app, session, clock = app
    limiter = limiter_of(bot_app)
    limiter.max_tracked = 100
    real = 100_001_000
    answers = 0
    him = caller(real, first_update_id=10_000)
    for i in range(300):
        flood = caller(7_000_000 + i, first_update_id=i).command("start")
        await bot_app.dispatcher.feed_update(bot_app.bot, flood)
        assert len(limiter) <= 100
        if i % 50 == 0:
            mark = len(session.sent)
            await bot_app.dispatcher.feed_update(bot_app.bot, him.command("help"))
            await bot_app.drain()
            texts = [
                s.method.text
                for s in session.sent[mark:]
                if isinstance(s.method, SendMessage) and s.method.chat_id == real
            ]
            assert texts[0] == T.text("ru", "help")
            answers += 1
            clock.now += 20
    assert answers == 6
    await bot_app.drain()
    assert bot_app.pipeline.in_flight == 0  # no lock left behind per id


async def test_a_flood_of_ids_keeps_no_per_id_state_in_aiogram(
    app: tuple[App, RecordingSession, Clock],
) -> None:
    bot_app, _, _ = app
    for i in range(500):
        flood = caller(8_000_000 + i, first_update_id=i).command("start")
        await bot_app.dispatcher.feed_update(bot_app.bot, flood)
    await bot_app.drain()
    # conversations live in the store: aiogram's FSM storage would keep a record per id
    storage = bot_app.dispatcher.fsm.storage
    assert isinstance(storage, MemoryStorage)
    assert len(storage.storage) == 0


async def test_a_flood_of_ids_while_redis_is_down_keeps_the_notice_table_bounded() -> None:
    store_down = StoreDown(T, max_tracked=100)
    sent: list[int] = []

    class Bot:
        async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
            sent.append(chat_id)

    async def failing(event: Any, data: dict[str, Any]) -> None:
        raise StoreUnavailable("down")

    for i in range(1_000):
        him = caller(9_000_000 + i, first_update_id=i)
        data: dict[str, Any] = {"event_chat": him.chat, "event_from_user": him.user, "bot": Bot()}
        with pytest.raises(StoreUnavailable):  # told, and still not acknowledged
            await store_down(failing, him.command("start"), data)
        assert len(store_down) <= 100
    assert len(sent) == 1_000  # every caller was told, each once


async def test_redeliveries_and_retries_of_one_update_never_count_against_him(
    app: tuple[App, RecordingSession, Clock],
) -> None:
    """Redis down: polling asks for the stuck update again and again; Telegram redelivers a
    webhook update. None of that is the caller writing: his next real message is answered."""
    bot_app, session, _ = app
    user = 100_000_901
    limiter = limiter_of(bot_app)
    for _ in range(PER_MINUTE * 3):  # one update, tried 60 times
        assert await limiter.check(user, 500) == (True, False)
    update = caller(user, first_update_id=501).command("help")
    await bot_app.dispatcher.feed_update(bot_app.bot, update)
    await bot_app.deliverer.drain()
    texts = [s.method.text for s in session.sent if isinstance(s.method, SendMessage)]
    assert texts[0] == T.text("ru", "help")  # answered, not "too many messages"
    assert T.text("ru", "rate-limited") not in texts
    assert limiter.dropped == 0


async def test_processes_on_one_redis_share_the_callers_limit() -> None:
    """N processes must not allow N times the limit: the windows live in Redis."""
    redis = fakeredis.FakeAsyncRedis()
    clock = Clock()
    apps = [
        build_app(
            Settings(rate_limit_per_minute=PER_MINUTE, operator_chat_id=-1001000000555),
            session=RecordingSession(),
            redis=redis,
            clock=clock,
            throttle=False,
            translator=T,
        )
        for _ in range(2)
    ]
    # one id key for both (build_app made ephemeral ones): the same caller, the same window
    apps[1].store._ids = apps[0].store._ids
    limiters = [limiter_of(a) for a in apps]
    answers = [await limiters[n % 2].check(100_000_902, n) for n in range(PER_MINUTE * 2)]
    assert answers.count((True, False)) == PER_MINUTE
    assert answers[PER_MINUTE] == (False, True)  # the one notice, from whichever process
    assert answers.count((False, True)) == 1


async def test_forget_does_not_reset_a_floods_limit(
    app: tuple[App, RecordingSession, Clock],
) -> None:
    """/forget erases the conversation, not the count of what he sent this minute: a flooder
    cannot forget his way past the limit."""
    bot_app, session, _ = app
    him = caller(100_000_903)
    for _ in range(PER_MINUTE - 1):
        await bot_app.dispatcher.feed_update(bot_app.bot, him.command("help"))
    await bot_app.dispatcher.feed_update(bot_app.bot, him.command("forget"))
    await bot_app.drain()
    mark = len(session.sent)
    for _ in range(5):
        await bot_app.dispatcher.feed_update(bot_app.bot, him.command("help"))
    await bot_app.drain()
    texts = [s.method.text for s in session.sent[mark:] if isinstance(s.method, SendMessage)]
    assert texts == [T.text("ru", "rate-limited")]
    assert limiter_of(bot_app).dropped == 5


async def test_a_flood_of_edits_is_limited_like_his_messages(
    app: tuple[App, RecordingSession, Clock],
) -> None:
    """An edit is an update he sends too: counted in the same window, and over it refused with
    the same one notice (not an error that Telegram would deliver again and again)."""
    bot_app, session, _ = app
    him = caller(100_000_904)
    sent = him.text("Иванов")
    await bot_app.dispatcher.feed_update(bot_app.bot, sent)
    assert sent.message is not None
    for i in range(PER_MINUTE + 10):
        edit = him.edit(sent.message, text=f"Иванов {i}")
        await bot_app.dispatcher.feed_update(bot_app.bot, edit)
    await bot_app.drain()
    texts = [s.method.text for s in session.sent if isinstance(s.method, SendMessage)]
    assert texts.count(T.text("ru", "rate-limited")) == 1
    assert limiter_of(bot_app).dropped == 11  # his message and 19 edits within the 20
