"""The dialogue's live conversation with an operator, and the meeting's cancel question, as
data: `flows.surrender` joins these screens and rows into its table.

An operator writing in a case's topic opens a live conversation wherever the caller is
(`op_talk` from every state whose input is read as an answer): what he sends goes to the
operator, not into the form, and "go on where I was" (or the operator's Close) takes him back to
the very step he left, with what he had answered. "Cancel meeting", beside "I need help now",
asks once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flows.parts import Phase, Remembered, Screen, back_to, button
from flows.parts import t as _t
from flows.reading import Expects

SCREENS: dict[str, Screen] = {
    # "Cancel meeting" sits next to "I need help now": asked once before it acts
    "meetup_cancel": Screen(
        "confirm-cancel-meetup",
        (button("cancel-meetup-yes"), button("cancel-meetup-no")),
        inline=True,
        phase=Phase.MEETUP,
    ),
    # his messages go to the operator until he goes back to that step
    "talk": Screen("talk", (button("talk-back"),), expects=Expects.NONE),
}
BUTTON_TRIGGERS = {
    "cancel-meetup-yes": "cancel_meetup_yes",
    "cancel-meetup-no": "cancel_meetup_no",
    "talk-back": "talk_back",
}


def meetup_cancel_transitions() -> list[dict[str, Any]]:
    return [
        _t("cancel_meetup", "meetup", "meetup_cancel"),
        _t("cancel_meetup_no", "meetup_cancel", "meetup", before="resuming"),
        _t(
            "cancel_meetup_yes",
            "meetup_cancel",
            "registered",
            conditions="has_case",
            before="caller_left",
        ),
        _t("cancel_meetup_yes", "meetup_cancel", "menu", before="caller_left"),
    ]


def talk_transitions(sources: Sequence[str]) -> list[dict[str, Any]]:
    """Into the live conversation from `sources`, back to where it came from; at a re-call's
    question, what the re-call allows the operator still applies."""
    paused = back_to(Remembered.TALK, sources)
    return [
        _t("op_talk", list(sources), "talk", before="remember_talk"),
        _t("talk_back", "talk", paused, before="back_from_talk", after="forget_talk"),
        _t("op_end", "talk", paused, before="resuming", after="end_talk"),
        _t("talk_back", "talk", "menu", before="back_from_talk", after="forget_talk"),
        _t("op_end", "talk", "menu", after="end_talk"),
        _t(
            "op_meet",
            "talk",
            "meetup",
            conditions="talk_from_meetable",
            before="send_instructions",
            after="end_talk",
        ),
        _t(
            "op_abort",
            "talk",
            "request_sent",
            conditions=["talk_from_abortable", "relative_case"],
            after="end_talk",
        ),
        _t(
            "op_abort",
            "talk",
            "registered",
            conditions=["talk_from_abortable", "has_case"],
            after="end_talk",
        ),
        _t("op_abort", "talk", "menu", conditions="talk_from_abortable", after="end_talk"),
    ]
