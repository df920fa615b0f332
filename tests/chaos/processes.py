"""Real processes for the fault tests: redis-server (alone, as a replica, as a sentinel, as a
cluster node) and `hotline run`, each started on a free loopback port, killed with SIGKILL and
started again at will. Every process is stopped when its context ends.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench.redis_server import free_port
from flows.sealing import new_key
from tests.chaos.emulator import TOKEN

REDIS = shutil.which("redis-server")
DESK_CHAT = -1001000000999
OPERATOR = 5_550_999


@dataclass
class RedisProcess:
    """One redis-server; `args` are added to its command line (persistence, replicaof...)."""

    directory: Path
    args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    sentinel: bool = False
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        assert REDIS is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory / f"redis-{self.port}.log"
        if self.sentinel:
            conf = self.directory / f"sentinel-{self.port}.conf"
            if not conf.exists():
                conf.write_text("\n".join(self.args) + "\n")
            command = [REDIS, str(conf), "--sentinel", "--port", str(self.port)]
        else:
            command = [REDIS, "--port", str(self.port), *self.args]
        command += ["--bind", "127.0.0.1", "--dir", str(self.directory), "--logfile", str(log)]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 15
        try:
            while time.monotonic() < deadline:
                with contextlib.suppress(redis.exceptions.RedisError):
                    if client.ping():
                        return self
                time.sleep(0.05)
        finally:
            client.close()
        raise RuntimeError(f"redis-server on {self.port} did not start: see {log}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last save."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def processes() -> Iterator[list[RedisProcess | BotProcess]]:
    """Everything started into the list is stopped at the end."""
    started: list[RedisProcess | BotProcess] = []
    try:
        yield started
    finally:
        for process in reversed(started):
            process.stop()


def bot_env(api_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of `hotline run` against the emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "HOTLINE_"))}
    env.update(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=api_url,
        REDIS_URL=redis_url,
        HOTLINE_SEAL_KEYS=SEAL_KEYS,
        HOTLINE_ID_KEY=ID_KEY,
        OPERATOR_CHAT_ID=str(DESK_CHAT),
        OPERATOR_IDS=str(OPERATOR),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


SEAL_KEYS = new_key()
ID_KEY = base64.b64encode(os.urandom(32)).decode()


@dataclass
class BotProcess:
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> BotProcess:
        self.starts += 1
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], env=self.env, stdout=handle, stderr=handle
        )
        handle.close()
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def persistent(directory: Path) -> RedisProcess:
    """A Redis that loses nothing it acknowledged when killed: AOF, fsync on every write."""
    return RedisProcess(
        directory, ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
    )


WEBHOOK_SECRET = "chaos-webhook-secret"


def webhook_env(api_url: str, redis_url: str, port: int, **extra: str) -> dict[str, str]:
    return bot_env(
        api_url,
        redis_url,
        MODE="webhook",
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(port),
        **extra,
    )


async def listening(port: int, bot: BotProcess, seconds: float = 60) -> str:
    """Until the webhook of `bot` accepts connections: its URL."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert bot.alive, f"hotline run exited: see {bot.log}"
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return f"http://127.0.0.1:{port}/telegram"
    raise AssertionError(f"the webhook of hotline run did not open: see {bot.log}")
