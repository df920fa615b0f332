"""The Redis ACL of compose.yaml, on a real redis-server started with exactly those rules: the
whole product works through that user (a caller's dialogue, the desk's claim, reveal, meeting
and clean-up, the audit, the durable hook queue, a key rotation, the start-up check), and the
user can do nothing else: no admin command, no key outside the bot's prefix, no other user."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio
import redis.exceptions
from aiohttp import web
from pydantic import SecretStr

from bench.redis_server import MISSING, free_port
from bot.hooks import WebhookConsumer
from bot.serve import check_redis
from bot.shared_slots import SharedSlots, Ticket
from tests.e2e.conftest import Caller, HotlineFactory
from tests.e2e.desk_harness import OPERATORS, DeskView, Operator, recall
from tests.unit.test_deploy_files import acl_rules, compose

PASSWORD = "acl-test-" + "7" * 24

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def acl_redis_port() -> Iterator[int]:
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail(MISSING, pytrace=False)
    users = acl_rules(compose()["services"]["redis"]["command"])
    port = free_port()
    arguments = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    for name, rules in users.items():
        rules = [f">{PASSWORD}" if rule.startswith(">") else rule for rule in rules]
        arguments += ["--user", name, *rules]
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(
            [*arguments, "--dir", directory],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=port, username="hotline", password=PASSWORD)
        deadline = time.monotonic() + 10
        try:
            while True:
                assert process.poll() is None, "redis-server refused the ACL of compose.yaml"
                try:
                    client.ping()
                    break
                except redis.exceptions.ConnectionError:
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            yield port
        finally:
            client.close()
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
async def bot_user(acl_redis_port: int) -> AsyncIterator[redis.asyncio.Redis]:
    url = f"redis://hotline:{PASSWORD}@127.0.0.1:{acl_redis_port}/0"
    client = redis.asyncio.Redis.from_url(url)
    yield client
    async for key in client.scan_iter(match="hl:*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
async def receiver() -> AsyncIterator[str]:
    application = web.Application()

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=204)

    application.router.add_post("/events", accept)
    runner = web.AppRunner(application)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/events"
    await runner.cleanup()


async def test_the_whole_product_runs_through_the_bots_acl_user(
    bot_user: redis.asyncio.Redis, make_hotline: HotlineFactory, receiver: str
) -> None:
    await check_redis(bot_user)  # INFO: the start-up check
    hotline = await make_hotline(
        bot_user,
        operator_ids=OPERATORS,
        hooks=frozenset({"desk", "webhook"}),
        hook_webhook_url=receiver,
        hook_webhook_secret=SecretStr("acl-test-hook-secret"),
    )
    app = hotline.app
    caller = Caller(hotline, 771_000_111, "uk")
    await recall(caller)
    await caller.location()
    await caller.text("2")
    await caller.tap("health-none")
    operator = Operator(hotline, OPERATORS[0])
    topic = await DeskView(hotline).topic(caller)
    await operator.press(topic, "claim")
    await operator.say(topic, "/details")
    await operator.say(topic, "/meet 05:30 | у старого млина")
    assert await app.leads_desk()  # the desk's periodic work is taken by one process
    await app.service_levels.tick(hotline.clock() + 3600)  # re-announce, clean-up
    assert await app.audit.last(10)
    (consumer,) = [c for c in app.hooks.consumers if isinstance(c, WebhookConsumer)]
    await consumer.drain()
    assert consumer.delivered > 0
    assert await consumer.queue_length() == 0
    await app.deliverer.resume_pending()
    assert await app.store.reseal_all() >= 0  # a key rotation's scan, read and rewrite
    slots = SharedSlots(bot_user, app.store.digest, app.store.prefix)  # Telegram's limits
    for _ in range(2):  # the second waits for the chat's second
        assert await slots.take(Ticket(caller.user_id, group=False)) >= 0
    for _ in range(40):  # past the thirty of a second: the rest wait in line
        assert await slots.take(Ticket(-1001000000777, group=True)) >= 0
    await slots.pause(caller.user_id, 1.0)
    await consumer.aclose()


@pytest.mark.parametrize(
    "command",
    [
        ("FLUSHALL",),
        ("FLUSHDB",),
        ("CONFIG", "GET", "*"),
        ("KEYS", "*"),
        ("ACL", "LIST"),
        ("SHUTDOWN",),
        ("SET", "not-ours", "1"),
        ("GET", "other:prefix"),
        ("SUBSCRIBE", "hl:anything"),
        ("CLIENT", "LIST"),
        ("MONITOR",),
    ],
    ids=lambda command: " ".join(command[:2]),
)
async def test_the_bots_acl_user_can_do_nothing_else(
    bot_user: redis.asyncio.Redis, command: tuple[str, ...]
) -> None:
    with pytest.raises(redis.exceptions.NoPermissionError):
        await bot_user.execute_command(*command)  # type: ignore[no-untyped-call]


async def test_the_default_user_is_off(acl_redis_port: int) -> None:
    client = redis.asyncio.Redis(port=acl_redis_port)
    try:
        with pytest.raises(redis.exceptions.AuthenticationError):
            await client.ping()
    finally:
        await client.aclose()
