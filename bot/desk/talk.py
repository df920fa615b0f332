"""An operator's message in a case topic, on its way to the caller.

The operator's message is not copied by the handler of his update: it becomes an event of the
caller's conversation (`OperatorAction("talk")`), queued with the caller's own updates and
committed under the operator's update_id. Wherever the caller was answering a step (a form, the
menu, a question) that event first opens a live conversation, so what he sends next reaches the
topic and the step waits with what he had answered. The copy itself is a `FromOperator` effect
of that commit, delivered from the caller's outbox in order with the bot's own messages to him:
a redelivered update copies nothing twice, a network error after the commit loses nothing.
Only the message's id in the group is kept, never what it says.
"""

from __future__ import annotations

import structlog
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramNotFound
from aiogram.types import Message

from bot.desk.actions import DeskActions, _is_note, _kind
from bot.desk.desk import Desk
from flows.model import FlowAction, FromOperator, OperatorAction

log = structlog.get_logger("hotline.desk")

# Telegram refused for good: the message was deleted in the group, the caller blocked the bot.
# (The network and flood control raise: the batch is delivered again later.)
UNDELIVERABLE = (TelegramBadRequest, TelegramForbiddenError, TelegramNotFound)


async def copy_to_caller(desk: Desk, key: str, chat_id: int, effect: FromOperator) -> list[int]:
    """Copy the operator's message into the caller's chat; the ids it sent there (a later
    /forget deletes them). Refused for good, the topic is told nothing reached him."""
    try:
        copied = await desk.bot.copy_message(
            chat_id, desk.chat_id, effect.message_id, protect_content=True
        )
    except UNDELIVERABLE as exc:
        log.warning("relay to the caller failed", error=type(exc).__name__)
        case = await desk.state.load(key)
        if case is not None:
            await desk.post(case, desk.t("desk-relay-failed"))
        return []
    # his edits follow only what he actually received
    await desk.state.remember_relayed(key, effect.message_id, desk.clock())
    return [copied.message_id]


async def relay(
    actions: DeskActions, user_id: int, update_id: int, topic: int, message: Message
) -> str | None:
    """A message in a case topic: to the caller if its writer has the case, as an event of
    his conversation (the notice for the operator; None: nothing to say)."""
    desk = actions.desk
    case = await actions.case_of(topic)
    if case is None:
        if (
            actions.operators.listed(user_id)
            and not _is_note(message)
            and await desk.state.topic_ended(topic)
        ):
            return actions.t("desk-relay-ended")  # met, or expired: he is not there any more
        return None  # a topic of no case: the group's chatter, never stored
    if not actions.operators.listed(user_id):
        # a stranger writing in a case topic: not answered, but logged and audited
        await actions.refuse_stranger(user_id, "relay", topic, "message")
        return None
    if _is_note(message):
        return None
    refusal = await actions.claimer_only(user_id, "relay", case, "message")
    if refusal is not None:
        return refusal
    chat = desk.caller_chat(case)
    if chat is None or not await desk.state.conversation_exists(case.key):
        # his conversation expired before the service levels noticed: so they do now
        await desk.forget(case.key)
        return actions.t("desk-relay-ended")
    event = OperatorAction(FlowAction.TALK, {"message": message.message_id})
    handled = await actions.pipeline.from_desk(case.key, chat, update_id, event)
    if handled.batch is not None:  # (None: Telegram sent it again; he has it once)
        who = actions.operators.who(user_id)
        await actions.audit.record(who, "relay", case.case, result="ok", kind=_kind(message))
    return None
