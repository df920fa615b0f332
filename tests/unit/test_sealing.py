"""Sealing of personal data and keyed pseudonyms: round trips, tampering, rotation, no leaks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.sealing import (
    KeyConfigError,
    Pseudonymizer,
    Sealer,
    SealError,
    SealKey,
    ephemeral_keys,
    load_keys,
    new_key,
    parse_keys,
)

# Recognisable values: if any of them shows up in an error or repr, something leaked.
PLAIN = b"CANARY Ivan Petrenko +380501234567"
SECRET1 = b"SECRETCANARY-one-0123456789abcde"
SECRET2 = b"SECRETCANARY-two-0123456789abcde"
SECRET3 = b"SECRETCANARY-three-0123456789abc"
# base64 of these is full of + and / (std) or - and _ (URL-safe): both alphabets must work
WIDE_SECRET = b"\xfb\xef\xff" * 10 + b"K4"
WIDE_ID_SECRET = b"\xfb\xef\xff" * 10 + b"K5"
OWNER = b"owner-1"
OTHER_OWNER = b"owner-2"
ID_SECRET = b"ID-SECRET-CANARY-0123456789abcdef"

K1 = SealKey("k1", SECRET1)
K2 = SealKey("k2", SECRET2)


def _b64(secret: bytes) -> str:
    return base64.b64encode(secret).decode()


def _forbidden(secret: bytes) -> list[str]:
    """Every way a secret could be spelled in a message."""
    return [
        secret.decode("latin-1"),
        repr(secret),
        secret.hex(),
        _b64(secret),
        _b64(secret).rstrip("="),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
    ]


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything chained to it (cause and context)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__]


def assert_no_leak(exc: BaseException, *needles: str) -> None:
    for link in _chain(exc):
        text = str(link) + repr(link) + repr(link.args)
        for needle in needles:
            assert needle not in text, f"{type(link).__name__} leaks {needle!r}"


LEAKS = [
    *_forbidden(SECRET1),
    *_forbidden(SECRET2),
    PLAIN.decode(),
    "CANARY",
    "Petrenko",
    "380501234567",
]


def _payload(record: str) -> bytes:
    payload = record.split(".")[2]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def _with_payload(record: str, blob: bytes) -> str:
    prefix, key_id, _ = record.split(".")
    return f"{prefix}.{key_id}.{base64.urlsafe_b64encode(blob).decode().rstrip('=')}"


def _ciphertext_leaks(record: str) -> list[str]:
    """Ways a record's nonce or ciphertext could appear in a message (empty if unparsable)."""
    parts = record.split(".")
    if len(parts) != 3 or len(parts[2]) < 16:
        return []
    nonce = base64.urlsafe_b64decode(parts[2][:16])  # 16 chars = the 12 nonce bytes
    return [parts[2][:12], parts[2][16:28], nonce.hex(), repr(nonce)[2:-1]]


def _flip(blob: bytes, index: int) -> bytes:
    changed = bytearray(blob)
    changed[index] ^= 0x01
    return bytes(changed)


@pytest.fixture
def sealer() -> Sealer:
    return Sealer([K1, K2])


# --- sealing -------------------------------------------------------------------------------


def test_round_trip(sealer: Sealer) -> None:
    record = sealer.seal(PLAIN, OWNER)
    assert sealer.unseal(record, OWNER) == PLAIN


def test_record_format(sealer: Sealer) -> None:
    record = sealer.seal(PLAIN, OWNER)
    assert record.isascii()
    assert re.fullmatch(r"s1\.k1\.[A-Za-z0-9_-]+", record)
    # nonce + ciphertext (same length as plaintext) + tag
    assert len(_payload(record)) == 12 + len(PLAIN) + 16
    assert PLAIN not in _payload(record)
    assert sealer.key_id_of(record) == "k1"
    assert sealer.current_key_id == "k1"


def test_empty_plaintext_round_trips(sealer: Sealer) -> None:
    record = sealer.seal(b"", OWNER)
    assert sealer.unseal(record, OWNER) == b""


