"""A seized server yields as little as possible.

A Redis dump plus HOTLINE_ID_KEY, with a dictionary of every birth date 1950-2010 and 10,000
words, recovers no birth date, no safety word and no operator id: no low-entropy value is kept
as a keyed digest (they are sealed, checked against the sealed values), and operators are named
under a salt that is itself sealed. Keys shorter than 32 bytes or not strict base64 are refused
at start; a tampered record gives the caller "try again shortly" and the desk an alert.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import os
import re
from collections.abc import Callable

import pytest
import redis.asyncio
from aiogram.methods import SendMessage

from bot.app import open_store
from bot.settings import Settings, SettingsError
from flows.sealing import new_key
from tests.e2e.conftest import DESK_CHAT, HotlineFactory, t
from tests.e2e.desk_harness import OPERATORS, STRANGER, DeskView, Operator
from tests.e2e.test_canary_e2e import BIRTH, CALLER_ID, SECOND_ACCOUNT, _everything_in
from tests.security.helpers import SAFETY_WORD, owner_of_a_case, try_code

pytestmark = pytest.mark.redis

NAMESPACES = ("birth", "birth_date", "date", "dob", "safety", "safety_word", "word", "phone")
OPERATOR_NAMESPACES = ("operator", "op", "conv", "user", "caller", "audit", "who")
WIDE = b"\xfb\xef\xff" * 10 + b"K4"  # 32 bytes whose base64 has + and /
ALPHABET = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"


def birth_dates() -> list[str]:
    day, last = datetime.date(1950, 1, 1), datetime.date(2010, 12, 31)
    out: list[str] = []
    while day <= last:
        out += [day.isoformat(), day.strftime("%d.%m.%Y")]
        day += datetime.timedelta(days=1)
    return out


def words() -> list[str]:
    """10,000 words, the real safety word among them (the attacker's dictionary has it)."""
    made = ("".join(p) for p in itertools.product(ALPHABET[:22], repeat=3))
    return [SAFETY_WORD, *itertools.islice(made, 9_999)]


def digests(
    digest: Callable[[str, str], str], values: list[str], namespaces: tuple[str, ...]
) -> set[str]:
    return {digest(ns, v) for ns in namespaces for v in values}


async def test_a_dump_and_the_id_key_recover_no_birth_date_safety_word_or_operator_id(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    owner, code = await owner_of_a_case(hotline)  # with a safety word
    other = hotline.caller(SECOND_ACCOUNT, "ru")
    await try_code(other, code, BIRTH)  # linked: the check ran against the case's birth date
    await other.text("Я иду сдаваться")
    view = DeskView(hotline)
    for n, operator_id in enumerate(OPERATORS):  # every operator leaves audit entries
        operator = Operator(hotline, operator_id)
        topic = await view.topic(other)
        await operator.press(topic, "claim" if n == 0 else "details")
    await Operator(hotline, STRANGER).press(await view.topic(other), "claim")

    dump = "\n".join(await _everything_in(real_redis))
    tokens = set(re.findall(r"[a-z2-7]{32}|[0-9a-f]{12,64}", dump))
    ids = hotline.app.store.digest  # HMAC under the deployment's id key, seized with the dump
    assert ids("conv", str(CALLER_ID)) in tokens  # the attack works where it can (key names)

    dates = birth_dates()
    assert "1991-05-17" in dates
    assert tokens.isdisjoint(digests(ids, dates, NAMESPACES)), "a birth date is recoverable"
    assert tokens.isdisjoint(digests(ids, words(), NAMESPACES)), "the safety word is"
    # operators: every member of the group is a candidate; none maps to an audit entry or card
    candidates = [str(i) for i in (*OPERATORS, STRANGER)]
    for digest in digests(ids, candidates, OPERATOR_NAMESPACES):
        for prefix in (digest, digest[:12], digest[:32]):
            assert prefix not in dump, "an operator id is recoverable"
    # and the values themselves are nowhere in the clear
    for value in (BIRTH, "1991-05-17", SAFETY_WORD, *candidates):
        assert value not in dump
    assert (await owner.conversation()).fields["safety_word"] == SAFETY_WORD  # sealed, there


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("hotline_id_key", base64.b64encode(os.urandom(16)).decode()),  # too short
        ("hotline_id_key", base64.b64encode(os.urandom(31)).decode()),
        ("hotline_id_key", base64.urlsafe_b64encode(b"\xfb\xef\xff" * 11).decode()),  # not strict
        ("hotline_id_key", base64.b64encode(os.urandom(32)).decode().rstrip("=")),
        ("hotline_seal_keys", "k1:" + base64.b64encode(os.urandom(16)).decode()),
        ("hotline_seal_keys", "k1:" + base64.urlsafe_b64encode(WIDE).decode()),
    ],
)
def test_short_or_loose_keys_are_refused_at_start(setting: str, value: str) -> None:
    values: dict[str, object] = {
        "redis_url": "redis://127.0.0.1:1/0",
        "hotline_seal_keys": new_key("k1"),
        "hotline_id_key": base64.b64encode(os.urandom(32)).decode(),
        setting: value,
    }
    settings = Settings(**values)  # type: ignore[arg-type]
    with pytest.raises(SettingsError) as refused:
        open_store(settings, redis.asyncio.Redis())
    assert value not in str(refused.value)  # named, never shown
    assert setting.upper() in str(refused.value) or "HOTLINE_SEAL_KEYS" in str(refused.value)


@pytest.mark.parametrize("damage", ["tampered", "retired-key"])
async def test_a_damaged_record_tells_the_caller_and_alerts_the_desk(
    damage: str, real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    old, new = new_key("old1"), new_key("new1")
    id_key = base64.b64encode(os.urandom(32)).decode()
    hotline = await make_hotline(
        real_redis, operator_ids=OPERATORS, hotline_seal_keys=old, hotline_id_key=id_key
    )
    owner, _ = await owner_of_a_case(hotline)
    conv = hotline.app.store.key(owner.key, "conv")
    if damage == "tampered":
        raw = await real_redis.hget(conv, "sealed")
        assert isinstance(raw, bytes)
        sealed = raw.decode()
        flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
        await real_redis.hset(conv, "sealed", flipped)
        current = hotline
    else:  # the old key was retired before the records were resealed
        current = await make_hotline(
            real_redis, operator_ids=OPERATORS, hotline_seal_keys=new, hotline_id_key=id_key
        )
    again = current.caller(CALLER_ID, "ru")
    await again.text("Здравствуйте")
    assert again.texts == [t("ru", "try-again-later")]
    posts = [
        m.text
        for m in current.desk(again.out)
        if isinstance(m, SendMessage) and m.chat_id == DESK_CHAT
    ]
    assert len(posts) == 1
    assert "🚨" in posts[0]
    assert again.last_update is not None
    assert current.unacknowledged == []  # told and acknowledged: asking again cannot help
