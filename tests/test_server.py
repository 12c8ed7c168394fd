"""The MockAir handle: start/stop, port 0, readiness, several servers in one process."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from mockair import MockAir, Settings
from tests.conftest import EPOCH


def test_port_zero_is_read_back_and_ready_at_once() -> None:
    with MockAir(port=0, log_level="warning") as server:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.base_url == server.url + "/v1"
        assert server.api_key == "sk-air-mockair"
        assert httpx.get(server.url + "/_mockair/health").json()["status"] == "ok"
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/_mockair/health")


def test_settings_object_and_keyword_options_are_equivalent() -> None:
    by_settings = MockAir(Settings(port=0, seed=3))
    by_options = MockAir(port=0, seed=3)
    assert by_settings.settings == by_options.settings
    with pytest.raises(TypeError, match="unknown mockair option"):
        MockAir(colour="blue")


def test_two_servers_with_different_seeds_side_by_side() -> None:
    with (
        MockAir(port=0, seed=1, epoch=EPOCH, clock_speed=0, log_level="warning") as one,
        MockAir(port=0, seed=2, epoch=EPOCH, clock_speed=0, log_level="warning") as two,
    ):
        assert one.port != two.port
        health = [httpx.get(s.url + "/_mockair/health").json() for s in (one, two)]
        assert [h["seed"] for h in health] == [1, 2]
        ids = [httpx.get(s.url + "/v1/models").headers["x-request-id"] for s in (one, two)]
        assert ids[0] != ids[1]
        httpx.post(one.url + "/_mockair/clock", json={"advance": 60})
        assert httpx.get(two.url + "/_mockair/clock").json()["now"] == EPOCH


def test_same_requests_on_fresh_servers_give_identical_bytes() -> None:
    def run() -> list[tuple[int, dict[str, str], bytes]]:
        with (
            MockAir(port=0, epoch=EPOCH, clock_speed=0, log_level="warning") as server,
            httpx.Client(base_url=server.url) as client,
        ):
            out = []
            for method, path, body in [
                ("GET", "/v1/models", None),
                ("GET", "/v1/models/claude-sonnet-4.6", None),
                ("GET", "/v1/nope", None),
                ("POST", "/_mockair/keys", {"tier": "free"}),
                ("POST", "/_mockair/stubs", {"respond": {"text": "hi"}}),
            ]:
                response = client.request(method, path, json=body)
                headers = {k: v for k, v in response.headers.items() if k not in ("date",)}
                out.append((response.status_code, headers, response.content))
            # The journal holds real durations and the port: compare everything else.
            journal = client.get("/_mockair/requests").json()
            for entry in journal["requests"]:
                entry.pop("duration_ms")
                entry["headers"].pop("host")
            out.append((0, {}, json.dumps(journal).encode()))
            return out

    first, second = run(), run()
    assert first == second
    assert len(first) == 6


def test_start_fails_clearly_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        with pytest.raises(OSError, match="in use"):
            MockAir(port=port, log_level="warning").start()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="port"):
        Settings(port=70000)
    with pytest.raises(ValueError, match="clock_speed"):
        Settings(clock_speed=-1)
    assert Settings(epoch="2026-01-01T00:00:00Z").epoch == EPOCH  # type: ignore[arg-type]


def test_session_helpers_on_the_handle() -> None:
    with MockAir(port=0, epoch=EPOCH, clock_speed=0, log_level="warning") as server:
        httpx.get(
            server.base_url + "/models", headers={"authorization": f"Bearer {server.api_key}"}
        )
        entries = server.requests(path="/v1/models")
        assert [e["path"] for e in entries] == ["/v1/models"]
        assert server.advance(10) == EPOCH + 10
        secondary = server.register_key(label="ci")
        assert secondary.startswith("sk-air-")
        server.reset()
        assert server.requests() == []


def read_response(client: socket.socket) -> tuple[int, bytes]:
    """One Content-Length response off a raw socket (head and body may come in two reads)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += client.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.lower().split(": ", 1) for line in lines[1:])
    while len(body) < int(fields["content-length"]):
        body += client.recv(65536)
    return int(lines[0].split()[1]), body


def test_a_burst_of_new_connections_is_served_and_shutdown_closes_them() -> None:
    """100 connections opened at once, each asking on its own; then stop() with them open."""
    request = b"GET /_mockair/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with MockAir(port=0, log_level="warning") as server:
        clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(100)]
        for client in clients:
            client.sendall(request)
        for client in clients:
            client.settimeout(10)
            status, body = read_response(client)
            assert status == 200
            assert json.loads(body)["status"] == "ok"
    # stop() returned with the keep-alive connections still open: the server closed them.
    for client in clients:
        client.settimeout(10)
        assert client.recv(65536) == b""
        client.close()
