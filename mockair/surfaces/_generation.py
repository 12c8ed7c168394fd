"""What the three chat-shaped surfaces (chat, messages, responses) share between the wire and
the reply engine: semantic input, caps, images, context checks, pacing."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from mockair.catalog import Model
from mockair.errors import ApiError, InvalidValue, ModelNotSupported
from mockair.synth.conversation import Conversation
from mockair.synth.reasoning import ReasoningPlan, plan_reasoning
from mockair.synth.reply import Canned, CannedToolCall
from mockair.synth.text import Corpus, load_corpus
from mockair.synth.tools import ToolChoice, ToolDef, plan_tool_calls
from mockair.synth.vision import describe, image_from_base64, image_from_url, is_image
from mockair.web.routing import ApiCall
from mockair.web.sse import Pacing

# Transport, sampling and truncation fields: they never change what is generated (§2.7).
NOT_SEMANTIC = frozenset(
    {
        "stream",
        "stream_options",
        "temperature",
        "top_p",
        "top_k",
        "frequency_penalty",
        "presence_penalty",
        "user",
        "metadata",
        "store",
        "logprobs",
        "top_logprobs",
        "models",
        "fallbacks",
        "stop",
        "stop_sequences",
        "max_tokens",
        "max_completion_tokens",
        "max_output_tokens",
        "thinking_budget",
        "n",
        "seed",
        "service_tier",
        "safety_identifier",
        "prompt_cache_key",
        "prompt_cache_retention",
        "include",
        "truncation",
        "transforms",
        "logit_bias",
    }
)


class ContextLengthExceeded(ApiError):
    code = "context_length_exceeded"


@functools.lru_cache(maxsize=64)
def _ignored(schemas: Any, schema_id: str) -> frozenset[str]:
    properties = schemas.schema(schema_id).get("properties", {})
    return frozenset(
        name
        for name, spec in properties.items()
        if isinstance(spec, dict) and spec.get("x-ignored")
    )


def semantic_input(call: ApiCall, body: dict[str, Any]) -> dict[str, Any]:
    """What describes *what* to generate: the body without transport, sampling and truncation
    fields, and without every field the route's schema marks as ignored (§2.6, §2.7)."""
    ignored = _ignored(call.state.schemas, call.spec.schema) if call.spec.schema else frozenset()
    semantic = {k: v for k, v in body.items() if k not in NOT_SEMANTIC and k not in ignored}
    thinking = semantic.get("thinking")
    if isinstance(thinking, dict) and "budget_tokens" in thinking:
        semantic["thinking"] = {k: v for k, v in thinking.items() if k != "budget_tokens"}
    reasoning = semantic.get("reasoning")
    if isinstance(reasoning, dict):
        # format/exclude/max_tokens only shape or truncate (§7.1 #6).
        kept = {k: v for k, v in reasoning.items() if k not in ("format", "exclude", "max_tokens")}
        if kept:
            semantic["reasoning"] = kept
        else:
            del semantic["reasoning"]
    return semantic


def seed_of(call: ApiCall) -> int:
    assert call.body is not None
    seed = call.body.get("seed")
    return int(seed) if isinstance(seed, int) else call.state.settings.seed


def answer_cap(model: Model, *caps: int | None) -> int | None:
    """The smallest requested cap, silently capped at the model's max_output_tokens."""
    given = [c for c in caps if isinstance(c, int)]
    limit = model.public.get("max_output_tokens")
    if not given:
        return None
    cap = min(given)
    return min(cap, limit) if isinstance(limit, int) else cap


def corpus_of(call: ApiCall) -> Corpus:
    return load_corpus(call.state.settings.fixtures_dir)


def media_lookup(call: ApiCall) -> Callable[[str], bytes | None]:
    def lookup(media_id: str) -> bytes | None:
        item = call.state.media.get(media_id, call.state.now())
        return item.data if item is not None else None

    return lookup


def load_image(
    call: ApiCall, *, url: str | None = None, b64: str | None = None, param: str
) -> tuple[bytes | None, str]:
    """(bytes, label) of one input image. Inline data (base64, ``data:`` URLs) that is not a
    decodable image is a 400 naming ``param``; a URL is only ever a name, never fetched."""
    try:
        if b64 is not None:
            data: bytes | None = image_from_base64(b64)
            label = "inline data"
        else:
            data, label = image_from_url(url or "", media_lookup(call))
    except ValueError as exc:
        raise InvalidValue(f"{param}: {exc}", param=param) from None
    inline = b64 is not None or (url or "").startswith("data:")
    if inline and data is not None and not is_image(data):
        raise InvalidValue(f"{param}: the data is not a decodable image", param=param)
    return data, label


def vision_sentences(images: Iterable[tuple[bytes | None, str]]) -> list[str]:
    return [describe(data, label) for data, label in images]


def check_capabilities(model: Model, *, tools_param: str | None, image_param: str | None) -> None:
    """A model lacking a capability that the request needs gets a 400, never a silent answer."""
    if tools_param is not None and not model.flag("supports_tools"):
        raise ModelNotSupported(f"Model '{model.id}' does not support tools.", param=tools_param)
    if image_param is not None and not model.flag("supports_vision"):
        raise ModelNotSupported(
            f"Model '{model.id}' does not support image input.", param=image_param
        )


def fit_context(model: Model, conversation: Conversation, param: str, *, middle_out: bool) -> int:
    """Prompt tokens; 400 context_length_exceeded past the window (unless middle-out fits)."""
    limit = model.public.get("context_length")
    tokens = conversation.prompt_tokens()
    if isinstance(limit, int) and tokens > limit:
        if middle_out and conversation.drop_middle_to_fit(limit):
            return conversation.prompt_tokens()
        raise ContextLengthExceeded(
            f"{param}: the prompt has {tokens} tokens; model '{model.id}' accepts {limit}.",
            param=param,
        )
    return tokens


