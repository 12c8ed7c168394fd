"""The response writer (``mockair.web.protocol.HeadWithBody``): a fixed-length response leaves in
one write, head and body together; a stream's or a bodiless answer's head leaves at once.

The unit tests drive uvicorn's own ``RequestResponseCycle`` (the code that decides what a write
is) over a recording transport. The live tests count the writes of a real server and read its
answers off a raw socket, keep-alive and pipelined.
"""

from __future__ import annotations

import asyncio
import gc
import http.client
import logging
import socket
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from mockair import MockAir
from mockair.web.protocol import HeadWithBody

KEY = "sk-air-protocol-0001"
CHAT = b'{"model":"gpt-4o-mini","max_tokens":8,"messages":[{"role":"user","content":"Hello"}]}'
STREAM = (
    b'{"model":"gpt-4o-mini","max_tokens":8,"stream":true,'
    b'"messages":[{"role":"user","content":"Hello"}]}'
)


class RecordingTransport:
    """Records every write; passes it on to ``inner`` (a live socket's transport) if given."""

    def __init__(self, inner: Any = None) -> None:
        self.inner = inner
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        if self.inner is not None:
            self.inner.write(data)

    def close(self) -> None:
        self.closed = True
        if self.inner is not None:
            self.inner.close()

    def is_closing(self) -> bool:
        return self.closed if self.inner is None else bool(self.inner.is_closing())

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def make_cycle(method: str = "POST", keep_alive: bool = True) -> tuple[Any, RecordingTransport]:
    transport = RecordingTransport()
    cycle = RequestResponseCycle(
        scope={"type": "http", "method": method, "path": "/", "http_version": "1.1"},
        transport=transport,  # type: ignore[arg-type]
        flow=FlowControl(transport),  # type: ignore[arg-type]
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test.access"),
        access_log=False,
        default_headers=[],
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: None,
    )
    cycle.transport = HeadWithBody(transport, cycle)
    return cycle, transport


