"""What the conversation store costs Redis, next to a naive aiogram-RedisStorage-like layout.

Both run the same registration dialogue through the same engine on a throw-away redis-server:

- store: `flows.dialogue.Dialogue` on `flows.store.ConversationStore` (one pipelined read, one
  EVALSHA that also records the dedupe mark and the sealed outbox batch, sealed fields),
- naive: GET state, GET data, SET state, SET data (plain JSON), one round trip each, as
  aiogram's RedisStorage does through FSMContext; no dedupe, no outbox, nothing sealed.

Figures per update: round trips and commands the client sends, commands Redis executes
(INFO commandstats, including those inside the Lua script), network bytes, wall time; and the
memory of one idle registered conversation (MEMORY USAGE summed over its keys).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import secrets
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio
from redis.asyncio.connection import AbstractConnection

from bench.redis_server import running_redis
from bot.redis_pool import LeanWrites
from flows import engine, fields
from flows.dialogue import Dialogue
from flows.model import Command, Context, Conversation, Event, Press, Text
from flows.sealing import Pseudonymizer, Sealer, SealKey
from flows.store import ConversationStore

CALLERS = 200
FIRST_USER = 5_000_000_000

REGISTRATION: list[Event] = [
    Command("start"),
    Press("menu-surrender"),
    Press("declare"),
    Text("Петренко Иван Сергеевич"),
    Text("03.02.1994"),
    Text("в/ч 12345"),
    Press("rank-sergeant"),
    Text("АВ-123456"),
    Text("2"),
    Press("area-kharkiv"),
    Text("+79991234567"),
    Press("health-light"),
    Press("wish-exchange"),
    Press("confirm"),
    Command("status"),
    Text("спасибо"),
]


@dataclass(slots=True)
class Traffic:
    """What the client sends, counted at the connection."""

    round_trips: int = 0
    commands: int = 0
    # round trips by the innermost function of the project that made them ("module.function")
    by_source: Counter[str] = field(default_factory=Counter)


_NOT_SOURCES = frozenset({"flows.replicas", "bot.redis_pool"})


def _source() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        # not the layers every round trip goes through (the replicas' wait, the connection)
        if module.startswith(("bot.", "flows.")) and module not in _NOT_SOURCES:
            return f"{module}.{frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "other"


@contextmanager
def counting(traffic: Traffic) -> Iterator[None]:
    send = AbstractConnection.send_packed_command
    pack = AbstractConnection.pack_command
    lean_pack = LeanWrites.pack_command  # the project's connections pack their own way

    async def counted_send(
        self: AbstractConnection, command: Any, check_health: bool = True
    ) -> None:
        traffic.round_trips += 1
        traffic.by_source[_source()] += 1
        await send(self, command, check_health)

    def counted_pack(self: AbstractConnection, *args: Any) -> list[bytes]:
        traffic.commands += 1
        return pack(self, *args)

    def counted_lean_pack(self: LeanWrites, *args: Any) -> list[bytes]:
        traffic.commands += 1
        return lean_pack(self, *args)

    AbstractConnection.send_packed_command = counted_send  # type: ignore[method-assign]
    AbstractConnection.pack_command = counted_pack  # type: ignore[method-assign]
    LeanWrites.pack_command = counted_lean_pack  # type: ignore[method-assign]
    try:
        yield
    finally:
        AbstractConnection.send_packed_command = send  # type: ignore[method-assign]
        AbstractConnection.pack_command = pack  # type: ignore[method-assign]
        LeanWrites.pack_command = lean_pack  # type: ignore[method-assign]


@dataclass(slots=True)
class Figures:
    layout: str
    updates: int = 0
    round_trips: int = 0
    client_commands: int = 0
    server_commands: int = 0
    net_bytes: int = 0
    seconds: float = 0.0
    idle_bytes: int = 0
    idle_keys: dict[str, int] = field(default_factory=dict)


async def _server_counters(client: redis.asyncio.Redis) -> tuple[int, int]:
    stats = await client.info("commandstats")
    calls = sum(
        int(v["calls"])
        for k, v in stats.items()
        if not k.startswith(("cmdstat_info", "cmdstat_config"))
    )
    net = await client.info("stats")
    return calls, int(net["total_net_input_bytes"]) + int(net["total_net_output_bytes"])


async def _measure(
    figures: Figures,
    client: redis.asyncio.Redis,
    run_update: Callable[[int, int, Event], Awaitable[None]],
) -> None:
    await client.config_resetstat()
    calls_before, net_before = await _server_counters(client)
    traffic = Traffic()
    started = time.perf_counter()
    with counting(traffic):
        update_id = 0
        for caller in range(CALLERS):
            for event in REGISTRATION:
                update_id += 1
                await run_update(FIRST_USER + caller, update_id, event)
    figures.seconds = time.perf_counter() - started
    calls_after, net_after = await _server_counters(client)
    figures.updates = update_id
    figures.round_trips = traffic.round_trips
    figures.client_commands = traffic.commands
    # INFO itself sits between the two reads; commandstats leaves it out above
    figures.server_commands = calls_after - calls_before
    figures.net_bytes = net_after - net_before


async def _memory(client: redis.asyncio.Redis, keys: list[str]) -> dict[str, int]:
    usage: dict[str, int] = {}
    for key in keys:
        size = await client.memory_usage(key, samples=0)
        if size is not None:
            usage[key] = int(size)
    return usage


async def bench_store(client: redis.asyncio.Redis) -> Figures:
    await client.flushall()
    sealer = Sealer([SealKey("bench", b"b" * 32)])
    store = ConversationStore(client, sealer, Pseudonymizer(b"bench-id-secret-0123456789abcdefgh"))
    dialogue = Dialogue(store)
    figures = Figures("store (this)")

    async def update(user: int, update_id: int, event: Event) -> None:
        handled = await dialogue.handle(user, update_id, event, message_ref=update_id)
        assert handled.batch is not None

    await _measure(figures, client, update)

    # the bot's side of one idle registered caller: delivered, indexes and chat ids written
    user = FIRST_USER
    key = store.conversation_key(user)
    for batch in await store.pending(key):
        await store.apply_index_effects(key, batch.effects)
        await store.ack(key, batch.entry_id)
    for message_id in range(1, 2 * len(REGISTRATION) + 1):
        await store.remember_chat_message(key, message_id)
    conversation = (await store.load(key, 0)).conversation
    assert conversation.state == "registered"
    assert conversation.case_id is not None
    indexes = [f"{store.prefix}:case:{conversation.case_id}"]
    indexes.append(f"{store.prefix}:code:{conversation.code_digest}")
    usage = await _memory(client, store.keys_of(key) + indexes)
    figures.idle_keys = {
        k.rsplit(":", 1)[-1] if "{" in k else k.split(":")[1]: v for k, v in usage.items()
    }
    figures.idle_bytes = sum(usage.values())
    return figures


async def bench_naive(client: redis.asyncio.Redis) -> Figures:
    """aiogram RedisStorage's shape: fsm:<chat>:<user>:state and :data, four round trips."""
    await client.flushall()
    figures = Figures("naive (GET/GET/SET/SET)")

    def ctx(ref: int) -> Context:
        now = time.time()
        return Context(
            now=now,
            today=datetime.datetime.fromtimestamp(now, datetime.UTC).date(),
            new_code=fields.new_case_code,
            new_case_id=lambda: secrets.token_hex(6),
            digest=lambda ns, v: f"{ns}:{v}",
            message_ref=ref,
        )

    async def update(user: int, update_id: int, event: Event) -> None:
        base = f"fsm:{user}:{user}"
        state = await client.get(f"{base}:state")
        raw = await client.get(f"{base}:data")
        data = json.loads(raw) if raw else {}
        conv = Conversation.from_parts(data.get("meta", {}), data.get("fields", {}))
        if state is not None:
            conv.state = state.decode() if isinstance(state, bytes) else state
        outcome = engine.handle(conv, event, ctx(update_id))
        new = outcome.conversation
        await client.set(f"{base}:state", new.state)
        await client.set(
            f"{base}:data",
            json.dumps({"meta": new.meta(), "fields": new.fields}, ensure_ascii=False),
        )

    await _measure(figures, client, update)
    base = f"fsm:{FIRST_USER}:{FIRST_USER}"
    usage = await _memory(client, [f"{base}:state", f"{base}:data"])
    figures.idle_keys = {k.rsplit(":", 1)[-1]: v for k, v in usage.items()}
    figures.idle_bytes = sum(usage.values())
    return figures


