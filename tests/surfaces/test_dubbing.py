"""Dubbing jobs (CONTRACT §3.7.7, §7 #19) on the task engine (§3.9.3), over both transports.

The source is real mockair speech made with POST /v1/audio/speech, or a ``source_url`` (never
fetched). Jobs are watched while the frozen virtual clock is advanced; the dubbed track is
decoded, its ID3 metadata read, and it is transcribed back with POST /v1/audio/transcriptions.
"""

from __future__ import annotations

import gc
import hashlib
import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mockair import Settings
from tests.conftest import EPOCH, Clients
from tests.helpers import assert_error
from tests.synth.test_audio import assert_mp3, mp3_duration, mp3_meta

KEY = "sk-air-dub-test"
OTHER = "sk-air-dub-other"
AUTH = {"authorization": f"Bearer {KEY}"}
MODEL = "elevenlabs-dubbing"  # 50 cents per minute
DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"
TEXT = "Hello world. How are you today?"
DAY = 86400
JOB_KEYS = [
    "dubbing_id",
    "name",
    "status",
    "source_lang",
    "target_languages",
    "language_pairs",
    "source_duration",
    "preview_url",
    "error",
    "created",
    "expires_at",
]


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def hex24(scope: str, kind: str, n: int, server_seed: int = 0) -> str:
    return hashlib.sha256(f"{server_seed}|{scope}|{kind}|{n}".encode()).hexdigest()[:24]