def start(status: int = 200, headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": headers or []}


def body(data: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.response.body", "body": data, "more_body": more}


def sized(data: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_a_fixed_length_response_is_one_write_of_head_and_body() -> None:
    async def go() -> RecordingTransport:
        cycle, transport = make_cycle()
        await cycle.send(start(200, sized(b'{"ok":true}')))
        assert transport.writes == []  # the head waits for its body
        await cycle.send(body(b'{"ok":true}'))
        return transport

    transport = run(go())
    assert len(transport.writes) == 1
    head, _, rest = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"content-length: 11" in head
    assert rest == b'{"ok":true}'


def test_a_body_in_several_chunks_keeps_its_order() -> None:
    async def go() -> RecordingTransport:
        cycle, transport = make_cycle()
        await cycle.send(start(200, sized(b"abcdef")))
        await cycle.send(body(b"abc", more=True))
        await cycle.send(body(b"def"))
        return transport

    transport = run(go())
    assert len(transport.writes) == 2
    assert transport.writes[0].endswith(b"\r\n\r\nabc")
    assert transport.writes[1] == b"def"


def test_a_stream_gets_its_head_before_any_event() -> None:
    async def go() -> RecordingTransport:
        cycle, transport = make_cycle()
        await cycle.send(start(200, [(b"content-type", b"text/event-stream")]))
        assert len(transport.writes) == 1  # chunked: the head leaves at once
        assert b"transfer-encoding: chunked" in transport.writes[0]
        await cycle.send(body(b"data: 1\n\n", more=True))
        await cycle.send(body(b""))
        return transport

    transport = run(go())
    assert transport.writes[1:] == [b"9\r\ndata: 1\n\n\r\n", b"0\r\n\r\n"]


@pytest.mark.parametrize(
    ("method", "status", "headers"),
    [
        ("HEAD", 200, sized(b'{"ok":true}')),  # a HEAD answer never writes its body
        ("POST", 204, []),
        ("POST", 200, [(b"content-length", b"0")]),
    ],
)
def test_a_bodiless_answer_gets_its_head_at_once(
    method: str, status: int, headers: list[tuple[bytes, bytes]]
) -> None:
    async def go() -> RecordingTransport:
        cycle, transport = make_cycle(method)
        await cycle.send(start(status, headers))
        assert len(transport.writes) == 1
        await cycle.send(body(b""))
        return transport

    transport = run(go())
    assert transport.writes[0].startswith(f"HTTP/1.1 {status} ".encode())
    assert transport.writes[1:] in ([], [b""])


def test_an_interim_line_before_the_response_is_not_held() -> None:
    cycle, transport = make_cycle()
    cycle.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # what receive() writes
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]

    async def go() -> None:
        await cycle.send(start(200, sized(b"x")))
        await cycle.send(body(b"x"))

    run(go())
    assert len(transport.writes) == 2
    assert transport.writes[1].endswith(b"\r\n\r\nx")


def test_a_close_between_head_and_body_still_sends_the_head() -> None:
    async def go() -> RecordingTransport:
        cycle, transport = make_cycle()
        await cycle.send(start(200, sized(b"xyz")))
        cycle.transport.close()  # what uvicorn does when the app fails after starting
        return transport

    transport = run(go())
    assert transport.closed
    assert len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK")


def test_connection_close_comes_after_the_one_write() -> None:
    async def go() -> RecordingTransport:
        cycle, transport = make_cycle(keep_alive=False)
        await cycle.send(start(200, sized(b"xyz")))
        await cycle.send(body(b"xyz"))
        return transport

    transport = run(go())
    assert transport.closed
    assert len(transport.writes) == 1
    assert b"connection: close" in transport.writes[0]
    assert transport.writes[0].endswith(b"xyz")


def test_the_writer_does_not_keep_its_cycle_alive() -> None:
    # A strong reference made every finished cycle garbage for the collector (a reference
    # cycle per request): measured as 8 us more server time per chat completion.
    gc.disable()
    try:
        cycle, _ = make_cycle()
        gone = weakref.ref(cycle)
        del cycle
        assert gone() is None  # freed by its reference count, without a collection
    finally:
        gc.enable()


# -- a live server -------------------------------------------------------------------------


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every write a live server's cycles make to their socket."""
    seen: list[bytes] = []
    original = HeadWithBody.__init__

    def recording(self: HeadWithBody, transport: Any, cycle: Any) -> None:
        recorder = RecordingTransport(transport)
        recorder.writes = seen
        original(self, recorder, cycle)

    monkeypatch.setattr(HeadWithBody, "__init__", recording)
    return seen


@contextmanager
def live_socket() -> Iterator[socket.socket]:
    with (
        MockAir(port=0, log_level="warning") as server,
        socket.create_connection(("127.0.0.1", server.port)) as sock,
    ):
        sock.settimeout(10)
        yield sock


def post(path: str, payload: bytes, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n{extra}\r\n"
    ).encode() + payload


def read_answers(sock: socket.socket, requests: list[bytes]) -> list[tuple[bytes, bytes]]:
    """The responses (head, body) to ``requests`` off a keep-alive socket, by their framing."""
    buffer = b""
    answers: list[tuple[bytes, bytes]] = []
    sock.settimeout(10)
    for request in requests:
        while b"\r\n\r\n" not in buffer:
            buffer += sock.recv(65536)
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
        if request.startswith(b"HEAD "):
            answers.append((head, b""))
        elif b"content-length" in fields:
            size = int(fields[b"content-length"])
            while len(buffer) < size:
                buffer += sock.recv(65536)
            answers.append((head, buffer[:size]))
            buffer = buffer[size:]
        elif fields.get(b"transfer-encoding") == b"chunked":
            while b"0\r\n\r\n" not in buffer:
                buffer += sock.recv(65536)
            chunked, _, buffer = buffer.partition(b"0\r\n\r\n")
            answers.append((head, chunked))
        else:
            answers.append((head, b""))
    return answers


def test_a_live_chat_completion_is_one_write(writes: list[bytes]) -> None:
    with MockAir(port=0, log_level="warning") as server, httpx.Client(base_url=server.url) as http:
        writes.clear()
        reply = http.post(
            "/v1/chat/completions",
            content=CHAT,
            headers={"authorization": f"Bearer {KEY}", "content-type": "application/json"},
        )
    assert reply.status_code == 200
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[0].endswith(reply.content)


def test_mixed_answers_on_one_keep_alive_connection_arrive_whole_and_in_order(
    writes: list[bytes],
) -> None:
    requests = [
        post("/v1/chat/completions", CHAT),
        b"HEAD /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        post("/v1/chat/completions", STREAM),
        b"OPTIONS /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://x\r\n\r\n",
        b"GET /v1/nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    ]
    with live_socket() as sock:
        one_by_one = []
        for request in requests:
            sock.sendall(request)
            one_by_one += read_answers(sock, [request])
        sock.sendall(b"".join(requests))  # the same again, pipelined
        pipelined = read_answers(sock, requests)
    statuses = [head.split(b" ")[1] for head, _ in one_by_one]
    assert statuses == [b"200", b"200", b"200", b"204", b"404", b"200"]
    assert [head.split(b" ")[1] for head, _ in pipelined] == statuses
    chat, head_only, stream, _, missing, models = one_by_one
    assert chat[1].startswith(b'{"id":"chatcmpl-')
    assert head_only[1] == b""
    assert b"data: [DONE]" in stream[1]
    assert missing[1].startswith(b'{"error":')
    assert models[1].startswith(b'{"object":"list"')
    assert len(pipelined[5][1]) == len(models[1])


def test_a_paced_stream_shows_its_headers_before_its_first_event() -> None:
    with live_socket() as sock:
        started = time.monotonic()
        sock.sendall(post("/v1/chat/completions", STREAM, "X-Mockair-Realtime: 1\r\n"))
        first = sock.recv(65536)
        head_after = time.monotonic() - started
        rest = b""
        while b"0\r\n\r\n" not in rest:
            rest += sock.recv(65536)
        total = time.monotonic() - started
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"data: [DONE]" not in first  # the head (and the role delta) before the pacing
    assert b"data: [DONE]" in rest
    assert head_after < total / 2


def test_served_requests_leave_no_garbage_for_the_collector() -> None:
    # Everything a request makes must be freed by reference counting when it ends. A reference
    # cycle per request (a writer holding its cycle strongly made 20 objects of garbage each)
    # costs collector time on every request and holds each finished request's state.
    with MockAir(port=0, log_level="warning") as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}

        def serve(count: int) -> None:
            for index in range(count):
                body = CHAT if index % 2 else STREAM
                conn.request("POST", "/v1/chat/completions", body, headers)
                assert conn.getresponse().read()

        serve(50)  # caches and connection state are made once
        gc.collect()
        gc.disable()
        try:
            serve(200)
            garbage = gc.collect()
        finally:
            gc.enable()
            conn.close()
    assert garbage == 0