def test_same_plaintext_seals_differently_and_both_open(sealer: Sealer) -> None:
    first, second = sealer.seal(PLAIN, OWNER), sealer.seal(PLAIN, OWNER)
    assert first != second
    assert _payload(first)[:12] != _payload(second)[:12]
    assert sealer.unseal(first, OWNER) == sealer.unseal(second, OWNER) == PLAIN


@pytest.mark.parametrize("context", [OTHER_OWNER, b"", OWNER + b"\x00", b"owner-"])
def test_wrong_context_refused(sealer: Sealer, context: bytes) -> None:
    record = sealer.seal(PLAIN, OWNER)
    with pytest.raises(SealError, match="authentication failed") as info:
        sealer.unseal(record, context)
    assert info.value.reason == "auth_failed"
    assert_no_leak(info.value, *LEAKS)


def _tampered_ciphertext(record: str) -> str:
    return _with_payload(record, _flip(_payload(record), 12))


def _tampered_tag(record: str) -> str:
    return _with_payload(record, _flip(_payload(record), -1))


def _tampered_nonce(record: str) -> str:
    return _with_payload(record, _flip(_payload(record), 0))


def _other_known_key_id(record: str) -> str:
    return record.replace("s1.k1.", "s1.k2.", 1)


def _unknown_key_id(record: str) -> str:
    return record.replace("s1.k1.", "s1.zz.", 1)


def _truncated_payload(record: str) -> str:
    return _with_payload(record, _payload(record)[:27])


def _dropped_last_byte(record: str) -> str:
    return _with_payload(record, _payload(record)[:-1])


def _appended_byte(record: str) -> str:
    return _with_payload(record, _payload(record) + b"\x00")


def _not_base64(record: str) -> str:
    return record[:-3] + "*!="


def _padded(record: str) -> str:
    return record + "=" * (-len(record.split(".")[2]) % 4 or 4)


def _impossible_length(record: str) -> str:
    prefix, key_id, payload = record.split(".")
    return f"{prefix}.{key_id}.{payload[: 4 * 8 + 1]}"


def _non_canonical(record: str) -> str:
    """Change only the unused low bits of the last character: decodes to the same bytes."""
    prefix, key_id, payload = record.split(".")
    assert len(payload) % 4 != 0, "test needs a payload with unused trailing bits"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet[alphabet.index(payload[-1]) ^ 1]
    return f"{prefix}.{key_id}.{payload[:-1]}{last}"


TAMPERS: dict[str, tuple[Callable[[str], str], str]] = {
    "ciphertext byte": (_tampered_ciphertext, "auth_failed"),
    "tag byte": (_tampered_tag, "auth_failed"),
    "nonce byte": (_tampered_nonce, "auth_failed"),
    "other known key id": (_other_known_key_id, "auth_failed"),
    "unknown key id": (_unknown_key_id, "unknown_key"),
    "truncated below nonce+tag": (_truncated_payload, "malformed"),
    "last byte dropped": (_dropped_last_byte, "auth_failed"),
    "byte appended": (_appended_byte, "auth_failed"),
    "truncated text": (lambda r: r[:20], "malformed"),
    "empty": (lambda r: "", "malformed"),
    "header only": (lambda r: "s1.k1.", "malformed"),
    "not base64": (_not_base64, "malformed"),
    "padding added": (_padded, "malformed"),
    "impossible base64 length": (_impossible_length, "malformed"),
    "non-canonical base64": (_non_canonical, "malformed"),
    "wrong prefix": (lambda r: "s2" + r[2:], "malformed"),
    "no prefix": (lambda r: r[3:], "malformed"),
    "extra dot": (lambda r: r + ".x", "malformed"),
    "bad key id": (lambda r: r.replace("s1.k1.", "s1.k+1.", 1), "malformed"),
    "key id too long": (lambda r: r.replace("s1.k1.", "s1." + "k" * 17 + ".", 1), "malformed"),
    "non-ascii": (lambda r: r[:-1] + "é", "malformed"),
}