def _table(rows: list[Figures]) -> str:
    head = (
        f"{'layout':<26}{'round trips':>12}{'client cmds':>12}{'redis cmds':>12}"
        f"{'net bytes':>11}{'µs':>8}{'idle bytes':>12}"
    )
    lines = [head, "-" * len(head)]
    for f in rows:
        n = f.updates
        lines.append(
            f"{f.layout:<26}{f.round_trips / n:>12.2f}{f.client_commands / n:>12.2f}"
            f"{f.server_commands / n:>12.2f}{f.net_bytes / n:>11.0f}"
            f"{f.seconds / n * 1e6:>8.0f}{f.idle_bytes:>12}"
        )
    return "\n".join(lines)


async def run(url: str) -> list[Figures]:
    client = redis.asyncio.Redis.from_url(url)
    try:
        await client.ping()
        return [await bench_store(client), await bench_naive(client)]
    finally:
        await client.aclose()


def main() -> None:
    with running_redis() as url:
        rows = asyncio.run(run(url))
    updates = rows[0].updates
    print(
        f"store_bench: {updates} updates ({CALLERS} callers x {len(REGISTRATION)} events), "
        "per update unless noted; idle bytes = MEMORY USAGE of one registered caller's keys"
    )
    print(_table(rows))
    for row in rows:
        parts = ", ".join(f"{name} {size}" for name, size in row.idle_keys.items())
        print(f"  idle keys, {row.layout}: {parts}")
    print(
        "  store also keeps: dedupe marks (seen), the sealed outbox, case timeline and indexes;"
        " naive keeps personal data in plain JSON and has no dedupe"
    )


if __name__ == "__main__":
    main()
