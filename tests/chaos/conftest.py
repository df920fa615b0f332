"""Fixtures of the fault tests: the emulator, the processes (stopped at the end, whatever
happened), the reference dialogue, and how many faults to inject.

`make test` runs each fault test small (a few faults, a few hundred requests); `make chaos`
runs them in full (HOTLINE_CHAOS=full: 20 kills, 1,000 requests at once...).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.chaos.dialogue import Step, reference
from tests.chaos.emulator import BotApiEmulator
from tests.chaos.processes import BotProcess, RedisProcess, processes

FULL = os.environ.get("HOTLINE_CHAOS") == "full"


def scale(small: int, full: int) -> int:
    return full if FULL else small


@pytest.fixture(autouse=True)
def _needs_redis_server() -> None:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run `make redis-server`", pytrace=False)


@pytest.fixture
def started() -> Iterator[list[RedisProcess | BotProcess]]:
    with processes() as running:
        yield running


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator().running() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def steps_cache() -> dict[int, list[Step]]:
    return {}


@pytest.fixture
async def steps(steps_cache: dict[int, list[Step]]) -> list[Step]:
    if 0 not in steps_cache:
        steps_cache[0] = await reference()
    return steps_cache[0]
