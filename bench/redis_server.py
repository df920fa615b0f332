"""A throw-away `redis-server` on a free loopback port, for tests and benchmarks.

Nothing is persisted (no RDB; an AOF only when asked, as production runs it: `appendfsync
everysec`) and everything lives in a temporary directory that is removed when the server stops.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

STARTUP_TIMEOUT = 10.0
MISSING = (
    "redis-server is not installed: run `make redis-server` (or `apt-get install -y redis-server`)"
)


class RedisServerMissing(RuntimeError):
    """There is no `redis-server` executable on PATH."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_ping(proc: subprocess.Popen[bytes], port: int, deadline: float) -> bool:
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            with contextlib.suppress(redis.exceptions.ConnectionError):
                if client.ping():
                    return True
            time.sleep(0.05)
        return False
    finally:
        client.close()


# as compose.yaml sets it for the bot's Redis: a conversation's hash stays one listpack
HASH_LISTPACK_VALUE = "1024"


@contextlib.contextmanager
def running_redis(attempts: int = 3, *, aof: bool = False) -> Iterator[str]:
    """Start a redis-server; yield its URL ("redis://127.0.0.1:PORT/0"); stop it afterwards."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise RedisServerMissing(MISSING)
    with tempfile.TemporaryDirectory(prefix="hotline-redis-") as tmp:
        for _ in range(attempts):
            port = free_port()
            log = Path(tmp) / f"redis-{port}.log"
            proc = subprocess.Popen(
                [
                    executable,
                    "--port", str(port),
                    "--bind", "127.0.0.1",
                    "--save", "",
                    "--appendonly", "yes" if aof else "no",
                    "--appendfsync", "everysec",
                    "--hash-max-listpack-value", HASH_LISTPACK_VALUE,
                    "--dir", tmp,
                    "--logfile", str(log),
                    "--daemonize", "no",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                if _wait_for_ping(proc, port, time.monotonic() + STARTUP_TIMEOUT):
                    yield f"redis://127.0.0.1:{port}/0"
                    return
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        raise RuntimeError(f"redis-server did not answer PING after {attempts} attempts")
