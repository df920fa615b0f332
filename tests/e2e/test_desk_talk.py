"""An operator talks to a caller wherever he is (issue 11, "talk in any state"), through the real
Dispatcher: the operator's message opens a live conversation, the caller's next messages reach
the topic instead of the form, and a button takes him back to the step he left with what he had
answered. Over the rate limit, nothing an escalated caller sends is dropped.
"""

from __future__ import annotations

import html

import pytest
import redis.asyncio
from aiogram.methods import CopyMessage, SendMessage

from flows import surrender as flow
from tests.e2e.conftest import (
    DESK_CHAT,
    NAME,
    Caller,
    Hotline,
    HotlineFactory,
    keyboard_of,
    labels,
    screen,
    t,
)
from tests.e2e.desk_harness import OPERATORS, DeskView, Operator, card_actions, dt, to_caller

CLAIMED_IN_FORM = ["release", "details", "verified", "close", "erase"]


@pytest.fixture
async def desk(redis_backend: redis.asyncio.Redis, make_hotline: HotlineFactory) -> Hotline:
    """Three listed operators, on fakeredis and on the real server."""
    return await make_hotline(redis_backend, operator_ids=OPERATORS)


async def _at_step_3_heard(caller: Caller) -> None:
    """In the form at step 3 (the unit), with a voice note that brought the desk in."""
    await caller.command("start")
    await caller.tap("menu-surrender")
    await caller.tap("declare")
    await caller.text(NAME[caller.lang])
    await caller.text("17.05.1990")
    assert await caller.state() == "details_unit"
    await caller.media("voice")  # a caller who cannot type is heard: the desk is asked
    conversation = await caller.conversation()
    assert conversation.escalated
    assert conversation.state == "details_unit"


def _relayed_words(view: DeskView, caller: Caller, topic: int) -> list[str]:
    header = dt("desk-from-caller", kind="text")
    return [p for p in view.posts(caller.out, topic) if p.startswith(header)]


@pytest.mark.parametrize("lang", ["ru", "uk"])
async def test_an_operator_writes_to_a_caller_at_step_3_of_the_form(
    desk: Hotline, lang: str
) -> None:
    view = DeskView(desk)
    caller = desk.caller(lang=lang)
    op = Operator(desk, OPERATORS[0])
    await _at_step_3_heard(caller)
    answered = (await caller.conversation()).fields
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    assert card_actions(view.card()[1]) == CLAIMED_IN_FORM

    # the operator writes: his message reaches the caller, then a live conversation opens
    hello = await op.say(topic, "Вы в безопасности? Ответьте здесь.")
    sent = to_caller(op, caller)
    copies = [m for m in sent if isinstance(m, CopyMessage)]
    assert [(c.from_chat_id, c.message_id, c.protect_content) for c in copies] == [
        (DESK_CHAT, hello.message_id, True)
    ]
    replies = [m for m in sent if isinstance(m, SendMessage)]
    assert [m.text for m in replies] == [t(lang, "talk")]
    assert keyboard_of(replies[0]) == labels(lang, "talk")  # the way back, in his language
    assert sent.index(copies[0]) < sent.index(replies[0])  # his words first, then the bot's
    assert await caller.state() == "talk"
    assert view.posts(op.out, topic) == [dt("desk-talk", stage="form")]
    # Close brings him back to his step; nothing else a form allows is offered
    assert card_actions(view.card()[1]) == CLAIMED_IN_FORM

    # his answer reaches the topic, marked as his, and is not taken as step 3's answer
    answer = await caller.text("Да, я в безопасности, в/ч 12345 рядом")
    assert _relayed_words(view, caller, topic) == [
        dt("desk-from-caller", kind="text")
        + f"\n<blockquote>{html.escape('Да, я в безопасности, в/ч 12345 рядом')}</blockquote>"
    ]
    assert caller.replies == []  # no "choose a button", no question over his words
    assert caller.deleted() == []  # his words to the operator stay (they are no answer)
    conversation = await caller.conversation()
    assert conversation.state == "talk"
    assert conversation.fields == answered  # the form keeps its answers, gains none
    assert answer.message_id in caller.message_ids

    # the button takes him back to step 3, with what he had answered
    await caller.tap("talk-back")
    assert caller.texts == [screen(lang, "details_unit")]  # "step 3 of 10" and its question
    assert flow.STEP_OF["details_unit"] == (3, 10)
    assert keyboard_of(caller.replies[0]) == labels(lang, "details_unit")
    conversation = await caller.conversation()
    assert conversation.state == "details_unit"
    assert conversation.fields == answered
    assert conversation.escalated  # the operator is still with him
    assert view.posts(caller.out, topic) == [dt("desk-talk-back")]
    case = await view.case(caller)
    assert case.open
    assert not case.talk

    # and the form goes on from there: his next message is step 3's answer again
    unit = await caller.text("в/ч 12345")
    assert await caller.state() == "details_rank"
    assert (await caller.conversation()).fields == {**answered, "unit": "в/ч 12345"}
    assert caller.deleted() == [unit.message_id]  # a personal answer leaves his chat
    assert _relayed_words(view, caller, topic) == []  # an answer goes to the form, sealed

    # the operator writes again: the conversation opens again, at step 4 now
    await op.say(topic, "Ещё вопрос")
    assert await caller.state() == "talk"
    await caller.tap("talk-back")
    assert await caller.state() == "details_rank"
    desk.assert_all_protected()


