"""A case registered from one account and ended from another, linked to it by code and birth date.

An operator's ending there (Met, Erase) takes the whole case. The linked account's own /forget
or withdrawal never does: it erases only that account's conversation and its link, the owner's
case stays whole, and the desk hears of it in the case's topic (a withdrawal becomes a request
the desk confirms). (Until issue 8 the linked account's /forget or withdrawal erased the whole
case, which let anyone holding the code and the birth date end it: this file asserted that.)

The owner's account registers with canary values and has a hand-off of its own (a topic of its
own on the desk); at the front he writes from a second account, gives the code and the birth date
and is at the desk again. When the case ends from the second account, afterwards no Redis key or
value holds a canary, not even inside a sealed record opened with the key (a seized server and a
seized key), the code finds nothing, the case's topic is deleted (met: closed, and deleted
TOPIC_RETENTION_DAYS later), and the owner's next message starts a fresh conversation. All on
the real Redis server, through the real Dispatcher.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
import redis.asyncio
from aiogram.methods import CloseForumTopic, DeleteForumTopic, DeleteMessages, SendMessage

from flows.model import CaseFound
from tests.conftest import CollectLogs
from tests.e2e.conftest import DESK_CHAT, Caller, Hotline, HotlineFactory, register, t
from tests.e2e.desk_harness import (
    OPERATORS,
    DeskView,
    Operator,
    dt,
    profile_line,
    to_meetup,
)
from tests.e2e.test_canary_e2e import (
    BIRTH,
    CALLER_ID,
    CANARIES,
    NAME,
    PHONE,
    PLACE,
    SECOND_ACCOUNT,
    _decoded,
)
from tests.e2e.test_canary_e2e import _everything_in as everything_as_text
from tests.integration.test_linked_erase import opened_records
from tests.security.helpers import register_with_canaries

pytestmark = pytest.mark.redis

ENDINGS = ("met", "operator-erase")  # an operator's: the whole case goes
OWN_ENDINGS = ("withdrawal", "forget")  # the linked account's own: only itself and its link
THIRD_ACCOUNT = 773_456_789
DAY = 86400.0


# ---------------------------------------------------------------------------------------------
# What Redis holds


def leaks(texts: Iterable[str], canaries: Iterable[str]) -> list[tuple[str, str]]:
    found = []
    for text in texts:
        plain = _decoded(text).casefold()
        found += [(c, text[:120]) for c in canaries if c.casefold() in plain]
    return found


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def canaries_of(code: str) -> tuple[str, ...]:
    return (*CANARIES, code, code.replace("-", ""))


# ---------------------------------------------------------------------------------------------
# The case, from two accounts


async def owner_with_a_topic(hotline: Hotline) -> tuple[Caller, str, int]:
    """Registered, then a hand-off of his own (a topic of its own), left again."""
    owner = hotline.caller(CALLER_ID, "ru")
    code = await register_with_canaries(owner, safety_word=False)
    await owner.command("operator")
    assert await owner.state() == "handoff"
    await owner.tap("leave")
    assert await owner.state() == "registered"
    topic = await DeskView(hotline).topic(owner)
    return owner, code, topic


async def linked_at_the_front(hotline: Hotline, owner: Caller, code: str) -> Caller:
    """The second account gives code and birth date and declares again: at the desk, linked."""
    other = hotline.caller(SECOND_ACCOUNT, "ru")
    await other.command("start")
    await other.tap("menu-ready")
    await other.text(code.lower().replace("-", ""))
    await other.text(BIRTH)
    await other.text("Я иду сдаваться")
    assert await other.state() == "recall_location"
    linked, owned = await other.conversation(), await owner.conversation()
    assert linked.case_id == owned.case_id is not None
    assert owned.owns_case
    assert not linked.owns_case
    return other


async def end_from(hotline: Hotline, other: Caller, ending: str) -> None:
    operator = Operator(hotline, OPERATORS[0])
    topic = await DeskView(hotline).topic(other)
    if ending == "met":
        await to_meetup(other)
        await operator.press(topic, "claim")
        await operator.say(topic, "/details")
        await operator.say(topic, f"/meet 05:30 | {PLACE}")
        await operator.say(topic, "/met")
        await operator.confirm(topic)  # typed, Met asks first
    elif ending == "operator-erase":
        await operator.press(topic, "claim")
        await operator.say(topic, "/erase")
        await operator.confirm(topic)
    elif ending == "withdrawal":
        await other.command("cancel")
        await other.press("withdraw-yes")
    elif ending == "forget":
        await other.command("forget")
    else:
        raise AssertionError(ending)
    # its own conversation is erased as any: nothing written back
    left = await other.conversation()
    assert (left.version, left.case_id, left.fields) == (0, None, {})


async def what_is_left_of(hotline: Hotline, owner: Caller) -> set[str]:
    """The names of the owner's conversation keys still in Redis (store's and desk's)."""
    store = hotline.app.store
    prefix = store.key(owner.key, "conv").removesuffix("conv")
    return {k.removeprefix(prefix) for k in await hotline.keys() if k.startswith(prefix)}


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ENDINGS)
async def test_a_case_ended_from_a_linked_account_is_erased_entirely(
    ending: str,
    real_redis: redis.asyncio.Redis,
    make_hotline: HotlineFactory,
    logs: CollectLogs,
) -> None:
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    store = hotline.app.store
    owner, code, owner_topic = await owner_with_a_topic(hotline)
    canaries = canaries_of(code)
    # the scan sees what is sealed: before the ending the registration is all there
    assert leaks(await opened_records(real_redis, store.sealer), [NAME, PHONE, code])
    assert await store.find_case(store.digest("code", code)) != CaseFound(None)
    other = await linked_at_the_front(hotline, owner, code)
    version_before = (await owner.conversation()).version
    mark = len(hotline.session.sent)

    await end_from(hotline, other, ending)

    # not a canary in any key or value, nor in any sealed record opened with the key
    raw = await everything_as_text(real_redis)
    opened = await opened_records(real_redis, store.sealer)
    assert leaks(raw + opened, canaries) == []
    # of the owner's conversation only what every erase keeps: dedupe marks, outbox counter
    assert await what_is_left_of(hotline, owner) <= {"conv", "outbox"}
    await hotline.assert_erased(owner.key)
    outbox = await real_redis.hgetall(store.key(owner.key, "outbox"))
    assert set(outbox) <= {b"seq"}
    assert await hotline.app.desk.state.load(owner.key) is None
    assert await hotline.app.desk.state.of_topic(owner_topic) is None
    # erased, the case's topic goes at once; met, it stays closed a while (the next test)
    deleted = [
        s.method
        for s in hotline.session.sent[mark:]
        if isinstance(s.method, DeleteForumTopic) and s.method.chat_id == DESK_CHAT
    ]
    assert (owner_topic in {m.message_thread_id for m in deleted}) == (ending != "met")
    # nothing personal in a log line either
    assert leaks(logs.lines, canaries) == []

    # the code finds no case any more, by the store nor from a third account
    assert await store.find_case(store.digest("code", code)) == CaseFound(None)
    stranger = hotline.caller(THIRD_ACCOUNT, "ru")
    await stranger.command("start")
    await stranger.tap("menu-ready")
    await stranger.text(code)
    assert await stranger.state() == "recall_birth"  # asked for the date all the same
    assert (await stranger.conversation()).pending_case_id is None

    # the owner's next message starts a fresh conversation, counting on (no version comes back)
    await owner.text("Здравствуйте")
    fresh = await owner.conversation()
    assert fresh.state == "menu"
    assert fresh.case_id is None
    assert fresh.fields == {}
    assert fresh.version > version_before
    assert owner.texts[0] == t("ru", "greeting")
    hotline.assert_all_protected()


