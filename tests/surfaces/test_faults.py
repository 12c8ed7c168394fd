"""Faults (CONTRACT §4.5, §4.7, §2.2 step 5, §2.10.7, §3.2.4, §7.1 #7): injected errors with the
documented defaults, counting (times / after), latency, mid-stream cuts in each flavour, the
X-Mockair-Fault and X-Mockair-Latency-Ms headers, chat fallbacks, key scoping, and the official
SDKs' own retry loops against them.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from starlette.testclient import TestClient

from mockair import MockAir, Settings
from tests.conftest import Clients
from tests.helpers import assert_error, parse_sse

KEY = "sk-air-faults-a"
OTHER = "sk-air-faults-b"
MINI = "gpt-4o-mini"
FALLBACK = "gpt-4.1-mini"
SONNET = "claude-sonnet-4.6"
PARIS = "What is the weather in Paris?"
MESSAGE = "Injected fault (mockair)"
FAULT_ID = re.compile(r"fault_[0-9a-f]{24}")


# -- helpers ------------------------------------------------------------------------------------


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def unique_key() -> str:
    return "sk-air-faults-" + uuid.uuid4().hex[:12]


@pytest.fixture
def asgi(settings_factory: Callable[..., Settings]) -> Iterator[httpx.Client]:
    clients = Clients("asgi")
    yield clients(settings_factory())
    clients.close()


@pytest.fixture
def live(live_server: MockAir) -> Iterator[tuple[httpx.Client, str]]:
    """A socket client of the shared live server and a key of its own (its scope reset after)."""
    key = unique_key()
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http, key
        http.post("/_mockair/reset", json={"key": key})


_OPEN: list[Any] = []


@pytest.fixture(autouse=True)
def _close_sdks() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def openai_sdk(client: httpx.Client, key: str = KEY, **options: Any) -> openai.OpenAI:
    options.setdefault("max_retries", 0)
    if isinstance(client, TestClient):
        return openai.OpenAI(
            base_url=str(client.base_url) + "/v1", api_key=key, http_client=client, **options
        )
    sdk = openai.OpenAI(base_url=str(client.base_url).rstrip("/") + "/v1", api_key=key, **options)
    _OPEN.append(sdk)
    return sdk


def anthropic_sdk(client: httpx.Client, key: str = KEY, **options: Any) -> anthropic.Anthropic:
    options.setdefault("max_retries", 0)
    if isinstance(client, TestClient):
        return anthropic.Anthropic(
            base_url=str(client.base_url), api_key=key, http_client=client, **options
        )
    sdk = anthropic.Anthropic(base_url=str(client.base_url).rstrip("/"), api_key=key, **options)
    _OPEN.append(sdk)
    return sdk


def fault(client: httpx.Client, key: str | None = KEY, **body: Any) -> dict[str, Any]:
    """Add a fault (bound to ``key`` unless None); returns the stored fault."""
    match = dict(body.pop("match", {}))
    if key is not None:
        match["key"] = key
    response = client.post("/_mockair/faults", json={"match": match, **body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def get_fault(client: httpx.Client, fault_id: str) -> dict[str, Any]:
    response = client.get(f"/_mockair/faults/{fault_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def chat_body(text: str = PARIS, **fields: Any) -> dict[str, Any]:
    return {"model": MINI, "messages": [{"role": "user", "content": text}], **fields}


def chat(
    client: httpx.Client, key: str = KEY, headers: dict[str, str] | None = None, **fields: Any
) -> httpx.Response:
    text = fields.pop("text", PARIS)
    return client.post(
        "/v1/chat/completions",
        json=chat_body(text, **fields),
        headers={**bearer(key), **(headers or {})},
    )


STREAMS: dict[str, tuple[str, dict[str, Any]]] = {
    "chat": ("/v1/chat/completions", chat_body()),
    "messages": (
        "/v1/messages",
        {"model": SONNET, "max_tokens": 1024, "messages": [{"role": "user", "content": PARIS}]},
    ),
    "responses": ("/v1/responses", {"model": MINI, "input": PARIS}),
}


def drain(iterable: Any, into: list[Any]) -> None:
    """Consume an iterator, keeping what arrives before it raises."""
    for item in iterable:
        into.append(item)


def journal(client: httpx.Client, key: str = KEY, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/_mockair/requests", params={"key": key, **params})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["requests"]
    return entries


# -- status defaults ------------------------------------------------------------------------------

DEFAULTS = [
    (400, "invalid_value", "invalid_request"),
    (401, "invalid_api_key", "authentication_error"),
    (403, "model_not_allowed", "permission_error"),
    (404, "route_not_found", "not_found"),
    (409, "injected_fault", "invalid_request"),
    (413, "payload_too_large", "payload_too_large"),
    (418, "injected_fault", "invalid_request"),
    (429, "rate_limit_exceeded", "rate_limit"),
    (500, "internal_error", "internal_error"),
    (501, "injected_fault", "internal_error"),
    (502, "bad_gateway", "internal_error"),
    (503, "upstream_unavailable", "upstream_error"),
    (504, "gateway_timeout", "internal_error"),
]


@pytest.mark.parametrize(("status", "code", "error_type"), DEFAULTS)
def test_status_defaults(asgi: httpx.Client, status: int, code: str, error_type: str) -> None:
    stored = fault(asgi, status=status)
    assert FAULT_ID.fullmatch(stored["id"])
    response = chat(asgi)
    error = assert_error(response, status, code, type=error_type)
    assert error["message"] == MESSAGE
    assert response.headers["x-mockair-fault-id"] == stored["id"]
    if status == 429:
        assert response.json()["retry_after"] == 1.0
        assert response.headers["retry-after"] == "1"
    else:
        assert "retry-after" not in response.headers
    entry = journal(asgi)[-1]
    assert (entry["status"], entry["fault_id"], entry["error_code"], entry["stub_id"]) == (
        status,
        stored["id"],
        code,
        None,
    )


def test_status_defaults_to_500(asgi: httpx.Client) -> None:
    stored = fault(asgi)
    response = chat(asgi)
    assert_error(response, 500, "internal_error")
    assert response.headers["x-mockair-fault-id"] == stored["id"]


def test_given_type_code_message_and_param(asgi: httpx.Client) -> None:
    fault(
        asgi,
        status=400,
        type="invalid_request",
        code="context_length_exceeded",
        message="Too long (injected)",
        param="messages",
    )
    error = assert_error(chat(asgi), 400, "context_length_exceeded", "messages")
    assert error["message"] == "Too long (injected)"


def test_fault_on_every_route_kind(asgi: httpx.Client) -> None:
    fault(asgi, status=503)
    requests = [
        ("POST", "/v1/embeddings", {"json": {"model": "text-embedding-3-small", "input": "x"}}),
        ("GET", "/v1/models", {}),
        ("GET", "/v1/audio/voices", {}),
        ("GET", "/check", {}),
        ("GET", "/ask", {"params": {"prompt": "hi"}}),
    ]
    for method, path, kwargs in requests:
        response = asgi.request(method, path, headers=bearer(KEY), **kwargs)
        assert_error(response, 503, "upstream_unavailable")


def test_faults_are_checked_after_auth_and_before_validation(asgi: httpx.Client) -> None:
    stored = fault(asgi, key=None, status=503)
    assert_error(asgi.post("/v1/chat/completions", json=chat_body()), 401, "missing_api_key")
    bad = asgi.post("/v1/chat/completions", json={"model": MINI}, headers=bearer(KEY))
    assert_error(bad, 503, "upstream_unavailable")
    unknown = asgi.post("/v1/chat/completions", json=chat_body(model="gpt-99"), headers=bearer(KEY))
    assert_error(unknown, 503, "upstream_unavailable")
    route = asgi.get("/v1/nope", headers=bearer(KEY))
    assert_error(route, 404, "route_not_found")
    assert get_fault(asgi, stored["id"])["hits"] == 2


def test_faults_never_apply_to_the_control_plane(asgi: httpx.Client) -> None:
    stored = fault(asgi, key=None, status=500)
    for path in ("/_mockair/health", "/_mockair/requests", "/_mockair/faults", "/_mockair/clock"):
        response = asgi.get(path, headers={"x-mockair-fault": "503"})
        assert response.status_code == 200, (path, response.text)
        assert "x-mockair-fault-id" not in response.headers
    assert asgi.post("/_mockair/clock", json={"advance": 1}).status_code == 200
    assert get_fault(asgi, stored["id"])["hits"] == 0
    assert get_fault(asgi, stored["id"])["seen"] == 0


# -- matching and scoping -------------------------------------------------------------------------


def test_fault_match_fields(asgi: httpx.Client) -> None:
    fault(asgi, status=503, match={"path": "/v1/audio/*"})
    fault(asgi, status=502, match={"model": FALLBACK})
    fault(asgi, status=504, match={"contains": "EXPLODE"})
    fault(asgi, status=500, match={"regex": r"^crash \d+$"})
    speech = asgi.post(
        "/v1/audio/speech",
        json={"model": "gpt-4o-mini-tts", "input": "Hello", "voice": "alloy"},
        headers=bearer(KEY),
    )
    assert_error(speech, 503, "upstream_unavailable")
    assert_error(chat(asgi, model=FALLBACK), 502, "bad_gateway", type="internal_error")
    assert_error(
        chat(asgi, text="please explode now"), 504, "gateway_timeout", type="internal_error"
    )
    assert_error(chat(asgi, text="crash 42"), 500, "internal_error")
    assert chat(asgi, text="Crash 42").status_code == 200
    assert chat(asgi).status_code == 200


def test_a_keyed_fault_never_affects_another_key(client: httpx.Client) -> None:
    stored = fault(client, key=KEY, status=503, times=1)
    assert chat(client, key=OTHER).status_code == 200
    assert get_fault(client, stored["id"])["remaining"] == 1
    assert get_fault(client, stored["id"])["seen"] == 0
    assert_error(chat(client, key=KEY), 503, "upstream_unavailable")
    assert journal(client, OTHER)[0]["fault_id"] is None


def test_a_global_fault_affects_everyone(client: httpx.Client) -> None:
    stored = fault(client, key=None, status=503)
    assert_error(chat(client, key=KEY), 503, "upstream_unavailable")
    assert_error(chat(client, key=OTHER), 503, "upstream_unavailable")
    anonymous = client.post("/chat/completions", json=chat_body())
    assert_error(anonymous, 503, "upstream_unavailable")
    assert get_fault(client, stored["id"])["hits"] == 3


def test_first_created_fault_that_fires_wins(asgi: httpx.Client) -> None:
    first = fault(asgi, status=503, times=1)
    second = fault(asgi, status=502)
    assert chat(asgi).headers["x-mockair-fault-id"] == first["id"]
    assert chat(asgi).headers["x-mockair-fault-id"] == second["id"]


# -- times and after ------------------------------------------------------------------------------


def test_times_then_deleted(asgi: httpx.Client) -> None:
    stored = fault(asgi, status=429, times=2)
    assert (stored["times"], stored["remaining"], stored["hits"], stored["seen"]) == (2, 2, 0, 0)
    assert_error(chat(asgi), 429, "rate_limit_exceeded")
    now = get_fault(asgi, stored["id"])
    assert (now["remaining"], now["hits"], now["seen"]) == (1, 1, 1)
    assert_error(chat(asgi), 429, "rate_limit_exceeded")
    assert_error(asgi.get(f"/_mockair/faults/{stored['id']}"), 404, "fault_not_found", "id")
    assert chat(asgi).status_code == 200
    assert [e["status"] for e in journal(asgi)] == [429, 429, 200]
    assert [e["fault_id"] for e in journal(asgi)] == [stored["id"], stored["id"], None]


def test_after_lets_the_first_requests_pass(asgi: httpx.Client) -> None:
    stored = fault(asgi, status=503, after=2, times=1)
    assert chat(asgi).status_code == 200
    assert chat(asgi).status_code == 200
    now = get_fault(asgi, stored["id"])
    assert (now["seen"], now["hits"], now["remaining"]) == (2, 0, 1)
    assert_error(chat(asgi), 503, "upstream_unavailable")
    assert chat(asgi).status_code == 200
    assert asgi.get("/_mockair/faults", params={"key": KEY}).json() == {"faults": []}


def test_unlimited_fault_keeps_firing(asgi: httpx.Client) -> None:
    stored = fault(asgi, status=500)
    for _ in range(3):
        assert_error(chat(asgi), 500, "internal_error")
    now = get_fault(asgi, stored["id"])
    assert (now["times"], now["remaining"], now["hits"], now["seen"]) == (None, None, 3, 3)


# -- retry_after and headers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry_after", "header", "reset"),
    [(2.5, "3", "2.5s"), (0.2, "1", "0.2s"), (7, "7", "7s"), (1.25, "2", "1.25s")],
)
def test_retry_after(asgi: httpx.Client, retry_after: float, header: str, reset: str) -> None:
    fault(asgi, status=429, retry_after=retry_after)
    response = chat(asgi)
    assert_error(response, 429, "rate_limit_exceeded")
    assert response.json()["retry_after"] == retry_after
    assert response.headers["retry-after"] == header == str(max(1, math.ceil(retry_after)))
    assert response.headers["x-ratelimit-limit-requests"] == "0"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.headers["x-ratelimit-reset-requests"] == reset


# -- latency --------------------------------------------------------------------------------------


def test_latency_only_fault_lets_the_request_through(asgi: httpx.Client) -> None:
    stored = fault(asgi, status=None, latency_ms=300, times=1)
    assert stored["status"] is None
    started = time.monotonic()
    response = chat(asgi)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200, response.text
    assert response.json()["object"] == "chat.completion"
    assert asgi.get(f"/_mockair/faults/{stored['id']}").status_code == 404  # used up
    assert chat(asgi).status_code == 200


def test_latency_before_the_error(asgi: httpx.Client) -> None:
    fault(asgi, status=503, latency_ms=250)
    started = time.monotonic()
    assert_error(chat(asgi), 503, "upstream_unavailable")
    assert time.monotonic() - started >= 0.25


def test_latency_header(live: tuple[httpx.Client, str]) -> None:
    http, key = live
    started = time.monotonic()
    assert chat(http, key, headers={"x-mockair-latency-ms": "300"}).status_code == 200
    assert time.monotonic() - started >= 0.3
    # Out-of-range and malformed values are ignored (a 70 s sleep would time out here).
    for value in ("70000", "-5", "abc", "1.5"):
        response = http.post(
            "/v1/chat/completions",
            json=chat_body(),
            headers={**bearer(key), "x-mockair-latency-ms": value},
            timeout=5,
        )
        assert response.status_code == 200, (value, response.text)


# -- X-Mockair-Fault ------------------------------------------------------------------------------


def test_fault_header_status(asgi: httpx.Client) -> None:
    response = chat(asgi, headers={"x-mockair-fault": "503"})
    error = assert_error(response, 503, "upstream_unavailable")
    assert error["message"] == MESSAGE
    assert "x-mockair-fault-id" not in response.headers
    entry = journal(asgi)[-1]
    assert (entry["status"], entry["error_code"], entry["fault_id"]) == (
        503,
        "upstream_unavailable",
        None,
    )


def test_fault_header_status_and_code(asgi: httpx.Client) -> None:
    response = chat(asgi, headers={"x-mockair-fault": "429 daily_token_cap_exceeded"})
    assert_error(response, 429, "daily_token_cap_exceeded")
    assert response.json()["retry_after"] == 1.0
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-ratelimit-limit-requests"] == "0"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.headers["x-ratelimit-reset-requests"] == "1s"
    other = chat(asgi, headers={"x-mockair-fault": "418"})
    assert_error(other, 418, "injected_fault", type="invalid_request")


@pytest.mark.parametrize("value", ["", "abc", "99", "600", "5O3", "503x", "two hundred"])
def test_malformed_fault_header_is_ignored(asgi: httpx.Client, value: str) -> None:
    response = chat(asgi, headers={"x-mockair-fault": value})
    assert response.status_code == 200, response.text


def test_fault_header_needs_a_valid_key_first(asgi: httpx.Client) -> None:
    response = asgi.post(
        "/v1/chat/completions", json=chat_body(), headers={"x-mockair-fault": "503"}
    )
    assert_error(response, 401, "missing_api_key")
    bad = asgi.post(
        "/v1/chat/completions",
        json=chat_body(),
        headers={"authorization": "Bearer nope", "x-mockair-fault": "503"},
    )
    assert_error(bad, 401, "invalid_api_key")


# -- the SDKs' retry loops -----------------------------------------------------------------------


def test_openai_sdk_recovers_from_two_429s(live: tuple[httpx.Client, str]) -> None:
    http, key = live
    stored = fault(http, key=key, status=429, times=2, match={"path": "/v1/chat/completions"})
    sdk = openai_sdk(http, key, max_retries=2)
    reply = sdk.chat.completions.create(model=MINI, messages=[{"role": "user", "content": PARIS}])
    assert reply.choices[0].message.content
    entries = journal(http, key)
    assert [e["status"] for e in entries] == [429, 429, 200]
    assert [e["fault_id"] for e in entries] == [stored["id"], stored["id"], None]
    assert [e["response"]["headers"].get("retry-after") for e in entries[:2]] == ["1", "1"]


def test_openai_sdk_gives_up_when_retries_are_exhausted(asgi: httpx.Client) -> None:
    fault(asgi, status=429, times=5)
    with pytest.raises(openai.RateLimitError) as caught:
        openai_sdk(asgi, max_retries=0).chat.completions.create(
            model=MINI, messages=[{"role": "user", "content": PARIS}]
        )
    assert caught.value.status_code == 429
    assert caught.value.body == {  # type: ignore[comparison-overlap]
        "message": MESSAGE,
        "type": "rate_limit",
        "code": "rate_limit_exceeded",
        "param": None,
    }


def test_anthropic_sdk_raises_rate_limit_error_when_retries_are_exhausted(
    live: tuple[httpx.Client, str],
) -> None:
    http, key = live
    fault(http, key=key, status=429, times=3, match={"path": "/v1/messages"})
    sdk = anthropic_sdk(http, key, max_retries=1)
    with pytest.raises(anthropic.RateLimitError) as caught:
        sdk.messages.create(
            model=SONNET, max_tokens=100, messages=[{"role": "user", "content": PARIS}]
        )
    assert caught.value.status_code == 429
    assert [e["status"] for e in journal(http, key)] == [429, 429]
    # the third 429 is still there for the next call
    assert (
        http.post(
            "/v1/messages",
            json=STREAMS["messages"][1],
            headers={"x-api-key": key},
        ).status_code
        == 429
    )
    assert http.get("/_mockair/faults", params={"key": key}).json()["faults"] == []


# -- mid-stream cuts (§2.10.7) --------------------------------------------------------------------


def cut_events(
    client: httpx.Client, surface: str, key: str = KEY
) -> tuple[httpx.Response, list[dict[str, str]]]:
    path, body = STREAMS[surface]
    response = client.post(path, json={**body, "stream": True}, headers=bearer(key))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    return response, parse_sse(response.text)


def test_cut_chat_stream_after_three_chunks(client: httpx.Client) -> None:
    stored = fault(client, status=503, cut_after_chunks=3)
    response, events = cut_events(client, "chat")
    assert len(events) == 4
    chunks = [json.loads(e["data"]) for e in events[:3]]
    assert [c["object"] for c in chunks] == ["chat.completion.chunk"] * 3
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(set(c["choices"][0]["delta"]) == {"content"} for c in chunks[1:])
    assert response.text.endswith(
        'data: {"error":{"message":"Injected fault (mockair)","type":"upstream_error",'
        '"code":"upstream_unavailable","param":null}}\n\n'
    )
    assert "[DONE]" not in response.text
    assert "x-cost-cents" in response.headers
    assert "x-tokens-completion" in response.headers
    entry = journal(client)[-1]
    assert (entry["status"], entry["fault_id"]) == (200, stored["id"])
    assert get_fault(client, stored["id"])["hits"] == 1


def test_cut_messages_stream_after_three_events(client: httpx.Client) -> None:
    fault(client, status=529, code="overloaded_error", message="Overloaded", cut_after_chunks=3)
    response, events = cut_events(client, "messages")
    assert [e["event"] for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "error",
    ]
    assert response.text.endswith(
        'event: error\ndata: {"type":"error","error":{"message":"Overloaded",'
        '"type":"internal_error","code":"overloaded_error","param":null}}\n\n'
    )
    assert "message_stop" not in response.text
    assert journal(client)[-1]["status"] == 200


def test_cut_responses_stream_after_three_events(client: httpx.Client) -> None:
    fault(client, status=503, cut_after_chunks=3)
    response, events = cut_events(client, "responses")
    assert [e["event"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "error",
    ]
    assert json.loads(events[-1]["data"]) == {
        "type": "error",
        "sequence_number": 3,
        "message": MESSAGE,
        "code": "upstream_unavailable",
        "param": None,
    }
    assert list(json.loads(events[-1]["data"])) == [
        "type",
        "sequence_number",
        "message",
        "code",
        "param",
    ]
    assert "response.completed" not in response.text
    assert journal(client)[-1]["status"] == 200


def test_cut_after_zero_chunks_sends_only_the_error(asgi: httpx.Client) -> None:
    fault(asgi, status=503, cut_after_chunks=0)
    _, events = cut_events(asgi, "chat")
    assert [json.loads(e["data"])["error"]["code"] for e in events] == ["upstream_unavailable"]


def test_sdks_raise_on_a_cut_stream(client: httpx.Client) -> None:
    fault(client, status=503, cut_after_chunks=3, times=3)
    question = [{"role": "user", "content": PARIS}]
    received: list[Any] = []
    chunks = openai_sdk(client).chat.completions.create(
        model=MINI,
        messages=question,  # type: ignore[arg-type]
        stream=True,
    )
    with pytest.raises(openai.APIError) as chat_error:
        drain(chunks, received)
    assert len(received) == 3
    assert chat_error.value.body == {  # type: ignore[comparison-overlap]
        "message": MESSAGE,
        "type": "upstream_error",
        "code": "upstream_unavailable",
        "param": None,
    }

    with anthropic_sdk(client).messages.stream(
        model=SONNET,
        max_tokens=1024,
        messages=question,  # type: ignore[arg-type]
    ) as stream:
        events_seen: list[Any] = []
        with pytest.raises(anthropic.APIStatusError) as messages_error:
            drain(stream, events_seen)
    assert [e.type for e in events_seen] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "text",
    ]
    assert messages_error.value.body == {  # type: ignore[comparison-overlap]
        "type": "error",
        "error": {
            "message": MESSAGE,
            "type": "upstream_error",
            "code": "upstream_unavailable",
            "param": None,
        },
    }

    # The openai SDK hands the Responses error event over and has no final response.
    with openai_sdk(client).responses.stream(model=MINI, input=PARIS) as responses_stream:
        events = list(responses_stream)
        assert [e.type for e in events][-1] == "error"
        assert events[-1].code == "upstream_unavailable"  # type: ignore[union-attr]
        assert len(events) == 4
        with pytest.raises(RuntimeError):
            responses_stream.get_final_response()


def test_cut_mode_close_drops_the_connection(live: tuple[httpx.Client, str]) -> None:
    http, key = live
    stored = fault(http, key=key, status=503, cut_after_chunks=3, cut_mode="close", times=2)
    pieces: list[bytes] = []
    with http.stream(
        "POST", "/v1/chat/completions", json=chat_body(stream=True), headers=bearer(key)
    ) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            drain(response.iter_bytes(), pieces)
    received = b"".join(pieces)
    assert received.count(b"data: ") == 3
    assert b"error" not in received
    received_sdk: list[Any] = []
    chunks = openai_sdk(http, key).chat.completions.create(
        model=MINI,
        messages=[{"role": "user", "content": PARIS}],
        stream=True,
    )
    with pytest.raises((openai.APIConnectionError, httpx.RemoteProtocolError)):
        drain(chunks, received_sdk)
    assert len(received_sdk) == 3
    entries = journal(http, key)
    assert [(e["status"], e["fault_id"]) for e in entries] == [(200, stored["id"])] * 2


def test_a_cut_fault_is_not_used_by_a_request_that_does_not_stream(asgi: httpx.Client) -> None:
    stored = fault(asgi, status=503, cut_after_chunks=2, times=1)
    plain = chat(asgi)
    assert plain.status_code == 200
    assert "x-mockair-fault-id" not in plain.headers
    invalid = asgi.post(
        "/v1/chat/completions",
        json={"model": MINI, "messages": [], "stream": True, "bogus": 1},
        headers=bearer(KEY),
    )
    assert invalid.status_code == 400  # failed before the stream started
    now = get_fault(asgi, stored["id"])
    assert (now["remaining"], now["hits"]) == (1, 0)
    _, events = cut_events(asgi, "chat")
    assert len(events) == 3
    assert "error" in json.loads(events[-1]["data"])
    assert asgi.get(f"/_mockair/faults/{stored['id']}").status_code == 404
    _, whole = cut_events(asgi, "chat")
    assert whole[-1]["data"] == "[DONE]"


def test_a_cut_fault_does_not_block_later_faults(asgi: httpx.Client) -> None:
    fault(asgi, status=503, cut_after_chunks=2)
    plain = fault(asgi, status=502)
    response = chat(asgi)
    assert_error(response, 502, "bad_gateway", type="internal_error")
    assert response.headers["x-mockair-fault-id"] == plain["id"]


# -- fallbacks (§3.2.4) ---------------------------------------------------------------------------


def test_a_5xx_fault_on_the_first_model_falls_back(asgi: httpx.Client) -> None:
    stored = fault(asgi, status=503, match={"model": MINI})
    response = chat(asgi, models=[FALLBACK])
    assert response.status_code == 200, response.text
    assert response.json()["model"] == FALLBACK
    prompt = int(response.headers["x-tokens-prompt"])
    completion = int(response.headers["x-tokens-completion"])
    assert response.headers["x-cost-cents"] == f"{(prompt * 40 + completion * 160) / 1e6:.4f}"
    assert get_fault(asgi, stored["id"])["hits"] == 1
    streamed = chat(asgi, models=[FALLBACK], stream=True)
    first = json.loads(parse_sse(streamed.text)[0]["data"])
    assert first["model"] == FALLBACK


def test_every_candidate_faulted_returns_the_last_fault(asgi: httpx.Client) -> None:
    fault(asgi, status=503, match={"model": MINI})
    last = fault(asgi, status=502, match={"model": FALLBACK}, message="Second is down")
    response = chat(asgi, models=[FALLBACK])
    error = assert_error(response, 502, "bad_gateway", type="internal_error")
    assert error["message"] == "Second is down"
    assert response.headers["x-mockair-fault-id"] == last["id"]


def test_the_third_candidate_answers(asgi: httpx.Client) -> None:
    fault(asgi, status=500, match={"model": MINI})
    fault(asgi, status=504, match={"model": FALLBACK})
    response = chat(asgi, models=[FALLBACK, "gpt-4o"])
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "gpt-4o"


def test_a_4xx_fault_does_not_fall_back(asgi: httpx.Client) -> None:
    fault(asgi, status=429, match={"model": MINI})
    assert_error(chat(asgi, models=[FALLBACK]), 429, "rate_limit_exceeded")


def test_the_fault_header_triggers_a_fallback(asgi: httpx.Client) -> None:
    response = chat(asgi, models=[FALLBACK], headers={"x-mockair-fault": "503"})
    assert response.status_code == 200, response.text
    assert response.json()["model"] == FALLBACK
    alone = chat(asgi, headers={"x-mockair-fault": "503"})
    assert_error(alone, 503, "upstream_unavailable")
    not_5xx = chat(asgi, models=[FALLBACK], headers={"x-mockair-fault": "400"})
    assert_error(not_5xx, 400, "invalid_value")


def test_permissions_apply_to_the_answering_model(asgi: httpx.Client) -> None:
    key = "sk-air-faults-limited"
    registered = asgi.post("/_mockair/keys", json={"key": key, "blocked_models": [FALLBACK]})
    assert registered.status_code == 200
    fault(asgi, key=key, status=503, match={"model": MINI})
    response = chat(asgi, key=key, models=[FALLBACK])
    assert_error(response, 403, "model_not_allowed", "model")
