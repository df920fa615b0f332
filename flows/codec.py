"""JSON for what the store keeps: effects (type-tagged) and the conversation's meta.

Effects are stored in the outbox so a batch can be delivered again after a crash; they go through
this module as plain JSON and are sealed by the store afterwards (a `Reply` may carry personal
data in its params). Decoding is strict: anything that is not what `encode_effect` writes raises
`CodecError`, whose message names the problem and never the data.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from flows.model import Button, Conversation, Effect, Priority
from flows.short_names import META

__all__ = [
    "EFFECT_TYPES",
    "CodecError",
    "decode_effect",
    "decode_effects",
    "decode_meta",
    "dumps",
    "encode_effect",
    "encode_effects",
    "encode_meta",
    "loads",
]

TAG: Final = "t"
_T = TypeVar("_T")


class CodecError(ValueError):
    """Stored JSON is not what this module writes; the message never carries the data."""


# ---------------------------------------------------------------------------------------------
# Plain JSON


# what json.dumps(ensure_ascii=False, separators=(",", ":"), allow_nan=False) builds per call
_COMPACT: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dumps(value: Any) -> str:
    """Compact UTF-8 JSON; NaN and friends are refused."""
    text: str | None = None
    # not contextlib.suppress: a context manager per call, on every record (and outside the
    # except block, so ours is raised without the library's error, which quotes the data)
    try:  # noqa: SIM105
        text = _COMPACT.encode(value)
    except (TypeError, ValueError):
        pass
    if text is None:
        raise CodecError("value is not JSON-serialisable")
    return text


def loads(text: str | bytes) -> Any:
    """Parse JSON; a decode error is replaced by ours (the library's message quotes the text)."""
    value: Any = None
    ok = False
    try:  # as in `dumps`
        value = json.loads(text)
        ok = True
    except ValueError:
        pass
    if not ok:
        raise CodecError("stored value is not JSON")
    return value


# ---------------------------------------------------------------------------------------------
# Effects
#
# Driven by the dataclass fields of `flows.model`: every field of every Effect type is written
# (unless it holds its default) and read back with the type its annotation names. A field of a
# type this table does not know fails at import, so a model change cannot silently lose data.


@dataclass(frozen=True, slots=True)
class _Converter:
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]  # raises _Invalid


class _Invalid(Exception):
    """A value does not have the type its field needs (internal; becomes a CodecError)."""


def _checked(kind: type | tuple[type, ...]) -> Callable[[Any], Any]:
    def decode(value: Any) -> Any:
        if isinstance(value, bool) and not (kind is bool or kind == (bool,)):
            raise _Invalid
        if not isinstance(value, kind):
            raise _Invalid
        return value

    return decode


def _optional(inner: _Converter) -> _Converter:
    return _Converter(
        encode=lambda v: None if v is None else inner.encode(v),
        decode=lambda v: None if v is None else inner.decode(v),
    )


def _decode_params(value: Any) -> dict[str, str | int]:
    if not isinstance(value, dict):
        raise _Invalid
    for k, v in value.items():
        if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, str | int):
            raise _Invalid
    return dict(value)


def _decode_priority(value: Any) -> Priority:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid
    if value not in Priority._value2member_map_:
        raise _Invalid
    return Priority(value)


def _decode_pair(value: Any) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise _Invalid
    first, second = (_INT.decode(n) for n in value)
    return (first, second)


def _encode_button(button: Button) -> dict[str, Any]:
    return _encode_fields(button)


def _decode_buttons(value: Any) -> tuple[Button, ...]:
    if not isinstance(value, list):
        raise _Invalid
    buttons: list[Button] = []
    for item in value:
        if not isinstance(item, dict):
            raise _Invalid
        buttons.append(_decode_fields(Button, item, "button"))
    return tuple(buttons)


_STR: Final = _Converter(lambda v: v, _checked(str))
_INT: Final = _Converter(lambda v: v, _checked(int))
_CONVERTERS: Final[dict[str, _Converter]] = {
    "str": _STR,
    "int": _INT,
    "bool": _Converter(lambda v: v, _checked(bool)),
    "float": _Converter(float, _checked((int, float))),
    "str | None": _optional(_STR),
    "int | None": _optional(_INT),
    "Priority": _Converter(int, _decode_priority),
    "Params": _Converter(dict, _decode_params),
    "tuple[Button, ...]": _Converter(lambda v: [_encode_button(b) for b in v], _decode_buttons),
    "tuple[int, int] | None": _optional(_Converter(list, _decode_pair)),
}


def _converter(cls: type, f: dataclasses.Field[Any]) -> _Converter:
    converter = _CONVERTERS.get(str(f.type))
    if converter is None:
        raise TypeError(f"codec: {cls.__name__}.{f.name} has a type the codec cannot store")
    return converter


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    default: Any  # dataclasses.MISSING: none (a factory's value, only ever compared with)
    converter: _Converter


_FIELDS: dict[type, tuple[_Field, ...]] = {}


def _fields_of(cls: type) -> tuple[_Field, ...]:
    """A model class's fields as the codec reads them, worked out once per class (the classes
    of flows.model: a fixed set), not for every effect of every batch."""
    table = _FIELDS.get(cls)
    if table is None:
        table = _FIELDS[cls] = tuple(
            _Field(f.name, _default(f), _converter(cls, f)) for f in dataclasses.fields(cls)
        )
    return table


