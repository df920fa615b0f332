"""A probe holding a case code, from many accounts, cannot guess the birth date behind it.

The attack of issue 8 as a hostile service ran it: with the code and no birth date, four
guesses, `/forget`, again, from account after account. Failures are counted in Redis per case,
per account and overall, and nothing the probe can do resets them; after 3 wrong dates linking
the case locks until an operator unlocks it, the case's topic gets a high-priority alert, the
owner's case is untouched, and failures across all cases above the configured rate alert the
desk as a probing campaign.
"""

from __future__ import annotations

import pytest
import redis.asyncio

from flows.linking import ACCOUNT_TRIES, LOCK_AFTER
from tests.e2e.conftest import HotlineFactory, t
from tests.e2e.desk_harness import OPERATORS, DeskView, Operator
from tests.e2e.test_canary_e2e import BIRTH
from tests.security.helpers import WRONG_DATES, owner_of_a_case, try_code

pytestmark = pytest.mark.redis

PROBES = tuple(880_000_001 + n for n in range(6))


def dt(message_id: str, **params: str | int) -> str:
    return t("uk", message_id, **params)


async def test_the_probe_attack_from_many_accounts_never_links_and_alerts_within_3_dates(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(
        real_redis, operator_ids=OPERATORS, probe_alert_failures=10, probe_alert_window_minutes=60
    )
    view = DeskView(hotline)
    owner, code = await owner_of_a_case(hotline)
    owned = await owner.conversation()
    ref = f"#{(owned.case_id or '')[:8]}"  # the case reference the desk knows it by
    locked = dt("desk-queue-locked", code=ref, count=LOCK_AFTER)
    mark = len(hotline.session.sent)
    failed_dates = 0
    locked_after: int | None = None
    campaign_after: int | None = None

    for account in PROBES:
        probe = hotline.caller(account, "uk")
        for guess in WRONG_DATES:
            await try_code(probe, code, guess)
            if await probe.state() == "handoff":
                break  # this account is out of tries: an operator decides
            failed_dates += 1
            posts = view.posts(hotline.session.sent[mark:])
            if locked_after is None and locked in posts:
                locked_after = failed_dates
            if (
                campaign_after is None
                and dt("desk-probe-campaign", count=failed_dates, minutes=60) in posts
            ):
                campaign_after = failed_dates
            assert (await probe.conversation()).case_id is None
        await probe.command("forget")  # a fresh conversation: the counts stay in Redis

    # never linked, from any account, even with the right date once the case is locked
    late = hotline.caller(PROBES[-1] + 1, "uk")
    await try_code(late, code, BIRTH)
    assert (await late.conversation()).case_id is None
    assert late.texts[0] == t("uk", "code-or-date-mismatch", left=ACCOUNT_TRIES - 1)
    # the desk was told at the third failed date: the case's topic, at high priority, and
    # the queue; then the campaign across all cases
    assert locked_after == LOCK_AFTER
    topic = await view.topic(owner)
    in_topic = view.posts(hotline.session.sent[mark:], topic)
    assert dt("desk-link-locked", count=LOCK_AFTER) in in_topic
    assert [p for p in in_topic if p == dt("desk-link-failed", count=1, limit=LOCK_AFTER)]
    assert campaign_after == 10
    card, _ = view.card()
    assert "🔒" in card
    # the owner's case is untouched
    assert await owner.conversation() == owned
    await owner.command("status")
    assert owner.texts == [t("ru", "status", phase="registered")]


async def test_an_account_out_of_tries_stays_locked_after_forget(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    probe = hotline.caller(PROBES[0], "ru")
    for n in range(ACCOUNT_TRIES):
        await try_code(probe, "ZZZZ-ZZZZ", WRONG_DATES[n % len(WRONG_DATES)])
    assert await probe.state() == "handoff"
    assert t("ru", "code-locked") in probe.texts
    await probe.command("forget")  # a new conversation, the same account
    await probe.command("start")
    await probe.tap("menu-ready")
    await probe.text("ZZZZ-ZZZZ")
    assert probe.texts[0] == t("ru", "code-locked")
    assert await probe.state() == "handoff"


async def test_an_operator_unlocks_the_case_audited_and_the_owner_can_link_again(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    view = DeskView(hotline)
    owner, code = await owner_of_a_case(hotline)
    for n in range(LOCK_AFTER):
        probe = hotline.caller(PROBES[n], "ru")
        await try_code(probe, code, WRONG_DATES[n])
    topic = await view.topic(owner)
    stranger = Operator(hotline, 6_660_666)
    assert await stranger.press(topic, "unlock") == dt("desk-refused")
    operator = Operator(hotline, OPERATORS[1])
    assert await operator.press(topic, "unlock") is None
    assert view.posts(operator.out, topic) == [
        dt("desk-link-unlocked", operator=dt("desk-operator", n=2))
    ]
    entries = [e for e in await hotline.app.audit.last(20) if e["what"] == "unlock"]
    assert [(e["result"], e["who"]) for e in entries] == [
        ("refused", hotline.app.desk.operators.who(6_660_666)),
        ("ok", hotline.app.desk.operators.who(OPERATORS[1])),
    ]
    # his own new phone: code and the right date link again
    phone = hotline.caller(PROBES[-1], "ru")
    await try_code(phone, code, BIRTH)
    assert (await phone.conversation()).case_id == (await owner.conversation()).case_id
