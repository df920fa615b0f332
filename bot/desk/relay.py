"""A caller's message as the case topic shows it: always recognisable as his.

Every relayed message carries a header the bot writes in bold, and the caller's own words sit
under it inside a quote, escaped: nothing he types can close the quote, make bold text or look
like a card, a queue post or a "verified" notice of the bot. Media keep the header as their
caption; what cannot carry a caption (stickers, video notes, an edited message) is copied as a
reply to a header post. Links are relayed as plain text without previews and under a warning;
documents come with a warning; executables and archives are described, never copied into a
group whose members could open them. A shared location or contact is not shown here at all:
it is in the details, which only the claiming operator sees in private.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Final

from aiogram import Bot
from aiogram.types import LinkPreviewOptions, ReplyParameters

from flows.model import Relay

TEXT_MAX: Final = 3800  # of Telegram's 4096, with room for the header
CAPTION_MAX: Final = 1000  # of 1024
CAPTIONED: Final = frozenset({"photo", "video", "voice", "audio", "animation", "document"})
_LINK: Final = re.compile(
    r"(https?://|www\.|t\.me/|tg://|\b[\w-]+\.(com|net|org|ru|ua|su|io|me|info|xyz|app|link|"
    r"site|online|рф)\b)",
    re.IGNORECASE,
)
HELD_EXTENSIONS: Final = frozenset(
    {
        # executables and installers
        "apk", "xapk", "apks", "aab", "ipa", "exe", "msi", "com", "scr", "bat", "cmd", "ps1",
        "vbs", "vbe", "js", "jse", "wsf", "hta", "jar", "sh", "run", "bin", "elf", "dmg", "pkg",
        "app", "deb", "rpm", "appimage", "lnk", "dll", "so", "reg", "cpl", "msix", "appx",
        # archives (they hide what they hold)
        "zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "xz", "zst", "cab", "iso", "img", "arj",
        "lzh", "z", "ace",
        # documents that run code
        "docm", "xlsm", "pptm", "html", "htm", "svg", "chm",
    }
)  # fmt: skip
HELD_MIME: Final = re.compile(
    r"application/(vnd\.android\.package-archive|x-msdownload|x-ms-installer|x-msi|"
    r"x-executable|x-sh|x-elf|java-archive|x-apple-diskimage|zip|x-zip-compressed|"
    r"x-rar(-compressed)?|vnd\.rar|x-7z-compressed|x-tar|gzip|x-gzip|x-bzip2|x-xz|"
    r"x-iso9660-image|octet-stream)|text/html",
    re.IGNORECASE,
)


def held_back(effect: Relay) -> bool:
    """A file the group must not receive: an executable, an installer, an archive."""
    if effect.kind != "document":
        return False
    name = (effect.file_name or "").casefold()
    extension = name.rpartition(".")[2] if "." in name else ""
    return extension in HELD_EXTENSIONS or bool(HELD_MIME.fullmatch(effect.mime_type or ""))


def has_links(text: str) -> bool:
    return bool(_LINK.search(text))


def quoted(text: str) -> str:
    return f"<blockquote>{html.escape(text, quote=False)}</blockquote>"


def chunks(text: str, limit: int) -> Iterator[str]:
    """Pieces of `text` each at most `limit` long once escaped: nothing he wrote is cut off."""
    piece: list[str] = []
    size = 0
    for char in text:
        width = len(html.escape(char, quote=False))
        if size + width > limit and piece:
            yield "".join(piece)
            piece, size = [], 0
        piece.append(char)
        size += width
    if piece or not text:
        yield "".join(piece)


class CallerRelay:
    def __init__(
        self, bot: Bot, chat_id: int, t: Callable[..., str], label: Callable[[str], str | None]
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.t = t
        self.label = label  # a button's label in the operators' language, None if no button

    def header(self, kind: str) -> str:
        return self.t("desk-from-caller", kind=kind)

    async def show(self, topic: int | None, caller_chat: int, effect: Relay) -> list[int]:
        """Show it in the topic; the ids of the group's messages that show it."""
        kind = effect.kind
        if kind == "location":
            return [
                await self._post(topic, f"{self.header(kind)}\n{self.t('desk-caller-location')}")
            ]
        if kind == "contact":
            # a phone number is personal: sealed for the claimer's private reveal, never here
            return [
                await self._post(topic, f"{self.header(kind)}\n{self.t('desk-caller-contact')}")
            ]
        if held_back(effect):
            name = html.escape(effect.file_name or "—", quote=False)
            kind_of = html.escape(effect.mime_type or "—", quote=False)
            held = self.t("desk-caller-file-held", name=name, type=kind_of)
            return [await self._post(topic, f"{self.header(kind)}\n{held}")]
        if kind in CAPTIONED:
            return await self._media(topic, caller_chat, effect)
        if effect.text is not None and kind in ("text", "button"):
            return await self._words(topic, kind, effect.text)
        # a sticker, a video note, an edit: copied under a header of its own
        header = await self._post(topic, self.header(kind))
        copied = await self.bot.copy_message(
            self.chat_id,
            caller_chat,
            effect.message_ref,
            message_thread_id=topic,
            reply_parameters=ReplyParameters(message_id=header, allow_sending_without_reply=True),
        )
        return [header, copied.message_id]

    async def _words(self, topic: int | None, kind: str, text: str) -> list[int]:
        label = self.label(text) if text.startswith("btn-") else None
        if label is not None:
            return [await self._post(topic, f"{self.header('button')}\n{quoted(label)}")]
        warning = f"\n{self.t('desk-caller-links')}" if has_links(text) else ""
        return [
            await self._post(topic, f"{self.header(kind)}\n{quoted(piece)}{warning}")
            for piece in chunks(text, TEXT_MAX)
        ]

    async def _media(self, topic: int | None, caller_chat: int, effect: Relay) -> list[int]:
        lines = [self.header(effect.kind)]
        caption = effect.text or ""
        fits = len(html.escape(caption, quote=False)) <= CAPTION_MAX - 300
        if caption and fits:
            lines.append(quoted(caption))
        if effect.kind == "document":
            lines.append(self.t("desk-caller-document"))
        if caption and has_links(caption):
            lines.append(self.t("desk-caller-links"))
        copied = await self.bot.copy_message(
            self.chat_id,
            caller_chat,
            effect.message_ref,
            message_thread_id=topic,
            caption="\n".join(lines),
        )
        if caption and not fits:
            return [copied.message_id, *await self._words(topic, "text", caption)]
        return [copied.message_id]

    async def _post(self, topic: int | None, text: str) -> int:
        message = await self.bot.send_message(
            self.chat_id,
            text,
            message_thread_id=topic,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
        return message.message_id
