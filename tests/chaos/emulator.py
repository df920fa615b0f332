"""A local Telegram Bot API for `hotline run` in a real process: aiohttp on a loopback port.

It answers the methods the bot calls (getMe, getUpdates with Telegram's offset rule, sendMessage
and the other posting methods, forum topics, deletions) and records every call with the time it
was received and answered. Updates for long polling are queued with `push`; an update is
forgotten once a getUpdates asks with an offset past it, as Telegram does. `post` plays
Telegram's side of a webhook.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "123456:chaos-emulator-token"
BOT = {"id": 123456, "is_bot": True, "first_name": "Hotline", "username": "hotline_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    received: float
    answered: float = 0.0


@dataclass
class BotApiEmulator:
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0  # getUpdates received (a started process polls)
    _message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _pushed: asyncio.Event = field(default_factory=asyncio.Event)
    _called: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    # -- the test's side ------------------------------------------------------------------------
    def push(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._pushed.set()

    def sent(self, chat_id: int) -> list[Call]:
        """sendMessage calls to one chat, in the order they arrived."""
        return [
            c
            for c in self.calls
            if c.method == "sendMessage" and c.params.get("chat_id") == chat_id
        ]

    def texts(self, chat_id: int) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.sent(chat_id)]

    async def until(self, done: Callable[[], bool], seconds: float) -> None:
        """Until `done()` holds, looked at after every call (fails after `seconds`)."""
        async with asyncio.timeout(seconds):
            while not done():
                self._called.clear()
                await self._called.wait()

    async def wait_for(self, chat_id: int, count: int, seconds: float) -> None:
        """Until `count` messages reached the chat."""
        await self.until(lambda: len(self.sent(chat_id)) >= count, seconds)

    # -- the Bot API ----------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        if method == "getUpdates":
            result: Any = await self._get_updates(params)
        else:
            result = self._answer(method, params)
        call.answered = time.monotonic()
        self._called.set()
        return web.json_response({"ok": True, "result": result})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.polls += 1
        self._called.set()
        offset = int(params.get("offset") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
        while not self.updates and time.monotonic() < deadline:
            self._pushed.clear()
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await self._pushed.wait()
            except TimeoutError:
                break
        return self.updates[:limit]

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id", 0)
        chat = {"id": chat_id, "type": "private" if int(chat_id or 0) > 0 else "supergroup"}
        if method == "getMe":
            return BOT
        if method == "copyMessage":
            return {"message_id": next(self._message_ids)}
        if method.startswith("send"):
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": chat,
                "from": BOT,
            }
            if "text" in params:
                message["text"] = params["text"]
            return message
        if method == "createForumTopic":
            return {
                "message_thread_id": next(self._message_ids),
                "name": params.get("name", ""),
                "icon_color": 7322096,
            }
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True

    @asynccontextmanager
    async def running(self) -> Any:
        application = web.Application(client_max_size=50 << 20)
        application.router.add_post("/bot{token}/{method}", self.handle)
        runner = web.AppRunner(application, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        try:
            yield self
        finally:
            await runner.cleanup()


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data: dict[str, Any] = await request.json()
        return data
    form = await request.post()
    params: dict[str, Any] = {}
    for name, value in form.items():
        if not isinstance(value, str):
            continue  # a file: not needed here
        text = value
        if text.lstrip("-").isdigit():
            params[name] = int(text)
        elif text[:1] in "[{":
            try:
                params[name] = json.loads(text)
            except ValueError:
                params[name] = text
        else:
            params[name] = text
    return params


async def post(
    client: aiohttp.ClientSession, url: str, update: dict[str, Any], secret: str
) -> int:
    """Telegram posting one update to a webhook: the HTTP status it got."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with client.post(url, json=update, headers=headers) as response:
        await response.read()
        return response.status
