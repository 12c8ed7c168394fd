"""POST /v1/images/generations (CONTRACT §3.6): real PNGs from the prompt, edits, SSE."""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockair.catalog import Model
from mockair.errors import ApiError, InvalidValue
from mockair.state.billing import count_images
from mockair.state.media import MediaItem
from mockair.surfaces import _generation as gen
from mockair.synth.images import ImageSpec, render_edit, render_png
from mockair.synth.vision import image_from_base64, image_from_url, is_image
from mockair.web.routing import ApiCall, api_route, applies_stubs, json_response
from mockair.web.sse import DONE, KEEPALIVE, SSE_HEADERS, SSE_MEDIA_TYPE, data_event

SIZE = re.compile(r"(\d+)x(\d+)")
DEFAULT_QUALITIES = ("standard", "hd", "low", "medium", "high", "auto")
RESOLUTIONS = {"1k": 1024, "2k": 2048, "4k": 4096}
KEEPALIVE_SECONDS = 5.0


class MediaNotFound(ApiError):
    status = 404
    code = "media_not_found"


def ratio_size(ratio: str, long_side: int, param: str) -> tuple[int, int]:
    """Long side ``long_side``; the short side rounded to a multiple of 8."""
    w_text, _, h_text = ratio.partition(":")
    w, h = int(w_text), int(h_text)
    if w <= 0 or h <= 0:
        raise InvalidValue(f"{param}: expected W:H with positive numbers", param=param)
    if w >= h:
        return long_side, max(8, round(long_side * h / w / 8) * 8)
    return max(8, round(long_side * w / h / 8) * 8), long_side


def resolve_size(body: dict[str, Any], caps: dict[str, Any]) -> tuple[int, int]:
    ratio = body.get("aspect_ratio") or body.get("aspectRatio")
    ratio_param = "aspect_ratio" if "aspect_ratio" in body else "aspectRatio"
    if ratio is not None and ratio not in (caps.get("aspect_ratios") or []):
        allowed = ", ".join(caps.get("aspect_ratios") or [])
        raise InvalidValue(
            f"{ratio_param}: expected one of {allowed}, got '{ratio}'", param=ratio_param
        )
    size = body.get("size")
    if size not in (None, "auto"):
        match = SIZE.fullmatch(size)
        width, height = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        if not (64 <= width <= 4096 and 64 <= height <= 4096):
            raise InvalidValue(
                f"size: expected WxH with each side 64-4096, got '{size}'", param="size"
            )
        return width, height
    if "width" in body or "height" in body:
        if "width" not in body or "height" not in body:
            missing = "height" if "width" in body else "width"
            raise InvalidValue(f"{missing}: width and height go together", param=missing)
        return int(body["width"]), int(body["height"])
    if ratio is not None:
        return ratio_size(ratio, RESOLUTIONS[body.get("resolution", "1k")], ratio_param)
    return 1024, 1024


def input_refs(body: dict[str, Any]) -> list[dict[str, str]]:
    refs = list(body.get("input_images") or [])
    refs += [{"url": url} for url in body.get("image_urls") or []]
    refs += [{"url": body[name]} for name in ("image_url", "start_frame_url") if name in body]
    return refs


def read_inputs(call: ApiCall, refs: list[dict[str, str]]) -> tuple[list[bytes | None], list[str]]:
    """Input bytes and their ``sources`` entries, read without any network access."""
    import hashlib

    datas: list[bytes | None] = []
    sources: list[str] = []
    for index, ref in enumerate(refs):
        param = f"input_images.{index}"
        try:
            if "b64_json" in ref:
                data: bytes | None = image_from_base64(ref["b64_json"])
            else:
                url = ref["url"]
                lookup = gen.media_lookup(call)
                data, _ = image_from_url(url, lookup)
                if data is None and "/media/" in url:
                    raise MediaNotFound(
                        f"{param}: media '{url.rsplit('/', 1)[-1]}' not found", param="media_id"
                    )
        except ValueError as exc:
            raise InvalidValue(f"{param}: {exc}", param=param) from None
        inline = "b64_json" in ref or ref.get("url", "").startswith("data:")
        if inline and (data is None or not is_image(data)):
            raise InvalidValue(f"{param}: the data is not a decodable image", param=param)
        datas.append(data)
        sources.append(
            "sha256:" + hashlib.sha256(data).hexdigest() if data is not None else ref.get("url", "")
        )
    return datas, sources


def check_request(body: dict[str, Any], model: Model) -> tuple[int, int, list[dict[str, str]]]:
    caps = model.caps("image_caps")
    n = body.get("n", 1)
    if n > caps.get("max_n", 1):
        raise InvalidValue(
            f"n: model '{model.id}' makes at most {caps.get('max_n', 1)} images", param="n"
        )
    width, height = resolve_size(body, caps)
    quality = body.get("quality")
    qualities = caps.get("qualities") or DEFAULT_QUALITIES
    if quality is not None and quality not in qualities:
        raise InvalidValue(
            f"quality: expected one of {', '.join(qualities)}, got '{quality}'", param="quality"
        )
    refs = input_refs(body)
    if refs:
        if not caps.get("supports_edit"):
            raise InvalidValue(
                f"input_images: model '{model.id}' does not support edits", param="input_images"
            )
        if len(refs) > caps.get("max_input_images", 4):
            raise InvalidValue(
                f"input_images: at most {caps.get('max_input_images', 4)} input images",
                param="input_images",
            )
    return width, height, refs


