"""Accepting connections: every pending connection at once, not one per loop iteration.

libuv accepts a single connection per event-loop iteration since 1.45 (libuv#3696), and uvloop
bundles it. Under load an iteration serves every busy connection, so a burst of N new
connections waits up to N iterations: with 64 connections opened at once against a loaded
server, the last one's first request waited 600 ms while every later request took 25 ms
(packet capture, bench/RESULTS.md). Here the listening socket is read by the loop and drained
with ``accept()`` until it would block, as asyncio's own loop does, and each connection is handed
to the loop as an accepted socket; uvicorn's protocol, its connection tracking and its graceful
shutdown are unchanged.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable

import uvicorn

logger = logging.getLogger("mockair")

# At most this many accepts per wake-up, so that a flood of connections cannot starve the
# requests already in flight (asyncio's loop bounds its accept loop the same way, by backlog).
ACCEPTS_PER_WAKEUP = 256
# Out of file descriptors: stop listening for a moment instead of spinning on the error.
EMFILE_PAUSE_S = 0.1


class GreedyListener:
    """A listening socket served by ``loop.add_reader``; the part of ``asyncio.Server`` that
    uvicorn's shutdown uses (``close``, ``wait_closed``)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        backlog: int,
    ) -> None:
        self._loop = loop
        self._sock = sock
        self._factory = protocol_factory
        self._closed = False
        self._pending: set[asyncio.Task[object]] = set()
        sock.setblocking(False)
        sock.listen(backlog)
        loop.add_reader(sock.fileno(), self._accept_pending)

    def _accept_pending(self) -> None:
        for _ in range(ACCEPTS_PER_WAKEUP):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                if error.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    logger.warning("cannot accept a connection now: %s", error)
                    self._loop.remove_reader(self._sock.fileno())
                    self._loop.call_later(EMFILE_PAUSE_S, self._resume)
                    return
                # The client gave up before it was accepted (ECONNABORTED and the like).
                logger.debug("accept failed", exc_info=True)
                continue
            conn.setblocking(False)
            task = self._loop.create_task(self._loop.connect_accepted_socket(self._factory, conn))
            self._pending.add(task)
            task.add_done_callback(lambda done, conn=conn: self._connected(done, conn))

    def _connected(self, task: asyncio.Task[object], conn: socket.socket) -> None:
        self._pending.discard(task)
        # A connection that died while it was being set up: nothing was served on it.
        if task.cancelled():
            conn.close()
        elif task.exception() is not None:
            logger.debug("connection setup failed", exc_info=task.exception())
            conn.close()

    def _resume(self) -> None:
        if not self._closed:
            self._loop.add_reader(self._sock.fileno(), self._accept_pending)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._loop.remove_reader(self._sock.fileno())

    async def wait_closed(self) -> None:
        for task in list(self._pending):
            task.cancel()


class AcceptingServer(uvicorn.Server):
    """uvicorn's server with :class:`GreedyListener` in place of ``loop.create_server``.

    Only the ``sockets=`` start is used by mockair (``MockAir`` binds its own socket)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's start with no socket of its own: lifespan, server state and ``started``.
        # ``started`` is read only after this returns, by which time the listener is reading.
        await super().startup(sockets=[])
        if self.should_exit:
            return
        config = self.config
        loop = asyncio.get_running_loop()

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=loop,
            )

        backlog = config.backlog
        listeners = [GreedyListener(loop, s, create_protocol, backlog) for s in sockets or []]
        self.servers = listeners  # type: ignore[assignment]
