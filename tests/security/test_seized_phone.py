"""A seized phone shows nothing: after a complete registration, a re-call and Met, no message
left in the caller's chat (his own or the bot's) holds a canary value or the case code; what the
bot shows later (status, "update details") never redisplays them; the code message goes when
he has written it down, or after CODE_MESSAGE_MINUTES at most."""

from __future__ import annotations

import pytest
import redis.asyncio
from aiogram.methods import SendMessage

from flows import surrender as flow
from tests.e2e.conftest import HotlineFactory, screen, t
from tests.e2e.desk_harness import OPERATORS, DeskView, Operator, to_meetup
from tests.e2e.test_canary_e2e import CALLER_ID, CANARIES, PLACE
from tests.security.helpers import SAFETY_WORD, chat, register_with_canaries

pytestmark = pytest.mark.redis


def _holding(texts: dict[int, str], secrets: tuple[str, ...]) -> list[tuple[int, str]]:
    return [
        (message_id, secret)
        for message_id, text in texts.items()
        for secret in secrets
        if secret.casefold() in text.casefold()
    ]


async def test_after_registration_recall_and_met_no_message_holds_a_canary_or_the_code(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    caller = chat(hotline, CALLER_ID)
    code = await register_with_canaries(caller)  # the whole form, then the safety word
    secrets = (*CANARIES[:-2], code, code.replace("-", ""), SAFETY_WORD)
    # at every point after the registration: nothing on screen holds them
    assert _holding(caller.on_screen(), secrets) == [(m, code) for m in _code_message(caller)]
    await caller.command("status")
    assert caller.texts == [t("ru", "status", phase="registered")]
    await caller.tap("update")  # "update details": which fields, never their values
    given = {d.name.replace("_", "-"): "given" for d in flow.DETAILS}
    given["area"] = "not-given"  # skipped
    assert caller.texts == [t("ru", "review-given", **given)]
    assert _holding({0: caller.texts[0]}, secrets) == []
    await caller.press("confirm")  # nothing changed: back to the case
    await caller.tap("ready")
    await caller.text("Я иду сдаваться")
    await to_meetup(caller)
    operator = Operator(hotline, OPERATORS[0])
    topic = await DeskView(hotline).topic(caller)
    await operator.press(topic, "claim")
    await operator.say(topic, f"/meet 05:30 | {PLACE}")
    assert any(PLACE in text for text in caller.on_screen().values())  # he needs it now
    await operator.say(topic, "/met")
    await operator.confirm(topic)  # typed, Met asks first

    left = caller.on_screen()
    assert _holding(left, secrets) == []
    assert list(left.values()) == [screen("ru", "completed")]  # Met wipes the chat


def _code_message(caller: object) -> list[int]:
    from tests.security.helpers import Chat

    assert isinstance(caller, Chat)
    return [
        int(s.result.message_id)
        for s in caller.all_messages()
        if isinstance(s.method, SendMessage)
        and s.method.text.startswith(t("ru", "code-once", code="X").split("X")[0])
        and int(s.result.message_id) in caller.on_screen()
    ]


async def test_the_code_message_goes_when_written_down_or_in_time(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS, code_message_minutes=10)
    first = chat(hotline, CALLER_ID)
    code = await register_with_canaries(first, safety_word=False)
    [shown] = _code_message(first)
    message = next(s.method for s in first.all_messages() if s.result.message_id == shown)
    assert isinstance(message, SendMessage)
    assert code in message.text
    await first.press("code-written", on=message)
    assert first.deleted() == [shown]
    assert _code_message(first) == []

    second = chat(hotline, CALLER_ID + 1)
    await register_with_canaries(second, safety_word=False)
    [kept] = _code_message(second)  # he never presses the button
    levels = hotline.app.service_levels
    await levels.tick(hotline.clock.now + 10 * 60 - 30)
    assert kept in second.on_screen()
    await levels.tick(hotline.clock.now + 10 * 60)
    assert kept not in second.on_screen()
    assert _code_message(second) == []


async def test_withdrawal_and_forget_after_it_wipe_the_chat(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    caller = chat(hotline, CALLER_ID)
    await register_with_canaries(caller)
    await caller.command("cancel")
    await caller.press("withdraw-yes")
    assert list(caller.on_screen().values()) == [t("ru", "withdrawn")]
    await caller.command("start")
    await caller.command("forget")  # after the withdrawal: still wipes what the bot can
    assert list(caller.on_screen().values()) == [t("ru", "forget-done")]
