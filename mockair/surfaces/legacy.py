"""The 2024 legacy routes (CONTRACT §3.12), with and without the /v1 prefix."""

from __future__ import annotations

import re
from typing import Any

import anyio
from starlette.responses import Response
from starlette.routing import Route

from mockair.errors import InvalidValue, MissingField, ModelNotSupported
from mockair.formats import openai_chat
from mockair.state.media import MediaItem
from mockair.surfaces import _generation as gen
from mockair.synth.images import ImageSpec, render_png
from mockair.synth.reply import ReplyRequest, generate
from mockair.synth.vision import describe
from mockair.web.routing import ApiCall, Handler, api_route, applies_stubs, json_response
from mockair.web.sse import EventStream, data_event

ASK_MODEL = "gpt-4o-mini"
ASK_PICTURE_MODEL = "flux"
PICTURE_WORDS = re.compile(r"\b(image|picture|photo|draw|drawing)\b")


def required_query(call: ApiCall, name: str, *, max_length: int | None = None) -> str:
    value = call.query(name)
    if value is None or value == "":
        raise MissingField(f"{name}: field required", param=name)
    if max_length is not None and len(value) > max_length:
        raise InvalidValue(f"{name}: expected at most {max_length} characters", param=name)
    return value


def store_png(call: ApiCall, png: bytes) -> str:
    """Keep a generated PNG in the media store; returns its absolute URL."""
    media_id = call.state.ids.mint(call.scope_id, "img_")
    call.state.media.put(MediaItem(media_id, "png", call.state.now(), call.scope_id, png))
    return f"{call.base_url()}/media/{media_id}.png"


@applies_stubs
async def ask(call: ApiCall) -> Response:
    prompt = required_query(call, "prompt")
    # An internal model: exempt from the key's model rules (CONTRACT §3.12.4, §7.1 #8).
    model = call.state.catalog.get(ASK_MODEL)
    call.ctx.model = model.id
    respond = await gen.stub_for(call)
    reply = generate(
        ReplyRequest(
            route_key="/ask",
            model=model.id,
            semantic={"messages": [{"role": "user", "content": prompt}]},
            seed=call.state.settings.seed,
            now=call.state.now(),
            canned=gen.canned_from(respond),
        ),
        gen.corpus_of(call),
    )
    url = ""
    if PICTURE_WORDS.search(prompt.lower()):
        spec = ImageSpec(prompt, ASK_PICTURE_MODEL, 1024, 1024, call.state.settings.seed)
        url = store_png(call, render_png(spec))
    tokens = reply.answer_tokens
    events = [
        data_event({"message": token, "url": url if i == len(tokens) - 1 else ""})
        for i, token in enumerate(tokens)
    ]
    cut = call.stream_cut(openai_chat.error_frame, respond=respond)
    return EventStream(events, pacing=gen.pacing_for(call, model), cut=cut)


LEGACY_RATIOS = ("1:1", "16:9", "9:16", "21:9", "9:21", "1:2", "2:1")


@applies_stubs
async def imagine(call: ApiCall) -> Response:
    from mockair.surfaces.images import ratio_size

    prompt = required_query(call, "prompt", max_length=2000)
    ratio = call.query("size") or "1:1"
    if ratio not in LEGACY_RATIOS:
        raise InvalidValue(
            f"size: expected one of {', '.join(LEGACY_RATIOS)}, got '{ratio}'", param="size"
        )
    seed = call.query_int("seed")
    model = call.resolve_model(call.query("model") or "flux", ("image",), "image generation")
    call.authorize(model)
    await gen.stub_for(call)
    width, height = ratio_size(ratio, 1024, "size")
    spec = ImageSpec(
        prompt, model.id, width, height, seed if seed is not None else call.state.settings.seed
    )
    png = await anyio.to_thread.run_sync(render_png, spec)
    return Response(png, media_type="image/png")


async def imagine_models(call: ApiCall) -> Response:
    return json_response([m.id for m in call.state.catalog.models if m.private.get("legacy_image")])


@applies_stubs
async def vision(call: ApiCall) -> Response:
    url = required_query(call, "url")
    model = call.resolve_model(
        call.query("model") or "gemini-pro-vision", ("chat",), "image understanding"
    )
    if not model.flag("supports_vision"):
        raise ModelNotSupported(
            f"Model '{model.id}' does not support image understanding.", param="model"
        )
    data, label = gen.load_image(call, url=url, param="url")
    call.authorize(model)
    respond = await gen.stub_for(call)
    text = respond["text"] if respond and isinstance(respond.get("text"), str) else None
    return Response(text or describe(data, label), media_type="text/plain; charset=utf-8")


@applies_stubs
async def get_audio(call: ApiCall) -> Response:
    from mockair.surfaces import _audio as au
    from mockair.synth.audio import FORMATS

    text = required_query(call, "text", max_length=5000)
    voice = au.find_voice(call, call.query("voice") or "alex")
    # An internal model: exempt from the key's model rules (CONTRACT §3.12.7).
    model = call.state.catalog.get("elevenlabs-multilingual-v2")
    call.ctx.model = model.id
    await gen.stub_for(call)
    fmt = FORMATS["mp3"]
    data = await au.speech_bytes(
        text=text,
        voice=voice,
        model=model.id,
        instructions="",
        seed=call.state.settings.seed,
        speed=1.0,
        fmt=fmt,
        language="en",
    )
    return Response(data, media_type=fmt.content_type)