T = TypeVar("T")


def shareable_body(call: ApiCall) -> bytes | None:
    """The raw body when what it generates may be remembered by its bytes: small, and not
    referring to images (the media store can change under them); else None."""
    raw = call.ctx.body_bytes
    if raw is None or len(raw) > 65536 or b"image" in raw:
        return None
    return raw


def cached_analysis(call: ApiCall, model: Model, compute: Callable[[], T]) -> T:
    """``compute()`` for this body, remembered per server by the raw body bytes.

    The analysis of a chat-shaped body (prompt tokens, the generated replies) is a pure
    function of the bytes, the model, the seed and the virtual second; bodies that refer to
    images are never remembered (the media store can change under them). The key's own
    permission check runs inside ``compute`` and again on a remembered hit.
    """
    raw = shareable_body(call)
    if raw is None:
        return compute()
    key = (call.spec.path, model.id, int(call.state.now() // 1), raw)
    cached: T | None = call.state.replies.get(key)
    if cached is None:
        return call.state.replies.put(key, compute())  # type: ignore[no-any-return]
    call.authorize(model)
    return cached


# A stub's finish_reason in any provider's words, as each surface says it (CONTRACT §4.4).
FINISH_WORDS = {
    "chat": {
        "stop": "stop",
        "end_turn": "stop",
        "completed": "stop",
        "length": "length",
        "max_tokens": "length",
        "incomplete": "length",
        "tool_calls": "tool_calls",
        "tool_use": "tool_calls",
        "content_filter": "content_filter",
        "refusal": "content_filter",
    },
    "messages": {
        "stop": "end_turn",
        "end_turn": "end_turn",
        "completed": "end_turn",
        "length": "max_tokens",
        "max_tokens": "max_tokens",
        "incomplete": "max_tokens",
        "tool_calls": "tool_use",
        "tool_use": "tool_use",
        "content_filter": "refusal",
        "refusal": "refusal",
    },
    "responses": {
        "stop": "completed",
        "end_turn": "completed",
        "completed": "completed",
        "tool_calls": "completed",
        "tool_use": "completed",
        "length": "incomplete",
        "max_tokens": "incomplete",
        "incomplete": "incomplete",
        "content_filter": "incomplete",
        "refusal": "incomplete",
    },
}


def canned_from(respond: dict[str, Any] | None) -> Canned | None:
    """The provider-neutral content of a stub, or None when it supplies no content."""
    if not respond or not any(k in respond for k in ("text", "tool_calls", "reasoning")):
        return None
    calls = respond.get("tool_calls")
    return Canned(
        text=respond.get("text"),
        tool_calls=tuple(
            CannedToolCall(c["name"], c.get("arguments", {}), c.get("id")) for c in calls
        )
        if calls
        else None,
        reasoning=respond.get("reasoning"),
    )


def finish_override(respond: dict[str, Any] | None, surface: str) -> str | None:
    value = (respond or {}).get("finish_reason")
    return FINISH_WORDS[surface].get(value) if isinstance(value, str) else None


def usage_override(respond: dict[str, Any] | None, prompt: int, completion: int) -> tuple[int, int]:
    usage = (respond or {}).get("usage") or {}
    return int(usage.get("prompt_tokens", prompt)), int(usage.get("completion_tokens", completion))


async def stub_for(call: ApiCall, *, task_route: bool = False) -> dict[str, Any] | None:
    """Step 11 for any route: the matching stub's respond object after its latency, raw
    override and error (raised) have been applied."""
    respond = call.stub()
    if respond is not None:
        await call.stub_effects(respond, task_route=task_route)
    return respond


def task_failure(respond: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stub's error on a task route: the task is created and later ends as failed."""
    error = (respond or {}).get("error")
    if not isinstance(error, dict):
        return None
    return {
        "code": error.get("code") or "upstream_unavailable",
        "message": error.get("message") or "Injected failure (mockair)",
    }


def plan_reply(
    body: dict[str, Any],
    model: Model,
    conversation: Conversation,
    choice: ToolChoice,
    *,
    endpoint: str,
    parallel: bool = False,
    max_calls: int | None = None,
) -> tuple[ReasoningPlan, list[ToolDef]]:
    """Whether the reply reasons, and which tools it calls (CONTRACT §2.11.2, §2.11.3)."""
    plan = plan_reasoning(
        body,
        supports_reasoning=model.flag("supports_reasoning"),
        reasons_by_default=bool(model.private.get("reasons_by_default")),
        anthropic=model.owned_by == "anthropic",
        endpoint=endpoint,
    )
    if not model.flag("supports_tools"):
        return plan, []
    last = conversation.last
    called = plan_tool_calls(
        conversation.tools,
        choice,
        last_user_text=conversation.last_user_text(),
        last_is_user=last is not None and last.role == "user" and not last.tool_result,
        last_is_tool_result=last is not None and last.tool_result,
        parallel=parallel,
        max_calls=max_calls,
    )
    return plan, called


def pacing_for(call: ApiCall, model: Model) -> Pacing | None:
    """Real-time pacing (``--realtime``, or ``X-Mockair-Realtime: 1`` on one request)."""
    header = (call.request.headers.get("x-mockair-realtime") or "").strip().lower()
    if header in ("0", "false", "off", "no"):
        return None
    if not call.state.settings.realtime and header not in ("1", "true", "on", "yes"):
        return None
    ttft = model.public.get("ttft_ms") or 300
    rate = model.private.get("tokens_per_second") or 50
    return Pacing(first_s=ttft / 1000, each_s=1 / rate)
