"""REDIS_URL to a client: one server, Redis Sentinel or Redis Cluster.

    redis://[user:password@]host:port[/db]               one server (rediss:// with TLS)
    redis+sentinel://[user:password@]h1:26379,h2:26379/master-name[/db][?sentinel_password=…]
    redis+cluster://[user:password@]h1:7000,h2:7001[,…]  the seeds of a cluster

(`rediss+sentinel://`, `rediss+cluster://` with TLS.) With Sentinel the client asks the
sentinels for the master and follows a failover by itself; with a cluster every key of one
conversation carries the same hash tag, so each atomic step stays in one slot.

Connections come from a bounded pool: under a burst, requests wait for a free connection
(back-pressure) instead of opening ever more of them; a request waits at most POOL_WAIT seconds
before the store counts as unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, cast
from urllib.parse import parse_qs, unquote

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff
from redis.driver_info import DriverInfo

from bot.redis_pool import LeanBlockingPool, LeanConnection, LeanSSLConnection
from bot.settings import SettingsError

# connections per Redis server: more than the updates (bot.webhook.IN_FLIGHT) and deliveries
# (bot.deliver.CONCURRENCY) a process runs at once, so a command waits for one only in overload
POOL_SIZE: Final = 128
POOL_WAIT: Final = 10.0  # seconds a command waits for a free connection
# fail fast when Redis is down: the caller is told to try again, not kept waiting; the webhook's
# own back-pressure keeps the event loop free, so a live Redis answers well within this
SOCKET_TIMEOUT: Final = 5.0

SCHEMES: Final = ("redis", "rediss")


@dataclass(frozen=True, slots=True)
class RedisTarget:
    kind: str  # "server" | "sentinel" | "cluster"
    tls: bool
    hosts: tuple[tuple[str, int], ...]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    db: int = 0
    master: str | None = None
    sentinel_password: str | None = field(default=None, repr=False)


def _bad(why: str) -> SettingsError:
    # never the URL itself: it may carry a password
    return SettingsError(f"setting REDIS_URL: {why}")


def _host_port(part: str, default_port: int) -> tuple[str, int]:
    if part.startswith("["):  # [ipv6]:port
        host, _, rest = part[1:].partition("]")
        port_text = rest.removeprefix(":")
    else:
        host, _, port_text = part.rpartition(":") if ":" in part else (part, "", "")
    if not host:
        raise _bad("a host is missing")
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise _bad("a port is not a number") from None
    if not 0 < port < 65536:
        raise _bad("a port is out of range")
    return host, port


def parse(url: str) -> RedisTarget:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise _bad("not a URL (redis://, redis+sentinel:// or redis+cluster://)")
    base, _, variant = scheme.lower().partition("+")
    if base not in SCHEMES or variant not in ("", "sentinel", "cluster"):
        raise _bad("the scheme must be redis, rediss, redis+sentinel or redis+cluster")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, at, hostlist = netloc.rpartition("@")
    if not at:
        userinfo, hostlist = "", netloc
    username, colon, password = userinfo.partition(":")
    if not colon:
        username, password = "", userinfo
    default_port = 26379 if variant == "sentinel" else 6379
    hosts = tuple(_host_port(p, default_port) for p in hostlist.split(",") if p)
    if not hosts:
        raise _bad("no host given")
    options = parse_qs(query)
    segments = [unquote(s) for s in path.split("/") if s]
    master: str | None = None
    if variant == "sentinel":
        if not segments:
            raise _bad("redis+sentinel:// needs the master name as its path")
        master, segments = segments[0], segments[1:]
    if variant == "cluster" and segments and segments != ["0"]:
        raise _bad("a cluster has only database 0")
    if len(hosts) > 1 and variant == "":
        raise _bad("several hosts need redis+sentinel:// or redis+cluster://")
    try:
        db = int(segments[0]) if segments else 0
    except ValueError:
        raise _bad("the database must be a number") from None
    sentinel_password = options.get("sentinel_password", [None])[0]
    return RedisTarget(
        kind={"": "server", "sentinel": "sentinel", "cluster": "cluster"}[variant],
        tls=base == "rediss",
        hosts=hosts,
        username=unquote(username) or None,
        password=unquote(password) or None,
        db=db,
        master=master,
        sentinel_password=sentinel_password,
    )


# what each connection tells the server (CLIENT SETINFO): made once here, where a connection
# made without it reads redis-py's version from its package metadata, each time
_DRIVER_INFO: Final = DriverInfo()


def _common(target: RedisTarget) -> dict[str, Any]:
    options: dict[str, Any] = {
        "socket_timeout": SOCKET_TIMEOUT,
        "socket_connect_timeout": 3,
        "retry": Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=2),
        "health_check_interval": 30,
        "driver_info": _DRIVER_INFO,
    }
    if target.username:
        options["username"] = target.username
    if target.password:
        options["password"] = target.password
    return options


def connect(url: str, **overrides: Any) -> Redis:
    """A client for REDIS_URL (hiredis, when installed, parses the replies); `overrides` are
    client options (tests: decode_responses)."""
    target = parse(url)
    options = {**_common(target), **overrides}
    if target.kind == "cluster":
        cluster: Any = RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in target.hosts],
            ssl=target.tls,
            max_connections=POOL_SIZE,
            **options,
        )
        return cast(Redis, cluster)  # the same commands as one server
    if target.kind == "sentinel":
        assert target.master is not None
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(target.hosts),
            sentinel_kwargs={
                "socket_timeout": 1.0,
                "socket_connect_timeout": 1.0,
                **({"password": target.sentinel_password} if target.sentinel_password else {}),
            },
            ssl=target.tls,
            db=target.db,
            **options,
        )
        return cast(Redis, sentinel.master_for(target.master, max_connections=POOL_SIZE * 4))
    host, port = target.hosts[0]
    pool = LeanBlockingPool(
        max_connections=POOL_SIZE,
        timeout=POOL_WAIT,
        host=host,
        port=port,
        db=target.db,
        connection_class=LeanSSLConnection if target.tls else LeanConnection,
        **options,
    )
    return Redis(connection_pool=pool)
