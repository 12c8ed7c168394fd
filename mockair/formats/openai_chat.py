"""OpenAI chat completion objects and chunk sequences (CONTRACT §2.10.1, §3.2.3)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orjson import Fragment

from mockair import jsonio
from mockair.synth.reply import Reply
from mockair.synth.tokenizer import tokenize
from mockair.web.sse import DONE

THINK_OPEN = tokenize("<think>")
THINK_CLOSE = tokenize("</think>\n\n")
FINISH = {"stop": "stop", "stop_sequence": "stop", "length": "length", "tool_calls": "tool_calls"}


def decimal(value: float) -> Fragment:
    """A JSON number in plain decimal notation (``0.0000042``, never ``4.2e-06``)."""
    text = f"{value:.10f}".rstrip("0")
    return Fragment((text + "0" if text.endswith(".") else text).encode())


@dataclass
class Choice:
    index: int
    reply: Reply
    placement: str  # "none" | "inline" | "separate" | "exclude"
    tool_call_ids: Sequence[str] = ()
    finish_override: str | None = None
    logprobs: int | None = None  # None = not requested, else top_logprobs

    @property
    def finish_reason(self) -> str:
        return self.finish_override or FINISH[self.reply.finish]

    def content_tokens(self) -> list[str]:
        reply = self.reply
        if self.placement == "inline" and reply.reasoning_tokens and not reply.tool_calls:
            return [*THINK_OPEN, *reply.reasoning_tokens, *THINK_CLOSE, *reply.answer_tokens]
        return reply.answer_tokens

    def completion_tokens(self) -> int:
        inline = self.placement == "inline" and not self.reply.tool_calls
        return self.reply.completion_tokens(inline_tags=inline)


def placement_for(
    reasoning_format: str | None, exclude: bool, reply: Reply, json_reply: bool
) -> str:
    if not reply.reasoning_tokens:
        return "none"
    if exclude:
        return "exclude"
    if reasoning_format == "separate" or reply.tool_calls or json_reply:
        return "separate"
    return "inline"


def _logprob(token: str, position: int) -> float:
    h = int(hashlib.sha256(f"{token}|{position}".encode()).hexdigest()[:8], 16)
    return -(h % 2000) / 1000


def logprobs_block(tokens: list[str], top: int) -> dict[str, Any]:
    content = []
    for position, token in enumerate(tokens):
        value = _logprob(token, position)
        alternatives = []
        for rank in range(top):
            other = tokens[(position + rank) % len(tokens)]
            alternatives.append(
                {
                    "token": other,
                    "logprob": round(value - rank * 0.5, 3),
                    "bytes": list(other.encode()),
                }
            )
        content.append(
            {
                "token": token,
                "logprob": value,
                "bytes": list(token.encode()),
                "top_logprobs": alternatives,
            }
        )
    return {"content": content, "refusal": None}


def error_frame(error: Any, sent: int) -> bytes:
    """The mid-stream error of chat, image SSE and /ask streams (§2.10.7)."""
    return (
        b"data: "
        + jsonio.dumps(error.envelope()["error"] and {"error": error.envelope()["error"]})
        + b"\n\n"
    )


def usage_block(
    prompt: int, choices: Sequence[Choice], cost_usd: float, completion: int | None = None
) -> dict[str, Any]:
    if completion is None:
        completion = sum(c.completion_tokens() for c in choices)
    reasoning = sum(len(c.reply.reasoning_tokens) for c in choices)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
        "cache_creation_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "cost": decimal(cost_usd),
    }


def _tool_calls(choice: Choice) -> list[dict[str, Any]]:
    return [
        {
            "id": call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments_json},
        }
        for call, call_id in zip(choice.reply.tool_calls, choice.tool_call_ids, strict=True)
    ]


def message(choice: Choice) -> dict[str, Any]:
    reply = choice.reply
    out: dict[str, Any] = {"role": "assistant"}
    out["content"] = None if reply.tool_calls else "".join(choice.content_tokens())
    out["refusal"] = None
    if choice.placement == "separate":
        out["reasoning"] = reply.reasoning
    if reply.tool_calls:
        out["tool_calls"] = _tool_calls(choice)
    return out


def choices_block(choices: Sequence[Choice]) -> list[dict[str, Any]]:
    return [
        {
            "index": c.index,
            "message": message(c),
            "logprobs": None
            if c.logprobs is None
            else logprobs_block(c.reply.answer_tokens, c.logprobs),
            "finish_reason": c.finish_reason,
        }
        for c in choices
    ]


def completion(
    completion_id: str,
    created: int,
    model: str,
    choices: Sequence[Choice] | Fragment,
    usage: dict[str, Any] | Fragment,
) -> dict[str, Any]:
    """The chat.completion object; ``choices`` and ``usage`` may come pre-serialised."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_mockair",
        "choices": choices if isinstance(choices, Fragment) else choices_block(choices),
        "usage": usage,
    }


