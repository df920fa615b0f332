"""Hook events and their consumers: the event holds nothing personal, the fan-out survives a
failing consumer, and the webhook consumer signs, retries and never blocks, checked against a real
aiohttp server on a free loopback port."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import fakeredis
import pytest
import redis.asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.hooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeskFeed,
    StreamQueue,
    WebhookConsumer,
    build_consumers,
    sign,
    verify,
)
from bot.settings import load_settings
from flows.hooks import HookEvent, Hooks, LogConsumer

SECRET = b"hook-secret-for-tests"
EVENT = HookEvent("escalated", "a1b2c3d4e5f6", 1_750_000_000.5, priority="high", reason="recall")


# ---------------------------------------------------------------------------------------------
# The event


def test_an_event_is_plain_pseudonymous_data() -> None:
    assert EVENT.as_dict() == {
        "id": EVENT.id,
        "kind": "escalated",
        "case": "a1b2c3d4e5f6",
        "at": 1_750_000_000.5,
        "priority": "high",
        "reason": "recall",
    }
    assert HookEvent("claimed", "a1b2c3d4e5f6", 1.0).as_dict().keys() == {
        "id",
        "kind",
        "case",
        "at",
    }
    assert HookEvent("claimed", "a1b2c3", 1.0).id != HookEvent("claimed", "a1b2c3", 1.0).id


@pytest.mark.parametrize(
    ("kind", "case", "priority", "reason"),
    [
        ("updated", "a1b2c3d4", None, None),  # not a hook kind
        ("registered", "Петров Пётр", None, None),  # a name is no case id
        ("registered", "+79123456789", None, None),
        ("registered", "K7QM-3P9X", None, None),  # nor is a case code
        ("registered", "abc", None, None),
        ("escalated", "a1b2c3d4", "urgent", None),
        ("escalated", "a1b2c3d4", "high", "he is at the bridge"),
    ],
)
def test_an_event_refuses_anything_that_could_be_personal(
    kind: str, case: str, priority: str | None, reason: str | None
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message names the field only
        HookEvent(kind, case, 1.0, priority=priority, reason=reason)


# ---------------------------------------------------------------------------------------------
# Fan-out and the log consumer


@dataclass
class Recorder:
    events: list[HookEvent] = field(default_factory=list)

    async def handle(self, event: HookEvent) -> None:
        self.events.append(event)


class Broken:
    async def handle(self, event: HookEvent) -> None:
        raise RuntimeError("consumer down: secret detail")


async def test_a_failing_consumer_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, last = Recorder(), Recorder()
    hooks = Hooks([first, Broken(), last])
    with caplog.at_level(logging.ERROR, logger="hotline.hooks"):
        await hooks.emit(EVENT)
    assert first.events == [EVENT]
    assert last.events == [EVENT]
    assert "RuntimeError" in caplog.text
    assert "secret detail" not in caplog.text


async def test_the_log_consumer_writes_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="hotline.hooks"):
        await LogConsumer().handle(EVENT)
    assert caplog.messages == ["hook escalated case=a1b2c3d4e5f6 priority=high reason=recall"]


def test_hooks_setting_chooses_the_consumers() -> None:
    class Desk:
        async def feed(self, event: HookEvent) -> None: ...

    settings = load_settings(
        hooks="desk,webhook,log",
        hook_webhook_url="https://hooks.example/hotline",
        hook_webhook_secret="s3cret",
    )
    consumers = build_consumers(
        settings.hooks,
        Desk(),
        webhook_url=settings.hook_webhook_url,
        webhook_secret=b"s3cret",
    )
    assert [type(c) for c in consumers] == [DeskFeed, LogConsumer, WebhookConsumer]
    assert build_consumers(frozenset(), Desk()) == []
    with pytest.raises(SystemExit):
        load_settings(hooks="webhook")  # no URL, no secret
    with pytest.raises(SystemExit):
        load_settings(hooks="desk,carrier-pigeon")


def test_signatures() -> None:
    body = b'{"kind":"claimed"}'
    header = sign(SECRET, body)
    assert header.startswith("sha256=")
    assert len(header) == len("sha256=") + 64
    assert verify(SECRET, body, header)
    assert not verify(SECRET, body + b" ", header)
    assert not verify(b"another secret", body, header)


# ---------------------------------------------------------------------------------------------
# The webhook consumer against a real local server


@dataclass
class Receiver:
    """A webhook receiver: answers with the next status of `statuses` (then 200)."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    gate: asyncio.Event | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # a first request came

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((dict(request.headers), body))
        self.arrived.set()
        if self.gate is not None:
            await self.gate.wait()
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/hook", target.handle)
    server = TestServer(app, host="127.0.0.1", port=0)  # a free loopback port
    await server.start_server()
    try:
        yield target, str(server.make_url("/hook"))
    finally:
        await server.close()


