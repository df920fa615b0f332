"""Every message id the product can show, with the variables it is given.

`hotline flow check` proves the flow uses no id outside this catalogue; `hotline locales check`
proves both packs carry every id here with exactly these variables, all of them used.
"""

from __future__ import annotations

from flows import engine
from flows import surrender as flow
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
    "registered": _vars("code"),
    "step": _vars("k", "n"),
    # buttons
    **{b.label: _NONE for screen in flow.SCREENS.values() for b in screen.buttons},
    **{f"btn-lang-{lang}": _NONE for lang in flow.LANGUAGES},
    # notices of the engine
    **dict.fromkeys(engine.NOTICES, _NONE),
    "status": _vars("phase", "code"),
    "wrong-content": _vars("kind"),
    "invalid-code-format": _vars("example"),
    "code-not-found": _vars("left"),
    "code-birth-mismatch": _vars("left"),
    "meeting-instructions": _vars("time", "place"),
    # rejections of flows.fields
    "invalid-name-length": _vars("min", "max"),
    "invalid-name-chars": _NONE,
    "invalid-birth-format": _vars("example"),
    "invalid-birth-date": _NONE,
    "invalid-birth-age": _vars("min", "max"),
    "invalid-unit-length": _vars("max"),
    "invalid-rank-length": _vars("max"),
    "invalid-service-number": _vars("max"),
    "invalid-people-number": _NONE,
    "invalid-people-range": _vars("min", "max"),
    "invalid-area-length": _vars("max"),
    "invalid-phone": _vars("example"),
    "invalid-injuries-length": _vars("max"),
    "invalid-location-length": _vars("min", "max"),
    "invalid-safety-word": _vars("max"),
    # the Telegram layer
    "rate-limited": _NONE,
    "try-again-later": _NONE,
    **{f"cmd-{command}": _NONE for command in flow.COMMANDS},
}

# Messages shown to operators in the desk group (Ukrainian by default)
DESK: dict[str, frozenset[str]] = {
    "desk-topic-title": _vars("code", "stage"),
    "desk-escalated": _vars("priority", "reason"),
    "desk-queue": _vars("code", "priority", "reason"),
    "desk-caller-edited": _NONE,
    "desk-silent-alert": _vars("reason"),
    "desk-case-ended": _vars("event"),
}

ALL: dict[str, frozenset[str]] = {**CALLER, **DESK}
