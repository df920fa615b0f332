"""Delivery of committed effects from the outbox, one conversation at a time and in order.

An update is acknowledged to Telegram once its effects are committed; sending them may take
longer (rate limits, 429s), so it happens here, in a task per conversation. After each effect
the progress of its batch is recorded in the outbox with the id of the message it sent, in one
round trip, before the next effect goes: a process killed in a batch sends again at most the one
message it was sending (an effect that sent nothing and does no harm applied again may leave its
progress to the next one's record, when that one reaches no one first: `rides_on_next`). When
that record cannot be written (Redis away), it is kept in memory, delivery stops, and the
record is written first when Redis answers again: what went out is never sent again. A batch
leaves the outbox once all its effects are applied, in the same call as the record of its last
effect (with REDIS_MIN_REPLICAS, WAITed for like a commit). The desk lane's jobs an effect made
ride on its record (`Riders`): pushed exactly when it is written.

The batch of an update comes from its commit (`kick` with a `Handover`): no outbox read, no
unsealing. The commit also took the conversation's delivery lease for this process, and said
whether anything else was pending; only then (a retry, start-up, another process's batch) is
the outbox read. The last acknowledgement gives the lease back.

Several processes may share one Redis: the one holding a conversation's lease (flows.locks)
delivers its outbox; the others leave it alone and look again when that lease would run out, so
a dead holder's conversations are taken over. A failed delivery is tried again by itself after a
back-off (Redis or Telegram down for a while), or at once on the conversation's next update.
What a stopped process left behind is taken up at start-up and by a periodic sweep
(`resume_pending`): every batch carries its chat id and language, sealed, so even a /forget
whose conversation is gone is finished (its chat wiped, its goodbye sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import replace

import structlog

from bot import turns
from bot.handover import Handover, Kept, LeaseLost, Riders, Run, Unrecorded, rides_on_next
from bot.render import Renderer
from flows.locks import Lease
from flows.model import Conversation
from flows.outbox import Recorded
from flows.store import Batch, ConversationStore, StoreUnavailable

log = structlog.get_logger("hotline.deliver")

RETRY_FIRST = 1.0  # seconds before a failed delivery is tried again, doubling up to RETRY_MAX
RETRY_MAX = 60.0
LEASE_TTL = 6.0  # seconds a delivery lease lasts unrenewed (a dead holder is passed over then)
# seconds a run that read the outbox waits for this process's commits in flight: longer than a
# commit's WAIT for replicas (flows.replicas, 2 s), shorter than a wait for a busy turn
HANDOVER_WAIT = 3.0
CONCURRENCY = 32  # conversations delivered at once by this process (the Redis pool is bounded)


class Deliverer:
    def __init__(
        self,
        store: ConversationStore,
        renderer: Renderer,
        *,
        retry_first: float = RETRY_FIRST,
        retry_max: float = RETRY_MAX,
        lease: Lease | None = None,
        lease_ttl: float = LEASE_TTL,
        concurrency: int = CONCURRENCY,
        riders: Riders | None = None,
    ) -> None:
        self.store = store
        self.renderer = renderer
        self.riders = riders  # what rides on the records of progress (the desk lane's jobs)
        self.retry_first = retry_first
        self.retry_max = retry_max
        self.lease = lease or Lease(store.redis)
        self.lease_ttl = lease_ttl
        self._slots = asyncio.Semaphore(concurrency)
        self._running: dict[str, Run] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # conversation -> batch entry -> progress not yet in Redis
        self._unrecorded: dict[str, dict[str, Unrecorded]] = {}
        self._backoff: dict[str, float] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        # conversations with a commit under way in this process (`committing`): a run that read
        # the outbox waits for their handover before it ends, or a batch it read and sent
        # would be handed over to a run of its own and sent again
        self._committing: dict[str, int] = {}
        self._handed: dict[str, asyncio.Event] = {}
        self.accepting = True  # until `stop` (for /readyz)

    @contextlib.contextmanager
    def committing(self, key: str) -> Iterator[None]:
        """Around the commit of an update and the `kick` that hands its batch over."""
        self._committing[key] = self._committing.get(key, 0) + 1
        try:
            yield
        finally:
            left = self._committing.pop(key) - 1
            if left:
                self._committing[key] = left
            else:
                waiting = self._handed.pop(key, None)
                if waiting is not None:
                    waiting.set()

    def kick(
        self, key: str, chat_id: int, conversation: Conversation, handover: Handover | None = None
    ) -> None:
        """Deliver what is pending for this conversation, now or right after the current run.
        With `handover` (what its commit returned) the batch goes without reading the outbox
        when the commit took the lease and nothing else was pending."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        target = self._running.get(key)
        if target is None:
            target = self._running[key] = Run(chat_id, conversation)
            task = asyncio.create_task(self._run(key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            target.read = handover is None or not (handover.leased and handover.alone)
        else:
            target.chat_id, target.conversation, target.again = chat_id, conversation, True
            target.read = target.read or handover is None or not handover.leased
        if handover is None:
            return
        target.reindex = target.reindex or handover.reindex
        # a batch this run delivered already (read from the outbox) says nothing of the lease
        if handover.leased and int(handover.batch.entry_id) > target.last:
            target.held, target.held_since = True, asyncio.get_running_loop().time()
            # what its commit read of the secret messages holds only if no batch came before
            batch = handover.batch if handover.alone else replace(handover.batch, secrets=None)
            target.batches.append(batch)

    async def resume_pending(self) -> int:
        """Kick every conversation whose outbox holds undelivered batches and that this
        process is not delivering already; how many. Whoever holds a lease delivers."""
        resumed = 0
        for key in await self.store.with_pending():
            if key in self._running or key in self._timers:
                continue
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

    async def sweep(self, every: float) -> None:
        """Resume what dead processes left, every `every` seconds (runs until cancelled)."""
        while True:
            await asyncio.sleep(every)
            with contextlib.suppress(StoreUnavailable):
                await self.resume_pending()

    @property
    def retrying(self) -> frozenset[str]:
        """Conversations whose delivery failed and will be tried again by itself."""
        return frozenset(self._timers)

    async def _run(self, key: str) -> None:
        target = self._running[key]
        failed = False
        busy_for = 0.0  # another process delivers it: look again after this long
        lease = self.store.key(key, "lease")
        try:
            # while a message waits for Telegram's limits its place is another's (bot.turns)
            async with self._slots:
                lengthen = functools.partial(self._lengthen, lease, target)
                with turns.holding(self._slots, lengthen):
                    busy_for = await self._deliver_held(key, target, lease)
        except LeaseLost:
            busy_for = self.lease_ttl
        except Exception as exc:
            # the batch stays in the outbox: tried again later, or by the next update
            failed = True
            log.error("delivery failed", error=type(exc).__name__)
            if target.held:
                with contextlib.suppress(StoreUnavailable):
                    await self.lease.release(lease)
        finally:
            del self._running[key]
        if failed:
            self._retry_later(key, target)
        elif busy_for > 0:
            self._look_again(key, target, busy_for)
        else:
            self._backoff.pop(key, None)

    async def _deliver_held(self, key: str, target: Run, lease: str) -> float:
        """Deliver while this process holds the lease; 0, or how long another one holds it."""
        loop = asyncio.get_running_loop()
        if target.held and loop.time() - target.held_since > self.lease_ttl / 2:
            target.held = False  # it waited for a slot: the lease may have lapsed since
        stop_keeping = self._keep(lease, target)
        try:
            while True:
                if not target.held:
                    busy_for = await self.lease.hold(lease, self.lease_ttl)
                    if busy_for > 0:
                        return busy_for
                    target.held, target.read = True, True
                target.again = False
                await self._record_unrecorded(key)
                if target.read:
                    target.read, target.has_read = False, True
                    # every batch handed over so far is in it, unless delivered already; one
                    # handed over while it is read may not be
                    target.batches = []
                    read = await self.store.pending(key)
                    known = {batch.entry_id for batch in read}
                    handed = [b for b in target.batches if b.entry_id not in known]
                    target.batches = sorted([*read, *handed], key=lambda b: int(b.entry_id))
                pending = -1
                while target.batches:
                    batch = target.batches.pop(0)
                    if int(batch.entry_id) > target.last:
                        pending = await self._deliver(key, target, batch)
                        target.last = int(batch.entry_id)
                if pending == 0:
                    target.held = False  # the last acknowledgement gave the lease back
                elif pending > 0:
                    target.read = True  # another's batch, or one this process left behind
                if target.reindex:
                    target.reindex = False
                    await self.store.touch_indexes(target.conversation, key)
                if target.again or target.read or target.batches:
                    continue
                if target.has_read and key in self._committing:
                    await self._handovers(key)  # what it read may be handed over still
                    continue
                if target.held:  # nothing was acknowledged last: the lease is given back here
                    target.held = False
                    with contextlib.suppress(StoreUnavailable):
                        await self.lease.release(lease)
                    if target.again or target.read or target.batches:
                        # kicked meanwhile: this run still delivers it, under the lease taken
                        # anew (the release may have come after a commit renewed it for us)
                        target.held = False
                        continue
                # nothing awaited from here on: a kick now finds no run and starts its own
                break
        finally:
            stop_keeping()
        return 0.0

    async def _handovers(self, key: str) -> None:
        """Until no commit of this conversation is under way here (a commit waiting for its
        turn a long while is not waited for: HANDOVER_WAIT at most)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(HANDOVER_WAIT):
                while key in self._committing:
                    await self._handed.setdefault(key, asyncio.Event()).wait()

    def _keep(self, lease: str, target: Run) -> Callable[[], None]:
        """Renew the lease while delivering (a 429's pause may outlast it): a timer, and a
        task only when it fires (most deliveries are over long before); returns its stop."""
        loop = asyncio.get_running_loop()
        timer: list[asyncio.TimerHandle] = []

        def renew() -> None:
            if target.kept_until - loop.time() <= self.lease_ttl * 2 / 3:
                task = loop.create_task(self._renew(lease))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            timer[0] = loop.call_later(self.lease_ttl / 3, renew)

        timer.append(loop.call_later(self.lease_ttl / 3, renew))
        return lambda: timer[0].cancel()

    async def _lengthen(self, lease: str, target: Run, seconds: float) -> None:
        """A message waits `seconds` for Telegram's limits (bot.turns): the lease is held that
        much longer at once, not renewed every few seconds meanwhile (a thousand conversations
        waiting in a burst would make hundreds of renewals a second). Should this process die
        meanwhile, another takes the conversation over when the wait is over."""
        if not target.held or seconds <= self.lease_ttl / 3:
            return
        with contextlib.suppress(StoreUnavailable):
            if await self.lease.hold(lease, seconds + self.lease_ttl) == 0:
                target.kept_until = asyncio.get_running_loop().time() + seconds + self.lease_ttl

    async def _renew(self, lease: str) -> None:
        with contextlib.suppress(StoreUnavailable):
            await self.lease.hold(lease, self.lease_ttl)

    async def _record_unrecorded(self, key: str) -> None:
        """What was sent while Redis was away is recorded before anything else goes."""
        for entry, record in list(self._unrecorded.get(key, {}).items()):
            await self._record(key, entry, record, leased=False)
            self._forget(key, entry)

    def _forget(self, key: str, entry: str) -> None:
        entries = self._unrecorded.get(key, {})
        entries.pop(entry, None)
        if not entries:
            self._unrecorded.pop(key, None)

    async def _deliver(self, key: str, target: Run, batch: Batch) -> int:
        """Send the batch; the batches left in the outbox after it."""
        last = len(batch.effects)
        pending = -1
        carried = Kept()  # what the records of effects riding on the next one do

        async def progress(done: int, sent: list[int], secret: list[int], kept: Kept) -> None:
            nonlocal pending, carried
            lane = self.riders is not None
            left = self.riders is not None and self.riders.left(key)
            if rides_on_next(batch.effects, done, sent, left, lane):
                carried = carried.plus(kept)
                return
            record = self._unrecorded.setdefault(key, {}).setdefault(
                batch.entry_id, Unrecorded(done)
            )
            record.add(done, sent, secret, carried.plus(kept))
            carried = Kept()
            record.ride(self.riders.take(key) if self.riders else None)
            recorded = await self._record(key, batch.entry_id, record, ack=done == last)
            self._forget(key, batch.entry_id)
            pending = recorded.pending
            if not recorded.held:
                raise LeaseLost

        riding = self.riders.riding(key) if self.riders else contextlib.nullcontext()
        with riding:
            await self.renderer.render(
                key, target.chat_id, target.conversation, batch, done=batch.done, progress=progress
            )
        if pending < 0:  # nothing left to send (done before): acknowledged on its own
            recorded = await self._record(key, batch.entry_id, Unrecorded(batch.done), ack=True)
            pending = recorded.pending
            if not recorded.held:
                raise LeaseLost
        return pending

    async def _record(
        self, key: str, entry: str, sent: Unrecorded, *, ack: bool = False, leased: bool = True
    ) -> Recorded:
        """The batch's progress (and with `ack` its end) recorded, `leased` under this
        process's lease: whether it is still ours, how many batches are left after it."""
        recorded = await self.store.outbox.record(
            key,
            entry,
            sent.done,
            sent.message_ids,
            secret_ids=sent.secret_ids,
            scrubbed=sent.kept.scrubbed,
            chat=sent.kept.chat,
            lease=self.lease.token if leased else "",
            lease_ttl=self.lease_ttl if leased else 0.0,
            ack=ack,
            push=sent.push,
        )
        self._landed(key, sent, recorded)
        return recorded

    def _landed(self, key: str, sent: Unrecorded, recorded: Recorded) -> None:
        if sent.push is not None and self.riders is not None:
            self.riders.landed(key, sent.push, recorded)

    def _retry_later(self, key: str, target: Run) -> None:
        """Redis or Telegram may be back in a moment: no caller waits for his next message to
        get the answer to the last one."""
        delay = min(self.retry_max, self._backoff.get(key, self.retry_first / 2) * 2)
        self._backoff[key] = delay
        self._look_again(key, target, delay)

    def _look_again(self, key: str, target: Run, delay: float) -> None:
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