def consumer(url: str, **kwargs: object) -> tuple[WebhookConsumer, list[float]]:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    made = WebhookConsumer(url, SECRET, sleep=sleep, backoff=1.0, **kwargs)  # type: ignore[arg-type]
    return made, delays


async def test_a_failing_receiver_is_retried_then_gets_the_signed_event(
    receiver: tuple[Receiver, str],
) -> None:
    target, url = receiver
    target.statuses = [500, 503]
    hook, delays = consumer(url, clock=lambda: 1_750_000_123.25)
    await hook.handle(EVENT)
    await hook.drain()
    await hook.aclose()

    assert len(target.requests) == 3
    assert (hook.delivered, hook.failed) == (1, 0)
    assert len(delays) == 2  # exponential backoff with jitter: 1 s, then 2 s, each 50-100 %
    assert 0.5 <= delays[0] <= 1.0
    assert 1.0 <= delays[1] <= 2.0
    for headers, body in target.requests:
        assert verify(SECRET, body, headers[SIGNATURE_HEADER])
        assert headers[TIMESTAMP_HEADER] == "1750000123"
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body) == {**EVENT.as_dict(), "sent_at": 1_750_000_123.25}


async def test_attempts_are_bounded(receiver: tuple[Receiver, str]) -> None:
    target, url = receiver
    target.statuses = [500] * 10
    hook, delays = consumer(url, attempts=4)
    await hook.handle(EVENT)
    await hook.drain()
    await hook.aclose()
    assert len(target.requests) == 4
    assert len(delays) == 3
    assert (hook.delivered, hook.failed) == (0, 1)


async def test_an_unreachable_receiver_is_retried_and_given_up(
    receiver: tuple[Receiver, str],
) -> None:
    _, url = receiver
    dead = url.replace("/hook", "/nowhere")  # 404: a non-2xx answer like any other
    hook, delays = consumer(dead, attempts=3)
    await hook.handle(EVENT)
    await hook.drain()
    refused, _ = consumer("http://127.0.0.1:9/hook", attempts=2)  # nothing listens there
    await refused.handle(EVENT)
    await refused.drain()
    await hook.aclose()
    await refused.aclose()
    assert (hook.failed, len(delays)) == (1, 2)
    assert refused.failed == 1


async def test_handling_never_waits_for_the_receiver(receiver: tuple[Receiver, str]) -> None:
    target, url = receiver
    target.gate = asyncio.Event()  # the receiver hangs until released
    hook, _ = consumer(url)
    async with asyncio.timeout(10):  # were handle() to wait for the receiver, this would fail
        for n in range(20):
            await hook.handle(HookEvent("claimed", f"a1b2c3d4{n:02d}", float(n)))
    assert len(target.requests) <= 1  # the receiver still holds the first one
    target.gate.set()
    await hook.drain()
    await hook.aclose()
    assert hook.delivered == 20
    cases = [json.loads(body)["case"] for _, body in target.requests]
    assert cases == [f"a1b2c3d4{n:02d}" for n in range(20)]  # in order


async def test_a_full_queue_drops_the_oldest(receiver: tuple[Receiver, str]) -> None:
    target, url = receiver
    target.gate = asyncio.Event()
    hook, _ = consumer(url, queue_size=3)
    for n in range(6):
        await hook.handle(HookEvent("claimed", f"a1b2c3d4{n:02d}", 1.0))
    assert hook.dropped >= 2
    target.gate.set()
    await hook.drain()
    await hook.aclose()
    assert hook.delivered + hook.dropped == 6


