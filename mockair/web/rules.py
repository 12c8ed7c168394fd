"""Faults (pipeline step 5) and stubs (step 11): CONTRACT §4.4, §4.5, §4.7, §3.2.4."""

from __future__ import annotations

import asyncio
from typing import Any

from mockair import jsonio
from mockair.errors import ApiError, type_for_status
from mockair.state import ServerState
from mockair.state.admin import FAULT_DEFAULT_CODES
from mockair.state.stubs import RequestFacts, Rule, matches, use
from mockair.web.context import RequestContext

FAULT_MESSAGE = "Injected fault (mockair)"
CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")
PROMPT_PATHS = (
    "/v1/images/generations",
    "/imagine",
    "/v1/imagine",
    "/imagine2",
    "/v1/imagine2",
    "/v1/video/generations",
    "/v1/audio/music",
    "/v1/audio/sound-effects",
    "/suno",
    "/v1/suno",
    "/ask",
    "/v1/ask",
)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict)
            and part.get("type") in ("text", "input_text")
            and isinstance(part.get("text"), str)
        )
    return ""


def _last_user(messages: Any) -> str:
    for message in reversed(messages if isinstance(messages, list) else []):
        if (
            isinstance(message, dict)
            and message.get("role", "user") == "user"
            and message.get("type", "message") == "message"
        ):
            content = message.get("content")
            if isinstance(content, list) and any(
                isinstance(b, dict) and b.get("type") == "tool_result" for b in content
            ):
                continue
            return _content_text(content)
    return ""


def match_text(path: str, body: dict[str, Any], query: Any, filenames: list[str]) -> str:
    """The text that ``contains`` and ``regex`` look at, by route (CONTRACT §4.4)."""
    if path in CHAT_PATHS or path.startswith("/v1/messages"):
        return _last_user(body.get("messages"))
    if path == "/v1/responses":
        value = body.get("input")
        return value if isinstance(value, str) else _last_user(value)
    if path == "/v1/embeddings":
        value = body.get("input")
        if isinstance(value, list):
            return "\n".join(v for v in value if isinstance(v, str))
        return value if isinstance(value, str) else ""
    if path in PROMPT_PATHS:
        value = body.get("prompt") or body.get("text") or query.get("prompt")
        return value if isinstance(value, str) else ""
    if path == "/v1/audio/speech":
        return str(body.get("input") or "")
    if path in ("/get-audio", "/v1/get-audio"):
        return str(query.get("text") or "")
    if path in ("/images/vision", "/v1/images/vision"):
        return str(query.get("url") or "")
    if filenames:
        return "\n".join(filenames)
    return ""


def fault_error(spec: dict[str, Any], rule_id: str | None) -> ApiError:
    status = int(spec.get("status") or 500)
    retry = spec.get("retry_after")
    if retry is None and status == 429:
        retry = 1.0
    headers = {"x-mockair-fault-id": rule_id} if rule_id else {}
    if status == 429:
        value = float(retry or 1.0)
        headers |= {
            "x-ratelimit-limit-requests": "0",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{round(value, 3):g}s",
        }
    return ApiError(
        spec.get("message") or FAULT_MESSAGE,
        status=status,
        type=spec.get("type") or type_for_status(status),
        code=spec.get("code") or FAULT_DEFAULT_CODES.get(status, "injected_fault"),
        param=spec.get("param"),
        retry_after=float(retry) if retry is not None else None,
        headers=headers,
    )


def header_fault(value: str | None) -> dict[str, Any] | None:
    """``X-Mockair-Fault: <status>`` or ``<status> <code>``; malformed values are ignored."""
    if not value:
        return None
    status_text, _, code = value.strip().partition(" ")
    if not status_text.isdigit() or not 400 <= int(status_text) <= 599:
        return None
    return {"status": int(status_text), "code": code.strip() or None}


async def apply_faults(
    state: ServerState,
    ctx: RequestContext,
    facts: RequestFacts,
    candidates: list[str],
    header: str | None,
) -> str | None:
    """Step 5. Raises the injected error, or returns the model that answers (a fallback when
    5xx faults hit the earlier candidates). Cut faults are only noted on ``ctx`` here."""
    models = candidates or [facts.model]  # type: ignore[list-item]
    injected = header_fault(header)
    error: ApiError | None = None
    for index, model in enumerate(models):
        last = index == len(models) - 1
        if index == 0 and injected is not None:
            error = fault_error(injected, None)
            if injected["status"] >= 500 and not last:
                continue
            raise error
        candidate = RequestFacts(
            facts.path, facts.method, model, facts.scope, facts.text, facts.stream
        )
        fired = await _first_fault(state, ctx, candidate)
        if fired is None:
            return model
        error = fault_error(fired.spec, fired.id)
        ctx.fault_id = fired.id
        if int(fired.spec.get("status") or 500) >= 500 and not last:
            continue
        raise error
    if error is not None:
        raise error
    return None


async def _first_fault(state: ServerState, ctx: RequestContext, facts: RequestFacts) -> Rule | None:
    for rule in list(state.faults.rules):
        if not matches(rule, facts):
            continue
        spec = rule.spec
        if spec.get("cut_after_chunks") is not None:
            # Only streams match, and the rule is counted when the stream starts (§7.1 #7).
            if facts.stream and ctx.cut_rule is None:
                ctx.cut_rule = rule
            continue
        if not use(state.faults, rule):
            continue
        latency = int(spec.get("latency_ms") or 0)
        if latency:
            await asyncio.sleep(latency / 1000)
        if "status" in spec and spec["status"] is None:
            ctx.fault_id = rule.id
            continue  # latency only: the request goes on
        return rule
    return None


def find_stub(state: ServerState, facts: RequestFacts) -> Rule | None:
    """Step 11: the earliest matching stub, counted as used."""
    for rule in list(state.stubs.rules):
        if matches(rule, facts) and use(state.stubs, rule):
            return rule
    return None


def peek_json(raw: bytes | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = jsonio.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
