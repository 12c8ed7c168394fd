"""Hostile input against a live server (real socket): every answer is the exact CONTRACT §2.5
envelope (status, code and param where the contract defines them) and the server stays healthy.

Covered: bodies of wrong JSON types at every nesting level (§2.6), non-object and invalid UTF-8
bodies, huge numbers, deeply nested JSON, NUL bytes, header injection (§2.4 X-Request-ID), path
traversal in /media ids (§3.11), URLs at other hosts in vision and edits (never fetched, §2.11.1,
§3.6.3, §3.12.5), slow-loris uploads, oversized uploads refused while streaming (§6), lying
Content-Length headers, and content types (§2.6).

Raw sockets are used wherever an HTTP client would refuse or normalise the request. After every
test, ``/_mockair/health`` must answer ``ok``, a chat request must still succeed, and the
journal of the test's own key must still be readable.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import select
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from mockair import MockAir
from tests.helpers import assert_error

EPOCH = 1767225600
CHAT = "/v1/chat/completions"
MODEL = "gpt-4o-mini"
USER = [{"role": "user", "content": "hi"}]

_keys = itertools.count(1)


@pytest.fixture(scope="module")
def server() -> Iterator[MockAir]:
    with MockAir(
        port=0, epoch=EPOCH, clock_speed=0, task_seconds=0, log_level="warning"
    ) as running:
        yield running


@pytest.fixture
def key() -> str:
    """A key of its own for every test, so that its journal is its own."""
    return f"sk-air-hostile-{next(_keys):04d}"


@pytest.fixture
def http(server: MockAir, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


@pytest.fixture(autouse=True)
def stays_healthy(server: MockAir, key: str) -> Iterator[None]:
    yield
    assert_healthy(server, key)


def assert_healthy(server: MockAir, key: str) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        health = client.get("/_mockair/health")
        assert health.status_code == 200, health.text
        assert health.json()["status"] == "ok"
        chat = client.post(
            CHAT,
            json={"model": MODEL, "messages": USER},
            headers={"Authorization": "Bearer sk-air-health-probe"},
        )
        assert chat.status_code == 200, chat.text
        journal = client.get("/_mockair/requests", params={"key": key})
        assert journal.status_code == 200, journal.text


def journaled_statuses(server: MockAir, key: str, count: int) -> list[int]:
    """The statuses journaled for ``key`` once ``count`` entries are there (a request whose
    client vanished is journaled when the server notices)."""
    deadline = time.monotonic() + 5
    while True:
        entries = httpx.get(
            server.url + "/_mockair/requests", params={"key": key}, timeout=30
        ).json()["requests"]
        if len(entries) >= count or time.monotonic() > deadline:
            return [entry["status"] for entry in entries]
        time.sleep(0.05)


# -- raw HTTP ------------------------------------------------------------------------------


def connect(server: MockAir, timeout: float = 10) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return out


def read_response(sock: socket.socket, timeout: float = 10) -> httpx.Response:
    """The first HTTP response on ``sock`` as an ``httpx.Response`` (raises on timeout)."""
    sock.settimeout(timeout)
    data = b""
    while True:
        if b"\r\n\r\n" in data:
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = [tuple(line.split(":", 1)) for line in lines[1:]]
            headers = [(name.strip(), value.strip()) for name, value in headers]
            names = {name.lower(): value for name, value in headers}
            if "content-length" in names and len(body) >= int(names["content-length"]):
                body = body[: int(names["content-length"])]
                break
            if names.get("transfer-encoding") == "chunked" and body.endswith(b"0\r\n\r\n"):
                body = _dechunk(body)
                break
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            if b"\r\n\r\n" not in data:
                raise AssertionError(f"connection closed without a response: {data!r}")
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = [tuple(line.split(":", 1)) for line in lines[1:]]
            headers = [(name.strip(), value.strip()) for name, value in headers]
            break
        data += chunk
    status = int(lines[0].split(" ")[1])
    return httpx.Response(status, headers=headers, content=body)


def exchange(server: MockAir, data: bytes, timeout: float = 10) -> httpx.Response:
    with connect(server, timeout) as sock:
        sock.sendall(data)
        return read_response(sock, timeout)


def request_bytes(
    method: str, path: str, headers: dict[str, bytes] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
    for name, value in (headers or {}).items():
        lines.append(name.encode() + b": " + value)
    if body and not any(
        n.lower() in ("content-length", "transfer-encoding") for n in headers or {}
    ):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def assert_envelope(response: httpx.Response, status: int) -> dict[str, Any]:
    """A §2.5 envelope with this status whose code the test does not pin (the contract names
    none for requests the HTTP parser refuses)."""
    assert response.status_code == status, response.content[:300]
    assert response.headers.get("content-type") == "application/json", (
        f"not the JSON envelope: {response.headers} {response.content[:200]!r}"
    )
    error = response.json()["error"]
    return assert_error(response, status, error["code"], error["param"])


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


# -- wrong JSON types at every nesting level -----------------------------------------------


def _chat(**fields: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": USER, **fields}


def _assistant_call(function: Any) -> list[dict[str, Any]]:
    return [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": function}],
        },
        {"role": "user", "content": "hi"},
    ]


WRONG_TYPES = [
    ("model-number", CHAT, _chat(model=5), "model"),
    ("messages-object", CHAT, {"model": MODEL, "messages": {"role": "user"}}, "messages"),
    ("messages-string", CHAT, {"model": MODEL, "messages": "hi"}, "messages"),
    ("messages-number", CHAT, {"model": MODEL, "messages": 5}, "messages"),
    ("messages-bool", CHAT, {"model": MODEL, "messages": True}, "messages"),
    ("message-list", CHAT, {"model": MODEL, "messages": [["user", "hi"]]}, "messages.0"),
    ("message-string", CHAT, {"model": MODEL, "messages": ["hi"]}, "messages.0"),
    (
        "role-number",
        CHAT,
        {"model": MODEL, "messages": [{"role": 5, "content": "hi"}]},
        "messages.0.role",
    ),
    (
        "content-number",
        CHAT,
        {"model": MODEL, "messages": [{"role": "user", "content": 5}]},
        "messages.0.content",
    ),
    (
        "content-object",
        CHAT,
        {"model": MODEL, "messages": [{"role": "user", "content": {"a": 1}}]},
        "messages.0.content",
    ),
    (
        "part-string",
        CHAT,
        {"model": MODEL, "messages": [{"role": "user", "content": ["hi"]}]},
        "messages.0.content.0",
    ),
    (
        "part-type-number",
        CHAT,
        {"model": MODEL, "messages": [{"role": "user", "content": [{"type": 5}]}]},
        "messages.0.content.0.type",
    ),
    (
        "part-text-number",
        CHAT,
        {"model": MODEL, "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
        "messages.0.content.0.text",
    ),
    (
        "image_url-number",
        CHAT,
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": 5}]}],
        },
        "messages.0.content.0.image_url",
    ),
    (
        "image_url.url-number",
        CHAT,
        {
            "model": MODEL,
            "messages": [
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": 5}}]}
            ],
        },
        "messages.0.content.0.image_url.url",
    ),
    (
        "tool_calls-string",
        CHAT,
        {
            "model": MODEL,
            "messages": [{"role": "assistant", "content": None, "tool_calls": "x"}, *USER],
        },
        "messages.0.tool_calls",
    ),
    (
        "tool_call.function.arguments-number",
        CHAT,
        {"model": MODEL, "messages": _assistant_call({"name": "f", "arguments": 5})},
        "messages.0.tool_calls.0.function.arguments",
    ),
    ("tools-object", CHAT, _chat(tools={"type": "function"}), "tools"),
    ("tools.0-string", CHAT, _chat(tools=["x"]), "tools.0"),
    (
        "tools.0.function-string",
        CHAT,
        _chat(tools=[{"type": "function", "function": "f"}]),
        "tools.0.function",
    ),
    (
        "tools.0.function.name-number",
        CHAT,
        _chat(tools=[{"type": "function", "function": {"name": 5}}]),
        "tools.0.function.name",
    ),
    (
        "tools.0.function.parameters-string",
        CHAT,
        _chat(tools=[{"type": "function", "function": {"name": "f", "parameters": "x"}}]),
        "tools.0.function.parameters",
    ),
    ("tool_choice-number", CHAT, _chat(tool_choice=5), "tool_choice"),
    ("response_format-string", CHAT, _chat(response_format="json"), "response_format"),
    (
        "response_format.json_schema.schema-string",
        CHAT,
        _chat(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": "s"}}),
        "response_format.json_schema.schema",
    ),
    ("max_tokens-string", CHAT, _chat(max_tokens="5"), "max_tokens"),
    ("stream-string", CHAT, _chat(stream="yes"), "stream"),
    ("stop-number", CHAT, _chat(stop=5), "stop"),
    ("n-string", CHAT, _chat(n="2"), "n"),
    (
        "anthropic-messages-object",
        "/v1/messages",
        {"model": "claude-sonnet-4.6", "max_tokens": 10, "messages": {"role": "user"}},
        "messages",
    ),
    (
        "anthropic-content-number",
        "/v1/messages",
        {
            "model": "claude-sonnet-4.6",
            "max_tokens": 10,
            "messages": [{"role": "user", "content": 5}],
        },
        "messages.0.content",
    ),
    (
        "anthropic-block-type-number",
        "/v1/messages",
        {
            "model": "claude-sonnet-4.6",
            "max_tokens": 10,
            "messages": [{"role": "user", "content": [{"type": 5}]}],
        },
        "messages.0.content.0.type",
    ),
    (
        "anthropic-system-number",
        "/v1/messages",
        {"model": "claude-sonnet-4.6", "max_tokens": 10, "messages": USER, "system": 5},
        "system",
    ),
    (
        "anthropic-tools.0.input_schema-string",
        "/v1/messages",
        {
            "model": "claude-sonnet-4.6",
            "max_tokens": 10,
            "messages": USER,
            "tools": [{"name": "f", "input_schema": "s"}],
        },
        "tools.0.input_schema",
    ),
    ("responses-input-number", "/v1/responses", {"model": MODEL, "input": 5}, "input"),
    ("responses-input.0-number", "/v1/responses", {"model": MODEL, "input": [5]}, "input.0"),
    (
        "responses-input.0.content-number",
        "/v1/responses",
        {"model": MODEL, "input": [{"role": "user", "content": 5}]},
        "input.0.content",
    ),
    (
        "responses-tools-string",
        "/v1/responses",
        {"model": MODEL, "input": "x", "tools": "t"},
        "tools",
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "param"), [pytest.param(p, b, q, id=i) for i, p, b, q in WRONG_TYPES]
)
def test_wrong_json_type_at_each_nesting_level(
    http: httpx.Client, path: str, body: dict[str, Any], param: str
) -> None:
    assert_error(http.post(path, json=body), 400, "invalid_type", param)


@pytest.mark.parametrize(
    "raw", [b"[1, 2]", b'"text"', b"5", b"true", b"null", b"", b"   ", b"{", b"{'a': 1}"]
)
def test_body_that_is_not_a_json_object(http: httpx.Client, raw: bytes) -> None:
    response = http.post(CHAT, content=raw, headers={"content-type": "application/json"})
    assert_error(response, 400, "invalid_json")


INTEGRAL_FLOATS = [
    ("chat-n", CHAT, _chat(n=2.0), "n"),
    ("chat-top_logprobs", CHAT, _chat(logprobs=True, top_logprobs=2.0), "top_logprobs"),
    ("chat-max_tokens", CHAT, _chat(max_tokens=5.0), "max_tokens"),
    (
        "embeddings-dimensions",
        "/v1/embeddings",
        {"model": "text-embedding-3-small", "input": "x", "dimensions": 53.0},
        "dimensions",
    ),
    (
        "images-n",
        "/v1/images/generations",
        {"model": "flux", "prompt": "x", "size": "64x64", "n": 1.0},
        "n",
    ),
    (
        "images-width",
        "/v1/images/generations",
        {"model": "flux", "prompt": "x", "width": 64.0, "height": 64.0},
        "width",
    ),
    (
        "video-duration",
        "/v1/video/generations",
        {"model": "wan-2.6", "prompt": "x", "duration_seconds": 5.0},
        "duration_seconds",
    ),
    (
        "messages-max_tokens",
        "/v1/messages",
        {"model": "claude-sonnet-4.6", "max_tokens": 5.0, "messages": USER},
        "max_tokens",
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "param"), [pytest.param(p, b, q, id=i) for i, p, b, q in INTEGRAL_FLOATS]
)
def test_integral_float_where_an_integer_is_expected(
    http: httpx.Client, path: str, body: dict[str, Any], param: str
) -> None:
    """``2.0`` for an integer field: JSON Schema calls it an integer, so it is either used as
    one (200) or refused as the wrong type (400 invalid_type) -- never a 500."""
    response = http.post(path, json=body)
    if response.status_code != 200:
        assert_error(response, 400, "invalid_type", param)


# -- invalid UTF-8, NUL bytes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe\x00",
        b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\xff\xfe"}]}',
        b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\xc0\xaf"}]}',
        b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\xed\xa0\x80"}]}',
        b'{"model":"gpt-4o-\x80mini","messages":[]}',
    ],
    ids=["garbage", "in-string", "overlong", "surrogate", "in-model"],
)
def test_invalid_utf8_body(http: httpx.Client, raw: bytes) -> None:
    assert_error(http.post(CHAT, content=raw), 400, "invalid_json")


def test_invalid_utf8_in_query_and_form_fields(http: httpx.Client) -> None:
    # A query value that is not UTF-8 is a prompt like any other (percent-decoding replaces it).
    response = http.get("/imagine?prompt=%ff%fe&size=1:1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    form = (
        b'--B\r\nContent-Disposition: form-data; name="model"\r\n\r\n\xff\xfe\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="\xff.wav"\r\n\r\n'
        b"RIFF\r\n--B--\r\n"
    )
    response = http.post(
        "/v1/audio/transcriptions",
        content=form,
        headers={"content-type": "multipart/form-data; boundary=B"},
    )
    assert_error(response, 404, "model_not_found", "model", type="invalid_request")


def test_nul_bytes_in_strings(http: httpx.Client) -> None:
    chat = http.post(
        CHAT, json={"model": MODEL, "messages": [{"role": "user", "content": "a\x00b"}]}
    )
    assert chat.status_code == 200, chat.text
    assert chat.json()["object"] == "chat.completion"
    assert_error(
        http.post(CHAT, json=_chat(model="gpt-4o-mini\x00")),
        404,
        "model_not_found",
        "model",
        type="invalid_request",
    )
    assert_error(
        http.get("/v1/models/gpt-4o-mini%00"),
        404,
        "model_not_found",
        "model",
        type="invalid_request",
    )
    image = http.post(
        "/v1/images/generations",
        json={"model": "flux", "prompt": "a\x00b", "size": "64x64", "response_format": "b64_json"},
    )
    assert image.status_code == 200, image.text
    import base64

    with Image.open(io.BytesIO(base64.b64decode(image.json()["data"][0]["b64_json"]))) as png:
        assert png.size == (64, 64)
    speech = http.post(
        "/v1/audio/speech", json={"model": "gpt-4o-mini-tts", "input": "a\x00b", "voice": "alloy"}
    )
    assert speech.status_code == 200
    assert speech.headers["content-type"] == "audio/mpeg"
    legacy = http.get("/imagine", params={"prompt": "a\x00b"})
    assert legacy.status_code == 200
    assert legacy.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_nul_bytes_in_the_body(http: httpx.Client) -> None:
    raw = b'{"model":"gpt-4o-mini",\x00"messages":[{"role":"user","content":"hi"}]}'
    assert_error(http.post(CHAT, content=raw), 400, "invalid_json")
    assert_error(http.post(CHAT, content=b"\x00" * 64), 400, "invalid_json")


# -- huge numbers ----------------------------------------------------------------------------

BASE = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]'

HUGE = [
    ("max_tokens-1e400", CHAT, BASE + b',"max_tokens":1e400}', "invalid_type", "max_tokens"),
    ("seed-1e400", CHAT, BASE + b',"seed":1e400}', "invalid_type", "seed"),
    ("n-1e30", CHAT, BASE + b',"n":1000000000000000000000000000000}', "invalid_value", "n"),
    (
        "top_logprobs-1e30",
        CHAT,
        BASE + b',"logprobs":true,"top_logprobs":1000000000000000000000000000000}',
        "invalid_value",
        "top_logprobs",
    ),
    (
        "max_tokens-5000-digits",
        CHAT,
        BASE + b',"max_tokens":1' + b"0" * 5000 + b"}",
        "invalid_json",
        None,
    ),
    (
        "speed-1e400",
        "/v1/audio/speech",
        b'{"model":"gpt-4o-mini-tts","input":"hi","voice":"alloy","speed":1e400}',
        "invalid_value",
        "speed",
    ),
    (
        "speed--1e400",
        "/v1/audio/speech",
        b'{"model":"gpt-4o-mini-tts","input":"hi","voice":"alloy","speed":-1e400}',
        "invalid_value",
        "speed",
    ),
    (
        "dimensions-1e30",
        "/v1/embeddings",
        b'{"model":"text-embedding-3-small","input":"hi","dimensions":1000000000000000000000000000000}',
        "invalid_value",
        "dimensions",
    ),
    (
        "images-n-1e30",
        "/v1/images/generations",
        b'{"model":"flux","prompt":"x","n":1000000000000000000000000000000}',
        "invalid_value",
        "n",
    ),
    (
        "images-width-1e30",
        "/v1/images/generations",
        b'{"model":"flux","prompt":"x","width":1000000000000000000000000000000,"height":64}',
        "invalid_value",
        "width",
    ),
    (
        "video-duration-1e30",
        "/v1/video/generations",
        b'{"model":"wan-2.6","prompt":"x","duration_seconds":1000000000000000000000000000000}',
        "invalid_value",
        "duration_seconds",
    ),
    (
        "sfx-duration-1e400",
        "/v1/audio/sound-effects",
        b'{"model":"elevenlabs-sound-effects","text":"x","duration_seconds":1e400}',
        "invalid_value",
        "duration_seconds",
    ),
    (
        "responses-temperature-1e400",
        "/v1/responses",
        b'{"model":"gpt-4o-mini","input":"hi","temperature":1e400}',
        "invalid_value",
        "temperature",
    ),
]


@pytest.mark.parametrize(
    ("path", "raw", "code", "param"),
    [pytest.param(p, r, c, q, id=i) for i, p, r, c, q in HUGE],
)
def test_huge_numbers_are_rejected(
    http: httpx.Client, path: str, raw: bytes, code: str, param: str | None
) -> None:
    assert_error(http.post(path, content=raw), 400, code, param)


def test_huge_numbers_that_are_allowed(http: httpx.Client) -> None:
    capped = http.post(CHAT, content=BASE + b',"max_tokens":1000000000000000000000000000000}')
    assert capped.status_code == 200, capped.text
    assert capped.json()["usage"]["completion_tokens"] >= 1
    for seed in (b"1000000000000000000000000000000", b"-1000000000000000000000000000000"):
        response = http.post(CHAT, content=BASE + b',"seed":' + seed + b"}")
        assert response.status_code == 200, response.text
    # ignored fields accept any JSON value (§2.6), huge or infinite
    ignored = http.post(CHAT, content=BASE + b',"temperature":1e400,"top_p":-1e400}')
    assert ignored.status_code == 200, ignored.text
    legacy = http.get("/imagine", params={"prompt": "x", "seed": "1" + "0" * 30})
    assert legacy.status_code == 200
    assert_error(
        http.get("/imagine", params={"prompt": "x", "seed": "1" + "0" * 5000}),
        400,
        "invalid_value",
        "seed",
    )


@pytest.mark.parametrize(
    "body",
    [{"advance": 1e300}, {"set": 1e300}, {"speed": 1e300}, {"set": "9999-12-31T23:59:59Z"}],
    ids=["advance", "set", "speed", "set-year-9999"],
)
def test_huge_clock_values_leave_the_server_working(body: dict[str, Any]) -> None:
    """A clock pushed past what dates can express must be refused (400 invalid_value), or at
    least leave every route answering: the Date header and ISO times are derived from it."""
    with (
        MockAir(port=0, epoch=EPOCH, clock_speed=0, log_level="warning") as fresh,
        httpx.Client(base_url=fresh.url, timeout=30) as client,
    ):
        changed = client.post("/_mockair/clock", json=body)
        if changed.status_code != 200:
            assert_error(changed, 400, "invalid_value", next(iter(body)))
        health = client.get("/_mockair/health")
        assert health.status_code == 200, health.text
        assert health.headers["x-request-id"]
        chat = client.post(
            CHAT,
            json={"model": MODEL, "messages": USER},
            headers={"Authorization": "Bearer sk-air-clock"},
        )
        assert chat.status_code == 200, chat.text


# -- deeply nested JSON ------------------------------------------------------------------------


def _arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _schema(depth: int) -> bytes:
    return b'{"type":"object","properties":{"a":' * depth + b'{"type":"string"}' + b"}}" * depth


@pytest.mark.parametrize("raw", [_arrays(100_000), _objects(100_000)], ids=["arrays", "objects"])
def test_deeply_nested_body(http: httpx.Client, raw: bytes) -> None:
    assert_error(http.post(CHAT, content=raw), 400, "invalid_json")
    field = BASE + b',"metadata":' + raw + b"}"
    assert_error(http.post(CHAT, content=field), 400, "invalid_json")


NESTED = [
    ("chat-metadata", CHAT, lambda d: BASE + b',"metadata":' + _arrays(d) + b"}"),
    (
        "chat-json-schema",
        CHAT,
        lambda d: (
            BASE
            + b',"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":'
            + _objects(d)
            + b"}}}"
        ),
    ),
    (
        "chat-tool-parameters",
        CHAT,
        lambda d: (
            b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"call f"}],'
            b'"tool_choice":"required","tools":[{"type":"function","function":{"name":"f",'
            b'"parameters":' + _schema(d // 2) + b"}}]}"
        ),
    ),
    (
        "responses-user",
        "/v1/responses",
        lambda d: b'{"model":"gpt-4o-mini","input":"hi","user":' + _arrays(d) + b"}",
    ),
    (
        "messages-top_k",
        "/v1/messages",
        lambda d: (
            b'{"model":"claude-sonnet-4.6","max_tokens":20,"messages":[{"role":"user","content":"hi"}],"stop_sequences":["zz"],"top_k":'
            + _arrays(d)
            + b"}"
        ),
    ),
]


@pytest.mark.parametrize("depth", [64, 100, 260, 600, 990])
@pytest.mark.parametrize(("path", "make"), [pytest.param(p, m, id=i) for i, p, m in NESTED])
def test_nesting_the_parser_accepts(
    http: httpx.Client, key: str, path: str, make: Callable[[int], bytes], depth: int
) -> None:
    """Nesting shallow enough for the JSON parser must be answered (200 or a 400 envelope),
    never a 500, and the request must not break the journal (checked after the test)."""
    response = http.post(path, content=make(depth))
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        error = assert_envelope(response, 400)
        assert error["code"] in ("invalid_json", "invalid_type", "invalid_value")
    journal = http.get("/_mockair/requests", params={"key": key})
    assert journal.status_code == 200, journal.text


# -- header injection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [b"ab cd", b"\xff\xfe", b"x" * 129, b"tab\there", b"caf\xc3\xa9"],
    ids=["space", "latin-1", "too-long", "tab", "utf-8"],
)
def test_request_id_that_is_not_visible_ascii_is_replaced(server: MockAir, value: bytes) -> None:
    response = exchange(server, request_bytes("GET", "/v1/models", {"X-Request-ID": value}))
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert request_id.startswith("req_")
    assert len(request_id) == 28


def test_header_split_by_crlf_is_a_second_header_not_an_injection(server: MockAir) -> None:
    raw = request_bytes("GET", "/v1/models", {"X-Request-ID": b"abc\r\nInjected: yes"})
    response = exchange(server, raw)
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "abc"
    assert "injected" not in response.headers


@pytest.mark.parametrize("protocol", ["websocket", "h2c"])
def test_an_upgrade_request_is_answered_as_the_plain_http_request_it_is(
    server: MockAir, key: str, protocol: str
) -> None:
    """The API has no WebSocket (or h2c) endpoint: the Upgrade is ignored, as RFC 9110 lets a
    server do, and the request gets its ordinary answer: never a handshake, never uvicorn's
    empty 403."""

    def upgrade(path: str) -> httpx.Response:
        head = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
            f"Upgrade: {protocol}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Authorization: Bearer {key}\r\n\r\n"
        )
        return exchange(server, head.encode())

    models = upgrade("/v1/models")
    assert models.status_code == 200
    assert models.json()["object"] == "list"
    assert models.headers["x-request-id"].startswith("req_")
    assert_envelope(upgrade("/v1/realtime"), 404)
    assert_envelope(upgrade("/v1/chat/completions"), 405)


H2C_UPGRADE = (
    b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
    b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
)  # what curl --http2 adds to a request for an http:// URL


def _chat_head(key: str, framing: bytes) -> bytes:
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + H2C_UPGRADE
        + b"Authorization: Bearer "
        + key.encode()
        + b"\r\n"
        + b"Content-Type: application/json\r\n"
        + framing
        + b"\r\n"
    )


def test_an_upgrade_request_with_a_body_gets_its_body(
    server: MockAir, http: httpx.Client, key: str
) -> None:
    """httptools hands the body of an Upgrade request back as another protocol's bytes; the
    request is still answered from its whole body, Content-Length or chunked, whole or in
    pieces, and the connection then closes."""
    body = json.dumps(_chat(max_tokens=5)).encode()
    plain = http.post("/v1/chat/completions", content=body)
    assert plain.status_code == 200, plain.text
    framings = {
        "length": b"Content-Length: " + str(len(body)).encode() + b"\r\n",
        "chunked": b"Transfer-Encoding: chunked\r\n",
    }
    for name, framing in framings.items():
        payload = body if name == "length" else chunk(body[:20]) + chunk(body[20:]) + b"0\r\n\r\n"
        for pieces in (1, 3):  # with the head, or trickled after it
            with connect(server) as sock:
                sock.sendall(_chat_head(key, framing) + (payload if pieces == 1 else b""))
                if pieces > 1:
                    step = len(payload) // pieces + 1
                    for start in range(0, len(payload), step):
                        time.sleep(0.05)
                        sock.sendall(payload[start : start + step])
                response = read_response(sock)
                assert response.status_code == 200, (name, pieces, response.content[:300])
                assert response.json()["choices"] == plain.json()["choices"]
                assert response.headers["connection"] == "close"
                sock.settimeout(5)
                assert sock.recv(1) == b"", "the connection stays open after an upgrade body"


def test_an_oversized_upgrade_body_is_refused_while_streaming(server: MockAir, key: str) -> None:
    total = 40 * 1024 * 1024
    with connect(server, timeout=30) as sock:
        sock.sendall(_chat_head(key, b"Transfer-Encoding: chunked\r\n"))
        sock.sendall(chunk(b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"'))
        sent = _stream_until_answered(sock, total, fast=30 * 1024 * 1024, piece=b"a" * 65536)
        assert sent < total, "the 413 came only after the whole body"
        response = read_response(sock, 30)
    assert_error(response, 413, "payload_too_large")


def test_a_malformed_upgrade_body_is_the_parser_refusal(server: MockAir, key: str) -> None:
    with connect(server) as sock:
        sock.sendall(_chat_head(key, b"Transfer-Encoding: chunked\r\n") + b"zz\r\n{}\r\n")
        response = read_response(sock)
    assert_envelope(response, 400)


def test_pipelined_request_after_a_bodiless_upgrade_request_is_answered(
    server: MockAir, key: str
) -> None:
    auth = b"Authorization: Bearer " + key.encode() + b"\r\n"
    upgrade = b"GET /v1/models HTTP/1.1\r\nHost: x\r\n" + H2C_UPGRADE + auth + b"\r\n"
    second = (
        b"GET /v1/models/gpt-4o-mini HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + auth + b"\r\n"
    )
    received = b""
    with connect(server) as sock:
        sock.sendall(upgrade + second)
        while chunk_ := sock.recv(65536):
            received += chunk_
    heads = re.findall(rb"HTTP/1\.1 (\d{3}) ", received)
    assert heads == [b"200", b"200"], received[:300]
    assert b'"object":"list"' in received
    assert received.rstrip().endswith(b"}")
    last_body = received.rsplit(b"\r\n\r\n", 1)[1]
    assert json.loads(last_body)["id"] == "gpt-4o-mini"


def test_crlf_in_values_that_reach_the_response(http: httpx.Client) -> None:
    """Request text only ever comes back inside JSON, escaped; never in a header."""
    response = http.get("/v1/models/x%0d%0aSet-Cookie:%20a=b")
    error = assert_error(response, 404, "model_not_found", "model", type="invalid_request")
    assert "\r\n" in error["message"]
    assert "set-cookie" not in response.headers
    legacy = http.get("/images/vision", params={"url": "http://x/a.png\r\nSet-Cookie: a=b"})
    assert legacy.status_code == 200
    assert "set-cookie" not in legacy.headers


# -- path traversal in /media ids ----------------------------------------------------------


@pytest.fixture(scope="module")
def real_image(server: MockAir) -> str:
    response = httpx.post(
        server.url + "/v1/images/generations",
        json={"model": "flux", "prompt": "real", "size": "64x64"},
        headers={"Authorization": "Bearer sk-air-media-owner"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()["data"][0]["url"].rsplit("/", 1)[-1]


TRAVERSALS = [
    "/media/%2e%2e/%2e%2e/etc/passwd",
    "/media/../../etc/passwd",
    "/media/..%2f..%2fetc%2fpasswd.png",
    "/media/img_%2e%2e%2f%2e%2e%2fpyproject.png",
    "/media/%2e%2e%5c%2e%2e%5cwindows.png",
    "/media/img_abc.png%00",
    "/media/%00",
    "/media/..",
    "/media/.png",
    "/media/" + "a" * 8000 + ".png",
    "/media/img_" + "0" * 8000 + ".png",
    "/media/%2fetc%2fpasswd",
    "/media/file:%2f%2f%2fetc%2fpasswd.png",
]


@pytest.mark.parametrize("path", TRAVERSALS, ids=lambda p: p[:40])
def test_media_path_traversal(server: MockAir, path: str) -> None:
    response = exchange(server, request_bytes("GET", path))
    assert_error(response, 404, "media_not_found", "media_id")
    assert b"root:" not in response.content
    assert b"[project]" not in response.content


def test_media_traversal_around_a_real_id(server: MockAir, real_image: str) -> None:
    served = exchange(server, request_bytes("GET", "/media/" + real_image))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    for path in [
        f"/media/{real_image}/../{real_image}",
        f"/media/..%2f{real_image}",
        f"/media/{real_image}%2f..%2f..%2fetc%2fpasswd",
        f"/media/{real_image.replace('.png', '.mp4')}",
        f"/media/{real_image.upper()}",
    ]:
        response = exchange(server, request_bytes("GET", path))
        assert_error(response, 404, "media_not_found", "media_id")


# -- URLs at other hosts: never fetched --------------------------------------------------------


@pytest.fixture
def trap() -> Iterator[tuple[str, Callable[[], bool]]]:
    """A TCP listener on 127.0.0.1 and a function telling whether anything connected to it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]

    def connected() -> bool:
        readable, _, _ = select.select([listener], [], [], 0.3)
        return bool(readable)

    yield f"http://127.0.0.1:{port}/secret/photo.png", connected
    listener.close()


