"""A whole registration with canary values: none of them may reach Redis or a log line.

The dialogue runs through `flows.dialogue.Dialogue` and the engine on the real Redis server,
doing what the bot does around each update (index effects, chat message ids, delivery and
acknowledgement, a re-seal run). Every log record at DEBUG, stdlib and structlog, is collected.
Then every key name and every value in Redis, and every log line, is searched for the canaries
in all the spellings the code could produce.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import redis.asyncio
import structlog

from flows.dialogue import Dialogue
from flows.linking import LinkGuard
from flows.model import Command, Event, Press, Text
from flows.sealing import Pseudonymizer, Sealer, SealKey
from flows.store import ConversationStore
from tests.conftest import CollectLogs

pytestmark = pytest.mark.redis

USER = 7700112233
CODE = "K7QM-3P9X"
NAME = "Канарейкин Тест"
BIRTH = "17.05.1991"
UNIT = "в/ч 99999"
SERVICE_NUMBER = "АБ-778Ж899"
PHONE = "+79990001122"
OLD_KEY = SealKey("old", b"o" * 32)
NEW_KEY = SealKey("new", b"n" * 32)

DIALOGUE: list[tuple[Event, str]] = [
    (Command("start"), "menu"),
    (Press("menu-surrender"), "declaration"),
    (Press("declare"), "details_full_name"),
    (Text(NAME), "details_birth_date"),
    (Text(BIRTH), "details_unit"),
    (Text(UNIT), "details_rank"),
    (Press("skip"), "details_service_number"),
    (Text(SERVICE_NUMBER), "details_people"),
    (Text("3"), "details_area"),
    (Press("skip"), "details_phone"),
    (Text(PHONE), "details_health"),
    (Press("health-none"), "details_wish"),
    (Press("wish-undecided"), "review"),
    (Press("confirm"), "registered"),
    (Command("status"), "registered"),  # shows the code again: sealed in the outbox too
]


def _spellings(value: str) -> set[str]:
    """A canary as it could appear: as typed, case-folded, JSON-escaped, UTF-8 in bytes."""
    forms = {value, value.lower(), value.upper(), value.casefold()}
    forms |= {json.dumps(f)[1:-1] for f in list(forms)}  # \\u041a... if ensure_ascii
    return forms


CANARIES: set[str] = set().union(
    *(
        _spellings(v)
        for v in (
            NAME,
            "Канарейкин",
            "Тест Канарейкин",
            BIRTH,
            "1991-05-17",
            "17051991",
            UNIT,
            SERVICE_NUMBER,
            "АБ778Ж899",
            "778Ж899",
            PHONE,
            "79990001122",
            "89990001122",
            "9990001122",
            "+7 999 000-11-22",
            CODE,
            "K7QM3P9X",
            str(USER),
        )
    )
)


def _leaks(text: str) -> list[str]:
    return sorted(c for c in CANARIES if c in text)


def _raw(value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


async def _everything_in(client: redis.asyncio.Redis) -> list[bytes]:
    """Every key name and value on the server, raw."""
    out: list[Any] = []
    async for key in client.scan_iter(match="*", count=1000):
        out.append(key)
        kind = _raw(await client.type(key)).decode()
        if kind == "string":
            out.append(await client.get(key))
        elif kind == "hash":
            hash_items: dict[Any, Any] = await client.hgetall(key)
            for field, value in hash_items.items():
                out += [field, value]
        elif kind == "zset":
            out += await client.zrange(key, 0, -1)
        elif kind == "list":
            out += await client.lrange(key, 0, -1)
        elif kind == "stream":
            entries: list[Any] = await client.xrange(key) or []
            for entry_id, data in entries:
                out.append(entry_id)
                for field, value in data.items():
                    out += [field, value]
        elif kind == "set":
            out += list(await client.smembers(key))
        else:
            raise AssertionError(f"key of unexpected type {kind}")
    return [_raw(item) for item in out]


async def test_no_canary_reaches_redis_or_the_logs(
    real_redis: redis.asyncio.Redis, logs: CollectLogs, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("canary.probe").debug("probe %s", "visible")
    structlog.get_logger("canary.probe").debug("structlog probe")

    old = Sealer([OLD_KEY])
    ids = Pseudonymizer(b"canary-test-id-secret-0123456789ab")
    store = ConversationStore(real_redis, old, ids)
    dialogue = Dialogue(store, new_code=lambda: CODE, new_case_id=lambda: "5eed5eed5eed")

    state = "start"
    for n, (event, expected_state) in enumerate(DIALOGUE, start=1):
        handled = await dialogue.handle(USER, 1000 + n, event, message_ref=n, language="ru")
        assert handled.batch is not None
        state = handled.conversation.state
        assert state == expected_state, f"step {n}: {event}"
        # what the bot does around each update
        await store.apply_index_effects(handled.conversation_key, handled.batch.effects)
        await store.touch_indexes(handled.conversation, handled.conversation_key)
        await store.remember_chat_message(handled.conversation_key, n)
        if n % 2:  # leave some batches undelivered: they stay sealed in the outbox
            await store.ack(handled.conversation_key, handled.batch.entry_id)
        again = await dialogue.handle(USER, 1000 + n, event, message_ref=n)  # redelivery
        assert again.batch is None
    assert state == "registered"

    key = store.conversation_key(USER)
    loaded = await store.load(key, 1)
    assert loaded.conversation.fields["full_name"] == NAME  # the data is there, sealed
    assert loaded.conversation.fields["phone"] == PHONE
    assert (await store.find_case(store.digest("code", CODE))).case_id == "5eed5eed5eed"
    assert await store.pending(key)

    rotated = ConversationStore(real_redis, Sealer([NEW_KEY, OLD_KEY]), ids)
    assert await rotated.reseal_all() > 0

    raw = await _everything_in(real_redis)
    assert len(raw) > 20
    for item in raw:
        text = item.decode("utf-8", errors="replace")
        assert not _leaks(text), f"in Redis: {_leaks(text)}"
        for canary in CANARIES:
            assert canary.encode("utf-8") not in item

    lines = logs.lines
    assert any("probe visible" in line for line in lines)  # the capture works
    assert any("structlog probe" in line for line in lines)
    records = [json.loads(line) for line in lines]
    assert any(
        r["logger"] == "flows.store" and r["level"] == "debug" and r["event"].startswith("commit")
        for r in records
    )
    for line in lines:
        assert not _leaks(line), f"in a log line: {_leaks(line)}"
    captured = capsys.readouterr()
    assert not _leaks(captured.out + captured.err)


SOUGHT = "Пропавшин Сергей"
SOUGHT_BIRTH = "3 марта 1993"
LAST_SEEN = "звонил из Канареевки"
ASKER = "мать Канарейкина"
REPLY = "+79990003344"
RELATIVE_CANARIES: set[str] = set().union(
    *(
        _spellings(v)
        for v in (SOUGHT, "Пропавшин", SOUGHT_BIRTH, "1993-03-03", "03.03.1993", LAST_SEEN,
                  "Канареевки", ASKER, REPLY, "79990003344", CODE, str(USER + 1))
    )
)  # fmt: skip
REQUEST: list[tuple[Event, str]] = [
    (Command("start"), "menu"),
    (Press("menu-relative"), "relatives"),
    (Press("rel-volunteers"), "relatives_volunteers"),
    (Press("request"), "request_sought_name"),
    (Text(SOUGHT), "request_sought_birth"),
    (Text(SOUGHT_BIRTH), "request_sought_unit"),
    (Press("skip"), "request_last_seen"),
    (Text(LAST_SEEN), "request_asker"),
    (Text(ASKER), "request_reply_to"),
    (Text(REPLY), "request_review"),
    (Press("request-send"), "request_sent"),
    (Command("status"), "request_sent"),
]


async def test_no_canary_of_a_relatives_request_reaches_redis_or_the_logs(
    real_redis: redis.asyncio.Redis, logs: CollectLogs, capsys: pytest.CaptureFixture[str]
) -> None:
    """A relative's request is sealed like a caller's details, lives as long as a registered
    case, and its reference links nobody: no birth-date digest is kept for it."""
    store = ConversationStore(
        real_redis, Sealer([OLD_KEY]), Pseudonymizer(b"canary-test-id-secret-2-0123456789ab")
    )
    dialogue = Dialogue(store, new_code=lambda: CODE, new_case_id=lambda: "fa11fa11fa11")
    user = USER + 1
    for n, (event, expected_state) in enumerate(REQUEST, start=1):
        handled = await dialogue.handle(user, 2000 + n, event, message_ref=n, language="ru")
        assert handled.batch is not None
        assert handled.conversation.state == expected_state, f"step {n}: {event}"
        await store.apply_index_effects(handled.conversation_key, handled.batch.effects)
        await store.touch_indexes(handled.conversation, handled.conversation_key)

    key = store.conversation_key(user)
    loaded = await store.load(key, 1)
    assert loaded.conversation.fields["sought_name"] == SOUGHT  # there, sealed
    assert "birth_date" not in loaded.conversation.fields
    # the reference cannot link another account, whatever date is typed (his or any)
    found = await store.find_case(store.digest("code", CODE))
    guard = LinkGuard(store)
    for typed in (loaded.conversation.fields["sought_birth"], "1990-05-17"):
        check = await guard.check(store.conversation_key(USER + 7), found.case_id, typed, 0.0)
        assert not check.matched
    ttl = await real_redis.pttl(store.key(key, "conv"))
    assert store.retention.registered * 1000 - 60_000 < ttl <= store.retention.registered * 1000

    for item in await _everything_in(real_redis):
        text = item.decode("utf-8", errors="replace")
        assert not sorted(c for c in RELATIVE_CANARIES if c in text), text[:80]
    for line in logs.lines:
        assert not sorted(c for c in RELATIVE_CANARIES if c in line), line
    captured = capsys.readouterr()
    assert not sorted(c for c in RELATIVE_CANARIES if c in captured.out + captured.err)
