"""What a commit hands the deliverer (`Handover`) and what the deliverer keeps of a delivery
under way (`Run`, `Unrecorded`): the state of bot.deliver, apart from how it moves."""

from __future__ import annotations

from dataclasses import dataclass, field

from flows.model import Conversation
from flows.store import Batch


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


@dataclass(slots=True)
class Unrecorded:
    """Progress of a batch that reached Telegram but not Redis yet."""

    done: int
    message_ids: list[int] = field(default_factory=list)
    secret_ids: list[int] = field(default_factory=list)  # of them, what `Scrub` deletes