@pytest.mark.parametrize("tamper", TAMPERS.values(), ids=list(TAMPERS))
def test_tampered_record_refused(sealer: Sealer, tamper: tuple[Callable[[str], str], str]) -> None:
    change, reason = tamper
    # payloads of 62 and 35 bytes: both end in unused bits (for the non-canonical case)
    for plaintext in (PLAIN, b"CANARY!"):
        record = sealer.seal(plaintext, OWNER)
        bad = change(record)
        assert bad != record
        with pytest.raises(SealError, match=r"^sealed record does not open: ") as info:
            sealer.unseal(bad, OWNER)
        assert info.value.reason == reason
        assert_no_leak(info.value, *LEAKS, *_ciphertext_leaks(record), *_ciphertext_leaks(bad))


def test_unknown_key_message_names_the_key_id(sealer: Sealer) -> None:
    record = _unknown_key_id(sealer.seal(PLAIN, OWNER))
    with pytest.raises(SealError, match="key zz unknown"):
        sealer.unseal(record, OWNER)


def test_malformed_record_has_no_key_id(sealer: Sealer) -> None:
    with pytest.raises(SealError, match="malformed") as info:
        sealer.key_id_of("s2.k1.AAAA")
    assert info.value.reason == "malformed"
    with pytest.raises(SealError, match="malformed"):
        sealer.needs_reseal("garbage")


def test_relabelled_record_refused_even_if_keys_share_a_secret() -> None:
    """The header is authenticated, not only the key behind it."""
    twins = Sealer([SealKey("a", SECRET1), SealKey("b", SECRET1)])
    record = twins.seal(PLAIN, OWNER)
    with pytest.raises(SealError, match="authentication failed"):
        twins.unseal(record.replace("s1.a.", "s1.b.", 1), OWNER)


@given(
    index=st.integers(min_value=0),
    char=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.s"),
)
def test_any_single_character_change_is_refused(index: int, char: str) -> None:
    sealer = Sealer([K1, K2])
    record = sealer.seal(PLAIN, OWNER)
    index %= len(record)
    bad = record[:index] + char + record[index + 1 :]
    if bad == record:
        return
    with pytest.raises(SealError):
        sealer.unseal(bad, OWNER)


@given(plaintext=st.binary(max_size=4096), context=st.binary(max_size=256))
def test_round_trip_arbitrary_bytes_and_context(plaintext: bytes, context: bytes) -> None:
    sealer = Sealer([K1])
    record = sealer.seal(plaintext, context)
    assert record.isascii()
    assert sealer.unseal(record, context) == plaintext


@given(plaintext=st.binary(max_size=64), context=st.binary(max_size=32), other=st.binary())
def test_arbitrary_other_context_refused(plaintext: bytes, context: bytes, other: bytes) -> None:
    if other == context:
        return
    sealer = Sealer([K1])
    with pytest.raises(SealError):
        sealer.unseal(sealer.seal(plaintext, context), other)


# --- rotation ------------------------------------------------------------------------------


def test_rotation() -> None:
    old = Sealer([K1])
    records = [old.seal(PLAIN + bytes([n]), OWNER) for n in range(5)]

    rotated = Sealer([K2, K1])
    assert rotated.current_key_id == "k2"
    assert [rotated.unseal(r, OWNER) for r in records] == [PLAIN + bytes([n]) for n in range(5)]
    assert all(rotated.needs_reseal(r) for r in records)

    resealed = [rotated.reseal(r, OWNER) for r in records]
    assert all(rotated.key_id_of(r) == "k2" for r in resealed)
    assert not any(rotated.needs_reseal(r) for r in resealed)

    retired = Sealer([K2])
    assert [retired.unseal(r, OWNER) for r in resealed] == [PLAIN + bytes([n]) for n in range(5)]
    with pytest.raises(SealError, match="key k1 unknown") as info:
        retired.unseal(records[0], OWNER)
    assert info.value.reason == "unknown_key"


def test_records_of_the_current_key_need_no_reseal(sealer: Sealer) -> None:
    record = sealer.seal(PLAIN, OWNER)
    assert not sealer.needs_reseal(record)
    assert sealer.reseal(record, OWNER) == record


def test_reseal_checks_the_owner() -> None:
    record = Sealer([K1]).seal(PLAIN, OWNER)
    rotated = Sealer([K2, K1])
    with pytest.raises(SealError, match="authentication failed"):
        rotated.reseal(record, OTHER_OWNER)
    with pytest.raises(SealError, match="authentication failed"):
        Sealer([K1]).reseal(record, OTHER_OWNER)


