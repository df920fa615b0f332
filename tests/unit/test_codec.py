"""The JSON codec of effects and conversation meta: every effect round-trips, bad data fails."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows import codec
from flows.model import (
    Button,
    CaseEvent,
    Conversation,
    DeleteInput,
    DeskDone,
    Effect,
    Erase,
    Escalate,
    FromOperator,
    LinkNotice,
    Lookup,
    Priority,
    RegisterCase,
    Relay,
    Reply,
    Scrub,
    SilentAlert,
    VerifyBirth,
)

CANARY = "Канарейкин Тест +79990001122"

EVERY_EFFECT: list[Effect] = [
    Reply("greeting"),
    Reply(
        "review",
        params={"full-name": CANARY, "people": 3, "phone": "-"},
        buttons=(Button("confirm", "btn-confirm"), Button("share", "btn-share", "contact")),
        inline=True,
        step=(2, 10),
        screen="review",
    ),
    Reply("ask-people", step=(6, 10)),
    DeleteInput(42),
    Relay(7, "voice"),
    Relay(8, "document", text=CANARY, file_name="a.apk", mime_type="application/zip"),
    Escalate(Priority.HIGHEST, "emergency"),
    Escalate(Priority.NORMAL, "operator"),
    SilentAlert("safety-word"),
    CaseEvent("registered"),
    CaseEvent("withdrawn", case="c0ffee123456"),
    Lookup("abcdefgh"),
    RegisterCase("c0ffee", "digest"),
    Erase(),
    Erase(wipe_chat=True, case_id="c0ffee", code_digest="digest"),
    Erase(case_id="c0ffee", linked=True),
    Erase(wipe_chat=True, case_id="c0ffee", linked=True, met=True),
    DeskDone("close", "operator-digest"),
    DeskDone("claim", "operator-digest", step="audit", case="c0ffee", via="button"),
    FromOperator(10_017),
    VerifyBirth("1990-05-17"),
    LinkNotice("failed", "c0ffee", 2),
    Scrub(),
]


def _through_json(effects: list[Effect]) -> tuple[Effect, ...]:
    return codec.decode_effects(codec.loads(codec.dumps(codec.encode_effects(effects))))


@pytest.mark.parametrize("effect", EVERY_EFFECT, ids=lambda e: type(e).__name__)
def test_every_effect_round_trips_through_json(effect: Effect) -> None:
    (back,) = _through_json([effect])
    assert back == effect
    assert type(back) is type(effect)


def test_the_samples_cover_every_effect_type_and_field() -> None:
    assert {type(e) for e in EVERY_EFFECT} == set(codec.EFFECT_TYPES)
    for cls in codec.EFFECT_TYPES:
        samples = [e for e in EVERY_EFFECT if type(e) is cls]
        for f in dataclasses.fields(cls):
            assert any(getattr(e, f.name) != _default_of(f) for e in samples), (
                f"no sample sets {cls.__name__}.{f.name}"
            )


def test_a_relay_keeps_its_content_through_the_outbox() -> None:
    # the content does not take part in equality (two relays of one message are one relay)
    relay = Relay(8, "document", text=CANARY, file_name="a.apk", mime_type="application/zip")
    (back,) = _through_json([relay])
    assert isinstance(back, Relay)
    assert (back.text, back.file_name, back.mime_type) == (CANARY, "a.apk", "application/zip")


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return object()  # required: any sample value differs


def test_a_batch_keeps_its_order() -> None:
    assert _through_json(EVERY_EFFECT) == tuple(EVERY_EFFECT)


def test_reply_parts_come_back_with_their_types() -> None:
    (reply,) = _through_json([EVERY_EFFECT[1]])
    assert isinstance(reply, Reply)
    assert isinstance(reply.buttons, tuple)
    assert all(isinstance(b, Button) for b in reply.buttons)
    assert reply.step == (2, 10)
    assert isinstance(reply.step, tuple)
    assert reply.params["people"] == 3


def test_priority_comes_back_as_the_enum() -> None:
    (escalate,) = _through_json([Escalate(Priority.HIGH, "recall")])
    assert isinstance(escalate, Escalate)
    assert escalate.priority is Priority.HIGH


def test_defaults_are_left_out_of_the_json() -> None:
    assert codec.encode_effect(Reply("help")) == {"t": "reply", "message_id": "help"}


def test_encoded_effects_are_tagged() -> None:
    tags = [codec.encode_effect(e)["t"] for e in EVERY_EFFECT]
    assert all(isinstance(t, str) and t for t in tags)
    assert len(set(tags)) == len({type(e) for e in EVERY_EFFECT})


_param_values = st.one_of(st.text(), st.integers(min_value=-(2**53), max_value=2**53))
_buttons = st.builds(
    Button,
    id=st.text(min_size=1),
    label=st.text(),
    kind=st.sampled_from(["choice", "contact", "location"]),
)
_replies = st.builds(
    Reply,
    message_id=st.text(min_size=1),
    params=st.dictionaries(st.text(), _param_values, max_size=6),
    buttons=st.lists(_buttons, max_size=5).map(tuple),
    inline=st.booleans(),
    step=st.none() | st.tuples(st.integers(0, 99), st.integers(0, 99)),
)


@given(_replies)
def test_any_reply_round_trips(reply: Reply) -> None:
    assert _through_json([reply]) == (reply,)


# Values by annotation, so a field added to an effect later is exercised without a test change
_BY_ANNOTATION: dict[str, st.SearchStrategy[Any]] = {
    "str": st.text(),
    "int": st.integers(min_value=-(2**53), max_value=2**53),
    "bool": st.booleans(),
    "str | None": st.none() | st.text(),
    "int | None": st.none() | st.integers(min_value=-(2**53), max_value=2**53),
    "Priority": st.sampled_from(Priority),
    "Params": st.dictionaries(st.text(), _param_values, max_size=4),
    "tuple[Button, ...]": st.lists(_buttons, max_size=3).map(tuple),
    "tuple[int, int] | None": st.none() | st.tuples(st.integers(0, 99), st.integers(0, 99)),
}


def _any_effect() -> st.SearchStrategy[Effect]:
    return st.one_of(
        [
            st.builds(
                cls, **{f.name: _BY_ANNOTATION[str(f.type)] for f in dataclasses.fields(cls)}
            )
            for cls in codec.EFFECT_TYPES
        ]
    )


@given(st.lists(_any_effect(), max_size=5))
def test_any_batch_of_effects_round_trips(effects: list[Effect]) -> None:
    assert _through_json(effects) == tuple(effects)


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "reply",
        {"message_id": "x"},  # no tag
        {"t": "nope"},
        {"t": 5},
        {"t": "reply"},  # no message id
        {"t": "reply", "message_id": 5},
        {"t": "reply", "message_id": "x", "params": [1, 2]},
        {"t": "reply", "message_id": "x", "params": {"a": 1.5}},
        {"t": "reply", "message_id": "x", "params": {"a": None}},
        {"t": "reply", "message_id": "x", "buttons": "confirm"},
        {"t": "reply", "message_id": "x", "buttons": [{"id": "a"}]},
        {"t": "reply", "message_id": "x", "step": [1]},
        {"t": "reply", "message_id": "x", "step": [1, "2"]},
        {"t": "reply", "message_id": "x", "inline": "yes"},
        {"t": "delete_input", "message_ref": True},
        {"t": "delete_input", "message_ref": "5"},
        {"t": "escalate", "priority": 9, "reason": "x"},
        {"t": "escalate", "priority": "HIGH", "reason": "x"},
        {"t": "erase", "wipe_chat": 1},
        {"t": "erase", "case_id": 5},
    ],
)
def test_malformed_effects_are_refused(data: Any) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode_effect(data)


def test_codec_errors_never_quote_the_data() -> None:
    bad = [
        {"t": "reply", "message_id": "x", "params": {"name": [CANARY]}},
        {"t": "reply", "message_id": CANARY, "step": CANARY},
        {"t": CANARY},
    ]
    for data in bad:
        with pytest.raises(codec.CodecError) as info:
            codec.decode_effect(data)
        assert "Канарейкин" not in str(info.value)
    with pytest.raises(codec.CodecError) as info:
        codec.loads('{"name": "' + CANARY)
    assert "Канарейкин" not in str(info.value)
    assert info.value.__context__ is None


def test_unencodable_values_are_refused() -> None:
    with pytest.raises(codec.CodecError):
        codec.dumps({"x": float("nan")})
    with pytest.raises(codec.CodecError):
        codec.dumps({"x": object()})


# -- conversation meta ------------------------------------------------------------------------


def _registered() -> Conversation:
    return Conversation(
        state="registered",
        lang="uk",
        fields={"full_name": CANARY, "birth_date": "1991-05-17"},
        version=7,
        return_to="review",
        escalated=True,
        priority=2,
        case_id="c0ffee",
        owns_case=True,
        pending_case_id="b" * 12,
        code_digest="c" * 32,
        updated_at=1_700_000_000.25,
    )


def test_meta_round_trips_everything_but_fields_and_version() -> None:
    conv = _registered()
    back = Conversation.from_parts(codec.decode_meta(codec.encode_meta(conv)), conv.fields)
    assert back == dataclasses.replace(conv, version=0)


def test_meta_holds_no_personal_fields() -> None:
    text = codec.encode_meta(_registered())
    assert "Канарейкин" not in text
    assert "1991" not in text
    assert "fields" not in json.loads(text)
    assert "version" not in json.loads(text)


def test_meta_from_a_newer_release_keeps_what_it_knows() -> None:
    meta = codec.decode_meta('{"state": "menu", "lang": "uk", "future_flag": true}')
    conv = Conversation.from_parts(meta, {})
    assert (conv.state, conv.lang) == ("menu", "uk")


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "not json",
        '{"state": 5}',
        '{"escalated": "yes"}',
        '{"priority": true}',
        '{"case_id": 12}',
        '{"updated_at": "now"}',
    ],
)
def test_malformed_meta_is_refused(text: str) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode_meta(text)
