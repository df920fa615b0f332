"""Content a step cannot use, at every kind of step, in both languages, through the Dispatcher.

Steps: a text step (the full name), a choice step (health: buttons only), a location step (the
emergency location, escalated) and the relay-only states (the emergency wait, the hand-off).
Inputs: sticker, photo, voice, document, location, contact, a 4,096-character text, an edited
message, a forwarded message, an inline button of a past screen and a reply-keyboard label of
another screen. Each gets its localized answer (or, where the operator relay is all the state is
about, goes to the operators) and the state stays as it was.

Also here: a repeated update and a repeated press change nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage

from flows.model import Conversation
from tests.e2e.conftest import (
    LANGS,
    NAME,
    TELEGRAM_TEXT_MAX,
    Caller,
    Hotline,
    fill_form,
    keyboard_of,
    labels,
    screen,
    t,
)

INPUTS = [
    "sticker",
    "photo",
    "voice",
    "video_note",
    "document",
    "location",
    "contact",
    "long-text",
    "edited",
    "forwarded",
    "old-inline-button",
    "other-screen-label",
]


@dataclass(frozen=True)
class Step:
    state: str
    live: bool  # escalated with no question open: what he sends is for the operators
    long_text: tuple[str, dict[str, Any]] | None  # the answer to a 4,096-character text
    escalated: bool = False  # an operator follows: what he sends reaches the topic


STEPS = {
    "text": Step("details_full_name", False, ("invalid-name-length", {"min": 2, "max": 100})),
    "choice": Step("details_health", False, ("use-buttons", {})),
    "location": Step(
        "emergency_location",
        False,
        ("invalid-location-length", {"min": 2, "max": 300}),
        escalated=True,
    ),
    "relay-emergency": Step("emergency", True, None, escalated=True),
    "relay-handoff": Step("handoff", True, None, escalated=True),
}


async def _reach(caller: Caller, kind: str) -> SendMessage:
    """Walk to the step; leave behind a message with inline buttons of another screen (the
    dangerous "yes, erase everything" of a /cancel he took back, or the review)."""
    await caller.command("start")
    if kind == "relay-handoff":
        await fill_form(caller)
        old = caller.last_inline()  # the review, with its "confirm" button
        await caller.command("operator")
        assert await caller.state() == "handoff"
        return old
    if kind in ("text", "choice"):
        await caller.tap("menu-surrender")
        await caller.tap("declare")
    if kind == "choice":
        await caller.text(NAME[caller.lang])
        await caller.text("17.05.1990")
        for _ in range(3):
            await caller.tap("skip")
        await caller.text("1")
        await caller.tap("skip")
        await caller.tap("skip")
    if kind in ("location", "relay-emergency"):
        await caller.tap("menu-emergency")
    if kind == "relay-emergency":
        for _ in range(3):
            await caller.tap("skip")
    state = await caller.state()
    await caller.command("cancel")
    old = caller.last_inline()
    await caller.press("withdraw-no", on=old)
    assert await caller.state() == state
    return old


def _essentials(conversation: Conversation) -> tuple[Any, ...]:
    return (
        conversation.state,
        conversation.fields,
        conversation.return_to,
        conversation.editing,
        conversation.case_id,
        conversation.lang,
    )


async def _send(caller: Caller, what: str, old: SendMessage) -> Any:
    """Send one kind of input; the caller's message it made, if any."""
    if what in ("sticker", "photo", "voice", "video_note", "document"):
        return await caller.media(what)
    if what == "location":
        return await caller.location()
    if what == "contact":
        return await caller.contact("+79123456789")
    if what == "long-text":
        return await caller.text("я" * TELEGRAM_TEXT_MAX)
    if what == "edited":
        first = caller.message_ids[-1]
        message = caller.account.message(text="исправил", message_id=first)
        await caller.edit(message, "исправил")
        return message
    if what == "forwarded":
        return await caller.forward("Переслано из канала")
    if what == "old-inline-button":
        data = next(d for d in keyboard_of(old) if d.endswith((":withdraw-yes", ":confirm")))
        await caller.callback(data, caller.sent_id(old))
        return None
    assert what == "other-screen-label"
    return await caller.tap("menu-premob")  # a label of the menu's keyboard