def test_reseal_keeps_the_owner_binding() -> None:
    rotated = Sealer([K2, K1])
    resealed = rotated.reseal(Sealer([K1]).seal(PLAIN, OWNER), OWNER)
    with pytest.raises(SealError):
        rotated.unseal(resealed, OTHER_OWNER)


# --- JSON ----------------------------------------------------------------------------------


def test_json_round_trip(sealer: Sealer) -> None:
    value = {"name": "Іван Петренко", "phone": "+380501234567", "n": 3, "tags": [1, None]}
    record = sealer.seal_json(value, OWNER)
    assert sealer.unseal_json(record, OWNER) == value
    raw = sealer.unseal(record, OWNER)
    assert raw == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("payload", [b"[1,2]", b'"CANARY"', b"null", b"{CANARY", b"\xff\xfe"])
def test_unseal_json_refuses_non_objects_without_leaking(sealer: Sealer, payload: bytes) -> None:
    record = sealer.seal(payload, OWNER)
    with pytest.raises(SealError, match="not a JSON object") as info:
        sealer.unseal_json(record, OWNER)
    assert info.value.reason == "not_json"
    assert info.value.__context__ is None
    assert_no_leak(info.value, "CANARY", "{CANARY")


@pytest.mark.parametrize(
    "value", [{"CANARY": b"CANARY"}, {"CANARY": float("nan")}, {("CANARY",): 1}]
)
def test_seal_json_refuses_non_json_without_leaking(
    sealer: Sealer, value: dict[str, object]
) -> None:
    with pytest.raises(SealError, match="not JSON-serialisable") as info:
        sealer.seal_json(value, OWNER)
    assert info.value.__context__ is None
    assert_no_leak(info.value, "CANARY")


def test_unseal_json_checks_the_owner(sealer: Sealer) -> None:
    record = sealer.seal_json({"a": 1}, OWNER)
    with pytest.raises(SealError, match="authentication failed"):
        sealer.unseal_json(record, OTHER_OWNER)


# --- keys ----------------------------------------------------------------------------------


def test_seal_key_repr_hides_the_secret() -> None:
    for text in (repr(K1), str(K1), repr([K1, K2]), repr(Sealer([K1, K2]))):
        assert "k1" in text
        for needle in LEAKS:
            assert needle not in text


@pytest.mark.parametrize(
    ("key_id", "secret"),
    [("k1", SECRET1[:31]), ("k1", SECRET1 + b"x"), ("", SECRET1), ("k.1", SECRET1),
     ("k" * 17, SECRET1), ("ключ", SECRET1), ("k1", bytearray(SECRET1))],
)  # fmt: skip
def test_seal_key_validation(key_id: str, secret: bytes) -> None:
    with pytest.raises(KeyConfigError) as info:
        SealKey(key_id, secret)
    assert_no_leak(info.value, *_forbidden(SECRET1))


def test_sealer_needs_a_key() -> None:
    with pytest.raises(KeyConfigError, match="no sealing keys"):
        Sealer([])


def test_sealer_refuses_duplicate_key_ids() -> None:
    with pytest.raises(KeyConfigError, match="k1") as info:
        Sealer([K1, SealKey("k1", SECRET2)])
    assert_no_leak(info.value, *LEAKS)


def test_parse_keys() -> None:
    spec = f"""
        # rotated 2024-05-01: k3 is new, k1 retires after the re-seal
        k3:{_b64(SECRET3)}

        k2 : {_b64(SECRET2)} ,, k1:{_b64(SECRET1)},
        # k0:not-a-key-at-all
        k4:{_b64(WIDE_SECRET)}
    """
    assert "/" in _b64(WIDE_SECRET)
    keys = parse_keys(spec)
    assert keys == [
        SealKey("k3", SECRET3),
        SealKey("k2", SECRET2),
        SealKey("k1", SECRET1),
        SealKey("k4", WIDE_SECRET),
    ]
    assert Sealer(keys).current_key_id == "k3"


