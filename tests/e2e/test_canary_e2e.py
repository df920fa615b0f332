"""The whole product with canary personal values, on a real Redis, logging at DEBUG: a caller
registers, comes back from another account with code and birth date, an operator claims the
case, reveals the details, sends the meeting and marks it met. No canary may appear in any log
line (ours, aiogram's, redis-py's) nor in any Redis key name or value, at any point."""

from __future__ import annotations

import redis.asyncio

from tests.conftest import CollectLogs
from tests.e2e.conftest import Caller, Hotline, HotlineFactory
from tests.e2e.desk_harness import OPERATORS, DeskView, Operator

NAME = "Канарейкин Тестослав"
BIRTH = "17.05.1991"
UNIT = "в/ч 97Щ531"
SERVICE_NUMBER = "КН-864Ж209"
PHONE = "+79990001122"
PLACE = "Канареечная балка у старой мельницы"
# Every part of a value kept as a canary of its own holds a letter where it could be mistaken for
# a number: five or six digits alone turn up by chance inside a timestamp or an id in a log line
# (tests/unit/test_canary_values.py holds them to that)
CALLER_ID = 771_234_567
SECOND_ACCOUNT = 772_345_678

CANARIES = (
    NAME,
    "Канарейкин",
    "Тестослав",
    BIRTH,
    "1991-05-17",
    "97Щ531",
    SERVICE_NUMBER,
    "864Ж209",
    PHONE,
    "79990001122",
    "9990001122",
    PLACE,
    "Канареечная",
    str(CALLER_ID),
    str(SECOND_ACCOUNT),
)


async def _everything_in(client: redis.asyncio.Redis) -> list[str]:
    """Every key name and every value, whatever its type."""
    found: list[str] = []
    async for raw in client.scan_iter(count=500):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        found.append(key)
        raw_kind = await client.type(key)
        kind = raw_kind.decode() if isinstance(raw_kind, bytes) else str(raw_kind)
        if kind == "string":
            found.append(str(await client.get(key)))
        elif kind == "hash":
            found.append(str(await client.hgetall(key)))
        elif kind == "list":
            found.append(str(await client.lrange(key, 0, -1)))
        elif kind == "zset":
            found.append(str(await client.zrange(key, 0, -1, withscores=True)))
        elif kind == "set":
            found.append(str(await client.smembers(key)))
        elif kind == "stream":
            found.append(str(await client.xrange(key)))
        else:
            found.append(f"{key}: unreadable type {kind}")
    return found


def _decoded(text: str) -> str:
    """Values as Redis holds them, also with \\u escapes undone (JSON inside values)."""
    try:
        return text + text.encode().decode("unicode_escape", errors="ignore")
    except UnicodeError:
        return text


async def test_no_canary_in_logs_or_redis_across_the_whole_product(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory, logs: CollectLogs
) -> None:
    hotline: Hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    snapshots: list[str] = []

    async def snapshot() -> None:
        snapshots.extend(await _everything_in(real_redis))

    caller = Caller(hotline, CALLER_ID, "ru")
    await caller.command("start")
    await caller.tap("menu-surrender")
    await caller.tap("declare")
    for answer in (NAME, BIRTH, UNIT, "майор запаса", SERVICE_NUMBER, "4"):
        await caller.text(answer)
    await caller.tap("skip")  # area
    await caller.text(PHONE)
    await caller.tap("health-light")
    await caller.tap("wish-stay")
    await snapshot()  # the whole form, unconfirmed
    await caller.press("confirm")
    code = (await caller.conversation()).fields["case_code"]
    await snapshot()

    # at the front, from another phone: code, birth date, the declaration again
    other = Caller(hotline, SECOND_ACCOUNT, "ru")
    await other.command("start")
    await other.tap("menu-ready")
    await other.text(code.lower().replace("-", ""))
    await other.text(BIRTH)
    await other.text("Я иду сдаваться")
    await other.location(48.01234, 37.80567)
    await other.text("4")
    await other.tap("health-none")
    assert await other.state() == "meetup"
    await snapshot()

    operator = Operator(hotline, OPERATORS[0])
    topic = await DeskView(hotline).topic(other)
    await operator.press(topic, "claim")
    await operator.say(topic, "/details")
    await operator.say(topic, f"/meet 05:30 | {PLACE}")
    await snapshot()
    await operator.say(topic, "/met")
    await operator.confirm(topic)  # typed, Met asks first
    await snapshot()

    assert logs.lines, "the logs were not captured"
    texts = snapshots + logs.lines
    for canary in CANARIES:
        for text in texts:
            assert canary.casefold() not in _decoded(text).casefold(), (canary, text[:200])
    # and the code itself lives only as a keyed hash, and is never logged
    for text in texts:
        assert code not in text
        assert code.replace("-", "") not in text
