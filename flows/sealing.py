"""Sealing of personal data at rest, and keyed pseudonyms for Redis key names.

Personal fields never reach Redis in the clear: each record is sealed with AES-256-GCM under a
fresh random nonce, carries the id of the key that sealed it, and is bound to its owner so a
record copied into another conversation does not open. Several keys may be configured so records
stay readable across a rotation; the first one seals, all of them unseal, and `Sealer.reseal`
moves old records to the newest key.

Nothing in this module ever puts plaintext, ciphertext or key bytes into an exception message,
a repr or an exception's context: errors say *what* is wrong, never *with what data*. Where a
library exception could carry data (JSON and Unicode errors keep the document), it is
suppressed and our error raised afterwards, so the original does not ride along as
``__context__``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "KeyConfigError",
    "Pseudonymizer",
    "SealError",
    "SealKey",
    "Sealer",
    "ephemeral_keys",
    "load_keys",
    "new_key",
    "parse_keys",
]

SECRET_BYTES: Final = 32
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
MIN_ID_SECRET_BYTES: Final = 32
RECORD_VERSION: Final = "s1"
KEYS_ENV: Final = "HOTLINE_SEAL_KEYS"
ID_KEY_ENV: Final = "HOTLINE_ID_KEY"

_KEY_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,16}")
_URLSAFE_RE: Final = re.compile(r"[A-Za-z0-9_-]*")
_URLSAFE_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_FROM_URLSAFE: Final = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")
# A base64 text whose length is 2 or 3 (mod 4) ends in a character with 4 or 2 bits that
# encode nothing; any of them set is another text of the same bytes (not canonical)
_UNUSED_BITS: Final = {2: 0b1111, 3: 0b11}
_SEXTET: Final = {char: n for n, char in enumerate(_URLSAFE_ALPHABET)}
# what json.dumps(ensure_ascii=False, separators=(",", ":"), allow_nan=False) builds per call
_COMPACT_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_STRICT_B64_RE: Final = re.compile(r"[A-Za-z0-9+/]*={0,2}")
# Separates namespace from value in the pseudonym MAC input; forbidden in namespaces, so the
# encoding is unambiguous.
_NS_SEP: Final = "\x1f"

SealFailure = Literal["malformed", "unknown_key", "auth_failed", "not_json"]


class SealError(Exception):
    """A record could not be sealed or opened.

    `reason` lets callers tell a damaged record from a missing key (an operational problem:
    the key was retired too early) without parsing the message.
    """

    def __init__(self, message: str, *, reason: SealFailure = "malformed") -> None:
        super().__init__(message)
        self.reason: SealFailure = reason


class KeyConfigError(ValueError):
    """Key configuration is unusable; the message names the problem and never the key."""


@dataclass(frozen=True, slots=True)
class SealKey:
    """One AES-256-GCM key and the short id written into every record it seals."""

    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        # The id is echoed only once it is known to be a well-formed id, never raw input.
        if not isinstance(self.key_id, str) or not _KEY_ID_RE.fullmatch(self.key_id):
            raise KeyConfigError("seal key id must match [A-Za-z0-9_-]{1,16}")
        if not isinstance(self.secret, bytes) or len(self.secret) != SECRET_BYTES:
            raise KeyConfigError(f"seal key {self.key_id}: secret must be {SECRET_BYTES} bytes")


def _b64decode_strict(text: str) -> bytes | None:
    """Decode strict base64 (the standard alphabet, padded, canonical: what `openssl rand
    -base64 32` and `hotline keys` print); None for anything else, so a truncated or mangled
    secret is refused at start instead of silently giving a weaker key."""
    text = text.strip()
    if not _STRICT_B64_RE.fullmatch(text) or len(text) % 4:
        return None
    try:
        secret = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    if base64.b64encode(secret).decode("ascii") != text:
        return None  # non-canonical: changed unused bits
    return secret


def parse_keys(spec: str, *, source: str = KEYS_ENV) -> list[SealKey]:
    """Parse ``"kid:BASE64"`` entries separated by commas or newlines; the first key seals.

    Blank entries and lines starting with ``#`` are ignored. `source` only names where the
    spec came from in error messages (the env var, or a key file's path).
    """
    keys: list[SealKey] = []
    seen: set[str] = set()
    entry = 0
    for line in spec.splitlines():
        if line.strip().startswith("#"):
            continue
        for raw in line.split(","):
            if not raw.strip():
                continue
            entry += 1
            key_id, colon, material = (part.strip() for part in raw.partition(":"))
            if not colon:
                raise KeyConfigError(f"{source}: entry {entry} is not of the form id:base64")
            if not _KEY_ID_RE.fullmatch(key_id):
                raise KeyConfigError(
                    f"{source}: entry {entry} has a key id that is not [A-Za-z0-9_-]{{1,16}}"
                )
            if key_id in seen:
                raise KeyConfigError(f"{source}: entry {entry} repeats key id {key_id}")
            secret = _b64decode_strict(material)
            if secret is None:
                raise KeyConfigError(f"{source}: entry {entry} is not strict base64")
            if len(secret) != SECRET_BYTES:
                raise KeyConfigError(
                    f"{source}: entry {entry} is not {SECRET_BYTES} bytes of base64"
                    f" (decodes to {len(secret)})"
                )
            seen.add(key_id)
            keys.append(SealKey(key_id, secret))
    return keys


def _read_key_file(path: str) -> tuple[str, str | None]:
    """The file's text, or a problem description (a decode error would carry key bytes)."""
    try:
        return Path(path).read_text(encoding="utf-8"), None
    except UnicodeDecodeError:
        return "", "is not UTF-8 text"
    except OSError as exc:
        return "", f"cannot be read ({exc.strerror or type(exc).__name__})"


def load_keys(env_value: str | None, key_file: str | os.PathLike[str] | None) -> list[SealKey]:
    """Keys from the env value if set, else from the key file; neither configured gives ``[]``.

    A blank env value counts as unset (an empty ``HOTLINE_SEAL_KEYS=`` in a compose file must
    not mask the key file). A source that is configured but holds no key is an error, so a
    typo cannot silently fall back to throw-away keys.
    """
    if env_value is not None and env_value.strip():
        spec, source = env_value, KEYS_ENV
    elif key_file is not None:
        path = os.fspath(key_file)
        spec, problem = _read_key_file(path)
        if problem is not None:
            raise KeyConfigError(f"key file {path} {problem}")
        source = f"key file {path}"
    else:
        return []
    keys = parse_keys(spec, source=source)
    if not keys:
        raise KeyConfigError(f"{source}: no keys configured")
    return keys


def new_key(key_id: str | None = None) -> str:
    """Generate one ``"kid:BASE64"`` line with a fresh random key, to prepend when rotating."""
    if key_id is None:
        key_id = f"k{datetime.now(UTC):%Y%m%d}{secrets.token_hex(2)}"
    key = SealKey(key_id, os.urandom(SECRET_BYTES))
    return f"{key.key_id}:{base64.b64encode(key.secret).decode('ascii')}"


def _aad(key_id: str, context: bytes) -> bytes:
    """Associated data: the record header plus the owner context.

    Binding the header too means relabelling a record with another key id fails even if two
    ids were configured with the same secret. The header ends in ``.`` and ids cannot contain
    one, so header and context cannot be confused.
    """
    return f"{RECORD_VERSION}.{key_id}.".encode("ascii") + context


def _malformed(what: str) -> SealError:
    return SealError(f"sealed record does not open: malformed ({what})", reason="malformed")


class Sealer:
    """Seals and opens records with a ring of keys; the first key seals, all of them open."""

    __slots__ = ("_ciphers", "_current", "_headers")

    def __init__(self, keys: Sequence[SealKey]) -> None:
        if not keys:
            raise KeyConfigError("no sealing keys configured")
        ciphers: dict[str, AESGCM] = {}
        for key in keys:
            if key.key_id in ciphers:
                raise KeyConfigError(f"sealing key id {key.key_id} configured twice")
            ciphers[key.key_id] = AESGCM(key.secret)
        self._ciphers: Final = ciphers
        self._current: Final = keys[0].key_id
        # each key's record header, which the associated data starts with (see `_aad`)
        self._headers: Final = {key_id: _aad(key_id, b"") for key_id in ciphers}

    def __repr__(self) -> str:
        return f"Sealer(current={self._current!r}, keys={list(self._ciphers)!r})"

    @property
    def current_key_id(self) -> str:
        return self._current

    def seal(self, plaintext: bytes, context: bytes) -> str:
        """Seal under the current key as ``"s1.<key_id>.<urlsafe-b64(nonce+ct+tag)>"``."""
        nonce = os.urandom(NONCE_BYTES)
        header = self._headers[self._current]
        sealed = self._ciphers[self._current].encrypt(nonce, plaintext, header + context)
        encoded = binascii.b2a_base64(nonce + sealed, newline=False).translate(_TO_URLSAFE)
        return header.decode("ascii") + encoded.rstrip(b"=").decode("ascii")

    def _parse(self, record: str) -> tuple[str, bytes]:
        """Split a record into key id and nonce+ciphertext+tag, or raise a malformed error."""
        if not isinstance(record, str) or not record.isascii():
            raise _malformed("not an ASCII string")
        parts = record.split(".")
        if len(parts) != 3 or parts[0] != RECORD_VERSION:
            raise _malformed(f"not an {RECORD_VERSION} record")
        _, key_id, payload = parts
        # a configured id is a well-formed one (SealKey checks it): the pattern only for others
        if key_id not in self._ciphers and not _KEY_ID_RE.fullmatch(key_id):
            raise _malformed("bad key id")
        tail = len(payload) % 4
        if tail == 1 or not _URLSAFE_RE.fullmatch(payload):
            raise _malformed("not base64")
        # Reject non-canonical encodings (changed unused trailing bits), so any edit of the
        # text is refused rather than opening to the same data.
        if tail and _SEXTET[payload[-1]] & _UNUSED_BITS[tail]:
            raise _malformed("not canonical base64")
        padded = (payload + "=" * (-tail % 4)).encode("ascii")
        blob = binascii.a2b_base64(padded.translate(_FROM_URLSAFE))
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise _malformed("truncated")
        return key_id, blob

    def key_id_of(self, record: str) -> str:
        """The id of the key a record was sealed under (the record is not authenticated)."""
        return self._parse(record)[0]

    def needs_reseal(self, record: str) -> bool:
        """True if the record was sealed under a key other than the current one."""
        return self.key_id_of(record) != self._current

    def unseal(self, record: str, context: bytes) -> bytes:
        """Open a record sealed under any configured key for the same `context`."""
        key_id, blob = self._parse(record)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealError(
                f"sealed record does not open: key {key_id} unknown", reason="unknown_key"
            )
        plaintext: bytes | None = None
        # not contextlib.suppress (a context manager per record opened); ours is raised below,
        # outside the except block, so the library's error is not its context
        try:  # noqa: SIM105
            plaintext = cipher.decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], self._headers[key_id] + context
            )
        except InvalidTag:
            pass
        if plaintext is None:
            raise SealError(
                "sealed record does not open: authentication failed (tampered or wrong owner)",
                reason="auth_failed",
            )
        return plaintext

    def reseal(self, record: str, context: bytes) -> str:
        """Open with any key and seal under the current one.

        A record already under the current key is verified and returned unchanged, so a
        re-seal run can skip writing it back.
        """
        plaintext = self.unseal(record, context)
        if self.key_id_of(record) == self._current:
            return record
        return self.seal(plaintext, context)

    def seal_json(self, value: Mapping[str, Any], context: bytes) -> str:
        """Seal a mapping as compact UTF-8 JSON."""
        text: str | None = None
        with contextlib.suppress(TypeError, ValueError):
            text = _COMPACT_JSON.encode(dict(value))
        if text is None:
            raise SealError("value cannot be sealed: not JSON-serialisable", reason="not_json")
        return self.seal(text.encode("utf-8"), context)

    def unseal_json(self, record: str, context: bytes) -> dict[str, Any]:
        """Open a record made by `seal_json`; anything but a JSON object is an error."""
        data = self.unseal(record, context)
        value: Any = None
        # JSONDecodeError and UnicodeDecodeError keep the data: suppress, then raise our own.
        with contextlib.suppress(ValueError):
            value = json.loads(data.decode("utf-8"))
        if not isinstance(value, dict):
            raise SealError("sealed record opened but is not a JSON object", reason="not_json")
        return value