# what an escalated caller's contact or location leaves, sealed, for the operator's reveal
SHARED = {
    "contact": {"shared_phone": "+79123456789"},
    "location": {"shared_location": "47.91000,37.62000"},
}


def _expected(lang: str, step: Step, what: str) -> list[str] | None:
    """The localized answer, or None where the input only goes to the operators. A refusal
    is one message saying what is expected (the step's keyboard stays); a voice note is
    heard, and the step is shown again."""
    if what in ("voice", "video_note"):
        return [t(lang, "voice-relayed"), screen(lang, step.state)]
    if what in ("contact", "location") and step.escalated:
        return [t(lang, f"{what}-passed")]  # kept for the operator's private reveal
    if what == "old-inline-button":
        return [t(lang, "stale-button")]
    if what == "other-screen-label" and not step.escalated:
        return [t(lang, "stale-button")]
    if step.live:  # a typed label there is words for the operator, like any text
        return None
    if step.escalated and what != "long-text":
        # it reached the operator: never "not needed here", the question still waits
        return [t(lang, "relayed-to-operator")]
    if what in ("sticker", "photo", "document", "location", "contact"):
        return [t(lang, "wrong-content", kind=what)]
    if what == "long-text":
        assert step.long_text is not None
        notice, params = step.long_text
        return [t(lang, notice, **params)]
    if what == "edited":
        return [t(lang, "edit-ignored")]
    assert what == "forwarded"
    return [t(lang, "forward-refused")]


def _cases() -> list[Any]:
    return [
        pytest.param(kind, what, lang, id=f"{kind}-{what}-{lang}")
        for kind in STEPS
        for what in INPUTS
        # a location is what the location step asks for (the flow tests cover it)
        if not (kind == "location" and what == "location")
        for lang in LANGS
    ]


@pytest.mark.parametrize(("kind", "what", "lang"), _cases())
async def test_unusable_input_is_answered_and_the_state_stays(
    hotline: Hotline, kind: str, what: str, lang: str
) -> None:
    step = STEPS[kind]
    caller = hotline.caller(lang=lang)
    old = await _reach(caller, kind)
    before = await caller.conversation()

    message = await _send(caller, what, old)

    after = await caller.conversation()
    shared = SHARED.get(what) if step.escalated else None
    if shared is not None:
        # sealed with his details for the claiming operator, nothing else moves
        assert after.fields == {**before.fields, **shared}
        after.fields = before.fields
    assert _essentials(after) == _essentials(before)
    expected = _expected(lang, step, what)
    relayed = [(m.from_chat_id, m.message_id) for m in caller.relayed()]
    if expected is None:
        assert caller.replies == [], "the live relay answered in the bot's name"
    else:
        assert caller.texts == expected
        if not step.live:  # (a live relay's keyboard stays as it was)
            assert keyboard_of(caller.replies[-1]) == labels(lang, step.state)
    if what in ("voice", "video_note"):
        # a caller who cannot type must still be heard: his voice goes to the operators
        assert relayed == [(caller.user_id, message.message_id)]
        assert after.escalated
    elif what == "old-inline-button":
        assert relayed == []
    elif before.escalated:
        assert relayed == [(caller.user_id, message.message_id)]
    else:
        assert relayed == []
        assert hotline.desk(caller.out) == []
    if what == "old-inline-button":
        # the press is acknowledged, so the button stops spinning
        assert any(isinstance(s.method, AnswerCallbackQuery) for s in caller.out)
    if what == "long-text" and step.long_text is not None and step.state != "details_health":
        # a refused answer may hold a personal value too: it leaves the chat all the same
        assert message is not None
        assert caller.deleted() == [message.message_id]
    elif shared is not None:
        assert message is not None
        assert caller.deleted() == [message.message_id]  # his number or place: gone from chat
    else:
        assert caller.deleted() == []  # nothing was captured, nothing to delete
    hotline.assert_all_protected()


