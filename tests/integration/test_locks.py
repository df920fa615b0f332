"""Several processes on one Redis: the ticket lock of a conversation and the leases, with one
lock object per "process" (each has its own token), on fakeredis and the real server."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio

from flows.locks import Lease, LockTimeout, TicketLock

KEY = "conv-key"


def key_of(key: str, part: str) -> str:
    return f"hl:{{{key}}}:{part}"


async def test_waiting_updates_take_their_turn_in_telegrams_order(
    redis_backend: redis.asyncio.Redis,
) -> None:
    first, second, third = (TicketLock(redis_backend, key_of) for _ in range(3))
    order: list[int] = []
    holding = asyncio.Event()
    release = asyncio.Event()

    async def apply(lock: TicketLock, update_id: int) -> None:
        async with lock.hold(KEY, update_id):
            order.append(update_id)
            if update_id == 1:
                holding.set()
                await release.wait()

    busy = asyncio.create_task(apply(first, 1))
    await holding.wait()
    later = asyncio.create_task(apply(second, 9))  # arrives first, numbered later
    await asyncio.sleep(0.05)
    earlier = asyncio.create_task(apply(third, 5))
    await asyncio.sleep(0.05)
    assert order == [1]  # both wait while the turn is held
    release.set()
    await asyncio.gather(busy, later, earlier)
    assert order == [1, 5, 9]


async def test_one_update_at_a_time_across_processes(redis_backend: redis.asyncio.Redis) -> None:
    locks = [TicketLock(redis_backend, key_of) for _ in range(4)]
    inside = 0
    most = 0

    async def apply(lock: TicketLock, update_id: int) -> None:
        nonlocal inside, most
        async with lock.hold(KEY, update_id):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.005)
            inside -= 1

    await asyncio.gather(*(apply(locks[n % 4], n) for n in range(40)))
    assert most == 1


async def test_a_dead_holder_is_passed_over_once_its_turn_expires(
    redis_backend: redis.asyncio.Redis,
) -> None:
    dead = TicketLock(redis_backend, key_of, ttl=0.3)
    alive = TicketLock(redis_backend, key_of, ttl=0.3, wait_max=20)
    holder = dead.hold(KEY, 1)
    await holder.__aenter__()  # and the process dies: it never gives the turn back
    async with asyncio.timeout(20), alive.hold(KEY, 2):
        pass  # the turn came without the dead one
    keys = {k.decode() if isinstance(k, bytes) else k for k in await redis_backend.keys("*")}
    assert key_of(KEY, "turn") not in keys


async def test_a_waiter_gives_up_after_its_longest_wait(
    redis_backend: redis.asyncio.Redis,
) -> None:
    holder = TicketLock(redis_backend, key_of, ttl=30)
    waiter = TicketLock(redis_backend, key_of, wait_max=0.2)
    async with holder.hold(KEY, 1):
        with pytest.raises(LockTimeout):
            async with waiter.hold(KEY, 2):
                pass


async def test_a_lease_has_one_holder_until_it_lapses(
    redis_backend: redis.asyncio.Redis,
) -> None:
    one, other = Lease(redis_backend), Lease(redis_backend)
    assert await one.hold("hl:job:leader", 0.4) == 0
    assert await one.hold("hl:job:leader", 0.4) == 0  # renewed
    waits = await other.hold("hl:job:leader", 0.4)
    assert 0 < waits <= 0.4
    await asyncio.sleep(waits + 0.1)
    assert await other.hold("hl:job:leader", 5) == 0  # the first stopped renewing: taken over
    assert await one.hold("hl:job:leader", 5) > 0
    await other.release("hl:job:leader")
    assert await one.hold("hl:job:leader", 5) == 0
