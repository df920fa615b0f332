"""Typed settings from the environment. Read once by `load_settings()`, never at import time."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API = "https://api.telegram.org"
# what Telegram accepts as a webhook secret token (it sends it back in a header)
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
HOOK_CONSUMERS = frozenset({"desk", "webhook", "log"})


class SettingsError(SystemExit):
    """Start-up stops with one clear line per bad setting, naming it (never its value)."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Settings(BaseSettings):
    # an empty `NAME=` (as .env.example leaves them) counts as unset, not as an empty value
    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    bot_token: SecretStr | None = None
    redis_url: SecretStr | None = None  # may carry an ACL password
    # replicas that must hold a commit before its update is acknowledged (WAIT)
    redis_min_replicas: int = Field(default=0, ge=0, le=16)
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
    # an unclaimed escalation is announced again after this long, by priority
    claim_timeout_minutes: float = Field(default=10, gt=0)  # normal
    claim_timeout_recall_minutes: float = Field(default=5, gt=0)
    claim_timeout_emergency_minutes: float = Field(default=2, gt=0)
    desk_digest_minutes: float = Field(default=5, gt=0)  # at most one digest post so often
    desk_timezone: str = "Europe/Kyiv"  # times on case cards and the day of /stats
    desk_tick_seconds: float = Field(default=30, gt=0)  # service levels and details clean-up
    # a closed topic of a case that ended (met, or the conversation expired) is deleted then
    topic_retention_days: float = Field(default=7, gt=0)
    # someone not on OPERATOR_IDS who joins the operator group is removed at once (and named)
    desk_remove_strangers: bool = True
    # a stranger's commands in the group get one refusal per this window (the group's budget)
    desk_stranger_refusal_minutes: float = Field(default=10, gt=0)
    # the message with the case code (and the safety word's confirmation) is deleted after this
    # long at most, or when he presses "I have written it down"
    code_message_minutes: float = Field(default=10, gt=0)
    # failed second-factor checks across all cases within the window: a probing campaign
    probe_alert_failures: int = Field(default=20, ge=1)
    probe_alert_window_minutes: float = Field(default=60, ge=1)
    # how long one calling account's failed checks are remembered (across its erasures)
    probe_account_days: float = Field(default=30, gt=0)
    hooks: Annotated[frozenset[str], NoDecode] = frozenset({"desk"})
    hook_webhook_url: str | None = None
    hook_webhook_secret: SecretStr | None = None
    hook_webhook_attempts: int = Field(default=6, ge=1, le=20)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # `hotline run` without REDIS_URL: only when asked for, since all state dies with the process
    embedded_store: bool = False
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)  # /metrics /healthz /readyz
    # the team's list of genuine channels, bots and sites (TOML); unset: the one shipped
    genuine_channels_file: Path | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        if isinstance(value, str):
            upper = value.strip().upper()
            return "WARNING" if upper == "WARN" else upper
        return value

    @field_validator("operator_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
            if not all(re.fullmatch(r"-?\d+", part) for part in parts):
                raise ValueError("must be numeric Telegram user ids separated by commas")
            value = [int(part) for part in parts]
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
        problems = coherence_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def embedded(self) -> bool:
        """No REDIS_URL: an in-process store whose state is lost on exit."""
        return self.redis_url is None


def coherence_problems(settings: Settings) -> list[str]:
    """Settings that are each valid but do not go together, one line each."""
    problems = []
    if settings.mode == "webhook":
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        if not settings.webhook_url:
            problems.append(
                "setting WEBHOOK_URL: webhook mode needs the public URL Telegram posts to"
            )
        if not SECRET_TOKEN.fullmatch(secret):
            problems.append(
                "setting WEBHOOK_SECRET: webhook mode needs one of 1-256 of A-Z a-z 0-9 _ -"
            )
    if settings.redis_url is not None:
        if not (settings.hotline_seal_keys or settings.hotline_seal_key_file):
            problems.append(
                "setting HOTLINE_SEAL_KEYS: REDIS_URL is set (production) but there is no sealing "
                "key: set HOTLINE_SEAL_KEYS or HOTLINE_SEAL_KEY_FILE (`hotline keys new`)"
            )
        if settings.hotline_id_key is None:
            problems.append(
                "setting HOTLINE_ID_KEY: REDIS_URL is set (production) but HOTLINE_ID_KEY is "
                "missing (`hotline keys id-key`)"
            )
    if "webhook" in settings.hooks and not settings.hook_webhook_url:
        problems.append(
            "setting HOOK_WEBHOOK_URL: HOOKS includes webhook, so it needs its address"
        )
    if "webhook" in settings.hooks and not settings.hook_webhook_secret:
        problems.append(
            "setting HOOK_WEBHOOK_SECRET: HOOKS includes webhook, so it needs a secret"
        )
    return problems


def serving_problems(settings: Settings) -> list[str]:
    """What `hotline run` needs on top (the console runs without them)."""
    problems = []
    if settings.bot_token is None:
        problems.append("setting BOT_TOKEN: required to serve Telegram (or run `hotline console`)")
    if settings.redis_url is None and not settings.embedded_store:
        problems.append(
            "setting REDIS_URL: required to serve (every conversation would be lost at the next "
            "restart); set EMBEDDED_STORE=true to run on a throw-away in-memory store on purpose"
        )
    if settings.operator_chat_id is None:
        problems.append("setting OPERATOR_CHAT_ID: required to serve: the operators' forum group")
    elif settings.operator_chat_id >= 0:
        problems.append(
            "setting OPERATOR_CHAT_ID: must be the operators' group id, a negative one (-100...)"
        )
    return problems


def _lines(error: ErrorDetails) -> list[str]:
    message = _PLAIN.get(error["type"], error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:  # the model's own check: its lines name their settings already
        return message.splitlines()
    return [f"setting {str(error['loc'][0]).upper()}: {message}"]


# pydantic's words where a deployer would want others (the value itself is never repeated)
_PLAIN = {
    "int_parsing": "must be a whole number",
    "float_parsing": "must be a number",
    "bool_parsing": "must be true or false",
    "url_parsing": "must be a URL",
    "json_invalid": "is not in the expected form",
}


def load_settings(**overrides: object) -> Settings:
    """The settings, or SettingsError listing every bad one (each field error, then what does
    not go together among the rest)."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        problems = [line for error in errors for line in _lines(error)]
        bad = {str(error["loc"][0]) for error in errors if error["loc"]}
        if bad:  # the others may still clash among themselves: check them, the bad at default
            defaults = {name: Settings.model_fields[name].default for name in bad}
            try:
                Settings(**{**overrides, **defaults})
            except ValidationError as clash:
                for error in clash.errors(include_input=False, include_url=False):
                    problems += [] if error["loc"] else _lines(error)
        raise SettingsError(*dict.fromkeys(problems)) from None
    return settings