def _content_part(url: str) -> list[dict[str, Any]]:
    return [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": url}},
    ]


def test_vision_urls_are_never_fetched(
    http: httpx.Client, trap: tuple[str, Callable[[], bool]]
) -> None:
    url, connected = trap
    for target, label in [(url, "photo.png"), ("http://169.254.169.254/latest", "latest")]:
        chat = http.post(
            CHAT,
            json={"model": MODEL, "messages": [{"role": "user", "content": _content_part(target)}]},
        )
        assert chat.status_code == 200, chat.text
        content = chat.json()["choices"][0]["message"]["content"]
        assert content.startswith(f'An image referenced as "{label}" (not fetched).'), content
    messages = http.post(
        "/v1/messages",
        json={
            "model": "claude-sonnet-4.6",
            "max_tokens": 50,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image", "source": {"type": "url", "url": url}},
                        {"type": "text", "text": "what"},
                    ],
                }
            ],
        },
    )
    assert messages.status_code == 200, messages.text
    assert "(not fetched)" in messages.json()["content"][0]["text"]
    responses = http.post(
        "/v1/responses",
        json={
            "model": MODEL,
            "input": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_image", "image_url": url},
                        {"type": "input_text", "text": "what"},
                    ],
                }
            ],
        },
    )
    assert responses.status_code == 200, responses.text
    assert "(not fetched)" in responses.text
    for target, label in [(url, "photo.png"), ("http://10.0.0.1/x.png", "x.png")]:
        vision = http.get("/images/vision", params={"url": target})
        assert vision.status_code == 200
        assert vision.headers["content-type"] == "text/plain; charset=utf-8"
        assert vision.text == f'An image referenced as "{label}" (not fetched).'
    assert not connected(), "mockair connected to a URL it was given"


