"""The private chat with a caller: every update becomes one flow event."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message, Update

from bot.events import ButtonData, Labels, LanguageData, edited_event, event_of
from bot.i18n import Translator
from bot.pipeline import Pipeline
from flows.model import ChooseLanguage, Event, Press, StaleButton

router = Router(name="caller")
router.message.filter(F.chat.type == "private")
router.edited_message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")


async def _feed(
    pipeline: Pipeline,
    translator: Translator,
    update: Update,
    message: Message,
    event: Event,
    *,
    ref: int | None,
) -> None:
    user = message.from_user
    if user is None or user.is_bot:
        return
    await pipeline.from_caller(
        user.id,
        message.chat.id,
        update.update_id,
        event,
        message_ref=ref,
        language=translator.language_of(user.language_code),
    )


@router.message()
async def on_message(
    message: Message,
    event_update: Update,
    pipeline: Pipeline,
    translator: Translator,
    labels: Labels,
) -> None:
    event = event_of(message, labels)
    await _feed(pipeline, translator, event_update, message, event, ref=message.message_id)


@router.edited_message()
async def on_edit(
    edited_message: Message, event_update: Update, pipeline: Pipeline, translator: Translator
) -> None:
    event = edited_event(edited_message)
    await _feed(
        pipeline, translator, event_update, edited_message, event, ref=edited_message.message_id
    )


@router.callback_query()
async def on_button(
    callback: CallbackQuery, event_update: Update, pipeline: Pipeline, translator: Translator
) -> None:
    await callback.answer()
    data = callback.data or ""
    event: Event
    if data.startswith(ButtonData.__prefix__ + ":"):
        button = ButtonData.unpack(data)
        event = Press(button.button, screen=button.screen)
    elif data.startswith(LanguageData.__prefix__ + ":"):
        event = ChooseLanguage(LanguageData.unpack(data).lang)
    else:
        event = StaleButton()
    message = callback.message
    if not isinstance(message, Message):
        return
    user = callback.from_user
    await pipeline.from_caller(
        user.id,
        message.chat.id,
        event_update.update_id,
        event,
        language=translator.language_of(user.language_code),
    )
