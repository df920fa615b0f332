"""The caller's paths end to end, in Russian and in Ukrainian, through the real Dispatcher.

Each test asserts the texts the bot sent (rendered from the packs), the keyboards (reply labels,
inline callback data), the state the store holds after each step, that personal answers were
deleted from the chat, and that every message to the caller was sent with protect_content.
"""

from __future__ import annotations

import re

import pytest
from aiogram.methods import CopyMessage, CreateForumTopic, SendMessage
from aiogram.types import ReplyKeyboardRemove

from flows import surrender as flow
from tests.e2e.conftest import (
    DECLARATION,
    LANGS,
    NAME,
    Caller,
    Hotline,
    fill_form,
    inline_data,
    kept_after_erase,
    keyboard_of,
    labels,
    register,
    review_values,
    screen,
    t,
)

CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


async def _answer(caller: Caller, how: str, value: str, next_state: str) -> None:
    """Answer one detail; the answer must be captured, its message deleted, the next shown."""
    if how == "text":
        message = await caller.text(value)
    elif how == "tap":
        message = await caller.tap(value)
    else:
        message = await caller.contact(value)
    assert caller.deleted() == [message.message_id], f"answer {value!r} stays in the chat"
    assert await caller.state() == next_state
    assert caller.texts == [screen(caller.lang, next_state)]
    assert keyboard_of(caller.replies[0]) == labels(caller.lang, next_state)


@pytest.mark.parametrize("lang", LANGS)
async def test_premob_declaration_details_review_registered_and_recall(
    any_hotline: Hotline, lang: str
) -> None:
    hotline = any_hotline
    caller = hotline.caller(lang=lang)

    await caller.command("start")
    assert caller.texts == [t(lang, "greeting"), screen(lang, "menu")]
    assert isinstance(caller.replies[0].reply_markup, ReplyKeyboardRemove)
    assert keyboard_of(caller.replies[1]) == labels(lang, "menu")
    assert await caller.state() == "menu"

    await caller.tap("menu-premob")
    assert caller.texts == [screen(lang, "premob")]
    assert keyboard_of(caller.replies[0]) == labels(lang, "premob")
    assert await caller.state() == "premob"

    await caller.tap("register")
    assert caller.texts == [screen(lang, "declaration")]
    assert keyboard_of(caller.replies[0]) == labels(lang, "declaration")

    await caller.text(DECLARATION[lang])  # in his own words
    assert await caller.state() == "details_full_name"
    assert caller.texts == [screen(lang, "details_full_name")]
    assert caller.texts[0].startswith(t(lang, "step", k=1, n=len(flow.DETAILS)) + "\n")
    assert keyboard_of(caller.replies[0]) == labels(lang, "details_full_name")

    await _answer(caller, "text", NAME[lang], "details_birth_date")
    await _answer(caller, "text", "1990-05-17", "details_unit")
    await _answer(caller, "text", "в/ч 12345", "details_rank")
    await _answer(caller, "tap", "rank-sergeant", "details_service_number")
    await _answer(caller, "text", "АБ-123456", "details_people")
    await _answer(caller, "text", "3", "details_area")
    await _answer(caller, "text", "Покровское", "details_phone")
    await _answer(caller, "contact", "+79123456789", "details_health")
    await _answer(caller, "tap", "health-light", "details_wish")

    wish = await caller.tap("wish-stay")
    assert caller.deleted() == [wish.message_id]
    expected_fields = {
        "full_name": NAME[lang],
        "birth_date": "1990-05-17",
        "unit": "в/ч 12345",
        "rank": "rank-sergeant",
        "service_number": "АБ-123456",
        "people": "3",
        "area": "Покровское",
        "phone": "+79123456789",
        "health": "health-light",
        "wish": "wish-stay",
    }
    conversation = await caller.conversation()
    assert conversation.state == "review"
    assert conversation.fields == expected_fields
    assert caller.texts == [screen(lang, "review", **review_values(lang, expected_fields))]
    assert keyboard_of(caller.replies[0]) == inline_data("review")

    # edit one field from the review: back to that step, then straight back to the review
    await caller.press("edit-people")
    assert await caller.state() == "details_people"
    assert caller.texts == [screen(lang, "details_people")]
    people = await caller.text("4")
    assert caller.deleted() == [people.message_id]
    expected_fields["people"] = "4"
    conversation = await caller.conversation()
    assert conversation.state == "review"
    assert conversation.fields == expected_fields
    assert caller.texts == [screen(lang, "review", **review_values(lang, expected_fields))]

    review = caller.last_inline()
    await caller.press("confirm")
    conversation = await caller.conversation()
    assert conversation.state == "registered"
    code = conversation.fields["case_code"]
    assert CODE.fullmatch(code)
    # the review with his details leaves the chat; the code is shown once, apart
    assert caller.sent_id(review) in caller.deleted()
    assert caller.texts == [screen(lang, "registered"), t(lang, "code-once", code=code)]
    assert code not in caller.texts[0]
    assert f"<b>{code}</b>" in caller.texts[1]
    assert keyboard_of(caller.replies[0]) == labels(lang, "registered")
    code_message = caller.replies[1]
    await caller.press("code-written", on=code_message)
    assert caller.deleted() == [caller.sent_id(code_message)]
    assert caller.texts == []
    assert conversation.owns_case
    assert conversation.case_id is not None
    case_id = conversation.case_id

    # /status never shows the code
    await caller.command("status")
    assert caller.texts == [t(lang, "status", phase="registered")]
    assert code not in caller.texts[0]

    # at the front: ready now, from the same account: no code asked
    await caller.tap("ready")
    assert await caller.state() == "recall_declare"
    assert caller.texts == [screen(lang, "recall_declare")]
    await caller.tap("declare")
    assert await caller.state() == "recall_location"
    assert caller.texts == [screen(lang, "recall_location")]
    assert keyboard_of(caller.replies[0]) == labels(lang, "recall_location")
    desk = hotline.desk(caller.out)
    assert any(isinstance(m, SendMessage) for m in desk), "the recall was not escalated"

    spot = await caller.location()
    assert [(m.from_chat_id, m.message_id) for m in caller.relayed()] == [
        (caller.user_id, spot.message_id)
    ]
    assert caller.deleted() == [spot.message_id]
    assert caller.texts == [screen(lang, "recall_people")]
    await caller.text("2")
    assert await caller.state() == "recall_injuries"
    assert keyboard_of(caller.replies[0]) == labels(lang, "recall_injuries")
    await caller.tap("health-none")
    conversation = await caller.conversation()
    assert conversation.state == "meetup"
    assert conversation.case_id == case_id
    assert conversation.owns_case
    assert conversation.fields["case_code"] == code
    assert conversation.escalated
    assert caller.texts == [screen(lang, "meetup", guided="no")]  # nobody has taken it yet
    assert keyboard_of(caller.replies[0]) == labels(lang, "meetup")

    hotline.assert_all_protected()


