"""The task engine (CONTRACT §3.9.3, D12) for video, dubbing and legacy suno.

A task's state is never stored: :func:`status_at` works it out from the creation time, the
virtual clock and ``task_seconds`` whenever somebody asks. No worker, no thread, no sleep: a
test advances the clock and the task has moved on.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

TASK_TTL = 86400.0
PER_SCOPE = 1000
TERMINAL = ("completed", "failed", "expired")
TaskKind = Literal["video", "dubbing", "suno"]


@dataclass
class Task:
    task_id: str
    kind: TaskKind
    scope: str
    key: str | None  # the key that created it (concurrency is counted per key)
    created: float  # virtual unix seconds
    params: dict[str, Any]
    cost_cents: float = 0.0
    fails_with: dict[str, Any] | None = None  # {"code","message"}: the task ends as failed
    media_id: str | None = None
    refunded: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskState:
    status: str
    progress: int
    started_at: float | None
    completed_at: float | None
    expires_at: float

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def status_at(task: Task, now: float, task_seconds: float) -> TaskState:
    """The state of ``task`` at virtual time ``now`` (a pure function)."""
    seconds = max(0.0, task_seconds)
    queue = 1.0 if seconds > 0 else 0.0
    t0 = task.created
    start, end, expires = t0 + queue, t0 + queue + seconds, t0 + TASK_TTL
    if now >= expires:
        return TaskState(
            "expired",
            100 if task.fails_with is None else _last(seconds),
            start,
            None if task.fails_with else end,
            expires,
        )
    if now < start:
        return TaskState("queued", 0, None, None, expires)
    if now < end:
        progress = min(99, math.floor(100 * (now - start) / seconds))
        return TaskState("processing", progress, start, None, expires)
    if task.fails_with is not None:
        return TaskState("failed", _last(seconds), start, end, expires)
    return TaskState("completed", 100, start, end, expires)


def _last(seconds: float) -> int:
    return 99 if seconds > 0 else 0


def seconds_until_done(task: Task, now: float, task_seconds: float) -> float:
    queue = 1.0 if task_seconds > 0 else 0.0
    return max(0.0, task.created + queue + task_seconds - now)


class TaskStore:
    """Tasks per scope in creation order; at most 1000 per scope (oldest terminal dropped)."""

    def __init__(self) -> None:
        self._scopes: dict[str, OrderedDict[str, Task]] = {}

    def add(self, task: Task, now: float, task_seconds: float) -> Task:
        bucket = self._scopes.setdefault(task.scope, OrderedDict())
        bucket[task.task_id] = task
        if len(bucket) > PER_SCOPE:
            for old in list(bucket.values()):
                if status_at(old, now, task_seconds).terminal:
                    del bucket[old.task_id]
                    break
        return task

    def get(self, scope: str, task_id: str, kind: TaskKind | None = None) -> Task | None:
        task = self._scopes.get(scope, {}).get(task_id)
        if task is None or (kind is not None and task.kind != kind):
            return None
        return task

    def of(self, scope: str, kind: TaskKind) -> list[Task]:
        return [t for t in self._scopes.get(scope, {}).values() if t.kind == kind]

    def active_for_key(
        self, key: str, kind: TaskKind, now: float, task_seconds: float
    ) -> list[Task]:
        return [
            t
            for bucket in self._scopes.values()
            for t in bucket.values()
            if t.key == key and t.kind == kind and not status_at(t, now, task_seconds).terminal
        ]

    def all(self) -> list[Task]:
        return [t for bucket in self._scopes.values() for t in bucket.values()]

    def created_by(self, key: str) -> list[Task]:
        return [t for t in self.all() if t.key == key]

    def delete(self, scope: str, task_id: str) -> bool:
        return self._scopes.get(scope, {}).pop(task_id, None) is not None

    def clear(self, scope: str | None = None) -> None:
        if scope is None:
            self._scopes.clear()
        else:
            self._scopes.pop(scope, None)
