"""Suspected probes: `/probe` marks a case's accounts, whose later escalations come at normal
priority with the mark on the card and in /queue; `/block` goes further: the bot goes on
answering those accounts exactly as it answers anyone (a probe must not learn that it was
found out), but nothing of theirs reaches the group again: no escalation, no relay, no alert.
Both are audited, told in the topic (a block in the queue view too, so the whole shift sees
it) and undone by `/unprobe` and `/unblock` (in the topic, or `/unblock #REF` anywhere, as the
topic of a blocked case may be gone by then). Any listed operator may act: like /unlock, in
the open and audited.

The account marked is the one the case's topic talks to (bot.desk.shared_topics). An owner's
mark is carried by every account linked to his case (a linked conversation names its case);
a linked account's mark is its own: the owner, perhaps the real caller whose code a probe
holds, is not marked for what a linked account did. A mark outlives an erasure, as the
failed checks of flows.linking do: a probe's /forget must not give it a clean account. Nothing
personal is kept, only whose pseudonymous conversation key is marked, by which operator's
digest, when:

    {prefix}:mark:<conv key>      hash    kind (probe|block), by, at, ref
    {prefix}:markref:<ref>        string  JSON list of the conversation keys blocked under the
                                          case reference an operator was shown
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import structlog

from bot.desk.at_topic import case_at
from bot.desk.audit import Audit
from bot.desk.desk import Desk
from bot.desk.records import DeskCase
from flows.model import Conversation, Priority

log = structlog.get_logger("hotline.desk.marks")

KINDS: Final = ("probe", "block")


@dataclass(frozen=True, slots=True)
class Mark:
    kind: str  # probe | block
    by: str  # the operator's digest
    at: float
    ref: str  # the case reference the operators were shown


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _mark_of(raw: Mapping[str, str]) -> Mark | None:
    if raw.get("kind") not in KINDS:
        return None
    return Mark(raw["kind"], raw.get("by", ""), float(raw.get("at") or 0), raw.get("ref", ""))


class CaseMarks:
    def __init__(
        self,
        desk: Desk,
        audit: Audit,
        *,
        clock: Callable[[], float] = time.time,
        ttl_seconds: float | None = None,
    ) -> None:
        self.desk = desk
        self.audit = audit
        self.clock = clock
        self.redis = desk.store.redis
        self.prefix = desk.store.prefix
        self.ttl = int(ttl_seconds or desk.store.retention.registered)

    def mark_key(self, key: str) -> str:
        return f"{self.prefix}:mark:{key}"

    def ref_key(self, ref: str) -> str:
        return f"{self.prefix}:markref:{ref.lstrip('#').casefold()}"

    # -- reading -------------------------------------------------------------------------------
    async def get(self, key: str) -> Mark | None:
        raw = await self.redis.hgetall(self.mark_key(key))
        return _mark_of({_s(k): _s(v) for k, v in raw.items()})

    async def of_conversation(
        self, key: str, conversation: Conversation | None, own: Mapping[str, str] | None = None
    ) -> Mark | None:
        """The account's own mark (`own`: its hash, read already), else its case owner's (a
        linked account carries it)."""
        mark = _mark_of(own) if own is not None else await self.get(key)
        if mark is not None or conversation is None or conversation.case_id is None:
            return mark
        if conversation.owns_case:
            return None
        owner = await self.desk.store.conversation_of_case(conversation.case_id)
        return await self.get(owner) if owner is not None and owner != key else None

    async def of_case(self, case: DeskCase, own: Mapping[str, str] | None = None) -> Mark | None:
        found = await self._found(case, own)
        return found[1] if found is not None else None

    async def _found(
        self, case: DeskCase, own: Mapping[str, str] | None = None
    ) -> tuple[str, Mark] | None:
        """The mark this record's account carries, and which account holds it: its own (`own`:
        its hash, read already), else its case owner's (a linked account carries the owner's)."""
        mark = _mark_of(own) if own is not None else await self.get(case.key)
        if mark is not None:
            return case.key, mark
        if case.case == case.ref:
            return None  # not registered: no owner
        profile = self.desk.profile(case)
        if profile is not None and profile.via == "own":
            return None  # his own case: he is its owner
        owner = await self.desk.store.conversation_of_case(case.case)
        if owner is None or owner == case.key:
            return None
        mark = await self.get(owner)
        return (owner, mark) if mark is not None else None

    async def kind_of(self, case: DeskCase) -> str | None:
        mark = await self.of_case(case)
        return mark.kind if mark is not None else None

    async def card_line(self, case: DeskCase, own: Mapping[str, str] | None = None) -> str | None:
        mark = await self.of_case(case, own)
        if mark is None:
            return None
        desk = self.desk
        return desk.t(
            "desk-card-mark",
            mark=mark.kind,
            operator=desk.operator_label(mark.by),
            when=desk.local_time(mark.at),
        )

    # -- the operators' commands ---------------------------------------------------------------
    async def run(
        self, user_id: int, topic: int | None, action: str, args: str, *, via: str
    ) -> str | None:
        """/probe, /unprobe, /block, /unblock from a listed operator (the caller checks)."""
        desk = self.desk
        if action == "unblock" and args.strip():
            return await self._unblock_ref(user_id, args.strip().split()[0], via)
        case = await case_at(desk, topic)
        if isinstance(case, str):
            return case
        found = await self._found(case)
        current = found[1] if found is not None else None
        if action in KINDS:
            if current is not None and current.kind in (action, "block"):
                return desk.t("desk-mark-already")
            await self._set(case, action, desk.operators.digest(user_id))
        else:
            undone = action.removeprefix("un")
            if found is None or found[1].kind != undone:
                return desk.t("desk-mark-none")
            await self._clear([found[0]], found[1].ref)
        await self._told(user_id, case, action, via)
        return None

    async def _set(self, case: DeskCase, kind: str, by: str) -> None:
        ref = self.desk.label(case)
        accounts = [case.key]  # the account the topic talks to (an owner's: his links too)
        mark = {"kind": kind, "by": by, "at": repr(self.clock()), "ref": ref}
        async with self.redis.pipeline(transaction=False) as pipe:  # several slots
            for key in accounts:
                pipe.hset(self.mark_key(key), mapping=mark)  # type: ignore[arg-type]
                pipe.expire(self.mark_key(key), self.ttl)
            if kind == "block":
                pipe.set(self.ref_key(ref), json.dumps(accounts), ex=self.ttl)
            await pipe.execute()
        if not case.open:
            return
        if kind == "block":
            await self.desk.close_escalation(case.key)  # off the queue, its topic closed
        elif case.priority > Priority.NORMAL:
            await self.desk.state.update(case.key, {"priority": int(Priority.NORMAL)})

    async def _clear(self, accounts: list[str], ref: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in accounts:
                pipe.delete(self.mark_key(key))
            if ref:
                pipe.delete(self.ref_key(ref))
            await pipe.execute()

    async def _told(self, user_id: int, case: DeskCase, action: str, via: str) -> None:
        desk = self.desk
        fresh = await desk.state.load(case.key) or case
        await desk.refresh_card(fresh)
        operator = desk.operator_label(desk.operators.digest(user_id))
        text = desk.t(f"desk-mark-{action}", operator=operator, code=desk.label(case))
        if case.topic is not None:
            await desk.post(case, text)
        if action in ("block", "unblock"):
            await desk.announce(text, case if case.topic is not None else None)
        await self.audit.record(
            desk.operators.who(user_id), action, case.case, result="ok", via=via
        )
        log.info("case marked", action=action)

    async def _unblock_ref(self, user_id: int, ref: str, via: str) -> str | None:
        """`/unblock #REF` anywhere: the case's topic may be gone (erased), its block stays."""
        desk = self.desk
        raw = await self.redis.get(self.ref_key(ref))
        accounts = [str(k) for k in json.loads(_s(raw))] if raw is not None else []
        marks = [m for m in [await self.get(k) for k in accounts] if m is not None]
        if not any(m.kind == "block" for m in marks):
            return desk.t("desk-mark-unknown", code=ref if ref.startswith("#") else f"#{ref}")
        label = marks[0].ref
        await self._clear(accounts, label)
        operator = desk.operator_label(desk.operators.digest(user_id))
        await desk.announce(desk.t("desk-mark-unblock", operator=operator, code=label))
        for key in accounts:
            case = await desk.state.load(key)
            if case is not None:
                await desk.refresh_card(case)
        who = desk.operators.who(user_id)
        await self.audit.record(who, "unblock", "-", result="ok", ref=label, via=via)
        return None
