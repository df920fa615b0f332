"""The values the dialogue works on: the conversation, what a caller sends, what the flow asks for.

Everything here is plain data (no I/O, no Telegram). The conversation splits into `fields`, the
personal details a caller gave (sealed at rest by the store), and everything else, which is
deliberately free of personal data so it can be stored, logged and counted as it is.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, Final

from flows.channels import EMPTY, GenuineList, Origin

Params = Mapping[str, str | int]


class Priority(IntEnum):
    """Escalation priority; a higher value is served first."""

    NORMAL = 1
    HIGH = 2
    HIGHEST = 3


@dataclass(slots=True)
class Conversation:
    """One caller's dialogue. `fields` holds personal data; every other attribute must not."""

    state: str = "start"
    lang: str = "ru"
    fields: dict[str, str] = field(default_factory=dict)
    version: int = 0
    # where handoff / confirmation states go back to
    return_to: str | None = None
    confirm_from: str | None = None  # where a withdrawal confirmation goes back to on "no"
    sos_from: str | None = None  # where "no danger now" goes back to
    # the details step was entered from review: an answer goes back to review
    editing: bool = False
    escalated: bool = False
    priority: int = 0
    claimed: bool = False  # an operator has taken the escalation (he guides, not just reads)
    # an operator wrote while the caller was here: where "go on where I was" takes him back
    talk_from: str | None = None
    invalid_streak: int = 0
    code_locked: bool = False  # this account failed the code check too often
    # case this conversation registered (owner) or linked to (after code + birth date)
    case_id: str | None = None
    owns_case: bool = False
    # the case found by a typed code (None: none found), waiting for the birth-date check;
    # the date is checked against the owner's sealed field, never against a digest of it
    pending_case_id: str | None = None
    code_digest: str | None = None
    updated_at: float = 0.0

    def meta(self) -> dict[str, Any]:
        """Everything but the personal fields, as JSON-ready data. (Every such attribute is a
        scalar: read one by one, not with `dataclasses.asdict`, which deep-copies each.)"""
        return {name: getattr(self, name) for name in _META}

    @classmethod
    def from_parts(cls, meta: Mapping[str, Any], fields: Mapping[str, str]) -> Conversation:
        kwargs = {k: v for k, v in meta.items() if k in _META}
        return cls(fields=dict(fields), **kwargs)

    def copy(self) -> Conversation:
        return dataclasses.replace(self, fields=dict(self.fields))


_META: Final = tuple(f.name for f in dataclasses.fields(Conversation) if f.name != "fields")


# ---------------------------------------------------------------------------------------------
# What the caller (or an operator, or the store) sends into the flow


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    # where the links hidden under words of the message go (Telegram's text links): a
    # look-alike can show a genuine name over a link to itself
    links: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Press:
    """A button: `button` is the id from the flow data, never a label. `screen` is the state whose
    message carried the button (inline buttons); a press from another screen's message is stale."""

    button: str
    screen: str | None = None


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # without the slash: "start", "help", "status", "operator", "language", ...


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Contact:
    phone: str
    own: bool  # the contact shared is the caller's own


@dataclass(frozen=True, slots=True)
class Media:
    """Content the flow cannot read as an answer: sticker, photo, voice, video_note, document...
    with its caption and, for a file, the name and type it claims (for the desk's relay)."""

    kind: str
    caption: str | None = None
    file_name: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True, slots=True)
class Edited:
    kind: str = "text"


@dataclass(frozen=True, slots=True)
class Forwarded:
    kind: str = "text"
    origin: Origin | None = None  # where the post came from, when Telegram says


@dataclass(frozen=True, slots=True)
class StaleButton:
    """A button from an old message (its conversation version has moved on)."""


@dataclass(frozen=True, slots=True)
class ChooseLanguage:
    lang: str


class FlowAction(StrEnum):
    """What an operator's action does to the caller's dialogue (the machine's trigger is
    `op_<value>`)."""

    MEET = "meet"  # with the meeting's time and place
    MET = "met"
    ABORT = "abort"
    END = "end"
    ERASE = "erase"
    # not triggers of the machine: whether an operator has the case, and his message to it
    CLAIM = "claim"
    RELEASE = "release"
    TALK = "talk"  # params["message"]: the message's id in the group
    SAY = "say"  # a canned reply: params["canned"] its name, and the values it takes


@dataclass(frozen=True, slots=True)
class OperatorAction:
    """An operator acted on this caller's case: meet (with the meeting `params` time and
    place), met, abort, end, erase; claim and release (whether someone guides him); talk (he
    wrote in the case's topic: `params["message"]` is that message's id in the group)."""

    action: FlowAction
    params: Params = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CaseFound:
    """The store's answer to a `Lookup`: the case behind a typed code, or None, and how many
    failed checks this account has left (counted in Redis, across erasures)."""

    case_id: str | None
    account_left: int = 1


@dataclass(frozen=True, slots=True)
class BirthChecked:
    """The answer to a `VerifyBirth`: whether the date matched the case's, the tries this
    account has left, and what the desk must hear (failures of the case, a lock made by this
    one, a probing campaign seen across all cases)."""

    matched: bool
    account_left: int
    case_failures: int = 0
    locked_now: bool = False
    campaign: int = 0


Event = (
    Text
    | Press
    | Command
    | Location
    | Contact
    | Media
    | Edited
    | Forwarded
    | StaleButton
    | ChooseLanguage
    | OperatorAction
    | CaseFound
    | BirthChecked
)


