"""The request pipeline around every route (CONTRACT §2.2 steps 1, 2 and 12): request id, CORS,
Date, latency, dispatch, error envelopes, the catch-all 500, and the one place where the
journal is written, after the response.

It is the whole ASGI stack under the app: Starlette's own middleware layers (server errors,
exception handlers, per-route method checks) are not used, because each of them costs a
wrapper, a closure and a try block per request, and one handler here makes every envelope.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from mockair import jsonio
from mockair.errors import (
    ApiError,
    InternalError,
    NotFound,
    error_response,
    from_http_exception,
    method_not_allowed,
)
from mockair.state import ServerState
from mockair.state.billing import count_request
from mockair.state.ids import GLOBAL_SCOPE
from mockair.state.journal import BODY_CAP, packed
from mockair.web.auth import presented_key
from mockair.web.context import RequestContext
from mockair.web.headers import CORS_HEADERS, PREFLIGHT_HEADERS, HttpDate, valid_client_request_id
from mockair.web.router import RouteTable
from mockair.web.sse import StreamDropped

logger = logging.getLogger("mockair")

CONTROL_PREFIX = "/_mockair"
MAX_LATENCY_MS = 60000


class Capture:
    """What the journal needs from the response, collected as it is sent."""

    __slots__ = (
        "body",
        "content_type",
        "events",
        "events_size",
        "events_truncated",
        "headers",
        "size",
        "started",
        "status",
    )

    def __init__(self) -> None:
        self.started = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.content_type = ""
        self.body: bytes | None = None
        self.size = 0
        self.events: list[str] | None = None
        self.events_size = 0
        self.events_truncated = False

    def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.started = True
        self.status = status
        self.headers = headers
        for name, value in self.headers:
            if name == b"content-type":
                self.content_type = value.decode("latin-1")
                break
        if self.content_type.startswith("text/event-stream"):
            self.events = []

    def chunk(self, body: bytes) -> None:
        if not body:
            return
        self.size += len(body)
        if self.events is not None:
            self._events(body)
        elif self.content_type.startswith("application/json"):
            # Usually the whole JSON body arrives as one chunk; keep it by reference.
            self.body = body if self.body is None else self.body + body

    def _events(self, body: bytes) -> None:
        assert self.events is not None
        for line in body.decode("utf-8", "replace").split("\n"):
            if line.startswith("data:"):
                payload = line[5:].lstrip(" ")
                if self.events_size + len(payload) > BODY_CAP:
                    self.events_truncated = True
                    continue
                self.events_size += len(payload)
                self.events.append(payload)


class Pipeline:
    """The ASGI app that uvicorn serves: the Starlette app around it (for ``TestClient``,
    ``app.state`` and ``app.routes``) only sets ``scope["app"]`` and calls it, and that one
    extra coroutine frame was 1.2 us of every request (in-process)."""

    def __init__(self, state: ServerState, routes: RouteTable, app: Starlette) -> None:
        self.state = state
        self.routes = routes
        self.app = app  # what scope["app"] names, as Starlette would set it
        self.http_date = HttpDate()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await _not_http(scope, receive, send)
            return
        scope["app"] = self.app
        state = self.state
        started = time.perf_counter()
        # One pass over the raw headers; every later step reads this dict.
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1")
            if key not in headers:
                headers[key] = value.decode("latin-1")
        client_id = headers.get("x-request-id")
        latency_header = headers.get("x-mockair-latency-ms")
        # The journal id is always generated; the response echoes a valid client id instead.
        journal_id = state.ids.mint(GLOBAL_SCOPE, "req_")
        request_id = client_id if client_id and valid_client_request_id(client_id) else journal_id
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            # A trailing slash is tolerated everywhere, without redirects (CONTRACT §1.1).
            path = path.rstrip("/") or "/"
            scope = {**scope, "path": path}
        method: str = scope["method"]
        ctx = RequestContext(
            journal_id=journal_id,
            request_id=request_id,
            started=started,
            time=state.now(),
            method=method,
            path=path,
            control=path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"),
            headers=headers,
        )
        scope["mockair.ctx"] = ctx
        scope["mockair.state"] = state
        extra = [
            (b"x-request-id", request_id.encode()),
            (b"date", self.http_date(ctx.time)),
            *CORS_HEADERS,
        ]
        capture = Capture()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if ctx.rate_headers:
                    # A key with an rpm_limit: its bucket's figures on every response.
                    headers = [h for h in headers if not h[0].startswith(b"x-ratelimit-")]
                    headers += [(k.encode(), v.encode()) for k, v in ctx.rate_headers.items()]
                if ctx.stub_id or ctx.fault_id:
                    names = {name for name, _ in headers}
                    headers = list(headers)
                    if ctx.stub_id and b"x-mockair-stub" not in names:
                        headers.append((b"x-mockair-stub", ctx.stub_id.encode()))
                    if ctx.fault_id and b"x-mockair-fault-id" not in names:
                        headers.append((b"x-mockair-fault-id", ctx.fault_id.encode()))
                if ctx.path.startswith("/v1/keys") and not any(
                    name == b"cache-control" for name, _ in headers
                ):
                    headers = [*headers, (b"cache-control", b"no-store")]  # errors too (§3.10)
                # The journal keeps the route's own headers; the id, date and CORS headers that
                # every response carries are not shown there (journal.response_headers).
                capture.start(message["status"], headers)
                message["headers"] = headers + extra
            elif message["type"] == "http.response.body":
                capture.chunk(message.get("body", b""))
            await send(message)

        try:
            if method == "OPTIONS":
                await self._preflight(request_id, send_wrapper)
            else:
                latency = _latency_ms(latency_header)
                if latency and not ctx.control:
                    await asyncio.sleep(latency / 1000)
                response = await self._dispatch(ctx, scope, receive)
                await response(scope, receive, send_wrapper)
        except StreamDropped:
            # cut_mode "close": end without the final chunk, so the client sees a dropped
            # connection (uvicorn closes it); the request is journaled as a 200 stream.
            pass
        except Exception:
            ctx.traceback = traceback.format_exc()
            logger.error(
                "internal error in %s %s (%s)\n%s", method, path, request_id, ctx.traceback
            )
            principal = ctx.principal
            state.record_internal_error(
                request_id=request_id,
                scope=principal.scope if principal is not None else None,
                method=method,
                path=path,
                traceback=ctx.traceback,
            )
            ctx.error_code = "internal_error"
            await _answer_internal_error(capture, send_wrapper)
        finally:
            if not ctx.control:
                count_request(state.keys, ctx.principal, ctx.time)
                state.journal.write_packed(
                    ctx.journal_id, self._entry(ctx, scope, capture), ctx.body_bytes, capture.body
                )

    async def _dispatch(self, ctx: RequestContext, scope: Scope, receive: Receive) -> Response:
        """The route's response, or the envelope of the ``ApiError`` it raised."""
        found = self.routes.find(ctx.path)
        try:
            if found is None:
                raise NotFound(f"Unknown route: {ctx.method} {ctx.path}")
            route, params = found
            if ctx.method not in route.methods:
                raise method_not_allowed(ctx.method, ctx.path, route.methods)
            scope["path_params"] = params
            return await route.endpoint(Request(scope, receive))  # type: ignore[no-any-return]
        except ApiError as error:
            ctx.error_code = error.code
            return error_response(error)
        except HTTPException as exc:  # raised by Starlette's own request parsing
            error = from_http_exception(ctx.method, ctx.path, exc)
            ctx.error_code = error.code
            return error_response(error)

    async def _preflight(self, request_id: str, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [h for h in PREFLIGHT_HEADERS if h not in CORS_HEADERS],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    def _entry(self, ctx: RequestContext, scope: Scope, capture: Capture) -> bytes:
        principal = ctx.principal
        if principal is None:
            # 404s and 405s are answered before authentication; a valid key they carried still
            # files them under its scope, so a test sees its own mistakes in its own journal.
            key = presented_key(ctx.headers, allow_x_api_key=True)
            principal = self.state.keys.resolve(key) if key else None
        body = ctx.body_bytes
        return packed(  # the fields of a journal Entry but its bodies, in its order
            ctx.journal_id,  # id
            ctx.request_id,  # request_id
            ctx.time,  # time
            ctx.method,  # method
            ctx.path,  # path
            scope.get("query_string", b""),  # raw_query
            principal.key if principal is not None else None,  # key
            principal.scope if principal is not None else None,  # scope
            principal.tier if principal is not None else None,  # tier
            scope["headers"],  # raw_headers
            ctx.model,  # model
            len(body) if body is not None else 0,  # request_size
            ctx.form,  # form
            ctx.files,  # files
            ctx.stream,  # stream
            capture.status,  # status
            capture.content_type or None,  # response_type
            capture.headers,  # raw_response_headers
            capture.size,  # response_size
            capture.events,  # events
            capture.events_truncated,  # events_truncated
            ctx.usage,  # usage
            ctx.cost_cents,  # cost_cents
            ctx.stub_id,  # stub_id
            ctx.fault_id,  # fault_id
            ctx.error_code,  # error_code
            (time.perf_counter() - ctx.started) * 1000,  # duration_ms
            ctx.traceback,  # traceback
        )


def _latency_ms(value: str | None) -> int:
    if value is None:
        return 0
    try:
        latency = int(value.strip())
    except ValueError:
        return 0
    return latency if 0 <= latency <= MAX_LATENCY_MS else 0


async def _answer_internal_error(capture: Capture, send: Send) -> None:
    if capture.started:
        # The response already began (a stream): nothing can be said any more but the end.
        try:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except Exception:  # the connection may be gone already
            logger.debug("could not close a broken response", exc_info=True)
        return
    error = InternalError()
    body = jsonio.dumps(error.envelope())
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _not_http(scope: Scope, receive: Receive, send: Send) -> None:
    """Lifespan events are acknowledged (nothing starts or stops); websockets are refused."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
