"""POST /v1/responses, GET and DELETE /v1/responses/{id} (OpenAI Responses, CONTRACT §3.4)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from mockair.errors import ApiError, InvalidValue
from mockair.formats import openai_responses as wire
from mockair.state.billing import token_cost_cents, usd
from mockair.state.responses import StoredResponse
from mockair.surfaces import _generation as gen
from mockair.synth.conversation import Conversation, Turn
from mockair.synth.reply import TEXT, OutputFormat, ReplyRequest, generate
from mockair.web.routing import ApiCall, api_route, applies_stubs, json_response
from mockair.web.sse import EventStream

ROUTE_KEY = "/v1/responses"


class ResponseNotFound(ApiError):
    status = 404
    code = "response_not_found"


def _unsupported(body: dict[str, Any]) -> None:
    if body.get("background") is True:
        raise InvalidValue("background: background responses are not supported", param="background")
    for name in ("conversation", "prompt"):
        if name in body:
            raise InvalidValue(
                f"{name}: not supported by mockair; use previous_response_id", param=name
            )


def _output_format(body: dict[str, Any]) -> OutputFormat:
    spec = (body.get("text") or {}).get("format") or {}
    kind = spec.get("type", "text")
    if kind == "json_schema":
        return OutputFormat("json_schema", spec.get("schema"))
    return OutputFormat("json_object") if kind == "json_object" else TEXT


def _echo(body: dict[str, Any]) -> dict[str, Any]:
    reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else {}
    return {
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {
            "effort": reasoning.get("effort"),
            "summary": reasoning.get("summary"),
        },
        "store": body.get("store", True),
        "temperature": float(body.get("temperature", 1.0)),
        "text": {
            "format": (body.get("text") or {}).get("format") or {"type": "text"},
            **(
                {"verbosity": body["text"]["verbosity"]}
                if isinstance(body.get("text"), dict) and "verbosity" in body["text"]
                else {}
            ),
        },
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": float(body.get("top_p", 1.0)),
        "truncation": body.get("truncation", "disabled"),
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


@applies_stubs
async def create_response(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    _unsupported(body)
    model = call.resolve_model(body["model"], ("chat",), "responses")
    state, scope = call.state, call.scope_id
    history: list[Turn] = []
    previous_id = body.get("previous_response_id")
    if previous_id is not None:
        previous = state.responses.get(scope, previous_id)
        if previous is None:
            raise ResponseNotFound(
                f"Response '{previous_id}' not found.", param="previous_response_id"
            )
        history = [*previous.conversation, *wire.output_turns(previous.body["output"])]
    vision = model.flag("supports_vision")
    new_turns = wire.input_turns(
        body.get("input", []), load=lambda **kw: gen.load_image(call, **kw), vision=vision
    )
    tools = wire.function_tools(body)
    choice = wire.tool_choice(body, {t.name for t in tools})
    gen.check_capabilities(
        model,
        tools_param="tools" if tools else None,
        image_param=wire.first_image_param(body.get("input")),
    )
    instructions = body.get("instructions")
    system = [Turn(role="system", text=instructions)] if isinstance(instructions, str) else []
    conversation = Conversation(
        [*system, *history, *new_turns],
        tools,
        [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"]
        or None,
    )
    prompt_tokens = gen.fit_context(
        model, conversation, "input", middle_out=body.get("truncation") == "auto"
    )
    call.authorize(model)

    plan, called = gen.plan_reply(
        body,
        model,
        conversation,
        choice,
        endpoint="responses",
        parallel=body.get("parallel_tool_calls") is True,
        max_calls=body.get("max_tool_calls"),
    )
    respond = await gen.stub_for(call)
    reply = generate(
        ReplyRequest(
            route_key=ROUTE_KEY,
            model=model.id,
            semantic=gen.semantic_input(call, body),
            seed=gen.seed_of(call),
            now=state.now(),
            reasoning=plan,
            tools_called=called,
            output=_output_format(body),
            vision=gen.vision_sentences(conversation.last_user_images()),
            cap=gen.answer_cap(model, body.get("max_output_tokens")),
            canned=gen.canned_from(respond),
        ),
        gen.corpus_of(call),
    )

    prompt_tokens, output_tokens = gen.usage_override(
        respond, prompt_tokens, reply.completion_tokens()
    )
    cents = call.charged_cents(token_cost_cents(model, prompt_tokens, output_tokens))
    headers = call.charge(
        cents,
        prompt_tokens=prompt_tokens,
        completion_tokens=output_tokens,
        capped_tokens=prompt_tokens + output_tokens,
    )
    ids = state.ids
    response_id = ids.mint(scope, "resp_")
    item_ids = wire.ItemIds(
        reasoning=ids.mint(scope, "rs_") if reply.reasoning_tokens else None,
        message=ids.mint(scope, "msg_") if not reply.tool_calls else None,
        calls=[
            (ids.mint(scope, "fc_"), c.given_id or ids.mint(scope, "call_"))
            for c in reply.tool_calls
        ],
    )
    now = int(state.now() // 1)
    status = gen.finish_override(respond, "responses") or (
        "incomplete" if reply.finish == "length" else "completed"
    )
    head = {"id": response_id, "created_at": now, "model": model.id}
    echo = _echo(body)
    usage = wire.usage_block(prompt_tokens, reply, usd(cents), output_tokens)
    completed_at = now if status == "completed" else None
    obj = wire.response_object(
        head,
        echo,
        status=status,
        output=wire.output_items(reply, item_ids),
        usage=usage,
        completed_at=completed_at,
    )
    if echo["store"]:
        state.responses.put(scope, response_id, StoredResponse(obj, [*history, *new_turns]))
    if body.get("stream") is True:
        events = wire.events(
            head, echo, reply, item_ids, status=status, usage=usage, completed_at=completed_at
        )
        cut = call.stream_cut(wire.error_frame, respond=respond)
        return EventStream(events, headers=headers, pacing=gen.pacing_for(call, model), cut=cut)
    return json_response(obj, headers=headers)


def _stored(call: ApiCall) -> tuple[str, StoredResponse]:
    response_id = call.path_param("response_id")
    stored = call.state.responses.get(call.scope_id, response_id)
    if stored is None:
        raise ResponseNotFound(f"Response '{response_id}' not found.", param="response_id")
    return response_id, stored


async def get_response(call: ApiCall) -> Response:
    if (call.query("stream") or "").lower() == "true":
        raise InvalidValue("stream: streaming a stored response is not supported", param="stream")
    return json_response(_stored(call)[1].body)


async def delete_response(call: ApiCall) -> Response:
    response_id, _ = _stored(call)
    call.state.responses.delete(call.scope_id, response_id)
    return json_response({"id": response_id, "object": "response", "deleted": True})


ROUTES = [
    api_route(
        "/v1/responses",
        create_response,
        methods=("POST",),
        auth="key_x",
        body="json",
        schema="responses.create.request",
        summary="Create a response (OpenAI Responses shape; SSE with stream: true)",
        responses=("application/json", "text/event-stream"),
    ),
    api_route(
        "/v1/responses/{response_id}",
        get_response,
        auth="key_x",
        summary="Retrieve a stored response",
        query=("stream",),
    ),
    api_route(
        "/v1/responses/{response_id}",
        delete_response,
        methods=("DELETE",),
        auth="key_x",
        summary="Delete a stored response",
    ),
]
