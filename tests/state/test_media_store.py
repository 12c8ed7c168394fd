"""The media store (CONTRACT §3.11, §6) without HTTP: LRU by bytes, expiry, lazy rendering."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockair.state.media import CONTENT_TYPES, MEDIA_TTL_SECONDS, PREFIX_EXTS, MediaItem, MediaStore

T0 = 1767225600.0


def item(
    media_id: str,
    size: int = 10,
    *,
    created: float = T0,
    owner: str = "anonymous",
    expires: bool = True,
    render: Callable[[], bytes] | None = None,
    ext: str = "png",
) -> MediaItem:
    data = None if render is not None else b"x" * size
    return MediaItem(media_id, ext, created, owner, data=data, render=render, expires=expires)


def test_constants() -> None:
    assert MEDIA_TTL_SECONDS == 86400
    assert CONTENT_TYPES == {
        "png": "image/png",
        "mp3": "audio/mpeg",
        "wav": "audio/wav",
        "mp4": "video/mp4",
    }
    assert PREFIX_EXTS == {"img_": ("png",), "aud_": ("mp3", "wav"), "vid_": ("mp4",)}


def test_item_content_type_and_size() -> None:
    assert item("aud_a", 7, ext="wav").content_type == "audio/wav"
    assert item("aud_a", 7, ext="wav").size == 7
    assert item("img_lazy", render=lambda: b"abc").size == 0


def test_put_and_get() -> None:
    store = MediaStore(1000)
    store.put(item("img_a", 10))
    got = store.get("img_a", T0)
    assert got is not None
    assert got.data == b"x" * 10
    assert "img_a" in store
    assert len(store) == 1
    assert store.total_bytes == 10
    assert store.get("img_b", T0) is None


def test_put_replaces_an_item_of_the_same_id() -> None:
    store = MediaStore(1000)
    store.put(item("img_a", 10))
    store.put(item("img_a", 30))
    assert len(store) == 1
    assert store.total_bytes == 30


def test_lru_evicts_the_oldest_put_first() -> None:
    store = MediaStore(100)
    for name in ("img_1", "img_2", "img_3"):
        store.put(item(name, 40))
    assert "img_1" not in store
    assert "img_2" in store
    assert "img_3" in store
    assert store.total_bytes == 80


def test_lru_get_marks_recent_use() -> None:
    store = MediaStore(100)
    store.put(item("img_1", 40))
    store.put(item("img_2", 40))
    assert store.get("img_1", T0) is not None
    store.put(item("img_3", 40))
    assert "img_1" in store
    assert "img_2" not in store


def test_peek_does_not_mark_recent_use() -> None:
    store = MediaStore(100)
    store.put(item("img_1", 40))
    store.put(item("img_2", 40))
    assert store.peek("img_1", T0) is not None
    store.put(item("img_3", 40))
    assert "img_1" not in store


def test_exactly_the_budget_is_allowed() -> None:
    store = MediaStore(100)
    store.put(item("img_1", 50))
    store.put(item("img_2", 50))
    assert len(store) == 2
    assert store.total_bytes == 100


def test_eviction_frees_as_many_items_as_needed() -> None:
    store = MediaStore(100)
    for n in range(5):
        store.put(item(f"img_{n}", 20))
    store.put(item("img_big", 90))
    # 190 bytes: the five small ones go, oldest first, until the budget holds.
    assert list(store._items) == ["img_big"]
    assert store.total_bytes == 90


def test_expiry_after_24_hours() -> None:
    store = MediaStore(1000)
    store.put(item("img_a", created=T0))
    assert store.get("img_a", T0 + MEDIA_TTL_SECONDS - 0.001) is not None
    assert store.get("img_a", T0 + MEDIA_TTL_SECONDS) is None
    assert "img_a" not in store  # an expired item is dropped and its bytes freed
    assert store.total_bytes == 0


def test_peek_also_expires() -> None:
    store = MediaStore(1000)
    store.put(item("img_a", created=T0))
    assert store.peek("img_a", T0 + 2 * MEDIA_TTL_SECONDS) is None
    assert len(store) == 0


def test_non_expiring_items_never_expire() -> None:
    store = MediaStore(1000)
    store.put(item("aud_preview", ext="mp3", expires=False))
    assert store.get("aud_preview", T0 + 365 * MEDIA_TTL_SECONDS) is not None


def test_lazy_item_renders_once_and_then_counts() -> None:
    calls: list[int] = []

    def render() -> bytes:
        calls.append(1)
        return b"r" * 25

    store = MediaStore(1000)
    store.put(item("img_lazy", render=render))
    assert store.total_bytes == 0
    assert store.peek("img_lazy", T0) is not None
    assert calls == []
    first = store.get("img_lazy", T0)
    assert first is not None
    assert first.data == b"r" * 25
    assert first.render is None
    assert store.total_bytes == 25
    second = store.get("img_lazy", T0)
    assert second is first
    assert calls == [1]
    assert store.total_bytes == 25


def test_lazy_render_can_evict_others_but_not_itself() -> None:
    store = MediaStore(100)
    store.put(item("img_1", 40))
    store.put(item("img_2", 40))
    store.put(item("img_lazy", render=lambda: b"z" * 40))
    assert len(store) == 3
    assert store.get("img_lazy", T0) is not None
    assert "img_1" not in store
    assert "img_2" in store
    assert "img_lazy" in store
    assert store.total_bytes == 80


def test_expired_lazy_item_is_never_rendered() -> None:
    calls: list[int] = []

    def render() -> bytes:
        calls.append(1)
        return b"z"

    store = MediaStore(100)
    store.put(item("img_lazy", render=render))
    assert store.get("img_lazy", T0 + MEDIA_TTL_SECONDS) is None
    assert calls == []


def test_remove() -> None:
    store = MediaStore(100)
    store.put(item("img_1", 40))
    assert store.remove("img_1") is True
    assert store.remove("img_1") is False
    assert store.total_bytes == 0


def test_clear_by_owner_keeps_permanent_items() -> None:
    store = MediaStore(1000)
    store.put(item("img_a", owner="sk-air-alice"))
    store.put(item("img_b", owner="sk-air-bob"))
    store.put(item("aud_p", owner="sk-air-alice", expires=False, ext="mp3"))
    assert store.clear("sk-air-alice") == 1
    assert "img_a" not in store
    assert "img_b" in store
    assert "aud_p" in store
    assert store.clear() == 1
    assert list(store._items) == ["aud_p"]
    assert store.clear(keep_permanent=False) == 1
    assert len(store) == 0
    assert store.total_bytes == 0


@pytest.mark.parametrize("budget", [1, 50, 1000])
def test_total_bytes_tracks_puts_and_removes(budget: int) -> None:
    store = MediaStore(budget)
    for n in range(10):
        store.put(item(f"img_{n}", 7))
    assert store.total_bytes == sum(i.size for i in store._items.values())


@given(
    budget=st.integers(1, 500),
    sizes=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 200)), max_size=40),
)
def test_store_stays_within_budget(budget: int, sizes: list[tuple[int, int]]) -> None:
    store = MediaStore(budget)
    for index, size in sizes:
        newest = f"img_{index}"
        store.put(item(newest, size))
        assert newest in store  # the item just put is never the one evicted
        assert store.total_bytes == sum(i.size for i in store._items.values())
        assert store.total_bytes <= budget or len(store) == 1