def test_edit_and_video_inputs_are_never_fetched(
    http: httpx.Client, trap: tuple[str, Callable[[], bool]]
) -> None:
    url, connected = trap
    edit = http.post(
        "/v1/images/generations",
        json={
            "model": "flux-2-dev",
            "prompt": "edit",
            "size": "64x64",
            "input_images": [{"url": url}, {"url": "http://169.254.169.254/latest/meta-data"}],
            "response_format": "b64_json",
        },
    )
    assert edit.status_code == 200, edit.text
    import base64

    with Image.open(io.BytesIO(base64.b64decode(edit.json()["data"][0]["b64_json"]))) as png:
        assert png.size == (64, 64)
        meta = json.loads(png.text["mockair"])
    assert meta["sources"] == [url, "http://169.254.169.254/latest/meta-data"]
    alias = http.post(
        "/v1/images/generations",
        json={
            "model": "flux-2-dev",
            "prompt": "edit",
            "size": "64x64",
            "image_urls": [url],
            "image_url": url,
        },
    )
    assert alias.status_code == 200, alias.text
    video = http.post(
        "/v1/video/generations",
        json={
            "model": "wan-2.6",
            "prompt": "v",
            "mode": "image",
            "input_images": [{"url": url}],
            "duration_seconds": 5,
        },
    )
    assert video.status_code == 200, video.text
    task = http.get(f"/v1/video/tasks/{video.json()['task_id']}").json()
    assert task["status"] == "completed"
    assert task["input_image_url"] == url
    mp4 = http.get(task["result_url"])
    assert mp4.status_code == 200
    assert mp4.content[4:8] == b"ftyp"
    assert not connected(), "mockair connected to a URL it was given"


