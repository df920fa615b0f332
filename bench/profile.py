"""Where the project's time goes per update: `python -m bench.profile` under py-spy, or with
`--cprofile` (the timed run only, not the start-up: its functions by own time, and the calls per
update of each). The bench's sequential run of the project, CALLERS callers, on its own Redis.

    py-spy record -f raw -r 250 -o /tmp/stacks.txt -- python -m bench.profile
    python -m bench.profile --summarise /tmp/stacks.txt
    python -m bench.profile --cprofile [rows]

For a change of a few percent on a loaded machine, count instructions instead (bench.instructions).
cProfile counts every resumption of a coroutine as a call, so its call counts mean something for
plain functions only; and it slows Python code more than C code, so its shares are not py-spy's.
"""

from __future__ import annotations

import asyncio
import collections
import cProfile
import pstats
import sys
import time
from pathlib import Path

from bench import throughput
from bench.redis_server import running_redis
from bench.variants import PROJECT

CALLERS = 200
ROOT = str(Path(__file__).resolve().parent.parent) + "/"

# Stages of an update: a sample is booked to the stage whose frame is deepest in its stack
STAGES: tuple[tuple[str, str], ...] = (
    ("parse the update's JSON (aiogram types)", "feed (bench/variants.py"),
    ("aiogram dispatch, middlewares, routers", "feed_update (aiogram/dispatcher/dispatcher.py"),
    ("rate limit (Redis)", "check (bot/middlewares/ratelimit.py"),
    ("caller router, pipeline", "from_caller (bot/pipeline.py"),
    ("conversation lock (Redis)", "hold (flows/locks.py"),
    ("conversation lock (Redis)", "release (flows/locks.py"),
    ("dialogue: load", "load (flows/store.py"),
    ("dialogue: engine", "handle (flows/engine.py"),
    ("dialogue: commit (seal, encode, Lua)", "commit (flows/store.py"),
    ("delivery: other", "_run (bot/deliver.py"),
    ("delivery: read the outbox", "pending (flows/store.py"),
    ("delivery: record progress", "progress (bot/deliver.py"),
    ("delivery: acknowledge", "ack (flows/store.py"),
    ("delivery: render and send", "render (bot/render.py"),
    ("delivery: the desk's record", "case_event (bot/desk/desk.py"),
    ("the fake Bot API's answers (bench)", "_answer (bot/offline/session.py"),
    # redis-py writes each command from a callback of its own: no stage above it in the stack
    ("Redis: writing commands to the socket (all stages)", "_send_packed_command (redis/"),
    ("waiting on the selector (epoll)", "EpollSelector.select"),
)
# Layers: a sample is booked to the library of its innermost frame that has one
LAYERS: tuple[tuple[str, str], ...] = (
    ("socket writes (the Redis commands: a syscall each)", "_SelectorSocketTransport.write"),
    ("epoll", "EpollSelector.select"),
    ("pydantic (models, validation)", "pydantic"),
    ("redis-py (commands, replies, pool)", "redis/"),
    ("cryptography (sealing)", "cryptography"),
    ("json", "json/"),
    ("transitions (the FSM)", "transitions/"),
    ("fluent (texts)", "fluent/"),
    ("aiogram", "aiogram/"),
    ("the project (bot/, flows/)", "(bot/"),
    ("the project (bot/, flows/)", "(flows/"),
    ("asyncio", "asyncio/"),
)


def _stage(frames: list[str]) -> str:
    best, depth = "event loop, other", -1
    for label, marker in STAGES:
        for i in range(len(frames) - 1, depth, -1):
            if marker in frames[i]:
                best, depth = label, i
                break
    return best


def _layer(frames: list[str]) -> str:
    for frame in reversed(frames):
        for label, marker in LAYERS:
            if marker in frame:
                return label
    return "other"


def summarise(path: str) -> None:
    """Only samples of the event loop (the run), not of imports and start-up."""
    stages: collections.Counter[str] = collections.Counter()
    layers: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path) as raw:
        for line in raw:
            stack, _, count = line.rstrip().rpartition(" ")
            frames = stack.split(";")
            if not any("run_until_complete" in frame for frame in frames):
                continue
            n = int(count)
            total += n
            stages[_stage(frames)] += n
            layers[_layer(frames)] += n
    print(f"{total} samples on the CPU while updates ran; by stage of the update:")
    for label, n in stages.most_common():
        print(f"  {n / total:6.1%}  {label}")
    print("by library of the innermost frame:")
    for label, n in layers.most_common():
        print(f"  {n / total:6.1%}  {label}")


async def _run(url: str, profile: cProfile.Profile | None = None) -> int:
    await throughput.measure(url, PROJECT, 5, 1)  # warm
    if profile is not None:
        profile.enable()
    run, variant = await throughput.measure(url, PROJECT, CALLERS, 1)
    if profile is not None:
        profile.disable()
    await variant.close()
    print(f"{run.updates} updates, {run.per_second:.0f}/s", file=sys.stderr)
    return run.updates


def print_profile(profile: cProfile.Profile, updates: int, rows: int) -> None:
    stats = pstats.Stats(profile)
    entries = stats.stats  # type: ignore[attr-defined]  # pstats keeps them untyped
    total = sum(entry[2] for entry in entries.values())
    print(f"{total / updates * 1000:.2f} ms of CPU per update under cProfile; by own time:")
    print("  share  calls/update  function")
    by_own = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)
    for (path, line, name), (_, calls, own, _, _) in by_own[:rows]:
        where = path.split("site-packages/")[-1].removeprefix(ROOT)
        print(f"  {own / total:5.1%}  {calls / updates:12.2f}  {name} ({where}:{line})")


def main() -> None:
    if sys.argv[1:2] == ["--summarise"]:
        summarise(sys.argv[2])
        return
    # the process's CPU time, not the wall clock: waiting on Redis is not the bot's time
    cpu = cProfile.Profile(time.process_time)
    profile = cpu if sys.argv[1:2] == ["--cprofile"] else None
    with running_redis(aof=True) as url:
        updates = asyncio.run(_run(url, profile))
    if profile is not None:
        print_profile(profile, updates, int(sys.argv[2]) if len(sys.argv) > 2 else 40)


if __name__ == "__main__":
    main()
