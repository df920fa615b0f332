"""Short names for what every conversation at rest repeats: its fields' names inside their
sealed record, and its meta's attribute names.

The sealed record is JSON under AES-GCM in base64 (flows.sealing), so each byte of a name costs
1⅓ bytes; the meta is JSON in the clear. The names are the same in every conversation, and an
idle one is kept for months. Everywhere else the dialogue's own names stay (snake_case words).
A field's short name is one uppercase letter and a meta attribute's one lowercase letter, which
no name of theirs is, so a name not in a table (added later, or a record written before these
were) passes through unchanged both ways. Never reuse or change a letter: what was stored with
it must keep reading the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeVar

from flows.sealing import Sealer

__all__ = ["FIELDS", "META", "Names", "open_fields", "seal_fields"]

_Value = TypeVar("_Value")


class Names:
    """One table of short names, both ways."""

    __slots__ = ("long", "short")

    def __init__(self, short: Mapping[str, str]) -> None:
        self.short: Final = dict(short)
        self.long: Final = {letter: name for name, letter in short.items()}
        if len(self.long) != len(self.short):
            raise ValueError("two names share a short name")

    def shortened(self, values: Mapping[str, _Value]) -> dict[str, _Value]:
        return {self.short.get(name, name): value for name, value in values.items()}

    def lengthened(self, values: Mapping[str, _Value]) -> dict[str, _Value]:
        return {self.long.get(name, name): value for name, value in values.items()}


_FIELD_LETTERS: Final = {
    "full_name": "N",
    "birth_date": "B",
    "unit": "U",
    "rank": "R",
    "service_number": "S",
    "people": "P",
    "area": "A",
    "phone": "H",
    "health": "T",
    "wish": "W",
    "case_code": "C",
    "asker": "K",
    "last_seen": "L",
    "sought_name": "O",
    "sought_birth": "G",
    "sought_unit": "Q",
    "sought_where": "F",
    "safety_word": "Y",
    "shared_location": "X",
    "reply_to": "Z",
    "recall_location": "D",
    "recall_people": "E",
    "recall_injuries": "I",
    "emergency_location": "J",
    "emergency_people": "M",
    "emergency_injuries": "V",
}

_META_LETTERS: Final = {
    "state": "s",
    "lang": "l",
    "return_to": "r",
    "confirm_from": "c",
    "sos_from": "o",
    "editing": "e",
    "escalated": "x",
    "priority": "p",
    "claimed": "m",
    "talk_from": "t",
    "invalid_streak": "i",
    "code_locked": "k",
    "case_id": "a",
    "owns_case": "w",
    "pending_case_id": "n",
    "code_digest": "d",
    "updated_at": "u",
}
FIELDS: Final = Names(_FIELD_LETTERS)
META: Final = Names(_META_LETTERS)


def seal_fields(sealer: Sealer, fields: Mapping[str, str], context: bytes) -> str:
    return sealer.seal_json(FIELDS.shortened(fields), context)


def open_fields(sealer: Sealer, record: str, context: bytes) -> dict[str, Any]:
    """The fields of a record made by `seal_fields` (its values are not checked here)."""
    return FIELDS.lengthened(sealer.unseal_json(record, context))
