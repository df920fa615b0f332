"""An update of a caller, end to end: one conversation at a time, committed, then delivered.

One at a time twice over: a lock per conversation in this process (cheap, no Redis round trip
for updates queued here), and inside it the conversation's ticket lock in Redis
(flows.locks.TicketLock), so updates of one conversation that reached different processes
apply one at a time too, in Telegram's order (by update_id)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

from bot.deliver import Deliverer
from bot.handover import Handover
from flows.dialogue import Dialogue, Handled
from flows.locks import TicketLock, Turn
from flows.model import Effect, Event
from flows.unavailable import milliseconds

H = TypeVar("H", Handled, Handled | None)


class KeyedLocks:
    """One lock per conversation, so its updates apply one at a time and in arrival order within
    this process. Idle locks are dropped, so memory stays bounded under a flood of ids."""

    def __init__(self) -> None:
        self._locks: OrderedDict[str, tuple[asyncio.Lock, int]] = OrderedDict()

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class Pipeline:
    """The one way into a conversation: `from_caller` for his own updates, `from_desk` (and
    `note`) for the operators'; the routers and the desk call these and nothing inside."""

    def __init__(self, dialogue: Dialogue, deliverer: Deliverer) -> None:
        self.dialogue = dialogue
        self.deliverer = deliverer
        self._locks = KeyedLocks()
        store = dialogue.store
        self._turns = TicketLock(store.redis, store.key)

    @property
    def in_flight(self) -> int:
        """Conversations with an update being handled in this process (none once idle)."""
        return len(self._locks)

    async def from_caller(
        self,
        user_id: int,
        chat_id: int,
        update_id: int,
        event: Event,
        *,
        message_ref: int | None = None,
        language: str | None = None,
    ) -> Handled:
        key = self.dialogue.store.conversation_key(user_id)

        def handle(turn: Turn) -> Awaitable[Handled]:
            return self.dialogue.handle(
                user_id,
                update_id,
                event,
                message_ref=message_ref,
                language=language,
                turn=turn,
                key=key,  # his pseudonym is an HMAC: made once per update, here
            )

        return await self._turn(key, update_id, chat_id, handle)

    async def from_desk(
        self, key: str, chat_id: int, update_id: int, event: Event, *, also: Sequence[Effect] = ()
    ) -> Handled:
        """An operator's action in the caller's conversation: queued with his own updates;
        `also` (the desk's own part) is committed and delivered with its effects."""

        def handle(turn: Turn) -> Awaitable[Handled]:
            return self.dialogue.handle_key(
                key, update_id, event, chat_id=chat_id, also=also, turn=turn
            )

        return await self._turn(key, update_id, chat_id, handle)

    async def note(
        self,
        key: str,
        chat_id: int,
        update_id: int,
        effects: Sequence[Effect],
        *,
        event: Event | None = None,
    ) -> Handled | None:
        """Effects about a conversation (the desk's part of a claim), queued with its updates
        and delivered from its outbox, after what `event` does in it; None: no conversation."""

        def handle(turn: Turn) -> Awaitable[Handled | None]:
            return self.dialogue.note(
                key, update_id, effects, chat_id=chat_id, turn=turn, event=event
            )

        return await self._turn(key, update_id, chat_id, handle)

    async def _turn(
        self, key: str, update_id: int, chat_id: int, handle: Callable[[Turn], Awaitable[H]]
    ) -> H:
        """`handle` in the conversation's turn for this update (after the updates before it,
        here and in every other process), then what it committed on its way to the chat.

        The turn in Redis is taken by the load and given back by the commit (flows.locks.Turn),
        which also takes the delivery lease for this process's deliverer; the committed batch
        is handed over to it synchronously: it must not find the batch in the outbox before it
        is handed over (see `Deliverer.committing`)."""
        with self.deliverer.committing(key):
            async with self._locks.hold(key), self._turns.hold(key, update_id, lazy=True) as turn:
                turn.lease_token = self.deliverer.lease.token
                turn.lease_ttl_ms = milliseconds(self.deliverer.lease_ttl)
                handled = await handle(turn)
            if handled is not None:
                handover = None
                if handled.batch is not None and turn.given:
                    handover = Handover(handled.batch, turn.leased, turn.alone, turn.reindex)
                self.deliverer.kick(
                    handled.conversation_key, chat_id, handled.conversation, handover
                )
        return handled
