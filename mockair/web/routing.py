"""Route specs and the per-route part of the pipeline (CONTRACT §2.2 steps 3-7).

Each surface declares ``ROUTES`` with :func:`api_route`. The wrapper reads the body with its
limit, authenticates, parses and validates, then hands the thin handler an :class:`ApiCall`.
The spec stays on the ``Route`` (``route.spec``) so tests and /openapi.json can walk the table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockair import jsonio
from mockair.catalog import Model
from mockair.errors import ApiError, InvalidValue
from mockair.state import ServerState
from mockair.state.billing import charge, cost_header, settle_failed_tasks
from mockair.state.keys import Principal
from mockair.state.limits import check_allowances, permission_error
from mockair.state.stubs import RequestFacts, use
from mockair.web import rules
from mockair.web.auth import AuthMode, authenticate
from mockair.web.bodies import (
    JSON_BODY_LIMIT,
    check_content_length,
    parse_json_object,
    read_limited,
)
from mockair.web.context import RequestContext
from mockair.web.forms import FORM_OVERHEAD, Upload, form_body, read_form
from mockair.web.responses import JsonBytesResponse
from mockair.web.rules import fault_error, find_stub
from mockair.web.sse import Cut

BodyKind = Literal["json", "form", "none"]
NO_QUERY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class RouteSpec:
    path: str
    methods: tuple[str, ...]
    auth: AuthMode
    summary: str
    body: BodyKind = "none"
    schema: str | None = None  # request-body schema id in schemas/
    body_required: bool = True  # an empty body counts as {} when False
    responses: tuple[str, ...] = ("application/json",)  # content types, for /openapi.json
    tag: str = "api"
    control: bool = False
    path_params: tuple[str, ...] = field(default=())
    query: tuple[str, ...] = field(default=())  # documented query parameters
    file_limit: int = 25 * 1024 * 1024  # multipart routes: the largest file (all files)
    file_param: str = "file"


class ApiCall:
    """One validated request as the handler sees it."""

    __slots__ = ("body", "ctx", "principal", "request", "spec", "state", "stub_headers", "uploads")

    def __init__(
        self,
        request: Request,
        state: ServerState,
        ctx: RequestContext,
        spec: RouteSpec,
        principal: Principal | None,
        body: dict[str, Any] | None,
    ) -> None:
        self.request = request
        self.state = state
        self.ctx = ctx
        self.spec = spec
        self.principal = principal
        self.body = body
        self.uploads: list[Upload] = []
        self.stub_headers: dict[str, str] = {}

    def upload(self, name: str) -> Upload | None:
        return next((u for u in self.uploads if u.field == name), None)

    @property
    def scope_id(self) -> str:
        return self.principal.scope if self.principal is not None else "anonymous"

    def path_param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def query_int(self, name: str, *, minimum: int | None = None) -> int | None:
        value = self.query(name)
        if value is None or value == "":
            return None
        try:
            number = int(value)
        except ValueError:
            raise InvalidValue(f"{name}: expected an integer", param=name) from None
        if minimum is not None and number < minimum:
            raise InvalidValue(f"{name}: expected an integer >= {minimum}", param=name)
        return number

    def query_float(self, name: str) -> float | None:
        value = self.query(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except ValueError:
            raise InvalidValue(f"{name}: expected a number", param=name) from None

    # -- steps 8-10 and billing, called by the handlers ---------------------------------------

    def resolve_model(
        self, model_id: str, kinds: tuple[str, ...], purpose: str, *, param: str = "model"
    ) -> Model:
        """Step 8: the catalogue model, of a kind that serves this route (or the fallback that
        answers instead, when faults hit the requested one)."""
        model = self.state.catalog.get_kind(model_id, kinds, purpose, param=param)
        answering = self.ctx.answering_model
        if answering is not None and param == "model":
            model = self.state.catalog.get_kind(answering, kinds, purpose, param=param)
        self.ctx.model = model.id
        return model

    def authorize(self, model: Model, *, internal: bool = False) -> None:
        """Step 9: the key's model rules and tier gating (internal models are exempt)."""
        if internal:
            return
        error = permission_error(self.principal, model)
        if error is not None:
            raise error
        record = self.principal.record if self.principal is not None else None
        if record is not None:  # step 10
            state = self.state
            settle_failed_tasks(
                state.tasks, state.keys, record.key, state.now(), state.settings.task_seconds
            )
            check_allowances(record, state.keys.usage_of(record.key), state.now())

    def stub(self) -> dict[str, Any] | None:
        """Step 11: the ``respond`` object of the first matching stub, or None.

        Latency, error replies and raw overrides are handled here for every route; the
        surface gets what is left (text, tool calls, reasoning, usage, finish reason, cuts).
        """
        if self.ctx.facts is None:
            return None
        rule = find_stub(self.state, self.ctx.facts)
        if rule is None:
            return None
        self.ctx.stub_id = rule.id
        self.stub_headers["x-mockair-stub"] = rule.id
        return dict(rule.spec.get("respond") or {})

    async def stub_effects(self, respond: dict[str, Any], *, task_route: bool = False) -> None:
        latency = int(respond.get("latency_ms") or 0)
        if latency:
            await asyncio.sleep(latency / 1000)
        if "status" in respond:
            body = respond.get("body")
            response = Response(
                jsonio.dumps(body) if body is not None else b"",
                status_code=int(respond["status"]),
                headers={**(respond.get("headers") or {}), **self.stub_headers},
                media_type="application/json" if body is not None else None,
            )
            raise StubResponse(response)
        if "error" in respond and not task_route:
            error = fault_error(respond["error"], None)
            error.headers |= self.stub_headers
            raise error

    def stream_cut(
        self, frame: Callable[[ApiError, int], bytes], *, respond: dict[str, Any] | None = None
    ) -> Cut | None:
        """The cut of this stream (a stub's, else a fault's), counted now that it starts."""
        spec: dict[str, Any] | None = None
        if respond is not None and respond.get("cut_after_chunks") is not None:
            spec = respond
        elif self.ctx.cut_rule is not None and use(self.state.faults, self.ctx.cut_rule):
            spec = self.ctx.cut_rule.spec
            self.ctx.fault_id = self.ctx.cut_rule.id
        if spec is None:
            return None
        error = fault_error(
            spec.get("error") or {**spec, "status": spec.get("status") or 503}, None
        )
        return Cut(
            int(spec["cut_after_chunks"]),
            str(spec.get("cut_mode") or "error"),
            lambda sent: frame(error, sent),
        )

    def charge(
        self,
        cents: float,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        capped_tokens: int = 0,
    ) -> dict[str, str]:
        """Bill this request; returns the X-Cost-Cents (and X-Tokens-*) response headers."""
        charged = charge(self.state.keys, self.principal, self.state.now(), cents, capped_tokens)
        header = cost_header(charged)
        self.ctx.cost_cents = header
        headers = {"x-cost-cents": header, **self.stub_headers}
        if prompt_tokens is not None:
            headers["x-tokens-prompt"] = str(prompt_tokens)
            usage: dict[str, Any] = {"prompt_tokens": prompt_tokens}
            if completion_tokens is not None:
                headers["x-tokens-completion"] = str(completion_tokens)
                usage["completion_tokens"] = completion_tokens
            self.ctx.usage = usage
        return headers

    def charged_cents(self, cents: float) -> float:
        """What the caller pays: anonymous callers are never billed."""
        return 0.0 if self.principal is None or self.principal.anonymous else cents

    def base_url(self) -> str:
        """Scheme and Host of this request, for absolute media URLs (CONTRACT §3.6.5).

        Behind a TLS-terminating proxy, ``X-Forwarded-Proto`` names the scheme the client
        used (as uvicorn's proxy middleware did for local clients; here for any client, since
        it only shapes the URLs handed back to that client)."""
        headers = self.ctx.headers
        scheme = headers.get("x-forwarded-proto", "").strip().lower()
        if scheme not in ("http", "https"):
            scheme = self.request.scope.get("scheme", "http")
        host = headers.get("host")
        if host:  # what Starlette's request.url would say, without building the whole URL
            return f"{scheme}://{host}"
        return f"{scheme}://{self.request.url.netloc}"


