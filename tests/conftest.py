"""Shared fixtures: a real Redis server, fakeredis, sealing keys and the store on both backends."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import AsyncIterator, Iterator

import fakeredis
import pytest
import redis.asyncio
import structlog

from bench.redis_server import MISSING, running_redis
from bot import logs as bot_logs
from bot.redis_url import connect
from flows.sealing import Pseudonymizer, Sealer, SealKey
from flows.store import ConversationStore
from tests import exploration  # noqa: F401  (loads the hypothesis profile first)
from tests.redis_cluster import ClusterUnavailable, running_cluster

TEST_SEAL_KEY = SealKey("test1", bytes(range(32)))
TEST_ID_SECRET = b"test-id-secret-not-for-production"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A redis-server of our own on a free loopback port, for the whole session; with
    HOTLINE_TEST_REDIS=cluster a 3-master Redis Cluster instead (`make chaos`)."""
    if shutil.which("redis-server") is None:
        pytest.fail(MISSING, pytrace=False)
    if os.environ.get("HOTLINE_TEST_REDIS") == "cluster":
        try:
            with running_cluster() as url:
                yield url
        except ClusterUnavailable as exc:
            pytest.skip(f"redis-server cannot run cluster mode here: {exc}")
        return
    with running_redis() as url:
        yield url


@pytest.fixture
async def real_redis(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A client of the real server (or cluster), emptied first."""
    client = connect(redis_url)
    await client.flushall()
    yield client
    await client.aclose()


@pytest.fixture
async def fake_redis() -> AsyncIterator[fakeredis.FakeAsyncRedis]:
    client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    yield client
    await client.aclose()


@pytest.fixture
def sealer() -> Sealer:
    return Sealer([TEST_SEAL_KEY])


@pytest.fixture
def ids() -> Pseudonymizer:
    return Pseudonymizer(TEST_ID_SECRET)


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.redis)])
def redis_backend(request: pytest.FixtureRequest) -> redis.asyncio.Redis:
    """The same client interface on fakeredis and on the real server."""
    client: redis.asyncio.Redis = request.getfixturevalue(f"{request.param}_redis")
    return client


@pytest.fixture
def store(
    redis_backend: redis.asyncio.Redis, sealer: Sealer, ids: Pseudonymizer
) -> ConversationStore:
    return ConversationStore(redis_backend, sealer, ids)


class CollectLogs(logging.Handler):
    """Every log line as the deployment would write it (same configuration, same redaction)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(bot_logs.formatter())
        self.addFilter(bot_logs.Redact())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # includes exc_info and stack text


@pytest.fixture
def logs() -> Iterator[CollectLogs]:
    """The production logging configuration at DEBUG, with every line collected."""
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    bot_logs.configure("DEBUG")
    handler = CollectLogs()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.captureWarnings(False)
        structlog.reset_defaults()
    for line in handler.lines:  # every line a deployment writes is one JSON object
        assert isinstance(json.loads(line), dict), line
