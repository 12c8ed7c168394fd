"""Response headers shared by every route (CONTRACT §2.4)."""

from __future__ import annotations

from email.utils import formatdate

EXPOSED_HEADERS = ", ".join(
    [
        "X-Request-ID",
        "X-Cost-Cents",
        "X-Tokens-Prompt",
        "X-Tokens-Completion",
        "X-Cache-Hit",
        "Retry-After",
        "x-ratelimit-limit-requests",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests",
        "X-Mockair-Stub",
        "X-Mockair-Fault-Id",
        "Cache-Control",
    ]
)

CORS_HEADERS: list[tuple[bytes, bytes]] = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
]

PREFLIGHT_HEADERS: list[tuple[bytes, bytes]] = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, PATCH, DELETE, OPTIONS"),
    (b"access-control-allow-headers", b"*"),
    (b"access-control-max-age", b"600"),
    (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
]


class HttpDate:
    """``Date`` from the virtual clock, formatted once per virtual second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def __call__(self, now: float) -> bytes:
        second = int(now // 1)
        if second != self._second:
            self._second = second
            self._value = formatdate(second, usegmt=True).encode()
        return self._value


def valid_client_request_id(value: str | None) -> bool:
    """1-128 visible ASCII characters (0x21-0x7E)."""
    if not value or len(value) > 128:
        return False
    return all(0x21 <= ord(ch) <= 0x7E for ch in value)
