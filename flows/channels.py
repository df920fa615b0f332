"""The genuine channels, bots and sites the team lists, and the check of what a caller sends.

Hostile services run look-alike channels to catch those who reach out, so the bot answers
"is this one real?" from a list the team keeps in a TOML file (setting GENUINE_CHANNELS_FILE):

    [[entry]]
    name = "«Хочу жить»: официальный сайт"
    kind = "site"                   # site | channel | bot
    address = "hochuzhit.com"       # a domain, or an @username
    chat_id = -1001234567890        # optional: a channel's id, which outlives a renamed handle
    role = "hotline"                # hotline | legion-apply | other
    example = false                 # true: a placeholder the team must replace

An example entry is never confirmed as genuine and never offered as a way to apply: a handle
nobody checked must not be vouched for. `@self` is this bot's own username, known at start.

A Telegram username is compared case-insensitively and only in its own alphabet (a-z, 0-9, _):
a look-alike spelled with a Cyrillic «о» or a zero for an «o» is simply not on the list. A site
matches its domain or a subdomain of it, never a longer name that merely starts the same.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "SELF",
    "Candidate",
    "Entry",
    "GenuineList",
    "ListError",
    "candidates",
    "check_forward",
    "parse",
]

SELF = "@self"
KINDS = frozenset({"site", "channel", "bot"})
ROLES = frozenset({"hotline", "legion-apply", "other"})
MAX_CANDIDATES = 3  # a message naming more gets the first three checked

_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
# t.me/name, telegram.me/name, telegram.dog/name (also /s/name and /name/123), tg://resolve
_TME = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/(?:s/)?(?P<name>[^\s/?#]+)",
    re.IGNORECASE,
)
_TG_RESOLVE = re.compile(r"tg://resolve\?domain=(?P<name>[^\s&#]+)", re.IGNORECASE)
_AT = re.compile(r"(?<![\w@.])@(?P<name>[^\s@,;:!?()«»\"']+)")
_URL = re.compile(
    r"(?:https?://)?(?P<host>(?:[^\s/:@?#.]+\.)+[^\s/:@?#.]{2,})(?::\d+)?(?:[/?#][^\s]*)?",
    re.IGNORECASE,
)
_TLD = re.compile(r"[a-z]{2,24}|xn--[a-z0-9-]{1,59}", re.IGNORECASE)


class ListError(ValueError):
    """The genuine list cannot be read; the message names the entry, never a secret."""


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    kind: str
    address: str  # a domain (lower case) or an @username (lower case)
    role: str = "other"
    chat_id: int | None = None
    example: bool = False


@dataclass(frozen=True, slots=True)
class Candidate:
    """Something a caller sent that names a channel, bot or site."""

    kind: str  # username | site | channel-id
    value: str  # @name or a domain, lower case; a channel id as text


@dataclass(frozen=True, slots=True)
class GenuineList:
    entries: tuple[Entry, ...] = ()
    own_username: str | None = None  # this bot's, for `@self`

    def with_own_username(self, username: str | None) -> GenuineList:
        return GenuineList(self.entries, username.lower() if username else None)

    def _vouched(self) -> Iterable[Entry]:
        for entry in self.entries:
            if entry.example:
                continue
            if entry.address == SELF:
                if self.own_username is None:
                    continue
                yield Entry(
                    entry.name, entry.kind, "@" + self.own_username, entry.role, entry.chat_id
                )
            else:
                yield entry

    @property
    def examples(self) -> int:
        return sum(entry.example for entry in self.entries)

    def find(self, candidate: Candidate) -> Entry | None:
        """The genuine entry this names, or None (also for every example entry)."""
        for entry in self._vouched():
            if candidate.kind == "channel-id":
                if entry.chat_id is not None and str(entry.chat_id) == candidate.value:
                    return entry
            elif candidate.kind == "username" and entry.address == candidate.value:
                return entry
            elif candidate.kind == "site" and entry.kind == "site":
                host = candidate.value
                if host == entry.address or host.endswith("." + entry.address):
                    return entry
        return None

    def by_role(self, role: str) -> tuple[Entry, ...]:
        return tuple(entry for entry in self._vouched() if entry.role == role)


EMPTY = GenuineList()


# ---------------------------------------------------------------------------------------------
# Reading the team's file


def _address(raw: object, kind: str, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ListError(f"{where}: address must be a non-empty string")
    value = raw.strip()
    if value.lower() == SELF:
        return SELF
    if kind == "site":
        host = value.lower().removeprefix("https://").removeprefix("http://").split("/")[0]
        if not _URL.fullmatch(host):
            raise ListError(f"{where}: a site's address is a domain, e.g. example.org")
        return host.removeprefix("www.")
    name = value.removeprefix("@")
    if not _USERNAME.fullmatch(name):
        raise ListError(f"{where}: a {kind}'s address is an @username (a-z, 0-9, _)")
    return "@" + name.lower()


def _entry(data: Mapping[str, Any], where: str) -> Entry:
    kind = data.get("kind")
    if kind not in KINDS:
        raise ListError(f"{where}: kind must be one of {', '.join(sorted(KINDS))}")
    role = data.get("role", "other")
    if role not in ROLES:
        raise ListError(f"{where}: role must be one of {', '.join(sorted(ROLES))}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ListError(f"{where}: name must be a non-empty string")
    chat_id = data.get("chat_id")
    if chat_id is not None and (not isinstance(chat_id, int) or isinstance(chat_id, bool)):
        raise ListError(f"{where}: chat_id must be an integer")
    example = data.get("example", False)
    if not isinstance(example, bool):
        raise ListError(f"{where}: example must be true or false")
    return Entry(
        name.strip(), kind, _address(data.get("address"), kind, where), role, chat_id, example
    )


def parse(text: str) -> GenuineList:
    """The list from the TOML text of the team's file; ListError names what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ListError(f"not valid TOML: {exc}") from None
    raw = data.get("entry", [])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ListError("entries are [[entry]] tables")
    return GenuineList(tuple(_entry(item, f"entry {n}") for n, item in enumerate(raw, start=1)))