@pytest.mark.parametrize(
    "encode",
    [
        lambda b: base64.urlsafe_b64encode(b).decode(),
        lambda b: base64.b64encode(b).decode().rstrip("="),
        lambda b: base64.b64encode(b).decode()[:-2] + "R=",  # unused bits changed
    ],
    ids=["urlsafe", "unpadded", "not-canonical"],
)
def test_seal_keys_that_are_not_strict_base64_are_refused(encode: Callable[[bytes], str]) -> None:
    """A mangled key is refused at start, never read as some other key."""
    with pytest.raises(KeyConfigError, match="entry 1 is not strict base64"):
        parse_keys(f"k1:{encode(WIDE_SECRET)}")


def test_parse_keys_single_entry_and_nothing() -> None:
    assert parse_keys(f"k1:{_b64(SECRET1)}") == [K1]
    assert parse_keys("") == []
    assert parse_keys(" \n# only a comment\n , \n") == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (f"k1:{_b64(SECRET1)},k2:{_b64(SECRET2)[:-3]}*!=", "entry 2 is not strict base64"),
        (f"k1:{_b64(SECRET1)},k2:{_b64(SECRET2)} x", "entry 2 is not strict base64"),
        (f"k1:{_b64(SECRET1)}\nk2:{_b64(SECRET2)[:-2]}", "entry 2 is not strict base64"),
        (f"k1:{_b64(SECRET1[:16])}", "entry 1 is not 32 bytes of base64"),
        (f"k1:{_b64(SECRET1)},k2:{_b64(SECRET2 + b'xx')}", "entry 2 is not 32 bytes of base64"),
        ("k1:", "entry 1 is not 32 bytes of base64"),
        (f"k1:{_b64(SECRET1)}\nk1:{_b64(SECRET2)}", "entry 2 repeats key id k1"),
        (f"k.1:{_b64(SECRET1)}", "entry 1 has a key id that is not"),
        (f":{_b64(SECRET1)}", "entry 1 has a key id that is not"),
        (f"{'k' * 17}:{_b64(SECRET1)}", "entry 1 has a key id that is not"),
        (f"k1:{_b64(SECRET1)},{_b64(SECRET2)}", "entry 2 is not of the form id:base64"),
        (f"{_b64(SECRET1)[:10]}/x:{_b64(SECRET2)}", "entry 1 has a key id that is not"),
    ],
)
def test_parse_keys_errors_name_the_problem_not_the_key(spec: str, message: str) -> None:
    with pytest.raises(KeyConfigError, match=re.escape(message)) as info:
        parse_keys(spec)
    assert str(info.value).startswith("HOTLINE_SEAL_KEYS: ")
    assert_no_leak(info.value, *_forbidden(SECRET1), *_forbidden(SECRET2), _b64(SECRET1)[:10])


def test_key_config_error_is_a_value_error() -> None:
    assert issubclass(KeyConfigError, ValueError)


