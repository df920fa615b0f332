"""What cannot be undone asks first: Met (the case ends, the caller is erased), Erase, Abort.

A card button swaps the card's buttons for "yes" and "no, back" (a step of the desk's part,
bot.desk.followups). A typed `/met`, `/erase` or
`/abort` does not act at once either: the bot answers in the topic with the same two buttons
under its question, and that message goes once it is answered either way. Either "yes" runs the
action as the button would, under its own update.
"""

from __future__ import annotations

import contextlib
from typing import Final

from aiogram.exceptions import TelegramAPIError

from bot.desk.desk import Desk
from bot.desk.kinds import CONFIRMED, DeskAction
from bot.desk.records import DeskCase

# the confirming button -> the action it confirms
CONFIRMING: Final[dict[DeskAction, DeskAction]] = {
    button: action for action, button in CONFIRMED.items()
}


async def ask_typed(desk: Desk, case: DeskCase, action: DeskAction) -> None:
    """A typed command: a question of its own in the topic, the buttons under it."""
    await desk.post(
        case,
        desk.t("desk-confirm-typed", action=action),
        desk.card_markup(case, confirm=action),
    )


async def answered(desk: Desk, case: DeskCase, message_id: int | None, *, acted: bool) -> None:
    """ "Yes" or "no, back" was pressed. A typed command's question goes either way (it must
    not be pressed again); on the card, its own buttons come back unless the action went
    ahead (then what it did redraws the card)."""
    if message_id is not None and message_id != case.card:
        with contextlib.suppress(TelegramAPIError):  # deleted already
            await desk.bot.delete_message(desk.chat_id, message_id)
    elif not acted:
        await desk.refresh_card(case)