# ---------------------------------------------------------------------------------------------
# What a caller's message names


def _username(raw: str) -> Candidate:
    """A handle as sent; one outside Telegram's alphabet (a Cyrillic look-alike letter) stays
    as it is, so it is reported as not genuine rather than silently "corrected"."""
    return Candidate("username", "@" + raw.lower())


def candidates(text: str) -> list[Candidate]:
    """The channels, bots and sites a message names, in order, at most MAX_CANDIDATES."""
    found: list[Candidate] = []
    taken: list[tuple[int, int]] = []

    def add(candidate: Candidate, span: tuple[int, int]) -> None:
        taken.append(span)
        if candidate not in found:
            found.append(candidate)

    for pattern in (_TME, _TG_RESOLVE):
        for match in pattern.finditer(text):
            name = match["name"]
            if name.startswith(("+", "joinchat")):
                add(Candidate("site", "t.me/" + name.lower()), match.span())  # an invite link
            else:
                add(_username(name), match.span())
    for match in _AT.finditer(text):
        if not any(a <= match.start() < b for a, b in taken):
            add(_username(match["name"].rstrip(".")), match.span())
    for match in _URL.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        host = match["host"].lower().rstrip(".")
        if _TLD.fullmatch(host.rsplit(".", 1)[-1]) and not host.replace(".", "").isdigit():
            add(Candidate("site", host.removeprefix("www.")), match.span())
    return found[:MAX_CANDIDATES]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a forwarded post came from, as Telegram tells it."""

    kind: str  # channel | bot | user | chat | hidden
    username: str | None = None
    chat_id: int | None = None

    @property
    def shown(self) -> str:
        return "@" + self.username.lower() if self.username else ""


def check_forward(genuine: GenuineList, origin: Origin) -> Entry | None:
    """The genuine entry a forwarded post comes from. A channel's id, when the list has it,
    decides: a handle can be given up and taken by someone else, an id cannot."""
    if origin.kind == "channel" and origin.chat_id is not None:
        by_id = genuine.find(Candidate("channel-id", str(origin.chat_id)))
        if by_id is not None:
            return by_id
    if not origin.username:
        return None
    entry = genuine.find(_username(origin.username))
    if entry is None or (entry.chat_id is not None and entry.chat_id != origin.chat_id):
        return None
    return entry