# -- the durable queue: a Redis stream read through a consumer group ---------------------------

STREAM = "hl:hooks:webhook"


def durable(
    url: str, client: redis.asyncio.Redis, *, claim_idle: float = 300.0
) -> WebhookConsumer:
    queue = StreamQueue(client, STREAM, 100, claim_idle=claim_idle)
    made, _ = consumer(url, queue=queue)
    return made


async def test_events_queued_before_a_restart_are_sent_by_the_next_process(
    receiver: tuple[Receiver, str], redis_backend: redis.asyncio.Redis
) -> None:
    target, url = receiver
    # a process queued them and stopped before its worker ran
    await StreamQueue(redis_backend, STREAM, 100).put(EVENT)
    await StreamQueue(redis_backend, STREAM, 100).put(HookEvent("claimed", "a1b2c3d4e5f6", 2.0))

    after = durable(url, redis_backend)
    await asyncio.wait_for(after.drain(), 10)
    await after.aclose()
    assert [json.loads(body)["kind"] for _, body in target.requests] == ["escalated", "claimed"]
    assert json.loads(target.requests[0][1])["id"] == EVENT.id  # the same event, same id
    assert await redis_backend.xlen(STREAM) == 0  # acknowledged and gone


async def test_an_event_a_dead_process_had_taken_is_taken_over(
    receiver: tuple[Receiver, str], redis_backend: redis.asyncio.Redis
) -> None:
    target, url = receiver
    target.gate = asyncio.Event()  # the receiver hangs: the first process dies meanwhile
    dying = durable(url, redis_backend)
    await dying.handle(EVENT)
    await asyncio.wait_for(target.arrived.wait(), 10)
    assert dying._worker is not None
    dying._worker.cancel()  # killed mid-post: the entry stays taken, never acknowledged
    target.gate.set()
    assert await redis_backend.xlen(STREAM) == 1

    survivor = durable(url, redis_backend, claim_idle=0)
    await asyncio.wait_for(survivor.drain(), 10)
    await survivor.aclose()
    await dying.aclose()
    assert survivor.delivered == 1
    assert json.loads(target.requests[-1][1])["id"] == EVENT.id
    assert await redis_backend.xlen(STREAM) == 0


async def test_an_unreadable_queue_entry_is_dropped_not_retried_forever(
    receiver: tuple[Receiver, str], redis_backend: redis.asyncio.Redis
) -> None:
    target, url = receiver
    await redis_backend.xadd(STREAM, {"e": "not json"})
    await StreamQueue(redis_backend, STREAM, 100).put(EVENT)
    hook = durable(url, redis_backend)
    await asyncio.wait_for(hook.drain(), 10)
    await hook.aclose()
    assert hook.delivered == 1
    assert len(target.requests) == 1
    assert await redis_backend.xlen(STREAM) == 0


def test_the_app_queues_webhook_events_in_redis() -> None:
    fake = fakeredis.FakeAsyncRedis()
    made = build_consumers(
        frozenset({"webhook"}),
        desk=None,  # type: ignore[arg-type]
        webhook_url="http://127.0.0.1:9/hook",
        webhook_secret=SECRET,
        redis=fake,
        prefix="hl",
    )
    (webhook,) = made
    assert isinstance(webhook, WebhookConsumer)
    assert isinstance(webhook._queue, StreamQueue)
    assert webhook._queue.key == STREAM


async def test_a_lost_consumer_group_is_made_again(
    receiver: tuple[Receiver, str], redis_backend: redis.asyncio.Redis
) -> None:
    target, url = receiver
    hook = durable(url, redis_backend)
    await hook.handle(EVENT)
    await asyncio.wait_for(hook.drain(), 10)
    await redis_backend.flushall()  # Redis restarted without persistence: no stream, no group
    later = HookEvent("claimed", "a1b2c3d4e5f6", 3.0)
    await hook.handle(later)
    await asyncio.wait_for(hook.drain(), 10)
    await hook.aclose()
    assert [json.loads(body)["id"] for _, body in target.requests] == [EVENT.id, later.id]
