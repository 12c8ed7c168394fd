"""The virtual clock (CONTRACT §2.8): the only source of "now" in mockair."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

# The last second that every formatter (ISO-8601, HTTP Date) can still write: 9999-12-31.
MAX_TIME = 253402300799.0


def iso_utc(moment: float) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of unix seconds (floored)."""
    return dt.datetime.fromtimestamp(int(moment // 1), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class VirtualClock:
    """``now = epoch + real elapsed × speed + manual advances``; never moves backwards.

    The real time source is injectable so the clock can be tested without sleeping.
    """

    def __init__(
        self,
        epoch: float | None = None,
        speed: float = 1.0,
        *,
        real: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._real = real
        self.epoch = float(epoch) if epoch is not None else wall()
        self.speed = float(speed)
        self.frozen = False
        self.advanced = 0.0
        self._base_virtual = self.epoch
        self._base_real = real()

    def _rate(self) -> float:
        return 0.0 if self.frozen else self.speed

    def now(self) -> float:
        # Several reads per request: written out rather than through _rate() and min().
        rate = 0.0 if self.frozen else self.speed
        moment = self._base_virtual + (self._real() - self._base_real) * rate
        return moment if moment < MAX_TIME else MAX_TIME

    def _rebase(self) -> None:
        self._base_virtual = self.now()
        self._base_real = self._real()

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("advance must be >= 0")
        if self.now() + seconds > MAX_TIME:
            raise ValueError("the clock cannot go past 9999-12-31T23:59:59Z")
        self._rebase()
        self._base_virtual += seconds
        self.advanced += seconds
        return self._base_virtual

    def set(self, moment: float) -> float:
        current = self.now()
        if moment < current:
            raise ValueError("set must not be earlier than now")
        return self.advance(moment - current)

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._rebase()
        self.speed = float(speed)

    def freeze(self, frozen: bool) -> None:
        self._rebase()
        self.frozen = bool(frozen)

    def snapshot(self) -> dict[str, Any]:
        now = self.now()
        return {
            "now": round(now, 6),
            "iso": iso_utc(now),
            "epoch": self.epoch,
            "speed": self.speed,
            "frozen": self.frozen,
            "advanced": self.advanced,
        }
