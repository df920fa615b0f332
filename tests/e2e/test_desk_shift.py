"""The shift's own tools through the real Dispatcher: canned replies (`/say` and the buttons
under the card), `/queue`, `/handover N`, `/probe` and `/block` (with their undoing). Callers
are played by tests/e2e/conftest.py, operators by tests/e2e/desk_harness.py; every text comes
from the packs."""

from __future__ import annotations

import html

import pytest
from aiogram.methods import CopyMessage, SendMessage

from bot.desk.canned_keys import SayData
from flows.catalogue_shift import CANNED
from tests.e2e.conftest import Caller, Hotline, HotlineFactory, t
from tests.e2e.desk_harness import (
    OPERATORS,
    DeskView,
    Operator,
    dt,
    op_label,
    recall,
    to_caller,
)


@pytest.fixture
async def hotline(make_hotline: HotlineFactory) -> Hotline:
    return await make_hotline(operator_ids=OPERATORS)


async def claimed_recall(
    hotline: Hotline, lang: str = "ru", user_id: int = 100_200_300
) -> tuple[Caller, Operator, int]:
    caller = hotline.caller(user_id=user_id, lang=lang)
    await recall(caller)
    topic = await DeskView(hotline).topic(caller)
    operator = Operator(hotline, OPERATORS[0])
    await operator.say(topic, "/claim")
    return caller, operator, topic


def texts_to(operator: Operator, caller: Caller) -> list[str]:
    return [m.text for m in to_caller(operator, caller) if isinstance(m, SendMessage)]


# -- canned replies ---------------------------------------------------------------------------


async def test_say_alone_lists_every_canned_reply(hotline: Hotline) -> None:
    operator = Operator(hotline, OPERATORS[1])
    await operator.say(None, "/say")
    [listing] = operator.replies()
    for name in CANNED:
        assert dt("desk-canned-label", name=name) in listing
        assert f"/say {dt('desk-canned-word', name=name)}" in listing


@pytest.mark.parametrize("lang", ["ru", "uk"])
async def test_a_canned_reply_reaches_the_caller_in_his_language(
    hotline: Hotline, lang: str
) -> None:
    caller, operator, topic = await claimed_recall(hotline, lang)
    view = DeskView(hotline)
    await operator.say(topic, "/say safe")
    # the operator writing: at the re-call's question, a live conversation opens after it
    assert texts_to(operator, caller) == [t(lang, "canned-safe"), t(lang, "talk")]
    assert await caller.state() == "talk"
    sent = [m for m in to_caller(operator, caller) if isinstance(m, SendMessage)]
    assert all(m.protect_content is True for m in sent)
    # the shift sees what he was sent, in the topic
    head = dt("desk-canned-sent", operator=op_label(1), label=dt("desk-canned-label", name="safe"))
    posts = view.posts(operator.out, topic)
    assert f"{head}\n<blockquote>{t(lang, 'canned-safe')}</blockquote>" in posts
    assert dt("desk-talk", stage="recall") in posts  # his words are the operator's now
    assert len(posts) == 2
    # by its word in the operators' language too
    await operator.say(topic, f"/say {dt('desk-canned-word', name='stay')}")
    assert texts_to(operator, caller) == [t(lang, "canned-stay")]
    entries = [e for e in await hotline.app.audit.last(50) if e["what"] == "say"]
    assert [(e["reply"], e["result"]) for e in entries] == [("safe", "ok"), ("stay", "ok")]


async def test_a_canned_reply_is_remembered_for_a_wipe(hotline: Hotline) -> None:
    caller, operator, topic = await claimed_recall(hotline)
    await operator.say(topic, "/say drone")
    [sent] = [
        s
        for s in operator.out
        if isinstance(s.method, SendMessage)
        and s.method.chat_id == caller.user_id
        and s.method.text == t("ru", "canned-drone")
    ]
    assert sent.result.message_id in await hotline.app.store.chat_messages(caller.key)
    await caller.command("forget")
    assert sent.result.message_id in caller.deleted()


async def test_contact_at_a_time_needs_the_time_and_escapes_it(hotline: Hotline) -> None:
    caller, operator, topic = await claimed_recall(hotline, "uk")
    usage = dt(
        "desk-canned-usage",
        word=dt("desk-canned-word", name="contact"),
        args=dt("desk-canned-args", name="contact"),
    )
    await operator.say(topic, "/say contact")
    assert operator.replies() == [usage]
    assert texts_to(operator, caller) == []
    await operator.callback(f"say:contact:{topic}", topic)
    assert operator.answer() == usage
    await operator.say(topic, "/say contact 05:30 <b>завтра</b>")
    time = html.escape("05:30 <b>завтра</b>")
    assert texts_to(operator, caller) == [t("uk", "canned-contact", time=time), t("uk", "talk")]


