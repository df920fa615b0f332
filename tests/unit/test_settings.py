"""Settings: typed, read from the environment, and a bad one stops start-up with one clear line."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError, load_settings, serving_problems

SECRET_KEY = "k1:" + "A" * 43 + "="
ID_KEY = "B" * 43 + "="


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(Settings.model_fields):
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults_are_the_embedded_development_mode() -> None:
    settings = load_settings()
    assert settings.embedded
    assert settings.bot_token is None
    assert settings.mode == "polling"
    assert settings.operator_language == "uk"
    assert settings.telegram_api_url == "https://api.telegram.org"


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    monkeypatch.setenv("OPERATOR_IDS", "5, 7;9")
    monkeypatch.setenv("OPERATOR_CHAT_ID", "-1001")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081")
    settings = load_settings()
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == "123:abc"
    assert "abc" not in repr(settings)  # the token is a secret
    assert set(settings.operator_ids) == {5, 7, 9}
    assert settings.operator_chat_id == -1001
    assert settings.telegram_api_url == "http://127.0.0.1:8081"


def test_a_bad_setting_stops_with_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_PORT", "seventy-thousand-secret")
    with pytest.raises(SettingsError) as stopped:
        load_settings()
    message = str(stopped.value)
    assert message.startswith("setting WEBHOOK_PORT:")
    assert "\n" not in message
    assert "seventy-thousand-secret" not in message  # the value is never echoed


def test_production_refuses_to_start_without_sealing_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    with pytest.raises(SettingsError, match="HOTLINE_SEAL_KEYS"):
        load_settings()
    monkeypatch.setenv("HOTLINE_SEAL_KEYS", SECRET_KEY)
    with pytest.raises(SettingsError, match="HOTLINE_ID_KEY"):
        load_settings()
    monkeypatch.setenv("HOTLINE_ID_KEY", ID_KEY)
    assert not load_settings().embedded


def test_webhook_mode_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODE", "webhook")
    monkeypatch.setenv("WEBHOOK_URL", "https://example.org/telegram")
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET"):
        load_settings()
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret-token")
    assert load_settings().webhook_secret is not None


def test_the_http_hook_needs_its_address_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKS", "desk,webhook")
    with pytest.raises(SettingsError, match="HOOK_WEBHOOK"):
        load_settings()


def test_every_bad_setting_is_listed_on_a_line_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBHOOK_PORT", "port-secret-1")
    monkeypatch.setenv("OPERATOR_IDS", "5,ids-secret-2")
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "0")
    monkeypatch.setenv("MODE", "webhook")  # and no WEBHOOK_URL nor WEBHOOK_SECRET
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # and no keys
    with pytest.raises(SettingsError) as stopped:
        load_settings()
    lines = str(stopped.value).splitlines()
    named = [line.split(":")[0] for line in lines]
    assert named == [
        "setting OPERATOR_IDS",
        "setting WEBHOOK_PORT",
        "setting RATE_LIMIT_PER_MINUTE",
        "setting WEBHOOK_URL",
        "setting WEBHOOK_SECRET",
        "setting HOTLINE_SEAL_KEYS",
        "setting HOTLINE_ID_KEY",
    ]
    assert stopped.value.problems == tuple(lines)
    assert "must be a whole number" in lines[1]
    assert "secret" not in str(stopped.value).replace("WEBHOOK_SECRET", "")  # no value echoed


@pytest.mark.parametrize("written", ["debug", "Debug", "DEBUG", " debug "])
def test_log_level_is_read_in_any_case(written: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", written)
    assert load_settings().log_level == "DEBUG"
    monkeypatch.setenv("LOG_LEVEL", "warn")
    assert load_settings().log_level == "WARNING"
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(SettingsError, match=r"^setting LOG_LEVEL: "):
        load_settings()


def test_serving_needs_redis_unless_embedded_on_purpose_and_the_operator_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert serving_problems(load_settings()) == [
        "setting BOT_TOKEN: required to serve Telegram (or run `hotline console`)",
        "setting REDIS_URL: required to serve (every conversation would be lost at the next "
        "restart); set EMBEDDED_STORE=true to run on a throw-away in-memory store on purpose",
        "setting OPERATOR_CHAT_ID: required to serve: the operators' forum group",
    ]
    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    monkeypatch.setenv("EMBEDDED_STORE", "true")
    monkeypatch.setenv("OPERATOR_CHAT_ID", "1001")
    assert [p.split(":")[0] for p in serving_problems(load_settings())] == [
        "setting OPERATOR_CHAT_ID"  # a user's id, not a group's
    ]
    monkeypatch.setenv("OPERATOR_CHAT_ID", "-1001")
    assert serving_problems(load_settings()) == []
    monkeypatch.setenv("EMBEDDED_STORE", "false")
    assert len(serving_problems(load_settings())) == 1


def test_an_empty_setting_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # .env.example leaves `BOT_TOKEN=` and the like empty: that is "not set", never a value
    monkeypatch.setenv("BOT_TOKEN", "")
    monkeypatch.setenv("OPERATOR_CHAT_ID", "")
    monkeypatch.setenv("HOTLINE_SEAL_KEYS", "")
    settings = load_settings()
    assert settings.bot_token is None
    assert settings.operator_chat_id is None
    assert settings.hotline_seal_keys is None
