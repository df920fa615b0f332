"""Every message id the product can show, with the variables it is given.

`hotline flow check` proves the flow uses no id outside this catalogue; `hotline locales check`
proves both packs carry every id here with exactly these variables, all of them used.
"""

from __future__ import annotations

from flows import engine, relatives
from flows import surrender as flow
from flows.catalogue_shift import CANNED_TO_CALLER, SHIFT_DESK, SHIFT_MENU
from flows.surrender import DETAILS

_NONE: frozenset[str] = frozenset()


def _vars(*names: str) -> frozenset[str]:
    return frozenset(names)


REVIEW_VARS = _vars(*(d.name.replace("_", "-") for d in DETAILS))

# Messages shown to callers, with their variables
CALLER: dict[str, frozenset[str]] = {
    # screens
    **{screen.prompt: _NONE for screen in flow.SCREENS.values()},
    "review": REVIEW_VARS,
    "meetup": _vars("guided"),
    "request-review": _vars("where", *(d.param for d in relatives.REQUEST)),
    "request-sent": _vars("code"),
    "legion-info": _vars("apply"),
    "check-info": _vars("hotline"),
    "review-given": REVIEW_VARS,
    "btn-code-written": _NONE,
    "step": _vars("k", "n"),
    # buttons
    **{b.label: _NONE for screen in flow.SCREENS.values() for b in screen.buttons},
    **{f"btn-lang-{lang}": _NONE for lang in flow.LANGUAGES},
    # notices of the engine
    **dict.fromkeys(engine.NOTICES, _NONE),
    "status": _vars("phase"),
    "code-once": _vars("code"),
    "wrong-content": _vars("kind"),
    "invalid-code-format": _vars("example"),
    "code-or-date-mismatch": _vars("left"),
    "meeting-instructions": _vars("time", "place"),
    "channel-genuine": _vars("name", "address"),
    "channel-unknown": _vars("address"),
    # rejections of flows.fields
    "invalid-name-length": _vars("min", "max"),
    "invalid-name-chars": _NONE,
    "invalid-birth-format": _vars("example"),
    "invalid-birth-date": _vars("example"),
    "invalid-birth-age": _vars("min", "max"),
    "invalid-unit-length": _vars("max"),
    "invalid-rank-length": _vars("max"),
    "invalid-service-number": _vars("max"),
    "invalid-people-number": _vars("example"),
    "invalid-people-range": _vars("min", "max"),
    "invalid-area-length": _vars("max"),
    "invalid-phone": _vars("example"),
    "contact-not-own": _NONE,
    "invalid-injuries-length": _vars("max"),
    "invalid-location-length": _vars("min", "max"),
    "invalid-safety-word": _vars("max"),
    "invalid-note-length": _vars("min", "max"),
    "invalid-answer-length": _vars("max"),
    # canned replies an operator sends (flows.catalogue_shift)
    **CANNED_TO_CALLER,
    # the Telegram layer
    "rate-limited": _NONE,
    "try-again-later": _NONE,
    **{f"cmd-{command}": _NONE for command in flow.COMMANDS},
}

# Messages shown to operators in the desk group (Ukrainian by default)
DESK_CASE_ACTIONS = (
    "claim",
    "release",
    "details",
    "verified",
    "meet",
    "met",
    "abort",
    "close",
    "erase",
)
DESK_BUTTONS = (
    *DESK_CASE_ACTIONS,
    "confirm-met",
    "confirm-erase",
    "confirm-abort",
    "cancel",
    "open-topic",
    "unlock",
)
# the operator group's command menu (setMyCommands for that chat), in this order
DESK_MENU = (*DESK_CASE_ACTIONS, "unlock", *SHIFT_MENU, "stats", "help")
DESK: dict[str, frozenset[str]] = {
    **{f"desk-cmd-{name}": _NONE for name in DESK_MENU},
    # parts the others refer to (they see the same variables)
    "desk-stage": _vars("stage"),
    "desk-priority": _vars("priority"),
    "desk-reason": _vars("reason"),
    "desk-alert": _vars("reason"),
    "desk-topic-title": _vars("code", "stage"),
    "desk-card": _vars(
        "code", "stage", "state", "priority", "reason", "since", "operator", "verified"
    ),
    "desk-card-alert": _vars("reason"),
    **{f"desk-btn-{name}": _NONE for name in DESK_BUTTONS},
    "desk-escalated": _vars("priority", "reason"),
    "desk-queue": _vars("code", "priority", "reason"),
    "desk-reannounce-emergency": _vars("code", "reason", "minutes", "operators"),
    "desk-digest": _vars("count"),
    "desk-digest-line": _vars("code", "priority", "reason", "minutes"),
    "desk-digest-more": _vars("count"),
    "desk-from-caller": _vars("kind"),
    "desk-caller-links": _NONE,
    "desk-caller-document": _NONE,
    "desk-caller-file-held": _vars("name", "type"),
    "desk-caller-location": _NONE,
    "desk-caller-contact": _NONE,
    "desk-silent-alert": _vars("reason"),
    "desk-case-ended": _NONE,
    "desk-feed": _vars("code", "event"),
    "desk-operator": _vars("n"),
    "desk-claimed": _vars("operator"),
    "desk-released": _vars("operator"),
    "desk-taken": _vars("operator"),
    "desk-yours": _NONE,
    "desk-claim-first": _NONE,
    "desk-not-claimer": _vars("operator"),
    "desk-refused": _NONE,
    "desk-topic-only": _NONE,
    "desk-no-case": _NONE,
    "desk-not-now": _NONE,
    "desk-done": _vars("operator", "action"),
    "desk-meet-usage": _NONE,
    "desk-confirm": _vars("action"),
    "desk-confirm-typed": _vars("action"),
    "desk-details": _vars("code", "operator", "minutes"),
    "desk-field": _vars("field"),
    "desk-details-empty": _NONE,
    "desk-details-sent": _vars("minutes"),
    "desk-details-start-bot": _vars("bot"),
    "desk-stats": _vars("open", "waiting", "claimed", "claims", "minutes", "seconds"),
    "desk-stats-stage": _vars("stage", "count"),
    "desk-member-joined": _vars("listed"),
    "desk-help": _NONE,
    "desk-relay-failed": _NONE,
    "desk-stale": _NONE,
    "desk-case-gone": _NONE,
    "desk-not-waiting": _NONE,
    "desk-relay-ended": _NONE,
    "desk-caller-left": _vars("stage"),
    "desk-talk": _vars("stage"),
    "desk-talk-back": _NONE,
    # links to a case, failed checks, probes (bot.desk.linking)
    "desk-card-links": _vars("linked", "unlinked", "failed", "locked"),
    "desk-link-linked": _NONE,
    "desk-link-unlinked": _NONE,
    "desk-link-withdraw-request": _NONE,
    "desk-link-failed": _vars("count", "limit"),
    "desk-link-locked": _vars("count"),
    "desk-link-unlocked": _vars("operator"),
    "desk-queue-locked": _vars("code", "count"),
    "desk-probe-campaign": _vars("count", "minutes"),
    "desk-record-damaged": _vars("reason"),
    # shown to the caller, in the caller's language, before an operator's corrected message
    "desk-relay-correction": _NONE,
    # the shift's own tools: canned replies, /queue, /handover, /probe, /block, strangers
    **SHIFT_DESK,
}

ALL: dict[str, frozenset[str]] = {**CALLER, **DESK}
