"""/v1/audio/*: speech, music, sound effects, transcription, isolation, voice changer
(CONTRACT §3.7), all real, decodable audio made in-process."""

from __future__ import annotations

import functools
from typing import Any

from starlette.responses import Response

from mockair.catalog import Model
from mockair.errors import InvalidValue
from mockair.surfaces import _audio as au
from mockair.surfaces import _generation as gen
from mockair.synth import audio, transcription
from mockair.web.routing import ApiCall, api_route, applies_stubs, json_response

DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"


def _model(call: ApiCall, kind: str, purpose: str) -> Model:
    assert call.body is not None
    model = call.resolve_model(call.body["model"], (kind,), purpose)
    for index, model_id in enumerate(call.body.get("models") or []):
        call.state.catalog.get_kind(model_id, (kind,), purpose, param=f"models.{index}")
    return model


def _per_minute(call: ApiCall, model: Model, seconds: float) -> dict[str, str]:
    cents = call.charged_cents(seconds / 60 * model.price("price_per_audio_minute_cents"))
    return call.charge(cents)


@applies_stubs
async def speech(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    model = _model(call, "tts", "text to speech")
    fmt = au.output_format(call, model)
    if body.get("stream_format") == "sse":
        raise InvalidValue("stream_format: sse is not supported; use audio", param="stream_format")
    voice_value = body["voice"]
    voice_id = voice_value["id"] if isinstance(voice_value, dict) else voice_value
    voice = au.find_voice(call, voice_id)
    call.authorize(model)
    await gen.stub_for(call)
    settings = body.get("voice_settings") or {}
    data = await au.speech_bytes(
        text=body["input"],
        voice=voice,
        model=model.id,
        instructions=body.get("instructions", ""),
        seed=gen.seed_of(call),
        speed=float(body.get("speed", 1.0)) * float(settings.get("speed", 1.0)),
        fmt=fmt,
        language=body.get("language_code", "en").lower(),
    )
    cents = call.charged_cents(
        len(body["input"]) * model.price("price_per_million_chars_cents") / 1e6
    )
    return au.audio_response(data, fmt, call.charge(cents))


def _music_file(
    key: Any, prompt: str, model: str, seed: int, seconds: float, fmt: audio.Format
) -> bytes:
    segment = audio.music(key, seed=seed, seconds=seconds, rate=fmt.rate)
    return audio.render(
        segment, fmt, audio.metadata("music", prompt=prompt, model=model, seed=seed)
    )


@applies_stubs
async def music(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    model = _model(call, "music", "music generation")
    fmt = au.output_format(call)
    plan = body.get("composition_plan")
    if plan is not None:
        length_ms = sum(section["duration_ms"] for section in plan["sections"])
        if length_ms > 600000:
            raise InvalidValue(
                "composition_plan.sections: at most 600000 ms in total",
                param="composition_plan.sections",
            )
    else:
        length_ms = body.get("music_length_ms", 10000)
    caps = model.caps("audio_caps")
    low, high = caps.get("min_length_ms", 3000), caps.get("max_length_ms", 600000)
    if not low <= length_ms <= high:
        raise InvalidValue(f"music_length_ms: expected {low}-{high}", param="music_length_ms")
    call.authorize(model)
    await gen.stub_for(call)
    seconds = length_ms / 1000
    prompt = body.get("prompt") or ""
    key = [prompt, plan, bool(body.get("force_instrumental"))]
    seed = gen.seed_of(call)
    data = await au.render_cached(
        ("music", repr(key), model.id, seed, seconds, fmt.name),
        functools.partial(_music_file, key, prompt, model.id, seed, seconds, fmt),
    )
    cents = call.charged_cents(seconds * model.price("price_per_audio_second_cents"))
    return au.audio_response(data, fmt, call.charge(cents))


def _sfx_file(prompt: str, model: str, seed: int, seconds: float, fmt: audio.Format) -> bytes:
    segment = audio.sound_effect(prompt, seed=seed, seconds=seconds, rate=fmt.rate)
    return audio.render(segment, fmt, audio.metadata("sfx", prompt=prompt, model=model, seed=seed))


@applies_stubs
async def sound_effects(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    model = _model(call, "sfx", "sound effects")
    fmt = au.output_format(call)
    seconds = float(body.get("duration_seconds", 5.0))
    call.authorize(model)
    await gen.stub_for(call)
    prompt = body.get("prompt") or body["text"]
    seed = gen.seed_of(call)
    data = await au.render_cached(
        ("sfx", prompt, model.id, seed, seconds, fmt.name),
        functools.partial(_sfx_file, prompt, model.id, seed, seconds, fmt),
    )
    cents = call.charged_cents(
        model.price("price_per_generation_cents")
        + seconds * model.price("price_per_audio_second_cents")
    )
    return au.audio_response(data, fmt, call.charge(cents))


@applies_stubs
async def transcribe(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    model = _model(call, "transcription", "transcription")
    if body.get("stream") is True:
        raise InvalidValue("stream: streaming transcription is not supported", param="stream")
    upload = au.required_upload(call, "file")
    data, info = await au.read_upload(upload)
    call.authorize(model)
    respond = await gen.stub_for(call)
    meta = info.meta
    text = transcription.transcript_text(meta, info.duration, au.digest(data), gen.corpus_of(call))
    if respond is not None and isinstance(respond.get("text"), str):
        text = respond["text"]  # a stub's transcript
    language = (
        body.get("language") or body.get("language_code") or (meta or {}).get("language") or "en"
    ).lower()
    duration = round(info.duration, 3)
    parts = transcription.segments(text, duration)
    headers = _per_minute(call, model, info.duration)
    kind = body.get("response_format", "json")
    text_type = "text/plain; charset=utf-8"
    if kind == "text":
        return Response(text + "\n", media_type=text_type, headers=headers)
    if kind == "srt":
        return Response(transcription.srt(parts), media_type=text_type, headers=headers)
    if kind == "vtt":
        return Response(
            transcription.vtt(parts), media_type="text/vtt; charset=utf-8", headers=headers
        )
    if kind == "verbose_json":
        granularities = body.get("timestamp_granularities") or ["segment"]
        speakers = body.get("num_speakers", 1) if body.get("diarize") else None
        return json_response(
            transcription.verbose(
                text,
                language,
                duration,
                parts,
                temperature=float(body.get("temperature", 0.0)),
                with_words="word" in granularities,
                speakers=speakers,
            ),
            headers=headers,
        )
    return json_response(
        {"text": text, "language": language, "duration": duration}, headers=headers
    )


def _respeak_file(
    text: str,
    voice: tuple[str, str, float],
    model: str,
    seed: int,
    fmt: audio.Format,
    duration: float,
    kind: str,
    language: str,
) -> bytes:
    return au.speech_file(
        text,
        voice=voice,
        model=model,
        instructions="",
        seed=seed,
        speed=1.0,
        fmt=fmt,
        language=language,
        kind=kind,
        stretch_to=duration,
    )


def _tones_file(
    file_digest: str,
    voice: tuple[str, str, float],
    model: str,
    seed: int,
    fmt: audio.Format,
    duration: float,
    kind: str,
) -> bytes:
    """Other audio: a tone sequence of the input's duration in the voice's pitch range."""
    words = " ".join(f"w{file_digest[i : i + 3]}" for i in range(0, 60, 3))
    segment = audio.exact_length(
        audio.speech(
            words,
            base_hz=voice[2],
            voice=voice[0],
            model=model,
            instructions=file_digest,
            seed=seed,
            speed=1.0,
            rate=fmt.rate,
        ),
        duration,
        fmt.rate,
    )
    return audio.render(segment, fmt, audio.metadata(kind, voice=voice[0], model=model, seed=seed))


def _pad_file(file_digest: str, model: str, seed: int, fmt: audio.Format, duration: float) -> bytes:
    segment = audio.pad(duration, rate=fmt.rate, key=file_digest)
    return audio.render(segment, fmt, audio.metadata("isolation", text="", model=model, seed=seed))


async def _respeak(call: ApiCall, kind: str, model_kind: str, purpose: str) -> Response:
    """Isolation and voice changing: the upload's own words again (mockair speech), else a
    tone pattern of the upload's length; ``instrumental`` isolation is a quiet pad."""
    body = call.body
    assert body is not None
    model = _model(call, model_kind, purpose)
    fmt = au.output_format(call)
    upload = au.required_upload(call, "file", "audio")
    target = au.find_voice(call, body["voice"]) if kind == "voice_changer" else None
    data, info = await au.read_upload(upload)
    call.authorize(model)
    await gen.stub_for(call)
    seed, digest, meta = gen.seed_of(call), au.digest(data), info.meta or {}
    duration = max(info.duration, 0.05)
    voice = target or au.find_voice(call, str(meta.get("voice") or DEFAULT_VOICE))
    if kind == "isolation" and body.get("output") == "instrumental":
        make = functools.partial(_pad_file, digest, model.id, seed, fmt, duration)
    elif meta.get("kind") in transcription.SPOKEN_KINDS:
        make = functools.partial(
            _respeak_file,
            str(meta.get("text", "")),
            voice,
            model.id,
            seed,
            fmt,
            duration,
            kind,
            str(meta.get("language", "en")),
        )
    else:
        make = functools.partial(_tones_file, digest, voice, model.id, seed, fmt, duration, kind)
    key = (kind, digest, body.get("output"), voice, model.id, seed, fmt.name)
    out = await au.render_cached(key, make)
    return au.audio_response(out, fmt, _per_minute(call, model, info.duration))


@applies_stubs
async def isolate(call: ApiCall) -> Response:
    return await _respeak(call, "isolation", "audio_isolation", "audio isolation")


@applies_stubs
async def change_voice(call: ApiCall) -> Response:
    return await _respeak(call, "voice_changer", "voice_changer", "voice changing")


AUDIO_OUT = ("audio/mpeg", "audio/wav")
ROUTES = [
    api_route(
        "/v1/audio/speech",
        speech,
        methods=("POST",),
        body="json",
        schema="audio.speech.request",
        summary="Text to speech (MP3 or WAV)",
        responses=AUDIO_OUT,
    ),
    api_route(
        "/v1/audio/music",
        music,
        methods=("POST",),
        body="json",
        schema="audio.music.request",
        summary="Music from a prompt or plan",
        responses=AUDIO_OUT,
    ),
    api_route(
        "/v1/audio/sound-effects",
        sound_effects,
        methods=("POST",),
        body="json",
        schema="audio.sound_effects.request",
        summary="Sound effects from a prompt",
        responses=AUDIO_OUT,
    ),
    api_route(
        "/v1/audio/transcriptions",
        transcribe,
        methods=("POST",),
        body="form",
        schema="audio.transcriptions.request",
        summary="Speech to text (multipart)",
        responses=("application/json", "text/plain", "text/vtt"),
    ),
    api_route(
        "/v1/audio/audio-isolation",
        isolate,
        methods=("POST",),
        body="form",
        schema="audio.audio_isolation.request",
        summary="Vocals or instrumental of an upload (multipart)",
        responses=AUDIO_OUT,
    ),
    api_route(
        "/v1/audio/voice-changer",
        change_voice,
        methods=("POST",),
        body="form",
        schema="audio.voice_changer.request",
        summary="An upload re-spoken in another voice (multipart)",
        responses=AUDIO_OUT,
    ),
]