def test_load_keys_prefers_the_env(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(f"k1:{_b64(SECRET1)}\n")
    assert load_keys(f"k2:{_b64(SECRET2)}", key_file) == [K2]
    assert load_keys(None, key_file) == [K1]
    assert load_keys(None, str(key_file)) == [K1]
    assert load_keys("  ", key_file) == [K1]
    assert load_keys(f"k2:{_b64(SECRET2)}", None) == [K2]
    assert load_keys(None, None) == []


def test_load_keys_unreadable_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-keys"
    with pytest.raises(KeyConfigError, match=re.escape(str(missing))):
        load_keys(None, missing)
    with pytest.raises(KeyConfigError, match=re.escape(str(tmp_path))):
        load_keys(None, tmp_path)  # a directory


def test_load_keys_binary_file_does_not_leak(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.bin"
    key_file.write_bytes(b"\xff" + SECRET1)
    with pytest.raises(KeyConfigError, match="not UTF-8") as info:
        load_keys(None, key_file)
    assert info.value.__context__ is None
    assert_no_leak(info.value, *_forbidden(SECRET1), "xff")


def test_load_keys_errors_in_file_name_the_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(f"k1:{_b64(SECRET1)[:-4]}\n")
    with pytest.raises(KeyConfigError, match="entry 1") as info:
        load_keys(None, key_file)
    assert str(key_file) in str(info.value)
    assert_no_leak(info.value, *_forbidden(SECRET1), _b64(SECRET1)[:-4])


def test_load_keys_refuses_a_source_without_keys(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("# nothing here yet\n")
    with pytest.raises(KeyConfigError, match="no keys"):
        load_keys(None, key_file)
    with pytest.raises(KeyConfigError, match="HOTLINE_SEAL_KEYS: no keys"):
        load_keys("# commented out", key_file)


def test_new_key() -> None:
    line = new_key()
    key_id, _, material = line.partition(":")
    assert re.fullmatch(r"k\d{8}[0-9a-f]{4}", key_id)
    assert len(base64.b64decode(material, validate=True)) == 32
    (key,) = parse_keys(line)
    assert key.key_id == key_id
    assert new_key() != line
    other = parse_keys(new_key())[0]
    assert other.secret != key.secret


def test_new_key_with_an_id() -> None:
    (key,) = parse_keys(new_key("rot-2"))
    assert key.key_id == "rot-2"
    with pytest.raises(KeyConfigError):
        new_key("bad id")


def test_rotation_from_configuration_strings() -> None:
    """The documented procedure: prepend a new_key() line, re-seal, drop the old entry."""
    old_line = new_key("old")
    old = Sealer(parse_keys(old_line))
    record = old.seal(PLAIN, OWNER)
    new_line = new_key("new")
    both = Sealer(parse_keys(f"{new_line},{old_line}"))
    resealed = both.reseal(record, OWNER)
    assert Sealer(parse_keys(new_line)).unseal(resealed, OWNER) == PLAIN


def test_ephemeral_keys() -> None:
    keys, id_secret = ephemeral_keys()
    assert [key.key_id for key in keys] == ["ephemeral"]
    assert len(keys[0].secret) == 32
    assert len(id_secret) >= 32
    sealer = Sealer(keys)
    assert sealer.unseal(sealer.seal(PLAIN, OWNER), OWNER) == PLAIN
    Pseudonymizer(id_secret).digest("caller", "1")
    again, other_secret = ephemeral_keys()
    assert again[0].secret != keys[0].secret
    assert other_secret != id_secret


# --- pseudonyms ----------------------------------------------------------------------------


def test_pseudonym_is_the_specified_hmac() -> None:
    expected = hmac.new(ID_SECRET, b"caller\x1f123456789", hashlib.sha256).digest()[:20]
    digest = Pseudonymizer(ID_SECRET).digest("caller", "123456789")
    assert digest == base64.b32encode(expected).decode().lower()


def test_pseudonym_is_deterministic_and_keyed() -> None:
    one, same = Pseudonymizer(ID_SECRET), Pseudonymizer(bytes(ID_SECRET))
    assert one.digest("caller", "123456789") == one.digest("caller", "123456789")
    assert one.digest("caller", "123456789") == same.digest("caller", "123456789")
    other = Pseudonymizer(ID_SECRET + b"!")
    assert other.digest("caller", "123456789") != one.digest("caller", "123456789")
    assert one.digest("caller", "123456789") != one.digest("caller", "123456788")


def test_pseudonym_namespaces_are_separate() -> None:
    pseudo = Pseudonymizer(ID_SECRET)
    digests = {pseudo.digest(ns, "380501234567") for ns in ("caller", "phone", "name", "caller2")}
    assert len(digests) == 4
    assert pseudo.digest("a", "b\x1fc") != pseudo.digest("ab", "c")


@pytest.mark.parametrize("namespace", ["", "a\x1fb"])
def test_pseudonym_namespace_must_be_unambiguous(namespace: str) -> None:
    with pytest.raises(ValueError, match="namespace"):
        Pseudonymizer(ID_SECRET).digest(namespace, "CANARY")


@given(namespace=st.text(min_size=1).filter(lambda s: "\x1f" not in s), value=st.text())
def test_pseudonym_shape(namespace: str, value: str) -> None:
    digest = Pseudonymizer(ID_SECRET).digest(namespace, value)
    assert re.fullmatch(r"[a-z2-7]{32}", digest)


def test_pseudonym_of_lone_surrogate() -> None:
    pseudo = Pseudonymizer(ID_SECRET)
    assert pseudo.digest("name", "\ud800") != pseudo.digest("name", "\ud801")
    assert re.fullmatch(r"[a-z2-7]{32}", pseudo.digest("name", "x\udfffy"))


def test_pseudonymizer_needs_32_bytes() -> None:
    Pseudonymizer(b"x" * 32)
    with pytest.raises(KeyConfigError, match="HOTLINE_ID_KEY") as info:
        Pseudonymizer(b"CANARYx" * 4)
    assert_no_leak(info.value, "CANARY")


@pytest.mark.parametrize("secret", [ID_SECRET, WIDE_ID_SECRET])
@pytest.mark.parametrize(
    "encode",
    [
        lambda b: base64.b64encode(b).decode(),
        lambda b: " " + base64.b64encode(b).decode() + "\n",
    ],
    ids=["std", "whitespace"],
)
def test_pseudonymizer_from_text(secret: bytes, encode: Callable[[bytes], str]) -> None:
    expected = Pseudonymizer(secret).digest("caller", "1")
    assert Pseudonymizer.from_text(encode(secret)).digest("caller", "1") == expected


@pytest.mark.parametrize(
    "encode",
    [
        lambda b: base64.b64encode(b).decode().rstrip("="),
        lambda b: base64.urlsafe_b64encode(b).decode(),
        lambda b: base64.b64encode(b[:31]).decode(),
    ],
    ids=["unpadded", "urlsafe", "short"],
)
def test_an_id_key_that_is_short_or_not_strict_base64_is_refused(
    encode: Callable[[bytes], str],
) -> None:
    with pytest.raises(KeyConfigError, match="HOTLINE_ID_KEY"):
        Pseudonymizer.from_text(encode(WIDE_ID_SECRET))


@pytest.mark.parametrize(
    "text", ["CANARY-not*base64", base64.b64encode(b"CANARY-short").decode(), ""]
)
def test_pseudonymizer_from_text_errors_do_not_leak(text: str) -> None:
    with pytest.raises(KeyConfigError, match="HOTLINE_ID_KEY") as info:
        Pseudonymizer.from_text(text)
    assert_no_leak(info.value, "CANARY", *([text] if text else []))


def test_pseudonymizer_repr_hides_the_secret() -> None:
    text = repr(Pseudonymizer(ID_SECRET))
    for needle in _forbidden(ID_SECRET):
        assert needle not in text


# --- messages never carry data -------------------------------------------------------------


def _unseal_changed(sealer: Sealer, record: str, change: Callable[[str], str]) -> bytes:
    return sealer.unseal(change(record), OWNER)


def test_no_error_message_carries_plaintext_or_key(sealer: Sealer) -> None:
    """Collect every failure this module can produce for one canary record and grep them."""
    record = sealer.seal(PLAIN, OWNER)
    failures: list[BaseException] = []
    attempts: list[Callable[[], object]] = [
        lambda: sealer.unseal(record, OTHER_OWNER),
        lambda: Sealer([K2]).unseal(record, OWNER),
        lambda: Sealer([SealKey("k1", SECRET2)]).unseal(record, OWNER),
        lambda: sealer.reseal(record, OTHER_OWNER),
        lambda: sealer.unseal_json(record, OWNER),
        lambda: sealer.seal_json({"CANARY": PLAIN}, OWNER),
        *(partial(_unseal_changed, sealer, record, change) for change, _ in TAMPERS.values()),
        lambda: parse_keys(f"k1:{_b64(SECRET1)},k1:{_b64(SECRET2)}"),
        lambda: parse_keys(f"k1:{_b64(SECRET1)[:-2]}"),
        lambda: SealKey("k1", SECRET1[:-1]),
    ]  # fmt: skip
    for attempt in attempts:
        with pytest.raises((SealError, KeyConfigError)) as info:
            attempt()
        failures.append(info.value)
    assert len(failures) == len(attempts)
    for failure in failures:
        assert_no_leak(failure, *LEAKS, record.split(".")[2][:16])
