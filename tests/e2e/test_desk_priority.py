"""Priority before order, in virtual time: a flood of probes asking for an operator never holds
back a real emergency's posts, the group's budget is kept, a caller's own replies never wait
behind group posts, and re-announcements come as one digest per interval.

The app is `build_app`'s, fed real Updates through the real Dispatcher, with the throttle and
its group gate on a virtual clock: sleeping waits until the test moves the clock on.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from typing import Any, TypeVar

import fakeredis
from aiogram.methods import CreateForumTopic, SendMessage, TelegramMethod

from bot.app import build_app
from bot.group_posts import GroupGate, posting_for
from bot.offline.session import RecordingSession, Sent
from bot.throttle import Throttle
from flows.model import Priority
from tests.e2e.conftest import DESK_CHAT, NOW, STEP, Caller, Hotline, T, settings, t
from tests.e2e.desk_harness import OPERATORS, DeskView, dt

PROBES = 200
MINUTE = 60.0
_T = TypeVar("_T")


class VirtualClock:
    """Time that moves only when the test moves it; sleepers wake in order of their deadline."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), woken))
        await woken

    async def settle(self) -> None:
        for _ in range(60):  # let what was woken run until it waits again
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        until = self.now + seconds
        while self._sleepers and self._sleepers[0][0] <= until:
            deadline, _, woken = heapq.heappop(self._sleepers)
            self.now = max(self.now, deadline)
            if not woken.done():
                woken.set_result(None)
            await self.settle()
        self.now = until
        await self.settle()

    async def run(self, work: Awaitable[_T], step: float = 0.25, limit: float = 600) -> _T:
        """Await `work`, moving the clock on while it waits."""
        task = asyncio.ensure_future(work)
        spent = 0.0
        await self.settle()
        while not task.done():
            assert spent < limit, "still waiting after the limit of virtual time"
            await self.advance(step)
            spent += step
        return task.result()


def _app(clock: VirtualClock, session: RecordingSession) -> Hotline:
    gate = GroupGate(clock=clock, sleep=clock.sleep)
    throttle = Throttle(clock=clock, sleep=clock.sleep, gate=gate)
    app = build_app(
        settings(operator_ids=OPERATORS, rate_limit_per_minute=1000),
        session=session,
        redis=fakeredis.FakeAsyncRedis(),
        clock=clock,
        throttle=throttle,
        translator=T,
    )
    return Hotline(app, session, clock)  # type: ignore[arg-type]


async def _send(hotline: Hotline, clock: VirtualClock, caller: Caller, text: str) -> None:
    """One message of his, through the Dispatcher; his own replies are waited for (in virtual
    time), what the desk does is not."""
    await hotline.app.dispatcher.feed_update(hotline.app.bot, caller.account.text(text))
    await clock.run(hotline.app.deliverer.drain())


def _group(sent: Sent) -> bool:
    return getattr(sent.method, "chat_id", None) == DESK_CHAT and sent.name.startswith(
        ("Send", "Copy", "Edit", "CreateForumTopic")
    )


async def test_an_emergency_goes_before_200_probes_and_the_budget_holds() -> None:
    clock = VirtualClock()
    session = RecordingSession()
    timeline: list[tuple[float, TelegramMethod[Any]]] = []
    session.listeners.append(lambda sent: timeline.append((clock.now, sent.method)))
    hotline = _app(clock, session)
    app = hotline.app

    probes = [hotline.caller(user_id=200_000_000 + n) for n in range(PROBES)]
    for probe in probes:
        await _send(hotline, clock, probe, "/operator")  # one each: a normal escalation
        await clock.advance(STEP)
    # the probes' own answers came at once; the group is far behind, within its budget
    for probe in probes:
        texts = [
            s.method.text
            for s in session.sent
            if isinstance(s.method, SendMessage) and s.method.chat_id == probe.user_id
        ]
        assert t("ru", "handoff") in texts
    group_times = [at for at, m in timeline if getattr(m, "chat_id", None) == DESK_CHAT]
    assert all(sum(1 for u in group_times if s <= u < s + MINUTE) <= 20 for s in group_times), (
        "more than 20 group posts in a minute"
    )
    backlog = app.throttle.gate.waiting(DESK_CHAT) if app.throttle and app.throttle.gate else 0
    assert backlog > 50  # dozens of probe cases still wait for their posts

    # a real emergency
    caller = hotline.caller(user_id=100_900_900)
    await _send(hotline, clock, caller, "/start")
    lane = app.desk_lane
    assert lane is not None
    handed: list[int] = []  # where the timeline was when the desk got the emergency
    kick = lane.kick

    def kicked(key: str) -> None:
        if key == caller.key and not handed:
            handed.append(len(timeline))
        kick(key)

    lane.kick = kicked  # type: ignore[method-assign]
    started = clock.now
    await _send(hotline, clock, caller, t("ru", "btn-menu-emergency"))
    assert await caller.state() == "emergency_location"
    screen = [
        s.method.text
        for s in session.sent
        if isinstance(s.method, SendMessage) and s.method.chat_id == caller.user_id
    ]
    assert screen[-1].endswith(t("ru", "emergency-location"))  # he was answered at once
    await clock.run(_until(lambda: bool(handed) and len(_posts_after(timeline, handed[0])) >= 4))
    # from when the desk has it, the next posts into the group are the emergency's three, but
    # for one that had its turn already and was on its way (30 a second overall)
    after = _posts_after(timeline, handed[0])
    handed_at = timeline[handed[0] - 1][0] if handed[0] else started
    in_flight = [
        m
        for at, m in after[:1]
        if at <= handed_at + 2 / 30 and not isinstance(m, CreateForumTopic)
    ]
    first = after[len(in_flight) : len(in_flight) + 3]
    topic, card, queue = (m for _, m in first)
    assert isinstance(topic, CreateForumTopic)
    assert topic.name.endswith(dt("desk-stage", stage="emergency"))
    case = await DeskView(hotline).case(caller)
    assert isinstance(card, SendMessage)
    assert card.message_thread_id == case.topic
    assert isinstance(queue, SendMessage)
    assert queue.message_thread_id is None
    assert dt("desk-reason", reason="emergency") in queue.text
    assert all(at - started <= 3.0 for at, _ in first), [at - started for at, _ in first]

    await lane.stop()
    waiting = [await hotline.redis.llen(lane.lane_key(p.key)) for p in probes]
    assert sum(waiting) > 0  # what the group has not had yet waits in Redis, nothing dropped


