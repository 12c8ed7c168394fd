"""Assertions and parsers shared by the tests."""

from __future__ import annotations

from typing import Any

import httpx

ENVELOPE_KEYS = ["message", "type", "code", "param"]
STATUS_TYPES = {
    400: "invalid_request",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found",
    405: "invalid_request",
    413: "payload_too_large",
    429: "rate_limit",
    500: "internal_error",
    503: "upstream_error",
}


def assert_error(
    response: httpx.Response,
    status: int,
    code: str,
    param: str | None = None,
    *,
    type: str | None = None,
) -> dict[str, Any]:
    """The response is exactly the CONTRACT §2.5 envelope with this status, code and param."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"]
    body = response.json()
    expected_top = ["error", "retry_after"] if status == 429 else ["error"]
    assert list(body) == expected_top, body
    error = body["error"]
    assert list(error) == ENVELOPE_KEYS, error
    assert error["code"] == code, error
    assert error["param"] == param, error
    assert error["type"] == (type or STATUS_TYPES[status]), error
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def parse_sse(text: str) -> list[dict[str, str]]:
    """Split an SSE body into events: [{"event": ..., "data": ...}] (comments kept as ":")."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        event: dict[str, str] = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                event.setdefault(":", line[1:].strip())
            elif ":" in line:
                name, _, value = line.partition(":")
                event[name] = value[1:] if value.startswith(" ") else value
        events.append(event)
    return events
