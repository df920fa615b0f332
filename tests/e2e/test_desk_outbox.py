"""The desk's part of what an operator does (the claim's line in the topic and its card) leaves
from the caller's outbox: a network error after the commit delays it, never loses it, and
Telegram's redelivery of the operator's update never doubles it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import (
    BanChatMember,
    EditMessageText,
    SendMessage,
    TelegramMethod,
    UnbanChatMember,
)

from bot.offline.session import Sent
from flows.hooks import HookEvent
from flows.store import StoreUnavailable
from tests.e2e.conftest import Caller, Hotline, HotlineFactory
from tests.e2e.desk_harness import (
    OPERATORS,
    STRANGER,
    DeskView,
    Operator,
    Recorder,
    dt,
    op_label,
    recall,
    to_meetup,
)


async def test_a_claim_whose_post_failed_on_the_network_is_posted_once_later(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await make_hotline(operator_ids=OPERATORS)
    # long enough that the retry cannot come before the feed returns on a loaded machine, short
    # enough for the test to wait for it
    hotline.app.deliverer.retry_first = 0.5
    view = DeskView(hotline)
    caller = hotline.caller(lang="ru")
    op1 = Operator(hotline, OPERATORS[0])
    await recall(caller)
    topic = await view.topic(caller)
    claimed = dt("desk-claimed", operator=op_label(1))
    posted = asyncio.Event()

    def watch(_: Sent) -> None:
        if claimed in view.posts(topic=topic):
            posted.set()

    hotline.session.listeners.append(watch)
    down = TelegramNetworkError(SendMessage(chat_id=1, text=""), "connection reset")
    hotline.session.fail_next(SendMessage, down)
    claim = op1.account.command("claim", topic=topic)
    await op1.feed(claim)
    assert claimed not in view.posts(topic=topic)  # the network failed: not posted yet
    assert (await view.case(caller)).claimer is not None  # but the claim holds
    assert caller.key in hotline.app.deliverer.retrying

    async with asyncio.timeout(10):
        await posted.wait()  # the retry posts it
    await hotline.app.deliverer.drain()
    assert view.posts(topic=topic).count(claimed) == 1

    before = len(hotline.session.sent)
    await op1.feed(claim)  # Telegram delivers the operator's update again
    assert claimed not in view.posts(hotline.session.sent[before:], topic)
    assert view.posts(topic=topic).count(claimed) == 1


def card_edits(view: DeskView, card: int) -> list[EditMessageText]:
    return [m for m in view.calls() if isinstance(m, EditMessageText) and m.message_id == card]


class Heard(Recorder):
    """A hook consumer that says when it heard of a claim (the claim's last step)."""

    def __init__(self) -> None:
        super().__init__()
        self.claimed = asyncio.Event()

    async def handle(self, event: HookEvent) -> None:
        await super().handle(event)
        if event.kind == "claimed":
            self.claimed.set()


async def claimed_once_each(
    hotline: Hotline, view: DeskView, caller: Caller, hooks: Recorder, claim_from: int
) -> None:
    """After a claim: the card shows the claimer, edited once by the claim; its line in the
    topic, its hook event and its audit line, once each."""
    case = await view.case(caller)
    assert case.card is not None
    topic = await view.topic(caller)
    edits = card_edits(view, case.card)[claim_from:]
    assert len(edits) == 1
    assert op_label(1) in (edits[0].text or "")
    assert view.posts(topic=topic).count(dt("desk-claimed", operator=op_label(1))) == 1
    assert [e.kind for e in hooks.events].count("claimed") == 1
    audited = [e for e in await hotline.app.audit.last(50) if e["what"] == "claim"]
    assert [(e["case"], e["result"], e["via"]) for e in audited] == [(case.case, "ok", "command")]


@pytest.mark.parametrize("failing", [EditMessageText, SendMessage])
async def test_a_claim_failing_on_the_network_mid_way_does_each_step_once(
    make_hotline: HotlineFactory, failing: type[TelegramMethod[Any]]
) -> None:
    """The claim's card edit (its second step) or its line in the topic (its third) fails on
    the network once: that step is tried again and done, the steps before it are not done
    again, the ones after it follow; Telegram's redelivery of the command doubles nothing."""
    hotline = await make_hotline(operator_ids=OPERATORS)
    hotline.app.deliverer.retry_first = 0.01
    hooks = Heard()
    hotline.app.hooks.consumers.append(hooks)
    view = DeskView(hotline)
    caller = hotline.caller(lang="ru")
    op1 = Operator(hotline, OPERATORS[0])
    await recall(caller)
    topic = await view.topic(caller)
    card = (await view.case(caller)).card
    assert card is not None
    before = len(card_edits(view, card))

    down = TelegramNetworkError(SendMessage(chat_id=1, text=""), "connection reset")
    hotline.session.fail_next(failing, down)
    claim = op1.account.command("claim", topic=topic)
    await op1.feed(claim)
    async with asyncio.timeout(10):
        await hooks.claimed.wait()
    await hotline.app.drain()
    await claimed_once_each(hotline, view, caller, hooks, before)

    await op1.feed(claim)  # Telegram delivers the operator's update again
    await hotline.app.drain()
    await claimed_once_each(hotline, view, caller, hooks, before)


async def test_an_actions_audit_line_is_not_lost_when_redis_fails_writing_it(
    make_hotline: HotlineFactory,
) -> None:
    """/meet is committed with its desk steps, its audit line first: Redis failing as the line
    is written delays it (and what follows it), never loses it, and never writes it twice."""
    hotline = await make_hotline(operator_ids=OPERATORS)
    hotline.app.deliverer.retry_first = 0.01
    view = DeskView(hotline)
    caller = hotline.caller(lang="ru")
    op1 = Operator(hotline, OPERATORS[0])
    await recall(caller)
    topic = await view.topic(caller)
    await op1.feed(op1.account.command("claim", topic=topic))
    await hotline.app.drain()
    await to_meetup(caller)
    done = dt("desk-done", operator=op_label(1), action="meet")
    posted = asyncio.Event()

    def watch(_: Sent) -> None:
        if done in view.posts(topic=topic):
            posted.set()

    hotline.session.listeners.append(watch)
    audit = hotline.app.audit
    record, failures = audit.record, [StoreUnavailable("conversation store unavailable")]

    async def failing_once(who: str, action: str, case: str, **extra: str) -> None:
        if action == "meet" and failures:
            raise failures.pop()
        await record(who, action, case, **extra)

    audit.record = failing_once  # type: ignore[method-assign]
    meet = op1.account.command("meet", "05:30 | у трассы", topic=topic)
    await op1.feed(meet)
    assert not failures  # it failed, after the commit
    async with asyncio.timeout(10):
        await posted.wait()
    await hotline.app.drain()
    await op1.feed(meet)  # Telegram delivers the operator's update again
    await hotline.app.drain()
    assert view.posts(topic=topic).count(done) == 1
    meets = [e for e in await audit.last(50) if e["what"] == "meet"]
    assert [(e["result"], e["via"]) for e in meets] == [("ok", "command")]


@pytest.mark.parametrize("failing", [BanChatMember, SendMessage])
async def test_a_join_whose_removal_or_alert_failed_on_the_network_is_done_once_later(
    make_hotline: HotlineFactory, failing: type[TelegramMethod[Any]]
) -> None:
    """The removal of a stranger who joined (its first step) or the alert in the queue view
    (its last) fails on the network once: it is tried again and done; he is removed once, the
    group told once, the audit has one line; the same join told again changes nothing."""
    hotline = await make_hotline(operator_ids=OPERATORS)
    assert hotline.app.desk_lane is not None
    view = DeskView(hotline)
    stranger = Operator(hotline, STRANGER, name="Stranger")
    down = TelegramNetworkError(SendMessage(chat_id=1, text=""), "connection reset")
    hotline.session.fail_next(failing, down)
    name = f'<a href="tg://user?id={STRANGER}">Stranger</a>'
    alert = dt("desk-stranger-removed", name=name)
    told = asyncio.Event()

    def watch(_: Sent) -> None:
        if alert in view.posts():
            told.set()

    hotline.session.listeners.append(watch)
    await stranger.feed(stranger.account.joins())
    async with asyncio.timeout(10):
        await told.wait()  # the lane tried again (after its first back-off)
    await hotline.app.drain()
    await stranger.feed(stranger.account.member_joined())  # the same join, told again
    await hotline.app.drain()
    calls = [m for m in view.calls() if isinstance(m, BanChatMember | UnbanChatMember)]
    assert [type(m).__name__ for m in calls] == ["BanChatMember", "UnbanChatMember"]
    assert view.posts().count(alert) == 1
    joins = [e for e in await hotline.app.audit.last(10) if e["what"] == "joined"]
    assert [e["result"] for e in joins] == ["removed"]


async def test_a_claim_whose_desk_part_failed_to_commit_gets_it_when_the_update_comes_again(
    make_hotline: HotlineFactory,
) -> None:
    """Redis fails right after the claim is recorded, before its desk part is committed: the
    update fails, Telegram delivers it again, and the claim's steps are done then, once (a
    later /claim by the same operator is only told the case is his)."""
    hotline = await make_hotline(operator_ids=OPERATORS)
    hooks = Heard()
    hotline.app.hooks.consumers.append(hooks)
    view = DeskView(hotline)
    caller = hotline.caller(lang="ru")
    op1 = Operator(hotline, OPERATORS[0])
    await recall(caller)
    topic = await view.topic(caller)
    card = (await view.case(caller)).card
    assert card is not None
    before = len(card_edits(view, card))
    actions = hotline.app.desk_actions
    follow_up, failures = actions._follow_up, [StoreUnavailable("conversation store unavailable")]

    async def failing_once(case: Any, update_id: int, steps: Any, event: Any = None) -> None:
        if failures:
            raise failures.pop()
        await follow_up(case, update_id, steps, event)

    actions._follow_up = failing_once  # type: ignore[method-assign]
    claim = op1.account.command("claim", topic=topic)
    await op1.feed(claim)
    assert not failures
    assert (await view.case(caller)).claimer is not None  # the claim held
    assert [e.kind for e in hooks.events].count("claimed") == 0  # its desk part did not

    await op1.feed(claim)  # Telegram delivers it again
    await hotline.app.drain()
    await claimed_once_each(hotline, view, caller, hooks, before)
    await op1.feed(claim)  # and once more
    await hotline.app.drain()
    await claimed_once_each(hotline, view, caller, hooks, before)

    await op1.feed(op1.account.command("claim", topic=topic))  # a new /claim of his
    await hotline.app.drain()
    assert op1.replies() == [dt("desk-yours")]
    await claimed_once_each(hotline, view, caller, hooks, before)
