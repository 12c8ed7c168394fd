"""OpenAI Responses: reading input items, response objects and response.* events
(CONTRACT §2.10.3, §3.4)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mockair.formats.openai_chat import decimal
from mockair.synth.conversation import Turn, arguments_json
from mockair.synth.reply import Reply
from mockair.synth.tools import ToolChoice, ToolDef
from mockair.web.sse import named_event

ImageLoader = Callable[..., tuple[bytes | None, str]]


def _content_turn(role: str, content: Any, *, load: ImageLoader | None, param: str) -> Turn:
    if isinstance(content, str):
        return Turn(role=role, text=content)
    turn = Turn(role=role)
    texts = []
    for index, part in enumerate(content if isinstance(content, list) else []):
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            texts.append(part["refusal"])
        else:
            turn.non_text_parts += 1
            if kind == "input_image" and load is not None:
                url = part.get("image_url")
                if isinstance(url, str):
                    turn.images.append(load(url=url, param=f"{param}.{index}.image_url"))
                else:
                    turn.images.append((None, str(part.get("file_id") or "file")))
    turn.text = "\n".join(texts)
    return turn


def input_turns(value: Any, *, load: ImageLoader, vision: bool) -> list[Turn]:
    """The turns of a Responses ``input``: a string (one user message) or a list of items."""
    if isinstance(value, str):
        return [Turn(role="user", text=value)]
    items = value if isinstance(value, list) else []
    turns: list[Turn] = []
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "message" or ("role" in item and kind == "message"):
            role = item.get("role", "user")
            want = vision and number == len(items) - 1 and role == "user"
            turns.append(
                _content_turn(
                    {"developer": "system"}.get(role, role),
                    item.get("content"),
                    load=load if want else None,
                    param=f"input.{number}.content",
                )
            )
        elif kind == "function_call":
            turn = Turn(role="assistant")
            turn.tool_calls.append(
                (str(item.get("name", "")), arguments_json(item.get("arguments", "")))
            )
            turns.append(turn)
        elif kind == "function_call_output":
            output = item.get("output")
            text = output if isinstance(output, str) else json.dumps(output)
            turns.append(Turn(role="tool", text=text, tool_result=True))
        # reasoning items, item references and other items do not shape the reply.
    return turns


def first_image_param(value: Any) -> str | None:
    for number, item in enumerate(value if isinstance(value, list) else []):
        content = item.get("content") if isinstance(item, dict) else None
        for index, part in enumerate(content if isinstance(content, list) else []):
            if isinstance(part, dict) and part.get("type") == "input_image":
                return f"input.{number}.content.{index}"
    return None


def function_tools(body: dict[str, Any]) -> list[ToolDef]:
    return [
        ToolDef(t["name"], str(t.get("description") or ""), t.get("parameters"))
        for t in body.get("tools") or []
        if isinstance(t, dict) and t.get("type") == "function" and "name" in t
    ]


def tool_choice(body: dict[str, Any], declared: set[str]) -> ToolChoice:
    from mockair.errors import InvalidValue

    value = body.get("tool_choice", "auto")
    if value in ("none", "auto", "required"):
        return ToolChoice(value)
    if isinstance(value, dict) and value.get("type") == "function":
        name = value.get("name")
        if name not in declared:
            raise InvalidValue(
                f"tool_choice.name: no function named '{name}' in tools", param="tool_choice.name"
            )
        return ToolChoice("named", name)
    return ToolChoice("auto")


def output_turns(output: Sequence[dict[str, Any]]) -> list[Turn]:
    """A stored response's output items as history for ``previous_response_id``."""
    turns = []
    for item in output:
        if item.get("type") == "message":
            text = "\n".join(p.get("text", "") for p in item.get("content", []))
            turns.append(Turn(role="assistant", text=text))
        elif item.get("type") == "function_call":
            turn = Turn(role="assistant")
            turn.tool_calls.append((item["name"], item["arguments"]))
            turns.append(turn)
    return turns


# -- writing ------------------------------------------------------------------------------------


@dataclass
class ItemIds:
    reasoning: str | None
    message: str | None
    calls: list[tuple[str, str]]  # (fc_ item id, call_ id)


