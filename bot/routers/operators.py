"""The operator group: commands, card buttons, the relay to the caller, joins.

Only updates from the configured group reach these handlers. Slash commands of the desk and
card buttons become `DeskActions` calls; a message in a case topic is relayed to the caller by
the operator who claimed it (a line starting with `!` is an internal note and is never sent);
anything else said in the group is neither answered nor stored.
"""

from __future__ import annotations

import structlog
from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, TelegramObject, Update

from bot.desk import talk
from bot.desk.actions import DeskActions
from bot.desk.canned_keys import SayData
from bot.desk.desk import DeskData
from bot.desk.kinds import COMMANDS, SHIFT_COMMANDS, DeskAction, desk_action
from bot.desk.service_levels import ServiceLevels
from bot.desk.shift import ShiftTools
from bot.desk.strangers import Strangers
from bot.filters import Awaited

log = structlog.get_logger("hotline.operators")

# What an operator may write to a caller (service messages and polls are not relayed)
RELAYABLE = frozenset(
    {
        "text",
        "photo",
        "voice",
        "video_note",
        "video",
        "document",
        "audio",
        "animation",
        "sticker",
        "location",
        "venue",
        "contact",
    }
)
MEMBER_STATUSES = frozenset({"member", "administrator", "creator", "restricted"})


async def _reply(message: Message, notice: str | None) -> None:
    if notice is None:
        return
    try:
        await message.reply(notice)
    except TelegramAPIError as exc:  # the topic or the message is gone
        log.info("notice not sent", error=type(exc).__name__)


async def _answer(callback: CallbackQuery, notice: str | None, *, alert: bool) -> None:
    try:
        await callback.answer(notice, show_alert=alert)
    except TelegramAPIError as exc:  # answered already (a redelivered update), or too old
        log.info("button not answered", error=type(exc).__name__)


def _topic(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


def _content(message: Message) -> str:
    content_type = message.content_type
    return str(getattr(content_type, "value", content_type))


async def parse_command(text: str, bot: Bot) -> tuple[DeskAction, str] | None:
    """`/meet@ourbot 05:30 | ...` -> ("meet", "05:30 | ..."); None when not a command for us."""
    if not text.startswith("/") or len(text) > 4096:
        return None
    head, _, args = text[1:].partition(" ")
    name, _, mention = head.partition("@")
    if mention and mention.casefold() != ((await bot.me()).username or "").casefold():
        return None  # a command for another bot in the group
    action = desk_action(name.lower())
    if action is None or (action not in COMMANDS and action not in SHIFT_COMMANDS):
        return None
    return action, args.strip()


async def on_command(
    message: Message,
    bot: Bot,
    event_update: Update,
    desk_actions: DeskActions,
    service_levels: ServiceLevels,
    shift_tools: ShiftTools,
    strangers: Strangers,
) -> None:
    user = message.from_user
    parsed = await parse_command(message.text or "", bot)
    if user is None or user.is_bot or parsed is None:
        return
    name, args = parsed
    topic = _topic(message)
    notice: str | None
    if name in SHIFT_COMMANDS:
        notice = await shift_tools.run(
            user.id, event_update.update_id, topic, name, args, via="command"
        )
    elif name == DeskAction.STATS:
        if desk_actions.operators.listed(user.id):
            notice = await service_levels.stats_text()
        else:
            notice = await desk_actions.refuse_stranger(user.id, name, topic, "command")
    else:
        notice = await desk_actions.run(
            user.id, event_update.update_id, topic, name, args, via="command"
        )
    if notice is not None and not desk_actions.operators.listed(user.id):
        # refused and audited every time, but said in the group once per window: a stranger's
        # flood of commands must not spend the group's 20 posts a minute
        notice = notice if await strangers.first_refusal(user.id) else None
    await _reply(message, notice)


async def on_topic_message(
    message: Message, event_update: Update, desk_actions: DeskActions
) -> None:
    user = message.from_user
    topic = _topic(message)
    if user is None or user.is_bot or topic is None or _content(message) not in RELAYABLE:
        return
    notice = await talk.relay(desk_actions, user.id, event_update.update_id, topic, message)
    await _reply(message, notice)


async def on_edited(edited_message: Message, desk_actions: DeskActions) -> None:
    user = edited_message.from_user
    topic = _topic(edited_message)
    if user is None or user.is_bot or topic is None:
        return
    if _content(edited_message) in RELAYABLE:
        await desk_actions.relay_edit(user.id, topic, edited_message)


async def on_button(
    callback: CallbackQuery, event_update: Update, desk_actions: DeskActions
) -> None:
    try:
        data = DeskData.unpack(callback.data or "")
    except (TypeError, ValueError):
        await _answer(callback, desk_actions.t("desk-stale"), alert=False)
        return
    pressed = callback.message.message_id if isinstance(callback.message, Message) else None
    notice, alert = await desk_actions.press(
        callback.from_user.id, event_update.update_id, data.topic, data.action, pressed
    )
    await _answer(callback, notice, alert=alert)


async def on_canned_button(
    callback: CallbackQuery, event_update: Update, shift_tools: ShiftTools
) -> None:
    try:
        data = SayData.unpack(callback.data or "")
    except (TypeError, ValueError):
        await _answer(callback, shift_tools.desk.t("desk-stale"), alert=False)
        return
    notice, alert = await shift_tools.canned.press(
        callback.from_user.id, event_update.update_id, data.topic, data.name
    )
    await _answer(callback, notice, alert=alert)


async def on_joined(message: Message, strangers: Strangers) -> None:
    for member in message.new_chat_members or []:
        if not member.is_bot:
            await strangers.joined(member)


async def on_member(chat_member: ChatMemberUpdated, strangers: Strangers) -> None:
    was = chat_member.old_chat_member
    now = chat_member.new_chat_member
    joined = now.status in MEMBER_STATUSES and getattr(now, "is_member", True)
    was_in = was.status in MEMBER_STATUSES and getattr(was, "is_member", True)
    if joined and not was_in and not now.user.is_bot:
        await strangers.joined(now.user)


async def ignore(_: TelegramObject) -> None:
    """The rest of the group's chatter: not answered, not stored."""


def build_router(desk_chat: int) -> Router:
    """A router for one app (aiogram attaches a router to one dispatcher only)."""
    router = Router(name="operators")
    router.message.filter(Awaited(F.chat.id == desk_chat))
    router.edited_message.filter(Awaited(F.chat.id == desk_chat))
    router.callback_query.filter(Awaited(F.message.chat.id == desk_chat))
    router.chat_member.filter(Awaited(F.chat.id == desk_chat))
    router.message.register(on_joined, Awaited(F.new_chat_members))
    router.message.register(on_command, Awaited(F.text.startswith("/")))
    router.message.register(on_topic_message, Awaited(F.is_topic_message))
    router.message.register(ignore)
    router.edited_message.register(on_edited, Awaited(F.is_topic_message))
    router.edited_message.register(ignore)
    router.callback_query.register(on_canned_button, Awaited(F.data.startswith("say:")))
    router.callback_query.register(on_button)
    router.chat_member.register(on_member)
    return router
