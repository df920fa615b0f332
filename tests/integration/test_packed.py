"""The sets a conversation keeps in one field each (flows.packed), on fakeredis and a real Redis:
what goes in comes out, in any order, and a chat's messages take one entry, not one each."""

from __future__ import annotations

import random
from typing import Any, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import packed
from flows.store import ConversationStore

USER = 100_000_321


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


async def test_a_chats_messages_in_any_order_all_come_back(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    ids = [*range(1, 60), 500, 501, 7, 7, 3]  # a gap, repeats, out of order
    random.Random(5).shuffle(ids)
    for message in ids:
        await store.remember_chat_message(key, message)
    assert await store.chat_messages(key) == sorted(set(ids))


async def test_a_registrations_messages_take_one_entry(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    for message in range(1, 35):  # the caller's and the bot's, one after another
        await store.remember_chat_message(key, message)
    stored = _text(await store.redis.hget(store.key(key, "conv"), "chat"))
    assert stored is not None
    assert len(stored.split(",")) == 1
    assert await store.chat_messages(key) == list(range(1, 35))


async def test_a_run_is_deletable_while_its_first_message_is(
    redis_backend: Any, sealer: Any, ids: Any
) -> None:
    clock = Clock()
    store = ConversationStore(redis_backend, sealer, ids, clock=clock)
    key = store.conversation_key(USER)
    await store.remember_chat_message(key, 1)
    clock.now += packed.RUN_SPAN + 1  # too late to grow the first run: a new one begins
    await store.remember_chat_message(key, 2)
    await store.remember_chat_message(key, 3)
    assert await store.chat_messages(key) == [1, 2, 3]
    clock.now += store.retention.chat_messages - packed.RUN_SPAN  # 1 is too old now
    assert await store.chat_messages(key) == [2, 3]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-(2**40), 2**40), st.integers(0, 2**41)), max_size=40))
def test_pairs_decode_what_the_lua_would_encode(entries: list[tuple[int, int]]) -> None:
    """The Python reader against the delta coding the scripts write (the same rule, here)."""
    text, a, b = [], 0, 0
    for i, t in entries:
        text.append(f"{i - a}:{t - b}")
        a, b = i, t
    assert packed.decode(",".join(text)) == entries


@pytest.mark.parametrize("since", [0, 5, 10])
def test_runs_since_leave_out_the_runs_begun_before(since: int) -> None:
    # runs 1..3 begun at 4, 10..10 at 9, 7..8 at 12
    text = "1+2:4,9+0:5,-3+1:3"
    expected = [i for first, last, at in [(1, 3, 4), (10, 10, 9), (7, 8, 12)] if at >= since
                for i in range(first, last + 1)]  # fmt: skip
    assert packed.run_ids_since(text, since) == expected


def _sets(seed: int) -> list[list[tuple[int, int]]]:
    """Sets as the scripts make them (ids one after another within a second, repeats, ids
    going back, times going back) and random ones."""
    rng = random.Random(seed)
    sets: list[list[tuple[int, int]]] = [[], [(1, 1_800_000_000)]]
    sets.append([(7 + n, 1_800_000_000) for n in range(17)])  # a registration's update ids
    sets.append([(n, 1_800_000_000_000 + 5 * n) for n in range(20)])  # a window of ms
    for _ in range(60):
        entries, i, t = [], rng.randrange(-(2**40), 2**40), rng.randrange(2**41)
        for _ in range(rng.randrange(1, 30)):
            step = rng.choice([(1, 0), (1, 1), (1, 2), (2, 0), (-3, 5), (0, 0)])
            if rng.random() < 0.2:
                step = (rng.randrange(-(2**20), 2**20), rng.randrange(-(2**20), 2**20))
            i, t = i + step[0], t + step[1]
            entries.append((i, t))
        sets.append(entries)
    return sets


# ARGV: ids and times in turn; returns the packed text and that text unpacked, packed again
_LUA_ROUND_TRIP: Final = (
    packed.LUA
    + """
local list = {}
for i = 1, #ARGV, 2 do
  list[#list + 1] = {tonumber(ARGV[i]), tonumber(ARGV[i + 1])}
end
local text = pack_pairs(list)
return {text, pack_pairs(unpack_pairs(text))}
"""
)


async def test_the_scripts_coding_reads_back_the_same_in_lua_and_python(
    redis_backend: Any,
) -> None:
    """What the scripts write (pack_pairs) reads back as it went in, by the scripts
    (unpack_pairs) and by Python (`decode`); a run of like entries takes one token."""
    script = redis_backend.register_script(_LUA_ROUND_TRIP)
    for entries in _sets(11):
        text, again = (_text(v) for v in await script(args=[n for e in entries for n in e]))
        assert packed.decode(text) == entries
        assert again == text
    registration = _sets(11)[2]
    text, _ = await script(args=[n for e in registration for n in e])
    assert _text(text) == "7:1800000000,0*16"  # 17 entries, 17 bytes, not 76


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("1:10,1:0,1:0,3:-2", [(1, 10), (2, 10), (3, 10), (6, 8)]),  # written before: all pairs
        ("5:10,0*2,2,-1:4*2", [(5, 10), (6, 10), (7, 10), (8, 12), (7, 16), (6, 20)]),
        ("", []),
    ],
)
def test_pairs_read_both_codings(text: str, entries: list[tuple[int, int]]) -> None:
    assert packed.decode(text) == entries
