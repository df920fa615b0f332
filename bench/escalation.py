"""Redis traffic of an escalation, the project only (the plain baseline has no operator desk to
compare with): registered callers (their registration not counted) each ask for an operator
and write twice, both messages relayed into his case's topic (bench/dialogue.py's ESCALATION).
Counted per update of the escalation: the round trips the client makes, by who made them, and
the commands the server runs (inside Lua included); the desk's own work (its lane: the topic,
the card, the queue post, the relays) is waited for and counted with the update that caused it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio

from bench.dialogue import ESCALATION, ESCALATION_DESK, REGISTRATION, Step, Updates, callers
from bench.store_bench import Traffic, counting
from bench.throughput import server_commands
from bench.variants import DESK_CHAT, Variant, project

FIRST_MESSAGE = len(REGISTRATION) + 1  # his message ids go on after the registration's


@dataclass(slots=True)
class EscalationFigures:
    callers: int = 0
    updates: int = 0
    round_trips: int = 0
    by_source: Counter[str] = field(default_factory=Counter)
    by_command: Counter[str] = field(default_factory=Counter)

    @property
    def server_commands(self) -> int:
        return self.by_command.total()


async def _play(variant: Variant, updates: list[dict[str, Any]], steps: tuple[Step, ...]) -> None:
    """Each update answered and the desk's work for it done before the next."""
    for update, step in zip(updates, steps, strict=True):
        await variant.feed(update, len(step.calls))
        await variant.settle()
        await variant.settle_desk()


async def _registered(url: str, count: int, *, record: bool = False) -> tuple[Variant, Updates]:
    client = redis.asyncio.Redis.from_url(url)
    await client.flushall()
    await client.aclose()
    variant = project(url, record=record)
    updates = Updates()
    for user in callers(count):
        await _play(variant, updates.of(user), REGISTRATION)
    return variant, updates


async def check(url: str) -> None:
    """One caller through the registration and the escalation: he and the group must be sent
    what bench/dialogue.py says, or this raises."""
    variant, updates = await _registered(url, 1, record=True)
    try:
        user = next(callers(1))
        for update, step, desk in zip(
            updates.of(user, ESCALATION, FIRST_MESSAGE), ESCALATION, ESCALATION_DESK, strict=True
        ):
            mark = len(variant.session.calls)
            await _play(variant, [update], (step,))
            sent = variant.session.calls[mark:]
            mine = tuple(m for chat, m, _ in sent if chat == user)
            group = tuple(m for chat, m, _ in sent if chat == DESK_CHAT)
            if (mine, group) != (step.calls, desk):
                raise SystemExit(f"the escalation's update {step.value!r} sent {sent}")
    finally:
        await variant.close()


async def measure(url: str, count: int) -> EscalationFigures:
    """`count` registered callers escalate, one after another."""
    variant, updates = await _registered(url, count)
    client = redis.asyncio.Redis.from_url(url)
    try:
        figures = EscalationFigures(callers=count)
        await client.config_resetstat()
        before = await server_commands(client)
        traffic = Traffic()
        with counting(traffic):
            for user in callers(count):
                await _play(variant, updates.of(user, ESCALATION, FIRST_MESSAGE), ESCALATION)
                figures.updates += len(ESCALATION)
        figures.round_trips = traffic.round_trips
        figures.by_source = traffic.by_source
        figures.by_command = await server_commands(client)
        figures.by_command.subtract(before)
        return figures
    finally:
        await variant.close()
        await client.aclose()
