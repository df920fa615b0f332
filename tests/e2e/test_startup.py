"""`hotline run` as a deployment runs it: a real process, the real Redis of the tests, a Bot API
on loopback. A failure at start is one JSON log line naming what failed and a non-zero exit
well within 30 s; SIGTERM during start-up or during a long poll exits within 10 s; without
REDIS_URL (and no EMBEDDED_STORE on purpose) it refuses to start.

The time limits here are bounds on a wait (the test fails instead of hanging), not timings.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis.asyncio
from aiohttp import web

from bench.redis_server import free_port
from bot.redis_url import connect
from bot.serve import StartupFailure, check_redis, redis_version
from bot.settings import Settings
from tests.conftest import TEST_ID_SECRET

SEAL_KEYS = "k1:" + "A" * 43 + "="
ID_KEY = "dGVzdC1pZC1zZWNyZXQtbm90LWZvci1wcm9kdWN0aW9u"  # base64 of a test secret
TOKEN = "123456:AAH-startup-test-token"
assert TEST_ID_SECRET  # the same kind of secret as the other tests use


@dataclass
class BotApi:
    """The Bot API on loopback: `mode` is "ok", "revoked" (401 to everything) or "silent" (holds
    getMe open for ever). Records the methods asked for."""

    mode: str = "ok"
    asked: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.asked.append(method)
        if self.mode == "revoked":
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return web.json_response(body, status=401)
        if self.mode == "silent" or method == "getUpdates":
            await self.release.wait()  # a long poll with nothing to give, or no answer at all
            return web.json_response({"ok": True, "result": []})
        result: Any = True
        if method == "getMe":
            result = {"id": 4242, "is_bot": True, "first_name": "Hotline", "username": "hl_bot"}
        elif method == "getWebhookInfo":
            result = {"url": "https://example.org/t", "has_custom_certificate": False,
                      "pending_update_count": 0}  # fmt: skip
        elif method == "sendMessage":
            form = await request.post()
            result = {
                "message_id": len(self.asked),
                "date": 0,
                "chat": {"id": int(str(form["chat_id"])), "type": "private"},
                "text": str(form.get("text", "")),
            }
        return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def bot_api() -> AsyncIterator[BotApi]:
    api = BotApi()
    application = web.Application()
    application.router.add_post("/bot{token}/{method}", api.handle)
    runner = web.AppRunner(application, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    api.url = f"http://{host}:{port}"
    try:
        yield api
    finally:
        api.release.set()
        await runner.cleanup()


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any hotline setting, then `settings`."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(settings)
    return env


def production(redis_url: str, api_url: str, **more: str) -> dict[str, str]:
    settings = {
        "BOT_TOKEN": TOKEN,
        "REDIS_URL": redis_url,
        "HOTLINE_SEAL_KEYS": SEAL_KEYS,
        "HOTLINE_ID_KEY": ID_KEY,
        "OPERATOR_CHAT_ID": "-1001000000999",
        "TELEGRAM_API_URL": api_url,
    }
    return environment(**{**settings, **more})


@dataclass
class Run:
    process: asyncio.subprocess.Process

    async def finish(self, within: float) -> tuple[int, list[dict[str, Any]]]:
        """The exit code and every line written, each parsed as JSON (a line that is not JSON
        fails the test); fails if the process has not exited within `within` seconds."""
        assert self.process.stderr is not None
        try:
            err = await asyncio.wait_for(self.process.stderr.read(), within)
            code = await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            pytest.fail(f"hotline run still running after {within} s")
        out = (await self.process.stdout.read()).decode() if self.process.stdout else ""
        assert out == "", out
        return code, [json.loads(line) for line in err.decode().splitlines()]


async def hotline_run(env: dict[str, str]) -> Run:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return Run(process)


async def until(condition: Any, within: float = 20.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - another process's progress, seen from here
            await asyncio.sleep(0.02)


@pytest.mark.redis
async def test_telegram_unreachable_at_start_is_one_line_and_exit_1(redis_url: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, lines = await (await hotline_run(production(redis_url, closed))).finish(within=30)
    assert code == 1
    assert len(lines) == 1, lines
    (line,) = lines
    assert line["level"] == "error"
    assert line["part"] == "telegram"
    assert "unreachable" in line["event"]
    assert "AAH" not in json.dumps(line)  # nothing of the token


@pytest.mark.redis
async def test_a_revoked_token_is_one_line_and_exit_1(redis_url: str, bot_api: BotApi) -> None:
    bot_api.mode = "revoked"
    code, lines = await (await hotline_run(production(redis_url, bot_api.url))).finish(30)
    assert code == 1
    assert [line["event"] for line in lines] == [
        "start-up failed: telegram: BOT_TOKEN was refused (revoked or mistyped: see @BotFather)"
    ]
    assert bot_api.asked == ["getMe"]  # nothing else was tried


async def test_redis_down_at_start_is_one_line_and_exit_1(bot_api: BotApi) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    code, lines = await (await hotline_run(production(down, bot_api.url))).finish(30)
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0]["part"] == "redis"
    assert lines[0]["event"].startswith("start-up failed: redis: unreachable or refused")
    assert bot_api.asked == []  # Redis is checked first


@pytest.mark.redis
async def test_sigterm_during_start_up_exits_within_10_s(redis_url: str, bot_api: BotApi) -> None:
    bot_api.mode = "silent"  # getMe never answers: the process waits in start-up
    run = await hotline_run(production(redis_url, bot_api.url))
    await until(lambda: bot_api.asked == ["getMe"])
    run.process.send_signal(signal.SIGTERM)
    code, lines = await run.finish(within=10)
    assert code == 0
    assert [line["event"] for line in lines] == ["stopped during start-up"]


@pytest.mark.redis
async def test_sigterm_during_a_long_poll_exits_within_10_s(
    redis_url: str, real_redis: redis.asyncio.Redis, bot_api: BotApi
) -> None:
    # (real_redis: an empty server; records another test sealed under its own keys would not
    # open with these, and rightly be logged as errors)
    metrics_port = free_port()
    env = production(redis_url, bot_api.url, METRICS_PORT=str(metrics_port), LOG_LEVEL="info")
    run = await hotline_run(env)
    await until(lambda: "getUpdates" in bot_api.asked)  # held open: a long poll in progress
    run.process.send_signal(signal.SIGTERM)
    code, lines = await run.finish(within=10)
    assert code == 0
    events = [line["event"] for line in lines]
    assert "polling started" in events
    assert "polling stopped" in events
    assert all(line["level"] in {"info", "warning"} for line in lines), lines
    assert all("logger" in line and "timestamp" in line for line in lines)
    assert bot_api.asked[:2] == ["getMe", "setMyCommands"]


async def test_run_without_redis_url_refuses_and_says_so(bot_api: BotApi) -> None:
    env = environment(
        BOT_TOKEN=TOKEN, OPERATOR_CHAT_ID="-1001000000999", TELEGRAM_API_URL=bot_api.url
    )
    code, lines = await (await hotline_run(env)).finish(within=30)
    assert code == 2
    assert [line["event"].split(":")[0] for line in lines] == ["setting REDIS_URL"]
    assert "EMBEDDED_STORE=true" in lines[0]["event"]
    assert bot_api.asked == []  # refused before anything was started


async def test_every_missing_serving_setting_is_a_line_of_its_own() -> None:
    code, lines = await (await hotline_run(environment(LOG_LEVEL="Debug"))).finish(within=30)
    assert code == 2
    # at DEBUG, asyncio's own record comes first: as JSON too, named by its logger
    assert {"logger": "asyncio", "level": "debug"}.items() <= lines[0].items()
    errors = [line for line in lines if line["level"] == "error"]
    assert [line["event"].split(":")[0] for line in errors] == [
        "setting BOT_TOKEN",
        "setting REDIS_URL",
        "setting OPERATOR_CHAT_ID",
    ]


@pytest.fixture
async def old_redis() -> AsyncIterator[str]:
    """A server that speaks Redis's protocol and says it is Redis 6.0 (no XAUTOCLAIM)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(asyncio.IncompleteReadError, ConnectionError, ValueError):
            while header := await reader.readline():
                words = []
                for _ in range(int(header[1:])):
                    size = int((await reader.readline())[1:])
                    words.append((await reader.readexactly(size + 2))[:-2].decode().upper())
                if words[0] == "INFO":
                    body = "# Server\r\nredis_version:6.0.16\r\n"
                    writer.write(f"${len(body)}\r\n{body}\r\n".encode())
                else:
                    writer.write(b"+PONG\r\n" if words[0] == "PING" else b"+OK\r\n")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    server.close()


