"""An ending's case event names its case (flows.model.CaseEvent.case): the conversation is fresh
by the time the desk and the hooks hear of it, and the desk keeps nothing of a case that never
reached it, so the event is all that says which case ended. Through the outbox's JSON too."""

from __future__ import annotations

from flows import codec
from flows.model import CaseEvent, FlowAction, OperatorAction
from tests.unit.test_engine import CASE_ID, reach


def _events(effects: object) -> list[tuple[str, str | None]]:
    assert isinstance(effects, list)
    return [(e.kind, e.case) for e in effects if isinstance(e, CaseEvent)]


def test_every_ending_names_the_case_it_ends() -> None:
    caller = reach("registered")
    caller.command("forget")
    assert _events(caller.effects) == [("erased", CASE_ID)]

    caller = reach("registered")
    caller.command("cancel")
    caller.press("withdraw-yes")
    assert _events(caller.effects) == [("withdrawn", CASE_ID)]

    caller = reach("meetup")
    caller.send(OperatorAction(FlowAction.MET))
    assert _events(caller.effects) == [("completed", CASE_ID)]

    caller = reach("recall_location")  # registered, and at the desk again
    caller.send(OperatorAction(FlowAction.ERASE))
    assert ("erased", CASE_ID) in _events(caller.effects)


def test_other_events_name_no_case_and_compare_without_it() -> None:
    caller = reach("menu")
    caller.command("operator")
    assert _events(caller.effects) == [("escalated", None)]
    assert CaseEvent("erased", case=CASE_ID) == CaseEvent("erased")


def test_the_case_survives_the_outbox() -> None:
    event = CaseEvent("completed", case=CASE_ID)
    (back,) = codec.decode_effects(codec.loads(codec.dumps(codec.encode_effects([event]))))
    assert isinstance(back, CaseEvent)
    assert (back.kind, back.case) == ("completed", CASE_ID)
