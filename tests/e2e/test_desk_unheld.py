"""A case that never reached the desk costs the desk nothing: after a registration (no hand-off,
no emergency, no alert) Redis holds no desk key of any kind for it and the desk lane was never
woken; the hooks still hear of it by its registered id. Everything the desk does later still
works from there: an escalation (the card shows his answers from the form), the hook events and
the group's feed, Met and the operator's Erase (nothing of the desk left), his /forget or
withdrawal (the hooks name the case), and a linked account's escalation (one topic for the
case). On the real Redis server, through the real Dispatcher."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis.asyncio
from aiogram.methods import CreateForumTopic

from tests.e2e.conftest import (
    Caller,
    Hotline,
    HotlineFactory,
    deployment_keys,
    kept_after_erase,
    register,
)
from tests.e2e.desk_harness import (
    OPERATORS,
    DeskView,
    Operator,
    Recorder,
    dt,
    profile_line,
    reference,
    to_meetup,
)
from tests.e2e.test_canary_e2e import CALLER_ID, PLACE
from tests.e2e.test_linked_case import linked_at_the_front
from tests.security.helpers import register_with_canaries

pytestmark = pytest.mark.redis

# What the desk may keep in a conversation's slot: its record, the operators' messages he was
# sent, the group's messages showing his, the counts of the case's links, the lane's jobs
DESK_PARTS = ("desk", "relayed", "deskposts", "links", "desklane")
# Keys of the desk that name no conversation but point at one (the topic's, a shared topic's,
# the index earlier releases kept) or list them (open escalations, lanes with work)
DESK_INDEXES = ("hl:topic:", "hl:casetopic:", "hl:deskcase:", "hl:desk:ended:")


async def desk_keys_of(hotline: Hotline, caller: Caller) -> list[str]:
    """Every key the desk keeps of this conversation, or that points at it."""
    redis = hotline.redis
    store = hotline.app.store
    mine = [store.key(caller.key, part) for part in DESK_PARTS]
    found = [k for k in await hotline.keys() if k in mine or k.startswith(DESK_INDEXES)]
    for listing in ("hl:desk:open", "hl:desk:lanes"):
        if await redis.zscore(listing, caller.key) is not None:
            found.append(f"{listing} <- his key")
    for name in found:
        assert ":{" in name or name.startswith(DESK_INDEXES) or "<-" in name
    return sorted(found)


async def at_the_desk(make_hotline: HotlineFactory, real: redis.asyncio.Redis) -> Hotline:
    hotline = await make_hotline(real, operator_ids=OPERATORS)
    hotline.app.hooks.consumers.append(Recorder())
    return hotline


def recorder(hotline: Hotline) -> Recorder:
    found = [c for c in hotline.app.hooks.consumers if isinstance(c, Recorder)]
    assert len(found) == 1
    return found[0]


def lane_kicks(hotline: Hotline) -> list[str]:
    """The conversations the desk lane is woken for from now on (the real lane still works)."""
    lane = hotline.app.desk_lane
    assert lane is not None
    kicked: list[str] = []
    kick: Callable[[str], None] = lane.kick

    def counted(key: str) -> None:
        kicked.append(key)
        kick(key)

    lane.kick = counted  # type: ignore[method-assign]
    return kicked


async def registered_idle(hotline: Hotline, caller: Caller) -> str:
    """Registered and left idle: nothing of the desk's, no lane woken, no group call; the hooks
    heard of it by its registered id. The case id."""
    kicked = lane_kicks(hotline)
    await register(caller)
    await hotline.app.drain()
    case_id = (await caller.conversation()).case_id
    assert case_id is not None
    assert await desk_keys_of(hotline, caller) == []
    assert kicked == []
    assert hotline.desk() == []
    assert [(e.kind, e.case) for e in recorder(hotline).events] == [("registered", case_id)]
    return case_id


async def test_a_registration_that_never_reached_the_desk_leaves_nothing_of_the_desk(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await at_the_desk(make_hotline, real_redis)
    caller = hotline.caller()
    await registered_idle(hotline, caller)
    # and so it stays while he only looks at his case, or confirms his details again (an
    # event that tells the desk nothing: the lane is not woken)
    kicked = lane_kicks(hotline)
    await caller.command("status")
    await caller.tap("update")
    assert await caller.state() == "review"
    await caller.press("confirm")
    assert await caller.state() == "registered"
    await hotline.app.drain()
    assert await desk_keys_of(hotline, caller) == []
    assert kicked == []
    assert [e.kind for e in recorder(hotline).events] == ["registered"]
    # a case with a safety word too (set after the registration)
    owner = hotline.caller(CALLER_ID, "ru")
    await register_with_canaries(owner)
    await hotline.app.drain()
    assert await desk_keys_of(hotline, owner) == []
    assert hotline.desk() == []


async def test_his_later_escalation_shows_his_answers_and_names_the_registered_case(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await at_the_desk(make_hotline, real_redis)
    view = DeskView(hotline)
    caller = hotline.caller()
    case_id = await registered_idle(hotline, caller)

    await caller.command("operator")
    assert await caller.state() == "handoff"
    topic = await view.topic(caller)
    ref = await reference(caller)
    created = [m for m in hotline.desk() if isinstance(m, CreateForumTopic)]
    assert len(created) == 1
    assert ref in created[0].name
    text, _ = view.card()
    # the answers of the form he gave before he ever reached the desk (people: 2)
    assert profile_line(people=2, via="own") in text
    assert (await view.case(caller)).case == case_id

    operator = Operator(hotline, OPERATORS[0])
    await operator.say(topic, "/claim")
    await hotline.app.drain()
    events = recorder(hotline).events
    assert [(e.kind, e.case) for e in events] == [
        ("registered", case_id),
        ("escalated", case_id),
        ("claimed", case_id),
    ]
    # the group's own feed of the claim, found without an index of its own
    assert dt("desk-feed", code=ref, event="claimed") in view.posts(operator.out)
    assert not [k for k in await hotline.keys() if k.startswith("hl:deskcase:")]


@pytest.mark.parametrize("ending", ["met", "operator-erase"])
async def test_an_operator_ends_a_case_that_reached_the_desk_only_later(
    ending: str, real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await at_the_desk(make_hotline, real_redis)
    view = DeskView(hotline)
    caller = hotline.caller()
    case_id = await registered_idle(hotline, caller)
    operator = Operator(hotline, OPERATORS[0])
    if ending == "met":
        await caller.tap("ready")
        await caller.text("Я иду сдаваться")
        topic = await view.topic(caller)
        await operator.press(topic, "claim")
        await to_meetup(caller)
        await operator.say(topic, f"/meet 05:30 | {PLACE}")
        await operator.say(topic, "/met")
    else:
        await caller.command("operator")
        topic = await view.topic(caller)
        await operator.press(topic, "claim")
        await operator.say(topic, "/erase")
    await operator.confirm(topic)
    await hotline.app.drain()

    kind = "completed" if ending == "met" else "erased"
    events = recorder(hotline).events
    assert (events[-1].kind, events[-1].case) == (kind, case_id)
    assert {e.case for e in events} == {case_id}
    left = await desk_keys_of(hotline, caller)
    if ending == "met":  # the topic stays closed until the retention deletes it
        assert left == [f"hl:desk:ended:{topic}"]
    else:
        assert left == []
    assert {k for k in await hotline.keys() if caller.key in k} <= kept_after_erase(caller.key)


@pytest.mark.parametrize("ending", ["forget", "withdrawal"])
async def test_his_own_ending_of_a_case_the_desk_never_saw_reaches_the_hooks(
    ending: str, real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await at_the_desk(make_hotline, real_redis)
    caller = hotline.caller()
    case_id = await registered_idle(hotline, caller)
    kicked = lane_kicks(hotline)
    if ending == "forget":
        await caller.command("forget")
    else:
        await caller.command("cancel")
        await caller.press("withdraw-yes")
    await hotline.app.drain()

    kind = "erased" if ending == "forget" else "withdrawn"
    events = recorder(hotline).events
    assert [(e.kind, e.case) for e in events] == [("registered", case_id), (kind, case_id)]
    assert kicked == []  # nothing of his at the desk: nothing to erase there
    assert hotline.desk() == []
    assert await desk_keys_of(hotline, caller) == []
    assert {k for k in await hotline.keys() if caller.key in k} <= kept_after_erase(caller.key)


async def test_a_linked_account_escalates_a_case_its_owner_never_took_to_the_desk(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await at_the_desk(make_hotline, real_redis)
    view = DeskView(hotline)
    owner = hotline.caller(CALLER_ID, "ru")
    code = await register_with_canaries(owner, safety_word=False)
    await hotline.app.drain()
    assert await desk_keys_of(hotline, owner) == []
    case_id = (await owner.conversation()).case_id
    assert case_id is not None

    other = await linked_at_the_front(hotline, owner, code)  # at the desk, linked
    await hotline.app.drain()

    # one topic for the case: the link made it the owner's, the linked account's escalation
    # writes in it
    created = [m for m in hotline.desk() if isinstance(m, CreateForumTopic)]
    assert len(created) == 1
    topic = await view.topic(other)
    assert (await view.case(owner)).topic == topic
    assert (await view.case(other)).case == case_id
    assert await hotline.app.desk.state.of_topic(topic) == other.key
    events = [(e.kind, e.case) for e in recorder(hotline).events]
    assert events == [("registered", case_id), ("escalated", case_id), ("recall", case_id)]

    operator = Operator(hotline, OPERATORS[0])
    await to_meetup(other)
    await operator.press(topic, "claim")
    await operator.say(topic, f"/meet 05:30 | {PLACE}")
    await operator.say(topic, "/met")
    await operator.confirm(topic)
    await hotline.app.drain()
    assert recorder(hotline).events[-1].kind == "completed"
    # the whole case went, the closed topic waits for the retention
    for account in (owner, other):
        assert await desk_keys_of(hotline, account) == [f"hl:desk:ended:{topic}"]


async def test_a_lane_a_stopped_process_left_is_taken_up_by_the_next_start(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    from aiogram.exceptions import TelegramRetryAfter

    # two processes of one deployment: the same keys
    keys = deployment_keys()
    first = await make_hotline(real_redis, operator_ids=OPERATORS, **keys)
    first.app.hooks.consumers.append(Recorder())
    caller = first.caller()
    await registered_idle(first, caller)
    method = CreateForumTopic(chat_id=-1, name="x")
    first.session.fail_next(
        CreateForumTopic, TelegramRetryAfter(method=method, message="Flood", retry_after=5)
    )
    await caller.command("operator")  # the desk's share waits in its lane
    lane = first.app.desk_lane
    assert lane is not None
    await lane.stop()  # the process stops before it is tried again
    name = lane.lane_key(caller.key)
    assert await real_redis.llen(name) == 2  # the escalation and its event
    await real_redis.zadd("hl:desk:lanes", {caller.key: 1.0})  # what earlier releases kept

    second = await make_hotline(real_redis, operator_ids=OPERATORS, **keys)
    assert second.app.desk_lane is not None
    assert await second.app.desk_lane.resume() == 1
    await second.app.drain()
    assert await real_redis.llen(name) == 0
    assert [m for m in second.desk() if isinstance(m, CreateForumTopic)]
    assert (await DeskView(second).case(caller)).open
    assert not await real_redis.exists("hl:desk:lanes")
