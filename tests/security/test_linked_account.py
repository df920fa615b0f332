"""A linked account can never end or change the owner's case by itself, and the safety word
belongs to the case: typed from any linked account it raises the silent alert, and nothing in
any chat shows it."""

from __future__ import annotations

import pytest
import redis.asyncio

from flows.model import CaseFound
from tests.e2e.conftest import Caller, Hotline, HotlineFactory, t
from tests.e2e.desk_harness import OPERATORS, DeskView
from tests.e2e.test_canary_e2e import BIRTH, SECOND_ACCOUNT
from tests.security.helpers import SAFETY_WORD, group_texts, owner_of_a_case, try_code

pytestmark = pytest.mark.redis


async def linked(hotline: Hotline, code: str, user_id: int = SECOND_ACCOUNT) -> Caller:
    other = hotline.caller(user_id, "ru")
    await try_code(other, code, BIRTH)
    assert await other.state() == "recall_declare"
    return other


async def test_a_linked_forget_leaves_the_owners_case_whole(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    store = hotline.app.store
    view = DeskView(hotline)
    owner, code = await owner_of_a_case(hotline)
    owned = await owner.conversation()
    other = await linked(hotline, code)
    await other.text("Я иду сдаваться")  # at the desk, in the case's topic (the owner's)
    owner_topic = await view.topic(owner)
    assert t("uk", "desk-link-linked") in view.posts(topic=owner_topic)
    assert await view.topic(other) == owner_topic

    await other.command("forget")

    assert (await other.conversation()).case_id is None  # his own conversation went
    assert await owner.conversation() == owned  # the owner's: not a field, not a version
    assert await store.find_case(store.digest("code", code)) == CaseFound(owned.case_id)
    # gone: the topic talks to the owner again, and says so
    assert view.posts(other.out, owner_topic) == [
        t("uk", "desk-topic-now", via="own"),
        t("uk", "desk-link-unlinked"),
    ]
    # the owner's card counts the link and the unlink
    line = t("uk", "desk-card-links", linked=1, unlinked=1, failed=0, locked="no")
    links = hotline.app.desk.links
    assert links is not None
    assert await links.card_line(await view.case(owner)) == line
    assert any(line in text for text in group_texts(hotline))

    # a second account withdrawing: a request the desk confirms, nothing more
    third = await linked(hotline, code, SECOND_ACCOUNT + 1)
    await third.command("cancel")
    await third.press("withdraw-yes")
    assert await owner.conversation() == owned
    assert view.posts(third.out, owner_topic) == [t("uk", "desk-link-withdraw-request")]
    assert third.texts == [t("ru", "withdrawn")]
    assert third.deleted()  # his chat is wiped like /forget


async def test_the_safety_word_from_a_linked_phone_raises_the_silent_alert(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    view = DeskView(hotline)
    _, code = await owner_of_a_case(hotline)  # the owner set the safety word

    async def at_the_front(user_id: int, place: str) -> tuple[Caller, list[list[str]]]:
        caller = await linked(hotline, code, user_id)
        await caller.text("Я иду сдаваться")
        seen = []
        for step in (caller.text(place), caller.text("3"), caller.tap("health-none")):
            await step
            seen.append(caller.texts)
        return caller, seen

    plain, unaware = await at_the_front(SECOND_ACCOUNT, "у моста")
    assert t("uk", "desk-silent-alert", reason="safety-word") not in view.posts(
        topic=await view.topic(plain)
    )
    watched, under_duress = await at_the_front(SECOND_ACCOUNT + 7, f"у моста, {SAFETY_WORD}")

    topic = await view.topic(watched)
    assert t("uk", "desk-silent-alert", reason="safety-word") in view.posts(topic=topic)
    assert (await view.case(watched)).alert == "safety-word"
    # nothing in his chat shows it: the same replies as without the word
    assert under_duress == unaware
    for caller in (plain, watched):
        for sent in caller.all_messages():
            assert SAFETY_WORD not in getattr(sent.method, "text", "")
