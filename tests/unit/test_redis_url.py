"""REDIS_URL: one server, Sentinel (master name) or Cluster (several seeds); a bad URL is one
clear line that never repeats the URL (it may hold a password)."""

from __future__ import annotations

import base64
import os

import pytest
from pydantic import SecretStr
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import SentinelConnectionPool

from bot.app import build_app
from bot.offline.session import RecordingSession
from bot.redis_url import POOL_SIZE, RedisTarget, connect, parse
from bot.settings import Settings, SettingsError
from flows.sealing import new_key


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("redis://r:6380/2", RedisTarget("server", False, (("r", 6380),), db=2)),
        (
            "rediss://bot:p%40ss@r",
            RedisTarget("server", True, (("r", 6379),), username="bot", password="p@ss"),
        ),
        (
            "redis+sentinel://:pw@s1:26379,s2,[::1]:26380/hotline/1",
            RedisTarget(
                "sentinel",
                False,
                (("s1", 26379), ("s2", 26379), ("::1", 26380)),
                password="pw",
                db=1,
                master="hotline",
            ),
        ),
        (
            "redis+cluster://bot:pw@n1:7000,n2:7001,n3:7002",
            RedisTarget(
                "cluster",
                False,
                (("n1", 7000), ("n2", 7001), ("n3", 7002)),
                username="bot",
                password="pw",
            ),
        ),
    ],
)
def test_each_kind_of_url_is_understood(url: str, target: RedisTarget) -> None:
    assert parse(url) == target


@pytest.mark.parametrize(
    "url",
    [
        "localhost:6379",
        "http://r:6379",
        "redis+sentinel://s1:26379",  # no master name
        "redis://a:1,b:2",  # several hosts need sentinel or cluster
        "redis+cluster://n1:7000/3",  # a cluster has database 0 only
        "redis://secret-pass@r:notaport",
        "redis://r:99999",
    ],
)
def test_a_bad_url_is_one_line_without_the_url(url: str) -> None:
    with pytest.raises(SettingsError, match="setting REDIS_URL") as info:
        parse(url)
    assert "secret-pass" not in str(info.value)
    assert url not in str(info.value)


async def test_each_kind_gives_its_client_with_a_bounded_pool() -> None:
    server = connect("redis://127.0.0.1:6399/0")
    assert isinstance(server.connection_pool, BlockingConnectionPool)
    assert server.connection_pool.max_connections == POOL_SIZE
    sentinel = connect("redis+sentinel://127.0.0.1:26399/hotline")
    assert isinstance(sentinel, Redis)
    assert isinstance(sentinel.connection_pool, SentinelConnectionPool)
    cluster = connect("redis+cluster://127.0.0.1:7999,127.0.0.1:7998")
    assert isinstance(cluster, RedisCluster)
    for client in (server, sentinel):
        await client.aclose()


def test_min_replicas_is_refused_with_a_cluster() -> None:
    """WAIT counts the writes of one connection: a cluster client spreads them over nodes, so
    the promise could not be kept, and the bot says so instead of pretending."""
    settings = Settings(
        redis_url=SecretStr("redis+cluster://127.0.0.1:7999"),
        redis_min_replicas=1,
        hotline_seal_keys=SecretStr(new_key()),
        hotline_id_key=SecretStr(base64.b64encode(os.urandom(32)).decode()),
    )
    with pytest.raises(SettingsError, match="REDIS_MIN_REPLICAS"):
        build_app(settings, session=RecordingSession())
