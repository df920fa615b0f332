"""The short names a conversation's fields take in their sealed record and its meta's
attributes at rest (flows.short_names)."""

from __future__ import annotations

import dataclasses
import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows import codec, relatives, screens
from flows.model import Conversation
from flows.on_content import SHARED_LOCATION
from flows.recall import SAFETY_FIELD
from flows.sealing import Sealer, SealKey
from flows.short_names import CHOICE_NUMBERS, FIELDS, META, Names, open_fields, seal_fields


def _names_the_dialogue_writes() -> set[str]:
    answers = [s.answer for s in screens.SCREENS.values() if s.answer is not None]
    answers += [s.answer for s in relatives.SCREENS.values() if s.answer is not None]
    set_by_steps = {SAFETY_FIELD, SHARED_LOCATION, "case_code", "sought_where"}
    return {a.field for a in answers} | set_by_steps


def test_a_fields_short_name_is_an_uppercase_letter_and_a_metas_a_lowercase_one() -> None:
    assert all(len(s) == 1 and s in string.ascii_uppercase for s in FIELDS.short.values())
    assert all(len(s) == 1 and s in string.ascii_lowercase for s in META.short.values())


def test_two_names_never_share_a_short_name() -> None:
    with pytest.raises(ValueError, match="share"):
        Names({"full_name": "N", "birth_date": "N"})


def test_every_field_the_dialogue_writes_has_a_short_name_and_is_not_one() -> None:
    written = _names_the_dialogue_writes()
    assert written - FIELDS.short.keys() == set()
    assert all(name == name.lower() and len(name) > 1 for name in written)


def test_every_meta_attribute_has_a_short_name() -> None:
    attributes = {f.name for f in dataclasses.fields(Conversation)} - {"fields", "version"}
    assert attributes == META.short.keys()


field_names = st.sampled_from([*FIELDS.short, "new_field", "x", "profile"])


@given(st.dictionaries(field_names, st.text(max_size=5)))
def test_short_names_read_back_as_they_went_in(fields: dict[str, str]) -> None:
    assert FIELDS.lengthened(FIELDS.shortened(fields)) == fields


def test_what_was_stored_under_the_long_names_reads_the_same() -> None:
    fields = {"full_name": "Иванов Иван", "birth_date": "1990-05-17", "new_field": "1"}
    assert FIELDS.lengthened(fields) == fields
    short = {"N": "Иванов Иван", "B": "1990-05-17", "new_field": "1"}
    assert FIELDS.shortened(fields) == short
    meta = codec.decode_meta('{"state": "registered", "owns_case": true, "escalated": true}')
    assert (meta["state"], meta["owns_case"], meta["escalated"]) == ("registered", True, True)


def test_the_meta_at_rest_is_under_short_names_to_the_millisecond() -> None:
    conv = Conversation(state="registered", owns_case=True, updated_at=1_796_160_508.8660798)
    text = codec.encode_meta(conv)
    assert json.loads(text) == {"s": "registered", "w": True, "u": 1_796_160_508.866}
    back = Conversation.from_parts(codec.decode_meta(text), {})
    assert (back.state, back.owns_case, back.updated_at) == ("registered", True, 1796160508.866)


def _choices_the_screens_offer() -> set[str]:
    answers = [s.answer for s in screens.SCREENS.values() if s.answer is not None]
    answers += [s.answer for s in relatives.SCREENS.values() if s.answer is not None]
    return {choice for a in answers for choice in a.choices}


def test_every_choice_the_screens_offer_has_a_number_of_its_own() -> None:
    assert _choices_the_screens_offer() - CHOICE_NUMBERS.keys() == set()
    numbers = list(CHOICE_NUMBERS.values())
    assert len(set(numbers)) == len(numbers)
    assert all(type(n) is int and n > 0 for n in numbers)


@given(
    st.dictionaries(
        field_names,
        st.one_of(st.sampled_from(sorted(CHOICE_NUMBERS)), st.text(max_size=8)),
    )
)
def test_a_sealed_record_opens_to_the_fields_sealed(fields: dict[str, str]) -> None:
    sealer = Sealer([SealKey("k1", b"k" * 32)])
    assert open_fields(sealer, seal_fields(sealer, fields, b"owner"), b"owner") == fields


def test_a_choice_is_sealed_as_its_number_and_typed_text_as_text() -> None:
    sealer = Sealer([SealKey("k1", b"k" * 32)])
    fields = {"rank": "rank-sergeant", "unit": "9", "health": "health-light"}
    record = sealer.unseal_json(seal_fields(sealer, fields, b"owner"), b"owner")
    assert record == {"R": 9, "U": "9", "T": 2}
    assert open_fields(sealer, sealer.seal_json({"R": True, "U": 99}, b"o"), b"o") == {
        "rank": True,
        "unit": 99,
    }  # not a choice's number: left for the store to refuse