SUNO_CUSTOM_LIMITS = {"chirp-v3-5": 3000}


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _clip_media(spec: tuple[str, str, int, int], kind: str) -> bytes:
    """Cover, song and video of one clip, rendered on first download."""
    from mockair.synth import audio
    from mockair.synth.audio import FORMATS
    from mockair.synth.video import VideoSpec, render_mp4

    text, model, seed, index = spec
    cover = render_png(ImageSpec(text, model, 512, 512, seed, index))
    if kind == "png":
        return cover
    if kind == "mp3":
        segment = audio.music([text, index], seed=seed, seconds=10.0, rate=44100)
        meta = audio.metadata("music", prompt=text, model=model, seed=seed)
        return audio.render(segment, FORMATS["mp3"], meta)
    return render_mp4(VideoSpec(text, model, seed, 10, "1:1", "image"), cover)


@applies_stubs
async def suno_create(call: ApiCall) -> Response:
    import functools

    from mockair.state.tasks import Task

    body = call.body
    assert body is not None
    model = call.resolve_model(body.get("model", "chirp-v3-5"), ("suno",), "legacy suno")
    custom = _truthy(body.get("custom"))
    limit = SUNO_CUSTOM_LIMITS.get(model.id, 1250) if custom else 200
    if len(body["prompt"]) > limit:
        raise InvalidValue(f"prompt: expected at most {limit} characters", param="prompt")
    if custom and not body.get("style"):
        raise MissingField("style: field required when custom is true", param="style")
    call.authorize(model, internal=True)
    respond = await gen.stub_for(call, task_route=True)
    fails_with = gen.task_failure(respond)
    state, scope, now = call.state, call.scope_id, call.state.now()
    text = " ".join(p for p in (body["prompt"], body.get("style") if custom else None) if p)
    if _truthy(body.get("instrumental")):
        text += " (instrumental)"
    cents = call.charged_cents(2 * model.price("price_per_generation_cents"))
    headers = call.charge(cents) if call.principal and not call.principal.anonymous else {}
    clips = []
    for index in range(2):
        media = {
            ext: state.ids.mint(scope, prefix)
            for ext, prefix in (("png", "img_"), ("mp3", "aud_"), ("mp4", "vid_"))
        }
        task = Task(
            fails_with=fails_with,
            task_id=state.ids.mint_uuid(scope),
            kind="suno",
            scope=scope,
            key=call.principal.key if call.principal else None,
            created=now,
            params={"media": media},
            cost_cents=cents / 2,
        )
        spec = (text, model.id, state.settings.seed, index)
        for ext, media_id in media.items():
            state.media.put(
                MediaItem(
                    media_id, ext, now, scope, render=functools.partial(_clip_media, spec, ext)
                )
            )
        state.tasks.add(task, now, state.settings.task_seconds)
        clips.append(task.task_id)
    return json_response({"status": "success", "clips": clips}, headers=headers)


async def suno_clip(call: ApiCall) -> Response:
    from mockair.errors import ApiError
    from mockair.state.tasks import status_at

    clip_id = call.path_param("uuid")
    task = call.state.tasks.get(call.scope_id, clip_id, "suno")
    state = status_at(task, call.state.now(), call.state.settings.task_seconds) if task else None
    if task is None or state is None or state.status == "expired":
        raise ApiError(
            f"Clip '{clip_id}' not found.", status=404, code="clip_not_found", param="uuid"
        )
    if state.status != "completed":
        return json_response(
            {"status": "generating", "image_url": None, "audio_url": None, "video_url": None}
        )
    base, media = call.base_url(), task.params["media"]
    return json_response(
        {
            "status": "finished",
            "image_url": f"{base}/media/{media['png']}.png",
            "audio_url": f"{base}/media/{media['mp3']}.mp3",
            "video_url": f"{base}/media/{media['mp4']}.mp4",
        }
    )


def _legacy(paths: tuple[str, ...], handler: Handler, summary: str, **options: Any) -> list[Route]:
    return [
        api_route(path, handler, auth="legacy", tag="legacy", summary=summary, **options)
        for path in paths
    ]


ROUTES = [
    *_legacy(
        ("/ask", "/v1/ask"),
        ask,
        "GlobalAsk: stream an answer as data: lines",
        query=("prompt",),
        responses=("text/event-stream",),
    ),
    *_legacy(
        ("/imagine", "/v1/imagine", "/imagine2", "/v1/imagine2"),
        imagine,
        "Generate a PNG from a prompt",
        query=("prompt", "size", "seed", "model"),
        responses=("image/png",),
    ),
    *_legacy(
        ("/imagine/models", "/v1/imagine/models", "/imagine2/models", "/v1/imagine2/models"),
        imagine_models,
        "Ids of the legacy image models",
    ),
    *_legacy(
        ("/images/vision", "/v1/images/vision"),
        vision,
        "Describe an image by URL (never fetched)",
        query=("url", "model"),
        responses=("text/plain",),
    ),
    *_legacy(
        ("/suno", "/v1/suno"),
        suno_create,
        "Create two music clips (legacy suno)",
        methods=("POST",),
        body="json",
        schema="legacy.suno.request",
    ),
    *_legacy(("/suno/{uuid}", "/v1/suno/{uuid}"), suno_clip, "One legacy suno clip"),
    *_legacy(
        ("/get-audio", "/v1/get-audio"),
        get_audio,
        "Speech as MP3 (voices alex, sophia, or any catalogue voice)",
        query=("text", "voice"),
        responses=("audio/mpeg",),
    ),
]
