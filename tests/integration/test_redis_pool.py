"""The pool of a single Redis server (bot.redis_pool.LeanBlockingPool), on a real server: a
free connection is taken and given back without the blocking pool's condition; when none is
free, a command waits for one (up to the pool's timeout), as with redis-py's own
BlockingConnectionPool. Its connections write in place (no task per write) and refuse a write
that does not end, or fails, as redis-py's own connections do."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.redis_pool import LeanBlockingPool, LeanConnection
from bot.redis_url import connect

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        os.environ.get("HOTLINE_TEST_REDIS") == "cluster",
        reason="a cluster client keeps a pool per node of its own",
    ),
]


class Untouchable:
    """Stands in for the blocking pool's condition: any use of it fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the pool's condition was used ({name})")


@pytest.fixture
async def pool(redis_url: str) -> AsyncIterator[LeanBlockingPool]:
    pool = LeanBlockingPool.from_url(redis_url, max_connections=2, timeout=5)
    yield pool
    await pool.aclose()


def client_of(pool: LeanBlockingPool) -> redis.asyncio.Redis:
    return redis.asyncio.Redis(connection_pool=pool)


async def test_the_production_client_runs_a_sequence_on_one_connection(redis_url: str) -> None:
    client = connect(redis_url)
    try:
        pool = client.connection_pool
        assert isinstance(pool, LeanBlockingPool)
        await client.delete("pool:count")
        for _ in range(50):
            await client.incr("pool:count")
        assert await client.get("pool:count") == b"50"
        assert not pool._in_use_connections
        assert len(pool._available_connections) == 1
    finally:
        await client.aclose()


async def test_a_free_connection_is_taken_and_given_back_without_the_condition(
    pool: LeanBlockingPool,
) -> None:
    client = client_of(pool)
    await client.set("pool:k", "v")  # the first connection is made the blocking pool's way
    pool._condition = Untouchable()  # type: ignore[assignment]
    for _ in range(10):
        assert await client.get("pool:k") == b"v"
    assert len(pool._available_connections) == 1


async def test_with_every_connection_taken_a_command_waits_for_one(
    pool: LeanBlockingPool,
) -> None:
    client = client_of(pool)
    first, second = await pool.get_connection(), await pool.get_connection()

    async def write() -> None:
        await client.set("pool:w", "done")

    waiting = asyncio.create_task(write())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await pool.release(first)  # the waiter is woken, though nothing else waits
    await asyncio.wait_for(waiting, 5)
    assert await client.get("pool:w") == b"done"
    await pool.release(second)
    assert not pool._in_use_connections


async def test_and_gives_up_after_the_pool_timeout(redis_url: str) -> None:
    pool = LeanBlockingPool.from_url(redis_url, max_connections=1, timeout=0.2)
    try:
        held = await pool.get_connection()
        with pytest.raises(RedisConnectionError, match="No connection available"):
            await client_of(pool).get("pool:k")
        await pool.release(held)
        assert await client_of(pool).get("pool:nothing") is None
    finally:
        await pool.aclose()


async def test_many_commands_at_once_share_the_pool_s_connections(
    pool: LeanBlockingPool,
) -> None:
    client = client_of(pool)
    await client.delete("pool:many")
    await asyncio.gather(*(client.incr("pool:many") for _ in range(200)))
    assert await client.get("pool:many") == b"200"
    assert not pool._in_use_connections
    assert len(pool._available_connections) <= 2


class Stuck:
    """A connection's writer whose writes never end, or fail, as a peer that stops reading or
    a broken socket does; closing closes the real one."""

    def __init__(self, real: Any, error: OSError | None = None) -> None:
        self.real = real
        self.error = error

    def writelines(self, chunks: Any) -> None:
        pass

    async def drain(self) -> None:
        if self.error is not None:
            raise self.error
        await asyncio.Event().wait()

    def close(self) -> None:
        self.real.close()

    async def wait_closed(self) -> None:
        await self.real.wait_closed()


async def _write_through(cls: type[Connection], redis_url: str, error: OSError | None) -> str:
    """What a write through a connection of `cls` that never ends (or fails) raises, and
    that the connection is left closed."""
    connection = cls(**_address(redis_url))
    connection.socket_timeout = 0.2
    await connection.connect()  # type: ignore[no-untyped-call]
    connection._writer = Stuck(connection._writer, error)  # type: ignore[assignment]
    with pytest.raises((RedisTimeoutError, RedisConnectionError)) as raised:
        await connection.send_command("PING")
    assert not connection.is_connected
    return f"{type(raised.value).__name__}: {raised.value}"


def _address(redis_url: str) -> dict[str, Any]:
    host, port = redis_url.removeprefix("redis://").split("/")[0].split(":")
    return {"host": host, "port": int(port)}


@pytest.mark.parametrize(
    "error", [None, OSError(32, "Broken pipe"), OSError("gone")], ids=["stuck", "broken", "odd"]
)
async def test_a_write_that_does_not_end_or_fails_is_refused_as_redis_py_refuses_it(
    redis_url: str, error: OSError | None
) -> None:
    ours = await _write_through(LeanConnection, redis_url, error)
    theirs = await _write_through(Connection, redis_url, error)
    assert ours == theirs
    assert ("Timeout writing to socket" if error is None else "while writing to socket") in ours


async def test_the_production_client_writes_in_place(redis_url: str) -> None:
    client = connect(redis_url)
    try:
        assert client.connection_pool.connection_class is LeanConnection
        assert await client.set("pool:placed", "v")
        assert await client.get("pool:placed") == b"v"
    finally:
        await client.aclose()


async def test_new_connections_know_redis_pys_version_without_reading_metadata(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection made without driver info reads redis-py's package metadata (an email
    parse of its METADATA file) each time, for CLIENT SETINFO; the production client's
    connections are given it."""
    from importlib import metadata

    reads: list[str] = []
    version = metadata.version

    def counted(name: str) -> str:
        reads.append(name)
        return version(name)

    monkeypatch.setattr(metadata, "version", counted)
    client = connect(redis_url)
    try:
        await asyncio.gather(*(client.blpop(["hl:nothing"], timeout=0.05) for _ in range(8)))
        pool = client.connection_pool
        connections = [*pool._available_connections, *pool._in_use_connections]
    finally:
        await client.aclose()
    assert reads == []  # 8 connections made, metadata read by none
    assert len(connections) >= 8
    infos = [c.driver_info for c in connections]
    assert {i.lib_version for i in infos if i is not None} == {version("redis")}
    assert None not in infos
