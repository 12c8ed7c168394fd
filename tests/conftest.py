"""Factory fixtures: settings, apps, clients over both transports, and the official SDKs.

``client`` is parametrized over the transport: in-process (Starlette's TestClient over the ASGI
app) and a real socket (a live ``MockAir``), so every HTTP test runs both ways.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mockair import MockAir, Settings, create_app

pytest_plugins = ["pytester"]

EPOCH = 1767225600  # 2026-01-01T00:00:00Z
KEY = "sk-air-test-key-0001"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MOCKAIR_*, OPENAI_* or ANTHROPIC_* variable leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("MOCKAIR_", "OPENAI_", "ANTHROPIC_", "AIRFORCE_")):
            monkeypatch.delenv(name)


@pytest.fixture
def settings_factory() -> Callable[..., Settings]:
    def make(**options: Any) -> Settings:
        base: dict[str, Any] = {"port": 0, "epoch": EPOCH, "clock_speed": 0, "log_level": "warning"}
        base.update(options)
        return Settings(**base)

    return make


@pytest.fixture(scope="session")
def live_server() -> Iterator[MockAir]:
    """A shared live server with a frozen clock, for tests that only read."""
    with MockAir(port=0, epoch=EPOCH, clock_speed=0, log_level="warning") as server:
        yield server


class Clients:
    """Build clients of either transport for any settings."""

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self._servers: list[MockAir] = []
        self._clients: list[httpx.Client] = []

    def __call__(self, settings: Settings) -> httpx.Client:
        if self.transport == "asgi":
            app = create_app(settings)
            client: httpx.Client = TestClient(
                app, base_url="http://127.0.0.1:8080", raise_server_exceptions=False
            )
            client.app = app  # type: ignore[attr-defined]
        else:
            server = MockAir(settings).start()
            self._servers.append(server)
            client = httpx.Client(base_url=server.url, timeout=30)
            client.app = server.app  # type: ignore[attr-defined]
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        for server in self._servers:
            server.stop()


@pytest.fixture(params=["asgi", "socket"])
def make_client(request: pytest.FixtureRequest) -> Iterator[Clients]:
    clients = Clients(request.param)
    yield clients
    clients.close()


@pytest.fixture
def client(make_client: Clients, settings_factory: Callable[..., Settings]) -> httpx.Client:
    """A client of a fresh server (frozen clock at EPOCH), over each transport."""
    return make_client(settings_factory())


def state_of(client: httpx.Client) -> Any:
    return client.app.state.mockair  # type: ignore[attr-defined]
