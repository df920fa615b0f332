"""What the card says of the caller's situation (bot/desk/profile.py), through the real
Dispatcher: his language, the group's size, the injuries' category, how he reached the desk; a
serious injury or a group of five or more raises the priority (never a suspected probe's); the
location only ever in the claimer's private details. And the card's canned-reply buttons, and
closed topics deleted after TOPIC_RETENTION_DAYS."""

from __future__ import annotations

import pytest
from aiogram.methods import DeleteForumTopic

from tests.e2e.conftest import DESK_CHAT, Hotline, HotlineFactory
from tests.e2e.desk_harness import (
    OPERATORS,
    DeskView,
    Operator,
    canned_buttons,
    dt,
    profile_line,
    recall,
    reference,
    to_meetup,
)

DAY = 86400.0


@pytest.fixture
async def hotline(make_hotline: HotlineFactory) -> Hotline:
    return await make_hotline(operator_ids=OPERATORS)


async def test_a_group_of_seven_raises_a_recall_to_the_highest_priority(hotline: Hotline) -> None:
    view = DeskView(hotline)
    caller = hotline.caller(lang="uk")
    await recall(caller)
    topic = await view.topic(caller)
    ref = await reference(caller)
    text, _ = view.card()
    assert text.endswith("\n" + profile_line("uk", people=2, via="own"))  # the form's answer
    assert (await view.case(caller)).priority == 2

    await caller.location()
    await caller.text("7")  # how many are with him now
    case = await view.case(caller)
    assert case.priority == 3
    raised = dt("desk-priority-raised", priority="highest", why="group", people=7)
    assert raised in view.posts(caller.out, topic)
    queued = dt("desk-queue", code=ref, priority="highest", reason="recall")
    assert view.posts(caller.out) == [queued]
    text, _ = view.card()
    assert text.endswith("\n" + profile_line("uk", people=7, via="own"))
    assert dt("desk-priority", priority="highest") in text

    await caller.tap("health-none")  # no second raise for the same escalation
    assert (await view.case(caller)).priority == 3
    assert not [p for p in view.posts(caller.out, topic) if p.startswith("⬆️")]
    assert queued not in view.posts(caller.out)
    # where he is: in the claimer's private details only, never on the card or in a topic
    group = str(view.calls())
    assert "47.91" not in group
    assert "37.62" not in group


async def test_a_serious_injury_raises_it_and_the_card_says_so(hotline: Hotline) -> None:
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    await caller.location()
    await caller.text("2")
    await caller.tap("health-serious")
    case = await view.case(caller)
    assert case.priority == 3
    topic = await view.topic(caller)
    raised = dt("desk-priority-raised", priority="highest", why="injuries", people=2)
    assert raised in view.posts(caller.out, topic)
    text, _ = view.card()
    assert text.endswith("\n" + profile_line(people=2, injuries="serious", via="own"))


async def test_an_emergency_is_not_raised_past_the_highest(hotline: Hotline) -> None:
    view = DeskView(hotline)
    caller = hotline.caller()
    await caller.command("start")
    await caller.tap("menu-emergency")
    await caller.tap("skip")  # where
    await caller.text("12")
    assert (await view.case(caller)).priority == 3
    topic = await view.topic(caller)
    posts = view.posts(caller.out, topic)
    assert not [p for p in posts if p.startswith("⬆️")]
    text, _ = view.card()
    assert text.endswith("\n" + profile_line(people=12))


async def test_a_suspected_probe_is_never_raised(hotline: Hotline) -> None:
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    topic = await view.topic(caller)
    operator = Operator(hotline, OPERATORS[0])
    await operator.say(topic, "/probe")
    assert (await view.case(caller)).priority == 1
    await caller.location()
    await caller.text("9")
    await caller.tap("health-serious")
    assert (await view.case(caller)).priority == 1
    assert not [p for p in view.posts(topic=topic) if p.startswith("⬆️")]
    text, _ = view.card()
    marked = dt("desk-card-mark", mark="probe", operator=dt("desk-operator", n=1), when="")
    assert marked.rstrip(", ") in text


async def test_the_card_offers_canned_replies_while_the_case_is_open(hotline: Hotline) -> None:
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    topic = await view.topic(caller)
    _, markup = view.card()
    assert canned_buttons(markup) == ["safe", "location", "stay", "drone", "cloth", "contact"]
    operator = Operator(hotline, OPERATORS[0])
    await operator.say(topic, "/claim")
    await operator.say(topic, "/abort")
    await operator.confirm(topic)  # typed, Abort asks first
    assert not (await view.case(caller)).open
    _, markup = view.card()
    assert canned_buttons(markup) == []  # nobody to talk to


async def test_a_closed_topic_of_a_met_case_is_deleted_after_the_retention(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await make_hotline(operator_ids=OPERATORS, topic_retention_days=3)
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    await to_meetup(caller)
    topic = await view.topic(caller)
    operator = Operator(hotline, OPERATORS[0])
    await operator.press(topic, "claim")
    await operator.press(topic, "met")
    await operator.press(topic, "confirm-met")
    met_at = hotline.clock.now
    assert DeleteForumTopic(chat_id=DESK_CHAT, message_thread_id=topic) not in view.calls()
    levels = hotline.app.service_levels
    await levels.tick(met_at + 3 * DAY - 60)
    assert DeleteForumTopic(chat_id=DESK_CHAT, message_thread_id=topic) not in view.calls()
    await levels.tick(met_at + 3 * DAY + 1)
    deleted = [m for m in view.calls() if isinstance(m, DeleteForumTopic)]
    assert deleted == [DeleteForumTopic(chat_id=DESK_CHAT, message_thread_id=topic)]
    await levels.tick(met_at + 4 * DAY)  # once
    assert len([m for m in view.calls() if isinstance(m, DeleteForumTopic)]) == 1
    assert await hotline.redis.zcard("hl:desk:topics-ending") == 0