def chunks(
    completion_id: str,
    created: int,
    model: str,
    choices: Sequence[Choice],
    usage: dict[str, Any] | None,
) -> list[bytes]:
    """Every ``data:`` event of the stream, ``[DONE]`` included. ``usage`` is given only when
    ``stream_options.include_usage`` is true (then every chunk carries ``"usage":null``)."""
    head = (
        b'data: {"id":' + jsonio.dumps(completion_id) + b',"object":"chat.completion.chunk"'
        b',"created":'
        + str(created).encode()
        + b',"model":'
        + jsonio.dumps(model)
        + b',"system_fingerprint":"fp_mockair","choices":['
    )
    tail = b"]" + (b',"usage":null' if usage is not None else b"") + b"}\n\n"
    events: list[bytes] = []
    for choice in choices:
        index = b'{"index":' + str(choice.index).encode() + b',"delta":'
        open_end = b',"logprobs":null,"finish_reason":null}'

        def delta(payload: bytes, index: bytes = index, open_end: bytes = open_end) -> None:
            events.append(head + index + payload + open_end + tail)

        reply = choice.reply
        delta(
            b'{"role":"assistant","content":null}'
            if reply.tool_calls
            else b'{"role":"assistant","content":""}'
        )
        if choice.placement == "separate":
            for token in reply.reasoning_tokens:
                delta(b'{"reasoning":' + jsonio.dumps(token) + b"}")
        if reply.tool_calls:
            for number, (call, call_id) in enumerate(
                zip(reply.tool_calls, choice.tool_call_ids, strict=True)
            ):
                start = {
                    "tool_calls": [
                        {
                            "index": number,
                            "id": call_id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
                delta(jsonio.dumps(start))
                prefix = b'{"tool_calls":[{"index":' + str(number).encode() + b',"function":'
                for token in call.argument_tokens:
                    delta(prefix + b'{"arguments":' + jsonio.dumps(token) + b"}}]}")
        elif choice.logprobs is not None:
            # Streamed logprobs: each content chunk carries its own token's entry.
            entries = logprobs_block(reply.answer_tokens, choice.logprobs)["content"]
            offset = len(choice.content_tokens()) - len(entries)
            for position, token in enumerate(choice.content_tokens()):
                block = (
                    b"null"
                    if position < offset
                    else jsonio.dumps({"content": [entries[position - offset]], "refusal": None})
                )
                events.append(
                    head
                    + index
                    + b'{"content":'
                    + jsonio.dumps(token)
                    + b'},"logprobs":'
                    + block
                    + b',"finish_reason":null}'
                    + tail
                )
        else:
            for token in choice.content_tokens():
                delta(b'{"content":' + jsonio.dumps(token) + b"}")
        finish = jsonio.dumps(choice.finish_reason)
        events.append(head + index + b'{},"logprobs":null,"finish_reason":' + finish + b"}" + tail)
    if usage is not None:
        events.append(head[: -len(b"[")] + b'[],"usage":' + jsonio.dumps(usage) + b"}\n\n")
    events.append(DONE)
    return events


# -- reading a request ------------------------------------------------------------------------

ImageLoader = Any  # Callable[[str, str], tuple[bytes | None, str]]: (url, param) -> image


def _parts_text(
    content: Any, param: str, images: list[Any], load: ImageLoader, want_images: bool
) -> tuple[str, int, str | None]:
    """(text, non-text part count, param of the first image part) of a message content."""
    if isinstance(content, str):
        return content, 0, None
    if not isinstance(content, list):
        return "", 0, None
    texts: list[str] = []
    non_text = 0
    first_image = None
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            texts.append(part["refusal"])
        else:
            non_text += 1
            if kind == "image_url":
                first_image = first_image or f"{param}.{index}"
                if want_images:
                    image = part.get("image_url")
                    url = image.get("url") if isinstance(image, dict) else image
                    images.append(load(str(url or ""), f"{param}.{index}.image_url.url"))
    return "\n".join(texts), non_text, first_image


def read_conversation(
    body: dict[str, Any], load: ImageLoader, *, vision: bool
) -> tuple[Any, str | None]:
    """The neutral conversation of a chat body, and the param of its first image part."""
    from mockair.synth.conversation import Conversation, Turn, arguments_json
    from mockair.synth.tools import ToolDef

    messages = body["messages"]
    last_index = len(messages) - 1
    turns = []
    first_image = None
    for number, msg in enumerate(messages):
        role = msg.get("role")
        images: list[Any] = []
        want = vision and number == last_index and role == "user"
        text, non_text, image_param = _parts_text(
            msg.get("content"), f"messages.{number}.content", images, load, want
        )
        first_image = first_image or image_param
        turn = Turn(
            role={"developer": "system", "function": "tool"}.get(role, role),
            text=text,
            non_text_parts=non_text,
            images=images,
        )
        if role in ("tool", "function"):
            turn.tool_result = True
        for call in msg.get("tool_calls") or []:
            function = call.get("function") or {}
            turn.tool_calls.append(
                (str(function.get("name", "")), arguments_json(function.get("arguments", "")))
            )
        turns.append(turn)
    tools = [
        ToolDef(
            name=tool["function"]["name"],
            description=str(tool["function"].get("description") or ""),
            schema=tool["function"].get("parameters"),
        )
        for tool in body.get("tools") or []
        if tool.get("type") == "function" and isinstance(tool.get("function"), dict)
    ]
    return Conversation(turns, tools, body.get("tools") or None), first_image
