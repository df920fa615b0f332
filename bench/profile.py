"""Where the project's time goes per update: `python -m bench.profile` under py-spy, or alone
(cProfile). The bench's sequential run of the project, CALLERS callers, on its own Redis.

    py-spy record -f raw -r 250 -o /tmp/stacks.txt -- python -m bench.profile
    python -m bench.profile --summarise /tmp/stacks.txt
"""

from __future__ import annotations

import asyncio
import collections
import sys

from bench import throughput
from bench.redis_server import running_redis
from bench.variants import PROJECT

CALLERS = 200

# Parts of an update, innermost first: a sample is booked to the first whose frame it holds
PARTS: tuple[tuple[str, str], ...] = (
    ("redis-py: commands on the wire", "redis/asyncio/"),
    ("sealing (AES-GCM, keyed hashes)", "flows/sealing.py"),
    ("codec (outbox, meta to and from JSON)", "flows/codec.py"),
    ("the engine", "flows/engine.py"),
    ("pydantic: Update parsing, methods, results", "pydantic"),
    ("aiogram: Bot API call building and session", "aiogram/client/"),
    ("render: effects to Bot API calls", "bot/render.py"),
    ("delivery: outbox, progress, acks", "bot/deliver.py"),
    ("store: load and commit", "flows/store.py"),
    ("dialogue: load, engine, commit", "flows/dialogue.py"),
    ("middlewares: rate limit, store down, metrics", "bot/middlewares/"),
    ("aiogram: dispatch, routers, filters", "aiogram/dispatcher/"),
    ("asyncio event loop", "asyncio/"),
)


def summarise(path: str) -> None:
    parts: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path) as raw:
        for line in raw:
            stack, _, count = line.rstrip().rpartition(" ")
            frames = stack.split(";")
            n = int(count)
            total += n
            for label, marker in PARTS:
                if any(marker in frame for frame in frames):
                    parts[label] += n
                    break
            else:
                parts["other"] += n
    print(f"{total} samples on the CPU")
    for label, n in parts.most_common():
        print(f"  {n / total:6.1%}  {label}")


async def _run(url: str) -> None:
    await throughput.measure(url, PROJECT, 5, 1)  # warm
    run, variant = await throughput.measure(url, PROJECT, CALLERS, 1)
    await variant.close()
    print(f"{run.updates} updates, {run.per_second:.0f}/s", file=sys.stderr)


def main() -> None:
    if sys.argv[1:2] == ["--summarise"]:
        summarise(sys.argv[2])
        return
    with running_redis(aof=True) as url:
        asyncio.run(_run(url))


if __name__ == "__main__":
    main()
