"""The 2024 legacy routes (CONTRACT §3.12), with and without the /v1 prefix."""

from __future__ import annotations

import re

from starlette.responses import Response

from mockair.errors import InvalidValue, MissingField
from mockair.state.media import MediaItem
from mockair.surfaces import _generation as gen
from mockair.synth.images import ImageSpec, render_png
from mockair.synth.reply import ReplyRequest, generate
from mockair.web.routing import ApiCall, api_route
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


async def ask(call: ApiCall) -> Response:
    prompt = required_query(call, "prompt")
    # An internal model: exempt from the key's model rules (CONTRACT §3.12.4, §7.1 #8).
    model = call.state.catalog.get(ASK_MODEL)
    call.ctx.model = model.id
    reply = generate(
        ReplyRequest(
            route_key="/ask",
            model=model.id,
            semantic={"messages": [{"role": "user", "content": prompt}]},
            seed=call.state.settings.seed,
            now=call.state.now(),
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
    return EventStream(events, pacing=gen.pacing_for(call, model))


ROUTES = [
    api_route(
        path,
        ask,
        auth="legacy",
        tag="legacy",
        query=("prompt",),
        summary="GlobalAsk: stream an answer as data: lines (legacy)",
        responses=("text/event-stream",),
    )
    for path in ("/ask", "/v1/ask")
]
