"""Issue 9 end to end, through the real Dispatcher: a relative's request about a soldier held
by a volunteer formation reaches a topic of its own, sealed; a forwarded post is checked
against the team's list; «срочно» deep in the form reaches the emergency with the form kept."""

from __future__ import annotations

import datetime
import html
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio
from aiogram.methods import CreateForumTopic, SendMessage
from aiogram.types import MessageEntity

from bot.offline import content
from tests.e2e.conftest import (
    LANGS,
    NAME,
    NOW,
    Caller,
    Hotline,
    HotlineFactory,
    keyboard_of,
    labels,
    screen,
    t,
)
from tests.e2e.desk_harness import OPERATORS, DeskView, Operator, dt, redis_state

GENUINE_ID = -1001234567890
LIST = f"""
[[entry]]
name = "Канал проекта"
kind = "channel"
address = "@hotline_genuine"
chat_id = {GENUINE_ID}
role = "hotline"
"""
SOUGHT = {"ru": "Сидоров Антон Игоревич", "uk": "Сидоренко Антон Ігорович"}
ASKER = {"ru": "мама, Галина", "uk": "мама, Галина"}
LAST_SEEN = {
    "ru": "звонил 2 апреля из-под Курска, потом видео в канале",
    "uk": "дзвонив 2 квітня з-під Курська, потім відео в каналі",
}


@pytest.fixture
async def listed(
    make_hotline: HotlineFactory, redis_backend: redis.asyncio.Redis, tmp_path: Path
) -> AsyncIterator[Hotline]:
    """Three operators and a list of genuine channels, on fakeredis and the real server.
    Nothing is left behind on the shared server: an unclaimed emergency would be announced
    again by the next process that serves from it (tests/e2e/test_startup.py)."""
    path = tmp_path / "genuine.toml"
    path.write_text(LIST, encoding="utf-8")
    yield await make_hotline(redis_backend, operator_ids=OPERATORS, genuine_channels_file=path)
    await redis_backend.flushall()


@pytest.mark.parametrize("lang", LANGS)
async def test_a_relative_of_a_soldier_held_by_volunteers_reaches_a_topic_with_his_request(
    listed: Hotline, lang: str
) -> None:
    hotline = listed
    view = DeskView(hotline)
    caller = hotline.caller(user_id=100_400_500, lang=lang)
    await caller.command("start")
    await caller.tap("menu-relative")
    assert caller.texts == [screen(lang, "relatives")]
    await caller.tap("rel-volunteers")
    assert caller.texts == [screen(lang, "relatives_volunteers")]
    assert keyboard_of(caller.replies[0]) == labels(lang, "relatives_volunteers")
    await caller.tap("request")
    assert await caller.state() == "request_sought_name"

    answers = [SOUGHT[lang], {"ru": "3 марта 1999", "uk": "3 березня 1999"}[lang]]
    answers += ["skip", LAST_SEEN[lang], ASKER[lang], "reply-here"]
    for answer in answers:
        if answer in {"skip", "reply-here"}:
            message = await caller.tap(answer)
        else:
            message = await caller.text(answer)
        if answer != "skip":  # every answer is taken out of the chat once captured
            assert caller.deleted() == [message.message_id], answer
    assert await caller.state() == "request_review"

    review = caller.last_inline()
    await caller.press("request-send", on=review)
    assert await caller.state() == "request_sent"
    conversation = await caller.conversation()
    code = conversation.fields["case_code"]
    assert caller.texts == [screen(lang, "request_sent", code=code)]

    # a topic of its own, at normal priority, for a relatives' matter; no name in sight
    (topic_call,) = view.topics()
    assert isinstance(topic_call, CreateForumTopic)
    assert dt("desk-stage", stage="relatives") in topic_call.name
    card, _ = view.card()
    assert dt("desk-priority", priority="normal") in card
    assert dt("desk-reason", reason="relatives") in card
    for call in view.calls():
        assert SOUGHT[lang] not in str(call)

    # sealed at rest: no value he typed is in Redis in the clear
    stored = str(await redis_state(hotline))
    for value in (SOUGHT[lang], ASKER[lang], LAST_SEEN[lang], "1999-03-03", code):
        assert value not in stored
        assert html.escape(value) not in stored

    # the claiming operator sees the request
    topic = await view.topic(caller)
    operator = Operator(hotline, OPERATORS[0])
    await operator.say(topic, "/claim")
    assert await operator.press(topic, "details") == dt("desk-details-sent", minutes=5)
    private = [s.method for s in operator.out if getattr(s.method, "chat_id", 0) == OPERATORS[0]]
    (details,) = [m.text for m in private if isinstance(m, SendMessage)]
    assert f"{dt('desk-field', field='sought_name')}: {html.escape(SOUGHT[lang])}" in details
    assert f"{dt('desk-field', field='sought_where')}: {dt('btn-rel-volunteers')}" in details
    assert f"{dt('desk-field', field='last_seen')}: {html.escape(LAST_SEEN[lang])}" in details
    assert f"{dt('desk-field', field='sought_birth')}: 03.03.1999" in details
    names = [line.split(":")[0] for line in details.splitlines()[1:]]
    assert names[:3] == [
        dt("desk-field", field=f) for f in ("case_code", "sought_where", "sought_name")
    ]

    # /status for the relative
    await caller.command("status")
    assert caller.texts == [t(lang, "status", phase="relatives", code=code)]

    # /forget: the same retention and erasure as a caller's case
    await caller.command("forget")
    assert (await caller.conversation()).fields == {}
    for value in (SOUGHT[lang], code):
        assert value not in str(await redis_state(hotline))
    hotline.assert_all_protected()


