"""Details on demand, service levels and /stats on the desk, with the clock driven by the test."""

from __future__ import annotations

import asyncio
import base64
import html
import os

import fakeredis
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import DeleteMessage, SendMessage

from flows.sealing import new_key
from tests.e2e.conftest import NAME, Hotline, HotlineFactory, deployment_keys
from tests.e2e.desk_harness import (
    OPERATORS,
    DeskView,
    Operator,
    dt,
    op_label,
    recall,
    reference,
)

MINUTE = 60.0


async def _desk(
    make_hotline: HotlineFactory, redis_client: object = None, **overrides: object
) -> Hotline:
    return await make_hotline(redis_client, operator_ids=OPERATORS, **overrides)


async def test_details_are_shown_to_the_claimer_only_audited_and_deleted_in_time(
    make_hotline: HotlineFactory,
) -> None:
    redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    # two processes of one deployment: the same keys
    keys = deployment_keys()
    hotline = await _desk(make_hotline, redis, details_reveal_minutes=5, **keys)
    view = DeskView(hotline)
    caller = hotline.caller()
    code = await recall(caller)
    code_message = next(
        m
        for m in (s.method for s in caller.all_messages())
        if isinstance(m, SendMessage) and code in m.text
    )
    await caller.location()
    ref = await reference(caller)
    topic = await view.topic(caller)
    op1, op2 = Operator(hotline, OPERATORS[0]), Operator(hotline, OPERATORS[1])

    await op1.say(topic, "/details")  # nobody has the case yet
    assert op1.replies() == [dt("desk-claim-first")]
    await op1.say(topic, "/claim")
    await op2.say(topic, "/details")
    assert op2.replies() == [dt("desk-not-claimer", operator=op_label(1))]
    assert await op2.press(topic, "details") == dt("desk-not-claimer", operator=op_label(1))

    revealed_at = hotline.clock.now + 4  # the next update moves the clock on by one step
    assert await op1.press(topic, "details") == dt("desk-details-sent", minutes=5)
    # nothing of it in the group: every member reads a topic
    assert not [m for m in view.calls(op1.out) if isinstance(m, SendMessage)]
    private = [s for s in op1.out if getattr(s.method, "chat_id", None) == OPERATORS[0]]
    assert [type(s.method) for s in private] == [SendMessage]
    reveal = private[0].method
    assert isinstance(reveal, SendMessage)
    assert reveal.protect_content is True
    details = reveal.text
    assert details.splitlines()[0] == dt("desk-details", code=ref, operator=op_label(1), minutes=5)
    assert f"{dt('desk-field', field='full_name')}: {html.escape(NAME['ru'])}" in details
    assert f"{dt('desk-field', field='birth_date')}: 17.05.1990" in details
    # never the code, nor the safety word: the caller's secrets, even to the claimer
    assert code not in details
    assert dt("desk-field", field="case_code") not in details
    # the location he shared is a map link, here and nowhere else
    assert 'href="https://www.openstreetmap.org/?mlat=47.91000&amp;mlon=37.62000' in details
    group_texts = str([m for m in view.calls() if not isinstance(m, DeleteMessage)])
    assert "47.91" not in group_texts
    assert NAME["ru"] not in group_texts
    message_id = private[0].result.message_id

    audit = await hotline.app.audit.last(10)
    reveals = [e for e in audit if e["what"] == "details"]
    case = (await view.case(caller)).case
    assert [(e["result"], e.get("why"), e["case"]) for e in reveals] == [
        ("refused", "not-claimed", case),
        ("refused", "claimed-by-another", case),
        ("refused", "claimed-by-another", case),
        ("ok", None, case),
    ]
    assert reveals[-1]["who"] == hotline.app.desk.operators.who(OPERATORS[0])
    assert NAME["ru"] not in str(audit)

    # the pending deletion is in Redis, the operator's chat sealed (his id is his Telegram id)
    pending = await hotline.redis.zrange("hl:desk:purge", 0, -1)
    assert len(pending) == 1
    assert str(OPERATORS[0]).encode() not in pending[0]
    levels = hotline.app.service_levels
    mark = len(hotline.session.sent)
    await levels.tick(revealed_at + 5 * MINUTE - 1)
    assert not [s for s in hotline.session.sent[mark:] if isinstance(s.method, DeleteMessage)]

    # the process stops before its own timer fires; another one, on the same Redis, sweeps
    await hotline.app.desk.aclose()
    restarted = await _desk(make_hotline, redis, details_reveal_minutes=5, **keys)
    await restarted.app.service_levels.tick(revealed_at + 5 * MINUTE)
    deleted = [s.method for s in restarted.session.sent if isinstance(s.method, DeleteMessage)]
    assert deleted == [DeleteMessage(chat_id=OPERATORS[0], message_id=message_id)]
    assert await redis.zcard("hl:desk:purge") == 0
    await restarted.app.service_levels.tick(revealed_at + 10 * MINUTE)
    in_private = [
        s
        for s in restarted.session.sent
        if isinstance(s.method, DeleteMessage) and s.method.chat_id == OPERATORS[0]
    ]
    assert len(in_private) == 1
    # by then the caller's message with his code, shown once, is gone from his chat too
    assert DeleteMessage(chat_id=caller.user_id, message_id=caller.sent_id(code_message)) in [
        s.method for s in restarted.session.sent
    ]


