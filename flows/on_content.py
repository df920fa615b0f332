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
    answers.unusable(turn, "contact", "wrong-content", {"kind": "contact"})


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