# ---------------------------------------------------------------------------------------------
# Repeated updates and presses


async def test_a_repeated_update_produces_nothing_the_second_time(hotline: Hotline) -> None:
    caller = hotline.caller()
    await caller.command("start")
    await caller.tap("menu-surrender")
    await caller.tap("declare")
    update = caller.account.text(NAME[caller.lang])
    first = await caller.feed(update)
    assert caller.texts == [screen("ru", "details_birth_date")]
    conversation = await caller.conversation()

    again = await caller.feed(update)  # Telegram redelivers: same update_id
    assert again == []
    assert await caller.conversation() == conversation
    assert first  # (the first delivery did send)

    # a repeated update of a button press (Telegram redelivering a callback) too
    await fill_form_from_birth_date(caller)
    press = caller.last_inline()
    data = next(d for d in keyboard_of(press) if d.endswith(":confirm"))
    await caller.callback(data, caller.sent_id(press))
    assert caller.last_update is not None
    registered = await caller.conversation()
    assert registered.state == "registered"
    assert await caller.feed(caller.last_update) == []
    assert await caller.conversation() == registered


async def fill_form_from_birth_date(caller: Caller) -> None:
    await caller.text("17.05.1990")
    for _ in range(3):
        await caller.tap("skip")
    await caller.text("1")
    for _ in range(4):
        await caller.tap("skip")
    assert await caller.state() == "review"


async def test_a_repeated_press_changes_nothing_twice(hotline: Hotline) -> None:
    caller = hotline.caller()
    await caller.command("start")
    await fill_form(caller)
    review = caller.last_inline()

    await caller.press("confirm", on=review)
    registered = await caller.conversation()
    assert registered.state == "registered"
    code = registered.fields["case_code"]
    assert caller.texts == [screen("ru", "registered"), t("ru", "code-once", code=code)]

    # the same button again (a double tap: two callback updates)
    await caller.press("confirm", on=review)
    conversation = await caller.conversation()
    assert _essentials(conversation) == _essentials(registered)
    assert conversation.fields["case_code"] == code
    assert conversation.case_id == registered.case_id
    assert caller.texts == [t("ru", "stale-button")]  # one message; the keyboard stays
    assert hotline.desk(caller.out) == []

    # "yes, erase" pressed twice: withdrawn once, the second press finds nothing to erase
    await caller.command("cancel")
    confirm = caller.last_inline()
    await caller.press("withdraw-yes", on=confirm)
    assert caller.texts == [t("ru", "withdrawn")]
    assert caller.deleted() != []  # withdrawal wipes the chat like /forget
    await caller.press("withdraw-yes", on=confirm)
    # a stale button: explained, and the fresh conversation begins; nothing erased again
    assert caller.texts == [t("ru", "stale-button"), t("ru", "greeting"), screen("ru", "menu")]
    assert caller.deleted() == []
    assert hotline.desk(caller.out) == []
    assert (await caller.conversation()).fields == {}

    # a reply-keyboard button sent twice: the second is a button of a screen already left
    await caller.command("start")
    await caller.tap("menu-emergency")
    assert await caller.state() == "emergency_location"
    await caller.tap("menu-emergency")
    assert await caller.state() == "emergency_location"
    # the operators follow him now: the words reach them, and the question still waits
    assert caller.texts == [t("ru", "relayed-to-operator")]
    assert len(caller.relayed()) == 1


@pytest.mark.parametrize(
    "data", ["b:x", "b:review:confirm:extra", "lang:", "lang:de", "nonsense", ""]
)
async def test_damaged_callback_data_is_a_stale_button(hotline: Hotline, data: str) -> None:
    caller = hotline.caller(lang="uk")
    await caller.command("start")
    await caller.tap("menu-surrender")
    declaration = caller.replies[0]
    before = await caller.conversation()
    await caller.callback(data, caller.sent_id(declaration))
    assert _essentials(await caller.conversation()) == _essentials(before)
    assert caller.texts == [t("uk", "stale-button")]
    assert any(isinstance(s.method, AnswerCallbackQuery) for s in caller.out)
