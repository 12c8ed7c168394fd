"""Dubbing jobs (CONTRACT §3.7.7) on the task engine."""

from __future__ import annotations

import functools
import math
from typing import Any

from starlette.responses import Response

from mockair.errors import ApiError, InvalidValue
from mockair.state.media import MediaItem
from mockair.state.tasks import Task, status_at
from mockair.surfaces import _audio as au
from mockair.surfaces import _generation as gen
from mockair.synth import transcription
from mockair.synth.audio import FORMATS
from mockair.synth.rng import rng_for
from mockair.synth.text import words_text
from mockair.web.routing import ApiCall, api_route, applies_stubs, json_response

DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"
URL_SOURCE_SECONDS = 10.0


class DubbingNotFound(ApiError):
    status = 404
    code = "dubbing_not_found"


@applies_stubs
async def create(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    model = call.resolve_model(body["model"], ("dubbing",), "dubbing")
    languages = model.caps("dubbing_caps").get("languages") or []
    target = body["target_lang"].lower()
    if target not in languages:
        raise InvalidValue(
            f"target_lang: expected one of {', '.join(languages)}, got '{target}'",
            param="target_lang",
        )
    upload = call.upload("file")
    if upload is not None:
        data, info = await au.read_upload(upload)
        meta, duration, digest = info.meta or {}, info.duration, au.digest(data)
        name = body.get("name") or upload.filename or "upload"
        source_text = transcription.transcript_text(
            info.meta, duration, digest, gen.corpus_of(call)
        )
    elif "file" in body:
        raise InvalidValue("file: expected a file part", param="file")
    else:
        url = body["source_url"]
        meta, duration, digest = {}, URL_SOURCE_SECONDS, au.digest(url.encode())
        name = body.get("name") or url.rstrip("/").rsplit("/", 1)[-1] or "source"
        source_text = words_text(
            gen.corpus_of(call), rng_for("dubbing-url", url), round(2.5 * duration)
        )
    call.authorize(model)
    respond = await gen.stub_for(call, task_route=True)
    fails_with = gen.task_failure(respond)
    source_lang = body.get("source_lang", "auto")
    if source_lang == "auto":
        source_lang = str(meta.get("language") or "en")
    state, scope, now = call.state, call.scope_id, call.state.now()
    cents = call.charged_cents(duration / 60 * model.price("price_per_audio_minute_cents"))
    headers = call.charge(cents)
    voice_id = str(meta.get("voice") or DEFAULT_VOICE)
    try:
        voice = au.find_voice(call, voice_id)
    except ApiError:
        voice = au.find_voice(call, DEFAULT_VOICE)
    task = Task(
        fails_with=fails_with,
        task_id=state.ids.mint(scope, "dub_"),
        kind="dubbing",
        scope=scope,
        key=call.principal.key if call.principal else None,
        created=now,
        params={
            "name": name[:200],
            "source_lang": source_lang,
            "target": target,
            "duration": round(duration, 3),
        },
        cost_cents=cents,
        media_id=state.ids.mint(scope, "aud_"),
    )
    text = f"[{target}] {source_text}"
    render = functools.partial(
        au.speech_file,
        text,
        voice=voice,
        model=model.id,
        instructions="",
        seed=gen.seed_of(call),
        speed=1.0,
        fmt=FORMATS["mp3"],
        language=target,
        kind="dubbing",
    )
    state.media.put(MediaItem(task.media_id, "mp3", now, scope, render=render))
    state.tasks.add(task, now, state.settings.task_seconds)
    seconds = state.settings.task_seconds
    return json_response(
        {
            "dubbing_id": task.task_id,
            "status": "queued",
            "expected_duration_sec": float((1 if seconds > 0 else 0) + seconds),
        },
        headers=headers,
    )


def _job(call: ApiCall) -> Task:
    job_id = call.path_param("dubbing_id")
    job = call.state.tasks.get(call.scope_id, job_id, "dubbing")
    if job is None:
        raise DubbingNotFound(f"Dubbing '{job_id}' not found.", param="dubbing_id")
    return job


def view(call: ApiCall, job: Task) -> dict[str, Any]:
    state = status_at(job, call.state.now(), call.state.settings.task_seconds)
    if state.status == "expired" and job.media_id:
        call.state.media.remove(job.media_id)
    params = job.params
    return {
        "dubbing_id": job.task_id,
        "name": params["name"],
        "status": state.status,
        "source_lang": params["source_lang"],
        "target_languages": [params["target"]],
        "language_pairs": [{"source": params["source_lang"], "target": params["target"]}],
        "source_duration": params["duration"],
        "preview_url": f"{call.base_url()}/media/{job.media_id}.mp3"
        if state.status == "completed"
        else None,
        "error": job.fails_with if state.status == "failed" else None,
        "created": math.floor(job.created),
        "expires_at": math.floor(state.expires_at),
    }


async def get_job(call: ApiCall) -> Response:
    return json_response(view(call, _job(call)))


async def get_audio(call: ApiCall) -> Response:
    job = _job(call)
    lang = call.path_param("lang")
    if lang != job.params["target"]:
        raise ApiError(
            f"Dubbing '{job.task_id}' has no language '{lang}'.",
            status=404,
            code="language_not_found",
            param="lang",
        )
    state = status_at(job, call.state.now(), call.state.settings.task_seconds)
    if state.status != "completed":
        raise ApiError(
            f"Dubbing '{job.task_id}' is {state.status}; audio is ready once completed.",
            status=404,
            code="dubbing_not_ready",
            param="dubbing_id",
        )
    item = call.state.media.get(job.media_id or "", call.state.now())
    if item is None or item.data is None:
        raise ApiError(
            "The dubbed audio has expired.", status=404, code="media_not_found", param="dubbing_id"
        )
    return Response(item.data, media_type="audio/mpeg")


ROUTES = [
    api_route(
        "/v1/audio/dubbing",
        create,
        methods=("POST",),
        body="form",
        schema="audio.dubbing.request",
        summary="Create a dubbing job (multipart)",
    ),
    api_route("/v1/audio/dubbing/{dubbing_id}", get_job, summary="One dubbing job"),
    api_route(
        "/v1/audio/dubbing/{dubbing_id}/audio/{lang}",
        get_audio,
        summary="The dubbed audio of one language",
        responses=("audio/mpeg",),
    ),
]
