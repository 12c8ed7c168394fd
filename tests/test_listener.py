"""The greedy listener: every connection already waiting is accepted in one loop wake-up.

libuv (so uvloop) accepts one connection per loop iteration; ``GreedyListener`` drains the
accept queue instead, so a burst of new connections against a loaded server does not wait one
iteration each (bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from mockair.server import bind_socket
from mockair.web import listener as listener_module
from mockair.web.listener import GreedyListener

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "uvloop": uvloop.new_event_loop,
    "asyncio": asyncio.new_event_loop,
}


class Served:
    """A greedy listener on a fresh socket, the transports it made and the clients connected
    to it; ``close()`` ends all of them."""

    def __init__(self, backlog: int) -> None:
        self.made: list[asyncio.BaseTransport] = []
        self.sock = bind_socket("127.0.0.1", 0)
        self.clients: list[socket.socket] = []
        made = self.made

        class Recorder(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                made.append(transport)

        self.listener = GreedyListener(asyncio.get_running_loop(), self.sock, Recorder, backlog)

    def connect(self, count: int) -> None:
        # connect() returns once the kernel finished the handshake: each is in the queue.
        self.clients += [socket.create_connection(self.sock.getsockname()) for _ in range(count)]

    def close(self) -> None:
        self.listener.close()
        for transport in self.made:
            transport.close()
        for client in self.clients:
            client.close()
        self.sock.close()


async def passes(count: int) -> None:
    """Let the loop run ``count`` iterations."""
    for _ in range(count):
        await asyncio.sleep(0)


def run(loop_name: str, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    with asyncio.Runner(loop_factory=LOOPS[loop_name]) as runner:
        runner.run(main())


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_every_waiting_connection_is_accepted_in_one_wakeup(loop_name: str) -> None:
    async def main() -> None:
        served = Served(backlog=128)
        served.connect(40)
        # One pass accepts, the next sets each transport up, the third calls connection_made.
        # Accepting one per pass, as libuv does, would have made 2 of them by now.
        await passes(4)
        assert len(served.made) == 40
        await served.listener.wait_closed()
        served.close()

    run(loop_name, main)


def test_one_wakeup_accepts_at_most_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listener_module, "ACCEPTS_PER_WAKEUP", 5)

    async def main() -> None:
        served = Served(backlog=32)
        served.connect(12)
        # One wake-up, called directly so that the loop cannot run another in between.
        served.listener._accept_pending()
        assert len(served.listener._pending) == 5
        # The rest come with the next wake-ups (the socket is still readable).
        await passes(8)
        assert len(served.made) == 12
        served.close()

    run("uvloop", main)


def test_a_closed_listener_accepts_nothing() -> None:
    async def main() -> None:
        served = Served(backlog=16)
        served.listener.close()
        served.connect(1)
        await passes(4)
        assert served.made == []
        served.close()

    run("uvloop", main)
