"""What one event costs `engine.handle`, next to building a `transitions.Machine` per event.

Both variants run the same engine code over the same events: a full registration, a re-call
from the registering account, an operator marking the meeting done, a few stray messages, and
again from `/start`. The shared variant is `engine.handle` as it is (one `Machine` built at import,
fired on a throw-away `Turn`). The anti-pattern builds `Machine(model=turn, states=...,
transitions=..., auto_transitions=False)` for every event before the same handling runs.

Figures: events per second and mean µs per event (time.perf_counter, no tracing), and the mean
and largest tracemalloc peak per event in KiB (a separate run with tracing on).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace

from flows import engine, steps
from flows import surrender as flow
from flows.model import (
    CaseFound,
    Command,
    Contact,
    Context,
    Conversation,
    Event,
    FlowAction,
    Location,
    Media,
    OperatorAction,
    Press,
    Text,
)

ROUNDS = 100  # timed rounds per variant
SLOW_ROUNDS = 10  # of the anti-pattern (30 ms an event: 100 rounds would take 80 s)
MEMORY_ROUNDS = 10  # traced rounds per variant
KEY = b"bench-key"


def _digest(namespace: str, value: str) -> str:
    return hmac.new(KEY, f"{namespace}\x00{value}".encode(), hashlib.sha256).hexdigest()


CTX = Context(
    now=1_715_940_000.0,
    today=datetime.date(2024, 5, 17),
    new_code=lambda: "K7QM-3P9X",
    new_case_id=lambda: "case-0001",
    digest=_digest,
    message_ref=1,
)

# One round: registration, a re-call, the meeting done; it ends where /start begins anew.
ROUND: list[Event] = [
    Command("start"),
    Press("menu-surrender"),
    Text("Я иду сдаваться"),
    Text("Петренко Иван Сергеевич"),
    Text("03.02.1994"),
    Text("в/ч 12345"),
    Press("rank-sergeant"),
    Text("АВ-123456"),
    Text("сорок"),  # refused: the people step asks again
    Text("2"),
    Press("area-kharkiv"),
    Contact("+79123456789", own=True),
    Media("sticker"),  # refused: the health step asks again
    Press("health-none"),
    Press("wish-exchange"),
    Press("confirm"),
    Command("status"),
    Press("ready"),
    Text("Я иду сдаваться"),
    Location(48.51234, 37.98765),
    Text("3"),
    Text("легко ранен в руку"),
    Text("я у дороги"),  # relayed to the operator
    CaseFound(None),  # a late store answer: ignored
    Press("at-point"),
    OperatorAction(FlowAction.MET),
]


class _MachinePerEventTurn(engine.Turn):
    """The anti-pattern: a new Machine, with this turn as its model, for every event."""

    def __init__(self, conversation: Conversation, ctx: Context) -> None:
        super().__init__(conversation, ctx)
        # the machine the engine's moves fire (flows.steps), so the turn is fired on it
        steps.MACHINE = steps.FlowMachine(
            model=self,
            states=flow.STATES,
            transitions=flow.TRANSITIONS,
            initial=conversation.state,
            auto_transitions=False,
            send_event=False,
        )


@contextmanager
def _machine_per_event() -> Iterator[None]:
    shared_machine, shared_turn = steps.MACHINE, engine.Turn
    engine.Turn = _MachinePerEventTurn  # type: ignore[misc]
    try:
        yield
    finally:
        engine.Turn = shared_turn  # type: ignore[misc]
        steps.MACHINE = shared_machine


@contextmanager
def _shared_machine() -> Iterator[None]:
    yield


def _events(rounds: int) -> list[tuple[Event, Context]]:
    return [(event, replace(CTX, message_ref=i)) for i, event in enumerate(ROUND * rounds)]


def _run_round() -> list[engine.Outcome]:
    conv, outcomes = Conversation(), []
    for event, ctx in _events(1):
        outcome = engine.handle(conv, event, ctx)
        outcomes.append(outcome)
        conv = outcome.conversation
    return outcomes


def _check_round() -> None:
    """The round is the dialogue it claims to be, it ends where it can start again, and the
    anti-pattern does the very same work."""
    outcomes = _run_round()
    with _machine_per_event():
        if _run_round() != outcomes:
            raise RuntimeError("a Machine per event does not behave as the shared one")
    states = [outcome.conversation.state for outcome in outcomes]
    conv = outcomes[-1].conversation
    for expected in ("review", "registered", "recall_location", "meetup"):
        if expected not in states:
            raise RuntimeError(f"the benchmark round never reaches {expected}: {states}")
    if conv.state != "completed":
        raise RuntimeError(f"the benchmark round ends in {conv.state}, not completed")


@dataclass(frozen=True, slots=True)
class Figures:
    events: int
    seconds: float
    peak_mean_kib: float
    peak_max_kib: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds

    @property
    def mean_us(self) -> float:
        return self.seconds / self.events * 1e6


def _timed(events: list[tuple[Event, Context]]) -> float:
    conv = Conversation()
    start = time.perf_counter()
    for event, ctx in events:
        conv = engine.handle(conv, event, ctx).conversation
    return time.perf_counter() - start


def _traced(events: list[tuple[Event, Context]]) -> list[int]:
    peaks = []
    conv = Conversation()
    tracemalloc.start()
    try:
        for event, ctx in events:
            tracemalloc.reset_peak()
            before, _ = tracemalloc.get_traced_memory()
            conv = engine.handle(conv, event, ctx).conversation
            _, peak = tracemalloc.get_traced_memory()
            peaks.append(peak - before)
    finally:
        tracemalloc.stop()
    return peaks


def measure(variant: Callable[[], AbstractContextManager[None]], rounds: int = ROUNDS) -> Figures:
    timed, traced = _events(rounds), _events(MEMORY_ROUNDS)
    with variant():
        _timed(_events(2))  # warm-up
        seconds = _timed(timed)
        peaks = _traced(traced)
    return Figures(
        events=len(timed),
        seconds=seconds,
        peak_mean_kib=sum(peaks) / len(peaks) / 1024,
        peak_max_kib=max(peaks) / 1024,
    )


def main() -> None:
    _check_round()
    shared = measure(_shared_machine)
    per_event = measure(_machine_per_event, SLOW_ROUNDS)
    rows = [
        ("shared Machine (engine.handle)", shared),
        ("new Machine per event", per_event),
    ]
    print(
        f"engine.handle: {len(ROUND)} events per round (registration, re-call, meeting), "
        f"{ROUNDS} rounds timed ({SLOW_ROUNDS} of a new Machine per event), "
        f"{MEMORY_ROUNDS} traced"
    )
    header = (
        f"{'variant':<32} {'events/s':>10} {'µs/event':>10} {'peak KiB/event':>15} {'max KiB':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, f in rows:
        print(
            f"{name:<32} {f.per_second:>10,.0f} {f.mean_us:>10.1f} "
            f"{f.peak_mean_kib:>15.1f} {f.peak_max_kib:>9.1f}"
        )
    print(
        f"shared machine: {per_event.mean_us / shared.mean_us:.0f}x faster, "
        f"{per_event.peak_mean_kib / shared.peak_mean_kib:.0f}x less peak memory per event"
    )


if __name__ == "__main__":
    main()
