"""Delivery of committed effects from the outbox, one conversation at a time and in order.

An update is acknowledged to Telegram once its effects are committed; sending them may take
longer (rate limits, 429s), so it happens here, in a task per conversation. A batch leaves the
outbox only after it was rendered, so a failure leaves it for the next attempt.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from bot.render import Renderer
from flows.model import Conversation
from flows.store import ConversationStore

log = structlog.get_logger("hotline.deliver")


@dataclass(slots=True)
class _Target:
    chat_id: int
    conversation: Conversation
    again: bool = False


class Deliverer:
    def __init__(self, store: ConversationStore, renderer: Renderer) -> None:
        self.store = store
        self.renderer = renderer
        self._running: dict[str, _Target] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def kick(self, key: str, chat_id: int, conversation: Conversation) -> None:
        """Deliver what is pending for this conversation, now or right after the current run."""
        target = self._running.get(key)
        if target is not None:
            target.chat_id, target.conversation, target.again = chat_id, conversation, True
            return
        self._running[key] = _Target(chat_id, conversation)
        task = asyncio.create_task(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, key: str) -> None:
        target = self._running[key]
        try:
            while True:
                target.again = False
                for batch in await self.store.pending(key):
                    await self.renderer.render(key, target.chat_id, target.conversation, batch)
                    await self.store.ack(key, batch.entry_id)
                if target.conversation.owns_case:
                    await self.store.touch_indexes(target.conversation, key)
                if not target.again:
                    break
        except Exception as exc:
            # the batch stays in the outbox; the next update of this conversation retries it
            log.error("delivery failed", error=type(exc).__name__)
        finally:
            del self._running[key]

    async def drain(self) -> None:
        """Wait until everything kicked so far is delivered (tests, console, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
