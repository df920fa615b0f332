"""The budget rows of the benchmark (bench/bot_bench.py, bench/round_trip.py): what 2.0x the
baseline leaves per update after aiogram alone, counted in bare round trips measured on a real
Redis."""

from __future__ import annotations

import re

import pytest

from bench import bot_bench, round_trip
from bench.throughput import Run
from bench.variants import ALONE, BASELINE


def _run(name: str, in_flight: int, per_second: float) -> Run:
    return Run(name, in_flight, updates=int(per_second), seconds=1.0)


def test_the_room_is_what_2x_leaves_after_aiogram_over_one_round_trip() -> None:
    results = bot_bench.Results()
    # 500/s at 2.0x: 1 ms; aiogram alone at 2,500/s: 0.4 ms; 0.6 ms left
    results.runs[BASELINE, 1] = [_run(BASELINE, 1, 500)]
    results.runs[ALONE, 1] = [_run(ALONE, 1, 2500)]
    # 1,000/s at 2.0x: 0.5 ms; aiogram alone at 4,000/s: 0.25 ms; 0.25 ms left
    results.runs[BASELINE, bot_bench.IN_FLIGHT] = [_run(BASELINE, bot_bench.IN_FLIGHT, 1000)]
    results.runs[ALONE, bot_bench.IN_FLIGHT] = [_run(ALONE, bot_bench.IN_FLIGHT, 4000)]
    lines = bot_bench._budget_rows(results, round_trip.RoundTrip(0.15, 0.05))
    rooms = [float(m) for line in lines for m in re.findall(r"room for ([\d.]+)", line)]
    assert rooms == [4.0, 5.0]
    assert "1.00" in lines[0]
    assert "0.50" in lines[1]


@pytest.mark.redis
async def test_a_bare_round_trip_is_measured_on_the_redis_given(redis_url: str) -> None:
    figures = await round_trip.measure(redis_url, count=200, in_flight=10)
    assert figures.sequential_ms > 0
    assert figures.in_flight_ms > 0
