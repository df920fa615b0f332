"""What one bare Redis round trip costs this process: redis-py running a script that returns 1
(no keys of the bot's, nothing to parse), on the bench's own Redis, sequentially and with many
in flight. bench/bot_bench.py sets it against what 2.0x the baseline's updates/s leaves per
update once aiogram alone has had its share: how many such round trips would fit, with no
other work at all.

Alone: `python -m bench.round_trip` (a Redis of its own, AOF everysec as deployed).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import redis.asyncio

from bench.redis_server import running_redis

ROUND_TRIPS = 10_000
IN_FLIGHT = 100
RUNS = 3


@dataclass(frozen=True, slots=True)
class RoundTrip:
    sequential_ms: float  # wall time of one, one at a time
    in_flight_ms: float  # wall time per round trip with IN_FLIGHT at a time (CPU-bound)


async def measure(url: str, count: int = ROUND_TRIPS, in_flight: int = IN_FLIGHT) -> RoundTrip:
    """Medians of RUNS runs of `count` round trips each way."""
    client = redis.asyncio.Redis.from_url(url)
    try:
        script = client.register_script("return 1")
        await script()  # loaded, connected

        async def some(n: int) -> None:
            for _ in range(n):
                await script(keys=["bench:round-trip"], args=[1, 2, 3])

        sequential, parallel = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            await some(count)
            sequential.append((time.perf_counter() - started) / count)
            started = time.perf_counter()
            await asyncio.gather(*(some(count // in_flight) for _ in range(in_flight)))
            parallel.append((time.perf_counter() - started) / (count // in_flight * in_flight))
        return RoundTrip(statistics.median(sequential) * 1e3, statistics.median(parallel) * 1e3)
    finally:
        await client.aclose()


def main() -> None:
    with running_redis(aof=True) as url:
        figures = asyncio.run(measure(url))
    print(
        f"one bare round trip: {figures.sequential_ms:.3f} ms sequentially, "
        f"{figures.in_flight_ms:.3f} ms with {IN_FLIGHT} in flight"
    )


if __name__ == "__main__":
    main()