# -- slow loris -------------------------------------------------------------------------------


def _timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


def test_slow_loris_upload(server: MockAir, http: httpx.Client, key: str) -> None:
    """Headers and a few body bytes dribbled for ~2 s: other requests are served meanwhile."""
    sock = connect(server)
    head = (
        b"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\n"
        b"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n"
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF'
    )
    sock.sendall(head)
    latencies = []
    started = time.monotonic()
    while time.monotonic() - started < 2.0:
        sock.sendall(b"\x00")
        health, seconds = _timed(lambda: http.get("/_mockair/health"))
        assert health.status_code == 200
        latencies.append(seconds)
        chat, seconds = _timed(lambda: http.post(CHAT, json={"model": MODEL, "messages": USER}))
        assert chat.status_code == 200
        latencies.append(seconds)
        time.sleep(0.2)
    readable, _, _ = select.select([sock], [], [], 0)
    assert not readable, "the server answered an upload that is still arriving"
    sock.close()
    assert len(latencies) >= 10
    assert max(latencies) < 1.0, latencies
    statuses = journaled_statuses(server, key, len(latencies) // 2 + 1)
    assert len(statuses) == len(latencies) // 2 + 1
    assert all(status < 500 for status in statuses), statuses


def test_slow_loris_headers(server: MockAir, http: httpx.Client) -> None:
    """A request line and headers that never end do not hold up anyone else."""
    socks = [connect(server) for _ in range(20)]
    for sock in socks:
        sock.sendall(b"POST /v1/chat/compl")
    started = time.monotonic()
    while time.monotonic() - started < 2.0:
        for sock in socks:
            sock.sendall(b"e")
        models, seconds = _timed(lambda: http.get("/v1/models"))
        assert models.status_code == 200
        assert seconds < 1.0
        time.sleep(0.25)
    for sock in socks:
        sock.close()


# -- oversized uploads ------------------------------------------------------------------------


def _stream_until_answered(
    sock: socket.socket, total: int, fast: int, piece: bytes = b"\x00" * 65536
) -> int:
    """Send chunks up to ``total`` bytes: ``fast`` bytes at once, then paced, stopping as soon
    as the server answers. Returns the bytes sent."""
    sent = 0
    big = b"\x00" * (1024 * 1024)
    while sent < fast:
        sock.sendall(chunk(big))
        sent += len(big)
    while sent < total:
        readable, _, _ = select.select([sock], [], [], 0.002)
        if readable:
            return sent
        try:
            sock.sendall(chunk(piece))
        except (BrokenPipeError, ConnectionResetError):
            return sent
        sent += len(piece)
    readable, _, _ = select.select([sock], [], [], 5)
    return sent


def test_oversized_upload_is_refused_while_streaming(server: MockAir, key: str) -> None:
    """30 MiB streamed (chunked, no Content-Length) to a 25 MiB file route: 413 param file,
    answered before the client has sent everything."""
    total = 30 * 1024 * 1024
    with connect(server, timeout=30) as sock:
        sock.sendall(
            b"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + key.encode() + b"\r\n"
            b"Content-Type: multipart/form-data; boundary=B\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(
            chunk(
                b'--B\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'
                b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n'
                b"Content-Type: audio/wav\r\n\r\n"
            )
        )
        sent = _stream_until_answered(sock, total, fast=24 * 1024 * 1024)
        assert sent < total, "the 413 came only after the whole body"
        response = read_response(sock, 30)
    assert_error(response, 413, "payload_too_large", "file")
    assert journaled_statuses(server, key, 1) == [413]


def test_oversized_declared_upload_is_refused_before_the_body(server: MockAir, key: str) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + key.encode() + b"\r\n"
            b"Content-Type: multipart/form-data; boundary=B\r\n"
            b"Content-Length: " + str(30 * 1024 * 1024).encode() + b"\r\n\r\n"
        )
        response = read_response(sock)
    assert_error(response, 413, "payload_too_large", "file")