@pytest.mark.parametrize("lang", LANGS)
async def test_recall_from_another_account_needs_the_code_and_the_birth_date(
    hotline: Hotline, lang: str
) -> None:
    owner = hotline.caller(user_id=100_000_001, lang="ru")
    code = await register(owner)
    case_id = (await owner.conversation()).case_id

    caller = hotline.caller(user_id=100_000_002, lang=lang)  # a new phone, a new account
    await caller.command("start")
    await caller.tap("menu-ready")
    assert await caller.state() == "recall_code"
    assert caller.texts == [screen(lang, "recall_code")]
    assert keyboard_of(caller.replies[0]) == labels(lang, "recall_code")

    # a code that finds no case is answered like one that does: the date is asked for
    wrong = await caller.text("ZZZZ-ZZZZ")
    assert caller.deleted() == [wrong.message_id]
    assert caller.texts == [screen(lang, "recall_birth")]
    assert await caller.state() == "recall_birth"
    any_date = await caller.text("01.01.1991")
    assert caller.deleted() == [any_date.message_id]
    assert caller.texts == [t(lang, "code-or-date-mismatch", left=4)]  # one message
    assert keyboard_of(caller.replies[0]) == labels(lang, "recall_code")
    assert await caller.state() == "recall_code"

    typed = await caller.text(code.lower().replace("-", " "))  # typed sloppily: still his code
    assert caller.deleted() == [typed.message_id]
    assert await caller.state() == "recall_birth"
    assert caller.texts == [screen(lang, "recall_birth")]

    wrong_birth = await caller.text("01.01.1991")
    assert caller.deleted() == [wrong_birth.message_id]
    assert caller.texts == [t(lang, "code-or-date-mismatch", left=3)]
    assert (await caller.conversation()).case_id is None

    await caller.text(code)
    birth = await caller.text("17.05.1990")
    assert caller.deleted() == [birth.message_id]
    conversation = await caller.conversation()
    assert conversation.state == "recall_declare"
    assert conversation.case_id == case_id
    assert not conversation.owns_case
    assert "case_code" not in conversation.fields  # the code is never stored in clear twice
    assert caller.texts == [screen(lang, "recall_declare")]

    await caller.text(DECLARATION[lang])
    assert await caller.state() == "recall_location"
    assert hotline.desk(caller.out), "the recall was not escalated"
    await caller.location()
    await caller.text("3")
    await caller.tap("health-light")
    conversation = await caller.conversation()
    assert conversation.state == "meetup"
    assert conversation.case_id == case_id
    assert caller.texts == [screen(lang, "meetup", guided="no")]  # nobody has taken it yet

    # the owner's own conversation is untouched
    assert (await owner.conversation()).state == "registered"
    hotline.assert_all_protected()


