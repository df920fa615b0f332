"""A throw-away 3-master Redis Cluster on loopback, for running the store and e2e suites on it
(`HOTLINE_TEST_REDIS=cluster`, see tests/conftest.py and `make chaos`)."""

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

from bench.redis_server import free_port

MASTERS = 3
BUS_OFFSET = 10_000  # a node also listens on its port + 10000 (the cluster bus)


def cluster_port() -> int:
    """A free port whose bus port (+10000, below 65536) is free too."""
    while True:
        port = free_port()
        if port + BUS_OFFSET >= 65536:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port + BUS_OFFSET))
            except OSError:
                continue
        return port


class ClusterUnavailable(RuntimeError):
    """redis-server cannot run cluster mode here (or redis-cli is missing)."""


def _ready(ports: list[int], deadline: float) -> bool:
    while time.monotonic() < deadline:
        states = []
        for port in ports:
            client = redis.Redis(port=port, socket_connect_timeout=0.5)
            try:
                info = client.execute_command("CLUSTER", "INFO")  # type: ignore[no-untyped-call]
                text = info.decode() if isinstance(info, bytes) else str(info)
                states.append("cluster_state:ok" in text)
            except redis.exceptions.RedisError:
                states.append(False)
            finally:
                client.close()
        if all(states):
            return True
        time.sleep(0.2)
    return False


@contextlib.contextmanager
def running_cluster() -> Iterator[str]:
    """Start the nodes, join them; yield "redis+cluster://127.0.0.1:P1,...", stop them after."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        raise ClusterUnavailable("redis-server or redis-cli is not installed")
    with tempfile.TemporaryDirectory(prefix="hotline-cluster-") as tmp:
        ports = [cluster_port() for _ in range(MASTERS)]
        procs = []
        try:
            for port in ports:
                procs.append(
                    subprocess.Popen(
                        [
                            server, "--port", str(port), "--bind", "127.0.0.1",
                            "--cluster-enabled", "yes",
                            "--cluster-config-file", f"nodes-{port}.conf",
                            "--cluster-node-timeout", "5000",
                            "--save", "", "--appendonly", "no", "--dir", tmp,
                            "--logfile", str(Path(tmp) / f"{port}.log"),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )  # fmt: skip
            time.sleep(0.3)
            for port, proc in zip(ports, procs, strict=True):
                if proc.poll() is not None:
                    log = Path(tmp) / f"{port}.log"
                    last = log.read_text().strip().splitlines()[-1:] if log.exists() else []
                    raise ClusterUnavailable(f"a cluster node exited: {' '.join(last)}")
            created = subprocess.run(
                [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
                 "--cluster-replicas", "0", "--cluster-yes"],
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
            if created.returncode != 0 or not _ready(ports, time.monotonic() + 30):
                raise ClusterUnavailable("the cluster did not form")
            yield "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
