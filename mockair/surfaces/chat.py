"""POST /v1/chat/completions and the legacy POST /chat/completions (CONTRACT §3.2, §3.12.1)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from mockair import jsonio
from mockair.catalog import Model
from mockair.errors import InvalidValue
from mockair.formats import openai_chat
from mockair.state.billing import token_cost_cents, usd
from mockair.surfaces import _generation as gen
from mockair.synth.reply import Canned, OutputFormat, Reply, ReplyRequest, generate
from mockair.synth.tools import ToolChoice
from mockair.web.responses import JsonBytesResponse
from mockair.web.routing import ApiCall, api_route, applies_stubs
from mockair.web.sse import EventStream

ROUTE_KEY = "/v1/chat/completions"


def tool_choice(body: dict[str, Any], declared: set[str]) -> ToolChoice:
    value = body.get("tool_choice", "auto")
    if value in ("none", "auto", "required"):
        return ToolChoice(value)
    if isinstance(value, dict) and value.get("type") == "function":
        name = (value.get("function") or {}).get("name")
        if name not in declared:
            raise InvalidValue(
                f"tool_choice.function.name: no tool named '{name}' in tools",
                param="tool_choice.function.name",
            )
        return ToolChoice("named", name)
    return ToolChoice("auto")  # allowed_tools and custom choices act as auto


def output_format(body: dict[str, Any]) -> OutputFormat:
    spec = body.get("response_format") or {}
    kind = spec.get("type", "text")
    if kind == "json_schema":
        return OutputFormat("json_schema", (spec.get("json_schema") or {}).get("schema"))
    return OutputFormat(kind if kind in ("text", "json_object") else "text")


def resolve_models(call: ApiCall, body: dict[str, Any]) -> list[Model]:
    """The model and its fallbacks (§3.2.4): each must exist and be a chat model."""
    candidates = [call.resolve_model(body["model"], ("chat",), "chat completions")]
    for index, model_id in enumerate(body.get("models") or []):
        candidates.append(
            call.state.catalog.get_kind(
                model_id, ("chat",), "chat completions", param=f"models.{index}"
            )
        )
    call.ctx.model = candidates[0].id
    return candidates


@dataclass(frozen=True)
class Analysis:
    """Everything about a chat request that depends only on its body, model, seed and time."""

    prompt_tokens: int
    replies: tuple[Reply, ...]


def analyse(
    call: ApiCall, body: dict[str, Any], model: Model, canned: Canned | None = None
) -> Analysis:
    declared = {
        t["function"]["name"]
        for t in body.get("tools") or []
        if t.get("type") == "function" and isinstance(t.get("function"), dict)
    }
    choice_mode = tool_choice(body, declared)
    conversation, image_param = openai_chat.read_conversation(
        body,
        lambda url, param: gen.load_image(call, url=url, param=param),
        vision=model.flag("supports_vision"),
    )
    gen.check_capabilities(
        model, tools_param="tools" if body.get("tools") else None, image_param=image_param
    )
    middle_out = "middle-out" in (body.get("transforms") or [])
    prompt_tokens = gen.fit_context(model, conversation, "messages", middle_out=middle_out)
    call.authorize(model)

    plan, called = gen.plan_reply(
        body,
        model,
        conversation,
        choice_mode,
        endpoint="chat",
        parallel=body.get("parallel_tool_calls") is True,
    )
    stop = body.get("stop")
    request = ReplyRequest(
        route_key=ROUTE_KEY,
        model=model.id,
        semantic=gen.semantic_input(call, body),
        seed=gen.seed_of(call),
        now=call.state.now(),
        reasoning=plan,
        tools_called=called,
        output=output_format(body),
        vision=gen.vision_sentences(conversation.last_user_images()),
        stops=[stop] if isinstance(stop, str) else list(stop or []),
        cap=gen.answer_cap(model, body.get("max_tokens"), body.get("max_completion_tokens")),
        canned=canned,
    )
    corpus = gen.corpus_of(call)
    replies = tuple(
        generate(dataclasses.replace(request, choice=index), corpus)
        for index in range(body.get("n", 1))
    )
    return Analysis(prompt_tokens, replies)


@dataclass(frozen=True)
class WireParts:
    """A non-streamed answer serialised around its two per-request values, the id and the
    creation second: ``{"id":"<id>","object":"chat.completion","created":<n>`` + ``tail``."""

    prompt_tokens: int
    completion_tokens: int
    cents: float
    tail: bytes


COMPLETION_HEAD = b'{"id":"'
COMPLETION_MIDDLE = b'","object":"chat.completion","created":'


def wire_parts(body: bytes, completion_id: str, created: int, **counts: Any) -> WireParts | None:
    """The parts of an answer serialised by ``openai_chat.completion`` (which stays the one
    definition of its layout); None if it does not begin as expected."""
    start = COMPLETION_HEAD + completion_id.encode() + COMPLETION_MIDDLE + str(created).encode()
    if not body.startswith(start):
        return None
    return WireParts(tail=body[len(start) :], **counts)


def _wire_key(call: ApiCall, model: Model) -> tuple[Any, ...] | None:
    """The key of a memoised answer: the same bytes (and so the same analysis) from a caller
    that is billed the same way; None when the answer cannot be shared."""
    raw = gen.shareable_body(call)
    if raw is None:
        return None
    anonymous = call.principal is None or call.principal.anonymous
    return (raw, model.id, int(call.state.now() // 1), anonymous)


@applies_stubs
async def create_completion(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    if "stream_options" in body and body.get("stream") is not True:
        raise InvalidValue("stream_options: only allowed with stream: true", param="stream_options")
    model = resolve_models(call, body)[0]
    stream = body.get("stream") is True
    wire_key = None if stream else _wire_key(call, model)
    parts = call.state.wire.get(wire_key) if wire_key is not None else None
    if parts is None:
        analysis = gen.cached_analysis(call, model, lambda: analyse(call, body, model))
    else:
        # A remembered answer to these bytes: its analysis passed, and only the key's own
        # checks (steps 9-10) are left to run for this caller.
        call.authorize(model)
    respond = await gen.stub_for(call)
    scope, ids = call.scope_id, call.state.ids
    if respond is not None and parts is not None:
        # A stub reshapes the answer: computed afresh below. The key's checks run once more
        # inside; they only read (and settle failed tasks once).
        parts = None
        analysis = gen.cached_analysis(call, model, lambda: analyse(call, body, model))
    if stream:
        choices, prompt_tokens, completion_tokens, cents = _answer(
            call, body, model, analysis, respond
        )
        headers = _charge(call, cents, prompt_tokens, completion_tokens)
        include_usage = (body.get("stream_options") or {}).get("include_usage") is True
        usage = openai_chat.usage_block(prompt_tokens, choices, usd(cents), completion_tokens)
        events = openai_chat.chunks(
            ids.mint(scope, "chatcmpl-"),
            int(call.state.now() // 1),
            model.id,
            choices,
            usage if include_usage else None,
        )
        cut = call.stream_cut(openai_chat.error_frame, respond=respond)
        return EventStream(events, headers=headers, pacing=gen.pacing_for(call, model), cut=cut)
    completion_id = ids.mint(scope, "chatcmpl-")
    created = int(call.state.now() // 1)
    if parts is not None:
        headers = _charge(call, parts.cents, parts.prompt_tokens, parts.completion_tokens)
        content = b"".join(
            (
                COMPLETION_HEAD,
                completion_id.encode(),
                COMPLETION_MIDDLE,
                str(created).encode(),
                parts.tail,
            )
        )
        return JsonBytesResponse(content, 200, headers)
    choices, prompt_tokens, completion_tokens, cents = _answer(call, body, model, analysis, respond)
    headers = _charge(call, cents, prompt_tokens, completion_tokens)
    usage = openai_chat.usage_block(prompt_tokens, choices, usd(cents), completion_tokens)
    content = jsonio.dumps(openai_chat.completion(completion_id, created, model.id, choices, usage))
    shareable = respond is None and not any(reply.tool_calls for reply in analysis.replies)
    if wire_key is not None and shareable:  # tool call ids are minted per request
        remembered = wire_parts(
            content,
            completion_id,
            created,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cents=cents,
        )
        if remembered is not None:
            call.state.wire.put(wire_key, remembered)
    return JsonBytesResponse(content, 200, headers)


def _charge(
    call: ApiCall, cents: float, prompt_tokens: int, completion_tokens: int
) -> dict[str, str]:
    return call.charge(
        cents,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        capped_tokens=prompt_tokens + completion_tokens,
    )


def _answer(
    call: ApiCall,
    body: dict[str, Any],
    model: Model,
    analysis: Analysis,
    respond: dict[str, Any] | None,
) -> tuple[list[openai_chat.Choice], int, int, float]:
    """The choices of this answer (a stub's content and overrides applied), its prompt and
    completion tokens, and the cents it costs the caller."""
    canned = gen.canned_from(respond)
    if canned is not None:
        analysis = analyse(call, body, model, canned)
    finish = gen.finish_override(respond, "chat")
    reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else {}
    json_reply = output_format(body).kind != "text"
    scope = call.scope_id
    ids = call.state.ids
    choices = [
        openai_chat.Choice(
            index=index,
            reply=reply,
            placement=openai_chat.placement_for(
                reasoning.get("format"), reasoning.get("exclude") is True, reply, json_reply
            ),
            tool_call_ids=[c.given_id or ids.mint(scope, "call_") for c in reply.tool_calls],
            logprobs=body.get("top_logprobs", 0) if body.get("logprobs") is True else None,
            finish_override=finish,
        )
        for index, reply in enumerate(analysis.replies)
    ]
    prompt_tokens, completion_tokens = gen.usage_override(
        respond, analysis.prompt_tokens, sum(c.completion_tokens() for c in choices)
    )
    cents = call.charged_cents(token_cost_cents(model, prompt_tokens, completion_tokens))
    return choices, prompt_tokens, completion_tokens, cents


ROUTES = [
    api_route(
        "/v1/chat/completions",
        create_completion,
        methods=("POST",),
        auth="key",
        body="json",
        schema="chat.completions.request",
        summary="Create a chat completion (OpenAI shape; SSE with stream: true)",
        responses=("application/json", "text/event-stream"),
    ),
    api_route(
        "/chat/completions",
        create_completion,
        methods=("POST",),
        auth="legacy",
        body="json",
        schema="chat.completions.request",
        tag="legacy",
        summary="Create a chat completion (legacy alias, key optional)",
        responses=("application/json", "text/event-stream"),
    ),
]