async def test_at_the_menu_his_words_reach_the_operator_not_the_menu(desk: Hotline) -> None:
    view = DeskView(desk)
    caller = desk.caller()
    op = Operator(desk, OPERATORS[0])
    await caller.command("start")
    await caller.media("voice")
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    await op.say(topic, "Здравствуйте, я оператор")
    assert await caller.state() == "talk"

    await caller.text("Мне страшно, что делать?")
    assert caller.replies == []  # not the whole menu again, not "choose a button"
    assert len(_relayed_words(view, caller, topic)) == 1

    # the operator's Close: he is told, and goes on at the menu; the escalation ends
    await op.say(topic, "/close")
    texts = [m.text for m in to_caller(op, caller) if isinstance(m, SendMessage)]
    assert texts == [t("ru", "operator-ended"), screen("ru", "menu")]
    conversation = await caller.conversation()
    assert (conversation.state, conversation.escalated, conversation.talk_from) == (
        "menu",
        False,
        None,
    )
    assert not (await view.case(caller)).open


async def test_an_operators_message_delivered_twice_reaches_the_caller_once(
    desk: Hotline,
) -> None:
    view = DeskView(desk)
    caller = desk.caller()
    op = Operator(desk, OPERATORS[0])
    await _at_step_3_heard(caller)
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    await op.say(topic, "Вы здесь?")
    update = op.last_update
    assert update is not None
    assert len([m for m in to_caller(op, caller) if isinstance(m, CopyMessage)]) == 1
    await op.feed(update)  # Telegram delivers the same update again
    assert to_caller(op, caller) == []
    assert await caller.state() == "talk"


async def test_a_caller_in_a_re_call_goes_back_to_the_question_he_was_asked(
    desk: Hotline,
) -> None:
    from tests.e2e.desk_harness import recall

    view = DeskView(desk)
    caller = desk.caller()
    op = Operator(desk, OPERATORS[0])
    await recall(caller)
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    await op.say(topic, "Пришлите, где вы")
    assert await caller.state() == "talk"
    # a re-call's actions still apply while they talk: meet or abort, and Close
    assert card_actions(view.card()[1]) == [
        "release",
        "details",
        "verified",
        "meet",
        "abort",
        "close",
        "erase",
    ]
    # the place he shares for the operator: in the sealed details, never in the topic
    await caller.location(47.91, 37.62)
    assert "47.91" not in str(view.calls(caller.out))
    fields = (await caller.conversation()).fields
    assert fields["shared_location"] == "47.91000,37.62000"
    assert "recall_location" not in fields
    await caller.tap("talk-back")
    assert await caller.state() == "recall_location"
    assert caller.texts == [screen("ru", "recall_location")]


