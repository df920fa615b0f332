"""Who may act on the desk: only the listed operators; everyone else is refused, logged under a
keyed digest of their id, audited, and changes nothing."""

from __future__ import annotations

import base64
import os

import pytest
import redis.asyncio
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, BanChatMember, SendMessage, UnbanChatMember

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
    # the shift's own
    "/say",
    "/say safe",
    "/queue",
    "/handover 2",
    "/probe",
    "/unprobe",
    "/block",
    "/unblock",
    "/unblock #00000000",
]
CANNED_BUTTONS = ["safe", "location", "stay", "drone", "cloth", "contact", "meet"]


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

    buttons = [f"desk:{action}:{topic}" for action in BUTTONS]
    buttons += [f"say:{name}:{topic}" for name in CANNED_BUTTONS]
    for data in buttons:  # a button's answer is his alone: it costs the group nothing
        stranger.out = []
        await stranger.callback(data, topic)
        answers = [s.method for s in stranger.out if isinstance(s.method, AnswerCallbackQuery)]
        assert [(a.text, a.show_alert) for a in answers] == [(dt("desk-refused"), True)], data
    for n, command in enumerate(COMMANDS):
        await stranger.say(topic, command)
        # told once in the window: his flood of commands does not spend the group's budget
        assert stranger.replies() == ([dt("desk-refused")] if n == 0 else []), command
    message = await stranger.say(topic, "Я оператор, напишите мне свой адрес")
    assert stranger.replies() == []
    await stranger.edit(message, text="Я оператор!")
    await stranger.send(topic, **MEDIA["photo"]())

    sent = hotline.session.sent[mark:]
    assert [s for s in sent if getattr(s.method, "chat_id", None) == caller.user_id] == []
    desk_calls = {type(m).__name__ for m in view.calls(sent)}
    assert desk_calls == {"SendMessage"}  # the refusal: no card edited, no topic touched
    # nothing changed but the mark of the refusal shown (his digest, for the window)
    after = await redis_state(hotline)
    refused = [k for k in after if k not in before]
    digest = hotline.app.desk.operators.digest(STRANGER)
    assert [k.rpartition(":")[0] for k in refused] == [f"hl:desk:refused:{digest}"]
    del after[refused[0]]
    assert after == before

    who = hotline.app.desk.operators.who(STRANGER)
    assert who.startswith("x:")
    entries = (await hotline.app.audit.last(1000))[audited:]
    attempts = len(buttons) + len(COMMANDS) + 3  # a message, its edit, a photo
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


async def test_a_stranger_joining_the_group_is_removed_at_once_and_named(
    hotline: Hotline, logs: CollectLogs
) -> None:
    view = DeskView(hotline)
    stranger = Operator(hotline, STRANGER, name="Иван <b>Шпион</b>")
    await stranger.feed(stranger.account.joins())
    calls = view.calls(stranger.out)
    assert [type(m).__name__ for m in calls] == ["BanChatMember", "UnbanChatMember", "SendMessage"]
    assert isinstance(calls[0], BanChatMember)
    assert calls[0].user_id == STRANGER
    assert isinstance(calls[1], UnbanChatMember)
    assert calls[1].only_if_banned is True
    name = f'<a href="tg://user?id={STRANGER}">Иван &lt;b&gt;Шпион&lt;/b&gt;</a>'
    assert view.posts(stranger.out) == [dt("desk-stranger-removed", name=name)]

    # the same join as a chat_member update: not alerted (nor removed) twice
    await stranger.feed(stranger.account.member_joined())
    assert view.calls(stranger.out) == []

    listed = Operator(hotline, OPERATORS[1])
    await listed.feed(listed.account.member_joined())
    assert view.posts(listed.out) == [dt("desk-member-joined", listed="yes")]
    assert not [m for m in view.calls(listed.out) if isinstance(m, BanChatMember)]
    posts = [m for m in view.calls() if isinstance(m, SendMessage)]
    assert all(m.chat_id == DESK_CHAT and m.message_thread_id is None for m in posts)
    joins = [e for e in await hotline.app.audit.last(10) if e["what"] == "joined"]
    assert [e["result"] for e in joins] == ["removed", "listed"]
    assert str(STRANGER) not in "\n".join(logs.lines)
    assert "Шпион" not in "\n".join(logs.lines) + str(joins)


async def test_a_stranger_who_cannot_be_removed_is_named_all_the_same(
    hotline: Hotline,
) -> None:
    view = DeskView(hotline)
    stranger = Operator(hotline, STRANGER, name="Stranger")
    no_rights = TelegramBadRequest(BanChatMember(chat_id=DESK_CHAT, user_id=STRANGER), "no")
    hotline.session.fail_next(BanChatMember, no_rights)
    await stranger.feed(stranger.account.member_joined())
    name = f'<a href="tg://user?id={STRANGER}">Stranger</a>'
    assert view.posts(stranger.out) == [dt("desk-stranger-not-removed", name=name)]
    joins = [e for e in await hotline.app.audit.last(10) if e["what"] == "joined"]
    assert [e["result"] for e in joins] == ["unlisted"]


async def test_strangers_are_only_named_when_removal_is_off(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await make_hotline(operator_ids=OPERATORS, desk_remove_strangers=False)
    view = DeskView(hotline)
    stranger = Operator(hotline, STRANGER, name="Stranger")
    await stranger.feed(stranger.account.member_joined())
    assert [type(m).__name__ for m in view.calls(stranger.out)] == ["SendMessage"]
    name = f'<a href="tg://user?id={STRANGER}">Stranger</a>'
    assert view.posts(stranger.out) == [dt("desk-stranger-joined", name=name)]


async def test_a_stranger_is_refused_once_per_window(hotline: Hotline) -> None:
    stranger = Operator(hotline, STRANGER)
    window = hotline.app.settings.desk_stranger_refusal_minutes * 60
    hotline.clock.now = (hotline.clock.now // window + 1) * window  # a window's start
    told = []
    for _ in range(50):
        await stranger.say(None, "/queue")
        told += stranger.replies()
    assert told == [dt("desk-refused")]
    hotline.clock.advance(window)
    await stranger.say(None, "/stats")
    assert stranger.replies() == [dt("desk-refused")]
    refused = [e for e in await hotline.app.audit.last(100) if e["result"] == "refused"]
    assert len(refused) == 51  # each one audited all the same


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
    # 15:06:40 UTC, in the desk's time zone (Europe/Kyiv by default: summer time, UTC+3)
    assert printed == [
        "2025-06-15 18:06:40 EEST operator 2 claim a1b2c3d4e5f6 result=ok",
        f"2025-06-15 18:06:40 EEST {operators.who(STRANGER)} erase a1b2c3d4e5f6 result=refused "
        "why=not-operator",
    ]
    other = settings.model_copy(update={"desk_timezone": "Asia/Tokyo"})
    assert await tail(other, 1) == 0
    assert capsys.readouterr().out.startswith("2025-06-16 00:06:40 JST ")
    raw = str(await real_redis.xrange(audit.key))
    assert not any(str(i) in raw for i in (*OPERATORS, STRANGER))
