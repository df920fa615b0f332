"""Delivery of committed effects from the outbox, one conversation at a time and in order.

An update is acknowledged to Telegram once its effects are committed; sending them may take
longer (rate limits, 429s), so it happens here, in a task per conversation. A batch leaves the
outbox only after it was rendered, so a failure leaves it for the next attempt: by itself after
a back-off (Redis or Telegram down for a while), or at once on the conversation's next update.
What a stopped process left behind is taken up at start-up (`resume_pending`): every batch
carries its chat id and language, sealed, so even a /forget whose conversation is gone is
finished (its chat wiped, its goodbye sent).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from bot.render import Renderer
from flows.model import Conversation, Erase
from flows.store import Batch, ConversationStore

log = structlog.get_logger("hotline.deliver")

RETRY_FIRST = 1.0  # seconds before a failed delivery is tried again, doubling up to RETRY_MAX
RETRY_MAX = 60.0


@dataclass(slots=True)
class _Target:
    chat_id: int
    conversation: Conversation
    again: bool = False


class Deliverer:
    def __init__(
        self,
        store: ConversationStore,
        renderer: Renderer,
        *,
        retry_first: float = RETRY_FIRST,
        retry_max: float = RETRY_MAX,
    ) -> None:
        self.store = store
        self.renderer = renderer
        self.retry_first = retry_first
        self.retry_max = retry_max
        self._running: dict[str, _Target] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # effects of a batch already applied (conversation -> entry -> count): a batch tried
        # again in this process goes on where it stopped instead of repeating messages
        self._progress: dict[str, dict[str, int]] = {}
        self._backoff: dict[str, float] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self.accepting = True  # until `stop` (for /readyz)

    def kick(self, key: str, chat_id: int, conversation: Conversation) -> None:
        """Deliver what is pending for this conversation, now or right after the current run."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        target = self._running.get(key)
        if target is not None:
            target.chat_id, target.conversation, target.again = chat_id, conversation, True
            return
        self._running[key] = _Target(chat_id, conversation)
        task = asyncio.create_task(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def resume_pending(self) -> int:
        """Kick every conversation whose outbox a stopped process left undelivered; how many.
        (Two processes starting together may both send such a batch: delivery is at least
        once.)"""
        resumed = 0
        for key in await self.store.with_pending():
            try:
                batches = await self.store.pending(key)
                chat = next((b for b in batches if b.chat_id is not None), None)
                if chat is None or chat.chat_id is None:
                    continue  # written before batches carried their chat: its next update
                conversation = (await self.store.load(key, -1)).conversation
                if chat.lang is not None and conversation.version == 0:
                    conversation.lang = chat.lang  # erased: only the batch knows his language
            except Exception as exc:
                log.error("pending outbox not resumed", error=type(exc).__name__)
                continue
            self.kick(key, chat.chat_id, conversation)
            resumed += 1
        if resumed:
            log.info("pending outboxes resumed", conversations=resumed)
        return resumed

    @property
    def retrying(self) -> frozenset[str]:
        """Conversations whose delivery failed and will be tried again by itself."""
        return frozenset(self._timers)

    async def _run(self, key: str) -> None:
        target = self._running[key]
        failed = False
        try:
            while True:
                target.again = False
                for batch in await self.store.pending(key):
                    await self._deliver(key, target, batch)
                if target.conversation.owns_case:
                    await self.store.touch_indexes(target.conversation, key)
                if not target.again:
                    break
        except Exception as exc:
            # the batch stays in the outbox: tried again later, or by the next update
            failed = True
            log.error("delivery failed", error=type(exc).__name__)
        finally:
            del self._running[key]
        if failed:
            self._retry_later(key, target)
        else:
            self._backoff.pop(key, None)
            self._progress.pop(key, None)

    async def _deliver(self, key: str, target: _Target, batch: Batch) -> None:
        done = self._progress.setdefault(key, {})

        def progress(count: int) -> None:
            done[batch.entry_id] = count

        await self.renderer.render(
            key,
            target.chat_id,
            target.conversation,
            batch,
            done=done.get(batch.entry_id, 0),
            progress=progress,
        )
        erased = any(isinstance(e, Erase) for e in batch.effects)
        await self.store.ack(key, batch.entry_id, erased=erased)
        done.pop(batch.entry_id, None)

    def _retry_later(self, key: str, target: _Target) -> None:
        """Redis or Telegram may be back in a moment: no caller waits for his next message to
        get the answer to the last one."""
        delay = min(self.retry_max, self._backoff.get(key, self.retry_first / 2) * 2)
        self._backoff[key] = delay
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(
            delay, self._retry, key, target.chat_id, target.conversation
        )

    def _retry(self, key: str, chat_id: int, conversation: Conversation) -> None:
        self._timers.pop(key, None)
        self.kick(key, chat_id, conversation)

    async def drain(self) -> None:
        """Wait until everything kicked so far is delivered (tests, console, shutdown); retries
        scheduled for later are not waited for (see `retrying`, `stop`)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def stop(self) -> None:
        """Cancel the scheduled retries (shutdown): what is pending stays in the outbox."""
        self.accepting = False
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
