"""A case ended by an operator (Met, Erase) from a conversation linked to it (a re-call from
another account with code and birth date), not from its owner's:
`ConversationStore.erase_linked_case` takes the owner's conversation and the code and case
indexes with it, on fakeredis and on the real server. (The linked account's own /forget or
withdrawal never gets here: it ends only that account's conversation and link, see
tests/e2e/test_linked_case.py and tests/security/.)

What every erase keeps stays (the dedupe marks with the version reached, the outbox counter);
a stale case index never erases a conversation that holds another case; and a run interrupted
half-way is finished by the next (a batch is delivered again after a failure).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import redis.asyncio

from flows import packed
from flows.model import CaseEvent, Conversation, Effect, Erase, RegisterCase, Reply
from flows.sealing import RECORD_VERSION, Sealer, SealError
from flows.store import ERASED_SEQ, ERASED_VERSION, ConversationStore, StoreUnavailable
from tests.integration.test_canary import _everything_in as everything_raw
from tests.integration.test_store import (
    NAME,
    PHONE,
    USER,
    _all_keys,
    _client,
    _commit,
    _person,
    _register,
    _review,
)

CASE = "c0ffee01"  # the case `_register` makes
CODE = "K7QM-3P9X"
CANARIES = (NAME, PHONE, "1991-05-17")  # the fields `_register` stores
CONVERSATION_KEY = re.compile(rb"^[a-z]+:\{([^{}]+)\}:[a-z]+$")


async def opened_records(client: redis.asyncio.Redis, sealer: Sealer) -> list[str]:
    """Every sealed record on the server, opened: what a seized server and key would give.

    A record is sealed for its conversation (`<conv key>`, `<conv key>|outbox`,
    `<conv key>|desk`); one that opens under none of them fails the test, so nothing sealed
    goes unread."""
    items = await everything_raw(client)
    owners = {m.group(1).decode() for item in items if (m := CONVERSATION_KEY.match(item))}
    contexts = [f"{o}{suffix}".encode() for o in owners for suffix in ("", "|outbox", "|desk")]
    # the deployment's own: the operators' salt, the caller messages due for deletion
    contexts += [b"salt|operators", b"expiring"]
    opened: list[str] = []
    for item in items:
        if not item.startswith(f"{RECORD_VERSION}.".encode()):
            continue
        for context in contexts:
            try:
                opened.append(sealer.unseal(item.decode(), context).decode())
                break
            except SealError:
                continue
        else:
            raise AssertionError("a sealed record opens under no conversation's context")
    return opened


async def _canaries_in(store: ConversationStore) -> list[str]:
    client = _client(store)
    texts = [i.decode("utf-8", "replace") for i in await everything_raw(client)]
    texts += await opened_records(client, store.sealer)
    return sorted({c for c in CANARIES for text in texts if c in text})


async def _owner_and_linked(store: ConversationStore) -> tuple[str, str, Conversation]:
    """The owner registered (with an undelivered batch, a chat id and a timeline), and the
    conversation linked to his case, erased (its indexes effects applied as the bot does)."""
    owner = store.conversation_key(USER)
    registered = await _register(store, owner)
    await _commit(store, owner, 2, registered, [_review()])  # undelivered, sealed
    await store.remember_chat_message(owner, 501)
    linked = store.conversation_key(USER + 1)
    at_the_front = Conversation(state="recall_location", case_id=CASE, owns_case=False)
    at_the_front.fields["recall_location"] = "48.01234,37.80567"
    await _commit(store, linked, 1, at_the_front)
    erase: list[Effect] = [CaseEvent("withdrawn"), Erase(case_id=CASE, linked=True)]
    result = await _commit(store, linked, 2, Conversation(), erase)
    assert result.batch is not None
    await store.apply_index_effects(linked, result.batch.effects)
    return owner, linked, registered


def _parts(store: ConversationStore, key: str, names: set[str]) -> set[str]:
    prefix = store.key(key, "conv").removesuffix("conv")
    return {n.removeprefix(prefix) for n in names if n.startswith(prefix)}


async def test_the_owner_and_the_indexes_go_with_a_case_ended_from_a_linked_conversation(
    store: ConversationStore,
) -> None:
    owner, _, registered = await _owner_and_linked(store)
    client = _client(store)
    # the linked conversation's own erase leaves the indexes: through them the owner is found
    assert await store.conversation_of_case(CASE) == owner
    assert await _canaries_in(store) == sorted(CANARIES)  # the scan sees what is sealed
    version = (await store.load(owner, 99)).version

    assert await store.erase_linked_case(CASE) is True

    assert await _canaries_in(store) == []
    keys = await _all_keys(client)
    assert _parts(store, owner, keys) == {"conv"}  # the outbox went with its batches
    left = store.key(owner, "conv")
    assert {_text(f) for f in await client.hkeys(left)} == {ERASED_SEQ, ERASED_VERSION, "seen"}
    # the batch number it reached is kept with the version, so neither comes back
    assert _text(await client.hget(left, ERASED_SEQ)) == "2"
    assert _text(await client.hget(left, ERASED_VERSION)) == str(version)
    assert 1 in [i for i, _ in packed.decode(_text(await client.hget(left, "seen")))]  # dedupe
    assert await client.pttl(left) > 0
    assert not [k for k in keys if k.startswith(("hl:code:", "hl:case:"))]
    assert (await store.find_case(store.digest("code", CODE))).case_id is None
    assert await store.conversation_of_case(CASE) is None

    # delivered again: nothing more to do, nothing changes
    before = {k: await client.dump(k) for k in await _all_keys(client)}
    assert await store.erase_linked_case(CASE) is False
    assert {k: await client.dump(k) for k in await _all_keys(client)} == before

    # the owner's next message starts afresh, counting on: no erased version comes back
    fresh = await store.load(owner, 3)
    assert (fresh.conversation, fresh.version, fresh.pending) == (Conversation(), 0, 0)
    result = await _commit(store, owner, 3, Conversation(state="menu"), [Reply("greeting")])
    assert result.batch is not None
    assert int(result.batch.entry_id) == 3
    assert (await store.load(owner, 4)).version == version + 1
    stale = await store.commit(owner, version, registered, 5, [Reply("x")])
    assert stale.conflict


async def test_a_run_interrupted_half_way_is_finished_by_the_next(
    store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis goes away after the owner's conversation went, before the case index did: the
    batch is delivered again, and this time the index goes too."""
    owner, _, _ = await _owner_and_linked(store)
    client = _client(store)
    case_index = f"hl:case:{CASE}"
    drop = store.cases._del_if

    async def failing(*, keys: list[str], args: list[Any]) -> Any:
        if keys == [case_index]:
            raise redis.exceptions.ConnectionError("gone")
        return await drop(keys=keys, args=args)

    monkeypatch.setattr(store.cases, "_del_if", failing)
    with pytest.raises(StoreUnavailable):
        await store.erase_linked_case(CASE)
    assert _parts(store, owner, await _all_keys(client)) == {"conv"}
    assert _text(await client.get(case_index)) == owner
    monkeypatch.setattr(store.cases, "_del_if", drop)

    assert await store.erase_linked_case(CASE) is False  # erased already
    assert not [k for k in await _all_keys(client) if k.startswith(("hl:code:", "hl:case:"))]
    assert await _canaries_in(store) == []


