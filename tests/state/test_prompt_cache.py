"""The prompt cache stays bounded even when every entry is still live."""

from __future__ import annotations

from mockair.state.prompt_cache import MAX_ENTRIES, PromptCache


def test_live_entries_past_the_bound_are_evicted_oldest_first() -> None:
    cache = PromptCache()
    for n in range(MAX_ENTRIES * 3):
        cache.use("scope", "model", f"digest-{n}", "1h", now=0.0)  # nothing ever expires
    assert len(cache._entries) <= MAX_ENTRIES
    newest = f"digest-{MAX_ENTRIES * 3 - 1}"
    assert cache.use("scope", "model", newest, "1h", now=1.0) == "1h"  # still a hit
    assert cache.use("scope", "model", "digest-0", "1h", now=1.0) is None  # long evicted


def test_expired_entries_go_first() -> None:
    cache = PromptCache()
    cache.use("scope", "model", "old", "5m", now=0.0)
    for n in range(MAX_ENTRIES):
        cache.use("scope", "model", f"digest-{n}", "5m", now=1000.0)
    assert cache.use("scope", "model", "old", "5m", now=1000.0) is None