def test_oversized_json_is_refused_while_streaming(server: MockAir, key: str) -> None:
    total = 40 * 1024 * 1024
    with connect(server, timeout=30) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + key.encode() + b"\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(chunk(b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"'))
        sent = _stream_until_answered(sock, total, fast=30 * 1024 * 1024, piece=b"a" * 65536)
        assert sent < total, "the 413 came only after the whole body"
        response = read_response(sock, 30)
    assert_error(response, 413, "payload_too_large")


# -- Content-Length that lies ----------------------------------------------------------------

CHAT_BODY = json.dumps({"model": MODEL, "messages": USER}).encode()


def test_content_length_longer_than_the_body(server: MockAir, http: httpx.Client, key: str) -> None:
    """The server waits for the missing bytes (no answer to a half body, others served), and a
    client that gives up leaves no trace but a journaled 4xx."""
    with connect(server) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + key.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(CHAT_BODY) + 50).encode()
            + b"\r\n\r\n"
            + CHAT_BODY
        )
        assert http.get("/v1/models").status_code == 200
        readable, _, _ = select.select([sock], [], [], 1.0)
        assert not readable, "the server answered a body that was not complete"
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(5)
        try:
            tail = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            tail = b""
    if tail:
        assert tail.startswith(b"HTTP/1.1 4"), tail[:200]
    assert journaled_statuses(server, key, 2) == [200, 400]  # /v1/models, then the half body


