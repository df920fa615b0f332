"""The operator desk end to end: a case from the caller's escalation to its ending, through the
real Dispatcher, as the caller and as the operators see it.

Callers are played by tests/e2e/conftest.py, operators by tests/e2e/desk_harness.py; every text
is rendered from the packs (callers in Russian, operators in Ukrainian).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio
from aiogram.methods import (
    AnswerCallbackQuery,
    CloseForumTopic,
    CopyMessage,
    CreateForumTopic,
    DeleteForumTopic,
    DeleteMessages,
    EditForumTopic,
    EditMessageText,
    ReopenForumTopic,
    SendMessage,
)
from aiogram.types import Update

from bot.desk.desk import DeskData
from tests.e2e.conftest import (
    DESK_CHAT,
    NAME,
    Caller,
    Hotline,
    HotlineFactory,
    kept_after_erase,
    register,
    screen,
    t,
)
from tests.e2e.desk_harness import (
    OPERATORS,
    DeskView,
    Operator,
    Recorder,
    card_actions,
    dt,
    op_label,
    profile_line,
    recall,
    redis_state,
    reference,
    to_caller,
    to_meetup,
)

# the card offers only what the case allows: a waiting case is claimed first; a claimed one
# what the caller's stage takes (a re-call: meet or abort; at the meetup: met as well)
WAITING = ["claim"]
CLAIMED = ["release", "details", "verified"]
AT_RECALL = [*CLAIMED, "meet", "abort", "erase"]
AT_MEETUP = [*CLAIMED, "meet", "met", "abort", "erase"]


@pytest.fixture
async def desk_hotline(
    redis_backend: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> Hotline:
    """The app with three listed operators, on fakeredis and on the real server."""
    return await make_hotline(redis_backend, operator_ids=OPERATORS)


@pytest.fixture
async def hotline3(make_hotline: HotlineFactory) -> Hotline:
    return await make_hotline(operator_ids=OPERATORS)


def card(hotline: Hotline, code: str, profile: str | None = None, **params: Any) -> str:
    values: dict[str, Any] = {
        "code": code,
        "stage": "recall",
        "state": "waiting",
        "priority": "high",
        "reason": "recall",
        "operator": "none",
        "verified": "no",
    }
    values.update(params)
    # registered with a group of two, no word of injuries yet (tests/e2e/conftest.py: fill_form)
    return dt("desk-card", **values) + "\n" + (profile or profile_line(people=2, via="own"))


async def test_a_recall_from_the_queue_to_met(desk_hotline: Hotline) -> None:
    hotline = desk_hotline
    desk = hotline.app.desk
    view = DeskView(hotline)
    hooks = Recorder()
    hotline.app.hooks.consumers.append(hooks)
    caller = hotline.caller(lang="ru")
    op1, op2 = Operator(hotline, OPERATORS[0]), Operator(hotline, OPERATORS[1])

    code = await register(caller)
    ref = await reference(caller)
    assert view.topics() == []  # registered, not escalated: nothing for the operators yet
    assert [e.kind for e in hooks.events] == ["registered"]

    # the arrival re-call: a topic and its card, a line in it, and the queue told (high)
    await caller.tap("ready")
    await caller.text("Я иду сдаваться")
    assert await caller.state() == "recall_location"
    topic = await view.topic(caller)
    assert [m.name for m in view.topics()] == [dt("desk-topic-title", code=ref, stage="recall")]
    since = desk.local_time((await view.case(caller)).since)
    text, markup = view.card()
    assert text == card(hotline, ref, since=since)
    assert card_actions(markup) == WAITING
    assert view.posts(caller.out, topic) == [text]  # the card, nothing else in the topic
    assert view.posts(caller.out) == [dt("desk-queue", code=ref, priority="high", reason="recall")]
    assert [e.kind for e in hooks.events][1:] == ["escalated", "recall"]
    assert {(e.priority, e.reason) for e in hooks.events[1:]} == {("high", "recall")}

    # what he sends reaches the topic, marked as his; where he is, only the details say
    await caller.location()
    assert view.copies(caller.out) == []
    assert view.posts(caller.out, topic) == [
        dt("desk-from-caller", kind="location") + "\n" + dt("desk-caller-location")
    ]
    assert "47.91" not in str(view.calls(caller.out))

    # an operator claims it: the card says who; the queue sees it taken
    await op1.say(topic, "/claim")
    text, markup = view.card()
    assert text == card(hotline, ref, state="claimed", operator=op_label(1), since=since)
    assert card_actions(markup) == AT_RECALL
    assert view.posts(op1.out, topic) == [dt("desk-claimed", operator=op_label(1))]
    assert view.posts(op1.out) == [dt("desk-feed", code=ref, event="claimed")]
    assert hooks.events[-1].kind == "claimed"

    # relay both ways; a note stays in the group
    hello = await op1.say(topic, "Здравствуйте. Вы в безопасности?")
    copies = [m for m in to_caller(op1, caller) if isinstance(m, CopyMessage)]
    assert [(c.from_chat_id, c.message_id, c.protect_content) for c in copies] == [
        (DESK_CHAT, hello.message_id, True)
    ]
    # his words are for the operator now, not an answer to "how many are you?"
    assert await caller.state() == "talk"
    answer = await caller.text("Да, нас трое, в посадке")
    assert [(r.from_chat_id, r.message_id) for r in caller.relayed()] == [
        (caller.user_id, answer.message_id)
    ]
    assert view.posts(caller.out, topic) == [
        dt("desk-from-caller", kind="text") + "\n<blockquote>Да, нас трое, в посадке</blockquote>"
    ]
    assert "recall_people" not in (await caller.conversation()).fields
    await op1.say(topic, "! проверить по базе, группа из трёх")
    assert to_caller(op1, caller) == []
    await op2.say(topic, "Я тоже здесь")  # listed, but not the one who has the case
    assert to_caller(op2, caller) == []
    assert op2.replies() == [dt("desk-not-claimer", operator=op_label(1))]

    await caller.tap("talk-back")  # back to the question he was asked
    assert await caller.state() == "recall_people"
    await caller.text("3")
    await caller.tap("health-none")
    assert await caller.state() == "meetup"
    assert [m.name for m in view.calls(caller.out) if isinstance(m, EditForumTopic)] == [
        dt("desk-topic-title", code=ref, stage="meetup")
    ]

    # the meeting: time and place reach him, with the meetup screen
    await op1.say(topic, "/meet 05:30 | лесополоса у трассы, 200 м на север")
    texts = [m.text for m in to_caller(op1, caller) if isinstance(m, SendMessage)]
    assert texts == [
        t("ru", "meeting-instructions", time="05:30", place="лесополоса у трассы, 200 м на север"),
        screen("ru", "meetup", guided="yes"),
    ]
    assert view.posts(op1.out, topic) == [dt("desk-done", operator=op_label(1), action="meet")]
    assert card_actions(view.card()[1]) == AT_MEETUP

    # what the desk keeps holds nothing personal in the clear
    raw = str(await redis_state(hotline)) + str(await hotline.app.audit.last(100))
    for secret in (NAME["ru"], code, str(caller.user_id), *map(str, OPERATORS)):
        assert secret not in raw

    # Met asks to confirm first (it ends the case and erases him)
    assert await op1.press(topic, "met") == dt("desk-confirm", action="met")
    assert to_caller(op1, caller) == []
    assert await caller.state() == "meetup"
    _, markup = view.card()
    assert card_actions(markup) == ["confirm-met", "cancel"]
    assert await op1.press(topic, "confirm-met") is None
    texts = [m.text for m in to_caller(op1, caller) if isinstance(m, SendMessage)]
    assert texts == [screen("ru", "completed")]
    assert (await caller.conversation()).fields == {}
    assert await caller.state() == "start"
    text, markup = view.card()
    assert text == card(
        hotline,
        ref,
        profile_line(people=3, injuries="none", via="own"),  # the re-call's answers
        stage="completed",
        state="completed",
        operator=op_label(1),
        since="none",
    )
    assert markup is None
    closing = view.calls(op1.out)
    assert CloseForumTopic(chat_id=DESK_CHAT, message_thread_id=topic) in closing
    assert dt("desk-case-ended") in view.posts(op1.out, topic)
    assert view.posts(op1.out) == [dt("desk-feed", code=ref, event="completed")]
    assert [e.kind for e in hooks.events][-2:] == ["meetup", "completed"]

    # nothing of the case is left but the dedupe marks (and the audit, which names no one)
    keys = await hotline.keys()
    assert not [k for k in keys if ":desk" in k and not k.startswith("hl:desk:")]
    assert not [k for k in keys if k.startswith(("hl:topic:", "hl:deskcase:"))]
    assert await hotline.redis.zcard("hl:desk:open") == 0
    conversation_keys = {k for k in keys if caller.key in k}
    assert conversation_keys <= kept_after_erase(caller.key)
    await hotline.assert_erased(caller.key)
    audit = await hotline.app.audit.last(50)
    assert [(e["what"], e["result"]) for e in audit] == [
        ("claim", "ok"),
        ("relay", "ok"),
        ("relay", "refused"),
        ("meet", "ok"),
        ("met", "ok"),
    ]
    hotline.assert_all_protected()


async def _race(hotline: Hotline, updates: list[Update]) -> None:
    app = hotline.app
    await asyncio.gather(*(app.dispatcher.feed_update(app.bot, u) for u in updates))
    await app.drain()


async def test_two_operators_claiming_at_once_exactly_one_wins(desk_hotline: Hotline) -> None:
    hotline = desk_hotline
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    topic = await view.topic(caller)
    ops = [Operator(hotline, i) for i in OPERATORS]

    def press(op: Operator) -> Update:
        data = DeskData(action="claim", topic=topic).pack()
        return op.account.press(data, 1, topic=topic, query_id=f"race{op.user_id}")

    mark = len(hotline.session.sent)
    await _race(hotline, [press(op) for op in ops])
    answers = {
        s.method.callback_query_id: s.method.text
        for s in hotline.session.sent[mark:]
        if isinstance(s.method, AnswerCallbackQuery)
    }
    case = await view.case(caller)
    winner = hotline.app.desk.operators.number(case.claimer or "")
    assert winner is not None
    assert answers[f"race{OPERATORS[winner - 1]}"] is None
    losers = [op for n, op in enumerate(ops, 1) if n != winner]
    for op in losers:
        assert answers[f"race{op.user_id}"] == dt("desk-taken", operator=op_label(winner))
    claimed = view.posts(hotline.session.sent[mark:], topic)
    assert claimed == [dt("desk-claimed", operator=op_label(winner))]

    # the same with commands
    caller2 = hotline.caller(user_id=100_200_301)
    await recall(caller2)
    topic2 = await view.topic(caller2)
    mark = len(hotline.session.sent)
    await _race(
        hotline,
        [op.account.command("claim", topic=topic2) for op in ops],
    )
    replies = [
        s.method.text
        for s in hotline.session.sent[mark:]
        if isinstance(s.method, SendMessage) and s.method.reply_parameters is not None
    ]
    case2 = await view.case(caller2)
    winner = hotline.app.desk.operators.number(case2.claimer or "")
    assert replies == [dt("desk-taken", operator=op_label(winner or 0))] * 2
    audit = await hotline.app.audit.last(20)
    claims = [(e["what"], e["result"]) for e in audit if e["what"] == "claim"]
    assert sorted(claims) == sorted([("claim", "ok")] * 2 + [("claim", "refused")] * 4)


async def test_the_claim_is_one_compare_and_set(desk_hotline: Hotline) -> None:
    hotline = desk_hotline
    caller = hotline.caller()
    await recall(caller)
    state = hotline.app.desk.state
    results = await asyncio.gather(
        *(state.claim(caller.key, f"operator{i}", 1.0) for i in range(40))
    )
    assert sorted(r.status for r in results) == [0] * 39 + [1]
    winner = next(r.claimer for r in results if r.status == 1)
    assert {r.claimer for r in results} == {winner}


async def test_relay_of_every_kind_of_content_both_ways(hotline3: Hotline) -> None:
    from tests.e2e.conftest import MEDIA

    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    await caller.command("start")
    await caller.tap("menu-operator")
    assert await caller.state() == "handoff"
    topic = await view.topic(caller)
    op = Operator(hotline, OPERATORS[0])

    # the caller: every kind of content lands in the topic
    sent_by_caller = [await caller.text("Мне нужна помощь")]
    for kind in ("voice", "video_note", "photo", "document"):
        sent_by_caller.append(await caller.media(kind))
    sent_by_caller.append(await caller.location())
    sent_by_caller.append(await caller.contact("+79123456789"))
    copied = [
        (c.from_chat_id, c.message_id, c.message_thread_id)
        for s in hotline.session.sent
        if isinstance(c := s.method, CopyMessage) and c.chat_id == DESK_CHAT
    ]
    # media are copied under the caller's header; words are written out by the bot; a place
    # and a phone number are only said to have come (they are in the private details)
    media = sent_by_caller[1:5]
    assert copied == [(caller.user_id, m.message_id, topic) for m in media]
    captions = [
        c.caption
        for s in hotline.session.sent
        if isinstance(c := s.method, CopyMessage) and c.chat_id == DESK_CHAT
    ]
    assert all(str(c).startswith("💬 <b>") for c in captions if c is not None)

    # an operator who has not claimed it is told to; nothing goes out
    await op.say(topic, "Здравствуйте")
    assert to_caller(op, caller) == []
    assert op.replies() == [dt("desk-claim-first")]
    await op.say(topic, "/claim")

    # the claimer: every kind of content goes to the caller, protected, and is remembered
    from aiogram.types import Contact, Location

    contents: list[dict[str, Any]] = [
        {"text": "Здравствуйте, я оператор"},
        *(MEDIA[k]() for k in ("voice", "video_note", "photo", "document", "sticker")),
        {"location": Location(latitude=48.5, longitude=37.9)},
        {"contact": Contact(phone_number="+380441234567", first_name="Штаб")},
    ]
    for content in contents:
        message = await op.send(topic, **content)
        copies = [m for m in to_caller(op, caller) if isinstance(m, CopyMessage)]
        assert [(c.from_chat_id, c.message_id, c.protect_content) for c in copies] == [
            (DESK_CHAT, message.message_id, True)
        ], content
    remembered = await hotline.app.store.chat_messages(caller.key)
    relayed_ids = [
        s.result.message_id
        for s in hotline.session.sent
        if isinstance(s.method, CopyMessage) and s.method.chat_id == caller.user_id
    ]
    assert len(relayed_ids) == len(contents)
    assert set(relayed_ids) <= set(remembered)

    # notes, as text or as a caption, stay in the group
    await op.say(topic, "!заметка для своих")
    assert to_caller(op, caller) == []
    photo = MEDIA["photo"]()
    await op.send(topic, caption="  ! фото только для операторов", **photo)
    assert to_caller(op, caller) == []

    # an operator's edit goes again, marked as a correction; a caller's edit is marked
    message = await op.say(topic, "Встреча в 5:00")
    await op.edit(message, text="Встреча в 5:30 <не в 5:00>")
    texts = [m.text for m in to_caller(op, caller) if isinstance(m, SendMessage)]
    assert texts == [t("ru", "desk-relay-correction") + "\nВстреча в 5:30 &lt;не в 5:00&gt;"]
    captioned = await op.send(topic, caption="точка сбора", **MEDIA["photo"]())
    await op.edit(captioned, caption="точка сбора (исправлено)")
    out = to_caller(op, caller)
    assert [type(m).__name__ for m in out] == ["SendMessage", "CopyMessage"]
    assert out[0].text == t("ru", "desk-relay-correction")
    assert out[1].message_id == captioned.message_id
    note = await op.say(topic, "!черновик")
    await op.edit(note, text="!черновик 2")
    assert to_caller(op, caller) == []

    first = sent_by_caller[0]
    await caller.edit(first, "Мне срочно нужна помощь")
    assert view.posts(caller.out, topic) == [dt("desk-from-caller", kind="edit")]
    header = next(
        s.result.message_id
        for s in caller.out
        if isinstance(s.method, SendMessage) and s.method.chat_id == DESK_CHAT
    )
    (copy,) = view.copies(caller.out)
    assert copy.message_id == first.message_id
    assert copy.reply_parameters is not None
    assert copy.reply_parameters.message_id == header  # the new version answers the header
    hotline.assert_all_protected()


async def test_close_ends_a_hand_off_and_a_new_one_reopens_the_topic(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await caller.command("start")
    await caller.tap("menu-relative")
    await caller.tap("operator")
    topic = await view.topic(caller)
    await op.say(topic, "/claim")

    await op.say(topic, "/close")
    texts = [m.text for m in to_caller(op, caller) if isinstance(m, SendMessage)]
    assert texts == [t("ru", "operator-ended"), screen("ru", "relatives")]
    assert await caller.state() == "relatives"
    case = await view.case(caller)
    assert (case.open, case.claimer) == (False, None)
    assert CloseForumTopic(chat_id=DESK_CHAT, message_thread_id=topic) in view.calls(op.out)
    text, _ = view.card()
    assert (
        dt(
            "desk-card",
            code=f"#{case.ref[:8]}",
            stage="none",  # back at the relatives' page: the card follows him
            state="closed",
            priority="normal",
            reason="relatives",
            since="none",
            operator="none",
            verified="no",
        )
        + "\n"
        + profile_line(via="relatives")
        == text
    )

    # his messages are no longer relayed; asking again reopens the same topic
    await caller.text("ещё вопрос")
    assert view.copies(caller.out) == []
    await caller.tap("operator")
    assert [m for m in view.calls(caller.out) if isinstance(m, CreateForumTopic)] == []
    assert ReopenForumTopic(chat_id=DESK_CHAT, message_thread_id=topic) in view.calls(caller.out)
    assert (await view.case(caller)).open
    assert view.posts(caller.out) == [
        dt("desk-queue", code=f"#{case.ref[:8]}", priority="normal", reason="relatives")
    ]


async def test_abort_sends_a_registered_caller_back_to_his_case(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await recall(caller)
    await to_meetup(caller)
    topic = await view.topic(caller)
    await op.press(topic, "claim")
    # it cannot be undone: the card asks first, and nothing reaches him yet
    assert await op.press(topic, "abort") == dt("desk-confirm", action="abort")
    assert to_caller(op, caller) == []
    assert card_actions(view.card()[1]) == ["confirm-abort", "cancel"]
    assert await op.press(topic, "confirm-abort") is None
    texts = [m.text for m in to_caller(op, caller) if isinstance(m, SendMessage)]
    assert texts == [t("ru", "operator-aborted"), screen("ru", "registered")]
    assert await caller.state() == "registered"
    assert not (await view.case(caller)).open
    assert view.posts(op.out, topic) == [dt("desk-done", operator=op_label(1), action="abort")]


async def test_an_action_the_stage_does_not_allow_changes_nothing(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await recall(caller)
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    await op.say(topic, "/close")  # a re-call goes on to the meetup or is aborted there
    assert op.replies() == [dt("desk-not-now")]
    assert to_caller(op, caller) == []
    assert await caller.state() == "recall_location"
    await op.say(topic, "/meet 05:30")  # no place
    assert op.replies() == [dt("desk-meet-usage")]
    assert await op.press(topic, "meet") == dt("desk-meet-usage")
    audit = await hotline.app.audit.last(5)
    assert (audit[-1]["what"], audit[-1]["result"], audit[-1]["why"]) == (
        "close",
        "refused",
        "not-now",
    )


async def test_an_operator_erases_a_case(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await recall(caller)
    ref = await reference(caller)
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    await op.say(topic, "/erase")
    # typed, it asks like the button: nothing is erased before "yes"
    _, question, actions = op.question()
    assert question == dt("desk-confirm-typed", action="erase")
    assert actions == ["confirm-erase", "cancel"]
    assert (await caller.conversation()).fields != {}
    assert await op.confirm(topic) is None
    # he is not told (his phone may be in other hands); only what must not stay there goes
    assert [m for m in to_caller(op, caller) if not isinstance(m, DeleteMessages)] == []
    assert (await caller.conversation()).fields == {}
    assert DeleteForumTopic(chat_id=DESK_CHAT, message_thread_id=topic) in view.calls(op.out)
    assert view.posts(op.out) == [dt("desk-feed", code=ref, event="erased")]
    keys = await hotline.keys()
    assert {k for k in keys if caller.key in k} <= kept_after_erase(caller.key)
    await hotline.assert_erased(caller.key)
    assert not [k for k in keys if k.startswith(("hl:topic:", "hl:deskcase:"))]
    # the topic is gone: a late button on its card finds no case
    assert await op.press(topic, "claim") == dt("desk-no-case")


async def test_forget_takes_the_desk_record_and_the_topic(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    await register(caller)
    await caller.command("operator")
    topic = await view.topic(caller)
    await caller.command("forget")
    assert DeleteForumTopic(chat_id=DESK_CHAT, message_thread_id=topic) in view.calls(caller.out)
    keys = await hotline.keys()
    assert {k for k in keys if caller.key in k} <= kept_after_erase(caller.key)
    await hotline.assert_erased(caller.key)
    assert not [k for k in keys if k.startswith(("hl:topic:", "hl:deskcase:"))]


async def test_a_safety_word_alerts_the_card_only(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)

    async def run(caller: Caller, place: str) -> list[list[str]]:
        code = await register(caller)
        await caller.tap("safety-word")
        await caller.text("Ромашка")
        await caller.tap("ready")
        await caller.text("Я иду сдаваться")
        seen: list[list[str]] = []
        for step in (caller.text(place), caller.text("3"), caller.tap("health-none")):
            await step
            seen.append([text.replace(code, "CODE") for text in caller.texts])
        return seen

    watched = hotline.caller(user_id=100_200_401)
    plain = hotline.caller(user_id=100_200_402)
    under_duress = await run(watched, "у моста, ромашка растёт рядом")
    mark = len(hotline.session.sent)
    normal = await run(plain, "у моста, трава растёт рядом")
    assert under_duress == normal  # he sees nothing unusual

    alert = dt("desk-silent-alert", reason="safety-word")
    watched_topic = await view.topic(watched)
    everything = [m for m in view.calls() if isinstance(m, SendMessage)]
    assert [m.message_thread_id for m in everything if m.text == alert] == [watched_topic]
    assert not any(
        alert in (m.text or "")
        for m in view.calls(hotline.session.sent[mark:])
        if isinstance(m, SendMessage)
    )
    assert (await view.case(watched)).alert == "safety-word"
    assert (await view.case(plain)).alert is None
    cards = [
        m.text or ""
        for m in view.calls(hotline.session.sent[:mark])
        if isinstance(m, SendMessage | EditMessageText) and "📁" in (m.text or "")
    ]
    assert dt("desk-card-alert", reason="safety-word") in cards[-1]


async def test_a_redelivered_operator_update_changes_nothing_twice(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await recall(caller)
    await to_meetup(caller)
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    update = op.account.command("meet", "05:30 | у моста", topic=topic)
    await op.feed(update)
    texts = [m.text for m in to_caller(op, caller) if isinstance(m, SendMessage)]
    assert texts == [
        t("ru", "meeting-instructions", time="05:30", place="у моста"),
        screen("ru", "meetup", guided="yes"),
    ]
    await op.feed(update)  # Telegram sends it again (no answer reached it in time)
    assert to_caller(op, caller) == []
    assert view.calls(op.out) == []
    audit = await hotline.app.audit.last(10)
    assert [e["what"] for e in audit].count("meet") == 1


async def test_a_higher_priority_is_told_to_the_topic_and_the_queue(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    ref = await reference(caller)
    await to_meetup(caller)
    topic = await view.topic(caller)
    # "I am at the point": the case is high already, but the desk hears it, once in the queue
    await caller.tap("at-point")
    assert view.posts(caller.out, topic) == [
        dt("desk-escalated", priority="high", reason="at-point")
    ]
    assert view.posts(caller.out) == [
        dt("desk-queue", code=ref, priority="high", reason="at-point")
    ]
    await caller.tap("at-point")
    assert view.posts(caller.out, topic) == [
        dt("desk-escalated", priority="high", reason="at-point")
    ]
    assert view.posts(caller.out) == []
    await caller.tap("help-now")
    assert view.posts(caller.out, topic) == [
        dt("desk-escalated", priority="highest", reason="help-now")
    ]
    assert view.posts(caller.out) == [
        dt("desk-queue", code=ref, priority="highest", reason="help-now")
    ]
    text, _ = view.card()
    assert dt("desk-priority", priority="highest") in text
    assert (await view.case(caller)).priority == 3


async def test_a_withdrawal_takes_the_topic_with_it(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    await register(caller)
    ref = await reference(caller)
    await caller.command("operator")
    topic = await view.topic(caller)
    await caller.command("cancel")
    await caller.press("withdraw-yes")
    assert screen("ru", "withdrawn") in caller.texts
    assert DeleteForumTopic(chat_id=DESK_CHAT, message_thread_id=topic) in view.calls(caller.out)
    assert view.posts(caller.out) == [dt("desk-feed", code=ref, event="withdrawn")]
    keys = await hotline.keys()
    assert not [k for k in keys if k.startswith(("hl:topic:", "hl:deskcase:"))]
    assert await hotline.redis.zcard("hl:desk:open") == 0


async def test_only_the_claimer_releases_and_the_case_waits_again(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    topic = await view.topic(caller)
    op1, op2 = Operator(hotline, OPERATORS[0]), Operator(hotline, OPERATORS[1])
    assert await op1.press(topic, "release") == dt("desk-claim-first")
    await op1.press(topic, "claim")
    assert await op1.press(topic, "claim") == dt("desk-yours")
    assert await op2.press(topic, "release") == dt("desk-not-claimer", operator=op_label(1))
    hotline.clock.advance(300)
    assert await op1.press(topic, "release") is None
    case = await view.case(caller)
    assert case.claimer is None
    assert case.since == hotline.clock.now  # its wait for an operator starts again
    assert view.posts(op1.out, topic) == [dt("desk-released", operator=op_label(1))]
    text, _ = view.card()
    assert (
        dt(
            "desk-card",
            code=view_code(text),
            stage="recall",
            state="waiting",
            priority="high",
            reason="recall",
            since=hotline.app.desk.local_time(case.since),
            operator="none",
            verified="no",
        )
        + "\n"
        + profile_line(people=2, via="own")
        == text
    )
    await op2.press(topic, "claim")
    assert (await view.case(caller)).claimer == hotline.app.desk.operators.digest(OPERATORS[1])


def view_code(card_text: str) -> str:
    return card_text.split("<b>", 1)[1].split("</b>", 1)[0]


async def test_a_group_that_refuses_never_holds_back_the_caller(hotline3: Hotline) -> None:
    from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter

    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    await register(caller)
    await caller.tap("ready")
    refusal = TelegramBadRequest(
        method=CreateForumTopic(chat_id=DESK_CHAT, name="x"),
        message="Bad Request: not enough rights to create a topic",
    )
    hotline.session.fail_next(CreateForumTopic, refusal)
    await caller.text("Я иду сдаваться")
    assert caller.texts == [screen("ru", "recall_location")]  # he is served all the same
    case = await view.case(caller)
    assert (case.open, case.topic) == (True, None)  # the escalation is kept, to be told again

    # passing trouble is not swallowed: the desk's share waits in its lane and comes again,
    # and the caller is not held back by it meanwhile
    hotline.session.fail_next(
        CreateForumTopic, TelegramRetryAfter(method=refusal.method, message="Flood", retry_after=5)
    )
    await caller.location()
    assert caller.texts == [screen("ru", "recall_people")]
    assert await hotline.app.store.pending(caller.key) == []
    lane = hotline.app.desk_lane
    assert lane is not None
    assert await hotline.redis.llen(lane.lane_key(caller.key)) == 1
    await caller.text("3")  # his next update kicks the lane: the topic made at last
    assert len(view.topics()) == 1
    relays = [p for p in view.posts(caller.out, await view.topic(caller)) if "💬" in p]
    assert len(relays) == 2  # the location and the count, in the topic made at last
    assert caller.texts == [screen("ru", "recall_injuries")]
    assert await hotline.redis.llen(lane.lane_key(caller.key)) == 0