async def test_a_case_met_from_a_linked_account_keeps_its_topic_closed_until_the_retention(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    """Met is met from whichever account: the case's one topic is closed with its history, as
    for a case met from the account that registered it, and deleted TOPIC_RETENTION_DAYS later
    (not at once with the owner's record, as a withdrawn or erased case's is)."""
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS, topic_retention_days=3)
    owner, code, topic = await owner_with_a_topic(hotline)
    other = await linked_at_the_front(hotline, owner, code)
    assert await DeskView(hotline).topic(other) == topic  # one topic per case
    mark = len(hotline.session.sent)

    await end_from(hotline, other, "met")
    met_at = hotline.clock.now

    def calls(kind: type[CloseForumTopic | DeleteForumTopic]) -> list[int]:
        return [
            s.method.message_thread_id
            for s in hotline.session.sent[mark:]
            if isinstance(s.method, kind) and s.method.chat_id == DESK_CHAT
        ]

    assert topic not in calls(DeleteForumTopic)
    assert topic in calls(CloseForumTopic)
    desk = hotline.app.desk
    assert await desk.state.load(owner.key) is None  # the records go all the same
    assert await desk.state.load(other.key) is None
    assert await desk.state.topic_ended(topic)  # an operator writing there is told he is gone
    levels = hotline.app.service_levels
    await levels.tick(met_at + 3 * DAY - 60)
    assert topic not in calls(DeleteForumTopic)
    await levels.tick(met_at + 3 * DAY + 1)
    assert calls(DeleteForumTopic).count(topic) == 1
    await levels.tick(met_at + 4 * DAY)  # once
    assert calls(DeleteForumTopic).count(topic) == 1
    assert await real_redis.zcard(f"{hotline.app.store.prefix}:desk:topics-ending") == 0


