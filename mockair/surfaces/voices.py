"""Voices (CONTRACT §3.7.8, §3.8): the catalogue, consent text and cloning."""

from __future__ import annotations

import functools
import hashlib

from starlette.responses import Response

from mockair.catalog import consent_text
from mockair.errors import ApiError, MissingField
from mockair.state.clock import iso_utc
from mockair.state.media import MediaItem
from mockair.state.voices import ClonedVoice
from mockair.surfaces import _audio as au
from mockair.synth.audio import FORMATS
from mockair.web.routing import ApiCall, api_route, json_response

CLONE_LIMIT = 200 * 1024 * 1024
PREVIEW_MODEL = "elevenlabs-multilingual-v2"


class ConsentStale(ApiError):
    code = "consent_stale"


def preview_url(call: ApiCall, voice_id: str, name: str, base_hz: float) -> str:
    """A stable media id that renders "Hello, I am <name>." on first request, never expiring."""
    media_id = "aud_" + hashlib.sha256(f"preview|{voice_id}".encode()).hexdigest()[:24]
    if media_id not in call.state.media:
        render = functools.partial(
            au.speech_file,
            f"Hello, I am {name}.",
            voice=(voice_id, name, base_hz),
            model=PREVIEW_MODEL,
            instructions="",
            seed=0,
            speed=1.0,
            fmt=FORMATS["mp3"],
            language="en",
        )
        call.state.media.put(
            MediaItem(media_id, "mp3", call.state.now(), "global", render=render, expires=False)
        )
    return f"{call.base_url()}/media/{media_id}.mp3"


async def list_voices(call: ApiCall) -> Response:
    voices = []
    for voice in au.premade(call):
        voices.append(
            {
                **voice.public,
                "preview_url": preview_url(call, voice.voice_id, voice.name, voice.base_hz),
            }
        )
    for clone in call.state.voices.of(call.scope_id):
        voices.append(
            {
                "voice_id": clone.voice_id,
                "name": clone.name,
                "category": "cloned",
                "description": clone.description,
                "preview_url": preview_url(call, clone.voice_id, clone.name, clone.base_hz),
                "language": None,
                "accent": None,
                "age": None,
                "gender": None,
                "use_case": None,
                "labels": clone.labels,
            }
        )
    return json_response({"voices": voices})


def _consent(call: ApiCall) -> tuple[str, str]:
    text = consent_text(call.state.settings.fixtures_dir)
    return text, hashlib.sha256(text.encode()).hexdigest()


async def get_consent(call: ApiCall) -> Response:
    text, digest = _consent(call)
    return json_response({"text": text, "hash": digest})


async def clone_voice(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    if body["consent_hash"] != _consent(call)[1]:
        raise ConsentStale(
            "consent_hash: does not match the current consent text; fetch "
            "GET /v1/voices/consent-text again",
            param="consent_hash",
        )
    samples = [u for u in call.uploads if u.field == "files"]
    if not samples:
        raise MissingField("files: at least one sample file is required", param="files")
    empty = next((i for i, u in enumerate(samples) if u.size == 0), None)
    if empty is not None:
        raise ApiError(f"files.{empty}: the sample is empty", param=f"files.{empty}")
    base_hz = 100 + int(samples[0].sha256[:8], 16) % 161  # 100-260 Hz from the first sample
    clone = ClonedVoice(
        voice_id=call.state.ids.mint(call.scope_id, "voice_"),
        name=body["name"],
        created=call.state.now(),
        base_hz=float(base_hz),
        description=body.get("description"),
        labels=dict(body.get("labels") or {}),
        remove_background_noise=bool(body.get("remove_background_noise")),
    )
    call.state.voices.add(call.scope_id, clone)
    return json_response(
        {
            "voice_id": clone.voice_id,
            "name": clone.name,
            "status": "active",
            "created_at": iso_utc(clone.created),
        }
    )


async def library(call: ApiCall) -> Response:
    return json_response(
        {"voices": [c.library_view() for c in call.state.voices.of(call.scope_id)]}
    )


def _own_clone(call: ApiCall) -> ClonedVoice:
    voice_id = call.path_param("voice_id")
    clone = call.state.voices.get(call.scope_id, voice_id)
    if clone is None:
        raise au.VoiceNotFound(f"Voice '{voice_id}' not found.", param="voice_id")
    return clone


async def update_clone(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    clone = _own_clone(call)
    if not any(name in body for name in ("name", "description", "labels")):
        raise MissingField("name: give at least one of name, description, labels", param="name")
    clone.name = body.get("name", clone.name)
    clone.description = body.get("description", clone.description)
    if "labels" in body:
        clone.labels = dict(body["labels"])
    return json_response({"updated": True, "voice_id": clone.voice_id})


async def delete_clone(call: ApiCall) -> Response:
    clone = _own_clone(call)
    call.state.voices.delete(call.scope_id, clone.voice_id)
    return json_response({"deleted": True, "voice_id": clone.voice_id})


ROUTES = [
    api_route("/v1/audio/voices", list_voices, summary="Premade voices and this key's clones"),
    api_route(
        "/v1/voices/consent-text",
        get_consent,
        auth="public",
        summary="The voice-cloning consent text and its hash",
    ),
    api_route(
        "/v1/voices/clone",
        clone_voice,
        methods=("POST",),
        body="form",
        schema="voices.clone.request",
        file_limit=CLONE_LIMIT,
        file_param="files",
        summary="Clone a voice from samples (multipart)",
    ),
    api_route("/v1/voices/library", library, summary="This key's cloned voices"),
    api_route(
        "/v1/voices/clone/{voice_id}",
        update_clone,
        methods=("PATCH",),
        body="json",
        schema="voices.clone_update.request",
        summary="Rename or relabel a clone",
    ),
    api_route(
        "/v1/voices/clone/{voice_id}", delete_clone, methods=("DELETE",), summary="Delete a clone"
    ),
]
