"""What the audio surfaces share: output formats, voices, rendering off the event loop with a
cache, and reading uploads."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

import anyio
from starlette.responses import Response

from mockair.catalog import Model, Voice, load_voices
from mockair.errors import ApiError, InvalidValue
from mockair.lru import Lru
from mockair.synth import audio
from mockair.synth.audio import FORMATS, AudioInfo, Format
from mockair.web.forms import Upload
from mockair.web.routing import ApiCall

_rendered: Lru[Any, bytes] = Lru(64)  # pure results: (kind, parameters...) -> file bytes


class VoiceNotFound(ApiError):
    status = 404
    code = "voice_not_found"


def output_format(call: ApiCall, model: Model | None = None) -> Format:
    body = call.body or {}
    name = "response_format" if "response_format" in body else "output_format"
    value = body.get(name, "mp3")
    fmt = FORMATS.get(value)
    allowed = (model.caps("speech_caps").get("formats") if model is not None else None) or FORMATS
    if fmt is None or value not in allowed:
        raise InvalidValue(
            f"{name}: expected one of {', '.join(FORMATS)}, got '{value}'", param=name
        )
    return fmt


def premade(call: ApiCall) -> tuple[Voice, ...]:
    return load_voices(call.state.settings.fixtures_dir)


def find_voice(call: ApiCall, voice_id: str, *, param: str = "voice") -> tuple[str, str, float]:
    """(voice id, name, base Hz) of a premade voice or a clone of the caller's scope."""
    for voice in premade(call):
        if voice.voice_id == voice_id:
            return voice.voice_id, voice.name, voice.base_hz
    clone = call.state.voices.get(call.scope_id, voice_id)
    if clone is None:
        raise VoiceNotFound(f"Voice '{voice_id}' not found.", param=param)
    return clone.voice_id, clone.name, clone.base_hz


async def render_cached(key: tuple[Any, ...], make: Callable[[], bytes]) -> bytes:
    """The file for ``key``, rendered in a worker thread the first time (synthesis and LAME
    take tens of milliseconds: the event loop keeps serving meanwhile)."""
    cached = _rendered.get(key)
    if cached is None:
        cached = _rendered.put(key, await anyio.to_thread.run_sync(make))
    return cached


def speech_file(
    text: str,
    *,
    voice: tuple[str, str, float],
    model: str,
    instructions: str,
    seed: int,
    speed: float,
    fmt: Format,
    language: str,
    kind: str = "speech",
    stretch_to: float | None = None,
) -> bytes:
    voice_id, _, base_hz = voice
    segment = audio.speech(
        text,
        base_hz=base_hz,
        voice=voice_id,
        model=model,
        instructions=instructions,
        seed=seed,
        speed=speed,
        rate=fmt.rate,
    )
    if stretch_to is not None:
        segment = audio.exact_length(segment, stretch_to, fmt.rate)
    meta = audio.metadata(
        kind, text=text, voice=voice_id, model=model, language=language, seed=seed
    )
    return audio.render(segment, fmt, meta)


async def speech_bytes(**options: Any) -> bytes:
    key = ("speech", *sorted((k, repr(v)) for k, v in options.items()))
    return await render_cached(key, functools.partial(speech_file, **options))


def audio_response(data: bytes, fmt: Format, headers: dict[str, str]) -> Response:
    return Response(data, media_type=fmt.content_type, headers=headers)


def required_upload(call: ApiCall, *names: str) -> Upload:
    for name in names:
        upload = call.upload(name)
        if upload is not None:
            return upload
    raise InvalidValue(f"{names[0]}: expected a file part", param=names[0])


async def read_upload(upload: Upload) -> tuple[bytes, AudioInfo]:
    data = await upload.read()
    try:
        return data, audio.read_audio(data)
    except ValueError as exc:
        raise InvalidValue(f"{upload.field}: {exc}", param=upload.field) from None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