def _posts_after(
    timeline: list[tuple[float, TelegramMethod[Any]]], mark: int
) -> list[tuple[float, TelegramMethod[Any]]]:
    return [
        (at, m)
        for at, m in timeline[mark:]
        if getattr(m, "chat_id", None) == DESK_CHAT
        and type(m).__name__.startswith(("Send", "Copy", "Edit", "CreateForumTopic"))
    ]


async def _until(done: Any) -> None:
    while not done():  # noqa: ASYNC110 - polled between the virtual clock's steps
        await asyncio.sleep(0)


async def test_the_gate_serves_priority_first_and_keeps_slots_for_emergencies() -> None:
    clock = VirtualClock()
    gate = GroupGate(clock=clock, sleep=clock.sleep)
    order: list[str] = []

    async def post(name: str, priority: int, since: float) -> None:
        with posting_for(priority, since):
            await gate.turn(DESK_CHAT)
        order.append(name)

    normal = [asyncio.ensure_future(post(f"n{i}", Priority.NORMAL, i)) for i in range(40)]
    await clock.settle()
    assert order == [f"n{i}" for i in range(17)]  # 3 of the 20 kept for emergencies
    recall = asyncio.ensure_future(post("recall", Priority.HIGH, 100))
    urgent = [asyncio.ensure_future(post(f"e{i}", Priority.HIGHEST, 200)) for i in range(3)]
    await clock.settle()
    assert order[17:] == ["e0", "e1", "e2"]  # at once, in the kept slots
    await clock.advance(MINUTE)
    assert order[20] == "recall"  # then the re-call, before the older normal ones
    assert order[21:] == [f"n{i}" for i in range(17, 17 + len(order) - 21)]
    await clock.run(asyncio.gather(*normal, recall, *urgent))


async def test_over_an_hour_200_unclaimed_cases_make_one_digest_per_interval(
    make_hotline: Any,
) -> None:
    hotline: Hotline = await make_hotline(operator_ids=OPERATORS, rate_limit_per_minute=1000)
    view = DeskView(hotline)
    for n in range(PROBES):
        await hotline.caller(user_id=300_000_000 + n).command("operator")
    start = hotline.clock.now
    levels = hotline.app.service_levels
    mark = len(hotline.session.sent)
    digests: list[tuple[float, str]] = []
    for tick in range(121):  # every 30 s for an hour
        moment = start + tick * 30
        before = len(hotline.session.sent)
        await levels.tick(moment)
        digests += [(moment, text) for text in view.posts(hotline.session.sent[before:])]
    assert view.posts(hotline.session.sent[mark:]) == [text for _, text in digests]
    times = [at for at, _ in digests]
    assert len(times) >= 5
    assert all(b - a >= 5 * MINUTE for a, b in itertools.pairwise(times))  # one per interval
    counts = []
    for _, text in digests:
        lines = text.splitlines()
        count = next(n for n in range(PROBES + 1) if lines[0] == dt("desk-digest", count=n))
        counts.append(count)
        named = min(count, 30)
        assert len(lines) == 1 + named + (count > 30)
        if count > 30:
            assert lines[-1] == dt("desk-digest-more", count=count - 30)
    # each case is due every 10 minutes: over the hour every one is told about, again and
    # again, in a handful of posts instead of a thousand
    assert sum(counts) >= PROBES * 5
    assert len(digests) <= 13


async def test_an_unclaimed_emergency_is_announced_on_its_own_to_the_operators_on_duty(
    make_hotline: Any,
) -> None:
    hotline: Hotline = await make_hotline(operator_ids=OPERATORS)
    view = DeskView(hotline)
    caller = hotline.caller()
    await caller.command("start")
    await caller.tap("menu-emergency")
    since = (await view.case(caller)).since
    probe = hotline.caller(user_id=300_100_100)
    await probe.command("operator")
    levels = hotline.app.service_levels
    mark = len(hotline.session.sent)
    await levels.tick(since + 2 * MINUTE)
    posts = view.posts(hotline.session.sent[mark:])
    assert len(posts) == 1  # the probe's normal case waits for its own timeout
    (post,) = posts
    assert post.startswith("🆘")
    for n, user_id in enumerate(OPERATORS, 1):
        assert f'<a href="tg://user?id={user_id}">{dt("desk-operator", n=n)}</a>' in post
    mark = len(hotline.session.sent)
    await levels.tick(since + 3 * MINUTE)
    assert view.posts(hotline.session.sent[mark:]) == []
    await levels.tick(since + 4 * MINUTE)
    assert len(view.posts(hotline.session.sent[mark:])) == 1  # every 2 minutes, on its own
