"""A case's hook events leave the app for an HTTP receiver (a real aiohttp server on a free
loopback port), signed, in order, and without anything personal in them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.hooks import SIGNATURE_HEADER, WebhookConsumer, verify
from tests.e2e.conftest import NAME, HotlineFactory
from tests.e2e.desk_harness import OPERATORS, DeskView, Operator, recall, to_meetup

SECRET = "desk-hook-secret"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[list[tuple[str, bytes]], str]]:
    received: list[tuple[str, bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers[SIGNATURE_HEADER], await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hotline", hook)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield received, str(server.make_url("/hotline"))
    finally:
        await server.close()


async def test_a_case_reaches_the_webhook_signed_and_pseudonymous(
    make_hotline: HotlineFactory, receiver: tuple[list[tuple[str, bytes]], str]
) -> None:
    received, url = receiver
    hotline = await make_hotline(
        operator_ids=OPERATORS,
        hooks="desk,webhook,log",
        hook_webhook_url=url,
        hook_webhook_secret=SECRET,
    )
    view = DeskView(hotline)
    caller = hotline.caller()
    code = await recall(caller)
    topic = await view.topic(caller)
    op = Operator(hotline, OPERATORS[0])
    await op.say(topic, "/claim")
    await to_meetup(caller)
    case = (await view.case(caller)).case
    await op.say(topic, "/met")
    await op.confirm(topic)  # typed, Met asks first

    webhook = next(c for c in hotline.app.hooks.consumers if isinstance(c, WebhookConsumer))
    await webhook.drain()
    events = []
    for signature, body in received:
        assert verify(SECRET.encode(), body, signature)
        text = body.decode()
        for secret in (NAME["ru"], code, str(caller.user_id), str(OPERATORS[0]), caller.key):
            assert secret not in text
        events.append(json.loads(body))
    assert [e["kind"] for e in events] == [
        "registered",
        "escalated",
        "recall",
        "claimed",
        "meetup",
        "completed",
    ]
    assert {e["case"] for e in events} == {case}
    assert (events[1]["priority"], events[1]["reason"]) == ("high", "recall")
    assert "priority" not in events[3]
    await hotline.app.close()
