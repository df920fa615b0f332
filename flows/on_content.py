"""Locations, contacts, media, edits, forwards and old buttons."""

from __future__ import annotations

from flows import answers, channels, fields, steps
from flows import surrender as flow
from flows.model import (
    Contact,
    Edited,
    Forwarded,
    Location,
    Media,
    Priority,
    StaleButton,
)
from flows.reading import Expects
from flows.relaying import relay_of
from flows.screens import NOT_GIVEN
from flows.turn import Turn

HEARD_KINDS = frozenset({"voice", "video_note"})  # relayed even outside a hand-off


def on_location(turn: Turn, event: Location) -> None:
    screen = flow.SCREENS[turn.conv.state]
    if screen.expects is Expects.LOCATION and screen.answer is not None:
        # where he is must not stay on his phone (the screen deletes it once taken)
        location = f"{event.latitude:.5f},{event.longitude:.5f}"
        answers.take(turn, screen.answer, location, relay="location")
    elif turn.conv.escalated:
        # for the operator who follows the chat (he may have asked for it): kept sealed for
        # his private reveal, as a map link there; the topic hears only that one came
        turn.conv.fields[SHARED_LOCATION] = f"{event.latitude:.5f},{event.longitude:.5f}"
        _passed_on(turn, "location", "location-passed")
    else:
        answers.unusable(turn, "location", "wrong-content", {"kind": "location"})


def on_contact(turn: Turn, event: Contact) -> None:
    answer = flow.SCREENS[turn.conv.state].answer
    if answer is not None and answer.contact:
        if not event.own:
            steps.rejected(turn, fields.Rejected("contact-not-own"))
            return
        outcome = fields.shared_phone(event.phone)
        if isinstance(outcome, fields.Rejected):
            steps.rejected(turn, outcome)
            return
        answers.take(turn, answer, outcome.value)
        return
    if turn.conv.escalated:
        _contact_for_operator(turn, event)
        return
    answers.unusable(turn, "contact", "wrong-content", {"kind": "contact"})


SHARED_LOCATION = "shared_location"
# Where a contact shared for the operator is kept: sealed with his details, shown only in the
# claiming operator's private reveal (a topic is read by every member of the group)
SHARED_CONTACT_FIELDS = {True: "shared_phone", False: "shared_contact"}


def _contact_for_operator(turn: Turn, event: Contact) -> None:
    """A contact shared while an operator follows the chat: kept sealed for the reveal; the
    topic is told only that one was shared (the Relay carries no number)."""
    turn.conv.fields[SHARED_CONTACT_FIELDS[event.own]] = fields.clean_text(event.phone)[:32]
    _passed_on(turn, "contact", "contact-passed")


def _passed_on(turn: Turn, kind: str, notice: str) -> None:
    """Kept for the operator: the topic told, his message gone from the chat, and he told so
    (with the step's buttons where a question still waits)."""
    steps.relay_if_escalated(turn, kind)
    steps.delete_input(turn)
    if answers.live_relay(turn.conv.state):
        turn.say(notice)
    else:
        steps.refuse(turn, notice)


def on_media(turn: Turn, event: Media) -> None:
    ref = turn.ctx.message_ref
    if event.kind in HEARD_KINDS and ref is not None:
        # a caller who cannot type must still be heard
        if not turn.conv.escalated:
            turn.escalate(Priority.NORMAL, "voice")
        turn.effects.append(relay_of(event, ref, event.kind))
        steps.again(turn, "voice-relayed")
        return
    answers.unusable(turn, event.kind, "wrong-content", {"kind": event.kind})


def on_edited(turn: Turn, event: Edited) -> None:
    answers.unusable(turn, "edit", "edit-ignored")


def on_forwarded(turn: Turn, event: Forwarded) -> None:
    """A post forwarded from a channel or a bot is a question: is this one genuine?"""
    origin = event.origin
    # a person's message forwarded is not a question about a channel (and may be an answer)
    if origin is None or origin.kind not in {"channel", "bot", "chat"}:
        answers.unusable(turn, "forward", "forward-refused")
        return
    steps.relay_if_escalated(turn, "forward")
    entry = channels.check_forward(turn.ctx.genuine, origin)
    if entry is not None:
        turn.say("channel-genuine", {"name": entry.name, "address": entry.address})
    else:
        turn.say("channel-unknown", {"address": origin.shown or NOT_GIVEN})


def on_stale(turn: Turn, event: StaleButton) -> None:
    steps.refuse(turn, "stale-button")
