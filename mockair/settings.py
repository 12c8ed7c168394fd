"""The one frozen configuration object every mockair server is built from."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

LogLevel = Literal["debug", "info", "warning", "error"]
LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error")

PACKAGE_DIR = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    # A wheel carries the data inside the package (force-include); a source checkout and an
    # editable install keep it at the top of the repository.
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


def parse_epoch(value: str | float | int) -> float:
    """Unix seconds (int, float or their text) or an ISO-8601 time (UTC when no offset is given)."""
    if isinstance(value, bool):
        raise ValueError("epoch must be unix seconds or ISO-8601")
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"invalid epoch {value!r}: expected unix seconds or ISO-8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


@dataclass(frozen=True)
class Settings:
    """Everything that configures one mockair server (CONTRACT §5.1, §5.5).

    Build it directly, through :meth:`from_options` (the keyword names of ``MockAir(**options)``),
    or from the command line. ``create_app(settings)`` reads nothing else: no environment, no
    globals, so two servers with different settings can run side by side in one process.

    Attributes:
        host: bind address.
        port: TCP port; ``0`` asks the OS for a free one (the handle reads it back).
        seed: server seed for content and ids (CONTRACT §2.7).
        keys: keys file path, or a list of key objects (CONTRACT §5.2).
        stubs: stubs file path, or a dict ``{"stubs": [...], "faults": [...]}`` (CONTRACT §5.3).
        strict_keys: unregistered keys get 401.
        allow_unknown_fields: unknown top-level body fields are ignored instead of rejected.
        epoch: virtual clock start (unix seconds); ``None`` = wall clock at start.
        clock_speed: virtual seconds per real second; ``0`` = frozen.
        task_seconds: processing time of async tasks (CONTRACT §3.9.3).
        realtime: pace streams by the model's ttft and tokens per second.
        journal_size: request journal ring size.
        media_max_mb: media store bound in MiB.
        log_level: uvicorn / mockair log level.
        api_key: the key handed out by ``MockAir.api_key`` and ``mockair run``.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    seed: int = 0
    keys: str | Path | tuple[dict[str, Any], ...] | None = None
    stubs: str | Path | dict[str, Any] | None = None
    strict_keys: bool = False
    allow_unknown_fields: bool = False
    epoch: float | None = None
    clock_speed: float = 1.0
    task_seconds: float = 5.0
    realtime: bool = False
    journal_size: int = 10000
    media_max_mb: int = 512
    log_level: LogLevel = "info"
    api_key: str = "sk-air-mockair"
    fixtures_dir: Path = field(default_factory=lambda: _data_dir("fixtures"))
    schemas_dir: Path = field(default_factory=lambda: _data_dir("schemas"))

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.port <= 65535:
            problems.append(f"port must be 0-65535, got {self.port}")
        if self.clock_speed < 0:
            problems.append(f"clock_speed must be >= 0, got {self.clock_speed}")
        if self.task_seconds < 0:
            problems.append(f"task_seconds must be >= 0, got {self.task_seconds}")
        if self.journal_size < 1:
            problems.append(f"journal_size must be >= 1, got {self.journal_size}")
        if self.media_max_mb < 1:
            problems.append(f"media_max_mb must be >= 1, got {self.media_max_mb}")
        if self.log_level not in LOG_LEVELS:
            problems.append(f"log_level must be one of {', '.join(LOG_LEVELS)}")
        if problems:
            raise ValueError("; ".join(problems))
        if isinstance(self.keys, list):
            object.__setattr__(self, "keys", tuple(self.keys))
        if self.epoch is not None and not isinstance(self.epoch, float):
            object.__setattr__(self, "epoch", parse_epoch(self.epoch))
        if self.epoch is not None and not 0 <= self.epoch <= 253402300799:
            raise ValueError("epoch must lie between 1970 and 9999")

    @classmethod
    def from_options(cls, **options: Any) -> Settings:
        """Settings from ``MockAir(**options)`` keywords; unknown names raise ``TypeError``."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise TypeError(f"unknown mockair option(s): {', '.join(unknown)}")
        return cls(**options)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)
