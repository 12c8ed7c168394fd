"""Anthropic Messages: reading a request, message objects and named event sequences
(CONTRACT §2.10.2, §3.3)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mockair.formats.openai_chat import decimal
from mockair.synth.conversation import Conversation, Turn
from mockair.synth.reply import Reply
from mockair.synth.rng import canonical
from mockair.synth.tokenizer import compact_json, count_json
from mockair.synth.tools import ToolChoice, ToolDef
from mockair.web.sse import named_event

STOP_REASONS = {
    "stop": "end_turn",
    "stop_sequence": "stop_sequence",
    "length": "max_tokens",
    "tool_calls": "tool_use",
}
ImageLoader = Callable[..., tuple[bytes | None, str]]


def signature(thinking: str) -> str:
    return "sig_" + hashlib.sha256(thinking.encode()).hexdigest()[:48]


def _block_text(block: dict[str, Any]) -> str | None:
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        return block["text"]
    if kind == "thinking" and isinstance(block.get("thinking"), str):
        return block["thinking"]
    if kind == "tool_result":
        content = block.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "\n".join(
                b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)
            )
        return ""
    return None


def _turn(role: str, content: Any, *, load: ImageLoader | None, param: str) -> Turn:
    if isinstance(content, str):
        return Turn(role=role, text=content)
    turn = Turn(role=role)
    texts = []
    for index, block in enumerate(content if isinstance(content, list) else []):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        text = _block_text(block)
        if kind == "tool_result":
            turn.tool_result = True
        if text is not None:
            texts.append(text)
        elif kind == "tool_use":
            turn.tool_calls.append(
                (str(block.get("name", "")), compact_json(block.get("input", {})))
            )
        else:
            turn.non_text_parts += 1
            if kind == "image" and load is not None:
                source = block.get("source") or {}
                where = f"{param}.{index}.source"
                if source.get("type") == "base64":
                    turn.images.append(load(b64=str(source.get("data", "")), param=where + ".data"))
                elif source.get("type") == "url":
                    turn.images.append(load(url=str(source.get("url", "")), param=where + ".url"))
                else:
                    turn.images.append((None, str(source.get("file_id", "file"))))
    turn.text = "\n".join(texts)
    return turn


def first_image_param(body: dict[str, Any]) -> str | None:
    for number, message in enumerate(body.get("messages") or []):
        content = message.get("content")
        if isinstance(content, list):
            for index, block in enumerate(content):
                if isinstance(block, dict) and block.get("type") == "image":
                    return f"messages.{number}.content.{index}"
    return None


def custom_tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        t
        for t in body.get("tools") or []
        if isinstance(t, dict) and t.get("type") in (None, "custom") and "name" in t
    ]


def read_conversation(body: dict[str, Any], load: ImageLoader, *, vision: bool) -> Conversation:
    turns = []
    system = body.get("system")
    if system:
        turns.append(_turn("system", system, load=None, param="system"))
    messages = body["messages"]
    for number, message in enumerate(messages):
        want = vision and number == len(messages) - 1 and message.get("role") == "user"
        turns.append(
            _turn(
                message.get("role", "user"),
                message.get("content"),
                load=load if want else None,
                param=f"messages.{number}.content",
            )
        )
    tools = [
        ToolDef(t["name"], str(t.get("description") or ""), t.get("input_schema"))
        for t in custom_tools(body)
    ]
    return Conversation(turns, tools, body.get("tools") or None)


def tool_choice(body: dict[str, Any], declared: set[str]) -> ToolChoice:
    from mockair.errors import InvalidValue

    value = body.get("tool_choice") or {}
    kind = value.get("type", "auto")
    if kind == "tool":
        name = value.get("name")
        if name not in declared:
            raise InvalidValue(
                f"tool_choice.name: no tool named '{name}' in tools", param="tool_choice.name"
            )
        return ToolChoice("named", name)
    return ToolChoice({"any": "required", "none": "none"}.get(kind, "auto"))


def output_schema(body: dict[str, Any]) -> Any:
    """The JSON Schema of ``output_config.format`` or ``output_format``, or None."""
    config = body.get("output_config")
    spec = config.get("format") if isinstance(config, dict) else None
    if not (isinstance(spec, dict) and spec.get("type") == "json_schema"):
        spec = body.get("output_format")
    if isinstance(spec, dict) and spec.get("type") == "json_schema":
        return spec.get("schema", {})
    return None


# -- prompt caching (§3.3.4) -------------------------------------------------------------------


@dataclass(frozen=True)
class CachePrefix:
    tokens: int
    ttl: str  # "5m" | "1h"
    digest: str


def _ttl(marker: Any) -> str:
    return "1h" if isinstance(marker, dict) and marker.get("ttl") == "1h" else "5m"


def _turn_tokens(role: str, content: Any, upto: int | None) -> int:
    if isinstance(content, str) or upto is None:
        turn = _turn(role, content, load=None, param="")
        return turn.tokens()
    turn = _turn(role, content[: upto + 1], load=None, param="")
    return turn.tokens()


def cache_prefix(body: dict[str, Any]) -> CachePrefix | None:
    """The cacheable prefix: tools -> system -> messages, up to the last cache_control marker."""
    tools = body.get("tools") or []
    system = body.get("system")
    messages = body.get("messages") or []
    last: tuple[str, int, int | None] | None = None  # (section, index, block index)
    ttl = "5m"
    for index, tool in enumerate(tools):
        if isinstance(tool, dict) and tool.get("cache_control"):
            last, ttl = ("tools", index, None), _ttl(tool["cache_control"])
    if isinstance(system, list):
        for index, block in enumerate(system):
            if isinstance(block, dict) and block.get("cache_control"):
                last, ttl = ("system", 0, index), _ttl(block["cache_control"])
    for number, message in enumerate(messages):
        content = message.get("content")
        if isinstance(content, list):
            for index, block in enumerate(content):
                if isinstance(block, dict) and block.get("cache_control"):
                    last, ttl = ("messages", number, index), _ttl(block["cache_control"])
    if body.get("cache_control"):
        ttl = _ttl(body["cache_control"])
        if messages:
            content = messages[-1].get("content")
            upto = len(content) - 1 if isinstance(content, list) else None
            last = ("messages", len(messages) - 1, upto)
    if last is None:
        return None
    section, index, block = last
    if section == "tools":
        part: list[Any] = [tools[: index + 1]]
        tokens = count_json(tools[: index + 1])
    else:
        tokens = count_json(tools) if tools else 0
        part = [tools]
        if system:
            if section == "system":
                tokens += _turn_tokens("system", system, block)
                part.append(system[: (block or 0) + 1] if isinstance(system, list) else system)
            else:
                tokens += _turn_tokens("system", system, None)
                part.append(system)
        if section == "messages":
            for number in range(index + 1):
                message = messages[number]
                upto = block if number == index else None
                tokens += _turn_tokens(message.get("role", "user"), message.get("content"), upto)
                content = message.get("content")
                part.append(content[: upto + 1] if upto is not None else content)
    digest = hashlib.sha256(canonical(part).encode()).hexdigest()
    return CachePrefix(tokens, ttl, digest)


# -- writing a response -------------------------------------------------------------------------


@dataclass
class CacheUsage:
    read: int = 0
    write_5m: int = 0
    write_1h: int = 0

    @property
    def created(self) -> int:
        return self.write_5m + self.write_1h


def content_blocks(reply: Reply, tool_ids: Sequence[str]) -> list[Any]:
    import json

    blocks: list[dict[str, Any]] = []
    if reply.reasoning_tokens:
        blocks.append(
            {
                "type": "thinking",
                "thinking": reply.reasoning,
                "signature": signature(reply.reasoning),
            }
        )
    if reply.tool_calls:
        for call, call_id in zip(reply.tool_calls, tool_ids, strict=True):
            blocks.append(
                {
                    "type": "tool_use",
                    "id": call_id,
                    "name": call.name,
                    "input": json.loads(call.arguments_json or "{}"),
                }
            )
    else:
        blocks.append({"type": "text", "text": reply.answer})
    return blocks


def usage_block(
    input_tokens: int,
    reply: Reply,
    cache: CacheUsage,
    cost_usd: float | None,
    *,
    shape: str,
    output_tokens: int | None = None,
) -> dict[str, Any]:
    """Usage as the final object (``final``), ``message_start`` (``start``) or
    ``message_delta`` (``delta``) carry it (§2.10.2, §3.3.3)."""
    usage: dict[str, Any] = {"input_tokens": input_tokens}
    output = reply.completion_tokens() if output_tokens is None else output_tokens
    usage["output_tokens"] = 0 if shape == "start" else output
    if shape != "start":
        usage["output_tokens_details"] = {"thinking_tokens": len(reply.reasoning_tokens)}
    usage["cache_creation_input_tokens"] = cache.created
    usage["cache_read_input_tokens"] = cache.read
    if shape != "delta":
        usage["cache_creation"] = {
            "ephemeral_5m_input_tokens": cache.write_5m,
            "ephemeral_1h_input_tokens": cache.write_1h,
        }
    if cost_usd is not None:
        usage["cost"] = decimal(cost_usd)
    return usage


def message_object(
    message_id: str,
    model: str,
    reply: Reply,
    tool_ids: Sequence[str],
    usage: dict[str, Any],
    stop_reason: str,
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content_blocks(reply, tool_ids),
        "stop_reason": stop_reason,
        "stop_sequence": reply.stop_sequence if stop_reason == "stop_sequence" else None,
        "usage": usage,
    }


def events(
    message_id: str,
    model: str,
    reply: Reply,
    tool_ids: Sequence[str],
    input_tokens: int,
    cache: CacheUsage,
    cost_usd: float,
    stop_reason: str,
    output_tokens: int | None = None,
) -> list[bytes]:
    start_usage = usage_block(input_tokens, reply, cache, None, shape="start")
    out = [
        named_event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
        )
    ]
    index = 0

    def block(start: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
        nonlocal index
        out.append(
            named_event(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        )
        for delta in deltas:
            out.append(
                named_event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            )
        out.append(
            named_event("content_block_stop", {"type": "content_block_stop", "index": index})
        )
        index += 1

    if reply.reasoning_tokens:
        block(
            {"type": "thinking", "thinking": "", "signature": ""},
            [{"type": "thinking_delta", "thinking": t} for t in reply.reasoning_tokens]
            + [{"type": "signature_delta", "signature": signature(reply.reasoning)}],
        )
    if reply.tool_calls:
        for call, call_id in zip(reply.tool_calls, tool_ids, strict=True):
            block(
                {"type": "tool_use", "id": call_id, "name": call.name, "input": {}},
                [{"type": "input_json_delta", "partial_json": t} for t in call.argument_tokens],
            )
    else:
        block(
            {"type": "text", "text": ""},
            [{"type": "text_delta", "text": t} for t in reply.answer_tokens],
        )
    final = usage_block(
        input_tokens, reply, cache, cost_usd, shape="delta", output_tokens=output_tokens
    )
    out.append(
        named_event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": stop_reason,
                    "stop_sequence": reply.stop_sequence
                    if stop_reason == "stop_sequence"
                    else None,
                },
                "usage": final,
            },
        )
    )
    out.append(named_event("message_stop", {"type": "message_stop"}))
    return out


def error_frame(error: Any, sent: int) -> bytes:
    """Anthropic's mid-stream error event, with the four-key envelope inside (§2.10.7)."""
    return named_event("error", {"type": "error", "error": error.envelope()["error"]})
