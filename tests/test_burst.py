"""A bounded burst against one live server (CONTRACT §2.2, §4.8, §6): 500 concurrent mixed
requests -- chat, streams, responses, embeddings, images, speech, video tasks, errors -- in a
fixed, deterministic mix, over a pool of 100 connections.

Every request carries its own ``X-Request-ID`` (``burst-NNN``), so each journal entry can be
matched to the request that caused it. Asserted: zero transport errors, zero 5xx, every
response what its kind expects, and the journal holding exactly what was sent -- all 500 with a
roomy journal; with ``journal_size=100``, exactly 100 of them, and exactly the last 100 requests
once a known sequence has been sent after the burst.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from mockair import MockAir

EPOCH = 1767225600
TOTAL = 500
POOL = 100


@dataclass(frozen=True)
class Sent:
    request_id: str
    method: str
    path: str
    status: int
    kind: str = field(default="", compare=False)


Check = Callable[[httpx.Response], None]


def _json(kind: str) -> Check:
    def check(response: httpx.Response) -> None:
        assert response.headers["content-type"] == "application/json", kind
        body = response.json()
        if kind == "error":
            assert list(body) == ["error"]
            assert list(body["error"]) == ["message", "type", "code", "param"]
        else:
            assert body.get("object", kind) == kind, body

    return check


def _sse(last: str) -> Check:
    def check(response: httpx.Response) -> None:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.text.rstrip("\n").endswith(last), response.text[-200:]

    return check


def _binary(content_type: str, magic: bytes, offset: int = 0) -> Check:
    def check(response: httpx.Response) -> None:
        assert response.headers["content-type"] == content_type
        assert response.content[offset : offset + len(magic)] == magic

    return check


def _error(code: str) -> Check:
    def check(response: httpx.Response) -> None:
        _json("error")(response)
        assert response.json()["error"]["code"] == code

    return check


def _image_check(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "application/json"
    data = response.json()["data"]
    assert len(data) == 1
    assert data[0]["url"].endswith(".png")


def _video_check(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "application/json"
    assert response.json()["task_id"].startswith("vt_")


@dataclass(frozen=True)
class Kind:
    name: str
    method: str
    path: str
    body: Callable[[int], dict[str, Any] | bytes | None]
    status: int
    check: Check


CHAT = "/v1/chat/completions"


def _chat(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": f"burst {i}"}],
        **extra,
    }


KINDS = [
    Kind("chat", "POST", CHAT, _chat, 200, _json("chat.completion")),
    Kind("chat-stream", "POST", CHAT, lambda i: _chat(i, stream=True), 200, _sse("data: [DONE]")),
    Kind(
        "messages-stream",
        "POST",
        "/v1/messages",
        lambda i: {
            "model": "claude-sonnet-4.6",
            "max_tokens": 64,
            "stream": True,
            "messages": [{"role": "user", "content": f"burst {i}"}],
        },
        200,
        _sse('data: {"type":"message_stop"}'),
    ),
    Kind(
        "responses",
        "POST",
        "/v1/responses",
        lambda i: {"model": "gpt-4o-mini", "input": f"burst {i}"},
        200,
        _json("response"),
    ),
    Kind(
        "embeddings",
        "POST",
        "/v1/embeddings",
        lambda i: {"model": "text-embedding-3-small", "input": f"burst {i}"},
        200,
        _json("list"),
    ),
    Kind(
        "image",
        "POST",
        "/v1/images/generations",
        lambda i: {"model": "flux", "prompt": f"burst {i % 7}", "size": "64x64"},
        200,
        _image_check,
    ),
    Kind(
        "speech",
        "POST",
        "/v1/audio/speech",
        lambda i: {"model": "gpt-4o-mini-tts", "input": f"burst {i % 5}", "voice": "alloy"},
        200,
        _binary("audio/mpeg", b"ID3"),
    ),
    Kind(
        "video",
        "POST",
        "/v1/video/generations",
        lambda i: {"model": "wan-2.6", "prompt": f"burst {i}", "duration_seconds": 5},
        200,
        _video_check,
    ),
    Kind("unknown-route", "GET", "/v1/nope", lambda i: None, 404, _error("route_not_found")),
    Kind(
        "invalid-json",
        "POST",
        CHAT,
        lambda i: b'{"model": "gpt-4o-mini",',
        400,
        _error("invalid_json"),
    ),
    Kind(
        "unknown-model",
        "POST",
        CHAT,
        lambda i: {**_chat(i), "model": f"gpt-99-{i % 3}"},
        404,
        _error("model_not_found"),
    ),
    Kind("wrong-method", "DELETE", CHAT, lambda i: None, 405, _error("method_not_allowed")),
]


def plan() -> list[list[Kind]]:
    """The fixed mix: units of work (a video is its create plus one poll), 500 requests in all."""
    units: list[list[Kind]] = []
    count = 0
    for index in range(10 * TOTAL):
        kind = KINDS[index % len(KINDS)]
        size = 2 if kind.name == "video" else 1
        if count + size > TOTAL:
            kind, size = KINDS[0], 1
        units.append([kind])
        count += size
        if count == TOTAL:
            return units
    raise AssertionError("unreachable")


async def _send(
    client: httpx.AsyncClient, number: int, method: str, path: str, body: Any
) -> httpx.Response:
    headers = {"X-Request-ID": f"burst-{number:03d}"}
    if isinstance(body, bytes):
        return await client.request(method, path, content=body, headers=headers)
    if body is None:
        return await client.request(method, path, headers=headers)
    return await client.request(method, path, json=body, headers=headers)


async def burst(base_url: str, key: str) -> tuple[list[Sent], list[BaseException]]:
    units = plan()
    numbers = iter(range(TOTAL))
    sent: list[Sent] = []
    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)

    async with httpx.AsyncClient(
        base_url=base_url,
        limits=limits,
        timeout=httpx.Timeout(60, pool=120),
        headers={"Authorization": f"Bearer {key}"},
    ) as client:

        async def run(unit_index: int, kind: Kind) -> None:
            number = next(numbers)
            response = await _send(client, number, kind.method, kind.path, kind.body(unit_index))
            sent.append(
                Sent(f"burst-{number:03d}", kind.method, kind.path, response.status_code, kind.name)
            )
            assert response.status_code == kind.status, (kind.name, response.text[:300])
            assert response.headers["x-request-id"] == f"burst-{number:03d}"
            kind.check(response)
            if kind.name == "video":
                task_id = response.json()["task_id"]
                number = next(numbers)
                path = f"/v1/video/tasks/{task_id}"
                polled = await _send(client, number, "GET", path, None)
                sent.append(
                    Sent(
                        f"burst-{number:03d}",
                        "GET",
                        "/v1/video/tasks/{id}",
                        polled.status_code,
                        "poll",
                    )
                )
                assert polled.status_code == 200, polled.text
                assert polled.json()["status"] == "completed"
                assert polled.json()["result_url"].endswith(".mp4")

        coroutines: list[Awaitable[None]] = [
            run(index, kind) for index, unit in enumerate(units) for kind in unit
        ]
        results = await asyncio.gather(*coroutines, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    return sent, errors


def journal(server: MockAir, key: str) -> list[dict[str, Any]]:
    response = httpx.get(server.url + "/_mockair/requests", params={"key": key}, timeout=60)
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert body["total"] == len(body["requests"])
    return body["requests"]  # type: ignore[no-any-return]


def _shape(entry: dict[str, Any]) -> Sent:
    path = entry["path"]
    if path.startswith("/v1/video/tasks/"):
        path = "/v1/video/tasks/{id}"
    return Sent(entry["request_id"], entry["method"], path, entry["status"])


def _run_burst(server: MockAir, key: str) -> tuple[list[Sent], float]:
    started = time.perf_counter()
    sent, errors = asyncio.run(burst(server.url, key))
    elapsed = time.perf_counter() - started
    transport = [e for e in errors if isinstance(e, httpx.TransportError)]
    assert not transport, f"{len(transport)} transport errors, first: {transport[0]!r}"
    assert not errors, f"{len(errors)} failed requests, first: {errors[0]!r}"
    assert len(sent) == TOTAL
    assert len({s.request_id for s in sent}) == TOTAL
    assert all(s.status < 500 for s in sent)
    return sent, elapsed


def test_plan_is_the_documented_mix() -> None:
    units = plan()
    kinds = Counter(kind.name for unit in units for kind in unit)
    assert sum(2 if kind.name == "video" else 1 for unit in units for kind in unit) == TOTAL
    assert set(kinds) == {kind.name for kind in KINDS}
    assert min(kinds.values()) >= 35


def test_burst_of_500_mixed_requests_is_journaled_exactly() -> None:
    key = "sk-air-burst-roomy"
    with MockAir(
        port=0, epoch=EPOCH, clock_speed=0, task_seconds=0, journal_size=10_000, log_level="warning"
    ) as server:
        sent, elapsed = _run_burst(server, key)
        entries = journal(server, key)
        health = httpx.get(server.url + "/_mockair/health", timeout=10)
    assert health.json()["status"] == "ok"
    assert elapsed < 60, elapsed
    assert len(entries) == TOTAL
    assert sorted(map(_shape, entries), key=lambda s: s.request_id) == sorted(
        sent, key=lambda s: s.request_id
    )
    counts = Counter((s.method, s.path, s.status) for s in sent)
    assert Counter((e.method, e.path, e.status) for e in map(_shape, entries)) == counts
    assert len({e["id"] for e in entries}) == TOTAL
    streams = [e for e in entries if e["stream"]]
    expected = {s.request_id for s in sent if s.kind in ("chat-stream", "messages-stream")}
    assert {e["request_id"] for e in streams} == expected
    for entry in streams:
        assert entry["response"]["body"] is None
        assert entry["response"]["events"], entry["request_id"]


def test_burst_with_a_journal_of_100_keeps_exactly_the_last_100() -> None:
    key = "sk-air-burst-bounded"
    with MockAir(
        port=0, epoch=EPOCH, clock_speed=0, task_seconds=0, journal_size=100, log_level="warning"
    ) as server:
        sent, _ = _run_burst(server, key)
        entries = journal(server, key)
        assert len(entries) == 100
        by_id = {s.request_id: s for s in sent}
        for entry in map(_shape, entries):
            assert entry == by_id[entry.request_id]
        assert len({e["request_id"] for e in entries}) == 100
        # A known order after the burst: the ring then holds exactly these, oldest first.
        with httpx.Client(base_url=server.url, timeout=30) as client:
            tail = []
            for number in range(120):
                request_id = f"after-{number:03d}"
                path = "/v1/nope" if number % 3 == 0 else "/v1/models"
                response = client.get(
                    path, headers={"X-Request-ID": request_id, "Authorization": f"Bearer {key}"}
                )
                assert response.status_code == (404 if number % 3 == 0 else 200)
                tail.append((request_id, response.status_code))
        entries = journal(server, key)
        everything = httpx.get(server.url + "/_mockair/requests", timeout=60).json()
    assert [(e["request_id"], e["status"]) for e in entries] == tail[-100:]
    assert everything["total"] == 100


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_each_kind_alone(kind: Kind) -> None:
    """Each kind of the mix, sent once on its own, answers as the burst expects."""
    with (
        MockAir(port=0, epoch=EPOCH, clock_speed=0, task_seconds=0, log_level="warning") as server,
        httpx.Client(
            base_url=server.url, timeout=30, headers={"Authorization": "Bearer sk-air-one"}
        ) as client,
    ):
        body = kind.body(1)
        if isinstance(body, bytes):
            response = client.request(kind.method, kind.path, content=body)
        elif body is None:
            response = client.request(kind.method, kind.path)
        else:
            response = client.request(kind.method, kind.path, json=body)
    assert response.status_code == kind.status, response.text
    kind.check(response)
    if response.headers["content-type"] == "application/json":
        json.loads(response.content)
