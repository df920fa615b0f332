"""Telegram input turned into flow events: the only place that reads aiogram message shapes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    Message,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
)

from bot.i18n import Translator
from flows import surrender as flow
from flows.channels import Origin
from flows.model import (
    Command,
    Contact,
    Edited,
    Event,
    Forwarded,
    Location,
    Media,
    Press,
    Text,
)
from flows.words import label_key

KNOWN_MEDIA = frozenset(
    {"sticker", "photo", "voice", "video_note", "document", "video", "audio", "animation"}
)


class ButtonData(CallbackData, prefix="b"):
    """An inline button: the screen (state) whose message carried it, and the button id."""

    screen: str
    button: str


class LanguageData(CallbackData, prefix="lang"):
    lang: str


class Labels:
    """Maps the text of a reply-keyboard button, in any language, back to its button id."""

    def __init__(self, translator: Translator) -> None:
        self._by_text: dict[str, str] = {}
        for screen in flow.SCREENS.values():
            for button in screen.buttons:
                if button.kind != "choice":
                    continue
                for lang in translator.languages:
                    label = translator.text(lang, button.label)
                    self._by_text[self._norm(label)] = button.id

    @staticmethod
    def _norm(text: str) -> str:
        # typed by hand, a label comes without its emoji, in any case, with ё as е
        return label_key(text)

    def button_for(self, text: str) -> str | None:
        if len(text) > 64:
            return None
        key = self._norm(text)
        return self._by_text.get(key) if key else None


def content_kind(message: Message) -> str:
    # aiogram answers a ContentType (a str Enum): str() of it is "ContentType.STICKER", not
    # "sticker", so take its value
    content_type = message.content_type
    kind = str(getattr(content_type, "value", content_type))
    return kind if kind in KNOWN_MEDIA | {"text", "location", "contact"} else "other"


def command_of(text: str) -> str | None:
    if not text.startswith("/") or len(text) > 256:
        return None
    word = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
    return word.split("@", 1)[0].lower() or None


def origin_of(message: Message) -> Origin | None:
    """Where a forwarded message comes from: a channel (its id and handle), a bot or a
    person (a handle, if any), or nobody Telegram names."""
    origin = message.forward_origin
    if isinstance(origin, MessageOriginChannel):
        return Origin("channel", origin.chat.username, origin.chat.id)
    if isinstance(origin, MessageOriginUser):
        user = origin.sender_user
        return Origin("bot" if user.is_bot else "user", user.username)
    if isinstance(origin, MessageOriginChat):
        return Origin("chat", origin.sender_chat.username, origin.sender_chat.id)
    if isinstance(origin, MessageOriginHiddenUser):
        return Origin("hidden")
    return None


def hidden_links(message: Message) -> tuple[str, ...]:
    """Where the links under words of a message go (at most a few: a check, not a crawl)."""
    urls = [e.url for e in message.entities or () if e.type == "text_link" and e.url]
    return tuple(urls[:3])


def event_of(message: Message, labels: Labels) -> Event:
    """What a caller's new message means to the flow."""
    kind = content_kind(message)
    if message.forward_origin is not None:
        return Forwarded(kind, origin_of(message))
    if message.text is not None:
        command = command_of(message.text)
        if command is not None:
            return Command(command)
        button = labels.button_for(message.text)
        if button is not None:
            return Press(button)
        return Text(message.text, links=hidden_links(message))
    if message.location is not None:
        return Location(message.location.latitude, message.location.longitude)
    if message.contact is not None:
        own = message.from_user is not None and message.contact.user_id == message.from_user.id
        return Contact(message.contact.phone_number, own=own)
    document = message.document or message.audio or message.video or message.animation
    return Media(
        kind,
        caption=message.caption,
        file_name=getattr(document, "file_name", None),
        mime_type=getattr(document, "mime_type", None),
    )


def edited_event(message: Message) -> Event:
    return Edited(content_kind(message))