async def test_over_the_rate_limit_an_escalated_caller_is_never_dropped(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await make_hotline(operator_ids=OPERATORS, rate_limit_per_minute=4)
    view = DeskView(hotline)
    caller = hotline.caller()
    await caller.command("start")
    await caller.tap("menu-operator")  # a hand-off: every word is for the operator
    topic = await view.topic(caller)
    words = [f"сообщение {n}" for n in range(8)]
    relayed: list[str] = []
    voices = 0
    for n, text in enumerate(words):  # 2 + 8 + 2 updates within a minute, over the limit of 4
        await caller.text(text)
        relayed += _relayed_words(view, caller, topic)
        if n in (3, 6):
            await caller.media("voice")
            voices += len(view.copies(caller.out))
    assert relayed == [
        dt("desk-from-caller", kind="text") + f"\n<blockquote>{w}</blockquote>" for w in words
    ]  # every one, in order
    assert voices == 2
    assert t("ru", "rate-limited") not in [m.text for m in caller.replies]

    # a caller nobody follows is limited as before: one notice, the rest dropped
    other = hotline.caller(user_id=100_777_001)
    await other.command("start")
    for n in range(6):
        await other.text(f"привет {n}")
    everything = [
        s.method.text
        for s in other.to_me(hotline.session.sent)
        if isinstance(s.method, SendMessage)
    ]
    assert everything.count(t("ru", "rate-limited")) == 1
    assert f"привет {5}" not in str(hotline.desk())  # (he has no topic: nothing of him there)


async def test_a_contact_shared_in_a_hand_off_is_in_the_private_details_only(
    desk: Hotline,
) -> None:
    """The infiltrated group member of security.md reads every topic: a phone number shared
    for the operator is described there, never copied; only the claimer's reveal shows it."""
    view = DeskView(desk)
    caller = desk.caller()
    op = Operator(desk, OPERATORS[0])
    await caller.command("start")
    await caller.tap("menu-operator")
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    shared = await caller.contact("+79123456789")
    await caller.location(47.91, 37.62)
    assert view.copies(caller.out) == []
    posts = view.posts(desk.session.sent, topic)
    assert dt("desk-from-caller", kind="contact") + "\n" + dt("desk-caller-contact") in posts
    group = str(desk.desk())
    assert "9123456789" not in group
    assert "47.91" not in group
    assert shared.message_id in caller.deleted(desk.session.sent)  # gone from his chat too
    assert t("ru", "contact-passed") in [
        s.method.text for s in caller.to_me(desk.session.sent) if isinstance(s.method, SendMessage)
    ]

    await op.press(topic, "details")
    private = [s.method for s in op.out if getattr(s.method, "chat_id", None) == OPERATORS[0]]
    (reveal,) = private
    assert isinstance(reveal, SendMessage)
    assert f"{dt('desk-field', field='shared_phone')}: +79123456789" in reveal.text
    assert "mlat=47.91000&amp;mlon=37.62000" in reveal.text  # the place as a map link there


async def test_a_voice_note_over_the_limit_is_heard_and_brings_the_desk(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await make_hotline(operator_ids=OPERATORS, rate_limit_per_minute=3)
    caller = hotline.caller()
    await caller.command("start")
    for n in range(4):
        await caller.text(f"привет {n}")
    assert (await caller.conversation()).escalated is False
    voice = await caller.media("voice")  # over the limit, nobody follows him yet: heard anyway
    assert [(c.from_chat_id, c.message_id) for c in DeskView(hotline).copies(caller.out)] == [
        (caller.user_id, voice.message_id)
    ]
    assert (await caller.conversation()).escalated
    await caller.text("я здесь, ответьте")  # from now on an operator follows: nothing is dropped
    assert len(caller.relayed()) == 1


async def test_forget_wipes_the_operators_words_from_his_chat_too(desk: Hotline) -> None:
    """The seized phone of security.md: what an operator wrote to him goes with /forget."""
    view = DeskView(desk)
    caller = desk.caller()
    op = Operator(desk, OPERATORS[0])
    await _at_step_3_heard(caller)
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    await op.say(topic, "Уходите с этого места")
    copied = [
        int(s.result.message_id)
        for s in op.out
        if isinstance(s.method, CopyMessage) and s.method.chat_id == caller.user_id
    ]
    assert len(copied) == 1
    await caller.command("forget")
    assert copied[0] in caller.deleted()


async def test_a_canned_reply_at_step_3_is_not_answered_into_the_form(desk: Hotline) -> None:
    view = DeskView(desk)
    caller = desk.caller(lang="uk")
    op = Operator(desk, OPERATORS[0])
    await _at_step_3_heard(caller)
    answered = (await caller.conversation()).fields
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    await op.say(topic, "/say safe")
    texts = [m.text for m in to_caller(op, caller) if isinstance(m, SendMessage)]
    assert texts == [t("uk", "canned-safe"), t("uk", "talk")]
    await caller.text("так")  # "yes": for the operator, not the unit of step 3
    assert (await caller.conversation()).fields == answered
    assert len(_relayed_words(view, caller, topic)) == 1
    await caller.tap("talk-back")
    assert caller.texts == [screen("uk", "details_unit")]