async def test_a_redis_older_than_6_2_at_start_is_one_line_and_exit_1(
    old_redis: str, bot_api: BotApi
) -> None:
    code, lines = await (await hotline_run(production(old_redis, bot_api.url))).finish(30)
    assert code == 1
    assert [line["event"] for line in lines] == [
        "start-up failed: redis: version 6.0.16 is older than 6.2 (XAUTOCLAIM is needed)"
    ]
    assert bot_api.asked == []


class _OldRedis:
    def __init__(self, version: str) -> None:
        self.version = version

    async def info(self, section: str) -> dict[str, str]:
        assert section == "server"
        return {"redis_version": self.version}


@pytest.mark.parametrize("version", ["6.0.16", "5.0.7", "6.1.9", "", "garbage"])
async def test_a_redis_older_than_6_2_is_refused(version: str) -> None:
    with pytest.raises(StartupFailure) as failed:
        await check_redis(_OldRedis(version))  # type: ignore[arg-type]
    assert failed.value.part == "redis"
    assert "older than 6.2" in failed.value.reason


@pytest.mark.parametrize("version", ["6.2.0", "6.2.14", "7.0.15", "7.4.1", "8.0.2"])
async def test_redis_6_2_and_newer_pass(version: str) -> None:
    await check_redis(_OldRedis(version))  # type: ignore[arg-type]
    assert redis_version(version) >= (6, 2)


