"""What a typed answer becomes, and the cleaning every validator starts with.

A validator returns :class:`Accepted` (the normalised value as stored) or :class:`Rejected` (a
Fluent message id and constant parameters, never the caller's input).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

__all__ = ["Accepted", "Outcome", "Rejected", "clean_text", "reject"]


# --------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------

_NO_PARAMS: Mapping[str, str | int] = MappingProxyType({})


def _empty_params() -> Mapping[str, str | int]:
    return _NO_PARAMS


@dataclass(frozen=True, slots=True)
class Accepted:
    """The input is valid; ``value`` is the normalised value as stored (kept out of repr: it is
    personal data, and a repr ends up in logs and tracebacks)."""

    value: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Rejected:
    """The input is not valid; ``message_id`` names a Fluent message explaining what is expected.

    ``params`` holds only constants (limits, examples), never the caller's input.  It is always a
    read-only mapping, even when a plain ``dict`` is passed in.
    """

    message_id: str
    params: Mapping[str, str | int] = field(default_factory=_empty_params, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.params, MappingProxyType):
            object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


Outcome: TypeAlias = Accepted | Rejected


def reject(message_id: str, **params: str | int) -> Rejected:
    return Rejected(message_id, MappingProxyType(params))


# --------------------------------------------------------------------------------------------
# Text cleaning
# --------------------------------------------------------------------------------------------

_SPACE_CONTROLS = "\t\n\r"  # line breaks and tabs separate words: they become a space
_BIDI_CONTROLS = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_ZERO_WIDTH = [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
_SURROGATES = range(0xD800, 0xE000)  # lone surrogates cannot be encoded: drop them

_CLEAN_TABLE: dict[int, str | None] = dict.fromkeys(
    [*range(0x00, 0x20), *range(0x7F, 0xA0), *_BIDI_CONTROLS, *_ZERO_WIDTH, *_SURROGATES]
)
_CLEAN_TABLE.update({ord(ch): " " for ch in _SPACE_CONTROLS})


def clean_text(text: str) -> str:
    """Return ``text`` with invisible and control characters removed, NFC-normalised.

    C0/C1 control characters are dropped (tab, LF and CR become a space), as are bidi controls,
    zero-width characters and lone surrogates; runs of whitespace collapse to one space and the
    result is stripped.  The characters are removed *before* NFC normalisation so that the result
    is NFC even when an invisible character stood between a letter and its combining mark.
    """
    stripped = text.translate(_CLEAN_TABLE)
    return " ".join(unicodedata.normalize("NFC", stripped).split())
