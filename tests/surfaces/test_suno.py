"""Legacy suno (CONTRACT §3.12.6) on the task engine (§3.9.3), over both transports.

POST /suno and /v1/suno (key optional) make two clips whose ids are RFC 4122 version-4 UUIDs
built from the §2.7 hash (kind ``clip``); GET /suno/{uuid} says ``generating`` until the task
completes, then ``finished`` with a cover PNG, 10 s of MP3 music and an MP4 that all download.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import mutagen.mp3
import pytest
from PIL import Image

from mockair import Settings
from tests.conftest import Clients
from tests.helpers import assert_error
from tests.synth.test_audio import assert_mp3, mp3_meta
from tests.synth.test_video import mp4_facts

KEY = "sk-air-suno-test"
AUTH = {"authorization": f"Bearer {KEY}"}
DAY = 86400
CLIP_KEYS = ["status", "image_url", "audio_url", "video_url"]
GENERATING = {"status": "generating", "image_url": None, "audio_url": None, "video_url": None}


def clip_uuid(scope: str, n: int, server_seed: int = 0) -> str:
    """§2.7: a version-4 UUID from the first 32 hex of sha256(seed|scope|clip|n)."""
    digits = list(hashlib.sha256(f"{server_seed}|{scope}|clip|{n}".encode()).hexdigest()[:32])
    digits[12] = "4"
    digits[16] = "89ab"[int(digits[16], 16) & 3]
    return str(uuid.UUID("".join(digits)))


def local(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def advance(client: httpx.Client, seconds: float) -> None:
    assert client.post("/_mockair/clock", json={"advance": seconds}).status_code == 200


def suno(
    client: httpx.Client, path: str = "/suno", headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    return client.post(path, json=body, headers=headers or {})


def clips(client: httpx.Client, **body: Any) -> list[str]:
    response = suno(client, **body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert list(payload) == ["status", "clips"]
    assert payload["status"] == "success"
    return payload["clips"]  # type: ignore[no-any-return]


def clip(
    client: httpx.Client, clip_id: str, path: str = "/suno", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = client.get(f"{path}/{clip_id}", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == CLIP_KEYS
    return body  # type: ignore[no-any-return]


@pytest.fixture
def asgi(settings_factory: Callable[..., Settings]) -> Iterator[httpx.Client]:
    """One in-process client, for the long tables of cases."""
    clients = Clients("asgi")
    yield clients(settings_factory())
    clients.close()


# -- create -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/suno", "/v1/suno"])
def test_create_two_clips_without_a_key(client: httpx.Client, path: str) -> None:
    response = suno(client, path, prompt="a song about the sea")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "status": "success",
        "clips": [clip_uuid("anonymous", 1), clip_uuid("anonymous", 2)],
    }
    assert response.content.startswith(b'{"status":"success","clips":["')


def test_clip_ids_are_rfc4122_v4(client: httpx.Client) -> None:
    ids = clips(client, prompt="x") + clips(client, prompt="y")
    assert len(set(ids)) == 4
    for clip_id in ids:
        parsed = uuid.UUID(clip_id)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == clip_id  # lower-case, canonical 8-4-4-4-12
    assert ids == [clip_uuid("anonymous", n) for n in range(1, 5)]


def test_create_with_a_key(client: httpx.Client) -> None:
    response = suno(client, "/v1/suno", AUTH, prompt="a song")
    assert response.status_code == 200, response.text
    assert response.json()["clips"] == [clip_uuid(KEY, 1), clip_uuid(KEY, 2)]
    assert response.headers["x-cost-cents"] == "0.0000"  # chirp models cost 0 per generation


def test_ids_use_the_server_seed(make_client: Clients, settings_factory: Callable) -> None:
    client = make_client(settings_factory(seed=5))
    assert clips(client, prompt="x") == [clip_uuid("anonymous", n, 5) for n in (1, 2)]


# -- lifecycle ----------------------------------------------------------------------------------


def test_generating_then_finished_with_real_media(client: httpx.Client) -> None:
    ids = clips(client, prompt="a song about the sea", custom="true", style="sea shanty")
    for clip_id in ids:
        assert clip(client, clip_id) == GENERATING
    advance(client, 1)
    assert clip(client, ids[0]) == GENERATING
    advance(client, 4.9)
    assert clip(client, ids[1]) == GENERATING
    advance(client, 0.1)  # t0 + 6: completed
    finished = [clip(client, clip_id) for clip_id in ids]
    audio_bytes = []
    for body in finished:
        assert body["status"] == "finished"
        assert re.fullmatch(r"https?://[^/]+/media/img_[0-9a-f]{24}\.png", body["image_url"])
        assert re.fullmatch(r"https?://[^/]+/media/aud_[0-9a-f]{24}\.mp3", body["audio_url"])
        assert re.fullmatch(r"https?://[^/]+/media/vid_[0-9a-f]{24}\.mp4", body["video_url"])
        assert body["image_url"].startswith(str(client.base_url).rstrip("/"))
        image = client.get(local(body["image_url"]))
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(image.content)) as png:
            assert png.format == "PNG"
            assert png.text.get("Software") == "mockair"
        song = client.get(local(body["audio_url"]))
        assert song.status_code == 200
        assert song.headers["content-type"] == "audio/mpeg"
        assert_mp3(song.content)
        assert mutagen.mp3.MP3(io.BytesIO(song.content)).info.length == pytest.approx(10, abs=0.1)
        meta = mp3_meta(song.content)
        assert meta["kind"] == "music"
        assert "a song about the sea" in meta["prompt"]
        assert "sea shanty" in meta["prompt"]
        audio_bytes.append(song.content)
    # the clip index is part of the seed
    assert audio_bytes[0] != audio_bytes[1]
    assert len({b["image_url"] for b in finished} | {b["audio_url"] for b in finished}) == 4


def test_the_video_downloads(client: httpx.Client) -> None:
    clip_id = clips(client, prompt="a short tune")[0]
    advance(client, 6)
    body = clip(client, clip_id)
    video = client.get(local(body["video_url"]))
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    facts = mp4_facts(video.content)
    assert facts.seconds == pytest.approx(10, abs=1e-3)
    assert facts.sample_entry == b"avc1"
    assert facts.video_tracks == 1


@pytest.mark.parametrize("path", ["/suno", "/v1/suno"])
def test_both_get_paths(client: httpx.Client, path: str) -> None:
    clip_id = clips(client, prompt="p")[1]
    assert clip(client, clip_id, path) == GENERATING
    advance(client, 6)
    assert clip(client, clip_id, path)["status"] == "finished"


def test_task_seconds_zero_finishes_at_once(
    make_client: Clients, settings_factory: Callable
) -> None:
    client = make_client(settings_factory(task_seconds=0))
    clip_id = clips(client, prompt="p")[0]
    assert clip(client, clip_id)["status"] == "finished"


def test_task_seconds_ten(make_client: Clients, settings_factory: Callable) -> None:
    client = make_client(settings_factory(task_seconds=10))
    clip_id = clips(client, prompt="p")[0]
    advance(client, 10.5)
    assert clip(client, clip_id) == GENERATING
    advance(client, 0.5)
    assert clip(client, clip_id)["status"] == "finished"


# the transcription upload is never closed by mockair (tests/surfaces/test_dubbing.py checks it)
def test_the_mp3_is_music_that_transcribes_to_nothing(client: httpx.Client) -> None:
    clip_id = clips(client, prompt="instrumental groove", instrumental="true")[0]
    advance(client, 6)
    song = client.get(local(clip(client, clip_id)["audio_url"])).content
    response = client.post(
        "/v1/audio/transcriptions",
        files={"file": ("song.mp3", song, "audio/mpeg"), "model": (None, "whisper-1")},
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    assert response.json()["text"] == ""


# -- not found --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "clip_id", ["00000000-0000-4000-8000-000000000000", "nope", "vt_" + "0" * 24]
)
def test_unknown_clip(asgi: httpx.Client, clip_id: str) -> None:
    for path in ("/suno", "/v1/suno"):
        assert_error(asgi.get(f"{path}/{clip_id}"), 404, "clip_not_found", "uuid")


def test_other_scopes_cannot_see_a_clip(client: httpx.Client) -> None:
    keyed = suno(client, "/suno", AUTH, prompt="mine").json()["clips"][0]
    anonymous = clips(client, prompt="everyone's")[0]
    assert_error(client.get(f"/suno/{keyed}"), 404, "clip_not_found", "uuid")
    other = {"authorization": "Bearer sk-air-suno-other"}
    assert_error(client.get(f"/suno/{keyed}", headers=other), 404, "clip_not_found", "uuid")
    assert_error(client.get(f"/suno/{anonymous}", headers=AUTH), 404, "clip_not_found", "uuid")
    assert clip(client, keyed, headers=AUTH) == GENERATING
    assert clip(client, anonymous) == GENERATING


def test_a_video_task_id_is_not_a_clip(asgi: httpx.Client) -> None:
    task = asgi.post(
        "/v1/video/generations", json={"model": "wan-2.6", "prompt": "p"}, headers=AUTH
    ).json()
    assert_error(asgi.get(f"/suno/{task['task_id']}", headers=AUTH), 404, "clip_not_found", "uuid")


def test_clips_expire_after_24_hours(client: httpx.Client) -> None:
    clip_id = clips(client, prompt="p")[0]
    advance(client, 6)
    body = clip(client, clip_id)
    assert client.get(local(body["audio_url"])).status_code == 200
    advance(client, DAY - 7)
    assert clip(client, clip_id)["status"] == "finished"
    advance(client, 1)
    assert_error(client.get(f"/suno/{clip_id}"), 404, "clip_not_found", "uuid")
    assert_error(client.get(local(body["audio_url"])), 404, "media_not_found", "media_id")


# -- booleans, custom mode and prompt limits ----------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"custom": "true", "style": "jazz"},
        {"custom": True, "style": "jazz"},
        {"custom": "false"},
        {"custom": False},
        {"instrumental": "true"},
        {"instrumental": "false"},
        {"instrumental": True},
        {"custom": "false", "style": "ignored without custom"},
        {"model": "chirp-v3-0"},
        {"model": "chirp-v2-xxl-alpha", "custom": "true", "style": "folk"},
    ],
)
def test_accepted_bodies(asgi: httpx.Client, body: dict[str, Any]) -> None:
    assert len(clips(asgi, prompt="a tune", **body)) == 2


def test_string_and_real_booleans_are_the_same(
    make_client: Clients, settings_factory: Callable
) -> None:
    songs = []
    for custom, instrumental in (("true", "true"), (True, True)):
        client = make_client(settings_factory())
        clip_id = clips(
            client, prompt="p", custom=custom, style="blues", instrumental=instrumental
        )[0]
        advance(client, 6)
        songs.append(client.get(local(clip(client, clip_id)["audio_url"])).content)
    assert songs[0] == songs[1]


def test_custom_requires_a_style(asgi: httpx.Client) -> None:
    assert_error(suno(asgi, prompt="p", custom="true"), 400, "missing_field", "style")
    assert_error(suno(asgi, prompt="p", custom=True), 400, "missing_field", "style")
    assert_error(suno(asgi, prompt="p", custom=True, style=None), 400, "missing_field", "style")


@pytest.mark.parametrize(
    ("body", "length", "ok"),
    [
        ({}, 200, True),
        ({}, 201, False),
        ({"custom": "false"}, 201, False),
        ({"model": "chirp-v3-0"}, 201, False),
        ({"custom": "true", "style": "s"}, 3000, True),
        ({"custom": "true", "style": "s"}, 3001, False),
        ({"custom": True, "style": "s", "model": "chirp-v3-5"}, 3000, True),
        ({"custom": "true", "style": "s", "model": "chirp-v3-0"}, 1250, True),
        ({"custom": "true", "style": "s", "model": "chirp-v3-0"}, 1251, False),
        ({"custom": "true", "style": "s", "model": "chirp-v2-xxl-alpha"}, 1250, True),
        ({"custom": "true", "style": "s", "model": "chirp-v2-xxl-alpha"}, 1251, False),
    ],
)
def test_prompt_limits(asgi: httpx.Client, body: dict[str, Any], length: int, ok: bool) -> None:
    response = suno(asgi, prompt="p" * length, **body)
    if ok:
        assert response.status_code == 200, response.text
    else:
        assert_error(response, 400, "invalid_value", "prompt")


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        ({"prompt": ""}, 400, "invalid_value", "prompt"),
        ({"prompt": None}, 400, "missing_field", "prompt"),
        ({}, 400, "missing_field", "prompt"),
        ({"prompt": 5}, 400, "invalid_type", "prompt"),
        ({"prompt": "p", "custom": "true", "style": ""}, 400, "invalid_value", "style"),
        ({"prompt": "p", "custom": "true", "style": "s" * 121}, 400, "invalid_value", "style"),
        ({"prompt": "p", "model": "gpt-99"}, 404, "model_not_found", "model"),
        ({"prompt": "p", "model": "gpt-4o-mini"}, 400, "model_not_supported", "model"),
        ({"prompt": "p", "model": "suno-v5"}, 400, "model_not_supported", "model"),
        ({"prompt": "p", "tags": "rock"}, 400, "unknown_field", "tags"),
    ],
)
def test_bad_input(
    asgi: httpx.Client, body: dict[str, Any], status: int, code: str, param: str
) -> None:
    response = asgi.post("/suno", json=body)
    kind = "invalid_request" if code == "model_not_found" else None
    assert_error(response, status, code, param, type=kind)


def test_style_at_the_limit(asgi: httpx.Client) -> None:
    assert len(clips(asgi, prompt="p", custom="true", style="s" * 120)) == 2


def test_invalid_json(asgi: httpx.Client) -> None:
    response = asgi.post("/suno", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert_error(response, 400, "invalid_json")


def test_an_invalid_key_is_still_refused(asgi: httpx.Client) -> None:
    response = suno(asgi, headers={"authorization": "Bearer not-a-key"}, prompt="p")
    assert_error(response, 401, "invalid_api_key")


# -- determinism --------------------------------------------------------------------------------


def test_same_requests_give_the_same_clips_and_bytes(
    make_client: Clients, settings_factory: Callable
) -> None:
    results = []
    for _ in range(2):
        client = make_client(settings_factory())
        ids = clips(client, prompt="same song", custom="true", style="pop")
        advance(client, 6)
        body = clip(client, ids[0])
        results.append(
            (
                ids,
                [local(body[k]) for k in ("image_url", "audio_url")],
                client.get(local(body["audio_url"])).content,
                client.get(local(body["image_url"])).content,
            )
        )
    assert results[0] == results[1]
