"""What the operator desk keeps in Redis: a record per case beside its conversation, a few indexes
and counters. Nothing in it is personal: the caller's chat id and the case label (its code) are
sealed, operators appear as keyed digests, cases as pseudonymous ids.

    {prefix}:{<conv key>}:desk       hash    ref, case, topic, card, stage, lang, open, priority,
                                             reason, since, opened, claimer, claimed_at, counted,
                                             verified, alert, announced, shut, meetup, chat and
                                             label and profile (sealed), raised
    {prefix}:{<conv key>}:relayed    zset    desk message id -> when: operators' messages that
                                             were copied to the caller (only their edits go)
    {prefix}:topic:<topic id>        string  <conv key>: an operator's topic -> its case
    {prefix}:desk:ended:<topic id>   string  "1": the topic's case ended (met) or expired, so
                                             what is written there reaches no one
    {prefix}:desk:open               zset    <conv key> -> escalated at: the open escalations
    {prefix}:desk:claims:<day>       list    seconds from escalation to claim, that day
    {prefix}:desk:purge              zset    "s|" sealed "<chat>:<message>" -> when to delete
                                             it (details, in an operator's private chat)
    {prefix}:desk:joined:<digest>    string  a join alert was raised (against repeats)

The record lives in the conversation's slot and is erased with it. A conversation that never
reached the desk has none: nothing of the desk's is kept for it (a case registered and left
idle, say); a registered case is found through flows.cases' index. Every change to an existing
record is a script that writes only while the record exists, so an operator's action racing
the caller's /forget can never bring an erased record back. A claim is one compare-and-set.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from redis.asyncio import Redis

from bot.desk import record_scripts as scripts
from bot.desk.kinds import ClaimStatus, ReleaseStatus
from bot.desk.scripted import Call
from flows.store import COMPANION_GRACE, ConversationStore

__all__ = ["ClaimResult", "DeskCase", "DeskState", "Speaking"]

CLAIM_DAYS_KEPT: Final = 2 * 86400  # per-day claim durations: today's and yesterday's
# What the desk may keep in a conversation's slot (the record, the operators' messages he was
# sent, the group's messages showing his, what was counted of the case's links, the desk lane's
# jobs): while none is there, the desk knows nothing of the conversation
DESK_PARTS: Final = ("desk", "relayed", "deskposts", "links", "desklane")
# an index earlier releases kept (<case> -> <conv key>); erasure still removes it
LEGACY_CASE_INDEX: Final = "deskcase"
# a topic and the conversation its index points at (None: none), as read together
Speaking = tuple[int, str | None]
Fields = Mapping[str, str | int | float]


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _value(value: str | int | float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


@dataclass(frozen=True, slots=True)
class DeskCase:
    """One case as the desk sees it."""

    key: str  # the conversation key (pseudonymous)
    ref: str  # random, made with the record: the case's id until it has a registered one
    case: str  # the pseudonymous id hook events and the audit name it by
    topic: int | None = None
    card: int | None = None
    stage: str = "none"
    lang: str = "ru"  # the caller's language (an operator's correction is marked in it)
    open: bool = False  # an escalation is open
    priority: int = 0
    reason: str = ""
    since: float = 0.0  # when the open escalation started waiting (or was released)
    opened: float = 0.0  # when the open escalation started (a release does not move it)
    claimer: str | None = None  # operator digest
    claimed_at: float = 0.0
    verified: bool = False
    alert: str | None = None
    shut: bool = False  # the bot closed the topic
    meetup: bool = False  # this escalation reached the meetup (its hook event went out)
    talk: bool = False  # an operator's message opened a live conversation, still going on
    chat: str | None = None  # sealed caller chat id
    label: str | None = None  # sealed case label
    profile: str | None = None  # sealed: language, group size, injuries, way in (desk.profile)
    raised: bool = False  # this escalation's priority was raised for its profile

    @classmethod
    def parse(cls, key: str, raw: Mapping[Any, Any]) -> DeskCase | None:
        data = {_s(k): _s(v) for k, v in raw.items()}
        if "ref" not in data:
            return None

        def number(name: str) -> int | None:
            value = data.get(name)
            return int(value) if value else None

        return cls(
            key=key,
            ref=data["ref"],
            case=data.get("case") or data["ref"],
            topic=number("topic"),
            card=number("card"),
            stage=data.get("stage", "none"),
            lang=data.get("lang", "ru"),
            open=data.get("open") == "1",
            priority=int(data.get("priority") or 0),
            reason=data.get("reason", ""),
            since=float(data.get("since") or 0),
            opened=float(data.get("opened") or data.get("since") or 0),
            claimer=data.get("claimer"),
            claimed_at=float(data.get("claimed_at") or 0),
            verified=data.get("verified") == "1",
            alert=data.get("alert"),
            shut=data.get("shut") == "1",
            meetup=data.get("meetup") == "1",
            talk=data.get("talk") == "1",
            chat=data.get("chat"),
            label=data.get("label"),
            profile=data.get("profile"),
            raised=data.get("raised") == "1",
        )


@dataclass(frozen=True, slots=True)
class ClaimResult:
    status: ClaimStatus
    claimer: str
    first: bool = False  # claimed now, for the first time in this escalation
    update: int | None = None  # already mine: the update_id that claimed it


class DeskState:
    def __init__(self, store: ConversationStore) -> None:
        self.store = store
        redis: Redis = store.redis
        self.redis = redis
        prefix = store.prefix
        self._prefix = prefix
        self.open_key = f"{prefix}:desk:open"
        self.purge_key = f"{prefix}:desk:purge"
        self._update = redis.register_script(scripts.UPDATE)
        self._ensure = redis.register_script(scripts.ENSURE)
        self._remember_relayed = redis.register_script(scripts.REMEMBER_RELAYED)
        self._grace_ms = round(COMPANION_GRACE * 1000)
        self._claim = redis.register_script(scripts.CLAIM)
        self._release = redis.register_script(scripts.RELEASE)
        self._announce = redis.register_script(scripts.ANNOUNCE)
        self._unannounce = redis.register_script(scripts.UNANNOUNCE)
        self._del_if = redis.register_script(scripts.DEL_IF)

    # -- names --------------------------------------------------------------------------------
    def record_key(self, key: str) -> str:
        return self.store.key(key, "desk")

    def topic_key(self, topic: int) -> str:
        return f"{self._prefix}:topic:{int(topic)}"

    def legacy_case_key(self, case: str) -> str:
        return f"{self._prefix}:{LEGACY_CASE_INDEX}:{case}"

    def claims_key(self, day: str) -> str:
        return f"{self._prefix}:desk:claims:{day}"

    def relayed_key(self, key: str) -> str:
        return self.store.key(key, "relayed")

    def ended_key(self, topic: int) -> str:
        return f"{self._prefix}:desk:ended:{int(topic)}"

    @property
    def ttl_ms(self) -> int:
        """The indexes (topic, shared topic: pointers, nothing personal) live as long as a
        registered conversation may; the record itself only as long as its conversation (see
        flows.store.COMPANION_PARTS: each commit of the conversation extends it too)."""
        return int(self.store.retention.registered * 1000)

    # -- the record ---------------------------------------------------------------------------
    async def load(self, key: str) -> DeskCase | None:
        return DeskCase.parse(key, await self.redis.hgetall(self.record_key(key)))

    async def at_work(
        self,
        key: str,
        *hashes: str,
        topic: int | None = None,
        first: Callable[[Any], Awaitable[int]] | None = None,
    ) -> tuple[bool, DeskCase | None, list[dict[str, str]], Speaking | None]:
        """What the desk's work for a conversation starts from, read at once (in a cluster each
        node answers its own): whether the conversation is there, its record, the hashes named
        (his mark), and, when the record names `topic` (his topic as last seen), whom that
        topic talks to (else None). `first` queues what goes before the reads in the same round
        trip (the job before leaving his lane), returning how many commands it queued."""
        async with self.redis.pipeline(transaction=False) as pipe:
            before = await first(pipe) if first is not None else 0
            pipe.hexists(self.store.key(key, "conv"), "v")
            pipe.hgetall(self.record_key(key))
            for name in hashes:
                pipe.hgetall(name)
            if topic is not None:
                pipe.get(self.topic_key(topic))
            exists, record, *rest = (await pipe.execute())[before:]
        owner = rest.pop() if topic is not None else None
        found = [{_s(k): _s(v) for k, v in raw.items()} for raw in rest]
        case = DeskCase.parse(key, record)
        speaking: Speaking | None = None
        if topic is not None and case is not None and case.topic == topic:
            speaking = (topic, None if owner is None else _s(owner))
        return bool(exists), case, found, speaking

    async def read_hashes(self, names: Sequence[str]) -> list[dict[str, str]]:
        """The hashes named, read at once (reads only: in a cluster each node answers its own)."""
        return (await self._with_hashes(None, names))[1] if names else []

    async def _with_hashes(
        self, first: Callable[[Any], object] | None, names: Sequence[str]
    ) -> tuple[Any, list[dict[str, str]]]:
        """The one command `first` queues and the hashes named, in one round trip (each node
        of a cluster answers its own): its answer, and the hashes."""
        async with self.redis.pipeline(transaction=False) as pipe:
            if first is not None:
                first(pipe)
            for name in names:
                pipe.hgetall(name)
            found = await pipe.execute()
        answer = found.pop(0) if first is not None else None
        return answer, [{_s(k): _s(v) for k, v in raw.items()} for raw in found]

    async def holds_anything(self, key: str) -> bool:
        """Whether the desk keeps anything of this conversation, or has work for it waiting (one
        command: every part is in the conversation's slot)."""
        names = [self.store.key(key, part) for part in DESK_PARTS]
        return bool(await self.redis.exists(*names))

    async def ensure(
        self, key: str, fields: Mapping[str, str | int | float], drop: Sequence[str] = ()
    ) -> tuple[DeskCase, bool]:
        """The record of this conversation, made if missing, with `fields` written and `drop`
        deleted; and whether it was made now."""
        pairs = [part for name, v in fields.items() for part in (name, _value(v))]
        made, flat = await self._ensure(
            keys=[self.record_key(key), self.store.key(key, "conv")],
            args=[self._grace_ms, secrets.token_hex(6), len(fields), *pairs, *drop],
        )
        case = DeskCase.parse(key, dict(zip(flat[::2], flat[1::2], strict=True)))
        assert case is not None  # written in the same transaction
        return case, bool(made)

    async def update(self, key: str, fields: Fields | None = None, *drop: str) -> bool:
        """Write `fields` and delete `drop`, only while the record exists; True if it does."""
        script, keys, args = self.update_call(key, fields, *drop)
        return bool(await script(keys=keys, args=args))

    def update_call(self, key: str, fields: Fields | None = None, *drop: str) -> Call:
        """`update` as a call to send with others (bot.desk.scripted)."""
        pairs = [part for name, v in (fields or {}).items() for part in (name, _value(v))]
        return self._update, [self.record_key(key)], [len(pairs) // 2, *pairs, *drop]

    async def set_topic(
        self, key: str, topic: int, *, read: Sequence[str] = ()
    ) -> list[dict[str, str]]:
        """The topic talks to this conversation (only while its record exists: a topic must
        never point at a case erased meanwhile); the hashes named in `read`, read with the last
        check (empty when the record is gone)."""
        if not await self.update(key, {"topic": topic}):
            return await self.read_hashes(read)
        name = self.topic_key(topic)
        await self.redis.set(name, key, px=self.ttl_ms)
        # erased between the two (another task's delete, which looks again once the record is
        # gone, may have looked before this set)
        record = self.record_key(key)
        exists, found = await self._with_hashes(lambda pipe: pipe.exists(record), read)
        if not exists:
            await self._del_if(keys=[name], args=[key])
        return found

    async def of_topic(self, topic: int) -> str | None:
        raw = await self.redis.get(self.topic_key(topic))
        return None if raw is None else _s(raw)

    async def delete(self, key: str) -> DeskCase | None:
        """Every key of the case: the record, its indexes, its place among open escalations."""
        case = await self.load(key)
        names = [self.record_key(key), self.relayed_key(key)]
        names.append(self.store.key(key, "deskposts"))  # bot.desk.shared_topics
        if case is not None:
            names += [self.legacy_case_key(case.case), self.legacy_case_key(case.ref)]
            if case.topic is not None and await self.of_topic(case.topic) in (key, None):
                # (a topic another account of the case talks to now stays its)
                names.append(self.topic_key(case.topic))
        async with self.redis.pipeline(transaction=False) as pipe:  # other slots: idempotent
            pipe.zrem(self.open_key, key)
            for name in names[2:]:
                pipe.delete(name)
            await pipe.execute()
        await self.redis.delete(*names[:2])  # the record last: a repeat finds what is left
        if case is not None and case.topic is not None:
            # a set_topic racing this one (another account's record leaving the shared topic
            # to this one) may have pointed the topic here again: never at an erased record
            await self._del_if(keys=[self.topic_key(case.topic)], args=[key])
        return case

    async def mark_topic_ended(self, topic: int) -> None:
        """The case of this topic ended with its topic kept (met, expired): nothing personal,
        only that a message written there now reaches no one."""
        await self.redis.set(self.ended_key(topic), "1", px=self.ttl_ms)

    async def topic_ended(self, topic: int) -> bool:
        return bool(await self.redis.exists(self.ended_key(topic)))

    # -- operators' messages the caller received ----------------------------------------------
    async def remember_relayed(self, key: str, message_id: int, now: float) -> None:
        """Only while its record exists: a relay racing the caller's /forget leaves nothing."""
        await self._remember_relayed(
            keys=[self.record_key(key), self.store.key(key, "conv"), self.relayed_key(key)],
            args=[self._grace_ms, str(int(message_id)), repr(now), repr(now - self.ttl_ms / 1000)],
        )

    async def was_relayed(self, key: str, message_id: int) -> bool:
        return await self.redis.zscore(self.relayed_key(key), str(int(message_id))) is not None

    # -- claims -------------------------------------------------------------------------------
    async def claim(self, key: str, operator: str, now: float, update_id: int = 0) -> ClaimResult:
        args: list[str | int] = [operator, repr(now), update_id]
        status, claimer, *rest = await self._claim(keys=[self.record_key(key)], args=args)
        by = _s(rest[1]) if len(rest) > 1 else ""
        return ClaimResult(
            ClaimStatus(int(status)),
            _s(claimer),
            bool(rest and int(rest[0])),
            int(by) if by.isdigit() else None,
        )

    async def release(self, key: str, operator: str, now: float) -> ReleaseStatus:
        status = await self._release(keys=[self.record_key(key)], args=[operator, repr(now)])
        return ReleaseStatus(int(status))

    async def record_claim_time(self, day: str, seconds: float) -> None:
        name = self.claims_key(day)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(name, str(max(0, round(seconds))))
            pipe.expire(name, CLAIM_DAYS_KEPT)
            await pipe.execute()

    async def claim_times(self, day: str) -> list[int]:
        return [int(_s(v)) for v in await self.redis.lrange(self.claims_key(day), 0, -1)]

    # -- open escalations ---------------------------------------------------------------------
    async def mark_open(
        self, key: str, since: float, *, read: Sequence[str] = ()
    ) -> list[dict[str, str]]:
        """Among the open escalations; the hashes named in `read`, read at once."""
        entry = {key: since}
        return (await self._with_hashes(lambda pipe: pipe.zadd(self.open_key, entry), read))[1]

    async def mark_closed(self, key: str) -> None:
        await self.redis.zrem(self.open_key, key)

    async def open_keys(self) -> list[str]:
        return [_s(k) for k in await self.redis.zrange(self.open_key, 0, -1)]

    async def take_announcement(self, key: str, now: float, interval: float) -> str | None:
        """Whether the case is due a re-announcement, taken by this caller if so: None when it
        is not, else the previous mark to give to `undo_announcement` should the post fail."""
        args = [repr(now), repr(interval)]
        due, previous = await self._announce(keys=[self.record_key(key)], args=args)
        return _s(previous) if int(due) else None

    async def undo_announcement(self, key: str, now: float, previous: str) -> None:
        """The re-announcement taken at `now` was not sent: it is due again at the next tick."""
        await self._unannounce(keys=[self.record_key(key)], args=[repr(now), previous])

    # -- messages with details, deleted after a while ------------------------------------------
    async def schedule_purge(self, member: str, due: float) -> None:
        """A message to delete at `due` (bot.desk.details seals the chat in `member`)."""
        await self.redis.zadd(self.purge_key, {member: due})

    async def due_purges(self, now: float) -> list[str]:
        return [_s(m) for m in await self.redis.zrangebyscore(self.purge_key, "-inf", now)]

    async def take_purge(self, member: str) -> bool:
        """True for exactly one taker (several processes may sweep)."""
        return bool(await self.redis.zrem(self.purge_key, member))

    # -- join alerts --------------------------------------------------------------------------
    async def first_join_alert(self, digest: str, ttl_seconds: int = 120) -> bool:
        name = f"{self._prefix}:desk:joined:{digest}"
        return bool(await self.redis.set(name, "1", nx=True, ex=ttl_seconds))

    # -- what the flow keeps ------------------------------------------------------------------
    async def conversation_escalated(self, key: str) -> bool | None:
        """Whether the caller's conversation is escalated; None when it is gone."""
        return await self.store.escalated(key)

    async def conversation_exists(self, key: str) -> bool:
        return bool(await self.redis.hexists(self.store.key(key, "conv"), "v"))
