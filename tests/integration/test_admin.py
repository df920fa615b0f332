"""`hotline keys reseal` and `hotline audit tail`, run as the CLI on a real Redis."""

from __future__ import annotations

import asyncio
import base64

import pytest

from bot.__main__ import main
from bot.app import open_redis, open_store
from bot.desk.audit import Audit
from bot.desk.operators import OperatorList
from bot.settings import Settings
from flows.salts import SealedSalt
from flows.sealing import new_key

pytestmark = pytest.mark.redis

ID_KEY = base64.b64encode(b"i" * 32).decode()
OPERATOR = 700_000_001


def _settings(redis_url: str, keys: str) -> Settings:
    return Settings.model_validate(
        {
            "redis_url": redis_url,
            "hotline_seal_keys": keys,
            "hotline_id_key": ID_KEY,
            "operator_ids": str(OPERATOR),
        }
    )


def _use(monkeypatch: pytest.MonkeyPatch, redis_url: str, keys: str) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("HOTLINE_SEAL_KEYS", keys)
    monkeypatch.setenv("HOTLINE_ID_KEY", ID_KEY)
    monkeypatch.setenv("OPERATOR_IDS", str(OPERATOR))


async def _seed(settings: Settings) -> tuple[str, str]:
    """A sealed desk record and the operators' salt, under the settings' keys; an audit entry."""
    redis = open_redis(settings)
    try:
        await redis.flushall()
        store = open_store(settings, redis)
        key = store.conversation_key(4242)
        record = store.key(key, "desk")
        await redis.hset(record, mapping={"chat": store.sealer.seal(b"4242", key.encode())})
        salt = SealedSalt(redis, store.sealer, store.prefix, "operators")
        operators = OperatorList([OPERATOR], salt.load)
        await operators.ready()
        who = operators.who(OPERATOR)
        await Audit(redis, store.prefix).record(who, "claim", "case-ref")
        return key, who
    finally:
        await redis.aclose()


async def _opens_with(settings: Settings, key: str) -> bytes:
    redis = open_redis(settings)
    try:
        store = open_store(settings, redis)
        sealed = await redis.hget(store.key(key, "desk"), "chat")
        assert sealed is not None
        text = sealed.decode() if isinstance(sealed, bytes) else str(sealed)
        return store.sealer.unseal(text, key.encode())
    finally:
        await redis.aclose()


def test_reseal_moves_records_and_salt_to_the_newest_key(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = new_key(), new_key()
    key, _ = asyncio.run(_seed(_settings(redis_url, old)))
    _use(monkeypatch, redis_url, f"{new},{old}")
    assert main(["keys", "reseal"]) == 0
    assert "resealed 2 records" in capsys.readouterr().out  # the desk record and the salt
    assert asyncio.run(_opens_with(_settings(redis_url, new), key)) == b"4242"
    assert main(["keys", "reseal"]) == 0
    assert "resealed 0 records" in capsys.readouterr().out


def test_audit_tail_names_operators_by_their_place_only(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = new_key()
    _, who = asyncio.run(_seed(_settings(redis_url, keys)))
    _use(monkeypatch, redis_url, keys)
    assert main(["audit", "tail", "-n", "5"]) == 0
    out = capsys.readouterr().out
    assert "claim" in out
    assert "case-ref" in out
    assert "operator 1" in out
    assert str(OPERATOR) not in out
    assert who not in out


@pytest.mark.parametrize("command", [["keys", "reseal"], ["audit", "tail"]])
def test_maintenance_refuses_the_embedded_store(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    assert main(command) == 1
    assert "needs REDIS_URL" in capsys.readouterr().out
