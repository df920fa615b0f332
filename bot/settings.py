"""Typed settings from the environment. Read once by `load_settings()`, never at import time."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API = "https://api.telegram.org"
# what Telegram accepts as a webhook secret token (it sends it back in a header)
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
HOOK_CONSUMERS = frozenset({"desk", "webhook", "log"})


class SettingsError(SystemExit):
    """Start-up stops with one clear line naming the setting (never its value)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    bot_token: SecretStr | None = None
    redis_url: SecretStr | None = None  # may carry an ACL password
    telegram_api_url: str = TELEGRAM_API
    operator_chat_id: int | None = None
    # in the order configured: an operator is shown as "operator N", N their place in this list
    operator_ids: Annotated[tuple[int, ...], NoDecode] = ()
    operator_language: Literal["uk", "ru"] = "uk"

    hotline_seal_keys: SecretStr | None = None
    hotline_seal_key_file: Path | None = None
    hotline_id_key: SecretStr | None = None

    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None  # public URL Telegram posts to
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_path: str = "/telegram"

    retention_form_days: float = Field(default=7, gt=0)
    retention_registered_days: float = Field(default=90, gt=0)
    delete_personal_messages: bool = True
    rate_limit_per_minute: int = Field(default=20, ge=1)
    details_reveal_minutes: float = Field(default=5, gt=0)
    claim_timeout_minutes: float = Field(default=10, gt=0)
    desk_timezone: str = "Europe/Kyiv"  # times on case cards and the day of /stats
    desk_tick_seconds: float = Field(default=30, gt=0)  # service levels and details clean-up
    hooks: Annotated[frozenset[str], NoDecode] = frozenset({"desk"})
    hook_webhook_url: str | None = None
    hook_webhook_secret: SecretStr | None = None
    hook_webhook_attempts: int = Field(default=6, ge=1, le=20)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("operator_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            value = [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, set | frozenset):
            value = sorted(value)
        if isinstance(value, list | tuple):
            return tuple(dict.fromkeys(value))  # first place counts, repeats dropped
        return value

    @field_validator("hooks", mode="after")
    @classmethod
    def _known_hooks(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = value - HOOK_CONSUMERS
        if unknown:
            raise ValueError(f"unknown hook consumer(s): {', '.join(sorted(unknown))}")
        return value

    @field_validator("hooks", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        if self.mode == "webhook":
            secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
            if not SECRET_TOKEN.fullmatch(secret) or not self.webhook_url:
                raise ValueError(
                    "webhook mode needs WEBHOOK_URL and a WEBHOOK_SECRET of 1-256 A-Z a-z 0-9 _ -"
                )
        if self.redis_url is not None and not (
            self.hotline_seal_keys or self.hotline_seal_key_file
        ):
            raise ValueError(
                "REDIS_URL is set (production) but no sealing key: "
                "set HOTLINE_SEAL_KEYS or HOTLINE_SEAL_KEY_FILE (`hotline keys new`)"
            )
        if self.redis_url is not None and self.hotline_id_key is None:
            raise ValueError("REDIS_URL is set (production) but HOTLINE_ID_KEY is missing")
        if "webhook" in self.hooks and not (self.hook_webhook_url and self.hook_webhook_secret):
            raise ValueError(
                "HOOKS includes webhook: set HOOK_WEBHOOK_URL and HOOK_WEBHOOK_SECRET"
            )
        return self

    @property
    def embedded(self) -> bool:
        """No REDIS_URL: an in-process store whose state is lost on exit."""
        return self.redis_url is None


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]).upper() or "settings"
        raise SettingsError(f"setting {where}: {first['msg']}") from None
