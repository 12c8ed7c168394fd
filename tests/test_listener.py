"""The greedy listener: every connection already waiting is accepted in one loop wake-up.

libuv (so uvloop) accepts one connection per loop iteration; ``GreedyListener`` drains the
accept queue instead, so a burst of new connections against a loaded server does not wait one
iteration each (bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest
import uvloop

from mockair.server import bind_socket
from mockair.web import listener as listener_module
from mockair.web.listener import GreedyListener

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "uvloop": uvloop.new_event_loop,
    "asyncio": asyncio.new_event_loop,
}


class Recorder(asyncio.Protocol):
    made: list[asyncio.BaseTransport]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made.append(transport)


def run(loop_name: str, main: Callable[[], object]) -> None:
    with asyncio.Runner(loop_factory=LOOPS[loop_name]) as runner:
        runner.run(main())  # type: ignore[arg-type]


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_every_waiting_connection_is_accepted_in_one_wakeup(loop_name: str) -> None:
    made: list[asyncio.BaseTransport] = []
    Recorder.made = made

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sock = bind_socket("127.0.0.1", 0)
        listener = GreedyListener(loop, sock, Recorder, backlog=128)
        # connect() returns once the kernel finished the handshake: all 40 are in the queue.
        clients = [socket.create_connection(sock.getsockname()) for _ in range(40)]
        # One pass accepts, the next sets each transport up, the third calls connection_made.
        # Accepting one per pass, as libuv does, would have made 2 of them by now.
        for _ in range(4):
            await asyncio.sleep(0)
        assert len(made) == 40
        listener.close()
        await listener.wait_closed()
        for transport in made:
            transport.close()
        for client in clients:
            client.close()
        sock.close()

    run(loop_name, main)


def test_one_wakeup_accepts_at_most_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listener_module, "ACCEPTS_PER_WAKEUP", 5)
    made: list[asyncio.BaseTransport] = []
    Recorder.made = made

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sock = bind_socket("127.0.0.1", 0)
        listener = GreedyListener(loop, sock, Recorder, backlog=32)
        clients = [socket.create_connection(sock.getsockname()) for _ in range(12)]
        # One wake-up, called directly so that the loop cannot run another in between.
        listener._accept_pending()
        assert len(listener._pending) == 5
        # The rest come with the next wake-ups (the socket is still readable).
        for _ in range(8):
            await asyncio.sleep(0)
        assert len(made) == 12
        listener.close()
        for transport in made:
            transport.close()
        for client in clients:
            client.close()
        sock.close()

    run("uvloop", main)


def test_a_closed_listener_accepts_nothing() -> None:
    made: list[asyncio.BaseTransport] = []
    Recorder.made = made

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sock = bind_socket("127.0.0.1", 0)
        listener = GreedyListener(loop, sock, Recorder, backlog=16)
        listener.close()
        client = socket.create_connection(sock.getsockname())
        for _ in range(4):
            await asyncio.sleep(0)
        assert made == []
        client.close()
        sock.close()

    run("uvloop", main)
