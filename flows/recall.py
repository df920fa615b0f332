"""The re-call from another account (code, then birth date) and the safety word.

No oracle: a typed code is looked up, and whatever the lookup finds (a case, none, a dangling
index) the caller is asked for the birth date and hears the same "the code or the date does not
match". The check itself is a query (`VerifyBirth`) the dialogue answers against the owner's
sealed birth date, counting failures in Redis (flows.linking) where no erasure resets them.

The safety word belongs to the case: it is sealed with the owner's fields and checked from every
account linked to the case (the dialogue passes it in as `Context.case_safety_word`).
"""

from __future__ import annotations

import hmac
import re

from flows import fields, steps
from flows import surrender as flow
from flows.model import BirthChecked, CaseFound, LinkNotice, Lookup, SilentAlert, VerifyBirth
from flows.reading import Reads

CODE_EXAMPLE = "K7QM-3P9X"  # the shape of a case code, shown when one is mistyped
SAFETY_WORD_MAX = 40
SAFETY_FIELD = "safety_word"


def text_code(turn: steps.Step, text: str) -> None:
    if turn.conv.code_locked:
        locked(turn)
        return
    code = fields.parse_case_code(text)
    if code is None:
        steps.rejected(turn, fields.Rejected("invalid-code-format", {"example": CODE_EXAMPLE}))
        return
    steps.delete_taken(turn)
    turn.effects.append(Lookup(turn.ctx.digest("code", code)))


def locked(turn: steps.Step) -> None:
    """No more checks from this account: an operator decides."""
    turn.conv.code_locked = True
    turn.conv.pending_case_id = None
    steps.fire(turn, "retry")  # from the date step too: a hand-off left asks for a code again
    turn.say("code-locked")
    steps.move(turn, "locked")


def on_case_found(turn: steps.Step, event: CaseFound) -> None:
    conv = turn.conv
    if flow.SCREENS[conv.state].reads is not Reads.CODE:
        return  # the answer to a lookup he has moved on from
    if event.account_left <= 0:
        locked(turn)
        return
    conv.pending_case_id = event.case_id  # None too: asked for the date all the same
    steps.move(turn, "found")


def text_birth(turn: steps.Step, text: str) -> None:
    outcome = fields.birth_date(text, turn.ctx.today)
    if isinstance(outcome, fields.Rejected):
        steps.rejected(turn, outcome)
        return
    steps.delete_taken(turn)
    turn.effects.append(VerifyBirth(outcome.value))


def on_birth_checked(turn: steps.Step, event: BirthChecked) -> None:
    conv = turn.conv
    if flow.SCREENS[conv.state].reads is not Reads.BIRTH_DATE:
        return
    case_id = conv.pending_case_id
    if event.case_failures and case_id is not None:
        turn.effects.append(LinkNotice("failed", case_id, event.case_failures))
    if event.locked_now and case_id is not None:
        turn.effects.append(LinkNotice("locked", case_id, event.case_failures))
    if event.campaign:
        turn.effects.append(LinkNotice("campaign", None, event.campaign))
    if event.matched and case_id is not None:
        steps.accepted(turn)
        steps.move(turn, "verified")
        return
    if event.account_left <= 0:
        locked(turn)
        return
    conv.pending_case_id = None
    # back to the code: which of the two was wrong is not said
    steps.fire(turn, "retry")
    steps.refuse(turn, "code-or-date-mismatch", {"left": event.account_left})


def set_safety_word(turn: steps.Step, text: str) -> None:
    word = fields.clean_text(text).casefold()
    if not 1 <= len(word) <= SAFETY_WORD_MAX:
        steps.rejected(turn, fields.Rejected("invalid-safety-word", {"max": SAFETY_WORD_MAX}))
        return
    steps.delete_taken(turn)
    turn.conv.fields[SAFETY_FIELD] = word  # sealed with the owner's fields, never a digest
    steps.accepted(turn)
    turn.say("safety-word-saved")
    steps.move(turn, "answer")


def check_safety_word(turn: steps.Step, text: str) -> bool:
    """The duress word raises a silent alert; the caller sees the normal flow. Whether it
    was there."""
    conv = turn.conv
    word = conv.fields.get(SAFETY_FIELD) if conv.owns_case else turn.ctx.case_safety_word
    if not word or not (conv.escalated or conv.state.startswith("recall_")):
        return False
    words = fields.clean_text(text).casefold()
    candidates = {words, *re.findall(r"\w+", words)}
    expected = word.encode("utf-8", "surrogatepass")
    if not any(
        hmac.compare_digest(c.encode("utf-8", "surrogatepass"), expected) for c in candidates
    ):
        return False
    turn.effects.append(SilentAlert("safety-word"))
    return True
