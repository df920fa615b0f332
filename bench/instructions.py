"""Instructions per update (valgrind's callgrind), the bot process's user-space part only: the one
figure of CPU cost that other work on the machine does not move, to tell a change of a few
percent from noise. The timed run alone is counted (callgrind_control zeroes the counters
before it and dumps them after it), a sequential run of CALLERS callers on its own Redis.

    python -m bench.instructions [project|baseline] [callers]

Slow (the interpreter runs some fifty times slower under valgrind: minutes for 30 callers).
It counts instructions, not cycles: code that misses the caches more costs more time than
its count says, so compare a change with the same variant, and CPU ms (bench.bot_bench) too.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import throughput
from bench.redis_server import running_redis
from bench.variants import PROJECT

UNDER = "HOTLINE_UNDER_CALLGRIND"
CALLERS = 30


def _control(flag: str) -> None:
    subprocess.run(["callgrind_control", flag, str(os.getpid())], check=True, capture_output=True)


async def _counted(url: str, name: str, callers: int) -> int:
    _, variant = await throughput.measure(url, name, 3, 1)  # warm
    await variant.close()
    _control("-z")
    run, variant = await throughput.measure(url, name, callers, 1)
    _control("-d")
    await variant.close()
    return run.updates


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else PROJECT
    callers = int(sys.argv[2]) if len(sys.argv) > 2 else CALLERS
    if os.environ.get(UNDER):
        with running_redis(aof=True) as url:
            print(f"updates {asyncio.run(_counted(url, name, callers))}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            *("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"),
            *(sys.executable, "-m", "bench.instructions", name, str(callers)),
        ]
        done = subprocess.run(
            command, env={**os.environ, UNDER: "1"}, capture_output=True, text=True, check=True
        )
        updates = int(re.findall(r"^updates (\d+)$", done.stdout, re.MULTILINE)[-1])
        dump = Path(f"{out}.1").read_text()
        total = int(re.findall(r"^(?:summary|totals): (\d+)", dump, re.MULTILINE)[0])
    print(f"{name}: {total / updates / 1e6:.2f}M instructions per update ({updates} updates)")


if __name__ == "__main__":
    main()
