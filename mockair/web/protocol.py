"""HTTP/1.1 protocols whose parser-level refusals are CONTRACT §2.5 envelopes.

uvicorn answers a request its parser refuses (CR, LF or NUL in a header, a non-numeric
Content-Length, an overlong request line, garbage) with a plain-text 400 of its own, before the
app sees anything. These subclasses answer the same 400 as the JSON envelope, with a minted
``X-Request-ID`` and the CORS headers, so a client never meets a body it cannot parse.

A parser error can also arrive while the app is still answering an earlier request on the same
connection: a Content-Length shorter than the body leaves bytes that the parser reads as the
next request. The refusal then waits until that response is complete, so the client gets the
app's answer to what it sent, then the 400, then the close.

mockair never switches protocols (the API has no WebSocket or h2c endpoint), so a request that
asks to upgrade is served as the HTTP request it also is, body included (``UpgradeBody``).

The head of a response of known length goes out in the same write as its body (``HeadWithBody``).
"""

from __future__ import annotations

import weakref
from typing import Any

from mockair import jsonio
from mockair.errors import InvalidValue
from mockair.state import ServerState
from mockair.state.ids import GLOBAL_SCOPE
from mockair.web.headers import CORS_HEADERS

PARSER_MESSAGE = "Malformed HTTP request: the server could not parse it."


def _refusal(state: ServerState) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of the parser-level 400."""
    body = jsonio.dumps(InvalidValue(PARSER_MESSAGE, param=None).envelope())
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", state.ids.mint(GLOBAL_SCOPE, "req_").encode()),
        *CORS_HEADERS,
        (b"connection", b"close"),
    ]
    return headers, body


def envelope_protocol(state: ServerState) -> type[Any]:
    """The uvicorn protocol class for this server: httptools when installed, else h11."""
    try:
        import httptools
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # uvicorn without its [standard] extras
        return _h11_protocol(state)

    class EnvelopeHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc]
        _deferred_refusal = False
        _upgrade_body: UpgradeBody | None = None

        def data_received(self, data: bytes) -> None:
            # uvicorn's own, plus the body of an Upgrade request (see UpgradeBody).
            if self._upgrade_body is not None:
                self._upgrade_body.feed(data)
                return
            self._unset_keepalive_if_required()
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self.send_400_response("Invalid HTTP request received.")
            except httptools.HttpParserUpgrade as upgrade:
                # Never upgraded (ws="none"): what follows the head is this request's body,
                # or the next pipelined request, for the parser that httptools has resumed.
                rest = data[upgrade.args[0] :]
                if rest:
                    self.data_received(rest)

        def on_headers_complete(self) -> None:
            earlier = self.cycle
            super().on_headers_complete()
            if self.cycle is not earlier:
                self.cycle.transport = HeadWithBody(self.transport, self.cycle)
            if self.parser.should_upgrade():
                framing = declared_body(self.headers)
                if framing is not None:
                    self._upgrade_body = UpgradeBody(self, framing)
                    self.cycle.keep_alive = False  # pipelined bytes after it are not parsed

        def on_message_complete(self) -> None:
            if self._upgrade_body is not None and not self._upgrade_body.done:
                return  # httptools skipped the body; UpgradeBody completes the message
            super().on_message_complete()

        def send_400_response(self, msg: str) -> None:
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete and not cycle.disconnected:
                if not cycle.more_body:
                    # The app is still answering the complete request before the garbage:
                    # refuse after it.
                    self._deferred_refusal = True
                    self.flow.pause_reading()
                    return
                # The garbage is inside this request's body: the app will never get the
                # rest of it, so it hears a disconnect while the client gets the refusal.
                cycle.disconnected = True
                cycle.message_event.set()
            self._refuse()

        def _refuse(self) -> None:
            headers, body = _refusal(state)
            head = [b"HTTP/1.1 400 Bad Request\r\n"]
            head += [name + b": " + value + b"\r\n" for name, value in headers]
            self.transport.write(b"".join([*head, b"\r\n", body]))
            self.transport.close()

        def on_response_complete(self) -> None:
            if self._deferred_refusal and not self.transport.is_closing():
                self.server_state.total_requests += 1
                self._refuse()
                return
            super().on_response_complete()

    return EnvelopeHttpToolsProtocol


class HeadWithBody:
    """The transport of one request-response cycle, which holds a fixed-length response's
    head until its body is written, and writes both at once.

    uvicorn writes the status line and headers as soon as the app starts the response, then
    the body: two writes, which uvloop makes two ``write`` syscalls and two TCP segments. One
    write took a chat completion from 93 to 88 us of server CPU under wrk (four alternating
    rounds each; bench/RESULTS.md). A stream (chunked) or a bodiless answer (HEAD, 204, 304,
    Content-Length 0) gets its head at once, so a client sees a stream's headers before its
    first event. uvicorn sets the cycle's response state before each write, which is what
    this reads.
    """

    __slots__ = ("cycle", "head", "head_seen", "transport")

    def __init__(self, transport: Any, cycle: Any) -> None:
        self.transport = transport
        # A weak reference: a strong one would make cycle and writer a reference cycle, and
        # every finished cycle (with its scope and state) would wait for the collector.
        self.cycle = weakref.ref(cycle)
        self.head: bytes | None = None
        self.head_seen = False

    def write(self, data: bytes) -> None:
        if self.head is not None:
            data = self.head + data
            self.head = None
        elif not self.head_seen and (cycle := self.cycle()) is not None and cycle.response_started:
            # The first write since the response started is its head (a 100 Continue
            # interim line is written before that).
            self.head_seen = True
            if (
                not cycle.chunked_encoding
                and cycle.expected_content_length
                and cycle.scope["method"] != "HEAD"
            ):
                self.head = data
                return
        self.transport.write(data)

    def close(self) -> None:
        if self.head is not None:  # the app failed between head and body: send what it said
            self.transport.write(self.head)
            self.head = None
        self.transport.close()

    def is_closing(self) -> bool:
        return bool(self.transport.is_closing())


def declared_body(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The framing header of a request that declares a body, else None."""
    for name, value in headers:
        if name == b"transfer-encoding" and b"chunked" in value.lower():
            return b"Transfer-Encoding: chunked"
        if name == b"content-length" and value.strip() not in (b"", b"0"):
            return b"Content-Length: " + value.strip()
    return None


