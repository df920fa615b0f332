"""/metrics, /healthz and /readyz over real HTTP, on the app exactly as `build_app` composes it.

A dialogue with canary values moves the counters (updates by kind, Bot API calls, time to
claim, reveals, the escalations waiting) and the scrape names no one: no canary, no Telegram
id, no case code, label values only from small fixed sets. /readyz fails while the test's own
redis-server is stopped and recovers once it is back.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio
import redis.exceptions
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates, SendMessage, SetMyCommands
from aiogram.types import BotCommandScopeAllPrivateChats, BotCommandScopeChat
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bench.redis_server import MISSING, free_port
from bot import probe
from bot.desk.kinds import COMMANDS as DESK_COMMANDS
from bot.desk.kinds import SHIFT_COMMANDS
from bot.health import start_health_server
from bot.menus import set_menus
from tests.e2e.conftest import DESK_CHAT, Caller, Hotline, HotlineFactory, T
from tests.e2e.desk_harness import OPERATORS, DeskView, Operator

NAME = "Метриков Канарей Петрович"
PHONE = "+79990004455"
CALLER_ID = 771_555_001
OTHER_PHONE = 772_555_002
UPDATE_KINDS = {"message", "callback_query", "edited_message", "my_chat_member", "chat_member"}
OUTCOMES = {"ok", "error", "retry_after", "handled", "failed"}
PRIORITIES = {"normal", "high", "highest", "none"}


async def serve_health(hotline: Hotline) -> tuple[web.AppRunner, str]:
    runner = await start_health_server(hotline.app, "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def without_values(text: str) -> str:
    return "\n".join(
        line if line.startswith("#") else line.rpartition(" ")[0] for line in text.splitlines()
    )


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def desk_hotline(make_hotline: HotlineFactory) -> Hotline:
    return await make_hotline(operator_ids=OPERATORS)


async def test_a_dialogue_moves_the_counters_and_the_scrape_names_no_one(
    desk_hotline: Hotline,
) -> None:
    hotline = desk_hotline
    runner, url = await serve_health(hotline)
    try:
        _, before = await get(f"{url}/metrics")
        caller = Caller(hotline, CALLER_ID, "ru")
        await caller.command("start")
        await caller.tap("menu-surrender")
        await caller.tap("declare")
        for answer in (NAME, "17.05.1991", "в/ч 97Щ531", "майор", "КН-864Ж209", "4"):
            await caller.text(answer)
        await caller.tap("skip")  # area
        await caller.text(PHONE)
        await caller.tap("health-light")
        await caller.tap("wish-stay")
        await caller.press("confirm")
        code = (await caller.conversation()).fields["case_code"]
        await caller.tap("ready")
        await caller.text("Я иду сдаваться")  # escalated: the case waits for an operator
        _, waiting = await get(f"{url}/metrics")
        hotline.clock.advance(95)
        operator = Operator(hotline, OPERATORS[0])
        topic = await DeskView(hotline).topic(caller)
        await operator.press(topic, "claim")
        await operator.say(topic, "/details")
        status, after = await get(f"{url}/metrics")
    finally:
        await runner.cleanup()

    assert status == 200
    moved = value(after, "hotline_updates_total", kind="message", outcome="handled") - value(
        before, "hotline_updates_total", kind="message", outcome="handled"
    )
    assert moved >= 14  # every text and command of the caller and of the operator
    assert value(after, "hotline_updates_total", kind="callback_query", outcome="handled") > (
        value(before, "hotline_updates_total", kind="callback_query", outcome="handled")
    )
    assert value(after, "hotline_update_seconds_count", kind="message") >= moved
    assert value(after, "hotline_bot_api_calls_total", method="SendMessage", outcome="ok") > (
        value(before, "hotline_bot_api_calls_total", method="SendMessage", outcome="ok")
    )
    assert value(after, "hotline_time_to_claim_seconds_count") == (
        value(before, "hotline_time_to_claim_seconds_count") + 1
    )
    assert value(after, "hotline_details_reveals_total") == (
        value(before, "hotline_details_reveals_total") + 1
    )
    assert sum(value(waiting, "hotline_escalations_waiting", priority=p) for p in PRIORITIES) == 1
    assert sum(value(after, "hotline_escalations_waiting", priority=p) for p in PRIORITIES) == 0
    assert ("hotline_outbox_pending_conversations", ()) in samples(after)
    assert ("hotline_hook_queue_length", ()) in samples(after)

    ids = (CALLER_ID, OTHER_PHONE, DESK_CHAT, topic, *OPERATORS)
    for text in (waiting, after):
        # names, labels and help texts, without the sample values: a value such as a
        # timestamp may hold any digits by chance (a topic id "1017" was once inside one)
        described = without_values(text)
        for canary in (NAME, "Метриков", PHONE, code, code.replace("-", "")):
            assert canary not in text
        for digits in ("9990004455", "97Щ531", "864Ж209", *map(str, ids)):
            assert digits not in described
        # and no value is an id
        assert not {float(i) for i in ids} & set(samples(text).values())
    for (name, labels), _ in samples(after).items():
        for label, label_value in labels:
            allowed = {
                "kind": UPDATE_KINDS,
                "outcome": OUTCOMES,
                "priority": PRIORITIES,
            }.get(label)
            if label == "method":
                assert re.fullmatch(r"[A-Z][A-Za-z]+", label_value), (name, label_value)
            elif allowed is not None:
                assert label_value in allowed, (name, label, label_value)
            else:  # prometheus-client's own: histogram buckets, the interpreter's version
                assert label in {"le", "version", "implementation", "major", "minor",
                                 "patchlevel", "generation"}, (name, label)  # fmt: skip


async def test_a_failed_update_and_its_redelivery_are_counted(desk_hotline: Hotline) -> None:
    hotline = desk_hotline
    runner, url = await serve_health(hotline)
    store = hotline.app.store
    commit = store.commit
    calls = 0

    async def down_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise redis.exceptions.ConnectionError("Connection refused")
        return await commit(*args, **kwargs)

    try:
        _, before = await get(f"{url}/metrics")
        store.commit = down_once  # type: ignore[method-assign]
        caller = Caller(hotline, CALLER_ID, "uk")
        update = caller.account.command("start")
        await caller.feed(update)
        assert hotline.unacknowledged == [update.update_id]
        await caller.feed(update)  # Telegram delivers it again
        _, after = await get(f"{url}/metrics")
    finally:
        await runner.cleanup()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("hotline_updates_total", kind="message", outcome="failed") == 1
    assert delta("hotline_updates_total", kind="message", outcome="handled") == 1
    assert delta("hotline_updates_redelivered_total", kind="message") == 1
    assert delta("hotline_store_unavailable_total") == 1


async def test_healthz_answers_and_readyz_needs_word_from_telegram(
    desk_hotline: Hotline, monkeypatch: pytest.MonkeyPatch
) -> None:
    hotline = desk_hotline
    runner, url = await serve_health(hotline)
    monkeypatch.setenv("METRICS_PORT", url.rsplit(":", 1)[1])  # for the HEALTHCHECK's probe
    hotline.app.service_levels.start(30)
    try:
        assert (await get(f"{url}/healthz"))[0] == 200
        status, body = await get(f"{url}/readyz")
        assert status == 503  # started, but nothing heard from Telegram yet
        assert '"telegram": false' in body
        assert await asyncio.to_thread(probe.main) == 1
        await hotline.app.bot(GetUpdates(timeout=0))  # an answered getUpdates
        status, body = await get(f"{url}/readyz")
        assert status == 200, body
        assert await asyncio.to_thread(probe.main) == 0
        await hotline.app.service_levels.stop()
        status, body = await get(f"{url}/readyz")
        assert status == 503
        assert '"desk_tick": false' in body
        assert '"delivery": true' in body

        async def died() -> None:
            return None

        sweeper = asyncio.create_task(died())  # the delivery loop ended
        await sweeper
        hotline.app._sweeper = sweeper
        status, body = await get(f"{url}/readyz")
        assert '"delivery": false' in body
    finally:
        await runner.cleanup()


class RedisProcess:
    """A redis-server of this test's own, on a port it keeps across a stop and a start."""

    def __init__(self, directory: str) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(shutil.which("redis-server")),
                "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.exceptions.ConnectionError:
                    assert time.monotonic() < deadline, "redis-server did not start"
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    if shutil.which("redis-server") is None:
        pytest.fail(MISSING, pytrace=False)
    with tempfile.TemporaryDirectory(prefix="hotline-readyz-") as directory:
        server = RedisProcess(str(Path(directory)))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
