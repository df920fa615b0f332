"""The webhook over real HTTP: aiohttp serving `bot.webhook.webhook_app` on a free loopback port,
a client posting Telegram's own JSON.

The secret token is the only thing that tells Telegram's requests from anyone else's: without
it, 401 and no handler runs. An update is acknowledged (200) only once it is committed; a
failure before that answers 5xx, so Telegram delivers it again, and the redelivery is applied
once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import redis.exceptions
from aiogram.methods import SendMessage
from aiohttp import web
from pydantic import SecretStr, ValidationError

from bot.offline.client import Account, Telegram, as_json, private_chat
from bot.serve import serve, webhook_secret
from bot.settings import Settings, SettingsError, load_settings
from bot.webhook import webhook_app
from tests.e2e.conftest import Hotline, screen, t

SECRET = "s3cret-Token_for-the-tests"
PATH = "/telegram"
USER = 100_777_001


def start_json() -> dict[str, Any]:
    """/start as Telegram posts it (field names as in the Bot API: "from", not from_user)."""
    return as_json(Account(Telegram(), *private_chat(USER, "uk")).command("start"))


@pytest.fixture
async def served(hotline: Hotline) -> AsyncIterator[str]:
    """The webhook of the hotline app on 127.0.0.1 and a free port: its URL."""
    runner = web.AppRunner(webhook_app(hotline.app, SECRET, PATH))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}{PATH}"
    finally:
        await runner.cleanup()


async def post(url: str, body: dict[str, Any], secret: str | None) -> int:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with (
        aiohttp.ClientSession() as client,
        client.post(url, json=body, headers=headers) as response,
    ):
        await response.read()
        return response.status


def _texts(hotline: Hotline) -> list[str]:
    return [s.method.text for s in hotline.session.sent if isinstance(s.method, SendMessage)]


async def _state(hotline: Hotline) -> tuple[str, int]:
    store = hotline.app.store
    loaded = await store.load(store.conversation_key(USER), -1)
    return loaded.conversation.state, loaded.version


async def test_the_right_secret_is_handled(hotline: Hotline, served: str) -> None:
    assert await post(served, start_json(), SECRET) == 200
    await hotline.app.drain()
    assert await _state(hotline) == ("menu", 1)
    sent = [s.method for s in hotline.session.sent if isinstance(s.method, SendMessage)]
    assert [m.text for m in sent] == [t("uk", "greeting"), screen("uk", "menu")]
    assert {m.chat_id for m in sent} == {USER}


@pytest.mark.parametrize(
    "secret", [None, "", "wrong", SECRET.upper(), SECRET + "x", SECRET[:-1]], ids=repr
)
async def test_a_wrong_or_missing_secret_gets_401_and_runs_nothing(
    hotline: Hotline, served: str, secret: str | None
) -> None:
    assert await post(served, start_json(), secret) == 401
    await hotline.app.drain()
    assert hotline.session.sent == []
    assert await _state(hotline) == ("start", 0)
    assert await hotline.keys() == set()  # not even a dedupe mark: nothing ran

    # Telegram itself, with the secret, is still served afterwards
    assert await post(served, start_json(), SECRET) == 200
    await hotline.app.drain()
    assert await _state(hotline) == ("menu", 1)


async def test_a_redelivered_update_is_acknowledged_and_applied_once(
    hotline: Hotline, served: str
) -> None:
    assert await post(served, start_json(), SECRET) == 200
    await hotline.app.drain()
    sent = len(hotline.session.sent)
    assert await post(served, start_json(), SECRET) == 200
    await hotline.app.drain()
    assert len(hotline.session.sent) == sent
    assert await _state(hotline) == ("menu", 1)


@pytest.mark.parametrize(
    ("failure", "told"),
    [
        (RuntimeError("the process died half-way"), []),
        # Redis down: the caller is told to try again, and Telegram delivers it again as well
        (redis.exceptions.ConnectionError("Connection refused"), ["try-again-later"]),
    ],
    ids=["crash", "redis-down"],
)
async def test_an_update_that_could_not_be_committed_is_not_acknowledged(
    hotline: Hotline,
    served: str,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
    told: list[str],
) -> None:
    store = hotline.app.store
    commit = store.commit
    calls = 0

    async def failing_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise failure
        return await commit(*args, **kwargs)

    monkeypatch.setattr(store, "commit", failing_once)
    status = await post(served, start_json(), SECRET)
    assert status >= 500  # Telegram will deliver it again
    await hotline.app.drain()
    assert _texts(hotline) == [t("uk", m) for m in told]
    assert await _state(hotline) == ("start", 0)

    assert await post(served, start_json(), SECRET) == 200  # the redelivery
    await hotline.app.drain()
    assert await _state(hotline) == ("menu", 1)
    assert _texts(hotline)[len(told) :] == [t("uk", "greeting"), screen("uk", "menu")]


# ---------------------------------------------------------------------------------------------
# No secret, no webhook


def test_webhook_mode_refuses_settings_without_a_secret() -> None:
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        Settings(mode="webhook", webhook_url="https://example.org/telegram")
    with pytest.raises(SettingsError, match="WEBHOOK"):
        load_settings(mode="webhook", webhook_url="https://example.org/telegram")
    ok = Settings(
        mode="webhook", webhook_url="https://example.org/t", webhook_secret=SecretStr(SECRET)
    )
    assert webhook_secret(ok) == SECRET


@pytest.mark.parametrize("secret", ["", "has space", "x" * 257])
async def test_serve_refuses_webhook_mode_with_an_unusable_secret_before_starting(
    secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    monkeypatch.setattr("bot.serve.build_app", lambda *a, **k: built.append(a))
    settings = Settings.model_construct(
        **{
            **Settings().model_dump(),
            "bot_token": SecretStr("123456:not-a-real-token"),
            "mode": "webhook",
            "webhook_url": "https://example.org/telegram",
            "webhook_secret": SecretStr(secret),
        }
    )
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET"):
        await serve(settings)
    assert built == []  # refused before the app, Redis or Telegram were touched


def test_settings_refuse_an_empty_webhook_secret() -> None:
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        Settings(
            mode="webhook",
            webhook_url="https://example.org/telegram",
            webhook_secret=SecretStr(""),
        )


@pytest.mark.parametrize("secret", ["", "has space", "ünïcode", "x" * 257, "semi;colon"])
def test_webhook_app_refuses_a_missing_or_unusable_secret(hotline: Hotline, secret: str) -> None:
    with pytest.raises(ValueError, match="secret token"):
        webhook_app(hotline.app, secret)
