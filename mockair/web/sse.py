"""Server-sent events (CONTRACT §2.10): framing, pacing, and failure after the first byte.

Content is generated before the first byte, so a stream is a list of ready events. Without
pacing it is written in one go; with pacing (``--realtime``) or a cut (faults and stubs with
``cut_after_chunks``) it is written event by event. A cut with ``mode="error"`` sends the
flavour's error frame and ends; ``mode="close"`` drops the connection with no frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockair import jsonio

SSE_MEDIA_TYPE = "text/event-stream; charset=utf-8"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
KEEPALIVE = b": keepalive\n\n"


def data_event(payload: object) -> bytes:
    return b"data: " + jsonio.dumps(payload) + b"\n\n"


def named_event(name: str, payload: object) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + jsonio.dumps(payload) + b"\n\n"


DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True)
class Pacing:
    """Real-time delays: before the first content event, then between content events."""

    first_s: float
    each_s: float
    content_from: int = 1  # index of the first content event


@dataclass(frozen=True)
class Cut:
    after: int
    mode: str  # "error" | "close"
    frame: Callable[[int], bytes]  # the flavour's error frame (§2.10.7), given events sent


class EventStream(Response):
    media_type = SSE_MEDIA_TYPE

    def __init__(
        self,
        events: Sequence[bytes],
        *,
        headers: dict[str, str] | None = None,
        pacing: Pacing | None = None,
        cut: Cut | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> None:
        # Not Response.__init__: it would announce a Content-Length for the empty body.
        self.status_code = 200
        self.background = None
        self.body = b""
        self.raw_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in {**SSE_HEADERS, **(headers or {})}.items()
        ]
        self.raw_headers.append((b"content-type", self.media_type.encode()))
        self.events = list(events)
        self.pacing = pacing
        self.cut = cut
        self.on_sent = on_sent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        events = self.events
        if self.cut is not None:
            events = events[: self.cut.after]
        if self.pacing is None and self.cut is None:
            await send({"type": "http.response.body", "body": b"".join(events)})
            return
        for index, event in enumerate(events):
            if self.pacing is not None and index >= self.pacing.content_from:
                delay = (
                    self.pacing.first_s if index == self.pacing.content_from else self.pacing.each_s
                )
                await asyncio.sleep(delay)
            await send({"type": "http.response.body", "body": event, "more_body": True})
        if self.cut is not None and self.cut.mode == "close":
            # A simulated network drop: the connection ends without a terminating chunk.
            raise StreamDropped()
        tail = self.cut.frame(len(events)) if self.cut is not None else b""
        await send({"type": "http.response.body", "body": tail, "more_body": False})


class StreamDropped(Exception):
    """Raised after a ``cut_mode: close`` stream: the server drops the connection."""
