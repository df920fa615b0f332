"""`make test`'s short run on a 3-master Redis Cluster (`make chaos` runs the whole store and
e2e suites on one): a registration, a linked re-call and the erasure of the case, every key
of each atomic step in one slot, the indexes in others."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio

from bot.redis_url import connect
from tests.e2e.conftest import Caller, HotlineFactory, kept_after_erase, register, t
from tests.redis_cluster import ClusterUnavailable, running_cluster


@pytest.fixture(scope="module")
def cluster_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if os.environ.get("HOTLINE_TEST_REDIS") == "cluster":  # the session's (make chaos)
        yield request.getfixturevalue("redis_url")
        return
    try:
        with running_cluster() as url:
            yield url
    except ClusterUnavailable as exc:
        pytest.skip(f"redis-server cannot run cluster mode here: {exc}")


@pytest.fixture
async def cluster(cluster_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = connect(cluster_url)
    await client.flushall()
    yield client
    await client.aclose()


async def test_a_case_from_registration_to_forget_on_a_cluster(
    cluster: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(cluster)
    owner = Caller(hotline, 100_500_001, "ru")
    hotline.callers.append(owner)
    code = await register(owner)
    assert await hotline.app.store.find_case(hotline.app.store.digest("code", code))
    await owner.command("forget")
    assert owner.texts == [t("ru", "forget-done")]
    left = {k for k in await hotline.keys() if owner.key in k}
    assert left <= kept_after_erase(owner.key)
    await hotline.assert_erased(owner.key)
    assert not [k for k in await hotline.keys() if k.startswith(("hl:code:", "hl:case:"))]
