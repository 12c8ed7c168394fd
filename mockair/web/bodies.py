"""Reading request bodies with limits (CONTRACT §2.6, §6): refused while streaming, never buffered
whole past the limit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from mockair import jsonio
from mockair.errors import ApiError, InvalidContentType, InvalidJson, PayloadTooLarge
from mockair.jsonio import MAX_DEPTH

JSON_BODY_LIMIT = 32 * 1024 * 1024


def _too_large(limit: int, param: str | None = None) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"Request body exceeds the limit of {limit // (1024 * 1024)} MiB.", param=param
    )


def check_content_length(headers: Mapping[str, str], limit: int, param: str | None = None) -> None:
    declared = headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ApiError("Invalid Content-Length header.", code="invalid_value") from None
        if size > limit:
            raise _too_large(limit, param)


async def read_limited(
    request: Request, headers: Mapping[str, str], limit: int = JSON_BODY_LIMIT
) -> bytes:
    """The raw body; 413 as soon as the declared or the counted size passes ``limit``."""
    check_content_length(headers, limit)
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            raise ApiError("Client disconnected while sending the body.")
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def is_multipart(headers: Mapping[str, str]) -> bool:
    return headers.get("content-type", "").lower().startswith("multipart/")


def parse_json_object(headers: Mapping[str, str], raw: bytes) -> dict[str, Any]:
    """JSON whatever the Content-Type, except multipart (CONTRACT §2.6)."""
    if is_multipart(headers):
        raise InvalidContentType(
            "This route takes a JSON body; got multipart/form-data.", param=None
        )
    if not raw.strip():
        raise InvalidJson("Request body is empty; expected a JSON object.")
    try:
        value = jsonio.loads(raw)
    except ValueError:
        raise InvalidJson("Request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise InvalidJson("Request body must be a JSON object.")
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and jsonio.depth(value) > MAX_DEPTH:
        raise InvalidJson(f"Request body nests deeper than {MAX_DEPTH} levels.")
    return value