async def test_a_stale_case_index_erases_nothing_of_another_conversation(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    """The case index of the case ended from the linked account points, stale, at a
    conversation that holds a case of its own: that conversation, its desk record and its
    indexes stay as they are; only the stale index goes."""
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    store = hotline.app.store
    owner, code, _ = await owner_with_a_topic(hotline)
    other = await linked_at_the_front(hotline, owner, code)
    bystander = hotline.caller(THIRD_ACCOUNT, "uk")
    await register(bystander)
    await bystander.command("operator")  # a desk record and a topic of his own
    theirs = await bystander.conversation()
    case_id = (await other.conversation()).case_id
    assert case_id is not None
    assert theirs.case_id not in (None, case_id)
    case_index = f"{store.prefix}:case:{case_id}"
    await real_redis.set(case_index, bystander.key)  # stale: not the owner of this case
    prefix = store.key(bystander.key, "conv").removesuffix("conv")

    async def bystanders_keys() -> dict[str, object]:
        """His conversation's keys, and every index that leads to it (but the stale one)."""
        found: dict[str, object] = {}
        for name in await hotline.keys():
            kind = _text(await real_redis.type(name))
            if name.startswith(prefix):
                found[name] = await real_redis.dump(name)
            elif kind == "string" and name != case_index:
                value = _text(await real_redis.get(name))
                if value.partition("|")[0] == bystander.key:
                    found[name] = value
        return found

    before = await bystanders_keys()
    assert {f"{prefix}conv", f"{prefix}desk"} <= set(before)
    assert len(before) >= 5  # and his code, case and topic indexes (the desk keeps no case index)

    await end_from(hotline, other, "operator-erase")

    assert await bystanders_keys() == before
    assert await bystander.conversation() == theirs
    assert await real_redis.get(case_index) is None
    their_code = theirs.fields["case_code"]
    found = await store.find_case(store.digest("code", their_code))
    assert found.case_id == theirs.case_id


async def test_an_interrupted_erase_is_finished_when_the_batch_is_delivered_again(
    real_redis: redis.asyncio.Redis,
    make_hotline: HotlineFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Redis goes away after the owner's conversation went, before the case index did: the
    batch stays in the outbox, and its next delivery finishes the erase."""
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    store = hotline.app.store
    owner, code, _ = await owner_with_a_topic(hotline)
    other = await linked_at_the_front(hotline, owner, code)
    case_index = f"{store.prefix}:case:{(await owner.conversation()).case_id}"
    drop = store.cases._del_if
    failed: list[str] = []

    async def failing(*, keys: list[str], args: list[str]) -> object:
        if keys == [case_index] and not failed:
            failed.append(keys[0])
            raise redis.exceptions.ConnectionError("gone")
        return await drop(keys=keys, args=args)

    operator = Operator(hotline, OPERATORS[0])
    topic = await DeskView(hotline).topic(other)
    await operator.press(topic, "claim")
    monkeypatch.setattr(store.cases, "_del_if", failing)
    await operator.say(topic, "/erase")
    await operator.confirm(topic)
    assert failed
    assert await real_redis.get(case_index) is not None
    assert await store.pending(other.key)  # not delivered: it waits in the outbox

    await other.command("start")  # the next update delivers what waits first

    assert await real_redis.get(case_index) is None
    assert await store.pending(other.key) == []
    opened = await opened_records(real_redis, store.sealer)
    assert leaks(await everything_as_text(real_redis) + opened, canaries_of(code)) == []
    assert await what_is_left_of(hotline, owner) <= {"conv", "outbox"}
    await hotline.assert_erased(owner.key)
    assert await hotline.app.desk.state.load(owner.key) is None
    assert await store.find_case(store.digest("code", code)) == CaseFound(None)


async def test_the_first_phone_withdrawing_does_not_tell_the_desk_a_live_recall_is_gone(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await make_hotline(operator_ids=OPERATORS)
    view = DeskView(hotline)
    owner = hotline.caller(CALLER_ID, "ru")
    code = await register_with_canaries(owner, safety_word=False)
    other = await linked_at_the_front(hotline, owner, code)
    topic = await view.topic(other)

    await owner.command("cancel")
    await owner.press("withdraw-yes")  # perhaps not even by him: a seized phone

    assert view.posts(owner.out) == []  # no "withdrawn, topic deleted" for the live re-call
    assert DeleteForumTopic(chat_id=DESK_CHAT, message_thread_id=topic) not in view.calls(
        owner.out
    )
    assert (await view.case(other)).open  # the re-call at the front goes on


@pytest.mark.parametrize("ending", OWN_ENDINGS)
async def test_a_linked_accounts_own_ending_leaves_the_owners_case_whole(
    ending: str,
    real_redis: redis.asyncio.Redis,
    make_hotline: HotlineFactory,
    logs: CollectLogs,
) -> None:
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    store = hotline.app.store
    view = DeskView(hotline)
    owner, code, owner_topic = await owner_with_a_topic(hotline)
    other = await linked_at_the_front(hotline, owner, code)
    owned = await owner.conversation()
    assert await view.topic(other) == owner_topic  # one topic per case (bot.desk.shared_topics)
    await other.text("Я у лесополосы, со мной двое")  # relayed into the case's topic
    his = [
        sent.result.message_id
        for sent in other.out
        if isinstance(sent.method, SendMessage)
        and sent.method.chat_id == DESK_CHAT
        and sent.method.message_thread_id == owner_topic
    ]

    await end_from(hotline, other, ending)

    # the owner's conversation, fields, case and indexes exactly as they were
    assert await owner.conversation() == owned
    found = await store.find_case(store.digest("code", code))
    assert found == CaseFound(owned.case_id)
    assert await store.conversation_of_case(owned.case_id or "") == owner.key
    assert await hotline.app.desk.state.load(owner.key) is not None
    # the case's topic stays the owner's; what showed the linked account in it goes with its
    # data (his messages), and the owner's topic hears of it
    calls = view.calls(other.out)
    assert not [m for m in calls if isinstance(m, DeleteForumTopic)]
    gone = [i for m in calls if isinstance(m, DeleteMessages) for i in m.message_ids]
    assert his
    assert set(his) <= set(gone)
    assert await hotline.app.desk.state.of_topic(owner_topic) == owner.key
    notice = "desk-link-withdraw-request" if ending == "withdrawal" else "desk-link-unlinked"
    # the topic talks to the owner again, and says so
    assert view.posts(other.out, owner_topic) == [
        t("uk", "desk-topic-now", via="own"),
        t("uk", notice),
    ]
    assert [e for e in await hotline.app.audit.last(20) if e["what"] == "erase"] == []
    # the owner goes on: his next message finds his case
    await owner.command("status")
    assert owner.texts == [t("ru", "status", phase="registered")]
    assert leaks(logs.lines, canaries_of(code)) == []


def copied_to(operator: Operator) -> list[int | str | None]:
    """The chats the operator's last message was copied to."""
    return [getattr(s.method, "chat_id", None) for s in operator.out if s.name == "CopyMessage"]


async def test_one_topic_for_the_case_talking_to_the_account_that_escalated_last(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await make_hotline(operator_ids=OPERATORS)
    view = DeskView(hotline)
    owner, code, topic = await owner_with_a_topic(hotline)
    topics_before = len(view.topics())
    other = await linked_at_the_front(hotline, owner, code)
    # no topic of its own: the case's, which says whom it talks to now
    assert len(view.topics()) == topics_before
    assert await view.topic(other) == topic
    assert t("uk", "desk-topic-now", via="linked") in view.posts(other.out, topic)
    operator = Operator(hotline, OPERATORS[0])
    await operator.say(topic, "/claim")
    await operator.say(topic, "Где вы сейчас?")
    assert [
        getattr(s.method, "chat_id", None) for s in operator.out if s.name == "CopyMessage"
    ] == [other.user_id]
    # the owner's card is refreshed (a link notice, a tick): the card still shows the account
    # the topic talks to, whose claim it is
    desk = hotline.app.desk
    await desk.refresh_card(await view.case(owner))
    card, _ = view.card()
    assert profile_line(via="linked") in card
    assert dt("desk-operator", n=1) in card
    # the owner asks for an operator: the topic talks to him from now on, and says so
    await owner.command("operator")
    assert t("uk", "desk-topic-now", via="own") in view.posts(owner.out, topic)
    assert len(view.topics()) == topics_before
    await operator.say(topic, "/claim")
    await operator.say(topic, "Это вы, владелец?")
    assert [
        getattr(s.method, "chat_id", None) for s in operator.out if s.name == "CopyMessage"
    ] == [owner.user_id]


async def test_blocking_a_linked_account_leaves_the_owner_heard(
    make_hotline: HotlineFactory,
) -> None:
    """A probe holding the owner's code and birth date links an account and is blocked: the
    owner, perhaps the real caller, still reaches the group."""
    hotline = await make_hotline(operator_ids=OPERATORS)
    view = DeskView(hotline)
    owner, code, topic = await owner_with_a_topic(hotline)
    other = await linked_at_the_front(hotline, owner, code)
    operator = Operator(hotline, OPERATORS[0])
    await operator.say(topic, "/block")  # the topic talks to the linked account
    assert not (await view.case(other)).open
    await other.text("Где ваши позиции?")
    assert view.calls(other.out) == []
    await owner.command("operator")
    assert (await view.case(owner)).open
    assert t("uk", "desk-topic-now", via="own") in view.posts(owner.out, topic)


async def test_blocking_the_owner_holds_back_his_linked_accounts_too(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await make_hotline(operator_ids=OPERATORS)
    view = DeskView(hotline)
    owner, code, topic = await owner_with_a_topic(hotline)
    await owner.command("operator")
    operator = Operator(hotline, OPERATORS[0])
    await operator.say(topic, "/block")  # the topic talks to the owner
    other = hotline.caller(SECOND_ACCOUNT, "ru")
    await other.command("start")
    await other.tap("menu-ready")
    await other.text(code.lower().replace("-", ""))
    await other.text(BIRTH)
    mark = len(hotline.session.sent)
    await other.text("Я иду сдаваться")
    assert await other.state() == "recall_location"
    calls = view.calls(hotline.session.sent[mark:])
    assert not [m for m in calls if getattr(m, "message_thread_id", None) == topic]
    assert await hotline.app.desk.state.load(other.key) is None  # nothing of it at the desk
