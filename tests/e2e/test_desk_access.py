"""Who may act on the desk: only the listed operators; everyone else is refused, logged under a
keyed digest of their id, audited, and changes nothing."""

from __future__ import annotations

import base64
import os

import pytest
import redis.asyncio
from aiogram.methods import AnswerCallbackQuery, SendMessage

from bot.admin import tail
from bot.app import open_store
from bot.desk.audit import Audit
from bot.desk.operators import OperatorList
from bot.settings import load_settings
from flows.catalogue import DESK_BUTTONS
from flows.salts import SealedSalt
from flows.sealing import new_key
from tests.conftest import CollectLogs
from tests.e2e.conftest import DESK_CHAT, MEDIA, Hotline, HotlineFactory
from tests.e2e.desk_harness import (
    OPERATORS,
    STRANGER,
    DeskView,
    Operator,
    dt,
    recall,
    redis_state,
)

BUTTONS = [b for b in DESK_BUTTONS if b != "open-topic"]  # open-topic is a link
COMMANDS = [
    "/claim",
    "/release",
    "/details",
    "/verified",
    "/meet 05:30 | у моста",
    "/met",
    "/abort",
    "/close",
    "/erase",
    "/stats",
    "/help",
    "/claim@hotline_test_bot",
]


@pytest.fixture
async def hotline(make_hotline: HotlineFactory) -> Hotline:
    return await make_hotline(operator_ids=OPERATORS)


async def test_a_stranger_pressing_every_button_and_sending_every_command_changes_nothing(
    hotline: Hotline, logs: CollectLogs
) -> None:
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    topic = await view.topic(caller)
    operator = Operator(hotline, OPERATORS[0])
    await operator.say(topic, "/claim")
    stranger = Operator(hotline, STRANGER, name="Not on the list")
    case = (await view.case(caller)).case
    before = await redis_state(hotline)
    audited = len(await hotline.app.audit.last(1000))
    mark = len(hotline.session.sent)

    for action in BUTTONS:
        stranger.out = []
        await stranger.callback(f"desk:{action}:{topic}", topic)
        answers = [s.method for s in stranger.out if isinstance(s.method, AnswerCallbackQuery)]
        assert [(a.text, a.show_alert) for a in answers] == [(dt("desk-refused"), True)], action
    for command in COMMANDS:
        await stranger.say(topic, command)
        assert stranger.replies() == [dt("desk-refused")], command
    message = await stranger.say(topic, "Я оператор, напишите мне свой адрес")
    assert stranger.replies() == []
    await stranger.edit(message, text="Я оператор!")
    await stranger.send(topic, **MEDIA["photo"]())

    sent = hotline.session.sent[mark:]
    assert [s for s in sent if getattr(s.method, "chat_id", None) == caller.user_id] == []
    desk_calls = {type(m).__name__ for m in view.calls(sent)}
    assert desk_calls == {"SendMessage"}  # the refusals: no card edited, no topic touched
    assert await redis_state(hotline) == before

    who = hotline.app.desk.operators.who(STRANGER)
    assert who.startswith("x:")
    entries = (await hotline.app.audit.last(1000))[audited:]
    attempts = len(BUTTONS) + len(COMMANDS) + 3  # a message, its edit, a photo
    assert len(entries) == attempts
    assert {(e["who"], e["result"], e["why"], e["case"]) for e in entries} == {
        (who, "refused", "not-operator", case)
    }
    refusals = [line for line in logs.lines if "refused: not an operator" in line]
    assert len(refusals) == attempts
    assert all(who in line for line in refusals)
    everything = "\n".join(logs.lines) + str(entries)
    assert str(STRANGER) not in everything
    assert str(OPERATORS[0]) not in everything


async def test_a_listed_operator_is_not_refused_as_a_stranger(hotline: Hotline) -> None:
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    topic = await view.topic(caller)
    operator = Operator(hotline, OPERATORS[2])
    await operator.say(topic, "/help")
    assert operator.replies() == [dt("desk-help")]
    await operator.say(None, "/claim")  # in General: case commands need the case's topic
    assert operator.replies() == [dt("desk-topic-only")]
    await operator.say(topic, "/claim@some_other_bot")  # not for us
    assert view.calls(operator.out) == []
    assert (await view.case(caller)).claimer is None


async def test_group_chatter_is_neither_answered_nor_stored(hotline: Hotline) -> None:
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    await Operator(hotline, OPERATORS[0]).say(await view.topic(caller), "/claim")
    before = await redis_state(hotline)
    audited = await hotline.app.audit.last(1000)
    for user in (OPERATORS[1], STRANGER):
        person = Operator(hotline, user)
        await person.say(None, "доброе утро всем")  # General
        assert view.calls(person.out) == []
        await person.say(777, "а это тема без дела")  # a topic that is no case's
        assert view.calls(person.out) == []
        await person.say(None, "/start")  # a command that is not the desk's
        assert view.calls(person.out) == []
    assert await redis_state(hotline) == before
    assert await hotline.app.audit.last(1000) == audited


async def test_someone_joining_the_group_raises_an_alert_once(
    hotline: Hotline, logs: CollectLogs
) -> None:
    view = DeskView(hotline)
    stranger = Operator(hotline, STRANGER)
    await stranger.feed(stranger.account.joins())
    assert view.posts(stranger.out) == [dt("desk-member-joined", listed="no")]

    # the same join as a chat_member update: not alerted twice
    await stranger.feed(stranger.account.member_joined())
    assert view.posts(stranger.out) == []

    listed = Operator(hotline, OPERATORS[1])
    await listed.feed(listed.account.member_joined())
    assert view.posts(listed.out) == [dt("desk-member-joined", listed="yes")]
    posts = [m for m in view.calls() if isinstance(m, SendMessage)]
    assert all(m.chat_id == DESK_CHAT and m.message_thread_id is None for m in posts)
    joins = [e for e in await hotline.app.audit.last(10) if e["what"] == "joined"]
    assert [e["result"] for e in joins] == ["unlisted", "listed"]
    assert str(STRANGER) not in "\n".join(logs.lines)


@pytest.mark.redis
async def test_audit_tail_names_listed_operators_and_no_ids(
    redis_url: str, real_redis: redis.asyncio.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(
        redis_url=redis_url,
        hotline_seal_keys=new_key(),
        hotline_id_key=base64.b64encode(os.urandom(32)).decode(),
        operator_ids=",".join(str(i) for i in OPERATORS),
    )
    store = open_store(settings, real_redis)
    salt = SealedSalt(real_redis, store.sealer, store.prefix, "operators")
    operators = OperatorList(settings.operator_ids, salt.load)
    await operators.ready()
    audit = Audit(real_redis, store.prefix, clock=lambda: 1_750_000_000.0)
    await audit.record(operators.who(OPERATORS[1]), "claim", "a1b2c3d4e5f6", result="ok")
    await audit.record(
        operators.who(STRANGER), "erase", "a1b2c3d4e5f6", result="refused", why="not-operator"
    )
    assert await tail(settings, 10) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "2025-06-15 15:06:40 operator 2 claim a1b2c3d4e5f6 result=ok",
        f"2025-06-15 15:06:40 {operators.who(STRANGER)} erase a1b2c3d4e5f6 result=refused "
        "why=not-operator",
    ]
    raw = str(await real_redis.xrange(audit.key))
    assert not any(str(i) in raw for i in (*OPERATORS, STRANGER))
