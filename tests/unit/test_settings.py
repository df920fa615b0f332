"""Settings: typed, read from the environment, and a bad one stops start-up with one clear line."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError, load_settings

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
