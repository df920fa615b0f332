"""The code is the caller's secret: after a whole case (registration, a re-call from another
account, claim, details, meeting, Met) it is in no message to the operator group (topic titles,
cards, the queue, /stats), no hook body, no audit entry and no log line. Operators know the case
by a short reference instead."""

from __future__ import annotations

import json

import pytest
import redis.asyncio

from bot.hooks import WebhookConsumer
from tests.conftest import CollectLogs
from tests.e2e.conftest import HotlineFactory
from tests.e2e.desk_harness import OPERATORS, DeskView, Operator, Recorder, to_meetup
from tests.e2e.test_canary_e2e import BIRTH, PLACE, SECOND_ACCOUNT
from tests.security.helpers import WRONG_DATES, group_texts, owner_of_a_case, try_code

pytestmark = pytest.mark.redis


async def test_the_code_in_no_group_message_hook_body_audit_entry_or_log_line(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory, logs: CollectLogs
) -> None:
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS, hooks="desk,log")
    recorder = Recorder()
    hotline.app.hooks.consumers.append(recorder)
    view = DeskView(hotline)
    owner, code = await owner_of_a_case(hotline)
    await owner.command("operator")  # a topic of his own: title, card, queue
    await owner.tap("leave")
    probe = hotline.caller(SECOND_ACCOUNT + 9, "ru")
    await try_code(probe, code, WRONG_DATES[0])  # a failed check: posted to his topic
    other = hotline.caller(SECOND_ACCOUNT, "ru")
    await try_code(other, code, BIRTH)
    await other.text("Я иду сдаваться")
    await to_meetup(other)
    operator = Operator(hotline, OPERATORS[0])
    topic = await view.topic(other)
    await operator.press(topic, "claim")
    await operator.say(topic, "/details")
    await operator.say(None, "/stats")
    await operator.say(topic, f"/meet 05:30 | {PLACE}")
    await operator.say(topic, "/met")
    await operator.confirm(topic)  # typed, Met asks first

    ref = f"#{((await owner.conversation()).case_id or '')[:8]}"
    texts = group_texts(hotline)
    assert any(ref in text for text in texts)  # the reference instead
    reveal = [
        str(s.method) for s in hotline.session.sent if getattr(s.method, "chat_id", 0) > 0
    ]  # the claimer's private chat too (details)
    sender = WebhookConsumer("http://127.0.0.1:9/hooks", b"hook-secret")
    bodies = [sender.body(event, hotline.clock.now).decode() for event in recorder.events]
    assert bodies
    audit = [json.dumps(entry, ensure_ascii=False) for entry in await hotline.app.audit.last(200)]
    assert audit
    assert logs.lines
    places = {
        "group": texts,
        "operator's private chat": [r for r in reveal if f"chat_id={OPERATORS[0]}" in r],
        "hook bodies": bodies,
        "audit": audit,
        "logs": logs.lines,
    }
    for where, items in places.items():
        for item in items:
            for form in (code, code.replace("-", ""), code.lower()):
                assert form not in item, (where, item[:160])
