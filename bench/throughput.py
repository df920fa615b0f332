"""Updates per second, latency, Redis traffic and idle memory of one bot variant.

A run plays CALLERS callers through the whole registration (bench/dialogue.py); a caller sends
his next update only once the bot's replies to the last one went out, as a person would. Run
sequentially (one update at a time) or with `in_flight` callers at once (so at most that many
updates in flight). Latency is from feeding the update to the bot's last reply to it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import redis.asyncio

from bench.dialogue import REGISTRATION, Updates, callers
from bench.store_bench import Traffic, counting
from bench.variants import BUILD, Variant


@dataclass(slots=True)
class Run:
    variant: str
    in_flight: int
    updates: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's, while the callers played (not the bot's build)
    latencies: list[float] = field(default_factory=list)
    round_trips: int = 0
    server_commands: int = 0
    by_command: Counter[str] = field(default_factory=Counter)
    by_source: Counter[str] = field(default_factory=Counter)  # round trips, by who made them

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds


async def server_commands(client: redis.asyncio.Redis) -> Counter[str]:
    """Commands the server ran so far, by name (INFO and CONFIG, the benchmark's own, left out);
    commands inside a Lua script count too."""
    stats = await client.info("commandstats")
    return Counter(
        {
            k.removeprefix("cmdstat_"): int(v["calls"])
            for k, v in stats.items()
            if not k.startswith(("cmdstat_info", "cmdstat_config"))
        }
    )


async def _caller(variant: Variant, user: int, updates: Updates, latencies: list[float]) -> None:
    for update, step in zip(updates.of(user), REGISTRATION, strict=True):
        started = time.perf_counter()
        await variant.feed(update, len(step.calls))
        latencies.append(time.perf_counter() - started)


async def play(variant: Variant, count: int, in_flight: int, run: Run) -> None:
    """`count` callers through the registration, `in_flight` at a time."""
    updates = Updates()
    queue = iter(callers(count))

    async def worker() -> None:
        for user in queue:
            await _caller(variant, user, updates, run.latencies)

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    await variant.settle()
    run.updates += count * len(REGISTRATION)


async def measure(url: str, name: str, count: int, in_flight: int) -> tuple[Run, Variant]:
    """One timed run on an empty Redis; the variant is returned open, its callers idle."""
    client = redis.asyncio.Redis.from_url(url)
    try:
        await client.flushall()
        variant = BUILD[name](url)
        run = Run(name, in_flight)
        await client.config_resetstat()
        before = await server_commands(client)
        traffic = Traffic()
        with variant.process(), counting(traffic):
            started, cpu = time.perf_counter(), time.process_time()
            await play(variant, count, in_flight, run)
            run.seconds = time.perf_counter() - started
            run.cpu_seconds = time.process_time() - cpu
        run.round_trips = traffic.round_trips
        run.by_source = traffic.by_source
        run.by_command = await server_commands(client)
        run.by_command.subtract(before)
        run.server_commands = run.by_command.total()
        return run, variant
    finally:
        await client.aclose()


async def idle_memory(url: str, conversations: int) -> tuple[float, float]:
    """(bytes, keys) per conversation: MEMORY USAGE of every key in Redis over their number."""
    client = redis.asyncio.Redis.from_url(url)
    try:
        total, keys = 0, 0
        async for key in client.scan_iter(count=1000):
            keys += 1
            total += int(await client.memory_usage(key, samples=0) or 0)
        return total / conversations, keys / conversations
    finally:
        await client.aclose()


async def check(url: str, name: str) -> list[list[tuple[str, str | None]]]:
    """One caller through the registration on an empty Redis, recording what the bot sent:
    (Bot API method, text) per update. The caller must get every reply bench/dialogue.py says
    he gets, or this raises."""
    client = redis.asyncio.Redis.from_url(url)
    await client.flushall()
    await client.aclose()
    variant = BUILD[name](url, record=True)
    try:
        per_update: list[list[tuple[str, str | None]]] = []
        user = next(callers(1))
        for update, step in zip(Updates().of(user), REGISTRATION, strict=True):
            mark = len(variant.session.calls)
            await variant.feed(update, len(step.calls))
            await variant.settle()
            per_update.append([(m, text) for _, m, text in variant.session.calls[mark:]])
        return per_update
    finally:
        await variant.close()