def test_content_length_shorter_than_the_body(server: MockAir, key: str) -> None:
    """The declared bytes are the request (answered by the app: a cut-off JSON body is 400
    invalid_json); the rest is read as a next request, refused with an envelope, then closed."""
    with connect(server) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + key.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10\r\n\r\n" + CHAT_BODY
        )
        first = read_response(sock)
        assert_error(first, 400, "invalid_json", None)
    assert journaled_statuses(server, key, 1) == [400]


# -- requests the HTTP parser itself refuses ----------------------------------------------------

PARSER_REFUSED = {
    "nul-in-header": request_bytes("GET", "/v1/models", {"X-Thing": b"a\x00b"}),
    "cr-in-header": request_bytes("GET", "/v1/models", {"X-Thing": b"a\rb"}),
    "non-numeric-content-length": request_bytes("POST", CHAT, {"Content-Length": b"12abc"}, b"{}"),
    "negative-content-length": request_bytes("POST", CHAT, {"Content-Length": b"-5"}, b"{}"),
    "space-in-header-name": b"GET /v1/models HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
    "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
    "bad-version": b"GET /v1/models HTTP/9.9x\r\nHost: x\r\n\r\n",
    "bad-chunk-size": request_bytes(
        "POST", CHAT, {"Transfer-Encoding": b"chunked"}, b"zz\r\n{}\r\n0\r\n\r\n"
    ),
}