@pytest.mark.parametrize("lang", LANGS)
async def test_emergency_asks_three_things_escalates_and_opens_the_relay(
    hotline: Hotline, lang: str
) -> None:
    caller = hotline.caller(lang=lang)
    await caller.command("start")
    await caller.tap("menu-emergency")
    conversation = await caller.conversation()
    assert conversation.state == "emergency_location"
    assert conversation.escalated
    assert conversation.priority == 3  # the highest
    assert caller.texts == [screen(lang, "emergency_location")]
    assert keyboard_of(caller.replies[0]) == labels(lang, "emergency_location")
    desk = hotline.desk(caller.out)
    assert any(isinstance(m, CreateForumTopic) for m in desk), "no case topic was opened"
    assert any(isinstance(m, SendMessage) and m.message_thread_id for m in desk)

    spot = await caller.location()
    assert [m.message_id for m in caller.relayed()] == [spot.message_id]
    assert caller.deleted() == [spot.message_id]
    assert caller.texts == [screen(lang, "emergency_people")]
    assert keyboard_of(caller.replies[0]) == labels(lang, "emergency_people")

    people = await caller.text("5")
    assert [m.message_id for m in caller.relayed()] == [people.message_id]
    assert caller.texts == [screen(lang, "emergency_injuries")]
    await caller.tap("health-serious")
    conversation = await caller.conversation()
    assert conversation.state == "emergency"
    assert conversation.fields["emergency_location"] == "47.91000,37.62000"
    assert conversation.fields["emergency_people"] == "5"
    assert conversation.fields["emergency_injuries"] == "health-serious"
    assert caller.texts == [screen(lang, "emergency")]
    assert isinstance(caller.replies[0].reply_markup, ReplyKeyboardRemove)

    # the live relay: what he writes goes to the operators, and he is not answered by the bot
    words = await caller.text("нас трое, один ранен")
    assert [m.message_id for m in caller.relayed()] == [words.message_id]
    assert caller.replies == []
    voice = await caller.media("voice")
    assert [m.message_id for m in caller.relayed()] == [voice.message_id]
    assert caller.texts == [t(lang, "voice-relayed"), screen(lang, "emergency")]
    assert await caller.state() == "emergency"
    hotline.assert_all_protected()


@pytest.mark.parametrize("lang", LANGS)
async def test_relatives_read_how_exchanges_work_and_reach_an_operator(
    hotline: Hotline, lang: str
) -> None:
    caller = hotline.caller(lang=lang)
    await caller.command("start")
    await caller.tap("menu-relative")
    assert await caller.state() == "relatives"
    assert caller.texts == [screen(lang, "relatives")]
    assert keyboard_of(caller.replies[0]) == labels(lang, "relatives")
    assert hotline.desk(caller.out) == []  # reading is not an escalation

    await caller.tap("operator")
    conversation = await caller.conversation()
    assert conversation.state == "handoff"
    assert conversation.escalated
    assert caller.texts == [screen(lang, "handoff")]
    assert keyboard_of(caller.replies[0]) == labels(lang, "handoff")
    assert any(isinstance(m, SendMessage) for m in hotline.desk(caller.out))

    question = await caller.text("Мой сын в плену с марта, что делать?")
    assert [m.message_id for m in caller.relayed()] == [question.message_id]
    assert caller.replies == []

    await caller.tap("leave")
    assert await caller.state() == "relatives"
    assert caller.texts == [screen(lang, "relatives")]
    hotline.assert_all_protected()


