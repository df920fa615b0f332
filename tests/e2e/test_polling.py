"""Long polling over the real network code: `bot.polling.poll` with the app's own Bot and
AiohttpSession, against a local aiohttp server that plays the Bot API (getUpdates as Telegram
answers it: the unconfirmed updates from `offset` on; every `offset` is recorded).

An update is acknowledged (the offset moves past it) only once it was handled; one whose
handling failed is asked for again and then applied once; a poison update is dropped after
`ATTEMPTS` tries so the ones behind it are served; a stop finishes the update in hand and
acknowledges nothing after it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import fakeredis
import pytest
import redis.exceptions
from aiogram.utils.backoff import BackoffConfig
from aiohttp import web
from pydantic import SecretStr

from bot.app import App, build_app
from bot.offline import client as offline
from bot.polling import ATTEMPTS, poll
from bot.serve import serve
from bot.settings import Settings
from flows.dialogue import ConflictError
from tests.conftest import CollectLogs
from tests.e2e.conftest import T, screen, t

ALICE = 100_888_001
BOB = 100_888_002
DESK = -1001000000888
FAST = BackoffConfig(min_delay=0.01, max_delay=0.05, factor=2.0, jitter=0.0)
CANARY = "Петренко Петро canary 0671234567"  # what an exception's text could quote


def updates(*sent: tuple[int, str]) -> list[dict[str, Any]]:
    """What these (user, text) messages make getUpdates return, numbered from 1 as Telegram
    does (field names as in the API: "from", not from_user)."""
    numbering = offline.Telegram()
    accounts: dict[int, offline.Account] = {}
    made = []
    for user, text in sent:
        if user not in accounts:
            accounts[user] = offline.Account(numbering, *offline.private_chat(user, "uk"))
        made.append(offline.as_json(accounts[user].text(text)))
    return made


@dataclass
class Telegram:
    """The Bot API on loopback. getUpdates confirms every update below `offset` and returns
    up to `per_call` of the rest, holding the request open (up to its `timeout`) while there
    are none; any other method succeeds."""

    per_call: int = 100
    unconfirmed: list[dict[str, Any]] = field(default_factory=list)
    offsets: list[int | None] = field(default_factory=list)
    fail_fetches: int = 0  # answer this many getUpdates with a server error first
    sent: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = {k: str(v) for k, v in (await request.post()).items()}
        if method == "getUpdates":
            return await self.get_updates(form)
        self.sent.append((method, form))
        result: Any = True
        if method == "getMe":
            result = {"id": 4242, "is_bot": True, "first_name": "Hotline", "username": "hl_bot"}
        if method == "sendMessage":
            result = {
                "message_id": len(self.sent),
                "date": int(time.time()),
                "chat": {"id": int(form["chat_id"]), "type": "private"},
                "text": form["text"],
            }
        return web.json_response({"ok": True, "result": result})

    async def get_updates(self, form: dict[str, str]) -> web.Response:
        offset = int(form["offset"]) if "offset" in form else None
        self.offsets.append(offset)
        if self.fail_fetches:
            self.fail_fetches -= 1
            return web.json_response(
                {"ok": False, "error_code": 502, "description": "Bad Gateway"}, status=502
            )
        if offset is not None:
            self.unconfirmed = [u for u in self.unconfirmed if u["update_id"] >= offset]
        if not self.unconfirmed:  # a long poll: held open until its timeout (or the end)
            with suppress(TimeoutError):
                await asyncio.wait_for(self.closed.wait(), int(form.get("timeout", "0")))
        limit = min(self.per_call, int(form.get("limit", "100")))
        return web.json_response({"ok": True, "result": self.unconfirmed[:limit]})

    def texts_to(self, chat: int) -> list[str]:
        return [
            form["text"]
            for method, form in self.sent
            if method == "sendMessage" and form["chat_id"] == str(chat)
        ]


@pytest.fixture
async def telegram() -> AsyncIterator[Telegram]:
    server = Telegram()
    application = web.Application()
    application.router.add_post("/bot{token}/{method}", server.handle)
    runner = web.AppRunner(application)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    server.url = f"http://{host}:{port}"
    try:
        yield server
    finally:
        server.closed.set()  # ends a long poll still held open
        await runner.cleanup()


@pytest.fixture
async def app(telegram: Telegram) -> AsyncIterator[App]:
    settings = Settings(
        bot_token=SecretStr("123456:AAHlocal-polling-test"),
        telegram_api_url=telegram.url,
        operator_chat_id=DESK,
    )
    app = build_app(settings, redis=fakeredis.FakeAsyncRedis(), throttle=False, translator=T)
    try:
        yield app
    finally:
        await app.close()


@pytest.fixture
def commits(app: App, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The update id of every commit attempt, in order (a test may make some of them fail)."""
    store = app.store
    commit = store.commit
    attempts: list[int] = []

    async def recording(*args: Any, **kwargs: Any) -> Any:
        update_id = args[3]
        attempts.append(update_id)
        fail = getattr(store, "fail", None)
        if fail is not None:
            fail(update_id, attempts.count(update_id))
        return await commit(*args, **kwargs)

    monkeypatch.setattr(store, "commit", recording)
    return attempts