async def own_redis_client(own_redis: RedisProcess) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(
        own_redis.url, socket_timeout=1, socket_connect_timeout=1
    )
    yield client
    await client.aclose()


@pytest.mark.redis
async def test_readyz_fails_while_redis_is_stopped_and_recovers_after(
    own_redis: RedisProcess, own_redis_client: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(own_redis_client)
    runner, url = await serve_health(hotline)
    hotline.app.service_levels.start(30)
    await hotline.app.bot(GetUpdates(timeout=0))
    try:
        status, body = await get(f"{url}/readyz")
        assert status == 200, body
        own_redis.stop()
        status, body = await get(f"{url}/readyz")
        assert status == 503
        assert '"redis": false' in body
        assert (await get(f"{url}/healthz"))[0] == 200  # alive all the same
        assert (await get(f"{url}/metrics"))[0] == 200  # the scrape still answers
        own_redis.start()
        status, body = await get(f"{url}/readyz")
        assert status == 200, body
    finally:
        await hotline.app.service_levels.stop()
        await runner.cleanup()


async def test_the_operator_group_gets_its_own_menu_in_the_operators_language(
    hotline: Hotline,
) -> None:
    await set_menus(hotline.app.bot, T, DESK_CHAT, "ru")
    calls = hotline.session.of(SetMyCommands)
    desk = [c for c in calls if isinstance(c.scope, BotCommandScopeChat)]
    assert len(desk) == 1
    assert desk[0].scope.chat_id == DESK_CHAT
    assert desk[0].language_code is None  # for every member, whatever their app's language
    names = [c.command for c in desk[0].commands]
    assert names[:2] == ["claim", "release"]
    # every command the desk knows, and only those
    assert set(names) == set(DESK_COMMANDS) | SHIFT_COMMANDS
    assert {"details", "meet", "met", "abort", "close", "erase", "stats", "help"} <= set(names)
    assert [c.description for c in desk[0].commands] == [
        T.text("ru", f"desk-cmd-{name}") for name in names
    ]
    callers = [c for c in calls if isinstance(c.scope, BotCommandScopeAllPrivateChats)]
    assert {c.language_code for c in callers} == {None, *T.languages}
    assert "claim" not in {c.command for c in callers[0].commands}  # the callers' menu is theirs


async def test_a_429_from_telegram_is_counted_by_method(desk_hotline: Hotline) -> None:
    hotline = desk_hotline
    runner, url = await serve_health(hotline)
    try:
        _, before = await get(f"{url}/metrics")
        flood = TelegramRetryAfter(
            method=SendMessage(chat_id=CALLER_ID, text="-"), message="Flood", retry_after=1
        )
        hotline.session.fail_next(SendMessage, flood)
        await Caller(hotline, CALLER_ID, "ru").command("start")
        _, after = await get(f"{url}/metrics")
    finally:
        await runner.cleanup()
    for outcome, moved in (("retry_after", 1), ("error", 0)):
        assert (
            value(after, "hotline_bot_api_calls_total", method="SendMessage", outcome=outcome)
            - (value(before, "hotline_bot_api_calls_total", method="SendMessage", outcome=outcome))
            == moved
        )
