"""Real-time pacing (CONTRACT §2.10, §5.1 --realtime): with --realtime, or ``X-Mockair-Realtime: 1``
on one request, a stream's first content event waits the model's ``ttft_ms`` and each later one
``1 / tokens_per_second`` (both from fixtures/models.json); without either a stream is written at
once. Only lower bounds are asserted for paced streams (real time, over a real socket).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockair import MockAir, Settings
from tests.conftest import Clients

KEY = "sk-air-realtime-test"
MINI = "gpt-4o-mini"
SONNET = "claude-sonnet-4.6"
CAP = 10  # answer tokens: max_tokens keeps every paced stream short
CATALOGUE = {
    m["id"]: m
    for m in json.loads(
        (Path(__file__).resolve().parents[1] / "fixtures" / "models.json").read_text()
    )["models"]
}


def paced_seconds(model: str, deltas: int = CAP) -> float:
    """The least time a paced stream of ``deltas`` content events takes (§2.10)."""
    entry = CATALOGUE[model]
    ttft = (entry["ttft_ms"] or 300) / 1000
    rate = entry["mockair"]["tokens_per_second"] or 50
    return ttft + (deltas - 1) / rate


def ttft(model: str) -> float:
    return float(CATALOGUE[model]["ttft_ms"]) / 1000


REQUESTS: dict[str, tuple[str, dict[str, Any]]] = {
    "chat": (
        "/v1/chat/completions",
        {
            "model": MINI,
            "messages": [{"role": "user", "content": "Tell me about harbours."}],
            "max_tokens": CAP,
            "stream": True,
        },
    ),
    "messages": (
        "/v1/messages",
        {
            "model": SONNET,
            "messages": [{"role": "user", "content": "Tell me about harbours."}],
            "max_tokens": CAP,
            "stream": True,
        },
    ),
    "responses": (
        "/v1/responses",
        {
            "model": MINI,
            "input": "Tell me about harbours.",
            "max_output_tokens": CAP,
            "stream": True,
        },
    ),
}


class Timed:
    def __init__(self) -> None:
        self.total = 0.0
        self.first_read = 0.0
        self.reads = 0
        self.body = b""


def timed_stream(http: httpx.Client, surface: str, headers: dict[str, str] | None = None) -> Timed:
    path, body = REQUESTS[surface]
    out = Timed()
    started = time.monotonic()
    with http.stream(
        "POST", path, json=body, headers={"authorization": f"Bearer {KEY}", **(headers or {})}
    ) as response:
        assert response.status_code == 200
        for piece in response.iter_raw():
            if not out.reads:
                out.first_read = time.monotonic() - started
            out.reads += 1
            out.body += piece
    out.total = time.monotonic() - started
    return out


def without_ids(body: bytes) -> bytes:
    return re.sub(rb'"(id|item_id)":"[^"]+"', b'"id":"-"', body)


def content_deltas(surface: str, body: bytes) -> int:
    text = body.decode()
    if surface == "chat":
        return text.count('"delta":{"content":')
    if surface == "messages":
        return text.count('"type":"text_delta"')
    return text.count("event: response.output_text.delta")


@pytest.fixture
def realtime_server(settings_factory: Callable[..., Settings]) -> Iterator[httpx.Client]:
    clients = Clients("socket")
    yield clients(settings_factory(realtime=True))
    clients.close()


def test_realtime_server_paces_a_chat_stream(realtime_server: httpx.Client) -> None:
    health = realtime_server.get("/_mockair/health").json()
    assert health["realtime"] is True
    paced = timed_stream(realtime_server, "chat")
    assert content_deltas("chat", paced.body) == CAP
    assert paced.total >= paced_seconds(MINI)
    assert paced.reads >= 3  # written event by event, not in one go
    assert paced.first_read < paced.total - (CAP - 1) / 110  # the role chunk came first
    assert paced.body.endswith(b"data: [DONE]\n\n")


@pytest.mark.parametrize("surface", ["messages", "responses"])
def test_realtime_server_paces_other_streams(realtime_server: httpx.Client, surface: str) -> None:
    model = REQUESTS[surface][1]["model"]
    paced = timed_stream(realtime_server, surface)
    assert content_deltas(surface, paced.body) == CAP
    assert paced.total >= paced_seconds(model)
    assert paced.reads >= 3


def test_realtime_does_not_change_the_content(
    realtime_server: httpx.Client, live_server: MockAir
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        fast = timed_stream(http, "chat")
    paced = timed_stream(realtime_server, "chat")
    assert without_ids(paced.body) == without_ids(fast.body)


@pytest.mark.parametrize("surface", ["chat", "responses"])
def test_header_turns_pacing_on_for_one_request(live_server: MockAir, surface: str) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        timed_stream(http, surface)  # warm up
        paced = timed_stream(http, surface, {"x-mockair-realtime": "1"})
        assert paced.total >= paced_seconds(MINI)
        assert paced.reads >= 3
        after = timed_stream(http, surface)  # the next request is not paced
        assert after.total < ttft(MINI)
        assert without_ids(after.body) == without_ids(paced.body)


def test_streams_are_written_at_once_by_default(live_server: MockAir) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        assert http.get("/_mockair/health").json()["realtime"] is False
        timed_stream(http, "chat")  # warm up
        for surface, (_, body) in REQUESTS.items():
            fast = timed_stream(http, surface)
            assert content_deltas(surface, fast.body) == CAP
            assert fast.total < min(ttft(body["model"]), paced_seconds(body["model"]) / 2)
