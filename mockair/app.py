"""``create_app(settings)``: the only wiring module."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp

from mockair.catalog import load_catalog
from mockair.settings import Settings
from mockair.state import ServerState
from mockair.state.admin import load_startup_files
from mockair.state.clock import VirtualClock
from mockair.surfaces import all_routes
from mockair.web.pipeline import Pipeline
from mockair.web.router import RouteTable
from mockair.web.validation import load_schemas


def build_state(settings: Settings) -> ServerState:
    """The per-server state; raises ``ConfigError`` when a keys or stubs file is bad."""
    state = ServerState(
        settings=settings,
        catalog=load_catalog(settings.fixtures_dir, settings.schemas_dir),
        schemas=load_schemas(settings.schemas_dir),
        clock=VirtualClock(settings.epoch, settings.clock_speed),
    )
    load_startup_files(state)
    return state


class MockAirApp(Starlette):
    """A Starlette app (``app.state``, ``app.routes``, TestClient) whose whole stack is the
    mockair :class:`Pipeline`."""

    pipeline: Pipeline

    def build_middleware_stack(self) -> ASGIApp:
        return self.pipeline


def create_app(settings: Settings | None = None, **options: Any) -> MockAirApp:
    """The mockair ASGI app, built from ``settings`` (or from ``Settings`` keyword options).

    Everything per-server hangs on ``app.state.mockair`` (a :class:`ServerState`), so several
    apps with different settings can live in one process.
    """
    if settings is None:
        settings = Settings.from_options(**options)
    elif options:
        settings = settings.replace(**options)
    state = build_state(settings)
    routes = all_routes()
    app = MockAirApp(routes=routes)
    # Routes are found by dictionary first; no slash redirects either way (CONTRACT §1.1).
    app.pipeline = Pipeline(state, RouteTable(routes), app)
    app.state.mockair = state
    app.state.routes = routes
    return app
