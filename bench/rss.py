"""Process memory per distinct caller: RSS growth after many callers who each sent only /start.

Runs in a fresh process per variant (`python -m bench.rss VARIANT REDIS_URL CALLERS`), so one
variant's heap does not hide or inflate the other's. A warm-up of WARMUP callers first (imports,
caches, pools and the allocator's arenas settle), then RSS; then CALLERS new callers, IN_FLIGHT
at a time, every reply awaited and deliveries settled; then RSS again. Prints JSON.

Both run without a throttle (the baseline has none, and Telegram's 30 messages a second would
make this take an hour; what the project's throttle keeps per chat is shown by the burst). A
second figure is taken after the project's clock is moved on a minute and one more caller came:
what is kept per caller for a minute (a rate-limit window) is then over.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time

from bench.dialogue import START, Updates, callers
from bench.variants import BUILD, PROJECT, Variant

WARMUP = 5_000
IN_FLIGHT = 100


def rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def starts(variant: Variant, first: int, count: int, updates: Updates) -> None:
    queue = iter(callers(count, first))
    calls = len(START[0].calls)

    async def worker() -> None:
        for user in queue:
            (update,) = updates.of(user, START)
            await variant.feed(update, calls)

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    await variant.settle()


class Clock:
    """The project's clock: the real time, moved on when the benchmark says a minute passed."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


async def measure(name: str, url: str, count: int) -> dict[str, float]:
    clock = Clock()
    variant = BUILD[name](url, clock=clock) if name == PROJECT else BUILD[name](url)
    updates = Updates()
    with variant.process():
        await starts(variant, 1, WARMUP, updates)
        gc.collect()
        before = rss_bytes()
        started = time.perf_counter()
        await starts(variant, 10_000_000_000, count, updates)
        seconds = time.perf_counter() - started
        gc.collect()
        after = rss_bytes()
        # a minute later (the project's clock moved on; the baseline keeps no time), one more
        clock.ahead += 61.0
        await starts(variant, 20_000_000_000, 1, updates)
        gc.collect()
        later = rss_bytes()
    await variant.close()
    return {
        "bytes_per_caller": (after - before) / count,
        "idle_bytes_per_caller": (later - before) / count,
        "seconds": seconds,
        "callers": count,
    }


def main() -> None:
    name, url, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(asyncio.run(measure(name, url, count))))


if __name__ == "__main__":
    main()
