"""GET and HEAD /media/{media_id}.{ext} (CONTRACT §3.11, §6), with items put in the store."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from mockair import Settings
from mockair.state.media import MediaItem
from tests.conftest import EPOCH, Clients, state_of
from tests.helpers import assert_error

DATA = bytes(range(256)) * 4  # 1024 distinct-enough bytes
IMG = "img_0123456789abcdef01234567"
AUD = "aud_0123456789abcdef01234567"
VID = "vid_0123456789abcdef01234567"
KIB = 1024


def put(
    client: httpx.Client,
    media_id: str,
    ext: str,
    data: bytes | None = DATA,
    *,
    render: Callable[[], bytes] | None = None,
    expires: bool = True,
) -> MediaItem:
    state = state_of(client)
    item = MediaItem(
        media_id=media_id,
        ext=ext,
        created=state.now(),
        owner="anonymous",
        data=data,
        render=render,
        expires=expires,
    )
    return state.media.put(item)  # type: ignore[no-any-return]


def advance(client: httpx.Client, seconds: float) -> None:
    assert client.post("/_mockair/clock", json={"advance": seconds}).status_code == 200


def assert_media_not_found(response: httpx.Response) -> None:
    assert_error(response, 404, "media_not_found", "media_id")


@pytest.mark.parametrize(
    ("media_id", "ext", "content_type"),
    [
        (IMG, "png", "image/png"),
        (AUD, "mp3", "audio/mpeg"),
        (AUD, "wav", "audio/wav"),
        (VID, "mp4", "video/mp4"),
    ],
)
def test_get_serves_bytes_with_headers(
    client: httpx.Client, media_id: str, ext: str, content_type: str
) -> None:
    put(client, media_id, ext)
    response = client.get(f"/media/{media_id}.{ext}")
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-type"] == content_type
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{media_id}"'
    assert response.headers["cache-control"] == "public, max-age=86400, immutable"
    assert "content-range" not in response.headers
    assert response.headers["access-control-allow-origin"] == "*"


def test_no_auth_needed_and_any_key_ignored(client: httpx.Client) -> None:
    put(client, IMG, "png")
    for headers in ({}, {"authorization": "Bearer garbage"}, {"x-api-key": "nope"}):
        response = client.get(f"/media/{IMG}.png", headers=headers)
        assert response.status_code == 200
        assert response.content == DATA


def test_head_has_headers_and_no_body(client: httpx.Client) -> None:
    put(client, VID, "mp4")
    response = client.head(f"/media/{VID}.mp4")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{VID}"'
    assert response.headers["cache-control"] == "public, max-age=86400, immutable"


def test_head_of_unknown_media_is_404(client: httpx.Client) -> None:
    response = client.head(f"/media/{IMG}.png")
    assert response.status_code == 404
    assert response.content == b""


@pytest.mark.parametrize(
    ("range_header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10-10", 10, 10),
        ("bytes=1000-", 1000, 1023),
        ("bytes=0-", 0, 1023),
        ("bytes=-24", 1000, 1023),
        ("bytes=-1", 1023, 1023),
        ("bytes=1000-5000", 1000, 1023),  # the last position is clamped to the size
        ("bytes=-5000", 0, 1023),  # a suffix longer than the item is the whole item
    ],
)
def test_single_range_is_206(
    client: httpx.Client, range_header: str, first: int, last: int
) -> None:
    put(client, IMG, "png")
    response = client.get(f"/media/{IMG}.png", headers={"range": range_header})
    assert response.status_code == 206
    assert response.content == DATA[first : last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(DATA)}"
    assert response.headers["content-length"] == str(last - first + 1)
    assert response.headers["content-type"] == "image/png"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{IMG}"'


@pytest.mark.parametrize(
    "range_header",
    [
        "bytes=1024-",  # starts past the end
        "bytes=5000-6000",
        "bytes=500-400",  # last before first
        "bytes=-0",
        "bytes=0-1,5-6",  # multiple ranges
        "bytes=0-1, 5-6",
        "items=0-5",
        "bytes=abc",
        "bytes=-",
    ],
)
def test_unsatisfiable_or_multiple_ranges_give_the_full_200(
    client: httpx.Client, range_header: str
) -> None:
    put(client, AUD, "mp3")
    response = client.get(f"/media/{AUD}.mp3", headers={"range": range_header})
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-length"] == str(len(DATA))
    assert "content-range" not in response.headers


def test_wrong_extension_is_404(client: httpx.Client) -> None:
    put(client, IMG, "png")
    put(client, AUD, "wav")
    for path in (
        f"/media/{IMG}.jpg",
        f"/media/{IMG}.mp3",
        f"/media/{IMG}.PNG",
        f"/media/{AUD}.mp3",  # stored as wav
        f"/media/{AUD}.png",
    ):
        assert_media_not_found(client.get(path))
    assert client.get(f"/media/{AUD}.wav").status_code == 200


def test_prefix_must_fit_the_extension(client: httpx.Client) -> None:
    # An item stored under an id whose prefix does not fit its type is never served.
    put(client, "vid_mismatched0000000000000", "png")
    assert_media_not_found(client.get("/media/vid_mismatched0000000000000.png"))
    assert_media_not_found(client.get("/media/vid_mismatched0000000000000.mp4"))


@pytest.mark.parametrize(
    "path",
    [
        f"/media/{IMG}.png",
        "/media/img_x.png",
        "/media/aud_nothing.mp3",
        "/media/vid_nothing.mp4",
        "/media/xyz_0123.png",
    ],
)
def test_unknown_media_is_404(client: httpx.Client, path: str) -> None:
    assert_media_not_found(client.get(path))


@pytest.mark.parametrize(
    "path",
    [
        "/media/..%2F..%2Fetc%2Fpasswd.png",
        "/media/..%2f..%2fetc%2fpasswd.png",
        "/media/img_..%2F..%2Fsecret.png",
        "/media/img_x.png.png",
        f"/media/{IMG}.png.png",
        "/media/%2e%2e.png",
    ],
)
def test_path_traversal_attempts_are_media_not_found(client: httpx.Client, path: str) -> None:
    put(client, IMG, "png")
    response = client.get(path)
    assert_media_not_found(response)
    assert DATA not in response.content


def test_media_expire_after_24_virtual_hours(client: httpx.Client) -> None:
    put(client, IMG, "png")
    put(client, "aud_preview000000000000000000", "mp3", expires=False)  # a voice preview
    advance(client, 86399)
    assert client.get(f"/media/{IMG}.png").status_code == 200
    advance(client, 1)
    assert client.get("/_mockair/clock").json()["now"] == EPOCH + 86400
    assert_media_not_found(client.get(f"/media/{IMG}.png"))
    advance(client, 86400 * 10)
    assert client.get("/media/aud_preview000000000000000000.mp3").status_code == 200


def test_expiry_with_one_advance(client: httpx.Client) -> None:
    put(client, VID, "mp4")
    advance(client, 86400)
    assert_media_not_found(client.get(f"/media/{VID}.mp4"))
    assert VID not in state_of(client).media


def test_expiry_counts_from_creation(client: httpx.Client) -> None:
    advance(client, 1000)
    put(client, IMG, "png")  # created at EPOCH + 1000
    advance(client, 86399)
    assert client.get(f"/media/{IMG}.png").status_code == 200
    advance(client, 1)
    assert_media_not_found(client.get(f"/media/{IMG}.png"))


def big(n: int) -> str:
    return f"img_{n:024x}"


def test_lru_eviction_by_byte_budget(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    client = make_client(settings_factory(media_max_mb=1))
    blob = b"\x89PNG" + b"x" * (400 * KIB - 4)
    put(client, big(1), "png", blob)
    put(client, big(2), "png", blob)
    assert client.get(f"/media/{big(1)}.png").status_code == 200
    assert client.get(f"/media/{big(2)}.png").status_code == 200
    put(client, big(3), "png", blob)  # 1200 KiB > 1 MiB: the oldest goes
    assert_media_not_found(client.get(f"/media/{big(1)}.png"))
    assert client.get(f"/media/{big(2)}.png").content == blob
    assert client.get(f"/media/{big(3)}.png").content == blob
    assert state_of(client).media.total_bytes == 800 * KIB


def test_lru_eviction_spares_recently_read_items(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    client = make_client(settings_factory(media_max_mb=1))
    blob = b"y" * (400 * KIB)
    put(client, big(1), "png", blob)
    put(client, big(2), "png", blob)
    assert client.get(f"/media/{big(1)}.png").status_code == 200  # 1 is now the most recent
    put(client, big(3), "png", blob)
    assert_media_not_found(client.get(f"/media/{big(2)}.png"))
    assert client.get(f"/media/{big(1)}.png").status_code == 200
    assert client.get(f"/media/{big(3)}.png").status_code == 200


def test_lazy_item_is_rendered_once_on_first_get(client: httpx.Client) -> None:
    calls: list[int] = []

    def render() -> bytes:
        calls.append(1)
        return DATA

    put(client, AUD, "wav", None, render=render)
    assert calls == []
    first = client.get(f"/media/{AUD}.wav")
    assert first.status_code == 200
    assert first.content == DATA
    assert first.headers["content-length"] == str(len(DATA))
    assert first.headers["content-type"] == "audio/wav"
    assert calls == [1]
    again = client.get(f"/media/{AUD}.wav")
    ranged = client.get(f"/media/{AUD}.wav", headers={"range": "bytes=0-9"})
    head = client.head(f"/media/{AUD}.wav")
    assert again.content == DATA
    assert ranged.status_code == 206
    assert ranged.content == DATA[:10]
    assert head.headers["content-length"] == str(len(DATA))
    assert calls == [1]


def test_lazy_item_not_rendered_by_a_wrong_extension(client: httpx.Client) -> None:
    calls: list[int] = []

    def render() -> bytes:
        calls.append(1)
        return DATA

    put(client, IMG, "png", None, render=render)
    assert_media_not_found(client.get(f"/media/{IMG}.mp3"))
    assert calls == []


def test_lazy_render_counts_towards_the_budget(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    client = make_client(settings_factory(media_max_mb=1))
    blob = b"z" * (400 * KIB)
    put(client, big(1), "png", blob)
    put(client, big(2), "png", blob)
    put(client, big(3), "png", None, render=lambda: blob)  # nothing counted until rendered
    assert client.get(f"/media/{big(1)}.png").status_code == 200
    assert client.get(f"/media/{big(3)}.png").content == blob  # rendering evicts the LRU (2)
    assert_media_not_found(client.get(f"/media/{big(2)}.png"))
    assert client.get(f"/media/{big(1)}.png").status_code == 200


def test_media_is_not_journaled_as_an_error_when_served(client: httpx.Client) -> None:
    put(client, IMG, "png")
    client.get(f"/media/{IMG}.png")
    client.get(f"/media/{VID}.mp4")
    entries = client.get("/_mockair/requests", params={"path": "/media/*"}).json()["requests"]
    assert [(e["path"], e["status"], e["error_code"]) for e in entries] == [
        (f"/media/{IMG}.png", 200, None),
        (f"/media/{VID}.mp4", 404, "media_not_found"),
    ]
    assert entries[0]["response"]["content_type"] == "image/png"
    assert entries[0]["response"]["body"] is None  # binary bodies are not captured
    assert entries[0]["response"]["size"] == len(DATA)
