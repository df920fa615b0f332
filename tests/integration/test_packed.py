"""The sets a conversation keeps in one field each (flows.packed), on fakeredis and a real Redis:
what goes in comes out, in any order, and a chat's messages take one entry, not one each."""

from __future__ import annotations

import random
from typing import Any

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