async def test_a_stale_case_index_erases_nothing_of_the_conversation_it_points_at(
    store: ConversationStore,
) -> None:
    """The index of the case points at a conversation that holds another case now: that
    conversation and its own indexes stay exactly as they are; the stale index goes."""
    client = _client(store)
    bystander = store.conversation_key(USER + 2)
    theirs = _person()
    theirs.state = "registered"
    theirs.case_id, theirs.owns_case = "beefbeef", True
    theirs.code_digest = store.digest("code", "ZZZZ-ZZZZ")
    register = RegisterCase(theirs.case_id, theirs.code_digest)
    await _commit(store, bystander, 1, theirs, [register])
    await store.apply_index_effects(bystander, [register])
    await client.set(f"hl:case:{CASE}", bystander)  # stale: he holds another case
    before = {k: await client.dump(k) for k in await _all_keys(client)}

    assert await store.erase_linked_case(CASE) is False

    after = {k: await client.dump(k) for k in await _all_keys(client)}
    assert set(before) - set(after) == {f"hl:case:{CASE}"}
    assert after == {k: v for k, v in before.items() if k != f"hl:case:{CASE}"}
    assert await store.conversation_of_case("beefbeef") == bystander
    assert (await store.load(bystander, 9)).conversation.fields == theirs.fields
    assert (await store.find_case(theirs.code_digest)).case_id == "beefbeef"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
