"""The command menus Telegram shows: the callers' in each of their languages, and the operator
group's own, in the operators' language, for that chat only."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.i18n import Translator
from flows import surrender as flow
from flows.catalogue import DESK_MENU


async def set_menus(bot: Bot, translator: Translator, desk_chat: int, desk_language: str) -> None:
    await set_caller_menu(bot, translator)
    await set_desk_menu(bot, translator, desk_chat, desk_language)


async def set_caller_menu(bot: Bot, translator: Translator) -> None:
    """In each caller language (the first one is also the default)."""
    scope = BotCommandScopeAllPrivateChats()
    for i, lang in enumerate(translator.languages):
        commands = [
            BotCommand(command=name, description=translator.text(lang, f"cmd-{name}"))
            for name in flow.COMMANDS
        ]
        await bot.set_my_commands(commands, scope=scope, language_code=lang)
        if i == 0:
            await bot.set_my_commands(commands, scope=scope)


async def set_desk_menu(bot: Bot, translator: Translator, chat_id: int, language: str) -> None:
    """For every member of the operator group, whatever their app's language: the desk
    speaks one language (OPERATOR_LANGUAGE)."""
    commands = [
        BotCommand(command=name, description=translator.text(language, f"desk-cmd-{name}"))
        for name in DESK_MENU
    ]
    await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=chat_id))
