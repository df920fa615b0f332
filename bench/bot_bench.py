"""The project next to a plain aiogram 3 FSM bot doing the same dialogue: speed, Redis traffic,
memory and a burst (`make bench`; a figure printer, never pass/fail).

Both bots run the same 17-update registration (bench/dialogue.py) and make the same Bot API
calls, checked before anything is timed, on one redis-server of the benchmark's own (loopback,
AOF everysec) and a no-network Bot session each (bench/session.py). The baseline is
bench/baseline.py: `RedisStorage` + `RedisEventIsolation`, async filters only.

- updates/s: CALLERS callers x 17 updates, sequentially and IN_FLIGHT callers at a time, RUNS
  runs of each bot interleaved (the medians are printed); latency is from an update's arrival
  to its last reply, p50/p99 per run, median over runs; CPU is this process's per update.
- Redis: round trips the client makes and commands the server runs (INFO commandstats, the
  commands inside Lua counted), per update; bytes (MEMORY USAGE) and keys per idle registered
  conversation: every key in Redis after the callers finished, over their number.
- the budget: what 2.0x the baseline's updates/s leaves per update once aiogram alone has had
  its share, counted in bare round trips (bench/round_trip.py, measured in the same run).
- RSS growth per distinct caller, RSS_CALLERS callers who only sent /start (bench/rss.py, a
  process per bot, both at once, on a Redis of their own, beside the project's burst).
- an escalation (the project only: the baseline has no operator desk): ESCALATION_CALLERS
  registered callers each ask for an operator and write twice, relayed into the topic; round
  trips and commands per update of it, the desk's work for each update counted with it
  (bench/escalation.py).
- the burst: BURST_CALLERS send /start at once, fetched by the bot's own polling from a fake
  Bot API that answers every 50th post 429 (bench/burst.py), in real time.

Knobs (environment): BENCH_RUNS (5), BENCH_CALLERS (200), BENCH_IN_FLIGHT (100),
BENCH_RSS_CALLERS (30000: 100000, the issue's figure, takes some 4 minutes more),
BENCH_BURST_CALLERS (1000), BENCH_ESCALATION_CALLERS (50); 0 skips the RSS, burst or
escalation part.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import redis.asyncio

from bench import burst, escalation, round_trip, throughput
from bench.dialogue import CALLS_PER_UPDATE, ESCALATION, REGISTRATION
from bench.redis_server import HASH_LISTPACK_VALUE, running_redis
from bench.variants import ALONE, BASELINE, PROJECT, TUNED

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
CALLERS = int(os.environ.get("BENCH_CALLERS", "200"))
IN_FLIGHT = int(os.environ.get("BENCH_IN_FLIGHT", "100"))
RSS_CALLERS = int(os.environ.get("BENCH_RSS_CALLERS", "30000"))
BURST_CALLERS = int(os.environ.get("BENCH_BURST_CALLERS", "1000"))
ESCALATION_CALLERS = int(os.environ.get("BENCH_ESCALATION_CALLERS", "50"))
NAMES = (PROJECT, BASELINE)


@dataclass
class Results:
    runs: dict[tuple[str, int], list[throughput.Run]] = field(
        default_factory=lambda: defaultdict(list)
    )
    cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    idle: dict[str, tuple[float, float]] = field(default_factory=dict)
    idle_later: dict[str, tuple[float, float]] = field(default_factory=dict)  # timed ones gone
    burst: dict[str, burst.BurstFigures] = field(default_factory=dict)
    rss: dict[str, dict[str, float]] = field(default_factory=dict)
    escalation: escalation.EscalationFigures | None = None
    round_trip: round_trip.RoundTrip | None = None
    redis_version: str = ""


async def _check() -> None:
    expected = [list(step.calls) for step in REGISTRATION]
    for name in NAMES:
        got = [[method for method, _ in calls] for calls in await throughput.check(URL, name)]
        if got != expected:
            raise SystemExit(f"{name} does not make the dialogue's Bot API calls: {got}")
    if ESCALATION_CALLERS:
        await escalation.check(URL)


async def _timed(results: Results) -> None:
    for run in range(RUNS):
        for in_flight in (1, IN_FLIGHT):
            order = (*NAMES, ALONE, TUNED) if run % 2 == 0 else (TUNED, ALONE, *NAMES[::-1])
            for name in order:
                figures, variant = await throughput.measure(URL, name, CALLERS, in_flight)
                results.cpu[name].append(figures.cpu_seconds / figures.updates)
                results.runs[name, in_flight].append(figures)
                if name in NAMES and name not in results.idle:
                    results.idle[name] = await throughput.idle_memory(URL, CALLERS)
                    await variant.expire_timed()
                    results.idle_later[name] = await throughput.idle_memory(URL, CALLERS)
                await variant.close()


async def _burst(results: Results, name: str) -> None:
    logging.getLogger("aiogram").setLevel(logging.CRITICAL)  # the baseline's lost updates
    logging.getLogger("hotline").setLevel(logging.WARNING)
    results.burst[name] = await burst.run(name, URL, BURST_CALLERS)


def _start_rss(url: str) -> dict[str, subprocess.Popen[str]]:
    return {
        name: subprocess.Popen(
            [sys.executable, "-m", "bench.rss", name, url, str(RSS_CALLERS)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in NAMES
    }


def _collect_rss(results: Results, children: dict[str, subprocess.Popen[str]]) -> None:
    for name, child in children.items():
        out, _ = child.communicate()
        if child.returncode != 0:
            raise SystemExit(f"bench.rss {name} failed")
        results.rss[name] = json.loads(out.strip().splitlines()[-1])


async def _redis_version() -> str:
    client = redis.asyncio.Redis.from_url(URL)
    try:
        return str((await client.info("server"))["redis_version"])
    finally:
        await client.aclose()


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _pct(run: throughput.Run, q: int) -> float:
    return statistics.quantiles(run.latencies, n=100)[q - 1] * 1e3


def _row(label: str, project: str, baseline: str, note: str = "") -> str:
    return f"{label:<46}{project:>12}{baseline:>12}  {note}"


def _seconds(value: float) -> str:
    return "never" if value == float("inf") else f"{value:.1f}"


def report(results: Results) -> list[str]:
    lines = [
        "bot_bench: the project next to a plain aiogram 3 FSM bot (RedisStorage + "
        "RedisEventIsolation, async filters only)",
        f"  same dialogue ({len(REGISTRATION)} updates of a registration, {CALLS_PER_UPDATE:.2f} "
        f"Bot API calls per update), redis-server {results.redis_version} (loopback, AOF "
        f"everysec, hash-max-listpack-value {HASH_LISTPACK_VALUE} as in compose.yaml), "
        f"no-network Bot session; {CALLERS} callers, medians of {RUNS} interleaved runs",
        _row("", "project", "baseline", "project/baseline"),
    ]

    def both(key: int, get: Callable[[throughput.Run], float]) -> tuple[float, float]:
        project, baseline = (_median([get(r) for r in results.runs[n, key]]) for n in NAMES)
        return project, baseline

    for key, what in ((1, "sequential"), (IN_FLIGHT, f"{IN_FLIGHT} in flight")):
        p, b = both(key, lambda r: r.per_second)
        lines.append(_row(f"updates/s, {what}", f"{p:,.0f}", f"{b:,.0f}", f"{p / b:.2f}x"))
        for q in (50, 99):
            p, b = both(key, functools.partial(_pct, q=q))
            lines.append(_row(f"  latency p{q}, ms, {what}", f"{p:.2f}", f"{b:.2f}"))
    for key, what in ((1, "sequential"), (IN_FLIGHT, f"{IN_FLIGHT} in flight")):
        alone = _median([r.per_second for r in results.runs[ALONE, key]])
        b = _median([r.per_second for r in results.runs[BASELINE, key]])
        lines.append(
            _row(f"  aiogram alone, no Redis, {what}", "", f"{alone:,.0f}", f"{alone / b:.2f}x")
        )
    lines.append(
        "    (the baseline's bot on MemoryStorage: aiogram, the dialogue's texts and checks and"
        " the same Bot API calls; no aiogram bot of this dialogue goes faster)"
    )
    for key, what in ((1, "sequential"), (IN_FLIGHT, f"{IN_FLIGHT} in flight")):
        tuned = _median([r.per_second for r in results.runs[TUNED, key]])
        p = _median([r.per_second for r in results.runs[PROJECT, key]])
        label = f"  baseline, the project's collector, {what}"
        lines.append(_row(label, "", f"{tuned:,.0f}", f"project {p / tuned:.2f}x"))
    lines.append(
        "    (the baseline in a process with bot.gc_tuning's settings, as `hotline run` serves:"
        " start-up frozen, young collections 10,000 apart)"
    )
    p, b = (_median(results.cpu[n]) * 1e3 for n in NAMES)
    lines.append(_row("CPU of the bot process per update, ms", f"{p:.2f}", f"{b:.2f}"))
    alone = _median(results.cpu[ALONE]) * 1e3
    lines.append(_row("  aiogram alone, no Redis", "", f"{alone:.2f}"))
    tuned = _median(results.cpu[TUNED]) * 1e3
    lines.append(_row("  baseline, the project's collector", "", f"{tuned:.2f}"))
    p, b = both(1, lambda r: r.round_trips / r.updates)
    lines.append(_row("Redis round trips per update", f"{p:.2f}", f"{b:.2f}"))
    run = results.runs[PROJECT, 1][0]
    sources = ", ".join(
        f"{name.rpartition('.')[0].rpartition('.')[2]}.{name.rpartition('.')[2]} "
        f"{n / run.updates:.2f}"
        for name, n in run.by_source.most_common(10)
    )
    lines.append(f"  project, by source: {sources}")
    if results.round_trip is not None:
        lines += _budget_rows(results, results.round_trip)
    p, b = both(1, lambda r: r.server_commands / r.updates)
    lines.append(_row("Redis commands run by the server per update", f"{p:.2f}", f"{b:.2f}"))
    for name in NAMES:
        run = results.runs[name, 1][0]
        kinds = ", ".join(
            f"{cmd} {n / run.updates:.2f}" for cmd, n in run.by_command.most_common(8) if n > 0
        )
        lines.append(f"  {name}: {kinds}")
    (pb, pk), (bb, bk) = (results.idle[n] for n in NAMES)
    lines.append(_row("idle registered conversation: bytes", f"{pb:,.0f}", f"{bb:,.0f}"))
    lines.append(_row("idle registered conversation: keys", f"{pk:.1f}", f"{bk:.1f}"))
    (pb, pk), (bb, bk) = (results.idle_later[n] for n in NAMES)
    label = "  once the code message went in time: bytes, keys"
    lines.append(_row(label, f"{pb:,.0f}, {pk:.1f}", f"{bb:,.0f}, {bk:.1f}"))
    if results.escalation is not None:
        lines += _escalation_rows(results.escalation)
    if results.rss:
        pr, br = (results.rss[n] for n in NAMES)
        lines.append(
            _row(
                f"RSS growth per distinct caller, {RSS_CALLERS:,} /start",
                f"{pr['bytes_per_caller']:.0f}",
                f"{br['bytes_per_caller']:.0f}",
                "bytes",
            )
        )
        if "idle_bytes_per_caller" in pr:
            lines.append(
                _row(
                    "  the same a minute later (rate-limit windows over)",
                    f"{pr['idle_bytes_per_caller']:.0f}",
                    f"{br.get('idle_bytes_per_caller', br['bytes_per_caller']):.0f}",
                    "bytes",
                )
            )
    if results.burst:
        pf, bf = (results.burst[n] for n in NAMES)
        floor = BURST_CALLERS / burst.FLOOR_PER_SECOND
        per_chat = len(REGISTRATION[0].calls)
        lines += [
            f"burst: {BURST_CALLERS:,} callers send /start at once, fetched by the bot's own "
            f"polling (project: bot/polling.py) from a fake Bot API answering every "
            f"{burst.RETRY_EVERY}th post 429 (retry_after {burst.RETRY_AFTER} s); real time",
            _row(
                "  seconds until every caller's first reply",
                _seconds(pf.first_replies),
                _seconds(bf.first_replies),
                f"floor {floor:.1f} s ({BURST_CALLERS} / 30)",
            ),
            _row(
                f"  seconds until all {per_chat} replies of every caller",
                _seconds(pf.all_replies),
                _seconds(bf.all_replies),
                f"floor {floor * per_chat:.1f} s",
            ),
            _row(
                "  most calls in any 1-second window",
                str(pf.most_per_second),
                str(bf.most_per_second),
                "Telegram allows 30",
            ),
            _row("  429s answered", str(pf.refused), str(bf.refused)),
            _row(
                "  messages lost / sent twice",
                f"{pf.lost}/{pf.doubled}",
                f"{bf.lost}/{bf.doubled}",
            ),
            _row("  chats the throttle still remembers after", str(pf.remembered_chats), "-"),
        ]
    return lines


def _budget_rows(results: Results, bare: round_trip.RoundTrip) -> list[str]:
    """What 2.0x the baseline's updates/s leaves per update after aiogram alone, in bare round
    trips (bench/round_trip.py): the most a bot at 2.0x could make with nothing else to do."""
    lines = []
    modes = (
        (1, "sequential", bare.sequential_ms),
        (IN_FLIGHT, f"{IN_FLIGHT} in flight", bare.in_flight_ms),
    )
    for key, what, trip in modes:
        goal = 1e3 / (2 * _median([r.per_second for r in results.runs[BASELINE, key]]))
        alone = 1e3 / _median([r.per_second for r in results.runs[ALONE, key]])
        note = (
            f"aiogram alone {alone:.2f}, a bare round trip {trip:.3f}: room for "
            f"{(goal - alone) / trip:.1f} of them and nothing else"
        )
        lines.append(
            _row(f"  ms per update at 2.0x the baseline, {what}", "", f"{goal:.2f}", note)
        )
    return lines


def _escalation_rows(figures: escalation.EscalationFigures) -> list[str]:
    per = figures.updates
    commands = figures.server_commands / per
    sources = ", ".join(
        f"{name.rpartition('.')[0].rpartition('.')[2]}.{name.rpartition('.')[2]} {n / per:.2f}"
        for name, n in figures.by_source.most_common(12)
    )
    kinds = ", ".join(
        f"{cmd} {n / per:.2f}" for cmd, n in figures.by_command.most_common(8) if n > 0
    )
    return [
        f"escalation, project only (the baseline has no desk): {figures.callers} registered "
        f"callers, /operator and two messages relayed into the topic ({len(ESCALATION)} updates)",
        _row("  Redis round trips per update", f"{figures.round_trips / per:.2f}", "-"),
        "    by update: "
        + ", ".join(f"{s.value!r} {figures.per_step(i):.2f}" for i, s in enumerate(ESCALATION)),
        f"    by source: {sources}",
        _row("  Redis commands run by the server per update", f"{commands:.2f}", "-"),
        f"    {kinds}",
    ]


URL = ""


def main() -> None:
    global URL
    results = Results()
    started = time.perf_counter()
    with running_redis(aof=True) as url, running_redis(aof=True) as rss_url:
        URL = url

        async def timed() -> None:
            results.redis_version = await _redis_version()
            await _check()
            await _timed(results)
            results.round_trip = await round_trip.measure(URL)

        asyncio.run(timed())
        if ESCALATION_CALLERS:
            results.escalation = asyncio.run(escalation.measure(URL, ESCALATION_CALLERS))
        if BURST_CALLERS:  # the baseline's burst computes all at once: on a machine to itself
            asyncio.run(_burst(results, BASELINE))
        # memory is not timed: its processes (a Redis of their own) run beside the project's
        # burst, which waits on Telegram's limits far more than it computes
        children = _start_rss(rss_url) if RSS_CALLERS else {}
        if BURST_CALLERS:
            asyncio.run(_burst(results, PROJECT))
        _collect_rss(results, children)
    for line in report(results):
        print(line)
    print(f"  ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
