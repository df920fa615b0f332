"""Short names for what every conversation at rest repeats: its fields' names and the buttons'
answers inside their sealed record, and its meta's attribute names.

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

__all__ = ["CHOICE_NUMBERS", "FIELDS", "META", "Names", "open_fields", "seal_fields"]

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
# A button's answer (a choice id the screens offer) is sealed as a number: "rank-sergeant" is 9
# (15 bytes less). A number is never what he typed (typed text stays a string, whatever it
# says), so both read back exactly. Append only: a number, once given, keeps its choice.
CHOICE_NUMBERS: Final = {
    "health-none": 1,
    "health-light": 2,
    "health-serious": 3,
    "wish-exchange": 4,
    "wish-stay": 5,
    "wish-emigrate": 6,
    "wish-undecided": 7,
    "rank-private": 8,
    "rank-sergeant": 9,
    "rank-warrant": 10,
    "rank-officer": 11,
    "area-kharkiv": 12,
    "area-luhansk": 13,
    "area-donetsk": 14,
    "area-zaporizhzhia": 15,
    "area-kherson": 16,
    "area-border": 17,
    "reply-here": 18,
}
_CHOICES: Final = {number: choice for choice, number in CHOICE_NUMBERS.items()}
FIELDS: Final = Names(_FIELD_LETTERS)
META: Final = Names(_META_LETTERS)


def seal_fields(sealer: Sealer, fields: Mapping[str, str], context: bytes) -> str:
    record = {
        FIELDS.short.get(name, name): CHOICE_NUMBERS.get(value, value)
        for name, value in fields.items()
    }
    return sealer.seal_json(record, context)


def open_fields(sealer: Sealer, record: str, context: bytes) -> dict[str, Any]:
    """The fields of a record made by `seal_fields`; a value that is neither a string nor a
    choice's number is left as it is (the store refuses such a record)."""
    return {
        FIELDS.long.get(name, name): _CHOICES.get(value, value) if type(value) is int else value
        for name, value in sealer.unseal_json(record, context).items()
    }
