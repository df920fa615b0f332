"""One update of one conversation: load, run the engine, commit atomically, hand back the effects.

This is the only place where the pure engine meets the store. A version conflict (another bot
process committed first) reloads and re-applies the event; a repeated `update_id` produces
nothing. What is handed back is already durable in the outbox: the caller of `handle` delivers it
and then acknowledges it, and whatever was not acknowledged is delivered again later.
"""

from __future__ import annotations

import datetime
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flows import engine, fields
from flows.channels import EMPTY, GenuineList
from flows.linking import Check, LinkGuard
from flows.locks import Turn
from flows.model import (
    BirthChecked,
    CaseFound,
    Context,
    Conversation,
    Effect,
    Event,
    Lookup,
    Text,
    VerifyBirth,
)
from flows.quota import Quota, heard_anyway
from flows.recall import SAFETY_FIELD
from flows.store import Batch, ConversationStore

MAX_CONFLICT_RETRIES = 8


class ConflictError(RuntimeError):
    """The conversation kept changing under us; the update is not acknowledged and comes again."""


@dataclass(frozen=True, slots=True)
class Handled:
    conversation_key: str
    conversation: Conversation
    batch: Batch | None  # None: a repeated update, nothing to do
    changed: bool = False


@dataclass(slots=True)
class Dialogue:
    store: ConversationStore
    clock: Callable[[], float] = time.time
    new_code: Callable[[], str] = fields.new_case_code
    new_case_id: Callable[[], str] = field(default=lambda: secrets.token_hex(6))
    genuine: GenuineList = EMPTY  # the team's list of genuine channels, bots and sites
    guard: LinkGuard | None = None  # failed second-factor checks, counted in Redis
    quota: Quota | None = None  # a caller's updates per window (flows.quota), counted on load

    def own_username(self, username: str | None) -> None:
        """This bot's own handle, known once Telegram said it: the list's `@self`."""
        self.genuine = self.genuine.with_own_username(username)

    def __post_init__(self) -> None:
        if self.guard is None:
            self.guard = LinkGuard(self.store)

    @property
    def link_guard(self) -> LinkGuard:
        assert self.guard is not None  # made in __post_init__
        return self.guard

    def context(self, message_ref: int | None, case_safety_word: str | None = None) -> Context:
        now = self.clock()
        return Context(
            now=now,
            today=datetime.datetime.fromtimestamp(now, datetime.UTC).date(),
            new_code=self.new_code,
            new_case_id=self.new_case_id,
            digest=self.store.digest,
            message_ref=message_ref,
            genuine=self.genuine,
            case_safety_word=case_safety_word,
        )

    async def _case_safety_word(self, conv: Conversation, event: Event) -> str | None:
        """The safety word of the case a linked conversation belongs to (the owner's, sealed
        with his fields): only read when a text could carry it."""
        if not isinstance(event, Text) or conv.case_id is None or conv.owns_case:
            return None
        owner = await self.store.conversation_of_case(conv.case_id)
        if owner is None:
            return None
        return (await self.store.load(owner, -1)).conversation.fields.get(SAFETY_FIELD)

    async def handle(
        self,
        user_id: int,
        update_id: int,
        event: Event,
        *,
        message_ref: int | None = None,
        language: str | None = None,
        turn: Turn | None = None,
        key: str | None = None,
    ) -> Handled:
        """`key`: his conversation's key, when the caller has it already (else made here)."""
        if key is None:
            key = self.store.conversation_key(user_id)
        return await self.handle_key(
            key,
            update_id,
            event,
            message_ref=message_ref,
            language=language,
            chat_id=user_id,  # a private chat's id is its user's
            turn=turn,
            quota=self.quota,
        )

    async def handle_key(
        self,
        key: str,
        update_id: int,
        event: Event,
        *,
        message_ref: int | None = None,
        language: str | None = None,
        chat_id: int | None = None,
        also: Sequence[Effect] = (),
        turn: Turn | None = None,
        quota: Quota | None = None,
    ) -> Handled:
        """`also`: effects committed after the engine's, when the event has any. `turn`: the
        conversation's turn (flows.locks), taken by the load and given back by the commit.
        `quota`: the caller's own update is counted against it (over it: flows.quota.OverLimit,
        nothing applied)."""
        checks: dict[tuple[str | None, str], Check] = {}  # one count per update, not per retry
        heard = heard_anyway(event)
        for _ in range(MAX_CONFLICT_RETRIES):
            loaded = await self.store.load(key, update_id, turn=turn, quota=quota, heard=heard)
            conv = loaded.conversation
            if loaded.duplicate:
                await self.store.settle(key)
                return Handled(key, conv, None)
            if loaded.version == 0 and language is not None:
                conv.lang = language
            ctx = self.context(message_ref, await self._case_safety_word(conv, event))
            outcome = engine.handle(conv, event, ctx)
            effects = await self._answer_queries(key, outcome.effects, outcome, ctx, checks)
            if effects:
                effects = [*effects, *also]
            result = await self.store.commit(
                key,
                loaded.version,
                outcome.conversation,
                update_id,
                effects,
                chat_message=message_ref,
                chat_id=chat_id,
                turn=turn,
            )
            if result.duplicate:
                await self.store.settle(key)
                return Handled(key, conv, None)
            if result.batch is not None:
                return Handled(key, outcome.conversation, result.batch, outcome.changed)
        raise ConflictError("conversation changed concurrently too often")

    async def note(
        self,
        key: str,
        update_id: int,
        effects: Sequence[Effect],
        *,
        chat_id: int | None = None,
        turn: Turn | None = None,
        event: Event | None = None,
    ) -> Handled | None:
        """Commit effects about the conversation under the update's dedupe mark: delivered
        once, after what it committed before; with `event` (a claim, a release), what the
        engine makes of it first, whatever it is (it may change nothing he sees). None: there
        is no conversation (a batch would bring back a conversation that was erased)."""
        for _ in range(MAX_CONFLICT_RETRIES):
            loaded = await self.store.load(key, update_id, turn=turn)
            if loaded.duplicate:
                await self.store.settle(key)
                return Handled(key, loaded.conversation, None)
            if loaded.version == 0:
                return None
            conversation, batch = loaded.conversation, list(effects)
            if event is not None:
                outcome = engine.handle(conversation, event, self.context(None))
                conversation, batch = outcome.conversation, [*outcome.effects, *effects]
            result = await self.store.commit(
                key,
                loaded.version,
                conversation,
                update_id,
                batch,
                chat_id=chat_id,
                turn=turn,
            )
            if result.duplicate:
                return Handled(key, loaded.conversation, None)
            if result.batch is not None:
                return Handled(key, conversation, result.batch)
        raise ConflictError("conversation changed concurrently too often")

    async def _answer_queries(
        self,
        key: str,
        effects: list[Effect],
        outcome: engine.Outcome,
        ctx: Context,
        checks: dict[tuple[str | None, str], Check],
    ) -> list[Effect]:
        """Lookups and birth-date checks are queries, not effects: answered now, the answer
        fired as an event. Neither is stored (a check carries the typed date)."""
        query = next((e for e in effects if isinstance(e, Lookup | VerifyBirth)), None)
        if query is None:
            return effects
        answer: Event
        guard = self.link_guard
        if isinstance(query, Lookup):
            found = await self.store.find_case(query.code_digest)
            answer = CaseFound(found.case_id, await guard.account_left(key))
        else:
            case_id = outcome.conversation.pending_case_id
            check = checks.get((case_id, query.birth_date))
            if check is None:
                check = await guard.check(key, case_id, query.birth_date, ctx.now)
                checks[(case_id, query.birth_date)] = check
            answer = BirthChecked(
                check.matched,
                check.account_left,
                check.case_failures,
                check.locked_now,
                check.campaign,
            )
        then = engine.handle(outcome.conversation, answer, ctx)
        outcome.conversation = then.conversation
        outcome.changed = outcome.changed or then.changed
        return [e for e in effects if not isinstance(e, Lookup | VerifyBirth)] + then.effects