@pytest.fixture(scope="module", params=["httptools", "h11"])
def parser_server(request: pytest.FixtureRequest) -> Iterator[MockAir]:
    """A server on each of uvicorn's HTTP implementations (h11 is the one used when the
    [standard] extras are missing)."""
    from mockair import server as server_module
    from mockair.web import protocol

    patch = pytest.MonkeyPatch()
    if request.param == "h11":
        patch.setattr(server_module, "envelope_protocol", protocol._h11_protocol)
    try:
        with MockAir(port=0, epoch=EPOCH, clock_speed=0, log_level="error") as running:
            yield running
    finally:
        patch.undo()


@pytest.mark.parametrize("raw", PARSER_REFUSED.values(), ids=PARSER_REFUSED.keys())
def test_requests_the_parser_refuses_get_the_envelope(parser_server: MockAir, raw: bytes) -> None:
    response = exchange(parser_server, raw)
    assert_error(response, 400, "invalid_value", None)
    assert response.headers["x-request-id"].startswith("req_")
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["connection"] == "close"
    assert_healthy(parser_server, "sk-air-parser")


def test_an_upgrade_request_with_a_body_is_answered_by_both_parsers(parser_server: MockAir) -> None:
    # h11 reads an Upgrade request's body as any other; httptools needs UpgradeBody.
    body = json.dumps(_chat(max_tokens=5)).encode()
    framing = b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    with connect(parser_server) as sock:
        sock.sendall(_chat_head("sk-air-parser-upgrade", framing) + body)
        response = read_response(sock)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["object"] == "chat.completion"
    assert_healthy(parser_server, "sk-air-parser-upgrade")


