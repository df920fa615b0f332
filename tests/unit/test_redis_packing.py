"""The project's Redis connections (bot.redis_pool.LeanWrites) pack a command into the very
bytes redis-py's own connection packs it into, whatever the arguments."""

from __future__ import annotations

import random
from typing import Any

import pytest
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from bot.redis_pool import LeanConnection

SAMPLES: list[tuple[Any, ...]] = [
    ("GET", "k"),
    ("SET", "k", "Петренко Иван", "PX", 60000),
    ("EVALSHA", "0" * 40, 2, "a", "b", -3, 1.5, 10**20, b"\x00\xff", ""),
    ("CONFIG GET", "maxmemory"),  # a command name of two words
    (b"CLIENT SETINFO", b"LIB-NAME", b"redis-py"),
    ("SET", "k", b"x" * 70_000),  # above redis-py's buffer cutoff
    ("SET", "k", memoryview(b"a view")),
    ("HSET", "k", "f", 7, "g", 10**30),  # all str and int: hiredis encodes them itself
]


def _both(args: tuple[Any, ...]) -> tuple[bytes, bytes]:
    ours, theirs = LeanConnection(), Connection()
    return b"".join(ours.pack_command(*args)), b"".join(theirs.pack_command(*args))


@pytest.mark.parametrize("args", SAMPLES, ids=[str(a[0]) for a in SAMPLES])
def test_a_command_is_packed_into_redis_py_s_bytes(args: tuple[Any, ...]) -> None:
    ours, theirs = _both(args)
    assert ours == theirs


def test_random_commands_are_packed_into_redis_py_s_bytes() -> None:
    rng = random.Random(12)
    values: list[Any] = ["", "ключ", "a b", 0, -1, 2**70, 0.1, 1e300, b"", b"\r\n", b"z" * 7000]
    for _ in range(500):
        args = ("EVALSHA", *(rng.choice(values) for _ in range(rng.randint(0, 40))))
        ours, theirs = _both(args)
        assert ours == theirs


@pytest.mark.parametrize("connection", [Connection, LeanConnection])
def test_what_redis_py_refuses_is_refused(connection: type[Connection]) -> None:
    with pytest.raises(DataError, match="Invalid input of type: 'bool'"):
        connection().pack_command("SET", "k", True)


@pytest.mark.parametrize("connection", [Connection, LeanConnection])
def test_a_string_utf_8_cannot_hold_is_refused(connection: type[Connection]) -> None:
    with pytest.raises(UnicodeEncodeError):
        connection().pack_command("SET", "k", "\ud800")