def fail_with(app: App, failure: Callable[[int, int], None]) -> None:
    """`failure(update_id, attempt)` runs before each commit; it may raise."""
    app.store.fail = failure  # type: ignore[attr-defined]


def start(app: App, stop: asyncio.Event, **options: Any) -> asyncio.Task[None]:
    return asyncio.create_task(
        poll(
            app.bot,
            app.dispatcher,
            stop,
            allowed_updates=app.dispatcher.resolve_used_update_types(),
            fetch_backoff=FAST,
            retry_backoff=FAST,
            **options,
        )
    )


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def stopped(stop: asyncio.Event, task: asyncio.Task[None], app: App) -> None:
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    await asyncio.wait_for(app.drain(), timeout=10)


async def _state(app: App, user: int) -> tuple[str, int]:
    loaded = await app.store.load(app.store.conversation_key(user), -1)
    return loaded.conversation.state, loaded.version


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_call", "offsets"), [(1, [None, 2, 3, 4]), (100, [None, 4])], ids=["one", "batch"]
)
async def test_updates_are_handled_in_order_and_acknowledged_one_past_each(
    telegram: Telegram, app: App, commits: list[int], per_call: int, offsets: list[int | None]
) -> None:
    telegram.per_call = per_call
    telegram.unconfirmed = updates(
        (ALICE, "/start"),
        (ALICE, t("uk", "btn-menu-surrender")),
        (ALICE, t("uk", "btn-declare")),
    )
    stop = asyncio.Event()
    task = start(app, stop)
    await until(lambda: telegram.offsets[-1:] == [4])
    await stopped(stop, task, app)

    assert telegram.offsets == offsets
    assert commits == [1, 2, 3]
    assert await _state(app, ALICE) == ("details_full_name", 3)  # only in this order
    assert telegram.texts_to(ALICE)[:2] == [t("uk", "greeting"), screen("uk", "menu")]


@pytest.mark.parametrize(
    ("failure", "notice"),
    [
        # the store down: StoreDown tells the caller, and the update fails all the same
        (redis.exceptions.ConnectionError("Connection refused"), True),
        (ConflictError("conversation changed concurrently too often"), False),
    ],
    ids=["redis-down", "conflict"],
)
async def test_an_update_whose_commit_failed_is_asked_for_again_and_applied_once(
    telegram: Telegram, app: App, commits: list[int], failure: Exception, notice: bool
) -> None:
    def once(update_id: int, attempt: int) -> None:
        if attempt == 1:
            raise failure

    fail_with(app, once)
    telegram.unconfirmed = updates((ALICE, "/start"))
    stop = asyncio.Event()
    task = start(app, stop)
    await until(lambda: telegram.offsets[-1:] == [2])
    await stopped(stop, task, app)

    assert telegram.offsets == [None, 1, 2]  # not past update 1 until it was handled
    assert commits == [1, 1]
    assert await _state(app, ALICE) == ("menu", 1)  # one state change
    told = [t("uk", "try-again-later")] if notice else []
    assert telegram.texts_to(ALICE) == [*told, t("uk", "greeting"), screen("uk", "menu")]


async def test_a_poison_update_is_dropped_after_its_attempts_and_later_ones_are_served(
    telegram: Telegram, app: App, commits: list[int], logs: CollectLogs
) -> None:
    def always_for_alice(update_id: int, attempt: int) -> None:
        if update_id == 1:
            raise RuntimeError(CANARY)

    fail_with(app, always_for_alice)
    telegram.unconfirmed = updates((ALICE, "/start"), (BOB, "/start"))
    stop = asyncio.Event()
    task = start(app, stop)
    await until(lambda: telegram.offsets[-1:] == [3])
    await stopped(stop, task, app)

    assert commits == [1] * ATTEMPTS + [2]
    assert telegram.offsets == [None] + [1] * (ATTEMPTS - 1) + [3]
    assert await _state(app, ALICE) == ("start", 0)
    assert telegram.texts_to(ALICE) == []
    assert await _state(app, BOB) == ("menu", 1)
    assert telegram.texts_to(BOB) == [t("uk", "greeting"), screen("uk", "menu")]
    dropped = [line for line in logs.lines if "update dropped" in line]
    assert len(dropped) == 1
    assert "RuntimeError" in dropped[0]
    assert not [line for line in logs.lines if "canary" in line or "Петренко" in line]