def test_overlong_request_line_gets_the_envelope(parser_server: MockAir) -> None:
    raw = b"GET /v1/models?" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    try:
        response = exchange(parser_server, raw)
    except (ConnectionResetError, BrokenPipeError):
        pytest.fail("the connection was dropped instead of answered")
    if response.status_code == 400:
        assert_error(response, 400, "invalid_value", None)
    else:  # a parser that accepts it: the app answers the (ignored) query normally
        assert response.status_code == 200
    assert_healthy(parser_server, "sk-air-parser")


def test_short_content_length_on_each_parser(parser_server: MockAir) -> None:
    """Both parsers: the app's own answer to the declared bytes comes first, then the refusal
    of the leftover bytes, then the connection closes."""
    with connect(parser_server) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer sk-air-short\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10\r\n\r\n"
            # the blank line ends the leftover "request", so every parser judges it at once
            + CHAT_BODY
            + b"\r\n\r\n"
        )
        sock.settimeout(10)
        data = b""
        while chunk_ := sock.recv(65536):
            data += chunk_
    responses = [part for part in data.split(b"HTTP/1.1 ") if part]
    assert len(responses) == 2, data
    first, second = (b"HTTP/1.1 " + part for part in responses)
    assert first.startswith(b"HTTP/1.1 400")
    assert b'"invalid_json"' in first
    assert second.startswith(b"HTTP/1.1 400")
    assert b'"invalid_value"' in second


# -- content types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "image/png",
        "application/json; charset=latin-1",
        "application/xml",
    ],
)
def test_json_route_parses_json_whatever_the_content_type(
    server: MockAir, key: str, content_type: str | None
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    if content_type is not None:
        headers["content-type"] = content_type
    response = httpx.post(server.url + CHAT, content=CHAT_BODY, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["object"] == "chat.completion"


def test_multipart_sent_to_a_json_route(http: httpx.Client) -> None:
    real = http.post(CHAT, files={"file": ("a.txt", b"x")}, data={"model": MODEL})
    assert_error(real, 400, "invalid_content_type")
    header_only = http.post(
        CHAT, content=CHAT_BODY, headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert_error(header_only, 400, "invalid_content_type")
    assert_error(http.post("/v1/messages", files={"f": ("a", b"x")}), 400, "invalid_content_type")


def test_json_sent_to_a_multipart_route(http: httpx.Client) -> None:
    response = http.post("/v1/audio/transcriptions", json={"model": "whisper-1"})
    assert_error(response, 400, "invalid_content_type")
    response = http.post(
        "/v1/voices/clone",
        content=b"name=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 400, "invalid_content_type")
