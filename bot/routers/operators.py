"""The operator group: what listed operators write in a case topic goes to the caller.

Only ids in OPERATOR_IDS may act; anyone else is refused and logged. A line starting with `!` is
an internal note and is never sent. Chatter outside case topics is never stored.
"""

from __future__ import annotations

import structlog
from aiogram import F, Router
from aiogram.types import Message

from bot.desk import Desk
from bot.settings import Settings

log = structlog.get_logger("hotline.operators")

router = Router(name="operators")


def _in_desk(message: Message, settings: Settings) -> bool:
    return settings.operator_chat_id is not None and message.chat.id == settings.operator_chat_id


@router.message(F.chat.type.in_({"group", "supergroup"}), F.message_thread_id)
async def on_topic_message(message: Message, desk: Desk, settings: Settings) -> None:
    if message.chat.id != desk.chat_id:
        return
    user = message.from_user
    if user is None or user.id not in settings.operator_ids:
        log.warning("refused: not an operator", action="topic-message")
        return
    if (message.text or message.caption or "").startswith("!"):
        return  # an internal note
    key = await desk.conversation_of_topic(message.message_thread_id or 0)
    if key is None:
        return
    await desk.relay_to_caller(key, message.message_id)