async def test_an_operator_who_never_started_the_bot_is_told_how_and_gets_nothing(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await _desk(make_hotline)
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    topic = await view.topic(caller)
    op = Operator(hotline, OPERATORS[0])
    await op.say(topic, "/claim")
    refusal = TelegramForbiddenError(
        SendMessage(chat_id=OPERATORS[0], text="x"), "Forbidden: bot can't initiate conversation"
    )
    hotline.session.fail_next(SendMessage, refusal)
    await op.say(topic, "/details")
    assert op.replies() == [dt("desk-details-start-bot", bot="hotline_test_bot")]
    assert NAME["ru"] not in str(view.calls())
    assert not [s for s in hotline.session.sent if getattr(s.method, "chat_id", 0) == OPERATORS[0]]
    assert await hotline.redis.zcard("hl:desk:purge") == 0
    audit = [e for e in await hotline.app.audit.last(10) if e["what"] == "details"]
    assert [(e["result"], e.get("why")) for e in audit] == [("refused", "no-private-chat")]


async def test_details_are_deleted_by_the_process_timer(make_hotline: HotlineFactory) -> None:
    hotline = await _desk(make_hotline, details_reveal_minutes=0.001)  # 60 ms
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    topic = await view.topic(caller)
    op = Operator(hotline, OPERATORS[0])
    await op.say(topic, "/claim")
    await op.say(topic, "/details")
    for _ in range(500):  # up to 10 s on a slow machine; the first tick at 60 ms is enough here
        if any(isinstance(s.method, DeleteMessage) for s in hotline.session.sent):
            break
        await asyncio.sleep(0.02)
    deleted = [s.method for s in hotline.session.sent if isinstance(s.method, DeleteMessage)]
    assert [d.chat_id for d in deleted] == [OPERATORS[0]]
    assert await hotline.redis.zcard("hl:desk:purge") == 0


async def test_an_unclaimed_escalation_is_announced_again_once_per_interval(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await _desk(make_hotline, claim_timeout_recall_minutes=10)
    view = DeskView(hotline)
    caller = hotline.caller()
    await recall(caller)
    code = await reference(caller)  # what operators see
    since = (await view.case(caller)).since
    levels = hotline.app.service_levels
    # a second process on the same Redis ticks at the same moments
    other = await make_hotline(
        hotline.redis, operator_ids=OPERATORS, claim_timeout_recall_minutes=10
    )

    async def tick(minutes: float) -> list[str]:
        mark = len(hotline.session.sent), len(other.session.sent)
        moment = since + minutes * MINUTE
        await asyncio.gather(levels.tick(moment), other.app.service_levels.tick(moment))
        return view.posts(hotline.session.sent[mark[0] :]) + view.posts(
            other.session.sent[mark[1] :]
        )

    assert await tick(9.9) == []
    (digest,) = await tick(10)
    assert digest.splitlines()[0] == dt("desk-digest", count=1)
    assert code in digest
    assert digest.endswith(" · 10 хв")
    assert await tick(12) == []
    assert await tick(19.9) == []
    (digest,) = await tick(20)
    assert digest.endswith(" · 20 хв")
    await Operator(hotline, OPERATORS[0]).say(await view.topic(caller), "/claim")
    assert await tick(40) == []


async def test_the_desk_follows_a_caller_who_leaves_the_hand_off(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await _desk(make_hotline)
    view = DeskView(hotline)
    caller = hotline.caller()
    await caller.command("start")
    await caller.tap("menu-operator")
    await caller.tap("leave")
    assert not (await view.case(caller)).open  # the flow tells the desk at once
    await hotline.app.service_levels.tick(hotline.clock.now + 11 * MINUTE)  # nothing to redo
    case = await view.case(caller)
    assert not case.open
    assert await hotline.redis.zcard("hl:desk:open") == 0
    assert view.posts() == [
        dt("desk-queue", code=f"#{case.ref[:8]}", priority="normal", reason="operator")
    ]


async def test_stats_count_open_cases_by_state_and_the_median_time_to_claim(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await _desk(make_hotline)
    view = DeskView(hotline)
    callers = [hotline.caller(user_id=100_300_000 + i) for i in range(3)]
    for caller in callers[:2]:
        await recall(caller)
    await callers[2].command("start")
    await callers[2].tap("menu-emergency")
    op = Operator(hotline, OPERATORS[0])

    hotline.clock.advance(90)
    await op.say(await view.topic(callers[0]), "/claim")
    hotline.clock.advance(200)
    await op.say(await view.topic(callers[2]), "/claim")
    first = await view.case(callers[0])
    third = await view.case(callers[2])
    waits = sorted([first.claimed_at - first.since, third.claimed_at - third.since])

    await op.say(None, "/stats")
    median = round(sum(waits) / 2)
    expected = "\n".join(
        [
            dt(
                "desk-stats",
                open=3,
                waiting=1,
                claimed=2,
                claims=2,
                minutes=median // 60,
                seconds=median % 60,
            ),
            dt("desk-stats-stage", stage="emergency", count=1),
            dt("desk-stats-stage", stage="recall", count=2),
        ]
    )
    assert op.replies() == [expected]
    per_day = await hotline.redis.keys("hl:desk:claims:*")
    assert len(per_day) == 1
    assert sorted(int(v) for v in await hotline.redis.lrange(per_day[0], 0, -1)) == [
        round(w) for w in waits
    ]


async def test_the_desk_records_follow_a_key_rotation(make_hotline: HotlineFactory) -> None:
    old, new = new_key("old1"), new_key("new1")
    id_key = base64.b64encode(os.urandom(32)).decode()
    hotline = await _desk(make_hotline, hotline_seal_keys=old, hotline_id_key=id_key)
    caller = hotline.caller()
    await recall(caller)
    ref = await reference(caller)
    record = hotline.app.desk.state.record_key(caller.key)

    rotated = await _desk(
        make_hotline, hotline.redis, hotline_seal_keys=f"{new}\n{old}", hotline_id_key=id_key
    )
    assert await rotated.app.store.reseal_all() >= 2
    sealer = rotated.app.store.sealer
    value = await hotline.redis.hget(record, "chat")
    assert isinstance(value, bytes)
    assert sealer.key_id_of(value.decode()) == "new1"
    assert await hotline.redis.hget(record, "label") is None  # no code kept for the desk
    case = await rotated.app.desk.state.load(caller.key)
    assert case is not None
    assert rotated.app.desk.label(case) == ref
    assert rotated.app.desk.caller_chat(case) == caller.user_id
