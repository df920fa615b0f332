"""The webhook server on the open internet: raw HTTP on a loopback socket, byte by byte.

Slow senders are cut off (the server's timeouts are set short here, so the test waits a bounded
while for the server to act, never measuring how long it took); a body over the limit, a body
that is not JSON or not an update, and a secret of any bytes get a 4xx and run nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.webhook import MAX_BODY, WebhookHandler, webhook_runner
from tests.e2e.conftest import Hotline
from tests.e2e.test_webhook import PATH, SECRET, start_json

HEADER_TIMEOUT = 0.5


@pytest.fixture
async def address(hotline: Hotline) -> AsyncIterator[tuple[str, int]]:
    runner = webhook_runner(hotline.app, SECRET, PATH, header_timeout=HEADER_TIMEOUT)
    await runner.setup()
    for route in runner.app.router.routes():
        handler = getattr(route.handler, "__self__", None)
        if isinstance(handler, WebhookHandler):
            handler.body_timeout = 0.5
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield host, port
    finally:
        await runner.cleanup()


async def exchange(address: tuple[str, int], request: bytes) -> bytes:
    """Send raw bytes, read the answer's status line (10 s at most)."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(10):
            return await reader.readline()
    finally:
        writer.close()


def request(body: bytes, secret: bytes = SECRET.encode(), *, length: int | None = None) -> bytes:
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\nConnection: close\r\n"
    ).encode()
    return head + b"X-Telegram-Bot-Api-Secret-Token: " + secret + b"\r\n\r\n" + body


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


async def nothing_ran(hotline: Hotline) -> bool:
    await hotline.app.deliverer.drain()
    return hotline.session.sent == [] and await hotline.keys() == set()


@pytest.mark.parametrize(
    "secret",
    ["Секрет".encode(), b"\xff\xfebad", SECRET.encode() + "é".encode(), b"\x80" * 300],
    ids=["cyrillic", "invalid-utf8", "secret-plus-accent", "long-bytes"],
)
async def test_a_secret_of_any_bytes_gets_401(
    hotline: Hotline, address: tuple[str, int], secret: bytes
) -> None:
    body = json.dumps(start_json()).encode()
    response = await exchange(address, request(body, secret))
    assert status_of(response) == 401
    assert await nothing_ran(hotline)


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'"text"', b'{"update_id": "one"}', b'{"message": {}}', "ё".encode()],
    ids=["broken", "list", "string", "bad-id", "no-id", "not-ascii"],
)
async def test_a_malformed_request_gets_400_and_runs_nothing(
    hotline: Hotline, address: tuple[str, int], body: bytes
) -> None:
    assert status_of(await exchange(address, request(body))) == 400
    assert await nothing_ran(hotline)


async def test_a_header_with_control_bytes_gets_400(
    hotline: Hotline, address: tuple[str, int]
) -> None:
    body = json.dumps(start_json()).encode()
    assert status_of(await exchange(address, request(body, b"bad\x00secret"))) == 400
    assert await nothing_ran(hotline)


async def test_a_body_over_the_limit_gets_413(hotline: Hotline, address: tuple[str, int]) -> None:
    announced = request(b"", length=MAX_BODY + 1)
    assert status_of(await exchange(address, announced)) == 413
    sent = request(b"{" + b" " * (MAX_BODY + 10) + b"}")
    assert status_of(await exchange(address, sent)) == 413
    assert await nothing_ran(hotline)


async def test_a_connection_that_sends_its_headers_slowly_is_closed(
    hotline: Hotline, address: tuple[str, int]
) -> None:
    reader, writer = await asyncio.open_connection(*address)
    writer.write(b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: x\r\n")  # and never the rest
    await writer.drain()
    async with asyncio.timeout(10):
        assert await reader.read() == b""  # closed by the server, nothing answered
    writer.close()
    assert await nothing_ran(hotline)


async def test_a_body_that_never_arrives_gets_408(
    hotline: Hotline, address: tuple[str, int]
) -> None:
    body = json.dumps(start_json()).encode()
    reader, writer = await asyncio.open_connection(*address)
    writer.write(request(body[:10], length=len(body)))  # a tenth of the body, then silence
    await writer.drain()
    async with asyncio.timeout(10):
        response = await reader.readline()
    writer.close()
    assert status_of(response) == 408
    assert await nothing_ran(hotline)


async def test_many_idle_connections_are_all_closed_and_telegram_is_still_served(
    hotline: Hotline, address: tuple[str, int]
) -> None:
    opened = [await asyncio.open_connection(*address) for _ in range(50)]
    async with asyncio.timeout(10):
        closed = await asyncio.gather(*(reader.read() for reader, _ in opened))
    assert closed == [b""] * 50
    for _, writer in opened:
        writer.close()
    body = json.dumps(start_json()).encode()
    assert status_of(await exchange(address, request(body))) == 200