Handler = Callable[[ApiCall], Awaitable[Response]]


def applies_stubs(handler: Handler) -> Handler:
    """Mark a handler that consults stubs itself (it has content a stub can replace); for
    every other route the pipeline applies a matching stub's latency, error or raw reply."""
    handler.applies_stubs = True  # type: ignore[attr-defined]
    return handler


class StubResponse(Exception):
    """A stub's raw override: answered exactly as given."""

    def __init__(self, response: Response) -> None:
        self.response = response


def api_route(
    path: str,
    handler: Handler,
    *,
    methods: tuple[str, ...] = ("GET",),
    auth: AuthMode = "key",
    summary: str,
    body: BodyKind = "none",
    schema: str | None = None,
    body_required: bool = True,
    responses: tuple[str, ...] = ("application/json",),
    tag: str = "api",
    query: tuple[str, ...] = (),
    file_limit: int = 25 * 1024 * 1024,
    file_param: str = "file",
) -> Route:
    control = path.startswith("/_mockair")
    spec = RouteSpec(
        path=path,
        methods=methods,
        auth=auth,
        summary=summary,
        body=body,
        schema=schema,
        body_required=body_required,
        responses=responses,
        tag="mockair" if control else tag,
        control=control,
        path_params=tuple(_path_params(path)),
        query=query,
        file_limit=file_limit,
        file_param=file_param,
    )

    async def endpoint(request: Request) -> Response:
        scope = request.scope
        state: ServerState = scope["mockair.state"]
        ctx: RequestContext = scope["mockair.ctx"]
        headers = ctx.headers
        query = request.query_params if scope.get("query_string") else NO_QUERY
        raw = None
        if spec.body == "json":
            raw = await read_limited(request, headers, JSON_BODY_LIMIT)  # step 3
            ctx.body_bytes = raw
        elif spec.body == "form":  # step 3 for uploads: the declared size first
            check_content_length(headers, spec.file_limit + FORM_OVERHEAD, spec.file_param)
        principal = authenticate(spec.auth, headers, query.get("key"), state.keys)  # step 4
        ctx.principal = principal
        fields: dict[str, list[str]] = {}
        uploads: list[Upload] = []
        try:
            parsed: dict[str, Any] | None = None
            parse_error: ApiError | None = None
            if spec.body == "json":
                assert raw is not None
                # The body is parsed once; a parse error is raised at step 7, after auth,
                # faults and rate limits, which only peek at the fields they can read.
                # An empty body is {} where the body is optional (POST /_mockair/reset).
                if not spec.body_required and not raw.strip():
                    parsed = {}
                else:
                    try:
                        parsed = parse_json_object(headers, raw)
                    except ApiError as error:
                        parse_error = error
                peek = parsed if parsed is not None else {}
            elif spec.body == "form":  # counted while streaming; files spool to disk
                fields, uploads = await read_form(
                    request, file_limit=spec.file_limit, file_param=spec.file_param
                )
                peek = {name: values[-1] for name, values in fields.items()}
            else:
                peek = {}
            model = peek.get("model") if spec.body != "none" else query.get("model")
            ctx.model = model if isinstance(model, str) else None
            ctx.stream = peek.get("stream") is True
            if not spec.control:
                fault_header = headers.get("x-mockair-fault")
                # What stubs and faults match on, only while there are any: with none, a
                # request skips the text peek (most requests, and every bench request).
                faulting = bool(state.faults.rules or fault_header)
                if faulting or state.stubs.rules:
                    facts = ctx.facts = RequestFacts(
                        path=spec.path if "{" not in spec.path else ctx.path,
                        method=request.method,
                        model=ctx.model,
                        scope=principal.scope if principal is not None else None,
                        text=rules.match_text(
                            spec.path, peek, query, [u.filename for u in uploads]
                        ),
                        stream=ctx.stream,
                    )
                    if faulting:
                        candidates = [m for m in [model, *_fallbacks(peek)] if isinstance(m, str)]
                        answering = await rules.apply_faults(  # step 5
                            state, ctx, facts, candidates, fault_header
                        )
                        if answering is not None and answering != ctx.model:
                            ctx.answering_model = answering
                record = principal.record if principal is not None else None
                if record is not None and record.rpm_limit:
                    ctx.rate_headers = state.rate.take(record, state.now())  # step 6
            payload: dict[str, Any] | None = None
            if spec.body == "json":  # step 7
                if parse_error is not None:
                    raise parse_error
                assert parsed is not None
                assert raw is not None
                payload = parsed
                ctx.body_json = payload
                if spec.schema is not None:
                    payload = state.schemas.validate_cached(
                        spec.schema, raw, payload, allow_unknown=state.settings.allow_unknown_fields
                    )
            elif spec.body == "form":
                assert spec.schema is not None
                form = form_body(state.schemas.schema(spec.schema), fields, uploads)
                ctx.form = {name: v[-1] if len(v) == 1 else v for name, v in fields.items()}
                ctx.files = [u.journal_view() for u in uploads]
                payload = state.schemas.validate(
                    spec.schema, form, allow_unknown=state.settings.allow_unknown_fields
                )
            call = ApiCall(request, state, ctx, spec, principal, payload)
            call.uploads = uploads
            if not spec.control and not getattr(handler, "applies_stubs", False):
                respond = call.stub()  # step 11 for routes without generated content
                if respond is not None:
                    await call.stub_effects(respond)
            return await handler(call)
        except StubResponse as stubbed:
            return stubbed.response
        finally:
            for upload in uploads:  # spooled files, closed whatever happened
                await upload.file.close()

    route = Route(path, endpoint, methods=list(methods), name=f"{','.join(methods)} {path}")
    route.spec = spec  # type: ignore[attr-defined]
    return route


def _fallbacks(body: dict[str, Any]) -> list[Any]:
    """``models`` (and Anthropic ``fallbacks``) candidates after the requested model."""
    models = body.get("models")
    out = list(models) if isinstance(models, list) else []
    fallbacks = body.get("fallbacks")
    if isinstance(fallbacks, list):
        out += [f.get("model") for f in fallbacks if isinstance(f, dict)]
    return out


def _path_params(path: str) -> list[str]:
    names = []
    for part in path.replace(".", "/").split("/"):
        if part.startswith("{") and part.endswith("}"):
            names.append(part[1:-1].split(":")[0])
    return names


def json_response(
    content: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return JsonBytesResponse(jsonio.dumps(content), status, headers)
