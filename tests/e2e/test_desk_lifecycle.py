"""The desk keeps in step with the case through its whole life: what a closed, ended or expired
case still lets operators do (and tells them when it does not), the card and the topic title as
the stage moves, the queue and the hooks hearing what is news (and only that), the service
levels surviving a failure, and time-to-claim counted once per escalation.

Through the real Dispatcher (callers from tests/e2e/conftest.py, operators from
tests/e2e/desk_harness.py); every text is rendered from the packs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import (
    CloseForumTopic,
    CopyMessage,
    CreateForumTopic,
    DeleteForumTopic,
    DeleteMessage,
    EditForumTopic,
    EditMessageReplyMarkup,
    EditMessageText,
    ReopenForumTopic,
    SendMessage,
)

from bot.offline.session import Sent
from flows.model import CaseEvent
from flows.store import COMPANION_GRACE, COMPANION_PARTS
from tests.conftest import CollectLogs
from tests.e2e.conftest import (
    DESK_CHAT,
    Hotline,
    HotlineFactory,
    register,
    screen,
    t,
)
from tests.e2e.desk_harness import (
    OPERATORS,
    STRANGER,
    DeskView,
    Operator,
    Recorder,
    card_actions,
    dt,
    profile_line,
    recall,
    reference,
    to_caller,
    to_meetup,
)

# a claimed re-call: what its stage allows (no Met before the meetup, no Close of a re-call)
AT_RECALL = ["release", "details", "verified", "meet", "abort", "erase"]
MINUTE = 60.0


@pytest.fixture
async def hotline3(make_hotline: HotlineFactory) -> Hotline:
    return await make_hotline(operator_ids=OPERATORS)


def card_of(code: str, profile: str, **params: Any) -> str:
    values: dict[str, Any] = {
        "code": code,
        "stage": "recall",
        "state": "waiting",
        "priority": "high",
        "reason": "recall",
        "since": "none",
        "operator": "none",
        "verified": "no",
    }
    values.update(params)
    return dt("desk-card", **values) + "\n" + profile


def card_edits(view: DeskView, sent: list[Any]) -> list[Any]:
    return [m for m in view.calls(sent) if isinstance(m, EditMessageText | EditMessageReplyMarkup)]


# -- 1. a closed case waits for no one -------------------------------------------------------


async def test_a_closed_case_cannot_be_claimed_nor_written_to(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await caller.command("start")
    await caller.tap("menu-operator")
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    await op.say(topic, "/close")
    assert await caller.state() == "menu"
    card_before = view.card()

    await op.say(topic, "/claim")
    assert op.replies() == [dt("desk-not-waiting")]
    case = await view.case(caller)
    assert (case.open, case.claimer) == (False, None)
    assert card_edits(view, op.out) == []  # the card is as it was
    assert view.card() == card_before
    assert await op.press(topic, "claim") == dt("desk-not-waiting")

    # nor does anything written in the topic reach him: no one-way relay
    await op.say(topic, "Вы ещё здесь? Ответьте одним словом.")
    assert op.replies() == [dt("desk-not-waiting")]
    assert to_caller(op, caller) == []
    audit = await hotline.app.audit.last(3)
    assert [(e["what"], e["result"], e.get("why")) for e in audit] == [
        ("claim", "refused", "not-open"),
        ("claim", "refused", "not-open"),
        ("relay", "refused", "not-open"),
    ]

    # when he asks again, the case waits again and can be taken
    await caller.tap("menu-operator")
    await op.say(topic, "/claim")
    assert op.replies() == []
    assert (await view.case(caller)).claimer == hotline.app.desk.operators.digest(OPERATORS[0])


# -- 2. the service levels survive a failure ------------------------------------------------


async def test_a_failed_reannouncement_comes_at_the_next_tick_and_holds_back_nothing_else(
    make_hotline: HotlineFactory, logs: CollectLogs
) -> None:
    hotline = await make_hotline(operator_ids=OPERATORS, claim_timeout_recall_minutes=10)
    view = DeskView(hotline)
    first, second = hotline.caller(user_id=100_400_001), hotline.caller(user_id=100_400_002)
    await recall(first)
    await recall(second)
    code1, code2 = await reference(first), await reference(second)
    since1 = (await view.case(first)).since
    since2 = (await view.case(second)).since
    assert since1 < since2
    desk, levels = hotline.app.desk, hotline.app.service_levels
    moment = since2 + 10 * MINUTE + 1
    # a details message due for deletion: the clean-up runs whatever happens before it
    await desk.state.schedule_purge(f"{DESK_CHAT}:4242", moment - 1)  # an old record

    hotline.session.fail_next(
        SendMessage,
        TelegramRetryAfter(
            method=SendMessage(chat_id=DESK_CHAT, text="x"), message="Flood", retry_after=3
        ),
    )
    mark = len(hotline.session.sent)
    assert await levels.tick(moment) == 0  # the digest failed
    sent = hotline.session.sent[mark:]
    assert view.posts(sent) == []
    assert DeleteMessage(chat_id=DESK_CHAT, message_id=4242) in view.calls(sent)
    for caller in (first, second):
        assert await hotline.redis.hget(desk.state.record_key(caller.key), "announced") is None

    # nothing was marked announced: the next tick makes the digest, once, both in it
    later = moment + 30
    mark = len(hotline.session.sent)
    assert await levels.tick(later) == 2
    (digest,) = view.posts(hotline.session.sent[mark:])
    lines = digest.splitlines()
    assert lines[0] == dt("desk-digest", count=2)
    assert [code1 in lines[1], code2 in lines[2]] == [True, True]  # the longest wait first
    assert lines[1].endswith(f"{int((later - since1) // 60)} хв")
    mark = len(hotline.session.sent)
    assert await levels.tick(later + 60) == 0
    assert view.posts(hotline.session.sent[mark:]) == []

    failures = [line for line in logs.lines if "desk tick: digest failed" in line]
    assert len(failures) == 1
    assert "TelegramRetryAfter" in failures[0]
    assert str(DESK_CHAT) not in failures[0]
    assert "Flood" not in failures[0]


# -- 3. time to claim: once per escalation ----------------------------------------------------


async def test_stats_count_the_first_claim_of_an_escalation_from_when_it_opened(
    hotline3: Hotline,
) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    topic = await view.topic(caller)
    op = Operator(hotline, OPERATORS[0])
    opened = (await view.case(caller)).since  # when it opened: nobody has released it yet
    hotline.clock.advance(600)
    await op.say(topic, "/claim")
    wait = round((await view.case(caller)).claimed_at - opened)
    for _ in range(3):  # released and taken again: the same escalation, no new wait
        hotline.clock.advance(120)
        await op.say(topic, "/release")
        await op.say(topic, "/claim")
    await op.say(None, "/stats")
    expected = "\n".join(
        [
            dt(
                "desk-stats",
                open=1,
                waiting=0,
                claimed=1,
                claims=1,
                minutes=wait // 60,
                seconds=wait % 60,
            ),
            dt("desk-stats-stage", stage="recall", count=1),
        ]
    )
    assert op.replies() == [expected]
    day = hotline.app.desk.local_day(hotline.clock.now)
    assert await hotline.app.desk.state.claim_times(day) == [wait]


# -- 4. a refused confirmation gives the card its buttons back ---------------------------------


async def test_a_refused_confirmation_gives_the_card_its_buttons_back(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await recall(caller)
    topic = await view.topic(caller)
    await op.press(topic, "claim")

    # met while the re-call is still at its questions: the card has no Met; an old card's
    # Met, or a typed /met, is refused at once (no question that cannot be answered yes)
    assert card_actions(view.card()[1]) == AT_RECALL
    assert await op.press(topic, "met") == dt("desk-not-now")
    assert await op.press(topic, "confirm-met") == dt("desk-not-now")
    await op.say(topic, "/met")
    assert op.replies() == [dt("desk-not-now")]
    assert card_actions(view.card()[1]) == AT_RECALL
    assert await caller.state() == "recall_location"

    # erase when his conversation is gone already
    assert await op.press(topic, "erase") == dt("desk-confirm", action="erase")
    assert card_actions(view.card()[1]) == ["confirm-erase", "cancel"]
    await hotline.redis.delete(hotline.app.store.key(caller.key, "conv"))
    assert await op.press(topic, "confirm-erase") == dt("desk-case-gone")
    assert card_actions(view.card()[1]) == AT_RECALL


# -- 5. writing where no one reads any more -----------------------------------------------------


async def test_writing_after_met_tells_the_operator_nothing_reached_the_caller(
    hotline3: Hotline,
) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    await to_meetup(caller)
    topic = await view.topic(caller)
    op = Operator(hotline, OPERATORS[0])
    await op.say(topic, "/claim")
    await op.say(topic, "/met")
    assert await caller.state() == "meetup"  # typed, Met asks first
    assert await op.confirm(topic) is None
    assert await caller.state() == "start"

    await op.say(topic, "Вы дошли? Ответьте")
    assert op.replies() == [dt("desk-relay-ended")]
    assert to_caller(op, caller) == []
    await op.say(topic, "! заметка для своих")  # a note is for the group: nothing to say
    assert view.calls(op.out) == []
    stranger = Operator(hotline, STRANGER)
    await stranger.say(topic, "hello")
    assert view.calls(stranger.out) == []
    # only that the topic ended is kept, nothing of the case
    assert await hotline.redis.get(f"hl:desk:ended:{topic}") == b"1"


async def test_writing_after_the_conversation_expired_tells_the_operator(
    hotline3: Hotline,
) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    op = Operator(hotline, OPERATORS[0])
    store = hotline.app.store

    # expired and noticed by the service levels
    first = hotline.caller(user_id=100_410_001)
    await recall(first)
    topic1 = await view.topic(first)
    await op.say(topic1, "/claim")
    await hotline.redis.delete(store.key(first.key, "conv"))
    await hotline.app.service_levels.tick(hotline.clock.now)
    await op.say(topic1, "Вы здесь?")
    assert op.replies() == [dt("desk-relay-ended")]
    assert to_caller(op, first) == []

    # expired, not yet noticed: the relay finds out, and settles it as the tick would
    second = hotline.caller(user_id=100_410_002)
    await recall(second)
    topic2 = await view.topic(second)
    await op.say(topic2, "/claim")
    await hotline.redis.delete(store.key(second.key, "conv"))
    await op.say(topic2, "Вы здесь?")
    assert op.replies() == [dt("desk-relay-ended")]
    assert to_caller(op, second) == []
    assert CloseForumTopic(chat_id=DESK_CHAT, message_thread_id=topic2) in view.calls(op.out)
    assert await hotline.app.desk.state.load(second.key) is None
    await op.say(topic2, "Алло?")
    assert op.replies() == [dt("desk-relay-ended")]


# -- 6. only what the caller received is corrected ----------------------------------------------


async def test_only_a_message_the_caller_received_is_corrected(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await recall(caller)
    topic = await view.topic(caller)

    early = await op.say(topic, "Петров, не отвечайте ему пока")  # not claimed: refused
    assert op.replies() == [dt("desk-claim-first")]
    await op.say(topic, "/claim")
    await op.edit(early, text="Петров, не отвечайте ему пока!")
    assert to_caller(op, caller) == []
    note = await op.say(topic, "! его брат — Иван")
    await op.edit(note, text="его брат — Иван")  # the "!" taken away afterwards
    assert to_caller(op, caller) == []

    sent = await op.say(topic, "Мы вас слышим")
    assert len([m for m in to_caller(op, caller) if isinstance(m, CopyMessage)]) == 1
    await op.edit(sent, text="Мы вас слышим, ждите")
    texts = [m.text for m in to_caller(op, caller) if isinstance(m, SendMessage)]
    assert texts == [t("ru", "desk-relay-correction") + "\nМы вас слышим, ждите"]
    # what was relayed is known by its id in the group only, erased with the case
    relayed = hotline.app.desk.state.relayed_key(caller.key)
    assert await hotline.redis.zrange(relayed, 0, -1) == [str(sent.message_id).encode()]
    await op.say(topic, "/erase")
    await op.confirm(topic)
    assert not await hotline.redis.exists(relayed)


# -- 7. the queue hears only of cases it has a topic for -----------------------------------------


async def test_a_case_never_escalated_leaves_the_group_alone(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    hooks = Recorder()
    hotline.app.hooks.consumers.append(hooks)

    withdrawing = hotline.caller(user_id=100_420_001)
    await register(withdrawing)
    await withdrawing.command("cancel")
    await withdrawing.press("withdraw-yes")
    assert screen("ru", "withdrawn") in withdrawing.texts

    forgetting = hotline.caller(user_id=100_420_002)
    await register(forgetting)
    await forgetting.command("forget")

    assert view.calls() == []  # no topic, no queue line: the group never knew of them
    # other consumers still hear of both endings
    assert [e.kind for e in hooks.events] == ["registered", "withdrawn", "registered", "erased"]


# -- 8. the title and the card follow the stage --------------------------------------------------


async def test_abort_brings_title_and_card_back_to_the_registered_stage(
    hotline3: Hotline,
) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await recall(caller)
    code = await reference(caller)  # what operators see
    await to_meetup(caller)
    topic = await view.topic(caller)
    await op.press(topic, "claim")
    await op.press(topic, "abort")
    await op.press(topic, "confirm-abort")
    assert await caller.state() == "registered"

    titles = [m.name for m in view.calls(op.out) if isinstance(m, EditForumTopic)]
    assert titles == [dt("desk-topic-title", code=code, stage="registered")]
    assert (await view.case(caller)).stage == "registered"
    text, markup = view.card()
    met = profile_line(people=3, injuries="none", via="own")
    assert text == card_of(code, met, stage="registered", state="closed")
    assert card_actions(markup) == []  # nothing waits: nothing to claim or act on


async def test_a_registration_after_a_closed_hand_off_retitles_without_reopening(
    hotline3: Hotline,
) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    await caller.command("start")
    await caller.tap("menu-operator")
    topic = await view.topic(caller)
    await caller.tap("leave")  # the escalation is closed, the topic too
    await hotline.app.service_levels.tick(hotline.clock.now)  # (were the "left" event lost)
    case = await view.case(caller)
    assert (case.open, case.shut) == (False, True)

    mark = len(hotline.session.sent)
    await register(caller)
    code = await reference(caller)  # what operators see
    calls = view.calls(hotline.session.sent[mark:])
    assert [m.name for m in calls if isinstance(m, EditForumTopic)] == [
        dt("desk-topic-title", code=code, stage="registered")
    ]
    # registered is not escalated: the closed topic stays closed until he asks for someone
    assert not [m for m in calls if isinstance(m, ReopenForumTopic | CreateForumTopic)]
    assert (await view.case(caller)).shut
    text, _ = view.card()
    registered = profile_line(people=2, via="own")
    assert text == card_of(
        code, registered, stage="registered", state="closed", priority="normal", reason="operator"
    )

    await caller.command("operator")
    assert ReopenForumTopic(chat_id=DESK_CHAT, message_thread_id=topic) in view.calls(caller.out)


# -- 9. later escalations are hook events too ----------------------------------------------------


async def test_later_escalations_of_an_open_case_reach_the_hooks(hotline3: Hotline) -> None:
    hotline = hotline3
    hooks = Recorder()
    hotline.app.hooks.consumers.append(hooks)
    caller = hotline.caller()
    await recall(caller)
    await to_meetup(caller)
    assert [e.kind for e in hooks.events] == ["registered", "escalated", "recall", "meetup"]

    def since(mark: int) -> list[tuple[str, str | None, str | None]]:
        return [(e.kind, e.priority, e.reason) for e in hooks.events[mark:]]

    mark = len(hooks.events)
    await caller.tap("at-point")
    assert since(mark) == [("escalated", "high", "at-point")]
    mark = len(hooks.events)
    await caller.tap("at-point")  # pressed again: no news
    assert since(mark) == []
    await caller.tap("help-now")
    assert since(mark) == [("escalated", "highest", "help-now")]
    case = (await DeskView(hotline).case(caller)).case
    assert {e.case for e in hooks.events} == {case}


# -- 10. the caller leaves -----------------------------------------------------------------------


async def test_the_caller_leaving_a_hand_off_closes_its_escalation(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    hooks = Recorder()
    hotline.app.hooks.consumers.append(hooks)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await caller.command("start")
    await caller.tap("menu-operator")
    topic = await view.topic(caller)
    await op.say(topic, "/claim")

    await caller.tap("leave")
    assert view.posts(caller.out, topic) == [dt("desk-caller-left", stage="handoff")]
    assert CloseForumTopic(chat_id=DESK_CHAT, message_thread_id=topic) in view.calls(caller.out)
    case = await view.case(caller)
    assert (case.open, case.claimer, case.shut) == (False, None, True)
    assert await hotline.redis.zcard("hl:desk:open") == 0
    text, _ = view.card()
    assert text == card_of(
        f"#{case.ref[:8]}",
        profile_line(),
        stage="none",
        state="closed",
        priority="normal",
        reason="operator",
    )
    assert view.posts(caller.out) == []  # the queue is not told
    assert [e.kind for e in hooks.events] == ["escalated", "claimed"]  # "left" is no hook

    await op.say(topic, "Вы ушли?")
    assert op.replies() == [dt("desk-not-waiting")]
    await caller.tap("menu-operator")  # a new escalation reopens the topic
    assert ReopenForumTopic(chat_id=DESK_CHAT, message_thread_id=topic) in view.calls(caller.out)
    assert (await view.case(caller)).open


async def test_the_caller_cancelling_the_meeting_closes_its_escalation(hotline3: Hotline) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await recall(caller)
    code = await reference(caller)  # what operators see
    await to_meetup(caller)
    topic = await view.topic(caller)
    await op.say(topic, "/claim")

    await caller.tap("cancel-meetup")
    assert await caller.state() == "meetup_cancel"  # asked once
    assert view.calls(caller.out) == []  # the desk hears nothing of a question
    await caller.press("cancel-meetup-yes")
    assert await caller.state() == "registered"
    assert view.posts(caller.out, topic) == [dt("desk-caller-left", stage="meetup")]
    case = await view.case(caller)
    assert (case.open, case.claimer, case.stage) == (False, None, "registered")
    titles = [m.name for m in view.calls(caller.out) if isinstance(m, EditForumTopic)]
    assert titles == [dt("desk-topic-title", code=code, stage="registered")]
    met = profile_line(people=3, injuries="none", via="own")
    assert view.card()[0] == card_of(code, met, stage="registered", state="closed")


async def test_a_left_event_for_a_case_with_nothing_open_changes_nothing(
    hotline3: Hotline,
) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await caller.command("start")
    await caller.tap("menu-operator")
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    await op.say(topic, "/close")
    before = await view.case(caller)
    mark = len(hotline.session.sent)
    await hotline.app.desk.case_event(caller.key, await caller.conversation(), CaseEvent("left"))
    assert hotline.session.sent[mark:] == []
    assert await view.case(caller) == before


async def test_the_service_levels_still_close_what_the_caller_left_unheard(
    hotline3: Hotline,
) -> None:
    """Should the "left" event be lost (the group refused it), the next tick settles it."""
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    await caller.command("start")
    await caller.tap("menu-operator")
    desk = hotline.app.desk
    # the desk's record says open, the flow says he has left
    await caller.tap("leave")
    case = await view.case(caller)
    await desk.state.update(caller.key, {"open": 1}, "shut")
    await desk.state.mark_open(caller.key, case.since)
    await hotline.app.service_levels.tick(hotline.clock.now)
    case = await view.case(caller)
    assert (case.open, case.shut) == (False, True)
    assert await hotline.redis.zcard("hl:desk:open") == 0


# -- 11. the group refusing is logged with the effect's name ------------------------------------


async def test_a_refusal_of_the_group_names_the_effect_in_the_log(
    hotline3: Hotline, logs: CollectLogs
) -> None:
    from aiogram.methods import CreateForumTopic as Create

    hotline = hotline3
    caller = hotline.caller()
    await caller.command("start")
    hotline.session.fail_next(
        Create,
        TelegramBadRequest(method=Create(chat_id=DESK_CHAT, name="x"), message="no rights"),
    )
    await caller.tap("menu-operator")
    refused = [line for line in logs.lines if "the operator group refused" in line]
    assert len(refused) == 1
    assert '"effect": "escalate"' in refused[0]
    assert '"error": "TelegramBadRequest"' in refused[0]


# -- redelivery: an operator's message reaches the caller once -------------------------------


async def test_an_operator_message_delivered_twice_by_telegram_reaches_the_caller_once(
    hotline3: Hotline,
) -> None:
    hotline = hotline3
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    await caller.command("start")
    await caller.tap("menu-operator")
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    update = op.account.text("Мы на связи. Где вы сейчас?", topic=topic)
    message = update.message
    assert message is not None

    first = await op.feed(update)
    again = await op.feed(update)  # a webhook answer lost, or a restart while polling

    copies = [s.method for s in first + again if isinstance(s.method, CopyMessage)]
    assert [(c.chat_id, c.message_id) for c in copies] == [(caller.user_id, message.message_id)]
    assert view.posts(again, topic) == []  # no notice to the operator either


# -- retention: the desk record lives as long as its conversation ------------------------------


async def test_the_desk_record_expires_with_its_conversation(
    redis_backend: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(redis_backend, operator_ids=OPERATORS)
    view = DeskView(hotline)
    caller = hotline.caller()
    op = Operator(hotline, OPERATORS[0])
    retention = hotline.app.store.retention
    await caller.command("start")
    await caller.tap("menu-operator")  # an unfinished conversation, escalated
    topic = await view.topic(caller)
    await op.say(topic, "/claim")
    await op.say(topic, "Мы на связи.")  # a relayed message: the second desk part

    store, key = hotline.app.store, caller.key
    parts = [store.key(key, part) for part in COMPANION_PARTS]
    grace = COMPANION_GRACE * 1000

    async def lives_ms(name: str) -> int:
        return int(await hotline.redis.pttl(name))

    conversation = await lives_ms(store.key(key, "conv"))
    assert conversation <= retention.form * 1000  # 7 days, not the 90 of a case
    # the desk's own writes: as long as the conversation, and a day (give or take the test)
    for name in parts:
        assert abs(await lives_ms(name) - (conversation + grace)) < 5_000

    await op.say(topic, "/close")
    for name in parts:  # as if days had passed since the desk last wrote
        await hotline.redis.pexpire(name, 60_000)
    await caller.text("спасибо")  # a commit with nothing for the desk carries them along
    conversation = await lives_ms(store.key(key, "conv"))
    for name in parts:
        assert abs(await lives_ms(name) - (conversation + grace)) < 5_000


async def test_a_topic_whose_deletion_failed_on_the_network_is_deleted_on_the_retry(
    hotline3: Hotline,
) -> None:
    hotline = hotline3
    hotline.app.deliverer.retry_first = 0.01
    view = DeskView(hotline)
    caller = hotline.caller()
    await register(caller)
    await caller.command("operator")
    topic = await view.topic(caller)
    method = DeleteForumTopic(chat_id=DESK_CHAT, message_thread_id=topic)
    hotline.session.fail_next(DeleteForumTopic, TelegramNetworkError(method, "reset"))
    await caller.command("cancel")
    deleted = asyncio.Event()

    def on_sent(sent: Sent) -> None:
        if sent.method == method:
            deleted.set()

    hotline.session.listeners.append(on_sent)
    # the first try fails: the desk's share stays in its lane, and is tried again (by a timer
    # of its own, or at once when the next job of the lane comes)
    await caller.press("withdraw-yes")
    await asyncio.wait_for(deleted.wait(), 10)
    await hotline.app.drain()
    assert [s.method for s in hotline.session.sent].count(method) == 1  # deleted after all
    assert not [k for k in await hotline.keys() if k.startswith(("hl:topic:", "hl:deskcase:"))]
