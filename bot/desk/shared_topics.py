"""One topic per case across linked accounts.

A case registered from one account may be reached again from another (code and birth date:
flows.recall). Every account of the case writes in the same topic, under the same card: the
record of a registered case's conversation takes the case's topic when it has none (it is
made with the first, and any later account's record joins it). The topic talks to one account
at a time, the one that escalated last (or wrote, while the other's escalation is closed): the
topic index points at its conversation, and a line in the topic says so whenever it changes,
so an operator always knows whether he writes to the account that registered the case or to a
linked one (which may be a probe: flows.linking's notices say so).

When one account's data goes (its /forget, its withdrawal) while another still uses the topic,
the topic stays and only what showed that account goes: his relayed messages and what the
operators sent him (as for a deleted topic, "what he sent and what operators wrote about him
too"). Keys (nothing personal):

    {prefix}:casetopic:<case id>       hash  topic, card, and k:<conv key> = 1 for each
                                             conversation whose record uses the topic (it
                                             goes when the last one leaves)
    {prefix}:{<conv key>}:deskposts    zset  the group's messages showing what he sent
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from redis.asyncio.client import Pipeline

from bot.desk import record_scripts as scripts
from bot.desk.records import DeskCase, DeskState, Speaking
from bot.desk.scripted import Call

MEMBER: Final = "k:"
DELETE_BATCH: Final = 100  # deleteMessages takes at most 100 ids


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def registered(case: DeskCase) -> bool:
    """The case has its pseudonymous id (registered): other accounts may link to it."""
    return case.case != case.ref


class SharedTopics:
    def __init__(self, state: DeskState) -> None:
        self.state = state
        self.redis = state.redis
        self.prefix = state.store.prefix
        self._leave = self.redis.register_script(scripts.LEAVE_SHARED)
        self._join = self.redis.register_script(scripts.JOIN_SHARED)

    def case_key(self, case_id: str) -> str:
        return f"{self.prefix}:casetopic:{case_id}"

    def posts_key(self, key: str) -> str:
        return self.state.store.key(key, "deskposts")

    def to_read(self, case: DeskCase) -> list[str]:
        """What `of_case` reads first, for a read made beforehand (none if it reads nothing)."""
        return [self.case_key(case.case)] if registered(case) and case.topic is None else []

    async def of_case(
        self, case: DeskCase, read: Mapping[str, str] | None = None
    ) -> tuple[int, int] | None:
        """The case's topic and card, while the topic still has a conversation to talk to
        (`read`: the case's hash, read already)."""
        if not registered(case):
            return None
        if read is None:
            read = {
                _s(k): _s(v)
                for k, v in (await self.redis.hgetall(self.case_key(case.case))).items()
            }
        raw = read
        if not raw.get("topic", "").isdigit() or not raw.get("card", "").isdigit():
            return None
        topic = int(raw["topic"])
        if await self.state.of_topic(topic) is None:
            return None  # every account of it is gone: a new topic
        return topic, int(raw["card"])

    async def join(self, case: DeskCase) -> None:
        """This record uses the case's topic (made now, or taken)."""
        call = self.join_call(case)
        if call is not None:
            script, keys, args = call
            await script(keys=keys, args=args)

    def join_call(self, case: DeskCase) -> Call | None:
        """`join` as a call to send with others (bot.desk.scripted); None: nothing to do."""
        if not registered(case) or case.topic is None or case.card is None:
            return None
        args: list[str | int] = [case.topic, case.card, MEMBER + case.key, self.state.ttl_ms]
        return self._join, [self.case_key(case.case)], args

    async def leave(self, case: DeskCase) -> None:
        if registered(case):
            await self._leave(keys=[self.case_key(case.case)], args=[MEMBER + case.key, MEMBER])

    async def others(self, case: DeskCase) -> list[DeskCase]:
        """The records of the case's other accounts that use the same topic."""
        if not registered(case) or case.topic is None:
            return []
        fields = await self.redis.hkeys(self.case_key(case.case))
        found = []
        for field in map(_s, fields):
            key = field.removeprefix(MEMBER)
            if not field.startswith(MEMBER) or key == case.key:
                continue
            other = await self.state.load(key)
            if other is not None and other.topic == case.topic:
                found.append(other)
        return found

    async def speaks(self, case: DeskCase, known: Speaking | None = None) -> bool:
        """Whether the topic talks to this record's conversation now (`known`: its index as
        read with the record, not read again)."""
        return case.topic is not None and await self.talks_to(case.topic, known) == case.key

    async def talks_to(self, topic: int, known: Speaking | None = None) -> str | None:
        """The conversation the topic's index points at."""
        if known is not None and known[0] == topic:
            return known[1]
        return await self.state.of_topic(topic)

    # -- what showed one account in a shared topic ------------------------------------------
    async def remember_posts(self, key: str, ids: list[int]) -> None:
        if not ids:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            self.add_posts(pipe, key, ids)
            await pipe.execute()

    def add_posts(self, pipe: Pipeline, key: str, ids: list[int]) -> None:
        """`remember_posts` as part of a transaction in the conversation's slot."""
        name = self.posts_key(key)
        pipe.zadd(name, {str(int(i)): int(i) for i in ids})
        pipe.pexpire(name, self.state.ttl_ms)

    async def posts(self, key: str) -> list[int]:
        """His relayed messages and the operators' messages he was sent, in the group."""
        mine = await self.redis.zrange(self.posts_key(key), 0, -1)
        sent = await self.redis.zrange(self.state.relayed_key(key), 0, -1)
        return sorted({int(_s(i)) for i in (*mine, *sent)})

    def batches(self, ids: list[int]) -> list[list[int]]:
        return [ids[i : i + DELETE_BATCH] for i in range(0, len(ids), DELETE_BATCH)]
