"""Each screen says how it reads what he sends (`flows.reading`), where the engine asked which
state it was in. The ladders it replaced are kept here, as they were written, and every state
must be read as they read it: who takes typed text, the answer's field, check and buttons, the
relay to the desk, what leaves his chat, and what /status says.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest

from flows import fields, relatives, screens
from flows import surrender as flow
from flows.model import Conversation
from flows.parts import Screen
from flows.reading import Answer, Deletes, Reads
from flows.typed import Outcome

TODAY = datetime.date(2024, 5, 17)

# flows/on_text.py: the readers of typed text, by state
_STEP_VALIDATORS: dict[str, Callable[[str], Outcome]] = {
    "recall_location": fields.location_text,
    "emergency_location": fields.location_text,
    "recall_people": fields.people_count,
    "emergency_people": fields.people_count,
    "recall_injuries": fields.injuries,
    "emergency_injuries": fields.injuries,
}


def old_reader(state: str) -> Reads:
    if state == "check_channel":
        return Reads.CHANNELS
    if state == "start":
        return Reads.BEGIN
    if state in flow.TERMINAL:
        return Reads.ENDED
    if state in {"declaration", "recall_declare"}:
        return Reads.DECLARATION
    if state in flow.DETAIL_BY_STATE or state in _STEP_VALIDATORS:
        return Reads.ANSWER
    if state == "safety_word":
        return Reads.SAFETY_WORD
    if state == "recall_code":
        return Reads.CODE
    if state == "recall_birth":
        return Reads.BIRTH_DATE
    return Reads.NOTHING


# flows/steps.py: states whose refused answers were deleted
PERSONAL_ANSWERS = frozenset(
    {
        *flow.DETAIL_BY_STATE,
        *(d.state for d in relatives.REQUEST),
        "safety_word",
        "recall_code",
        "recall_birth",
        "recall_location",
        "recall_injuries",
        "emergency_location",
        "emergency_injuries",
    }
)
# states whose taken answers were deleted (on_text, on_content, the engine's presses, recall)
DELETED_WHEN_TAKEN = PERSONAL_ANSWERS | set(_STEP_VALIDATORS)


def old_status(conv: Conversation) -> str:
    """flows/screens.py's status_params."""
    state = conv.state
    if state == "confirm_withdraw" and conv.confirm_from is not None:
        state = conv.confirm_from
    if state == "talk" and conv.talk_from is not None:  # (issue 11's live conversation)
        state = conv.talk_from
    if state == "meetup_cancel":
        state = "meetup"
    if state.startswith("details_") or state in {"declaration", "review"}:
        return "form"
    if state.startswith("recall_"):
        return "recall" if state in flow.ESCALATED_STATES else "recall-start"
    if state.startswith("emergency"):
        return "emergency"
    if state in {"meetup", "handoff"}:
        return state
    if state.startswith("request_") and state != "request_sent":
        return "relatives-form"
    if relatives.is_relative_case(conv):
        return "relatives"
    if conv.case_id is not None:
        return "registered"
    return "none"


STATES = sorted(flow.SCREENS)


@pytest.mark.parametrize("state", STATES)
def test_typed_text_is_read_by_the_reader_that_read_it(state: str) -> None:
    assert flow.SCREENS[state].reads is old_reader(state)


@pytest.mark.parametrize("state", STATES)
def test_the_answer_is_kept_checked_and_relayed_as_before(state: str) -> None:
    answer = flow.SCREENS[state].answer
    detail = flow.DETAIL_BY_STATE.get(state)
    if detail is not None:
        assert answer == Answer(
            detail.name, detail.validate, detail.choices, contact=detail.contact
        )
        assert answer.relay is False  # the details reach the desk only through /details
        return
    if state not in _STEP_VALIDATORS:
        assert answer is None
        return
    assert answer is not None
    assert answer.field == state
    assert answer.relay is True
    assert answer.contact is False
    health = state in {"recall_injuries", "emergency_injuries"}
    assert answer.choices == (flow.HEALTH if health else ())
    assert answer.validate is not None
    for text in ("3", "двое", "легко ранен", "48.5, 37.9", "", "x" * 500, "у моста"):
        assert answer.validate(text, TODAY) == _STEP_VALIDATORS[state](text), text


def test_only_the_phone_question_takes_a_shared_contact() -> None:
    takes = {s for s, screen in flow.SCREENS.items() if screen.answer and screen.answer.contact}
    assert takes == {"details_phone"}


@pytest.mark.parametrize("state", STATES)
def test_his_message_leaves_his_chat_where_it_did(state: str) -> None:
    deletes = flow.SCREENS[state].deletes
    assert (deletes is Deletes.ALWAYS) is (state in PERSONAL_ANSWERS)
    assert (deletes is not Deletes.NEVER) is (state in DELETED_WHEN_TAKEN)


@pytest.mark.parametrize("state", STATES)
def test_status_says_what_it_said(state: str) -> None:
    for case_id, owns in ((None, False), ("case-1", True), ("case-1", False)):
        for remembered in (None, *STATES):
            for given in ({}, {"sought_name": "Пётр"}):
                conv = Conversation(
                    state=state,
                    confirm_from=remembered,
                    fields=dict(given),
                    case_id=case_id,
                    owns_case=owns,
                )
                assert screens.status_params(conv) == {"phase": old_status(conv)}, conv


def test_only_the_review_shows_another_prompt_once_registered() -> None:
    given = {s: screen.given for s, screen in flow.SCREENS.items() if screen.given is not None}
    assert given == {"review": "review-given"}
    conv = Conversation(state="review", case_id="case-1", owns_case=True)
    assert screens.screen_reply(conv).message_id == "review-given"
    assert screens.screen_reply(Conversation(state="review")).message_id == "review"


def test_a_screen_that_reads_an_answer_holds_one_and_only_then() -> None:
    with pytest.raises(ValueError, match="an answer"):
        Screen("ask-x", reads=Reads.ANSWER)
    with pytest.raises(ValueError, match="an answer"):
        Screen("ask-x", answer=Answer("x"))