def local(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def advance(client: httpx.Client, seconds: float) -> None:
    assert client.post("/_mockair/clock", json={"advance": seconds}).status_code == 200


def speech(
    client: httpx.Client, text: str = TEXT, voice: str = DEFAULT_VOICE, fmt: str = "mp3"
) -> bytes:
    response = client.post(
        "/v1/audio/speech",
        json={
            "model": "elevenlabs-multilingual-v2",
            "input": text,
            "voice": voice,
            "response_format": fmt,
        },
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    return response.content


def transcribe(client: httpx.Client, data: bytes, name: str = "audio.mp3") -> dict[str, Any]:
    response = client.post(
        "/v1/audio/transcriptions",
        files={"file": (name, data, "audio/mpeg"), "model": (None, "whisper-1")},
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def dub(
    client: httpx.Client,
    data: bytes | None = None,
    *,
    key: str = KEY,
    filename: str = "speech.mp3",
    **fields: str,
) -> httpx.Response:
    parts: dict[str, Any] = {"model": (None, MODEL), "target_lang": (None, "de")}
    parts.update({name: (None, value) for name, value in fields.items()})
    if data is not None:
        parts["file"] = (filename, data, "audio/mpeg")
    return client.post("/v1/audio/dubbing", files=parts, headers=bearer(key))


def dubbed(client: httpx.Client, data: bytes | None = None, **fields: Any) -> dict[str, Any]:
    response = dub(client, data, **fields)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def job(client: httpx.Client, dubbing_id: str, key: str = KEY) -> dict[str, Any]:
    response = client.get(f"/v1/audio/dubbing/{dubbing_id}", headers=bearer(key))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == JOB_KEYS
    return body  # type: ignore[no-any-return]


def audio(client: httpx.Client, dubbing_id: str, lang: str = "de") -> httpx.Response:
    return client.get(f"/v1/audio/dubbing/{dubbing_id}/audio/{lang}", headers=AUTH)


@pytest.fixture
def asgi(settings_factory: Callable[..., Settings]) -> Iterator[httpx.Client]:
    """One in-process client, for the long tables of cases."""
    clients = Clients("asgi")
    yield clients(settings_factory())
    clients.close()


# -- create, poll, download ---------------------------------------------------------------------


def test_file_upload_end_to_end(client: httpx.Client) -> None:
    source = speech(client)
    source_text = transcribe(client, source)["text"]
    assert source_text == TEXT
    response = dub(client, source)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    dubbing_id = "dub_" + hex24(KEY, "dub_", 1)
    assert list(body) == ["dubbing_id", "status", "expected_duration_sec"]
    assert body == {"dubbing_id": dubbing_id, "status": "queued", "expected_duration_sec": 6.0}
    # billed per minute of source
    first = job(client, dubbing_id)
    cost = float(response.headers["x-cost-cents"])
    assert re.fullmatch(r"\d+\.\d{4}", response.headers["x-cost-cents"])
    assert cost == pytest.approx(first["source_duration"] / 60 * 50, abs=1e-3)
    assert first["source_duration"] == pytest.approx(mp3_duration(source), abs=0.03)
    assert first == {
        "dubbing_id": dubbing_id,
        "name": "speech.mp3",
        "status": "queued",
        "source_lang": "en",  # auto -> the metadata language
        "target_languages": ["de"],
        "language_pairs": [{"source": "en", "target": "de"}],
        "source_duration": first["source_duration"],
        "preview_url": None,
        "error": None,
        "created": EPOCH,
        "expires_at": EPOCH + DAY,
    }
    assert_error(audio(client, dubbing_id), 404, "dubbing_not_ready", "dubbing_id")
    advance(client, 1)
    processing = job(client, dubbing_id)
    assert (processing["status"], processing["preview_url"]) == ("processing", None)
    assert_error(audio(client, dubbing_id), 404, "dubbing_not_ready", "dubbing_id")
    advance(client, 4.5)
    assert job(client, dubbing_id)["status"] == "processing"
    assert_error(audio(client, dubbing_id), 404, "dubbing_not_ready", "dubbing_id")
    advance(client, 0.5)
    done = job(client, dubbing_id)
    assert done == {**first, "status": "completed", "preview_url": done["preview_url"]}
    assert re.fullmatch(r"https?://[^/]+/media/aud_[0-9a-f]{24}\.mp3", done["preview_url"])
    preview = client.get(local(done["preview_url"]))
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "audio/mpeg"
    track = audio(client, dubbing_id)
    assert track.status_code == 200, track.text
    assert track.headers["content-type"] == "audio/mpeg"
    assert int(track.headers["content-length"]) == len(track.content)
    assert_mp3(track.content)
    assert transcribe(client, track.content)["text"] == f"[de] {source_text}"
    meta = mp3_meta(track.content)
    assert meta["kind"] == "dubbing"
    assert meta["text"] == f"[de] {TEXT}"
    assert meta["voice"] == DEFAULT_VOICE
    assert meta["language"] == "de"
    assert meta["model"] == MODEL
    assert audio(client, dubbing_id).content == track.content  # stable


def test_uploaded_files_are_closed(asgi: httpx.Client) -> None:
    source = speech(asgi)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        response = dub(asgi, source)
        gc.collect()
    assert response.status_code == 200, response.text
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


def test_the_voice_of_the_source_is_kept(client: httpx.Client) -> None:
    source = speech(client, "Good morning.", voice="alloy")
    dubbing_id = dubbed(client, source, target_lang="fr")["dubbing_id"]
    advance(client, 6)
    track = audio(client, dubbing_id, "fr")
    assert track.status_code == 200, track.text
    meta = mp3_meta(track.content)
    assert (meta["voice"], meta["text"], meta["language"]) == ("alloy", "[fr] Good morning.", "fr")


def test_a_wav_source(asgi: httpx.Client) -> None:
    source = speech(asgi, "Short and sweet.", fmt="wav")
    assert source[:4] == b"RIFF"
    dubbing_id = dubbed(asgi, source, filename="clip.wav", target_lang="es")["dubbing_id"]
    assert job(asgi, dubbing_id)["name"] == "clip.wav"
    advance(asgi, 6)
    track = audio(asgi, dubbing_id, "es")
    assert track.status_code == 200
    assert transcribe(asgi, track.content)["text"] == "[es] Short and sweet."


def test_source_url_end_to_end(client: httpx.Client) -> None:
    response = dub(client, source_url="https://example.com/talks/interview.mp3", target_lang="fr")
    assert response.status_code == 200, response.text
    assert response.headers["x-cost-cents"] == "8.3333"  # 10 s / 60 x 50
    body = response.json()
    assert body["status"] == "queued"
    assert body["expected_duration_sec"] == 6.0
    first = job(client, body["dubbing_id"])
    assert first["name"] == "interview.mp3"
    assert first["source_duration"] == 10.0
    assert first["source_lang"] == "en"
    assert first["target_languages"] == ["fr"]
    assert first["language_pairs"] == [{"source": "en", "target": "fr"}]
    assert first["preview_url"] is None
    advance(client, 6)
    assert job(client, body["dubbing_id"])["status"] == "completed"
    track = audio(client, body["dubbing_id"], "fr")
    assert track.status_code == 200
    text = transcribe(client, track.content)["text"]
    assert text.startswith("[fr] ")
    assert len(text) > len("[fr] ")


def test_explicit_name_and_source_lang(client: httpx.Client) -> None:
    dubbing_id = dubbed(
        client,
        speech(client),
        name="Interview take 2",
        source_lang="en",
        target_lang="ja",
        num_speakers="2",
        watermark="true",
        drop_background_audio="false",
        mode="automatic",
    )["dubbing_id"]
    body = job(client, dubbing_id)
    assert body["name"] == "Interview take 2"
    assert body["language_pairs"] == [{"source": "en", "target": "ja"}]


def test_ids_follow_the_sequence(asgi: httpx.Client) -> None:
    ids = [dubbed(asgi, source_url=f"https://example.com/{n}.mp3")["dubbing_id"] for n in range(3)]
    assert ids == ["dub_" + hex24(KEY, "dub_", n) for n in range(1, 4)]


def test_task_seconds_change_the_expected_duration(
    make_client: Clients, settings_factory: Callable
) -> None:
    slow = make_client(settings_factory(task_seconds=10))
    body = dubbed(slow, source_url="https://example.com/a.mp3")
    assert body["expected_duration_sec"] == 11.0
    advance(slow, 10.5)
    assert job(slow, body["dubbing_id"])["status"] == "processing"
    advance(slow, 0.5)
    assert job(slow, body["dubbing_id"])["status"] == "completed"
    instant = make_client(settings_factory(task_seconds=0))
    body = dubbed(instant, source_url="https://example.com/a.mp3")
    assert body == {**body, "status": "queued", "expected_duration_sec": 0.0}
    assert job(instant, body["dubbing_id"])["status"] == "completed"
    assert audio(instant, body["dubbing_id"]).status_code == 200


def test_expires_after_24_hours(client: httpx.Client) -> None:
    dubbing_id = dubbed(client, source_url="https://example.com/a.mp3")["dubbing_id"]
    advance(client, 6)
    preview = job(client, dubbing_id)["preview_url"]
    assert audio(client, dubbing_id).status_code == 200
    advance(client, DAY - 7)
    assert job(client, dubbing_id)["status"] == "completed"
    advance(client, 1)
    expired = job(client, dubbing_id)
    assert (expired["status"], expired["preview_url"]) == ("expired", None)
    assert_error(audio(client, dubbing_id), 404, "dubbing_not_ready", "dubbing_id")
    assert_error(client.get(local(preview)), 404, "media_not_found", "media_id")


def test_dubbing_does_not_use_video_slots(client: httpx.Client) -> None:
    for n in range(5):
        dubbed(client, source_url=f"https://example.com/{n}.mp3")
    video = client.post(
        "/v1/video/generations", json={"model": "wan-2.6", "prompt": "p"}, headers=AUTH
    )
    assert video.status_code == 200, video.text


# -- not found -------------------------------------------------------------------------------------


def test_language_not_found(client: httpx.Client) -> None:
    dubbing_id = dubbed(client, source_url="https://example.com/a.mp3")["dubbing_id"]
    advance(client, 6)
    for lang in ("fr", "en", "DE", "xx"):
        assert_error(audio(client, dubbing_id, lang), 404, "language_not_found", "lang")
    assert audio(client, dubbing_id, "de").status_code == 200


@pytest.mark.parametrize("dubbing_id", ["dub_" + "0" * 24, "nope", "vt_" + "1" * 24])
def test_unknown_dubbing(asgi: httpx.Client, dubbing_id: str) -> None:
    assert_error(
        asgi.get(f"/v1/audio/dubbing/{dubbing_id}", headers=AUTH),
        404,
        "dubbing_not_found",
        "dubbing_id",
    )
    assert_error(audio(asgi, dubbing_id), 404, "dubbing_not_found", "dubbing_id")


def test_a_video_task_id_is_not_a_dubbing(asgi: httpx.Client) -> None:
    task = asgi.post(
        "/v1/video/generations", json={"model": "wan-2.6", "prompt": "p"}, headers=AUTH
    ).json()
    assert_error(
        asgi.get(f"/v1/audio/dubbing/{task['task_id']}", headers=AUTH),
        404,
        "dubbing_not_found",
        "dubbing_id",
    )


def test_another_key_cannot_see_the_job(client: httpx.Client) -> None:
    dubbing_id = dubbed(client, source_url="https://example.com/a.mp3")["dubbing_id"]
    advance(client, 6)
    assert_error(
        client.get(f"/v1/audio/dubbing/{dubbing_id}", headers=bearer(OTHER)),
        404,
        "dubbing_not_found",
        "dubbing_id",
    )
    assert_error(
        client.get(f"/v1/audio/dubbing/{dubbing_id}/audio/de", headers=bearer(OTHER)),
        404,
        "dubbing_not_found",
        "dubbing_id",
    )
    assert job(client, dubbing_id)["status"] == "completed"


def test_auth_is_required(asgi: httpx.Client) -> None:
    dubbing_id = dubbed(asgi, source_url="https://example.com/a.mp3")["dubbing_id"]
    no_key = asgi.post(
        "/v1/audio/dubbing",
        files={"model": (None, MODEL), "target_lang": (None, "de"), "source_url": (None, "x")},
    )
    assert_error(no_key, 401, "missing_api_key")
    assert_error(asgi.get(f"/v1/audio/dubbing/{dubbing_id}"), 401, "missing_api_key")


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "status", "code", "param"),
    [
        ({"target_lang": "xx"}, 400, "invalid_value", "target_lang"),
        ({"target_lang": "sv"}, 400, "invalid_value", "target_lang"),
        ({"model": "gpt-99"}, 404, "model_not_found", "model"),
        ({"model": "gpt-4o-mini"}, 400, "model_not_supported", "model"),
        ({"model": "elevenlabs-multilingual-v2"}, 400, "model_not_supported", "model"),
        ({"model": "wan-2.6"}, 400, "model_not_supported", "model"),
        ({"num_speakers": "33"}, 400, "invalid_value", "num_speakers"),
        ({"num_speakers": "two"}, 400, "invalid_type", "num_speakers"),
        ({"mode": "auto"}, 400, "invalid_value", "mode"),
        ({"name": "n" * 201}, 400, "invalid_value", "name"),
        ({"colour": "red"}, 400, "unknown_field", "colour"),
    ],
)
def test_bad_fields(
    asgi: httpx.Client, fields: dict[str, str], status: int, code: str, param: str
) -> None:
    response = dub(asgi, source_url="https://example.com/a.mp3", **fields)
    kind = "invalid_request" if code == "model_not_found" else None
    assert_error(response, status, code, param, type=kind)


def test_missing_file_and_source_url(asgi: httpx.Client) -> None:
    assert_error(dub(asgi), 400, "missing_field", "file")


@pytest.mark.parametrize("missing", ["model", "target_lang"])
def test_missing_required_fields(asgi: httpx.Client, missing: str) -> None:
    parts = {
        "model": (None, MODEL),
        "target_lang": (None, "de"),
        "source_url": (None, "https://example.com/a.mp3"),
    }
    del parts[missing]
    response = asgi.post("/v1/audio/dubbing", files=parts, headers=AUTH)
    assert_error(response, 400, "missing_field", missing)


def test_a_file_that_is_not_audio(asgi: httpx.Client) -> None:
    assert_error(dub(asgi, b"this is not audio at all"), 400, "invalid_value", "file")


def test_a_urlencoded_body_is_refused(asgi: httpx.Client) -> None:
    response = asgi.post(
        "/v1/audio/dubbing",
        data={"model": MODEL, "target_lang": "de", "source_url": "https://example.com/a.mp3"},
        headers=AUTH,
    )
    assert_error(response, 400, "invalid_content_type")


def test_a_json_body_is_refused(asgi: httpx.Client) -> None:
    response = asgi.post(
        "/v1/audio/dubbing",
        json={"model": MODEL, "target_lang": "de", "source_url": "https://example.com/a.mp3"},
        headers=AUTH,
    )
    assert_error(response, 400, "invalid_content_type")


# -- determinism ------------------------------------------------------------------------------


def test_same_requests_give_the_same_ids_and_bytes(
    make_client: Clients, settings_factory: Callable
) -> None:
    results = []
    for _ in range(2):
        client = make_client(settings_factory())
        source = speech(client, "Same words again.")
        ids = [dubbed(client, source)["dubbing_id"], dubbed(client, source_url="https://x/y")]
        advance(client, 6)
        results.append(
            (ids[0], audio(client, ids[0]).content, local(job(client, ids[0])["preview_url"]))
        )
    assert results[0] == results[1]
