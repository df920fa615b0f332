"""`make image-test`: build the image and run it as a deployment would, against a fake Bot API
on this machine and a Redis 7 container; where no Docker daemon answers, say it was skipped.

What it shows: the image builds from the lock file alone; it runs as the numeric user with no
embedded store in it; `hotline run` starts against Redis and Telegram, answers a caller's
/start, reports ready on /readyz and through the image's HEALTHCHECK command; `docker stop`
ends it within 10 s with exit code 0. Everything listens on loopback (host networking).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.redis_server import free_port
from bot.offline.client import Account, as_json, private_chat
from bot.offline.client import Telegram as OfflineTelegram

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "hotline:image-test"
REDIS_IMAGE = "redis:7.4-bookworm"
CALLER = 100_999_001
TOKEN = "123456:AAH-image-test-token"
SEAL_KEYS = "k1:" + "A" * 43 + "="
ID_KEY = "aW1hZ2UtdGVzdC1pZC1zZWNyZXQtbm90LWZvci1wcm9kdWN0aW9u"


def docker(
    *args: str, check: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], check=check, capture_output=True, text=True, timeout=timeout
    )


def daemon_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return docker("info", check=False, timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


class FakeTelegram:
    """getMe, setMyCommands, one /start from a caller, then empty long polls; records what the
    bot sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []
        self.given = False

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = {k: str(v) for k, v in (await request.post()).items()}
        result: Any = True
        if method == "getMe":
            result = {"id": 4242, "is_bot": True, "first_name": "Hotline", "username": "hl_bot"}
        elif method == "getUpdates":
            result = [] if self.given else [self.start_update()]
            if self.given:
                await asyncio.sleep(min(2.0, float(form.get("timeout", "0"))))
            self.given = True
        else:
            self.sent.append((method, form))
            if method == "sendMessage":
                result = {
                    "message_id": len(self.sent),
                    "date": int(time.time()),
                    "chat": {"id": int(form["chat_id"]), "type": "private"},
                    "text": form.get("text", ""),
                }
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def start_update() -> dict[str, Any]:
        return as_json(Account(OfflineTelegram(), *private_chat(CALLER, "uk")).command("start"))


async def wait_for(what: str, condition: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
            return bool(answer.status == 200)
    except Exception:
        return False


async def exercise() -> None:
    telegram = FakeTelegram()
    application = web.Application()
    application.router.add_post("/bot{token}/{method}", telegram.handle)
    runner = web.AppRunner(application)
    await runner.setup()
    api_port, redis_port, metrics_port = free_port(), free_port(), free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    redis_name, bot_name = f"hotline-it-redis-{redis_port}", f"hotline-it-bot-{redis_port}"
    try:
        docker(
            "run", "-d", "--rm", "--name", redis_name, "--network", "host", REDIS_IMAGE,
            "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
        )  # fmt: skip
        docker(
            "run", "-d", "--name", bot_name, "--network", "host", "--read-only",
            "--tmpfs", "/tmp", "--cap-drop", "ALL",
            "-e", f"BOT_TOKEN={TOKEN}",
            "-e", f"REDIS_URL=redis://127.0.0.1:{redis_port}/0",
            "-e", f"TELEGRAM_API_URL=http://127.0.0.1:{api_port}",
            "-e", "OPERATOR_CHAT_ID=-1001000000999",
            "-e", f"HOTLINE_SEAL_KEYS={SEAL_KEYS}",
            "-e", f"HOTLINE_ID_KEY={ID_KEY}",
            "-e", "METRICS_HOST=127.0.0.1",
            "-e", f"METRICS_PORT={metrics_port}",
            IMAGE,
        )  # fmt: skip
        await wait_for(
            "the answer to /start",
            lambda: any(
                m == "sendMessage" and f["chat_id"] == str(CALLER) for m, f in telegram.sent
            ),
            within=60,
        )
        await wait_for("/readyz", lambda: ready(metrics_port), within=30)
        probe = docker("exec", bot_name, "python", "-m", "bot.probe", check=False)
        assert probe.returncode == 0, probe.stderr
        started = time.monotonic()
        docker("stop", "--time", "10", bot_name)
        stopped_in = time.monotonic() - started
        state = json.loads(docker("inspect", bot_name).stdout)[0]["State"]
        assert state["ExitCode"] == 0, state
        logs = docker("logs", bot_name).stderr.splitlines()
        assert all(isinstance(json.loads(line), dict) for line in logs), logs[:5]
        print(f"image-test: answered /start, ready, stopped in {stopped_in:.1f} s with exit 0")
    finally:
        docker("rm", "-f", bot_name, check=False)
        docker("rm", "-f", redis_name, check=False)
        await runner.cleanup()


def main() -> int:
    if not daemon_answers():
        print("image-test skipped: no Docker daemon answers here (`docker info` failed)")
        return 0
    docker("build", "-t", IMAGE, str(ROOT))
    user = docker("run", "--rm", "--entrypoint", "id", IMAGE, "-u").stdout.strip()
    assert user == "10001", user
    embedded = docker("run", "--rm", "--entrypoint", "python", IMAGE, "-c", "import fakeredis",
                      check=False)  # fmt: skip
    assert embedded.returncode != 0, "fakeredis is in the production image"
    asyncio.run(exercise())
    return 0


if __name__ == "__main__":
    sys.exit(main())