class UpgradeBody:
    """The body of a request with ``Connection: Upgrade``, read for the protocol.

    httptools skips the body of any request that asks to upgrade: it completes the message
    after the head and hands back the rest as the new protocol's bytes. mockair never
    upgrades, so those bytes are the body (curl's ``--http2`` on an ``http://`` URL sends
    ``Upgrade: h2c`` on a POST). A second parser, primed with a head carrying the request's
    own framing header, decodes them, Content-Length or chunked, into the protocol's
    ``on_body`` and ``on_message_complete``.
    """

    def __init__(self, protocol: Any, framing: bytes) -> None:
        import httptools

        self.protocol = protocol
        self.done = False
        self._errors = httptools.HttpParserError
        self._parser = httptools.HttpRequestParser(self)
        self._parser.feed_data(b"POST / HTTP/1.1\r\n" + framing + b"\r\n\r\n")

    def feed(self, data: bytes) -> None:
        if self.done:
            return  # the connection closes after this response: nothing more is read
        try:
            self._parser.feed_data(data)
        except self._errors:
            if not self.done:
                self.protocol.send_400_response("Invalid HTTP request received.")

    def on_body(self, body: bytes) -> None:
        if not self.done:
            self.protocol.on_body(body)

    def on_message_complete(self) -> None:
        if not self.done:
            self.done = True
            self.protocol.on_message_complete()


def _h11_protocol(state: ServerState) -> type[Any]:
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class EnvelopeH11Protocol(H11Protocol):  # type: ignore[misc]
        def _unsupported_upgrade_warning(self) -> None:
            pass  # an upgrade request is served as plain HTTP, which is not worth a warning

        def send_400_response(self, msg: str) -> None:
            headers, body = _refusal(state)
            event = h11.Response(status_code=400, headers=headers, reason=b"Bad Request")
            self.transport.write(self.conn.send(event))
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
            self.transport.close()

    return EnvelopeH11Protocol