@pytest.mark.parametrize(
    "outage",
    [
        redis.exceptions.ConnectionError("Connection refused"),
        redis.exceptions.ReadOnlyError("READONLY a replica during a failover"),
        redis.exceptions.OutOfMemoryError("OOM command not allowed"),
    ],
    ids=["down", "readonly", "oom"],
)
async def test_an_outage_of_redis_longer_than_the_attempts_drops_nothing(
    telegram: Telegram, app: App, commits: list[int], outage: Exception
) -> None:
    def down_for_a_while(update_id: int, attempt: int) -> None:
        if attempt <= 2 * ATTEMPTS:  # not the update's fault: it is waited out, not dropped
            raise outage

    fail_with(app, down_for_a_while)
    telegram.unconfirmed = updates((ALICE, "/start"), (BOB, "/start"))
    stop = asyncio.Event()
    task = start(app, stop)
    await until(lambda: telegram.offsets[-1:] == [3])
    await stopped(stop, task, app)

    assert await _state(app, ALICE) == ("menu", 1)
    assert await _state(app, BOB) == ("menu", 1)


async def test_a_failing_getupdates_is_retried(telegram: Telegram, app: App) -> None:
    telegram.fail_fetches = 2
    telegram.unconfirmed = updates((ALICE, "/start"))
    stop = asyncio.Event()
    task = start(app, stop)
    await until(lambda: telegram.offsets[-1:] == [2])
    await stopped(stop, task, app)

    assert telegram.offsets == [None, None, None, 2]
    assert await _state(app, ALICE) == ("menu", 1)


async def test_stop_ends_a_long_poll_at_once(telegram: Telegram, app: App) -> None:
    stop = asyncio.Event()
    task = start(app, stop, polling_timeout=30)
    await until(lambda: telegram.offsets == [None])  # the long poll is open on the server
    stop.set()
    # the long poll would hold it 30 s: ending well before proves it was cut short
    await asyncio.wait_for(task, timeout=10)
    assert telegram.offsets == [None]  # nothing handled: nothing to acknowledge


async def test_stop_finishes_the_update_in_hand_and_acknowledges_nothing_after_it(
    telegram: Telegram, app: App, commits: list[int]
) -> None:
    stop = asyncio.Event()

    def stop_during_first(update_id: int, attempt: int) -> None:
        if update_id == 1:
            stop.set()  # SIGTERM while update 1 is being handled

    fail_with(app, stop_during_first)
    telegram.unconfirmed = updates((ALICE, "/start"), (BOB, "/start"))
    task = start(app, stop)
    await asyncio.wait_for(task, timeout=5)
    await asyncio.wait_for(app.drain(), timeout=10)

    assert commits == [1]
    assert await _state(app, ALICE) == ("menu", 1)  # finished
    assert telegram.texts_to(ALICE) == [t("uk", "greeting"), screen("uk", "menu")]
    assert await _state(app, BOB) == ("start", 0)  # left for Telegram to deliver again
    assert telegram.offsets == [None, 2]  # update 1 acknowledged on the way out, 2 not
    assert [u["update_id"] for u in telegram.unconfirmed] == [2]


async def test_hotline_run_polls_this_way_and_stops_on_sigterm(
    telegram: Telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve` in polling mode, the process signalled as a deployment stops it."""
    built: list[App] = []
    commits = 0

    def build(settings: Settings) -> App:
        app = build_app(settings, redis=fakeredis.FakeAsyncRedis(), throttle=False, translator=T)
        commit = app.store.commit

        async def failing_once(*args: Any, **kwargs: Any) -> Any:
            nonlocal commits
            commits += 1
            if commits == 1:
                raise redis.exceptions.ConnectionError("Connection refused")
            return await commit(*args, **kwargs)

        monkeypatch.setattr(app.store, "commit", failing_once)
        built.append(app)
        return app

    monkeypatch.setattr("bot.serve.build_app", build)
    telegram.unconfirmed = updates((ALICE, "/start"))
    settings = Settings(
        bot_token=SecretStr("123456:AAHlocal-polling-test"),
        telegram_api_url=telegram.url,
        operator_chat_id=DESK,
        embedded_store=True,
    )
    task = asyncio.create_task(serve(settings))
    await until(lambda: telegram.offsets[-1:] == [2])
    # never signal a process that would die of it
    assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None)
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, timeout=10) == 0

    assert telegram.offsets == [None, 1, 2]
    assert commits == 2
    (app,) = built
    assert await _state(app, ALICE) == ("menu", 1)
    assert telegram.texts_to(ALICE) == [
        t("uk", "try-again-later"),
        t("uk", "greeting"),
        screen("uk", "menu"),
    ]