@pytest.mark.redis
async def test_the_real_test_redis_passes_the_version_check(redis_url: str) -> None:

    client = connect(redis_url)
    try:
        await check_redis(client)
    finally:
        with suppress(Exception):
            await client.aclose()


WEBHOOK_SECRET = "webhook-startup-test-secret"


def _webhook_settings(bot_api: BotApi) -> Settings:
    from pydantic import SecretStr

    return Settings(
        bot_token=SecretStr(TOKEN),
        telegram_api_url=bot_api.url,
        operator_chat_id=-1001000000999,
        embedded_store=True,
        mode="webhook",
        webhook_url="https://example.org/telegram",
        webhook_secret=SecretStr(WEBHOOK_SECRET),
        webhook_port=free_port(),
        metrics_port=free_port(),
    )


async def test_webhook_mode_serves_reports_ready_and_stops_on_sigterm(bot_api: BotApi) -> None:
    """In-process (the webhook's own tests are in test_webhook.py): start-up sets the webhook,
    Telegram's request is answered, /readyz is green, SIGTERM ends it with 0."""
    import aiohttp

    from bot.serve import serve

    settings = _webhook_settings(bot_api)
    webhook_port, metrics_port = settings.webhook_port, settings.metrics_port
    secret = WEBHOOK_SECRET
    task = asyncio.create_task(serve(settings))
    await until(lambda: "setWebhook" in bot_api.asked or task.done())
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 100_999_002, "type": "private", "first_name": "C"},
            "from": {"id": 100_999_002, "is_bot": False, "first_name": "C"},
            "text": "/start",
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with aiohttp.ClientSession() as client:
        url = f"http://127.0.0.1:{webhook_port}/telegram"
        async with client.post(url, json=update, headers=headers) as answer:
            assert answer.status == 200
        async with client.get(f"http://127.0.0.1:{metrics_port}/readyz") as answer:
            assert answer.status == 200, await answer.text()
    await until(lambda: "sendMessage" in bot_api.asked)  # the caller was answered
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, timeout=10) == 0
    assert bot_api.asked[:3] == ["getMe", "setMyCommands", "setMyCommands"]


async def test_it_serves_with_the_collector_tuned_and_leaves_it_as_it_was(
    bot_api: BotApi,
) -> None:
    """What was alive at start-up is frozen out of the collector's sight and young collections
    are bot.gc_tuning.YOUNG apart while it serves (with a hundred updates in flight, full
    collections of that heap cost a fifth of the CPU and more); after the stop, as before."""
    import gc

    from bot import gc_tuning
    from bot.serve import serve

    before = gc.get_threshold()
    assert before[0] != gc_tuning.YOUNG
    task = asyncio.create_task(serve(_webhook_settings(bot_api)))
    await until(lambda: "setWebhook" in bot_api.asked or task.done())
    await until(lambda: gc.get_threshold()[0] == gc_tuning.YOUNG or task.done())
    assert gc.get_threshold() == (gc_tuning.YOUNG, *before[1:])
    assert gc.get_freeze_count() > 10_000  # aiogram, pydantic, the app: frozen
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, timeout=10) == 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_an_unusable_key_is_a_settings_line_and_exit_2(bot_api: BotApi) -> None:
    env = production("redis://127.0.0.1:1/0", bot_api.url, HOTLINE_ID_KEY="c2hvcnQ=")  # "short"
    code, lines = await (await hotline_run(env)).finish(within=30)
    assert code == 2
    assert [line["event"] for line in lines] == [
        "setting HOTLINE_ID_KEY: must be at least 32 bytes"
    ]