async def test_the_meeting_instructions_are_one_of_them(hotline: Hotline) -> None:
    caller, operator, topic = await claimed_recall(hotline)
    await caller.location()
    await operator.say(topic, "/say встреча 05:30 | у моста")  # the operators read uk here
    assert operator.replies() == [dt("desk-canned-unknown")]
    await operator.say(topic, f"/say {dt('desk-canned-word', name='meet')} 05:30 | у моста")
    assert texts_to(operator, caller)[0] == t(
        "ru", "meeting-instructions", time="05:30", place="у моста"
    )
    assert await caller.state() == "meetup"


async def test_only_the_claimer_sends_canned_replies(hotline: Hotline) -> None:
    caller = hotline.caller()
    await recall(caller)
    topic = await DeskView(hotline).topic(caller)
    first, second = Operator(hotline, OPERATORS[0]), Operator(hotline, OPERATORS[1])
    await first.say(topic, "/say safe")
    assert first.replies() == [dt("desk-claim-first")]
    await first.say(topic, "/claim")
    await second.say(topic, "/say safe")
    assert second.replies() == [dt("desk-not-claimer", operator=op_label(1))]
    await second.callback(f"say:safe:{topic}", topic)
    assert second.answer() == dt("desk-not-claimer", operator=op_label(1))
    sent = [
        s for s in hotline.session.sent if getattr(s.method, "chat_id", None) == caller.user_id
    ]
    assert not any(
        isinstance(s.method, SendMessage) and s.method.text == t("ru", "canned-safe") for s in sent
    )


async def test_a_canned_button_sends_once_even_when_telegram_repeats_it(
    hotline: Hotline,
) -> None:
    caller, operator, topic = await claimed_recall(hotline)
    update = operator.account.press(SayData(name="cloth", topic=topic).pack(), 1, topic=topic)
    await operator.feed(update)
    assert operator.answer() is None
    assert texts_to(operator, caller) == [t("ru", "canned-cloth"), t("ru", "talk")]
    await operator.feed(update)  # Telegram sends it again
    assert texts_to(operator, caller) == []


# -- /queue --------------------------------------------------------------------------------------


async def test_queue_lists_open_cases_by_priority_then_waiting_time(hotline: Hotline) -> None:
    operator = Operator(hotline, OPERATORS[0])
    await operator.say(None, "/queue")
    assert operator.replies() == [dt("desk-queue-empty")]

    early = hotline.caller(user_id=300_000_001)
    await early.command("start")
    await early.tap("menu-operator")  # normal, the longest waiting
    late = hotline.caller(user_id=300_000_002)
    await late.command("start")
    await late.tap("menu-operator")  # normal, later
    back = hotline.caller(user_id=300_000_003)
    await recall(back)  # high
    sos = hotline.caller(user_id=300_000_004)
    await sos.command("start")
    await sos.tap("menu-emergency")  # highest, the newest
    view = DeskView(hotline)
    await operator.say(await view.topic(back), "/claim")

    hotline.clock.advance(600)
    await operator.say(None, "/queue")
    [text] = operator.replies()
    lines = text.splitlines()
    assert lines[0] == dt("desk-queue-head", count=4)
    order = [sos, back, early, late]
    for line, caller in zip(lines[1:], order, strict=True):
        case = await view.case(caller)
        assert f"https://t.me/c/{str(hotline.app.desk.chat_id)[4:]}/{case.topic}" in line
        assert (
            dt("desk-priority", priority={3: "highest", 2: "high", 1: "normal"}[case.priority])
            in line
        )
    assert op_label(1) in lines[2]
    # a stranger learns nothing of it (tests/e2e/test_desk_access.py refuses him)


# -- /handover -----------------------------------------------------------------------------------


async def test_handover_gives_the_case_to_the_operator_named_and_tells_him(
    hotline: Hotline,
) -> None:
    caller, first, topic = await claimed_recall(hotline)
    second = Operator(hotline, OPERATORS[1])
    view = DeskView(hotline)
    await second.say(topic, "/handover 2")  # not his to give
    assert second.replies() == [dt("desk-not-claimer", operator=op_label(1))]
    await first.say(topic, "/handover 7")
    assert first.replies() == [dt("desk-handover-usage", count=3)]
    await first.say(topic, "/handover 1")
    assert first.replies() == [dt("desk-yours")]

    await first.say(topic, "/handover 2")
    mention = f'<a href="tg://user?id={OPERATORS[1]}">{op_label(2)}</a>'
    assert view.posts(first.out, topic) == [
        dt("desk-handover-done", **{"from": op_label(1), "to": mention})
    ]
    assert (await view.case(caller)).claimer == hotline.app.desk.operators.digest(OPERATORS[1])
    card, _ = view.card()
    assert op_label(2) in card
    # the new claimer writes to him; the old one may not any more
    await second.say(topic, "Я оператор 2, теперь я с вами")
    # his message, then (the re-call's question paused) the live conversation's screen
    assert len([m for m in to_caller(second, caller) if isinstance(m, CopyMessage)]) == 1
    await first.say(topic, "/say safe")
    assert first.replies() == [dt("desk-not-claimer", operator=op_label(2))]
    entries = [e for e in await hotline.app.audit.last(50) if e["what"] == "handover"]
    assert [(e["result"], e.get("to")) for e in entries] == [
        ("refused", None),  # the second operator's try
        ("ok", hotline.app.desk.operators.who(OPERATORS[1])),
    ]