@pytest.mark.parametrize("lang", LANGS)
async def test_cancel_asks_first_then_withdraws_and_erases_everything(
    any_hotline: Hotline, lang: str
) -> None:
    hotline = any_hotline
    caller = hotline.caller(lang=lang)
    code = await register(caller)
    registered = await caller.conversation()
    digest = hotline.app.store.digest("code", code)
    assert (await hotline.app.store.find_case(digest)).case_id == registered.case_id

    await caller.command("cancel")
    assert await caller.state() == "confirm_withdraw"
    assert caller.texts == [screen(lang, "confirm_withdraw")]
    assert keyboard_of(caller.replies[0]) == inline_data("confirm_withdraw")

    await caller.press("withdraw-no")  # changed his mind: nothing lost
    conversation = await caller.conversation()
    assert conversation.state == "registered"
    assert conversation.fields == registered.fields
    assert caller.texts == [screen(lang, "registered", code=code)]

    await caller.command("cancel")
    await caller.press("withdraw-yes")
    assert caller.texts == [t(lang, "withdrawn")]
    assert isinstance(caller.replies[0].reply_markup, ReplyKeyboardRemove)

    # erased: nothing of the conversation is left but its dedupe marks, the code finds nothing
    keys = await hotline.keys()
    assert {k for k in keys if caller.key in k} - kept_after_erase(caller.key) == set()
    await hotline.assert_erased(caller.key)
    assert not any(k.startswith(("hl:code:", "hl:case:", "hl:topic:")) for k in keys)
    assert (await hotline.app.store.find_case(digest)).case_id is None
    loaded = await hotline.app.store.load(caller.key, -1)
    assert loaded.version == 0
    assert loaded.conversation.fields == {}

    # and he may begin anew
    await caller.command("start")
    assert caller.texts == [t(lang, "greeting"), screen(lang, "menu")]
    hotline.assert_all_protected()


@pytest.mark.parametrize("lang", LANGS)
async def test_forget_erases_at_once_and_deletes_every_message_it_can(
    any_hotline: Hotline, lang: str
) -> None:
    hotline = any_hotline
    caller = hotline.caller(lang=lang)
    other = hotline.caller(user_id=100_999_999, lang="ru")  # another caller is not touched
    await other.command("start")
    code = await register(caller)
    await caller.tap("ready")
    await caller.tap("declare")  # escalated: a case topic at the desk
    await caller.media("sticker")
    bot_messages = {int(s.result.message_id) for s in caller.all_messages()}
    his_messages = set(caller.message_ids)

    forget = await caller.command("forget")
    assert caller.texts == [t(lang, "forget-done")]
    deleted = set(caller.deleted())
    assert bot_messages <= deleted, "a message of the bot stays in the chat"
    assert his_messages | {forget.message_id} <= deleted, "a message of his stays in the chat"
    assert deleted <= bot_messages | his_messages | {forget.message_id}  # nothing else

    keys = await hotline.keys()
    assert {k for k in keys if caller.key in k} - kept_after_erase(caller.key) == set()
    await hotline.assert_erased(caller.key)
    assert not any(k.startswith(("hl:code:", "hl:case:", "hl:topic:")) for k in keys)
    digest = hotline.app.store.digest("code", code)
    assert (await hotline.app.store.find_case(digest)).case_id is None
    assert (await caller.conversation()).fields == {}
    assert await other.state() == "menu"

    # the case topic was told, without his name in it
    desk_texts = [m.text for m in hotline.desk(caller.out) if isinstance(m, SendMessage)]
    assert desk_texts
    assert not any(NAME[lang] in text for text in desk_texts)
    assert not [m for m in hotline.desk(caller.out) if isinstance(m, CopyMessage)]
    hotline.assert_all_protected()


async def test_an_unknown_language_code_is_answered_in_russian_and_uk_in_ukrainian(
    hotline: Hotline,
) -> None:
    for user_id, code, lang in ((1, "de", "ru"), (2, "uk-UA", "uk"), (3, "ru", "ru")):
        caller = hotline.caller(user_id=user_id, lang=code)
        await caller.command("start")
        assert caller.texts == [t(lang, "greeting"), screen(lang, "menu")]
        assert (await caller.conversation()).lang == lang


async def test_language_switch_by_inline_button(hotline: Hotline) -> None:
    caller = hotline.caller(lang="ru")
    await caller.command("start")
    await fill_form(caller)
    await caller.command("language")
    assert caller.texts == [t("ru", "choose-language")]
    assert keyboard_of(caller.replies[0]) == ["lang:ru", "lang:uk"]
    await caller.press("lang-uk")
    conversation = await caller.conversation()
    assert conversation.lang == "uk"
    assert conversation.state == "review"
    assert caller.texts[0] == t("uk", "language-set")
    assert caller.texts[1] == screen("uk", "review", **review_values("uk", conversation.fields))
    assert keyboard_of(caller.replies[1]) == inline_data("review")


async def test_the_desk_chat_is_not_a_caller_and_desk_ids_are_never_answered(
    hotline: Hotline,
) -> None:
    # a group message without a topic from someone: nothing is sent anywhere
    caller = hotline.caller()
    in_the_group = hotline.client.member(caller.user_id, "Caller")
    sent = await hotline.feed(in_the_group.command("start"))
    assert sent == []
