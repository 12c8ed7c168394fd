"""POST /v1/messages and /v1/messages/count_tokens (Anthropic shape, CONTRACT §3.3)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from mockair.catalog import Model
from mockair.formats import anthropic_messages as wire
from mockair.state.billing import messages_cost_cents, usd
from mockair.surfaces import _generation as gen
from mockair.synth.conversation import Conversation
from mockair.synth.reply import TEXT, OutputFormat, ReplyRequest, generate
from mockair.web.routing import ApiCall, api_route, applies_stubs, json_response
from mockair.web.sse import EventStream

ROUTE_KEY = "/v1/messages"


def _models(call: ApiCall, body: dict[str, Any]) -> Model:
    model = call.resolve_model(body["model"], ("chat",), "messages")
    fallbacks = body.get("models") or []
    if isinstance(body.get("fallbacks"), list):
        fallbacks = [
            *fallbacks,
            *(f.get("model") for f in body["fallbacks"] if isinstance(f, dict)),
        ]
    for index, model_id in enumerate(fallbacks):
        if isinstance(model_id, str):
            call.state.catalog.get_kind(model_id, ("chat",), "messages", param=f"models.{index}")
    return model


def _conversation(call: ApiCall, body: dict[str, Any], model: Model) -> Conversation:
    conversation = wire.read_conversation(
        body, lambda **kw: gen.load_image(call, **kw), vision=model.flag("supports_vision")
    )
    gen.check_capabilities(
        model,
        tools_param="tools" if wire.custom_tools(body) else None,
        image_param=wire.first_image_param(body),
    )
    return conversation


@applies_stubs
async def create_message(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    model = _models(call, body)
    declared = {t["name"] for t in wire.custom_tools(body)}
    choice = wire.tool_choice(body, declared)
    conversation = _conversation(call, body, model)
    prompt_tokens = gen.fit_context(model, conversation, "messages", middle_out=False)
    call.authorize(model)

    plan, called = gen.plan_reply(body, model, conversation, choice, endpoint="messages")
    schema = wire.output_schema(body)
    respond = await gen.stub_for(call)
    reply = generate(
        ReplyRequest(
            route_key=ROUTE_KEY,
            model=model.id,
            semantic=gen.semantic_input(call, body),
            seed=gen.seed_of(call),
            now=call.state.now(),
            reasoning=plan,
            tools_called=called,
            output=OutputFormat("json_schema", schema) if schema is not None else TEXT,
            vision=gen.vision_sentences(conversation.last_user_images()),
            stops=list(body.get("stop_sequences") or []),
            cap=gen.answer_cap(model, body.get("max_tokens")),
            canned=gen.canned_from(respond),
        ),
        gen.corpus_of(call),
    )

    cache = wire.CacheUsage()
    headers: dict[str, str] = {}
    prefix = wire.cache_prefix(body)
    if prefix is not None:
        hit = call.state.prompt_cache.use(
            call.scope_id, model.id, prefix.digest, prefix.ttl, call.state.now()
        )
        headers["x-cache-hit"] = hit or "miss"
        if hit:
            cache.read = prefix.tokens
        elif prefix.ttl == "1h":
            cache.write_1h = prefix.tokens
        else:
            cache.write_5m = prefix.tokens
    prompt_tokens, output_tokens = gen.usage_override(
        respond, prompt_tokens, reply.completion_tokens()
    )
    input_tokens = max(0, prompt_tokens - cache.read - cache.created)
    cents = call.charged_cents(
        messages_cost_cents(
            model, input_tokens, output_tokens, cache.read, cache.write_5m, cache.write_1h
        )
    )
    headers |= call.charge(
        cents,
        prompt_tokens=prompt_tokens,
        completion_tokens=output_tokens,
        capped_tokens=prompt_tokens + output_tokens,
    )
    scope, ids = call.scope_id, call.state.ids
    tool_ids = [c.given_id or ids.mint(scope, "toolu_") for c in reply.tool_calls]
    message_id = ids.mint(scope, "msg_")
    stop_reason = gen.finish_override(respond, "messages") or wire.STOP_REASONS[reply.finish]
    if body.get("stream") is True:
        events = wire.events(
            message_id,
            model.id,
            reply,
            tool_ids,
            input_tokens,
            cache,
            usd(cents),
            stop_reason,
            output_tokens,
        )
        cut = call.stream_cut(wire.error_frame, respond=respond)
        return EventStream(events, headers=headers, pacing=gen.pacing_for(call, model), cut=cut)
    usage = wire.usage_block(
        input_tokens, reply, cache, usd(cents), shape="final", output_tokens=output_tokens
    )
    return json_response(
        wire.message_object(message_id, model.id, reply, tool_ids, usage, stop_reason),
        headers=headers,
    )


async def count_tokens(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    if isinstance(body.get("model"), str):  # optional here; when given it must be a chat model
        call.resolve_model(body["model"], ("chat",), "messages")
    # Images are counted (85 each), never decoded: nothing is generated.
    conversation = wire.read_conversation(body, lambda **kw: (None, "inline data"), vision=False)
    return json_response({"input_tokens": conversation.prompt_tokens()})


ROUTES = [
    api_route(
        "/v1/messages",
        create_message,
        methods=("POST",),
        auth="key_x",
        body="json",
        schema="messages.create.request",
        summary="Create a message (Anthropic shape; named SSE events with stream: true)",
        responses=("application/json", "text/event-stream"),
    ),
    api_route(
        "/v1/messages/count_tokens",
        count_tokens,
        methods=("POST",),
        auth="key_x",
        body="json",
        schema="messages.count_tokens.request",
        summary="Count the input tokens of a messages request",
    ),
]
