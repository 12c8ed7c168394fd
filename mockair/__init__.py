"""mockair: a local, offline, deterministic emulator of the Api.Airforce AI gateway."""

from __future__ import annotations

__version__ = "0.1.0"

from mockair.app import create_app
from mockair.errors import ApiError
from mockair.server import MockAir
from mockair.session import MockAirSession
from mockair.settings import Settings

__all__ = ["ApiError", "MockAir", "MockAirSession", "Settings", "__version__", "create_app"]
