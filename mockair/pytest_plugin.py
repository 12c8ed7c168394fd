"""The pytest plugin (CONTRACT §5.4): a session server per process and a per-test key.

Fixtures, in layers: ``mockair_settings`` (session; override it in a conftest) ->
``mockair_server`` (session: a ``MockAir`` on 127.0.0.1:0, one per xdist worker) -> ``mockair``
(per test: a ``MockAirSession`` with a fresh key whose scope is reset at teardown). The marker
``@pytest.mark.mockair(seed=7, ...)`` gives one test a server with other settings. A test during
which the server answered a 500 internal_error fails at teardown and shows the traceback: a 500
is always a mockair bug.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockair.server import MockAir
from mockair.session import MockAirSession
from mockair.settings import Settings


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mockair_seed", "seed of the mockair session server", default="0")
    parser.addini("mockair_epoch", "virtual clock epoch (unix seconds or ISO-8601)", default="")
    parser.addini("mockair_task_seconds", "processing time of mockair tasks", default="5")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockair(**options): run this test against a mockair server with these Settings options",
    )


@pytest.fixture(scope="session")
def mockair_settings(pytestconfig: pytest.Config) -> Settings:
    """Settings of the session server: port 0, seed/epoch/task seconds from the ini options."""
    epoch = str(pytestconfig.getini("mockair_epoch")).strip()
    return Settings(
        port=0,
        seed=int(pytestconfig.getini("mockair_seed")),
        epoch=float(epoch) if epoch.replace(".", "", 1).isdigit() else (epoch or None),  # type: ignore[arg-type]
        task_seconds=float(pytestconfig.getini("mockair_task_seconds")),
        log_level="warning",
    )


@pytest.fixture(scope="session")
def mockair_server(mockair_settings: Settings) -> Iterator[MockAir]:
    """One mockair server for the whole session (per xdist worker), on a free port."""
    with MockAir(mockair_settings) as server:
        yield server


def _internal_errors(server: MockAir, scope: str, since: int) -> list[str]:
    return [
        f"{record.method} {record.path} ({record.request_id})\n{record.traceback}"
        for record in server.state.internal_errors
        if record.seq > since and record.scope in (scope, None, "anonymous")
    ]


@pytest.fixture
def mockair(request: pytest.FixtureRequest, mockair_server: MockAir) -> Iterator[MockAirSession]:
    """A ``MockAirSession`` bound to a fresh key unique to this test."""
    marker = request.node.get_closest_marker("mockair")
    server = mockair_server
    own: MockAir | None = None
    if marker is not None:
        options: dict[str, Any] = {"port": 0, "log_level": "warning", **marker.kwargs}
        own = server = MockAir(mockair_server.settings.replace(**options)).start()
    session = MockAirSession(server.url, MockAirSession.key_for(request.node.nodeid), server=server)
    errors_before = server.state.internal_error_seq
    try:
        yield session
        problems = _internal_errors(server, session.api_key, errors_before)
        if problems:
            pytest.fail(
                "mockair answered 500 internal_error during this test:\n\n" + "\n".join(problems),
                pytrace=False,
            )
    finally:
        try:
            if own is None:
                session.reset()
        finally:
            session.close()
            if own is not None:
                own.stop()
