"""GET /v1/audio/voices (CONTRACT §3.7.8), voice cloning (§3.8: consent text, clone, library,
PATCH, DELETE) and the clone upload limit (§6: 200 MiB in total, refused while streaming and never
buffered whole), over both transports; the 201 MiB uploads run against the live server.

Expected ids come from the §2.7 formula, previews from ``aud_`` + sha256(``preview|<id>``), the
catalogue from ``fixtures/voices.json`` and the consent text from ``fixtures/consent.txt``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from mockair import MockAir, Settings
from tests.conftest import Clients
from tests.helpers import assert_error
from tests.surfaces.test_audio import (
    AUTH,
    BOUNDARY,
    CHANGER,
    KEY,
    MIB,
    TTS,
    assert_raw_error,
    declared_too_large,
    multipart_stream,
    speech_bytes,
    transcribe,
    upload,
    vm_kib,
    wav_frequency,
)
from tests.synth.test_audio import assert_mp3, mp3_meta, parse_wav, sine_wav

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_VOICES = json.loads((ROOT / "fixtures/voices.json").read_text("utf-8"))["voices"]
CONSENT = (ROOT / "fixtures/consent.txt").read_text("utf-8").rstrip()
OTHER = {"authorization": "Bearer sk-air-voices-other"}
VOICE_KEYS = [
    "voice_id",
    "name",
    "category",
    "description",
    "preview_url",
    "language",
    "accent",
    "age",
    "gender",
    "use_case",
    "labels",
]
REQUIRED = [  # CONTRACT §3.7.8: id, name, category
    ("21m00Tcm4TlvDq8ikWAM", "Rachel", "premade"),
    ("alloy", "Alloy", "premade"),
    ("ash", "Ash", "premade"),
    ("coral", "Coral", "premade"),
    ("echo", "Echo", "premade"),
    ("fable", "Fable", "premade"),
    ("nova", "Nova", "premade"),
    ("onyx", "Onyx", "premade"),
    ("sage", "Sage", "premade"),
    ("shimmer", "Shimmer", "premade"),
    ("alex", "Alex", "legacy"),
    ("sophia", "Sophia", "legacy"),
]
GENDER_AND_BASE_HZ = [  # CONTRACT §3.7.8, in the same order
    ("female", 210),
    ("neutral", 180),
    ("male", 120),
    ("female", 220),
    ("male", 130),
    ("male", 150),
    ("female", 230),
    ("male", 100),
    ("female", 200),
    ("female", 240),
    ("male", 125),
    ("female", 215),
]


def base_of(client: httpx.Client) -> str:
    return str(client.base_url).rstrip("/")


def preview_id(voice_id: str) -> str:
    return "aud_" + hashlib.sha256(f"preview|{voice_id}".encode()).hexdigest()[:24]


def voice_hex(scope: str, n: int, server_seed: int = 0) -> str:
    return "voice_" + hashlib.sha256(f"{server_seed}|{scope}|voice_|{n}".encode()).hexdigest()[:24]


def consent_hash(client: httpx.Client) -> str:
    return str(client.get("/v1/voices/consent-text").json()["hash"])


def clone(
    client: httpx.Client,
    *,
    files: list[tuple[str, bytes]] | None = None,
    headers: dict[str, str] | None = None,
    **fields: str,
) -> httpx.Response:
    parts: list[tuple[str, Any]] = [(k, (None, v)) for k, v in fields.items()]
    for name, data in files if files is not None else [("files", sine_wav(1.0))]:
        parts.append((name, ("sample.wav", data, "audio/wav")))
    return client.post(
        "/v1/voices/clone", files=parts, headers=AUTH if headers is None else headers
    )


def voices(client: httpx.Client, headers: dict[str, str] = AUTH) -> list[dict[str, Any]]:
    response = client.get("/v1/audio/voices", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["voices"])


def library(client: httpx.Client, headers: dict[str, str] = AUTH) -> list[dict[str, Any]]:
    response = client.get("/v1/voices/library", headers=headers)
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["voices"]
    return list(response.json()["voices"])


# -- GET /v1/audio/voices ---------------------------------------------------------------------


def test_catalogue_is_the_fixture_in_order(client: httpx.Client) -> None:
    listed = voices(client)
    assert [(v["voice_id"], v["name"], v["category"]) for v in listed] == REQUIRED
    base = base_of(client)
    for voice, entry in zip(listed, FIXTURE_VOICES, strict=True):
        assert list(voice) == VOICE_KEYS
        expected = {k: v for k, v in entry.items() if k != "mockair"}
        expected["preview_url"] = f"{base}/media/{preview_id(entry['voice_id'])}.mp3"
        assert voice == expected
    assert listed[0]["preview_url"].endswith("/media/aud_d85277fa1422b15fde9c77d6.mp3")
    assert [(v["gender"], v["mockair"]["base_hz"]) for v in FIXTURE_VOICES] == GENDER_AND_BASE_HZ
    assert voices(client) == listed  # stable


def test_catalogue_needs_a_key(client: httpx.Client) -> None:
    assert_error(client.get("/v1/audio/voices"), 401, "missing_api_key", None)
    bad = client.get("/v1/audio/voices", headers={"authorization": "Bearer nope"})
    assert_error(bad, 401, "invalid_api_key", None)


def test_previews_play_and_never_expire(client: httpx.Client) -> None:
    listed = voices(client)
    base = base_of(client)
    first = {}
    for voice in listed:
        response = client.get(voice["preview_url"].removeprefix(base))
        assert response.status_code == 200, voice
        assert response.headers["content-type"] == "audio/mpeg"
        assert_mp3(response.content)
        meta = mp3_meta(response.content)
        assert meta["kind"] == "speech"
        assert meta["voice"] == voice["voice_id"]
        assert meta["text"] == f"Hello, I am {voice['name']}."
        text = transcribe(client, response.content).json()["text"]
        assert text == f"Hello, I am {voice['name']}."
        first[voice["voice_id"]] = response.content
    assert len(set(first.values())) == len(listed)  # each in its own voice
    advanced = client.post("/_mockair/clock", json={"advance": 3 * 86400})
    assert advanced.status_code == 200, advanced.text
    for voice in listed[:3]:
        again = client.get(voice["preview_url"].removeprefix(base))
        assert again.status_code == 200
        assert again.content == first[voice["voice_id"]]


# -- GET /v1/voices/consent-text --------------------------------------------------------------


def test_consent_text_and_hash(client: httpx.Client) -> None:
    response = client.get("/v1/voices/consent-text")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["text", "hash"]
    assert body["text"] == CONSENT
    assert body["hash"] == hashlib.sha256(CONSENT.encode("utf-8")).hexdigest()
    assert body == {
        "text": "I confirm that I own this voice, or that its owner has given explicit and "
        "documented consent to create a synthetic copy of it, and that I will not use the copy "
        "to deceive or impersonate anyone.",
        "hash": "f8334ad6cca188a444b52e4a56e11869d5ba05818976de5340fdfdbf65100bfc",
    }
    assert client.get("/v1/voices/consent-text", headers=AUTH).json() == body
    bad = client.get("/v1/voices/consent-text", headers={"authorization": "Bearer nope"})
    assert_error(bad, 401, "invalid_api_key", None)


def test_consent_hash_follows_the_current_text(
    make_client: Clients, settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    fixtures = tmp_path / "fixtures"
    shutil.copytree(ROOT / "fixtures", fixtures)
    (fixtures / "consent.txt").write_text("I agree to version one.  \n\n", "utf-8")
    client = make_client(settings_factory(fixtures_dir=fixtures))
    first = client.get("/v1/voices/consent-text").json()
    assert first == {
        "text": "I agree to version one.",
        "hash": hashlib.sha256(b"I agree to version one.").hexdigest(),
    }
    assert clone(client, name="One", consent_hash=first["hash"]).status_code == 200
    (fixtures / "consent.txt").write_text("I agree to version two.\n", "utf-8")
    second = client.get("/v1/voices/consent-text").json()
    assert second["hash"] == hashlib.sha256(b"I agree to version two.").hexdigest()
    stale = clone(client, name="Two", consent_hash=first["hash"])
    assert_error(stale, 400, "consent_stale", "consent_hash")
    assert clone(client, name="Two", consent_hash=second["hash"]).status_code == 200


# -- the clone lifecycle ----------------------------------------------------------------------


def test_clone_lifecycle(client: httpx.Client) -> None:
    sample = speech_bytes(client, "A sample of my voice.", response_format="pcm_24000")
    created = clone(
        client,
        files=[("files", sample), ("files", sine_wav(1.0))],
        name="Narrator Anna",
        consent_hash=consent_hash(client),
        description="Warm narrator",
        labels=json.dumps({"accent": "british", "age": "old"}),
        remove_background_noise="true",
    )
    assert created.status_code == 200, created.text
    voice_id = voice_hex(KEY, 1)
    assert list(created.json()) == ["voice_id", "name", "status", "created_at"]
    assert created.json() == {
        "voice_id": voice_id,
        "name": "Narrator Anna",
        "status": "active",
        "created_at": "2026-01-01T00:00:00Z",
    }
    assert "x-cost-cents" not in created.headers  # voices are never billed

    # the library and the catalogue
    entry = {
        "voice_id": voice_id,
        "provider_voice_id": voice_id,
        "name": "Narrator Anna",
        "description": "Warm narrator",
        "labels": {"accent": "british", "age": "old"},
        "created_at": "2026-01-01T00:00:00Z",
        "status": "active",
        "provider": "mockair",
        "last_error": None,
    }
    assert library(client) == [entry]
    assert [list(v) for v in library(client)] == [list(entry)]
    listed = voices(client)
    assert len(listed) == 13
    assert [v["voice_id"] for v in listed[:12]] == [r[0] for r in REQUIRED]
    mine = listed[12]
    assert list(mine) == VOICE_KEYS
    assert (mine["voice_id"], mine["name"], mine["category"]) == (
        voice_id,
        "Narrator Anna",
        "cloned",
    )
    assert mine["description"] == "Warm narrator"
    assert mine["labels"] == {"accent": "british", "age": "old"}

    # usable for speech and the voice changer at once
    spoken = speech_bytes(client, "Cloned voices speak.", voice=voice_id)
    assert mp3_meta(spoken)["voice"] == voice_id
    assert transcribe(client, spoken).json()["text"] == "Cloned voices speak."
    wav = speech_bytes(client, "Pitch", voice=voice_id, response_format="pcm_24000")
    assert 100 * 0.8 * 0.99 <= wav_frequency(wav) <= 260 * 1.2 * 1.01  # base 100-260 Hz
    changed = upload(
        client,
        "/v1/audio/voice-changer",
        sample,
        {"model": CHANGER, "voice": voice_id, "response_format": "pcm_24000"},
    )
    assert changed.status_code == 200, changed.text
    assert parse_wav(changed.content).meta["voice"] == voice_id
    assert parse_wav(changed.content).frames == parse_wav(sample).frames
    assert transcribe(client, changed.content).json()["text"] == "A sample of my voice."
    sdk_speech = client.post(
        "/v1/audio/speech",
        json={"model": TTS, "input": "Cloned voices speak.", "voice": {"id": voice_id}},
        headers=AUTH,
    )
    assert sdk_speech.content == spoken

    # invisible to another key
    assert library(client, OTHER) == []
    assert [v["voice_id"] for v in voices(client, OTHER)] == [r[0] for r in REQUIRED]
    foreign = client.post(
        "/v1/audio/speech", json={"model": TTS, "input": "x", "voice": voice_id}, headers=OTHER
    )
    assert_error(foreign, 404, "voice_not_found", "voice")
    foreign = upload(
        client,
        "/v1/audio/voice-changer",
        sample,
        {"model": CHANGER, "voice": voice_id},
        headers=OTHER,
    )
    assert_error(foreign, 404, "voice_not_found", "voice")
    path = f"/v1/voices/clone/{voice_id}"
    assert_error(
        client.patch(path, json={"name": "x"}, headers=OTHER), 404, "voice_not_found", "voice_id"
    )
    assert_error(client.delete(path, headers=OTHER), 404, "voice_not_found", "voice_id")

    # PATCH
    patched = client.patch(path, json={"name": "Anna B", "labels": {"mood": "calm"}}, headers=AUTH)
    assert patched.status_code == 200, patched.text
    assert list(patched.json()) == ["updated", "voice_id"]
    assert patched.json() == {"updated": True, "voice_id": voice_id}
    assert library(client) == [
        {**entry, "name": "Anna B", "labels": {"mood": "calm"}}  # description kept
    ]
    assert voices(client)[12]["name"] == "Anna B"
    described = client.patch(path, json={"description": "Now brighter"}, headers=AUTH)
    assert described.status_code == 200
    assert library(client)[0]["description"] == "Now brighter"
    assert library(client)[0]["name"] == "Anna B"
    assert_error(client.patch(path, json={}, headers=AUTH), 400, "missing_field", "name")
    assert_error(
        client.patch(path, json={"nickname": "x"}, headers=AUTH), 400, "unknown_field", "nickname"
    )
    premade = client.patch("/v1/voices/clone/alloy", json={"name": "x"}, headers=AUTH)
    assert_error(premade, 404, "voice_not_found", "voice_id")
    unknown = client.patch(
        "/v1/voices/clone/voice_000000000000000000000000", json={"name": "x"}, headers=AUTH
    )
    assert_error(unknown, 404, "voice_not_found", "voice_id")
    multipart = client.patch(path, files=[("name", (None, "x"))], headers=AUTH)
    assert_error(multipart, 400, "invalid_content_type", None)

    # DELETE
    deleted = client.delete(path, headers=AUTH)
    assert deleted.status_code == 200, deleted.text
    assert list(deleted.json()) == ["deleted", "voice_id"]
    assert deleted.json() == {"deleted": True, "voice_id": voice_id}
    assert library(client) == []
    assert [v["voice_id"] for v in voices(client)] == [r[0] for r in REQUIRED]
    gone = client.post(
        "/v1/audio/speech", json={"model": TTS, "input": "x", "voice": voice_id}, headers=AUTH
    )
    assert_error(gone, 404, "voice_not_found", "voice")
    assert_error(client.delete(path, headers=AUTH), 404, "voice_not_found", "voice_id")
    assert_error(
        client.delete("/v1/voices/clone/alloy", headers=AUTH), 404, "voice_not_found", "voice_id"
    )

    # ids keep counting per scope
    again = clone(client, name="Second", consent_hash=consent_hash(client))
    assert again.json()["voice_id"] == voice_hex(KEY, 2)
    other = clone(client, name="Theirs", consent_hash=consent_hash(client), headers=OTHER)
    assert other.json()["voice_id"] == voice_hex("sk-air-voices-other", 1)
    assert [v["name"] for v in library(client)] == ["Second"]


def test_clone_with_the_array_field_name(client: httpx.Client) -> None:
    created = clone(
        client,
        files=[("files[]", sine_wav(1.0)), ("files[]", sine_wav(0.5))],
        name="Bracketed",
        consent_hash=consent_hash(client),
    )
    assert created.status_code == 200, created.text
    assert library(client)[0]["name"] == "Bracketed"
    assert library(client)[0]["labels"] == {}
    assert library(client)[0]["description"] is None


def test_clone_errors(client: httpx.Client) -> None:
    digest = consent_hash(client)
    assert_error(
        clone(client, name="A", consent_hash="0" * 64), 400, "consent_stale", "consent_hash"
    )
    assert_error(clone(client, name="A"), 400, "missing_field", "consent_hash")
    assert_error(clone(client, consent_hash=digest), 400, "missing_field", "name")
    assert_error(
        clone(client, files=[], name="A", consent_hash=digest), 400, "missing_field", "files"
    )
    wrong_field = clone(client, files=[("sample", sine_wav(0.5))], name="A", consent_hash=digest)
    assert wrong_field.status_code == 400
    empty = clone(client, files=[("files", b"")], name="A", consent_hash=digest)
    error = assert_error(empty, 400, "invalid_value", empty.json()["error"]["param"])
    assert error["param"] in ("files", "files.0")
    assert_error(clone(client, name="A" * 101, consent_hash=digest), 400, "invalid_value", "name")
    assert_error(clone(client, name="", consent_hash=digest), 400, "invalid_value", "name")
    long_description = clone(client, name="A", consent_hash=digest, description="d" * 501)
    assert_error(long_description, 400, "invalid_value", "description")
    too_many = clone(client, files=[("files", b"x")] * 26, name="A", consent_hash=digest)
    assert_error(too_many, 400, "invalid_value", "files")
    bad_labels = clone(client, name="A", consent_hash=digest, labels="not json")
    assert bad_labels.status_code == 400
    assert bad_labels.json()["error"]["param"] == "labels"
    as_json = client.post(
        "/v1/voices/clone", json={"name": "A", "consent_hash": digest}, headers=AUTH
    )
    assert_error(as_json, 400, "invalid_content_type", None)
    anonymous = clone(client, name="A", consent_hash=digest, headers={})
    assert_error(anonymous, 401, "missing_api_key", None)
    assert library(client) == []  # nothing was created


# -- upload limits (real socket) --------------------------------------------------------------


def _clone_stream(server: MockAir, key: str, files: list[tuple[str, int]]) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        digest = http.get("/v1/voices/consent-text").json()["hash"]
        return http.post(
            "/v1/voices/clone",
            content=multipart_stream([("name", "Huge"), ("consent_hash", digest)], files),
            headers={
                "authorization": f"Bearer {key}",
                "content-type": f"multipart/form-data; boundary={BOUNDARY}",
            },
        )


def test_201_mib_clone_upload_is_refused_with_flat_memory(live_server: MockAir) -> None:
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    before = vm_kib("VmRSS")
    response = _clone_stream(live_server, "sk-air-voices-huge", [("files", 201 * MIB)])
    peak = vm_kib("VmHWM")
    after = vm_kib("VmRSS")
    assert_error(response, 413, "payload_too_large", "files")
    assert (peak - before) * 1024 < 60 * MIB, f"peak grew by {(peak - before) // 1024} MiB"
    assert (after - before) * 1024 < 60 * MIB


def test_clone_files_over_200_mib_in_total_are_refused(live_server: MockAir) -> None:
    """Two samples of 100.25 MiB: each is small, together they pass the 200 MiB total."""
    key = "sk-air-voices-total"
    response = _clone_stream(live_server, key, [("files", 100 * MIB + MIB // 4)] * 2)
    assert_error(response, 413, "payload_too_large", "files")
    with httpx.Client(base_url=live_server.url) as http:
        listed = http.get("/v1/voices/library", headers={"authorization": f"Bearer {key}"})
    assert listed.json() == {"voices": []}


def test_clone_content_length_over_the_limit_is_refused_at_once(live_server: MockAir) -> None:
    status, headers, body = declared_too_large(live_server, "/v1/voices/clone", 300 * MIB)
    assert_raw_error(status, headers, body, 413, "payload_too_large", "files")