# ---------------------------------------------------------------------------------------------
# What the flow asks the outside world to do


@dataclass(frozen=True, slots=True)
class Button:
    id: str
    label: str  # message id of the label
    kind: str = "choice"  # choice | contact | location


@dataclass(frozen=True, slots=True)
class Reply:
    """A message to the caller. `params` may hold personal data (review, status): sealed."""

    message_id: str
    params: Params = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()
    inline: bool = False  # buttons stay attached to this message (review, confirmations)
    step: tuple[int, int] | None = None  # "step k of n"
    screen: str | None = None  # the state this message shows; its inline buttons belong to it


@dataclass(frozen=True, slots=True)
class DeleteInput:
    """Delete the caller's message: it held personal data that is now captured."""

    message_ref: int


@dataclass(frozen=True, slots=True)
class Relay:
    """Show the caller's message in the case topic of the operator desk, marked as his. `text`
    is what he typed (a button: its id; media: the caption), so the desk can show it after
    the message itself was deleted from his chat; a file's claimed name and type let the desk
    hold back executables and archives. The content does not make two relays different."""

    message_ref: int
    kind: str
    text: str | None = field(default=None, compare=False)
    file_name: str | None = field(default=None, compare=False)
    mime_type: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class FromOperator:
    """Copy the operator's message `message_id` of the case topic into the caller's chat. Only
    its id in the group is kept: what he wrote stays in the group, never in the outbox."""

    message_id: int


@dataclass(frozen=True, slots=True)
class Escalate:
    priority: Priority
    reason: str  # emergency | recall | operator | relatives | legion | invalid | code | voice


@dataclass(frozen=True, slots=True)
class SilentAlert:
    """Raised on the case card only; the caller must see nothing unusual."""

    reason: str


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """A case event for the desk and the hooks: registered, escalated, claimed, recall, meetup,
    completed, withdrawn, erased; and, for the desk only, "left" (the caller ended a hand-off
    or meeting himself), "talk" (an operator's message opened a live conversation), "talk-back"
    (the caller went back to his step), "talk-ended" (the operator closed it).

    `case`: the case an ending (completed, withdrawn, erased) names, which its conversation,
    erased in the same turn, no longer holds when the desk and the hooks hear of it (the desk
    keeps nothing of a case that never reached it). It says which case, not what happened, so
    events compare without it."""

    kind: str
    case: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Lookup:
    """Find the case whose code has this keyed digest; answered with a `CaseFound` event."""

    code_digest: str


@dataclass(frozen=True, slots=True)
class VerifyBirth:
    """Check a typed birth date against the case of `pending_case_id`: a query answered before
    the commit with a `BirthChecked` event, never stored."""

    birth_date: str


@dataclass(frozen=True, slots=True)
class LinkNotice:
    """For the desk, on the card and in the topic of the case (not of this conversation):
    linked, unlinked, withdraw-request, failed (`count` failed checks), locked; campaign (no
    case: `count` failures across all cases)."""

    kind: str
    case_id: str | None = None
    count: int = 0


@dataclass(frozen=True, slots=True)
class Scrub:
    """Delete the bot's messages in the chat that showed something a seized phone must not
    (the review summary, the code, the safety-word prompt and its confirmation)."""


@dataclass(frozen=True, slots=True)
class RegisterCase:
    case_id: str
    code_digest: str


@dataclass(frozen=True, slots=True)
class Erase:
    """Erase every key of this conversation and its case; `wipe_chat` also deletes what the bot
    can still delete in the chat (/forget).

    `case_id` is the case the conversation had. Owned (`linked` false), its code and case
    indexes live in other slots and are removed after the commit. `linked`: the conversation
    was only linked to the case (a re-call from another account with code and birth date), so
    the case ends here too: the owner's conversation, its desk record and the indexes go.
    `met`: the case ended met, so its desk topic stays, closed, for the retention period
    (bot.desk.retention), whichever account's conversation ended it."""

    wipe_chat: bool = False
    case_id: str | None = None
    code_digest: str | None = None  # of an owned case only
    linked: bool = False
    met: bool = False


@dataclass(frozen=True, slots=True)
class DeskDone:
    """The desk's part of an operator's action that reached the caller's conversation (the
    escalation closed, the group told who did it): committed with the action and delivered from
    the same outbox, so a network error after the commit never loses it."""

    action: str
    operator: str  # the operator's keyed digest
    # one step of it, done and recorded before the next (bot.desk.followups: "audit", "card",
    # "post", ...); "" for all at once, as batches committed before there were steps
    step: str = ""
    case: str = ""  # the case's pseudonymous id, for the audit line
    via: str = ""  # how the operator did it: "button", "command"


Effect = (
    Reply
    | DeleteInput
    | Relay
    | FromOperator
    | Escalate
    | SilentAlert
    | CaseEvent
    | Lookup
    | VerifyBirth
    | RegisterCase
    | Erase
    | DeskDone
    | LinkNotice
    | Scrub
)


@dataclass(frozen=True, slots=True)
class Context:
    """What the engine needs from outside, passed in so the engine itself stays pure."""

    now: float
    today: datetime.date
    new_code: Callable[[], str]
    new_case_id: Callable[[], str]
    digest: Callable[[str, str], str]  # keyed hash (namespace, value)
    message_ref: int | None = None
    genuine: GenuineList = EMPTY  # the team's list of genuine channels, bots and sites
    # the safety word of the case this conversation is linked to (it belongs to the case)
    case_safety_word: str | None = None
