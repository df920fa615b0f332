"""The connections of a single Redis server: redis-py's BlockingConnectionPool, with a short
way through for what nearly every command meets, a free connection and nobody waiting; and its
connections, which write a command under the socket timeout without a task of its own.

redis-py's pool takes an asyncio.Condition, starts a timeout, enters a lock's context and
records its observability counters on every get and release, whether or not anyone waits:
some 600k instructions per update of ours, a tenth of the bot's CPU, for six or so round
trips. Here a free connection is taken and given back directly, and made ready by redis-py's
own `ensure_connection` (connected again if it is not); the parent's way (waiting up to its
timeout for a connection, disconnecting one due to reconnect, the maintenance mode of a server
that moves) is taken whenever no connection is free at once, someone waits for one, or the
pool is in maintenance. Its observability counters are left out on the short way: this project
does not enable redis-py's metrics (ours are bot.metrics), and with them off redis-py records
nothing either.

A connection with a socket timeout writes each command through `asyncio.wait_for`, which on
Python 3.11 (the image's) wraps the write in a Task of its own: created, scheduled and awaited
for every round trip (some 220k instructions per update). Here the write runs under
`asyncio.timeout` in the caller's own task (what `wait_for` itself does from Python 3.12 on),
with redis-py's own handling of a timeout or a broken socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import hiredis
from redis.asyncio.connection import (
    AbstractConnection,
    BlockingConnectionPool,
    Connection,
    SSLConnection,
)
from redis.event import AsyncAfterConnectionReleasedEvent
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import EncodableT

__all__ = ["LeanBlockingPool", "LeanConnection", "LeanSSLConnection", "LeanWrites"]


# the types hiredis packs as redis-py's encoder does (not bool, an int it refuses; not float,
# which it formats its own way)
_PLAIN = frozenset({str, bytes, int})


class LeanWrites(AbstractConnection):
    """What a connection of ours does its own way: packing a command and writing it."""

    @property
    def _plain(self) -> bool:
        """The encoder encodes as hiredis does (redis-py's default)."""
        encoder = self.encoder
        return bool(encoder.encoding == "utf-8" and encoder.encoding_errors == "strict")

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        """The bytes redis-py's own packing makes (its encoder, a command name of two words
        split as it splits it), put together by hiredis in C instead of by one Python join
        per argument, each copying all that came before it. Strings, bytes and integers, what
        nearly every command is made of, hiredis encodes itself as the encoder would (UTF-8,
        strict; the digits of an int); anything else goes through the encoder."""
        assert not isinstance(args[0], float)
        name = args[0]
        spaced = " " in name if isinstance(name, str) else isinstance(name, bytes) and b" " in name
        if not spaced and self._plain and all(type(arg) in _PLAIN for arg in args):
            return [hiredis.pack_command(args)]  # type: ignore[arg-type]  # str, bytes, int
        if isinstance(args[0], str):
            args = (*args[0].encode().split(), *args[1:])
        elif isinstance(args[0], bytes) and b" " in args[0]:
            args = (*args[0].split(), *args[1:])
        encode = self.encoder.encode
        encoded = tuple(encode(arg) for arg in args)  # type: ignore[no-untyped-call]
        packed: bytes = hiredis.pack_command(encoded)
        return [packed]

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        timeout = self.socket_timeout
        if not timeout:
            await super().send_packed_command(command, check_health)
            return
        if not self.is_connected:
            await self.connect_check_health(check_health=False)
        if check_health:
            await self.check_health()  # type: ignore[no-untyped-call]
        # redis-py's own write (a failed one leaves no connection behind, whose next reply
        # would answer another command), told of no timeout for its part only: it is ours
        self.socket_timeout = None
        try:
            async with asyncio.timeout(timeout):
                await super().send_packed_command(command, check_health=False)
        except TimeoutError:
            raise RedisTimeoutError("Timeout writing to socket") from None
        finally:
            self.socket_timeout = timeout


class LeanConnection(LeanWrites, Connection):
    """A TCP connection that writes in place (see the module's docstring)."""


class LeanSSLConnection(LeanWrites, SSLConnection):
    """A TLS connection that writes in place."""


class LeanBlockingPool(BlockingConnectionPool):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting = 0  # gets on the parent's way: it may be waiting for a connection

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        if self._waiting or self._in_maintenance or not self._available_connections:
            self._waiting += 1
            waited = super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]
            try:
                connection: AbstractConnection = await waited
                return connection
            finally:
                self._waiting -= 1
        connection = self._available_connections.pop()
        self._in_use_connections.add(connection)
        try:
            await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def release(self, connection: AbstractConnection) -> None:
        # the parent's way: it wakes the one waiting longest, and it disconnects a connection
        # due to reconnect under the pool's lock
        reconnect = connection.should_reconnect()  # type: ignore[no-untyped-call]
        if self._waiting or self._in_maintenance or reconnect:
            await super().release(connection)
            return
        self._in_use_connections.remove(connection)
        self._available_connections.append(connection)
        # what a released connection may need (a streaming credential's re-authentication)
        dispatcher = self._event_dispatcher
        if dispatcher is not None:
            released = AsyncAfterConnectionReleasedEvent(connection)  # type: ignore[no-untyped-call]
            await dispatcher.dispatch_async(released)