def output_items(reply: Reply, ids: ItemIds, *, status: str = "completed") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if reply.reasoning_tokens and ids.reasoning:
        items.append(
            {
                "id": ids.reasoning,
                "type": "reasoning",
                "status": "completed",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": reply.reasoning}],
            }
        )
    if reply.tool_calls:
        for call, (item_id, call_id) in zip(reply.tool_calls, ids.calls, strict=True):
            items.append(
                {
                    "id": item_id,
                    "type": "function_call",
                    "status": "completed",
                    "call_id": call_id,
                    "name": call.name,
                    "arguments": call.arguments_json,
                }
            )
    elif ids.message:
        items.append(
            {
                "id": ids.message,
                "type": "message",
                "status": status,
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": reply.answer, "annotations": [], "logprobs": []}
                ],
            }
        )
    return items


def usage_block(
    input_tokens: int, reply: Reply, cost_usd: float, output_tokens: int | None = None
) -> dict[str, Any]:
    output = reply.completion_tokens() if output_tokens is None else output_tokens
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": len(reply.reasoning_tokens)},
        "total_tokens": input_tokens + output,
        "cost": decimal(cost_usd),
    }


def response_object(
    head: dict[str, Any],
    echo: dict[str, Any],
    *,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    completed_at: int | None,
) -> dict[str, Any]:
    """``head`` = id, created_at, model; ``echo`` = the request echo fields (§3.4.3)."""
    return {
        "id": head["id"],
        "object": "response",
        "created_at": head["created_at"],
        "status": status,
        "completed_at": completed_at,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": echo["instructions"],
        "max_output_tokens": echo["max_output_tokens"],
        "model": head["model"],
        "output": output,
        "parallel_tool_calls": echo["parallel_tool_calls"],
        "previous_response_id": echo["previous_response_id"],
        "reasoning": echo["reasoning"],
        "store": echo["store"],
        "temperature": echo["temperature"],
        "text": echo["text"],
        "tool_choice": echo["tool_choice"],
        "tools": echo["tools"],
        "top_p": echo["top_p"],
        "truncation": echo["truncation"],
        "usage": usage,
        "user": echo["user"],
        "metadata": echo["metadata"],
    }


def events(
    head: dict[str, Any],
    echo: dict[str, Any],
    reply: Reply,
    ids: ItemIds,
    *,
    status: str,
    usage: dict[str, Any],
    completed_at: int | None,
) -> list[bytes]:
    out: list[bytes] = []

    def emit(kind: str, **fields: Any) -> None:
        out.append(named_event(kind, {"type": kind, "sequence_number": len(out), **fields}))

    pending = response_object(
        head, echo, status="in_progress", output=[], usage=None, completed_at=None
    )
    emit("response.created", response=pending)
    emit("response.in_progress", response=pending)
    final_items = output_items(reply, ids, status="completed")
    for index, item in enumerate(final_items):
        if item["type"] == "reasoning":
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "content": []},
            )
            for token in reply.reasoning_tokens:
                emit(
                    "response.reasoning_text.delta",
                    item_id=item["id"],
                    output_index=index,
                    content_index=0,
                    delta=token,
                )
            emit(
                "response.reasoning_text.done",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                text=reply.reasoning,
            )
        elif item["type"] == "function_call":
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "arguments": ""},
            )
            call = next(
                c
                for c in reply.tool_calls
                if c.arguments_json == item["arguments"] and c.name == item["name"]
            )
            for token in call.argument_tokens:
                emit(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=token,
                )
            emit(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                name=item["name"],
                arguments=item["arguments"],
            )
        else:
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "content": []},
            )
            part = {"type": "output_text", "text": "", "annotations": []}
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            emit("response.content_part.added", **where, part=part)
            for token in reply.answer_tokens:
                emit("response.output_text.delta", **where, delta=token, logprobs=[])
            emit("response.output_text.done", **where, text=reply.answer, logprobs=[])
            emit("response.content_part.done", **where, part={**part, "text": reply.answer})
        emit("response.output_item.done", output_index=index, item=item)
    final = response_object(
        head, echo, status=status, output=final_items, usage=usage, completed_at=completed_at
    )
    emit("response.completed" if status == "completed" else "response.incomplete", response=final)
    return out


def error_frame(error: Any, sent: int) -> bytes:
    """The Responses ``error`` event: flat, numbered after the events already sent."""
    envelope = error.envelope()["error"]
    return named_event(
        "error",
        {
            "type": "error",
            "sequence_number": sent,
            "message": envelope["message"],
            "code": envelope["code"],
            "param": envelope["param"],
        },
    )