# -- /probe and /block ---------------------------------------------------------------------------


async def test_a_probe_mark_lowers_the_priority_of_its_accounts_escalations(
    hotline: Hotline,
) -> None:
    caller, operator, topic = await claimed_recall(hotline)
    view = DeskView(hotline)
    await operator.say(topic, "/probe")
    assert view.posts(operator.out, topic) == [dt("desk-mark-probe", operator=op_label(1))]
    case = await view.case(caller)
    assert case.priority == 1
    await operator.say(topic, "/probe")
    assert operator.replies() == [dt("desk-mark-already")]
    await operator.say(topic, "/abort")
    await operator.confirm(topic)  # typed, Abort asks first
    assert not (await view.case(caller)).open
    # he comes back with an emergency: from a suspected probe, it comes at normal priority
    await caller.command("sos")
    assert await caller.state() == "sos_confirm"
    await caller.tap("sos-yes")
    assert await caller.state() == "emergency_location"
    case = await view.case(caller)
    assert case.open
    assert case.priority == 1
    await operator.say(None, "/queue")
    assert "🕵" in operator.replies()[0]
    await operator.say(topic, "/unprobe")
    assert view.posts(operator.out, topic) == [dt("desk-mark-unprobe", operator=op_label(1))]
    await operator.say(topic, "/unprobe")
    assert operator.replies() == [dt("desk-mark-none")]
    entries = [e["what"] for e in await hotline.app.audit.last(50)]
    assert "probe" in entries
    assert "unprobe" in entries


async def in_handoff(hotline: Hotline, user_id: int) -> Caller:
    caller = hotline.caller(user_id=user_id)
    await caller.command("start")
    await caller.tap("menu-operator")
    assert await caller.state() == "handoff"
    return caller


async def test_a_blocked_account_is_answered_as_anyone_and_never_reaches_the_group(
    hotline: Hotline,
) -> None:
    view = DeskView(hotline)
    caller = await in_handoff(hotline, 100_200_300)
    topic = await view.topic(caller)
    operator = Operator(hotline, OPERATORS[0])
    await operator.say(topic, "/claim")
    ref = f"#{(await view.case(caller)).case[:8]}"
    await operator.say(topic, "/block")
    told = dt("desk-mark-block", operator=op_label(1), code=ref)
    assert view.posts(operator.out, topic) == [told]
    assert view.posts(operator.out) == [told]  # the queue view: the whole shift sees it
    assert not (await view.case(caller)).open
    await operator.say(None, "/queue")
    assert operator.replies() == [dt("desk-queue-empty")]

    control = await in_handoff(hotline, 100_999_999)  # the same steps, not blocked
    answers: dict[int, list[str]] = {}
    reached: dict[int, int] = {}
    for person in (caller, control):
        mark = len(hotline.session.sent)
        seen = []
        await person.text("Мне нужна помощь, я под Бахмутом")
        seen += person.texts
        await person.command("operator")
        seen += person.texts
        await person.command("start")
        await person.tap("menu-emergency")
        seen += person.texts
        answers[person.user_id] = seen
        reached[person.user_id] = len(view.calls(hotline.session.sent[mark:]))
    assert answers[caller.user_id] == answers[control.user_id]  # nothing tells him
    assert reached[control.user_id] > 0
    assert reached[caller.user_id] == 0  # nothing of the blocked account reached the group
    assert not (await view.case(caller)).open

    # still blocked after he erases everything and starts again
    await caller.command("forget")
    await caller.command("start")
    await caller.tap("menu-operator")
    assert view.calls(caller.out) == []

    await operator.say(None, f"/unblock {ref}")
    assert view.posts(operator.out) == [dt("desk-mark-unblock", operator=op_label(1), code=ref)]
    await caller.command("operator")
    await caller.text("теперь меня слышно?")
    assert view.calls(caller.out) != []  # he reaches the group again
    entries = [e["what"] for e in await hotline.app.audit.last(100)]
    assert "block" in entries
    assert "unblock" in entries
