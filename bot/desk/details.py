"""A case's details, revealed to the operator who claimed it: in his private chat with the bot,
never in the topic (every member of the group reads a topic, and a member may be an
infiltrator), sent with protect_content, and deleted after DETAILS_REVEAL_MINUTES.

The deletion is a task of this process and, should the process stop first, the sweep of any
process (service levels tick): the pending deletions are kept in Redis with the chat sealed,
since an operator's private chat id is his Telegram id and a seized server must not name him.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable, Mapping
from typing import Final

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError

from bot.desk.records import DeskState
from flows import relatives
from flows import surrender as flow
from flows.sealing import Sealer, SealError

log = structlog.get_logger("hotline.desk")

# Fields of a conversation as the details message lists them (the form, or a relative's
# request, then the recall)
# The caller's secrets: no operator ever sees them (the code would let anyone link to the case;
# a relative's request code links no one, and is what the relative quotes)
NEVER_SHOWN: Final = frozenset({"case_code", "safety_word"})
DETAIL_ORDER: Final = (
    "case_code",
    *(d.name for d in flow.DETAILS),
    "sought_where",
    *(d.name for d in relatives.REQUEST),
    "recall_location",
    "recall_people",
    "recall_injuries",
    "emergency_location",
    "emergency_people",
    "emergency_injuries",
    # sent while an operator follows the chat, outside a question that asks for it
    "shared_location",
    "shared_phone",
    "shared_contact",
)
LOCATIONS: Final = frozenset({"recall_location", "emergency_location", "shared_location"})
_COORDINATES: Final = re.compile(r"-?\d{1,2}\.\d{1,7},-?\d{1,3}\.\d{1,7}")
MAP_LINK: Final = "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
# He never opened a private chat with the bot (or blocked it): Telegram refuses the message
NO_PRIVATE_CHAT: Final = (TelegramForbiddenError, TelegramBadRequest)
_SEALED: Final = "s|"
_CONTEXT: Final = b"desk|purge"


def map_link(value: str) -> str | None:
    """`lat,lon` as the flow stores a shared location -> a link to a map; None otherwise."""
    if not _COORDINATES.fullmatch(value):
        return None
    lat, lon = value.split(",")
    return MAP_LINK.format(lat=lat, lon=lon)


def render_details(
    fields: Mapping[str, str],
    *,
    head: str,
    field_name: Callable[[str], str],
    shown: Callable[[str, str], str],
    empty: str,
) -> str:
    """The details message: `head`, then one line per field in DETAIL_ORDER (then the rest),
    every value escaped; a shared location is a map link here and nowhere else."""
    lines = [head]
    hidden = NEVER_SHOWN - {"case_code"} if "sought_name" in fields else NEVER_SHOWN
    names = [n for n in DETAIL_ORDER if n in fields and n not in hidden]
    names += sorted(n for n in fields if n not in DETAIL_ORDER and n not in hidden)
    for name in names:
        value = shown(name, fields[name])
        link = map_link(value) if name in LOCATIONS else None
        text = html.escape(value)
        if link is not None:
            text = f'<a href="{html.escape(link)}">{text}</a>'
        lines.append(f"{field_name(name)}: {text}")
    if not names:
        lines.append(empty)
    return "\n".join(lines)


class DetailsReveal:
    def __init__(
        self,
        bot: Bot,
        state: DeskState,
        sealer: Sealer,
        *,
        clock: Callable[[], float],
        minutes: float,
    ) -> None:
        self.bot = bot
        self.state = state
        self.sealer = sealer
        self.clock = clock
        self.minutes = minutes
        self._tasks: set[asyncio.Task[None]] = set()

    async def reveal(self, operator_chat: int, text: str) -> bool:
        """Send the details to the operator's private chat; False when Telegram refuses (he
        has not started the bot privately): then nothing was sent anywhere."""
        try:
            message = await self.bot.send_message(
                operator_chat, text, protect_content=True, disable_notification=True
            )
        except NO_PRIVATE_CHAT as exc:
            log.info("details not revealed: no private chat", error=type(exc).__name__)
            return False
        delay = self.minutes * 60
        member = _SEALED + self.sealer.seal(
            f"{operator_chat}:{message.message_id}".encode(), _CONTEXT
        )
        await self.state.schedule_purge(member, self.clock() + delay)
        task = asyncio.create_task(self._purge_later(member, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _purge_later(self, member: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._purge(member)

    def _target(self, member: str) -> tuple[int, int] | None:
        plain = member
        if member.startswith(_SEALED):
            try:
                plain = self.sealer.unseal(member.removeprefix(_SEALED), _CONTEXT).decode()
            except (SealError, UnicodeDecodeError):
                return None
        chat, _, message_id = plain.partition(":")
        try:
            return int(chat), int(message_id)
        except ValueError:
            return None

    async def _purge(self, member: str) -> bool:
        if not await self.state.take_purge(member):
            return False  # another process (or the sweep) did it
        target = self._target(member)
        if target is None:
            log.error("details deletion unreadable (a key was dropped?)")
            return True
        try:
            await self.bot.delete_message(*target)
        except TelegramAPIError as exc:  # already deleted by him, or too old
            log.info("details message not deleted", error=type(exc).__name__)
        return True

    async def sweep(self, now: float | None = None) -> int:
        """Delete every details message whose time is up; how many were."""
        moment = self.clock() if now is None else now
        done = 0
        for member in await self.state.due_purges(moment):
            done += await self._purge(member)
        return done

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
