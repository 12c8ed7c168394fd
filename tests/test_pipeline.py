"""The shared pipeline: request ids, CORS, trailing slashes, HEAD, Date, latency, auth modes."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mockair import Settings
from tests.conftest import Clients
from tests.helpers import assert_error

GENERATED_ID = re.compile(r"req_[0-9a-f]{24}")


def test_request_id_generated(client: httpx.Client) -> None:
    first = client.get("/v1/models").headers["x-request-id"]
    second = client.get("/v1/nope").headers["x-request-id"]
    assert GENERATED_ID.fullmatch(first)
    assert GENERATED_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        ("my-trace-1", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("has space", False),
        ("tab\there", False),
    ],
)
def test_request_id_echoed_when_valid(client: httpx.Client, sent: str, echoed: bool) -> None:
    got = client.get("/v1/models", headers={"x-request-id": sent}).headers["x-request-id"]
    assert (got == sent) is echoed
    if not echoed:
        assert GENERATED_ID.fullmatch(got)


def test_request_id_on_control_plane_and_errors(client: httpx.Client) -> None:
    for response in (client.get("/_mockair/health"), client.post("/_mockair/clock", content=b"x")):
        assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


def test_cors_on_every_response_and_preflight(client: httpx.Client) -> None:
    response = client.get("/v1/nope", headers={"origin": "http://localhost:3000"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "X-Cost-Cents" in response.headers["access-control-expose-headers"]
    preflight = client.options(
        "/v1/chat/completions",
        headers={"origin": "http://localhost:3000", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "GET, POST, PATCH, DELETE, OPTIONS"
    assert preflight.headers["access-control-allow-headers"] == "*"
    assert preflight.headers["access-control-max-age"] == "600"


def test_trailing_slash_tolerated_without_redirect(client: httpx.Client) -> None:
    response = client.get("/v1/models/", follow_redirects=False)
    assert response.status_code == 200
    assert response.json()["object"] == "list"


def test_head_on_get_routes(client: httpx.Client) -> None:
    response = client.head("/v1/models")
    assert response.status_code == 200
    assert response.content == b""


def test_date_comes_from_the_virtual_clock(client: httpx.Client) -> None:
    assert client.get("/v1/models").headers["date"] == "Thu, 01 Jan 2026 00:00:00 GMT"
    client.post("/_mockair/clock", json={"advance": 86400})
    assert client.get("/v1/models").headers["date"] == "Fri, 02 Jan 2026 00:00:00 GMT"


def test_no_server_header(client: httpx.Client) -> None:
    assert "server" not in client.get("/v1/models").headers


def test_latency_header_delays_the_answer(client: httpx.Client) -> None:
    started = time.perf_counter()
    client.get("/v1/models", headers={"x-mockair-latency-ms": "150"})
    assert time.perf_counter() - started >= 0.15
    # Malformed or out-of-range values are ignored (CONTRACT §4.7).
    for value in ("soon", "-5", "60001"):
        started = time.perf_counter()
        assert client.get("/v1/models", headers={"x-mockair-latency-ms": value}).status_code == 200
        assert time.perf_counter() - started < 5


def test_json_is_compact_and_utf8(client: httpx.Client) -> None:
    body = client.get("/v1/models/gpt-4o-mini").content
    assert b'{"id":"gpt-4o-mini","object":"model",' in body
    assert b", " not in body.split(b'"input_modalities"')[0]


def test_strict_mode_rejects_unregistered_keys(
    make_client: Clients, settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": [{"key": "sk-air-alice", "tier": "premium"}]}))
    client = make_client(settings_factory(strict_keys=True, keys=str(keys)))
    assert_error(
        client.get("/v1/models", headers={"authorization": "Bearer sk-air-bob"}),
        401,
        "invalid_api_key",
    )
    ok = client.get("/v1/models", headers={"authorization": "Bearer sk-air-alice"})
    assert ok.status_code == 200


def test_open_mode_accepts_any_well_formed_key(client: httpx.Client) -> None:
    assert (
        client.get("/v1/models", headers={"authorization": "bearer sk-air-x_y-Z9"}).status_code
        == 200
    )
    for bad in ("Bearer sk-air-", "Bearer sk-air-a b", "Basic c2stYWlyLXg=", "Bearer sk-other"):
        assert_error(
            client.get("/v1/models", headers={"authorization": bad}), 401, "invalid_api_key"
        )


def test_disabled_and_deleted_keys_are_refused(client: httpx.Client) -> None:
    client.post("/_mockair/keys", json={"key": "sk-air-off", "disabled": True})
    client.post("/_mockair/keys", json={"key": "sk-air-gone"})
    client.delete("/_mockair/keys/sk-air-gone")
    for key in ("sk-air-off", "sk-air-gone"):
        assert_error(
            client.get("/v1/models", headers={"authorization": f"Bearer {key}"}),
            401,
            "invalid_api_key",
        )


def test_x_api_key_ignored_on_routes_that_do_not_document_it(client: httpx.Client) -> None:
    # /v1/models is public: an x-api-key that is not a valid key must not make it fail.
    assert client.get("/v1/models", headers={"x-api-key": "garbage"}).status_code == 200
