"""What a message can carry besides text, as the fields of an aiogram `Message`: a shared
location or contact, a kind of media, where a forwarded message comes from."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from aiogram.types import (
    Chat,
    Contact,
    Document,
    Location,
    MessageOrigin,
    MessageOriginChannel,
    MessageOriginHiddenUser,
    MessageOriginUser,
    PhotoSize,
    Sticker,
    User,
    VideoNote,
    Voice,
)

TELEGRAM_TEXT_MAX = 4096
Content = dict[str, Any]


def location(latitude: float, longitude: float) -> Content:
    return {"location": Location(latitude=latitude, longitude=longitude)}


def contact(phone: str, user_id: int, first_name: str = "Caller") -> Content:
    """A shared contact card: his own when `user_id` is his."""
    return {"contact": Contact(phone_number=phone, first_name=first_name, user_id=user_id)}


def _sticker() -> Content:
    sticker = Sticker(
        file_id="st",
        file_unique_id="st",
        type="regular",
        width=512,
        height=512,
        is_animated=False,
        is_video=False,
    )
    return {"sticker": sticker}


# a message of each kind of media, by its field in the Bot API
MEDIA: Mapping[str, Callable[[], Content]] = MappingProxyType(
    {
        "sticker": _sticker,
        "photo": lambda: {
            "photo": [PhotoSize(file_id="ph", file_unique_id="ph", width=9, height=9)]
        },
        "voice": lambda: {"voice": Voice(file_id="vo", file_unique_id="vo", duration=3)},
        "video_note": lambda: {
            "video_note": VideoNote(file_id="vn", file_unique_id="vn", length=240, duration=3)
        },
        "document": lambda: {"document": Document(file_id="do", file_unique_id="do")},
    }
)


def from_person(date: datetime.datetime, user_id: int = 999_999) -> MessageOrigin:
    """A forward of someone's message, his account shown."""
    return MessageOriginUser(
        date=date, sender_user=User(id=user_id, is_bot=False, first_name="Someone")
    )


def from_hidden(date: datetime.datetime) -> MessageOrigin:
    """A forward of someone who hides his account."""
    return MessageOriginHiddenUser(date=date, sender_user_name="Someone")


def from_channel(
    date: datetime.datetime, chat_id: int, username: str | None, post: int = 77
) -> MessageOrigin:
    """A forward of a channel's post."""
    chat = Chat(id=chat_id, type="channel", title="Канал", username=username)
    return MessageOriginChannel(date=date, chat=chat, message_id=post)