def render_all(specs: list[ImageSpec], inputs: list[bytes | None]) -> list[bytes]:
    if inputs:
        return [render_edit(spec, inputs) for spec in specs]
    return [render_png(spec) for spec in specs]


@applies_stubs
async def generate_images(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    if body.get("stream") is True:
        raise InvalidValue("stream: not supported on this route; use sse: true", param="stream")
    model = call.resolve_model(body["model"], ("image", "video", "music"), "image generation")
    if model.kind != "image":
        return await compatibility(call, body, model)
    for index, model_id in enumerate(body.get("models") or []):
        call.state.catalog.get_kind(
            model_id, ("image",), "image generation", param=f"models.{index}"
        )
    width, height, refs = check_request(body, model)
    inputs, sources = read_inputs(call, refs)
    call.authorize(model)
    await gen.stub_for(call)
    seed = gen.seed_of(call)
    specs = [
        ImageSpec(body["prompt"], model.id, width, height, seed, index, tuple(sources))
        for index in range(body.get("n", 1))
    ]
    n = len(specs)
    cents = call.charged_cents(n * model.price("priceperthousandimages") / 1000)
    headers = call.charge(cents)
    count_images(call.state.keys, call.principal, call.state.now(), n)
    created = int(call.state.now() // 1)
    as_b64 = body.get("response_format") == "b64_json"

    def finish(pngs: list[bytes]) -> dict[str, Any]:
        data = []
        for png in pngs:
            media_id = call.state.ids.mint(call.scope_id, "img_")
            call.state.media.put(MediaItem(media_id, "png", call.state.now(), call.scope_id, png))
            data.append(
                {"b64_json": base64.b64encode(png).decode()}
                if as_b64
                else {"url": f"{call.base_url()}/media/{media_id}.png"}
            )
        return {"created": created, "data": data}

    if body.get("sse") is True:
        return ImageEventStream(lambda: render_all(specs, inputs), finish, headers)
    pngs = await anyio.to_thread.run_sync(render_all, specs, inputs)
    return json_response(finish(pngs), headers=headers)


async def compatibility(call: ApiCall, body: dict[str, Any], model: Model) -> Response:
    """Video and music models requested through this route (CONTRACT §3.6.4): the finished
    file at once, billed as its own route."""
    from mockair.surfaces.video import frame_ratio
    from mockair.synth import audio
    from mockair.synth.video import VideoSpec, render_mp4

    if body.get("n", 1) != 1:
        raise InvalidValue("n: video and music models make one result", param="n")
    if body.get("response_format", "url") != "url":
        raise InvalidValue(
            "response_format: video and music models answer with a url", param="response_format"
        )
    call.authorize(model)
    await gen.stub_for(call)
    seed, scope, state = gen.seed_of(call), call.scope_id, call.state
    if model.kind == "video":
        caps = model.caps("video_caps")
        durations = caps.get("durations") or [5]
        duration = int(body.get("duration_seconds") or body.get("duration") or min(durations))
        ratio = frame_ratio(body, caps)
        spec = VideoSpec(body["prompt"], model.id, seed, duration, ratio)
        data = await anyio.to_thread.run_sync(render_mp4, spec)
        cents = duration * model.price("price_per_video_second_cents")
        media_id, ext = state.ids.mint(scope, "vid_"), "mp4"
    else:
        style = body.get("style")
        prompt = " ".join(str(p) for p in (body["prompt"], style) if p)
        if body.get("instrumental") in (True, "true"):
            prompt += " (instrumental)"

        def make() -> bytes:
            segment = audio.music([prompt, None, False], seed=seed, seconds=10.0, rate=44100)
            meta = audio.metadata("music", prompt=prompt, model=model.id, seed=seed)
            return audio.render(segment, audio.FORMATS["mp3"], meta)

        data = await anyio.to_thread.run_sync(make)
        cents = 10 * model.price("price_per_audio_second_cents")
        media_id, ext = state.ids.mint(scope, "aud_"), "mp3"
    state.media.put(MediaItem(media_id, ext, state.now(), scope, data))
    headers = call.charge(call.charged_cents(cents))
    return json_response(
        {
            "created": int(state.now() // 1),
            "data": [{"url": f"{call.base_url()}/media/{media_id}.{ext}"}],
        },
        headers=headers,
    )


class ImageEventStream(Response):
    """``: keepalive`` at once and every 5 s while rendering, then the JSON body, then [DONE]."""

    media_type = SSE_MEDIA_TYPE

    def __init__(self, render: Any, finish: Any, headers: dict[str, str]) -> None:
        self.status_code = 200
        self.background = None
        self.body = b""
        self.render = render
        self.finish = finish
        self.raw_headers = [(k.encode(), v.encode()) for k, v in {**SSE_HEADERS, **headers}.items()]
        self.raw_headers.append((b"content-type", SSE_MEDIA_TYPE.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})
        task = asyncio.ensure_future(anyio.to_thread.run_sync(self.render))
        while True:
            done, _ = await asyncio.wait({task}, timeout=KEEPALIVE_SECONDS)
            if done:
                break
            await send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})
        try:
            body = data_event(self.finish(task.result()))
        except ApiError as error:  # after the first byte an error is a frame (§2.10.7)
            body = data_event(error.envelope())
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        await send({"type": "http.response.body", "body": body + DONE, "more_body": False})


ROUTES = [
    api_route(
        "/v1/images/generations",
        generate_images,
        methods=("POST",),
        auth="key",
        body="json",
        schema="images.generations.request",
        summary="Generate or edit images (PNG); SSE with sse: true",
        responses=("application/json", "text/event-stream"),
    ),
]
