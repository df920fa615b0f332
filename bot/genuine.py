"""The team's list of genuine channels, bots and sites, read once at start-up."""

from __future__ import annotations

from pathlib import Path

import structlog

from bot.settings import Settings, SettingsError
from flows.channels import GenuineList, ListError, parse

log = structlog.get_logger("hotline.genuine")

SHIPPED = Path(__file__).resolve().parent.parent / "config" / "genuine-channels.toml"


def load_genuine(settings: Settings) -> GenuineList:
    """The list named by GENUINE_CHANNELS_FILE, or the one shipped with the code. A file that
    cannot be read stops the start: a bot that vouches from a broken list is worse than none."""
    path = settings.genuine_channels_file or SHIPPED
    if settings.genuine_channels_file is None and not path.exists():
        log.warning("no genuine channels list: every channel a caller asks about is unknown")
        return GenuineList()
    try:
        genuine = parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(
            f"setting GENUINE_CHANNELS_FILE: cannot read it ({type(exc).__name__})"
        ) from None
    except ListError as exc:
        raise SettingsError(f"setting GENUINE_CHANNELS_FILE: {exc}") from None
    return genuine


def warn_if_unfinished(genuine: GenuineList) -> None:
    """Said when serving starts (not at every build): example entries are never vouched for,
    but the team must know the list is not finished."""
    if genuine.examples:
        log.warning("genuine channels list holds example entries", examples=genuine.examples)