def _encode_fields(obj: Any) -> dict[str, Any]:
    """Every field that does not hold its default, converted to JSON types."""
    data: dict[str, Any] = {}
    for f in _fields_of(type(obj)):
        value = getattr(obj, f.name)
        if value == f.default:
            continue
        data[f.name] = f.converter.encode(value)
    return data


def _decode_fields(cls: type[_T], data: Mapping[str, Any], what: str) -> _T:
    """Build `cls` from `data`; missing fields take their defaults, unknown names are ignored
    (a newer release may have written them)."""
    kwargs: dict[str, Any] = {}
    for f in _fields_of(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING:
                raise CodecError(f"{what}: field {f.name} is missing")
            continue
        try:
            kwargs[f.name] = f.converter.decode(data[f.name])
        except _Invalid:
            raise CodecError(f"{what}: field {f.name} has the wrong type") from None
    return cls(**kwargs)


def _tag_of(cls: type) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


EFFECT_TYPES: Final[tuple[type, ...]] = typing.get_args(Effect)
_BY_TAG: Final[dict[str, type]] = {_tag_of(cls): cls for cls in EFFECT_TYPES}
_TAG_OF: Final[dict[type, str]] = {cls: tag for tag, cls in _BY_TAG.items()}
# Fail at import, not at the first delivery, if a model field has a type we cannot store.
for _cls in (*EFFECT_TYPES, Button):
    _fields_of(_cls)


def encode_effect(effect: Effect) -> dict[str, Any]:
    """A JSON-ready dict with the effect's type under ``"t"`` and its non-default fields."""
    tag = _TAG_OF.get(type(effect))
    if tag is None:
        raise CodecError(f"unknown effect type {type(effect).__name__}")
    return {TAG: tag, **_encode_fields(effect)}


def encode_effects(effects: Sequence[Effect]) -> list[dict[str, Any]]:
    return [encode_effect(effect) for effect in effects]


def decode_effect(data: Any) -> Effect:
    """The effect `encode_effect` made `data` from."""
    if not isinstance(data, dict):
        raise CodecError("effect is not an object")
    tag = data.get(TAG)
    cls = _BY_TAG.get(tag) if isinstance(tag, str) else None
    if cls is None or not isinstance(tag, str):
        raise CodecError("effect has an unknown type tag")
    effect: Effect = _decode_fields(cls, data, f"effect {tag}")
    return effect


def decode_effects(data: Any) -> tuple[Effect, ...]:
    if not isinstance(data, list):
        raise CodecError("effects are not a list")
    return tuple(decode_effect(item) for item in data)


# ---------------------------------------------------------------------------------------------
# Conversation meta: everything but the personal fields, stored as it is

# `version` lives in its own hash field (the compare-and-set counter), not in the meta
_NOT_IN_META: Final = frozenset({"version"})
_JSON_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "None": (type(None),),
}


def _meta_types() -> dict[str, tuple[type, ...]]:
    """The JSON types each meta attribute may hold, read from Conversation's annotations."""
    out: dict[str, tuple[type, ...]] = {}
    for f in dataclasses.fields(Conversation):
        if f.name == "fields" or f.name in _NOT_IN_META:
            continue
        names = [part.strip() for part in str(f.type).split("|")]
        if all(name in _JSON_TYPES for name in names):
            out[f.name] = tuple(t for name in names for t in _JSON_TYPES[name])
    return out


_META_TYPES: Final = _meta_types()


def _meta_value_ok(name: str, value: Any) -> bool:
    allowed = _META_TYPES.get(name)
    if allowed is None:
        return True
    if isinstance(value, bool) and bool not in allowed:
        return False
    return isinstance(value, allowed)


_META_DEFAULTS: Final = {
    name: value for name, value in Conversation().meta().items() if name not in _NOT_IN_META
}


def encode_meta(conversation: Conversation, *, beside: frozenset[str] = frozenset()) -> str:
    """The meta as JSON under short names (flows.short_names); attributes at their default are
    left out (restored on reading), and those in `beside` (the store keeps them in fields of
    their own, and puts them back)."""
    meta = {
        name: value
        for name, value in conversation.meta().items()
        if name not in _NOT_IN_META
        and name not in beside
        and (name not in _META_DEFAULTS or value != _META_DEFAULTS[name])
    }
    if "updated_at" in meta:  # to the millisecond: 5 bytes less in every conversation at rest
        meta["updated_at"] = round(meta["updated_at"], 3)
    return dumps(META.shortened(meta))


def decode_meta(text: str | bytes) -> dict[str, Any]:
    """The meta as a dict for `Conversation.from_parts` (which ignores unknown names)."""
    meta = loads(text)
    if not isinstance(meta, dict):
        raise CodecError("conversation meta is not an object")
    meta = META.lengthened(meta)
    for name in _NOT_IN_META:
        meta.pop(name, None)
    for name, value in meta.items():
        if not _meta_value_ok(name, value):
            raise CodecError(f"conversation meta: {name} is of the wrong type")
    return meta
