"""Per-server mutable state, built from one ``Settings`` (no HTTP objects, no module globals)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockair import jsonio
from mockair.catalog import Catalog
from mockair.lru import Lru
from mockair.settings import Settings
from mockair.state.clock import VirtualClock
from mockair.state.ids import GLOBAL_SCOPE, IdSequences
from mockair.state.journal import Journal
from mockair.state.keys import KeyRegistry
from mockair.state.limits import RateLimiter
from mockair.state.media import MediaStore
from mockair.state.prompt_cache import PromptCache
from mockair.state.responses import ResponseStore
from mockair.state.stubs import RuleStore
from mockair.state.tasks import TaskStore
from mockair.state.voices import VoiceClones

if TYPE_CHECKING:
    from mockair.web.validation import SchemaSet


class ConfigError(Exception):
    """A keys or stubs file that cannot be loaded (the CLI exits 1 with this message)."""


@dataclass
class InternalErrorRecord:
    seq: int
    request_id: str
    scope: str | None
    method: str
    path: str
    traceback: str


@dataclass
class ServerState:
    settings: Settings
    catalog: Catalog
    schemas: SchemaSet
    clock: VirtualClock
    ids: IdSequences = field(init=False)
    keys: KeyRegistry = field(init=False)
    journal: Journal = field(init=False)
    media: MediaStore = field(init=False)
    stubs: RuleStore = field(init=False)
    faults: RuleStore = field(init=False)
    prompt_cache: PromptCache = field(init=False)
    responses: ResponseStore = field(init=False)
    voices: VoiceClones = field(init=False)
    tasks: TaskStore = field(init=False)
    rate: RateLimiter = field(init=False)
    # Diagnostics of mockair bugs, kept across resets so the pytest plugin can report them.
    internal_errors: list[InternalErrorRecord] = field(default_factory=list)
    internal_error_seq: int = 0
    cache: dict[str, Any] = field(init=False)  # derived bytes, e.g. the serialised model list
    replies: Lru[Any, Any] = field(init=False)  # generated replies by request (pure results)
    wire: Lru[Any, Any] = field(init=False)
    started_real: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._build()

    def _build(self) -> None:
        settings = self.settings
        self.ids = IdSequences(settings.seed)
        self.keys = KeyRegistry(strict=settings.strict_keys)
        self.journal = Journal(settings.journal_size)
        self.media = MediaStore(settings.media_max_mb * 1024 * 1024)
        self.stubs = RuleStore("stub")
        self.faults = RuleStore("fault")
        self.prompt_cache = PromptCache()
        self.responses = ResponseStore()
        self.voices = VoiceClones()
        self.tasks = TaskStore()
        self.rate = RateLimiter()
        self.cache = {}
        self.replies = Lru(1024)
        self.wire = Lru(1024)  # serialised answers without id and time (chat)

    def now(self) -> float:
        return self.clock.now()

    def reset_all(self) -> None:
        """Global reset (CONTRACT §4.3): everything rebuilt, files reloaded, clock restarted."""
        permanent = [item for item in self.media.items() if not item.expires]
        self.clock = VirtualClock(self.clock.epoch, self.settings.clock_speed)
        self._build()
        for item in permanent:
            self.media.put(item)

    def reset_scope(self, scope: str) -> None:
        """Scoped reset: that account's state only; the clock is untouched."""
        self.journal.clear(scope)
        self.stubs.clear(scope)
        self.faults.clear(scope)
        self.prompt_cache.clear(scope)
        self.responses.clear(scope)
        self.voices.clear(scope)
        self.tasks.clear(scope)
        self.media.clear(scope)
        self.ids.reset_scope(scope)
        for record in self.keys.in_scope(scope):
            self.keys.usage.pop(record.key, None)
        self.rate.clear([record.key for record in self.keys.in_scope(scope)] + [scope])
        self.keys.usage.pop(scope, None)

    def record_internal_error(self, **fields: Any) -> None:
        self.internal_error_seq += 1
        self.internal_errors.append(InternalErrorRecord(seq=self.internal_error_seq, **fields))
        del self.internal_errors[:-100]


def read_json_file(path: str | Path, what: str) -> Any:
    try:
        return jsonio.loads(Path(path).read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(f"{what} file {path} is not valid JSON: {exc}") from None


__all__ = ["GLOBAL_SCOPE", "ConfigError", "InternalErrorRecord", "ServerState", "read_json_file"]
