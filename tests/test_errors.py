"""Every error class returns exactly the four-key envelope, the right status and X-Request-ID."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from mockair import MockAir
from tests.helpers import assert_error


def test_unknown_route(client: httpx.Client) -> None:
    error = assert_error(client.get("/v1/nope"), 404, "route_not_found")
    assert error["message"] == "Unknown route: GET /v1/nope"


def test_wrong_method_names_every_allowed_method(client: httpx.Client) -> None:
    response = client.delete("/_mockair/clock")
    assert_error(response, 405, "method_not_allowed", type="invalid_request")
    assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_unknown_route_is_decided_before_auth(client: httpx.Client) -> None:
    response = client.post("/v1/nope", headers={"authorization": "Bearer nope"})
    assert_error(response, 404, "route_not_found")


def test_unknown_model(client: httpx.Client) -> None:
    error = assert_error(
        client.get("/v1/models/gpt-99"), 404, "model_not_found", "model", type="invalid_request"
    )
    assert error["message"] == "Model 'gpt-99' not found."


def test_invalid_key(client: httpx.Client) -> None:
    error = assert_error(
        client.get("/v1/models", headers={"authorization": "Bearer bad key"}),
        401,
        "invalid_api_key",
    )
    assert error["message"] == "Invalid API key"


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"[1, 2]", b'"text"', b"\xff\xfe{}", b'{"a": NaN}', b"[" * 5000 + b"]" * 5000],
    ids=["empty", "truncated", "array", "string", "bad-utf8", "nan", "deep"],
)
def test_invalid_json(client: httpx.Client, content: bytes) -> None:
    assert_error(client.post("/_mockair/clock", content=content), 400, "invalid_json")


def test_multipart_on_a_json_route(client: httpx.Client) -> None:
    response = client.post("/_mockair/clock", files={"file": ("a.txt", b"hello")})
    assert_error(response, 400, "invalid_content_type")


def test_validation_codes(client: httpx.Client) -> None:
    assert_error(
        client.post("/_mockair/clock", json={"advance": "soon"}), 400, "invalid_type", "advance"
    )
    assert_error(
        client.post("/_mockair/clock", json={"advance": -1}), 400, "invalid_value", "advance"
    )
    assert_error(client.post("/_mockair/clock", json={"tick": 1}), 400, "unknown_field", "tick")
    assert_error(
        client.post("/_mockair/stubs", json={"match": {}}), 400, "missing_field", "respond"
    )
    assert_error(client.post("/_mockair/keys", json={"tier": "gold"}), 400, "invalid_value", "tier")
    assert_error(
        client.post("/_mockair/keys", json={"allowed_classes": ["chat", 3]}),
        400,
        "invalid_value",
        "allowed_classes.1",
    )


def test_validation_messages_name_the_path(client: httpx.Client) -> None:
    error = assert_error(
        client.post("/_mockair/keys", json={"tier": "gold"}), 400, "invalid_value", "tier"
    )
    assert error["message"] == (
        "tier: expected one of 'free', 'default', 'premium', 'paygo', got 'gold'"
    )
    error = assert_error(
        client.post("/_mockair/clock", json={"advance": -1}), 400, "invalid_value", "advance"
    )
    assert error["message"] == "advance: expected a number >= 0"


def test_error_order_missing_then_unknown_then_value(client: httpx.Client) -> None:
    body = {"zzz": 1, "respond": {"latency_ms": -5}}
    assert_error(client.post("/_mockair/stubs", json=body), 400, "unknown_field", "zzz")
    body = {"respond": {"latency_ms": -5}, "times": 0}
    assert_error(
        client.post("/_mockair/stubs", json=body), 400, "invalid_value", "respond.latency_ms"
    )


def test_payload_too_large_by_content_length(live_server: MockAir) -> None:
    # The declared length alone is enough: the answer comes before any of the body is sent.
    head = (
        "POST /_mockair/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {33 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "payload_too_large"


def test_payload_too_large_while_streaming(client: httpx.Client) -> None:
    sent = 0

    def body():  # no Content-Length: counted while it arrives
        nonlocal sent
        chunk = b" " * (1024 * 1024)
        for _ in range(40):
            sent += len(chunk)
            yield chunk

    response = client.post("/_mockair/clock", content=body())
    assert_error(response, 413, "payload_too_large")


def test_internal_error_is_an_envelope_with_request_id(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mockair.state.clock import VirtualClock

    def broken(self: VirtualClock) -> dict[str, object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(VirtualClock, "snapshot", broken)
    response = client.get("/_mockair/clock")
    error = assert_error(response, 500, "internal_error")
    assert error["message"] == "Internal error. Quote the X-Request-ID when reporting."
    assert "boom" not in response.text
    state = client.app.state.mockair  # type: ignore[attr-defined]
    assert "RuntimeError: boom" in state.internal_errors[-1].traceback
    assert state.internal_errors[-1].request_id == response.headers["x-request-id"]
