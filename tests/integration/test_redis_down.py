"""Redis goes down in the middle of a dialogue, and comes back.

The test runs a redis-server of its own (not the session's shared one: it is stopped here) on a
free loopback port, with an append-only file so that what was committed survives the restart,
and builds the app as production does: `REDIS_URL`, sealing keys, `open_redis` (short timeouts,
a few retries). While the server is down the caller is told, in his language, to try again
shortly; nothing is half-applied; once the server is back on the same port, the next message
carries on from where the dialogue was, and an answer that could not be delivered arrives by
itself.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from aiogram.methods import SendMessage
from pydantic import SecretStr

from bench.redis_server import MISSING, free_port
from bot.app import build_app
from bot.offline.session import RecordingSession, Sent
from bot.settings import Settings
from flows.sealing import new_key
from tests.e2e.conftest import NAME, Caller, Clock, Hotline, T, screen, t

pytestmark = pytest.mark.redis


class RedisServer:
    """A redis-server that can be stopped and started again on the same port and data."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail(MISSING, pytrace=False)
        self.process = subprocess.Popen(
            [
                executable,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--dir", str(self.directory),
                "--daemonize", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline:
                try:
                    if client.ping():
                        return
                except redis.exceptions.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None
        with socket.socket() as probe:  # the port is really closed now
            assert probe.connect_ex(("127.0.0.1", self.port)) != 0


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with tempfile.TemporaryDirectory(prefix="hotline-redis-down-") as tmp:
        instance = RedisServer(Path(tmp))
        instance.start()
        try:
            yield instance
        finally:
            instance.stop()


@pytest.fixture
async def hotline(server: RedisServer) -> AsyncIterator[Hotline]:
    settings = Settings(
        redis_url=SecretStr(server.url),
        hotline_seal_keys=SecretStr(new_key()),
        hotline_id_key=SecretStr(base64.b64encode(b"k" * 32).decode()),
        operator_chat_id=-1001000000444,
    )
    clock = Clock()
    session = RecordingSession()
    app = build_app(settings, session=session, clock=clock, throttle=False, translator=T)
    app.deliverer.retry_first = 0.1  # try again soon: the test waits for it
    yield Hotline(app, session, clock)
    app.deliverer.stop()
    await app.drain()
    await app.redis.aclose()


async def _snapshot(caller: Caller) -> tuple[Any, ...]:
    store = caller.hotline.app.store
    loaded = await store.load(caller.key, -1)
    return loaded.conversation.state, loaded.conversation.fields, loaded.version, loaded.pending


async def _to_birth_date(caller: Caller) -> None:
    await caller.command("start")
    await caller.tap("menu-surrender")
    await caller.tap("declare")
    await caller.text(NAME[caller.lang])
    assert await caller.state() == "details_birth_date"


@pytest.mark.parametrize("lang", ["ru", "uk"])
async def test_redis_down_mid_dialogue_tells_the_caller_and_resumes_when_back(
    hotline: Hotline, server: RedisServer, lang: str
) -> None:
    caller = hotline.caller(lang=lang)
    await _to_birth_date(caller)
    before = await _snapshot(caller)
    assert before[3] == 0  # nothing waiting in the outbox

    server.stop()
    await caller.text("17.05.1990")
    assert caller.texts == [t(lang, "try-again-later")]
    assert caller.last_update is not None
    assert hotline.unacknowledged == [caller.last_update.update_id]  # Telegram sends it again
    assert caller.replies[0].protect_content is True
    await caller.tap("skip")  # more while it is down: one notice, not one per message
    assert caller.texts == []
    assert hotline.app.deliverer.retrying == frozenset()

    server.start()  # same port, same data
    assert await _snapshot(caller) == before  # nothing of the failed updates was applied

    birth = await caller.text("17.05.1990")  # he tries again, as he was told
    assert await caller.state() == "details_unit"
    assert caller.texts == [screen(lang, "details_unit")]
    assert caller.deleted() == [birth.message_id]
    conversation = await caller.conversation()
    assert conversation.fields == {"full_name": NAME[lang], "birth_date": "1990-05-17"}
    assert conversation.version == before[2] + 1
    hotline.assert_all_protected()


async def test_redis_down_during_the_commit_applies_nothing(
    hotline: Hotline, server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller = hotline.caller(lang="uk")
    await _to_birth_date(caller)
    before = await _snapshot(caller)
    store = hotline.app.store
    commit = store.commit

    async def dies_first(*args: Any, **kwargs: Any) -> Any:
        server.stop()  # after the update was read, before it is written
        return await commit(*args, **kwargs)

    monkeypatch.setattr(store, "commit", dies_first)
    await caller.text("17.05.1990")
    assert caller.texts == [t("uk", "try-again-later")]
    monkeypatch.setattr(store, "commit", commit)

    server.start()
    assert await _snapshot(caller) == before
    await caller.text("17.05.1990")
    assert await caller.state() == "details_unit"
    assert caller.texts == [screen("uk", "details_unit")]


async def test_an_answer_committed_just_before_redis_went_down_arrives_by_itself(
    hotline: Hotline, server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller = hotline.caller(lang="ru")
    await _to_birth_date(caller)
    deliverer = hotline.app.deliverer
    kick = deliverer.kick

    def dies_then_kicks(*args: Any) -> None:
        server.stop()  # committed (acknowledged to Telegram), not yet delivered
        kick(*args)

    monkeypatch.setattr(deliverer, "kick", dies_then_kicks)
    mark = len(hotline.session.sent)
    await caller.text("17.05.1990")
    monkeypatch.setattr(deliverer, "kick", kick)
    assert caller.texts == []  # it could not be sent yet, and he is not told to repeat it
    assert caller.key in deliverer.retrying

    arrived = asyncio.Event()

    def to_him(sent: Sent) -> None:
        if getattr(sent.method, "chat_id", None) == caller.user_id:
            arrived.set()

    hotline.session.listeners.append(to_him)
    server.start()
    async with asyncio.timeout(10):  # it arrives by itself, or the test fails
        await arrived.wait()
    await deliverer.drain()
    sent = caller.to_me(hotline.session.sent[mark:])
    texts = [s.method.text for s in sent if isinstance(s.method, SendMessage)]
    assert texts == [screen("ru", "details_unit")]  # once, without another message from him
    assert deliverer.retrying == frozenset()
    snapshot = await _snapshot(caller)
    assert snapshot[0] == "details_unit"
    assert snapshot[3] == 0  # the outbox is empty again