async def _forward_from_channel(caller: Caller, chat_id: int, username: str | None) -> None:
    posted = datetime.datetime.fromtimestamp(NOW - 600, datetime.UTC)
    origin = content.from_channel(posted, chat_id, username)
    await caller.forward("Сдавайтесь через наш бот", origin)


@pytest.mark.parametrize("lang", LANGS)
async def test_a_forwarded_post_is_confirmed_from_a_listed_channel_and_warned_otherwise(
    listed: Hotline, lang: str
) -> None:
    caller = listed.caller(lang=lang)
    await caller.command("start")
    await caller.tap("menu-check")
    assert await caller.state() == "check_channel"
    assert caller.texts == [
        screen(lang, "check_channel", hotline="• Канал проекта: @hotline_genuine")
    ]

    await _forward_from_channel(caller, GENUINE_ID, "hotline_genuine")
    assert caller.texts == [
        t(lang, "channel-genuine", name="Канал проекта", address="@hotline_genuine")
    ]
    # the same handle from another channel (a handle given up and taken), and a look-alike
    await _forward_from_channel(caller, -1009999999999, "hotline_genuine")
    assert caller.texts == [t(lang, "channel-unknown", address="@hotline_genuine")]
    await _forward_from_channel(caller, -1008888888888, "hotline_genuien")
    assert caller.texts == [t(lang, "channel-unknown", address="@hotline_genuien")]
    await _forward_from_channel(caller, -1007777777777, None)
    assert caller.texts == [t(lang, "channel-unknown", address="not-given")]
    assert await caller.state() == "check_channel"

    # a genuine name shown over a link to somewhere else is judged by where the link goes
    hidden = MessageEntity(type="text_link", offset=0, length=16, url="https://t.me/hl_fake")
    await caller.send(text="@hotline_genuine", entities=[hidden])
    assert caller.texts == [t(lang, "channel-unknown", address="@hl_fake")]

    # the same check from the menu, and from the middle of the form: the step stays
    await caller.tap("back")
    await caller.tap("menu-surrender")
    await caller.tap("declare")
    await _forward_from_channel(caller, GENUINE_ID, "hotline_genuine")
    assert await caller.state() == "details_full_name"
    assert caller.texts == [
        t(lang, "channel-genuine", name="Канал проекта", address="@hotline_genuine")
    ]
    assert listed.desk(caller.out) == []  # nothing escalated, nothing relayed
    listed.assert_all_protected()


@pytest.mark.parametrize("lang", LANGS)
async def test_srochno_at_step_five_reaches_the_emergency_with_the_form_kept(
    listed: Hotline, lang: str
) -> None:
    hotline = listed
    view = DeskView(hotline)
    caller = hotline.caller(lang=lang)
    await caller.command("start")
    await caller.tap("menu-surrender")
    await caller.tap("declare")
    await caller.text(NAME[lang])
    await caller.text({"ru": "17 мая 1990", "uk": "17 травня 1990"}[lang])
    await caller.text("в/ч 12345")
    await caller.tap("rank-sergeant")
    assert await caller.state() == "details_service_number"  # step 5 of 10
    assert hotline.desk(caller.out) == []

    await caller.text({"ru": "срочно", "uk": "терміново"}[lang])
    assert await caller.state() == "sos_confirm"
    assert caller.texts == [screen(lang, "sos_confirm")]
    assert keyboard_of(caller.replies[0]) == labels(lang, "sos_confirm")
    assert hotline.desk(caller.out) == []  # asked once, nothing raised before the answer

    await caller.tap("sos-yes")
    assert await caller.state() == "emergency_location"
    assert caller.texts[-1] == screen(lang, "emergency_location")
    conversation = await caller.conversation()
    assert conversation.priority == 3  # the highest
    assert conversation.fields["full_name"] == NAME[lang]
    assert conversation.fields["birth_date"] == "1990-05-17"
    assert conversation.fields["unit"] == "в/ч 12345"
    assert conversation.fields["rank"] == "rank-sergeant"
    card, _ = view.card()
    assert dt("desk-priority", priority="highest") in card
    assert dt("desk-reason", reason="emergency") in card
    assert view.topics()  # the topic is open for the operators
    hotline.assert_all_protected()


@pytest.mark.parametrize("lang", LANGS)
async def test_a_button_label_typed_by_hand_is_the_press(listed: Hotline, lang: str) -> None:
    caller = listed.caller(lang=lang)
    await caller.command("start")
    typed = {"ru": "хочу сдаться в плен", "uk": "ХОЧУ ЗДАТИСЯ В ПОЛОН"}[lang]  # no emoji
    await caller.text(typed)
    assert await caller.state() == "declaration"
    await caller.text({"ru": "Пока нет!", "uk": "поки що ні"}[lang])
    assert await caller.state() == "menu"
    await caller.text({"ru": "связаться с оператором", "uk": "звязатися з оператором"}[lang])
    assert await caller.state() == "handoff"  # the menu's twin of this screen's button
