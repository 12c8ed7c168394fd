"""Anthropic prompt-cache entries (CONTRACT §3.3.4), on the virtual clock."""

from __future__ import annotations

TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
MAX_ENTRIES = 10000


class PromptCache:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], tuple[str, float]] = {}  # -> (ttl, expires)

    def use(self, scope: str, model: str, digest: str, ttl: str, now: float) -> str | None:
        """The stored entry's TTL on a hit (and the TTL restarts), else None (stored now)."""
        key = (scope, model, digest)
        entry = self._entries.get(key)
        if entry is not None and now < entry[1]:
            self._entries[key] = (entry[0], now + TTL_SECONDS[entry[0]])
            return entry[0]
        self._entries[key] = (ttl, now + TTL_SECONDS[ttl])
        if len(self._entries) > MAX_ENTRIES:
            self._evict(now)
        return None

    def _evict(self, now: float) -> None:
        for key in [k for k, (_, expires) in self._entries.items() if expires <= now]:
            del self._entries[key]
        # Still full of live entries (a fast load, a stopped clock): the oldest stored go.
        excess = len(self._entries) - MAX_ENTRIES // 2
        if excess > 0:
            for key in list(self._entries)[:excess]:
                del self._entries[key]

    def clear(self, scope: str | None = None) -> None:
        if scope is None:
            self._entries.clear()
        else:
            for key in [k for k in self._entries if k[0] == scope]:
                del self._entries[key]
