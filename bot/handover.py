"""What a commit hands the deliverer (`Handover`) and what the deliverer keeps of a delivery
under way (`Run`, `Unrecorded`): the state of bot.deliver, apart from how it moves; and what
rides on its records (`Riders`: the desk lane's jobs)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Final, Protocol

from flows.model import (
    CaseEvent,
    Conversation,
    DeleteInput,
    Effect,
    Escalate,
    RegisterCase,
    Relay,
    Scrub,
    SilentAlert,
)
from flows.outbox import Push, Recorded
from flows.store import Batch


class Riders(Protocol):
    """Writes of the conversation's slot that an effect leaves to the record of its progress
    (bot.desk.lane: the desk's jobs), so that they are made exactly when it is recorded."""

    def riding(self, key: str) -> AbstractContextManager[None]:
        """Around the rendering of the conversation's batch: what is left meanwhile waits for
        `take` (and is dropped when the rendering stops: its effect is applied again)."""
        ...

    def take(self, key: str) -> Push | None:
        """What the effect just applied left, for the record of its progress."""
        ...

    def landed(self, key: str, push: Push, recorded: Recorded) -> None:
        """`push` went with that record (or had gone with an earlier one)."""
        ...

    def left(self, key: str) -> bool:
        """Something waits for `take`."""
        ...


# What the renderer hands to the desk and nothing else (bot.render): applied, it left at most
# jobs to ride on its record
DESK_ONLY = (Escalate, Relay, SilentAlert, CaseEvent)
# Effects that do no harm applied again: deletions, and the index writes (which every rendering
# of a batch makes first anyway, bot.render)
REPEATABLE = (DeleteInput, Scrub, RegisterCase)


def rides_on_next(
    effects: tuple[Effect, ...], done: int, sent: list[int], left: bool, lane: bool
) -> bool:
    """Whether the progress of the `done`-th effect is left to the next one's record: it sent
    nothing and does no harm applied again (`REPEATABLE`, or it `left` desk jobs and did no
    more: bot.desk.lane), and the next one reaches no one before its own record (it writes
    the indexes, or goes to the desk `lane` alone). That record carries both (the jobs in
    order); a process dying in between applies both again, having pushed neither."""
    if sent or done >= len(effects):
        return False
    this, after = effects[done - 1], effects[done]
    repeatable = isinstance(this, REPEATABLE) or (left and isinstance(this, DESK_ONLY))
    quiet = isinstance(after, RegisterCase) or (lane and isinstance(after, DESK_ONLY))
    return repeatable and quiet


class LeaseLost(RuntimeError):
    """Another process took this conversation's delivery over (ours stalled past the lease)."""


@dataclass(frozen=True, slots=True)
class Handover:
    """A batch its commit handed to this process's deliverer, and what the commit said."""

    batch: Batch
    leased: bool  # the commit took the delivery lease for this process
    alone: bool  # nothing else was pending: no need to read the outbox
    reindex: bool = False  # the case indexes are due a refresh


@dataclass(slots=True)
class Run:
    """One conversation's delivery under way in this process."""

    chat_id: int
    conversation: Conversation
    again: bool = False
    held: bool = False  # the lease is this process's (taken by a commit, or by `Lease.hold`)
    held_since: float = 0.0  # loop time of the commit that took it
    read: bool = True  # the outbox must be read (a retry, start-up, another process's batch)
    has_read: bool = False  # it was read in this run
    batches: list[Batch] = field(default_factory=list)  # to deliver, in order
    last: int = 0  # the newest batch delivered in this run (a batch is never sent twice)
    reindex: bool = False
    kept_until: float = 0.0  # loop time until which the lease was lengthened (a long wait)


@dataclass(frozen=True, slots=True)
class Kept:
    """What a step's record does to the caller's secret messages besides adding the ids it
    sent (bot.ephemeral): `scrubbed`, a `Scrub` deleted them and their list goes; `chat`, one
    sent must go in time and the sweep needs his chat id (sealed) to delete it."""

    scrubbed: bool = False
    chat: str = ""

    def plus(self, later: Kept) -> Kept:
        """What two steps' records do, written as one."""
        return Kept(self.scrubbed or later.scrubbed, later.chat or self.chat)


KEPT_NOTHING: Final = Kept()


@dataclass(slots=True)
class Unrecorded:
    """Progress of a batch that reached Telegram but not Redis yet."""

    done: int
    message_ids: list[int] = field(default_factory=list)
    secret_ids: list[int] = field(default_factory=list)  # of them, what `Scrub` deletes
    kept: Kept = KEPT_NOTHING
    push: Push | None = None  # what rides on it (`Riders`)

    def add(self, done: int, sent: list[int], secret: list[int], kept: Kept) -> None:
        """The progress of one more effect (which sent `sent`, of them `secret`)."""
        self.done = done
        self.message_ids.extend(sent)
        self.secret_ids.extend(secret)
        self.kept = self.kept.plus(kept)

    def ride(self, push: Push | None) -> None:
        """`push` goes with this record too (one not written yet holds its effect's)."""
        if push is not None and self.push is not None:
            push = Push(push.part, self.push.records + push.records, push.keep, push.peek)
        self.push = push or self.push
