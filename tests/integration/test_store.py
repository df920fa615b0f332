"""The conversation store, run on fakeredis and on a real Redis server (the `store` fixture)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import fakeredis
import pytest
import redis.asyncio
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bench.redis_server import free_port
from bot.redis_url import connect
from flows.dialogue import Dialogue
from flows.model import (
    Button,
    CaseEvent,
    Command,
    Conversation,
    DeleteInput,
    Effect,
    Erase,
    Escalate,
    FlowAction,
    OperatorAction,
    Press,
    Priority,
    RegisterCase,
    Reply,
    Text,
)
from flows.sealing import Pseudonymizer, Sealer, SealError, SealKey
from flows.store import (
    Batch,
    CommitResult,
    ConversationStore,
    Retention,
    StoreUnavailable,
)

NAME = "Канарейкин Тест"
PHONE = "+79990001122"
USER = 123456789
K1 = SealKey("k1", b"1" * 32)
K2 = SealKey("k2", b"2" * 32)
DAY = 86400.0


class Clock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _store_on(
    client: redis.asyncio.Redis, sealer: Sealer, ids: Pseudonymizer, **kw: Any
) -> ConversationStore:
    return ConversationStore(client, sealer, ids, **kw)


def _client(store: ConversationStore) -> redis.asyncio.Redis:
    client: redis.asyncio.Redis = store._redis
    return client


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _all_keys(client: redis.asyncio.Redis) -> set[str]:
    return {_text(k) async for k in client.scan_iter(match="*")}


async def _fields(client: redis.asyncio.Redis, key: str) -> set[str]:
    return {_text(name) for name in await client.hkeys(key)}


async def _dump(client: redis.asyncio.Redis) -> str:
    """Every key name and value, as one text to grep."""
    parts: list[str] = []
    async for raw in client.scan_iter(match="*"):
        key = _text(raw)
        kind = _text(await client.type(key))
        parts.append(key)
        if kind == "string":
            parts.append(_text(await client.get(key)))
        elif kind == "hash":  # in field order: a big hash's own order moves as Redis rehashes
            fields = (await client.hgetall(key)).items()
            parts += sorted(f"{_text(k)}={_text(v)}" for k, v in fields)
        elif kind == "zset":
            parts += [_text(m) for m in await client.zrange(key, 0, -1)]
        elif kind == "list":
            parts += [_text(m) for m in await client.lrange(key, 0, -1)]
        else:
            raise AssertionError(f"unexpected key type {kind}")
    return "\n".join(parts)


def _person(**extra: str) -> Conversation:
    return Conversation(
        state="details_phone",
        fields={"full_name": NAME, "birth_date": "1991-05-17", "phone": PHONE, **extra},
    )


def _review() -> Reply:
    return Reply(
        "review",
        {"full-name": NAME, "phone": PHONE, "people": 3},
        (Button("confirm", "btn-confirm"),),
        inline=True,
        step=(3, 10),
    )


async def _commit(
    store: ConversationStore,
    key: str,
    update_id: int,
    conversation: Conversation | None = None,
    effects: list[Effect] | None = None,
) -> CommitResult:
    loaded = await store.load(key, update_id)
    conv = conversation if conversation is not None else loaded.conversation
    if effects is None:
        effects = [Reply("help")]
    return await store.commit(key, loaded.version, conv, update_id, effects)


# -- load and commit --------------------------------------------------------------------------


async def test_nothing_stored_loads_a_fresh_conversation(store: ConversationStore) -> None:
    loaded = await store.load(store.conversation_key(USER), 1)
    assert loaded.conversation == Conversation()
    assert (loaded.version, loaded.duplicate, loaded.pending) == (0, False, 0)


async def test_a_committed_conversation_loads_back(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    conv = _person()
    conv.case_id, conv.escalated, conv.updated_at = "c0ffee", True, 1234.5
    result = await store.commit(key, 0, conv, 10, [_review()])
    assert result.batch is not None
    assert not result.conflict
    assert not result.duplicate
    assert conv.version == 1  # the stored version is handed back
    loaded = await store.load(key, 11)
    assert loaded.version == 1
    assert loaded.conversation == conv
    assert (loaded.duplicate, loaded.pending) == (False, 1)


async def test_personal_fields_and_effects_are_sealed_at_rest(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    await store.commit(key, 0, _person(), 10, [_review()])
    client = _client(store)
    sealed = _text(await client.hget(store.key(key, "conv"), "sealed"))
    assert sealed.startswith("s1.test1.")
    dump = await _dump(client)
    for plain in (NAME, "Канарейкин", PHONE, "79990001122", "1991-05-17", str(USER)):
        assert plain not in dump


async def test_key_names_hold_no_telegram_id(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    await store.commit(key, 0, _person(), 10, [_review()])
    names = await _all_keys(_client(store))
    assert names == set(store.keys_of(key))
    assert all(str(USER) not in name for name in names)
    assert all(name.startswith(f"hl:{{{key}}}:") for name in names)


async def test_a_stale_version_is_a_conflict_and_writes_nothing(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    assert (await store.commit(key, 0, _person(), 1, [Reply("a")])).batch is not None
    before = await _dump(_client(store))
    stale = await store.commit(key, 0, Conversation(state="menu"), 2, [Reply("b")])
    assert stale == CommitResult(conflict=True)
    assert await _dump(_client(store)) == before
    loaded = await store.load(key, 2)
    assert (loaded.version, loaded.conversation.state, loaded.duplicate) == (
        1,
        "details_phone",
        False,
    )


async def test_a_repeated_update_commits_nothing(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    await store.commit(key, 0, _person(), 7, [Reply("a")])
    before = await _dump(_client(store))
    again = await store.commit(key, 1, Conversation(state="menu"), 7, [Reply("b")])
    assert again == CommitResult(duplicate=True)
    assert await _dump(_client(store)) == before
    assert (await store.load(key, 7)).duplicate
    assert [b.update_id for b in await store.pending(key)] == [7]


async def test_a_duplicate_is_reported_even_with_an_old_version(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    await store.commit(key, 0, _person(), 7, [Reply("a")])
    await store.commit(key, 1, _person(), 8, [Reply("b")])
    assert (await store.commit(key, 1, _person(), 7, [Reply("c")])).duplicate


async def test_load_is_one_round_trip_and_commit_one_evalsha(
    store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = store.conversation_key(USER)
    await _commit(store, key, 1)  # connects and loads the script
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    async def spy(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        if isinstance(command, str):
            command = command.encode()
        sent.append(command if isinstance(command, bytes) else b"".join(command))
        await original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", spy)
    loaded = await store.load(key, 2)
    assert len(sent) == 1
    sent.clear()
    await store.commit(key, loaded.version, loaded.conversation, 2, [Reply("x")])
    assert len(sent) == 1
    assert b"EVALSHA" in sent[0].upper()


# -- the outbox ---------------------------------------------------------------------------------


async def test_outbox_keeps_batches_in_order_until_acknowledged(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    batches: list[Batch] = []
    updates: list[tuple[int, list[Effect]]] = [
        (100, [_review()]),
        (99, [DeleteInput(5), Escalate(Priority.HIGH, "recall"), CaseEvent("recall")]),
        (101, []),  # a batch without effects is still a batch
    ]
    for update_id, effects in updates:
        result = await _commit(store, key, update_id, _person(), effects)
        assert result.batch is not None
        batches.append(result.batch)
    assert [int(b.entry_id) for b in batches] == sorted(int(b.entry_id) for b in batches)
    assert await store.pending(key) == batches
    assert (await store.load(key, 1)).pending == 3

    await store.ack(key, batches[1].entry_id)
    assert await store.pending(key) == [batches[0], batches[2]]
    await store.ack(key, batches[1].entry_id)  # twice is harmless
    await store.ack(key, batches[0].entry_id)
    await store.ack(key, batches[2].entry_id)
    assert await store.pending(key) == []
    assert (await store.load(key, 1)).pending == 0
    # the entry ids keep growing after the outbox drained
    later = await _commit(store, key, 102)
    assert later.batch is not None
    assert int(later.batch.entry_id) > int(batches[2].entry_id)


async def test_ack_refuses_what_is_not_an_entry_id(store: ConversationStore) -> None:
    with pytest.raises(ValueError, match="entry ids"):
        await store.ack(store.conversation_key(USER), "seq")


async def test_the_sealed_record_names_fields_by_their_letters_and_loads_by_their_names(
    redis_backend: redis.asyncio.Redis, sealer: Sealer, ids: Pseudonymizer
) -> None:
    store = _store_on(redis_backend, sealer, ids)
    key = store.conversation_key(USER)
    assert (await _commit(store, key, 1, _person(new_field="1"))).batch is not None
    record = _text(await redis_backend.hget(store.key(key, "conv"), "sealed"))
    assert record is not None
    opened = sealer.unseal_json(record, key.encode())
    assert opened == {"N": NAME, "B": "1991-05-17", "H": PHONE, "new_field": "1"}
    loaded = (await store.load(key, 2)).conversation
    assert loaded.fields == _person(new_field="1").fields


# -- case indexes --------------------------------------------------------------------------------


async def _register(store: ConversationStore, key: str, update_id: int = 1) -> Conversation:
    conv = _person()
    conv.state = "registered"
    conv.case_id, conv.owns_case = "c0ffee01", True
    conv.code_digest = store.digest("code", "K7QM-3P9X")
    effects: list[Effect] = [RegisterCase(conv.case_id, conv.code_digest), CaseEvent("registered")]
    result = await _commit(store, key, update_id, conv, effects)
    assert result.batch is not None
    await store.apply_index_effects(key, result.batch.effects)
    return conv


async def test_a_registered_case_is_found_by_its_code(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    conv = await _register(store, key)
    found = await store.find_case(store.digest("code", "K7QM-3P9X"))
    assert found.case_id == "c0ffee01"
    assert conv.fields["birth_date"] == "1991-05-17"  # checked against the sealed field
    assert await store.conversation_of_case("c0ffee01") == key
    assert (await store.find_case(store.digest("code", "AAAA-AAAA"))).case_id is None
    assert await store.conversation_of_case("unknown") is None
    client = _client(store)
    assert _text(await client.hget(store.key(key, "conv"), "case")) == "c0ffee01"
    assert _text(await client.hget(store.key(key, "conv"), "tl")).endswith(" registered")


async def test_index_effects_are_idempotent_and_erase_removes_them(
    store: ConversationStore,
) -> None:
    key = store.conversation_key(USER)
    conv = await _register(store, key)
    assert conv.case_id is not None
    assert conv.code_digest is not None
    register = RegisterCase(conv.case_id, conv.code_digest)
    await store.apply_index_effects(key, [register])
    await store.touch_indexes(conv, key)
    client = _client(store)
    code_index = f"hl:code:{conv.code_digest}"
    assert await client.pttl(code_index) > (Retention().registered - 60) * 1000
    erase = Erase(case_id=conv.case_id, code_digest=conv.code_digest)
    await store.apply_index_effects(key, [erase])
    await store.apply_index_effects(key, [erase])
    assert not await client.exists(code_index, f"hl:case:{conv.case_id}")


async def test_an_index_of_another_owner_is_not_removed(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    conv = await _register(store, key)
    other = store.conversation_key(USER + 1)
    await store.apply_index_effects(other, [Erase(case_id=conv.case_id, code_digest="x")])
    assert await store.conversation_of_case("c0ffee01") == key


async def test_a_dangling_index_finds_nothing(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    await _register(store, key)
    await _client(store).delete(store.key(key, "conv"))
    assert (await store.find_case(store.digest("code", "K7QM-3P9X"))).case_id is None
    assert await store.conversation_of_case("c0ffee01") is None


async def test_an_old_codes_index_finds_nothing_once_his_code_changed(
    store: ConversationStore,
) -> None:
    """The code index names only the conversation: what it finds must still hold that code."""
    key = store.conversation_key(USER)
    conv = await _register(store, key)
    old = store.digest("code", "K7QM-3P9X")
    conv.code_digest = store.digest("code", "NEWC-0DE1")
    assert (await _commit(store, key, 2, conv, [])).batch is not None
    assert await _client(store).exists(f"hl:code:{old}")  # the stale index is still there
    assert (await store.find_case(old)).case_id is None
    assert (await store.find_case(conv.code_digest)).case_id is None  # never indexed
    assert _text(await _client(store).get(f"hl:code:{old}")) == key  # the key only, 44 B at most


# -- erasure ------------------------------------------------------------------------------------


async def test_an_erase_commit_leaves_only_dedupe_and_the_final_reply(
    store: ConversationStore,
) -> None:
    key = store.conversation_key(USER)
    conv = await _register(store, key)
    await _commit(store, key, 2, conv, [_review()])  # undelivered: must not outlive the erase
    await store.remember_chat_message(key, 501)
    effects: list[Effect] = [
        CaseEvent("erased"),
        Erase(wipe_chat=True, case_id=conv.case_id, code_digest=conv.code_digest),
        Reply("forget-done"),
    ]
    loaded = await store.load(key, 3)
    result = await store.commit(key, loaded.version, Conversation(), 3, effects)
    assert result.batch is not None
    await store.apply_index_effects(key, result.batch.effects)

    client = _client(store)
    assert await _all_keys(client) == {store.key(key, "conv"), store.key(key, "outbox")}
    assert await _fields(client, store.key(key, "conv")) == {"seen", "ev", "es", "chat"}
    assert [b.effects for b in await store.pending(key)] == [tuple(effects)]
    assert await store.chat_messages(key) == [501]
    after = await store.load(key, 3)
    assert after.duplicate
    assert (after.conversation, after.version) == (Conversation(), 0)
    for plain in (NAME, PHONE, "c0ffee01"):
        assert plain not in await _dump(client)
    await store.forget_chat_messages(key)
    assert "chat" not in await _fields(client, store.key(key, "conv"))


async def test_the_callers_own_messages_are_remembered_by_the_commit(
    store: ConversationStore,
) -> None:
    key = store.conversation_key(USER)
    loaded = await store.load(key, 1)
    await store.commit(key, loaded.version, _person(), 1, [Reply("help")], chat_message=41)
    await store.remember_chat_message(key, 42)  # the bot's answer
    loaded = await store.load(key, 2)
    forget: list[Effect] = [Erase(wipe_chat=True), Reply("forget-done")]
    await store.commit(key, loaded.version, Conversation(), 2, forget, chat_message=43)
    # /forget itself is among what the wipe deletes
    assert await store.chat_messages(key) == [41, 42, 43]


async def test_an_erase_without_wipe_keeps_the_chat_ids_for_a_later_forget(
    store: ConversationStore,
) -> None:
    """An operator's Erase does not wipe his chat; his /forget afterwards still must: the
    message ids live apart from the case, with their own TTL (48 h, Telegram's limit)."""
    key = store.conversation_key(USER)
    await _commit(store, key, 1, _person())
    await store.remember_chat_message(key, 7)
    loaded = await store.load(key, 2)
    erase: list[Effect] = [CaseEvent("erased"), Erase()]
    await store.commit(key, loaded.version, Conversation(), 2, erase, chat_message=8)
    left = store.key(key, "conv")
    assert await _all_keys(_client(store)) == {left, store.key(key, "outbox")}
    assert await _fields(_client(store), left) == {"seen", "ev", "es", "chat"}
    assert await store.chat_messages(key) == [7, 8]
    longest = max(store.retention.chat_messages, store.retention.dedupe)
    assert 0 < await _client(store).pttl(left) <= longest * 1000


async def test_a_commit_prepared_before_an_erase_cannot_land_after_it(
    store: ConversationStore,
) -> None:
    key = store.conversation_key(USER)
    for update_id in (1, 2, 3):
        await _commit(store, key, update_id, _person())
    stale = await store.load(key, 50)  # a slow process read version 3 with the fields
    await _commit(store, key, 4, Conversation(), [Erase()])
    for update_id in (5, 6, 7):  # as many commits as the erased conversation had
        await _commit(store, key, update_id)
    result = await store.commit(key, stale.version, stale.conversation, 50, [Reply("x")])
    assert result.conflict
    assert (await store.load(key, 51)).conversation.fields == {}


# -- retention ------------------------------------------------------------------------------------


async def _ttl(store: ConversationStore, key: str, part: str) -> float:
    return float(await _client(store).pttl(store.key(key, part))) / 1000


async def test_ttls_follow_the_state(store: ConversationStore) -> None:
    retention = Retention()
    key = store.conversation_key(USER)
    await _commit(store, key, 1, _person())
    # the dedupe marks and chat ids live in the conversation: at least as long as Telegram
    # redelivers and lets a bot delete
    assert retention.dedupe <= retention.form
    assert retention.chat_messages <= retention.form
    assert retention.form - 60 < await _ttl(store, key, "conv") <= retention.form
    assert retention.outbox - 60 < await _ttl(store, key, "outbox") <= retention.outbox
    await store.remember_chat_message(key, 3)
    assert retention.form - 60 < await _ttl(store, key, "conv") <= retention.form
    await _register(store, key, update_id=2)
    assert retention.registered - 60 < await _ttl(store, key, "conv") <= retention.registered


async def test_retention_is_configurable(
    redis_backend: redis.asyncio.Redis, sealer: Sealer, ids: Pseudonymizer
) -> None:
    retention = Retention(form=3600, registered=7200, dedupe=DAY, outbox=600, chat_messages=60)
    store = _store_on(redis_backend, sealer, ids, retention=retention)
    key = store.conversation_key(USER)
    await _commit(store, key, 1, _person())
    assert 3500 < await _ttl(store, key, "conv") <= 3600
    assert 500 < await _ttl(store, key, "outbox") <= 600
    with pytest.raises(ValueError, match="24 h"):
        Retention(dedupe=3600)


@pytest.mark.parametrize(
    ("events", "case_event"),
    [
        ([Press("menu-operator"), OperatorAction(FlowAction.MET)], "completed"),
        (
            [Press("menu-surrender"), Command("cancel"), Press("withdraw-yes")],
            "withdrawn",
        ),
    ],
)
async def test_completed_and_withdrawn_cases_are_erased_at_once(
    store: ConversationStore, events: list[Any], case_event: str
) -> None:
    dialogue = Dialogue(store)
    handled = await dialogue.handle(USER, 1, Command("start"))
    for update_id, event in enumerate(events, start=2):
        handled = await dialogue.handle(USER, update_id, event)
    assert handled.batch is not None
    assert CaseEvent(case_event) in handled.batch.effects
    key = store.conversation_key(USER)
    assert await _all_keys(_client(store)) == {store.key(key, "conv"), store.key(key, "outbox")}
    assert await _fields(_client(store), store.key(key, "conv")) <= {"seen", "ev", "es", "chat"}


async def test_dedupe_marks_outlive_the_window_and_then_go(
    redis_backend: redis.asyncio.Redis, sealer: Sealer, ids: Pseudonymizer
) -> None:
    clock = Clock()
    store = _store_on(redis_backend, sealer, ids, clock=clock)
    key = store.conversation_key(USER)
    await _commit(store, key, 1)
    clock.now += Retention().dedupe - 1
    await _commit(store, key, 2)
    assert (await store.load(key, 1)).duplicate
    clock.now += 2
    await _commit(store, key, 3)
    assert not (await store.load(key, 1)).duplicate
    assert (await store.load(key, 2)).duplicate


async def test_chat_messages_are_remembered_while_deletable(
    redis_backend: redis.asyncio.Redis, sealer: Sealer, ids: Pseudonymizer
) -> None:
    clock = Clock()
    store = _store_on(redis_backend, sealer, ids, clock=clock)
    key = store.conversation_key(USER)
    await store.remember_chat_message(key, 10)
    clock.now += DAY
    await store.remember_chat_message(key, 11)
    await store.remember_chat_message(key, 12)
    assert await store.chat_messages(key) == [10, 11, 12]
    clock.now += DAY + 1  # 10 is older than Telegram's 48 h
    assert await store.chat_messages(key) == [11, 12]
    await store.forget_chat_messages(key)
    assert await store.chat_messages(key) == []


# -- sealing keys ---------------------------------------------------------------------------------


async def test_reseal_moves_every_record_to_the_newest_key(
    redis_backend: redis.asyncio.Redis, ids: Pseudonymizer
) -> None:
    old = _store_on(redis_backend, Sealer([K1]), ids)
    keys = [old.conversation_key(USER + n) for n in range(3)]
    for key in keys:
        await _commit(old, key, 1, _person(), [_review()])
        await _commit(old, key, 2, _person(n=key[:4]), [Reply("ask-phone")])
    expected = {key: (await old.load(key, 9)).conversation for key in keys}
    # another module's sealed record in the conversation's slot (the desk keeps the chat id)
    desk = old.key(keys[0], "desk")
    await redis_backend.hset(
        desk, mapping={"topic": "5", "chat": old.sealer.seal(b"4242", keys[0].encode())}
    )

    rotated = _store_on(redis_backend, Sealer([K2, K1]), ids)
    assert {key: (await rotated.load(key, 9)).conversation for key in keys} == expected
    assert await rotated.reseal_all() == 3 * (1 + 2) + 1  # fields + two batches each, desk
    assert await rotated.reseal_all() == 0

    new_only = _store_on(redis_backend, Sealer([K2]), ids)
    for key in keys:
        assert (await new_only.load(key, 9)).conversation == expected[key]
        assert [b.update_id for b in await new_only.pending(key)] == [1, 2]
    chat = _text(await redis_backend.hget(desk, "chat"))
    assert new_only.sealer.unseal(chat, keys[0].encode()) == b"4242"
    assert ".k1." not in await _dump(redis_backend)


async def test_reseal_never_overwrites_a_newer_commit(
    redis_backend: redis.asyncio.Redis, ids: Pseudonymizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _store_on(redis_backend, Sealer([K1]), ids)
    key = old.conversation_key(USER)
    await _commit(old, key, 1, _person())
    rotated = _store_on(redis_backend, Sealer([K2, K1]), ids)
    newer = _person(note="newer")
    landed: list[bool] = []

    async def commit_in_between() -> None:
        loaded = await rotated.load(key, 2)
        await rotated.commit(key, loaded.version, newer, 2, [Reply("x")])
        landed.append(True)

    real_hset_if = rotated._hset_if

    async def hset_if(*, keys: list[str], args: list[str]) -> Any:
        if not landed:
            await commit_in_between()
        return await real_hset_if(keys=keys, args=args)

    monkeypatch.setattr(rotated, "_hset_if", hset_if)
    await rotated.reseal_all()
    assert (await rotated.load(key, 3)).conversation.fields == newer.fields


async def test_a_tampered_record_raises_and_is_never_returned(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    await _commit(store, key, 1, _person(), [_review()])
    client = _client(store)
    conv = store.key(key, "conv")
    sealed = _text(await client.hget(conv, "sealed"))
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    await client.hset(conv, "sealed", flipped)
    with pytest.raises(SealError) as info:
        await store.load(key, 2)
    assert NAME not in str(info.value)
    outbox = store.key(key, "outbox")
    await client.hset(outbox, "1", sealed)  # a conversation record is no outbox entry
    with pytest.raises(SealError):
        await store.pending(key)
    with pytest.raises(SealError):
        await store.reseal_all()


async def test_a_record_moved_to_another_conversation_does_not_open(
    store: ConversationStore,
) -> None:
    key, other = store.conversation_key(USER), store.conversation_key(USER + 1)
    await _commit(store, key, 1, _person())
    await _commit(store, other, 1, Conversation(state="menu"))
    client = _client(store)
    sealed = await client.hget(store.key(key, "conv"), "sealed")
    await client.hset(store.key(other, "conv"), "sealed", sealed)
    with pytest.raises(SealError):
        await store.load(other, 2)


async def test_a_sealing_failure_writes_nothing(store: ConversationStore) -> None:
    key = store.conversation_key(USER)
    conv = _person()
    conv.fields["bad"] = object()  # type: ignore[assignment]
    with pytest.raises(SealError):
        await store.commit(key, 0, conv, 1, [Reply("x")])
    assert await _all_keys(_client(store)) == set()


# -- Redis down -----------------------------------------------------------------------------------


async def test_redis_down_is_store_unavailable(
    redis_backend: redis.asyncio.Redis, sealer: Sealer, ids: Pseudonymizer
) -> None:
    if isinstance(redis_backend, fakeredis.FakeAsyncRedis):
        server = fakeredis.FakeServer()
        server.connected = False
        client: redis.asyncio.Redis = fakeredis.FakeAsyncRedis(server=server)
    else:
        # no retries: redis-py's default backoff only makes the test slow
        client = redis.asyncio.Redis(
            port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
        )
    store = _store_on(client, sealer, ids)
    key = store.conversation_key(USER)
    calls: list[Callable[[], Any]] = [
        lambda: store.load(key, 1),
        lambda: store.commit(key, 0, _person(), 1, [_review()]),
        lambda: store.pending(key),
        lambda: store.ack(key, "1"),
        lambda: store.find_case("x"),
        lambda: store.remember_chat_message(key, 1),
        lambda: store.reseal_all(),
    ]
    for call in calls:
        with pytest.raises(StoreUnavailable) as info:
            await call()
        assert NAME not in str(info.value)
        assert PHONE not in str(info.value)
        assert info.value.__cause__ is None
    await client.aclose()


# -- through the dialogue ---------------------------------------------------------------------


async def test_a_redelivered_update_produces_nothing_through_the_dialogue(
    store: ConversationStore,
) -> None:
    dialogue = Dialogue(store)
    first = await dialogue.handle(USER, 1, Command("start"))
    assert first.batch is not None
    assert first.conversation.state == "menu"
    assert first.conversation.version == 1
    again = await dialogue.handle(USER, 1, Command("start"))
    assert again.batch is None
    second = await dialogue.handle(USER, 2, Text("hello"))
    assert second.batch is not None
    assert second.conversation.version == 2
    assert [b.update_id for b in await store.pending(store.conversation_key(USER))] == [1, 2]


def test_store_dataclasses_are_what_the_dialogue_expects() -> None:
    assert {f.name for f in dataclasses.fields(Batch)} >= {"entry_id", "effects"}
    assert CommitResult() == CommitResult(batch=None, duplicate=False, conflict=False)


@pytest.mark.parametrize("backend", ["fake", pytest.param("real", marks=pytest.mark.redis)])
async def test_a_client_that_decodes_responses_works_the_same(
    backend: str, request: pytest.FixtureRequest, sealer: Sealer, ids: Pseudonymizer
) -> None:
    client: redis.asyncio.Redis
    if backend == "fake":
        client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer(), decode_responses=True)
    else:
        client = connect(request.getfixturevalue("redis_url"), decode_responses=True)
        await client.flushall()
    store = _store_on(client, sealer, ids)
    key = store.conversation_key(USER)
    conv = await _register(store, key)
    loaded = await store.load(key, 2)
    assert loaded.conversation == conv
    assert [b.update_id for b in await store.pending(key)] == [1]
    assert (await store.find_case(store.digest("code", "K7QM-3P9X"))).case_id == "c0ffee01"
    await store.remember_chat_message(key, 5)
    assert await store.chat_messages(key) == [5]
    assert await store.reseal_all() == 0
    await client.aclose()
