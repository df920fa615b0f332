"""Redis traffic of an escalation, the project only (the plain baseline has no operator desk to
compare with): registered callers (their registration not counted) each ask for an operator
and write twice, both messages relayed into his case's topic (bench/dialogue.py's ESCALATION).
Counted per update of the escalation: the round trips the client makes, by who made them and
by update (the first, the topic and card made, apart from the relays), and the commands the
server runs (inside Lua included); the desk's own work (its lane: the topic, the card, the
queue post, the relays) is waited for and counted with the update that caused it.

Alone: `python -m bench.escalation [callers]` (a Redis of its own, AOF everysec as deployed).
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio

from bench.dialogue import ESCALATION, ESCALATION_DESK, REGISTRATION, Step, Updates, callers
from bench.redis_server import running_redis
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
    # round trips by step of ESCALATION (summed over callers), and by source
    by_step: list[int] = field(default_factory=lambda: [0] * len(ESCALATION))
    step_sources: list[Counter[str]] = field(
        default_factory=lambda: [Counter() for _ in ESCALATION]
    )

    @property
    def server_commands(self) -> int:
        return self.by_command.total()

    def per_step(self, step: int) -> float:
        """Round trips per caller of this step of ESCALATION."""
        return self.by_step[step] / max(1, self.callers)

    @property
    def relay_sources(self) -> Counter[str]:
        """Who made the round trips of the relayed messages (every step but the first)."""
        return sum(self.step_sources[1:], Counter())


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


async def measure(url: str, count: int, *, warm: int = 0) -> EscalationFigures:
    """`count` registered callers escalate, one after another (after `warm` more, not
    counted: the scripts loaded and the connections opened before, as in a process at work)."""
    variant, updates = await _registered(url, warm + count)
    client = redis.asyncio.Redis.from_url(url)
    try:
        figures = EscalationFigures(callers=count)
        everyone = list(callers(warm + count))
        for user in everyone[:warm]:
            await _play(variant, updates.of(user, ESCALATION, FIRST_MESSAGE), ESCALATION)
        await client.config_resetstat()
        before = await server_commands(client)
        for user in everyone[warm:]:
            for step, update in enumerate(updates.of(user, ESCALATION, FIRST_MESSAGE)):
                traffic = Traffic()
                with counting(traffic):
                    await _play(variant, [update], (ESCALATION[step],))
                figures.updates += 1
                figures.round_trips += traffic.round_trips
                figures.by_step[step] += traffic.round_trips
                figures.by_source.update(traffic.by_source)
                figures.step_sources[step].update(traffic.by_source)
        figures.by_command = await server_commands(client)
        figures.by_command.subtract(before)
        return figures
    finally:
        await variant.close()
        await client.aclose()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with running_redis(aof=True) as url:
        asyncio.run(check(url))
        figures = asyncio.run(measure(url, count))
    per = figures.updates
    print(f"escalation: {count} callers, {len(ESCALATION)} updates each")
    print(f"  round trips per update {figures.round_trips / per:.2f}")
    steps = ", ".join(f"{s.value!r} {figures.per_step(i):.2f}" for i, s in enumerate(ESCALATION))
    print(f"    by update: {steps}")
    for name, n in figures.by_source.most_common():
        print(f"    {n / per:5.2f} {name}")
    print(f"  commands run by the server per update {figures.server_commands / per:.2f}")
    for name, n in figures.by_command.most_common():
        if n > 0:
            print(f"    {n / per:5.2f} {name}")


if __name__ == "__main__":
    main()