class Pseudonymizer:
    """Keyed hashes for Redis key names and indexes (HMAC-SHA256).

    No Telegram id, name or phone appears in a key name. It has its own secret
    (``HOTLINE_ID_KEY``), separate from the sealing keys, because pseudonyms must stay stable
    when sealing keys rotate, or every key name would change with them.
    """

    __slots__ = ("_mac",)

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes) or len(secret) < MIN_ID_SECRET_BYTES:
            raise KeyConfigError(f"{ID_KEY_ENV}: must be at least {MIN_ID_SECRET_BYTES} bytes")
        self._mac: Final = hmac.new(secret, digestmod=hashlib.sha256)

    def __repr__(self) -> str:
        return "Pseudonymizer(<secret hidden>)"

    @classmethod
    def from_text(cls, value: str) -> Pseudonymizer:
        """Build from strict base64 text (standard alphabet, padded)."""
        secret = _b64decode_strict(value)
        if secret is None:
            raise KeyConfigError(f"{ID_KEY_ENV}: is not strict base64")
        return cls(secret)

    def digest(self, namespace: str, value: str) -> str:
        """32 lowercase base32 chars: the first 20 bytes of HMAC(namespace + 0x1f + value).

        The namespace keeps pseudonyms of different kinds (caller id, phone, ...) unrelated.
        """
        if not namespace or _NS_SEP in namespace:
            raise ValueError("pseudonym namespace must be non-empty and free of \\x1f")
        mac = self._mac.copy()
        # surrogatepass: any str (even lone surrogates from odd JSON) encodes, injectively,
        # and never raises an error that would carry the value.
        mac.update(f"{namespace}{_NS_SEP}{value}".encode("utf-8", "surrogatepass"))
        return base64.b32encode(mac.digest()[:20]).decode("ascii").lower()


def ephemeral_keys() -> tuple[list[SealKey], bytes]:
    """A throw-away seal key (id ``ephemeral``) and id secret for the embedded / dev mode.

    Data sealed with them is unreadable after a restart, which is the point: no dev setup
    needs a key in the repo.
    """
    return [SealKey("ephemeral", os.urandom(SECRET_BYTES))], os.urandom(SECRET_BYTES)
