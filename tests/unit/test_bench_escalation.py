"""The escalation figure of the benchmark (bench/escalation.py) measures what it says: after a
registration, /operator and two messages, the caller is answered and the group is sent the
topic, the card, the queue post and both relays (or `check` refuses), and the desk's own work
for each update is counted with it."""

from __future__ import annotations

import pytest

from bench import escalation
from bench.dialogue import ESCALATION

pytestmark = pytest.mark.redis


async def test_the_escalation_the_bench_counts_reaches_the_group(redis_url: str) -> None:
    await escalation.check(redis_url)  # raises SystemExit when a call is missing or extra


async def test_the_desk_work_is_counted_with_the_updates(redis_url: str) -> None:
    figures = await escalation.measure(redis_url, 2)
    assert figures.updates == 2 * len(ESCALATION)
    desk = {name for name in figures.by_source if name.startswith("bot.desk.")}
    assert {"bot.desk.lane._done", "bot.desk.records.at_work"} <= desk
    assert figures.round_trips >= sum(figures.by_source.values()) > 0
    assert figures.server_commands > figures.round_trips
