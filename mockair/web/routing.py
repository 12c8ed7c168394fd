"""Route specs and the per-route part of the pipeline (CONTRACT §2.2 steps 3-7).

Each surface declares ``ROUTES`` with :func:`api_route`. The wrapper reads the body with its
limit, authenticates, parses and validates, then hands the thin handler an :class:`ApiCall`.
The spec stays on the ``Route`` (``route.spec``) so tests and /openapi.json can walk the table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockair import jsonio
from mockair.catalog import Model
from mockair.errors import ApiError, InvalidValue
from mockair.state import ServerState
from mockair.state.billing import charge, cost_header
from mockair.state.keys import Principal
from mockair.state.limits import permission_error
from mockair.web.auth import AuthMode, authenticate
from mockair.web.bodies import (
    JSON_BODY_LIMIT,
    check_content_length,
    parse_json_object,
    read_limited,
)
from mockair.web.context import RequestContext
from mockair.web.forms import FORM_OVERHEAD, Upload, form_body, read_form

BodyKind = Literal["json", "form", "none"]


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

    __slots__ = ("body", "ctx", "principal", "request", "spec", "state", "uploads")

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
        """Step 8: the catalogue model, of a kind that serves this route."""
        model = self.state.catalog.get_kind(model_id, kinds, purpose, param=param)
        self.ctx.model = model.id
        return model

    def authorize(self, model: Model, *, internal: bool = False) -> None:
        """Step 9: the key's model rules and tier gating (internal models are exempt)."""
        if internal:
            return
        error = permission_error(self.principal, model)
        if error is not None:
            raise error

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
        headers = {"x-cost-cents": header}
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
        """Scheme and Host of this request, for absolute media URLs (CONTRACT §3.6.5)."""
        url = self.request.url
        return f"{url.scheme}://{url.netloc}"


Handler = Callable[[ApiCall], Awaitable[Response]]


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
        state: ServerState = request.app.state.mockair
        ctx: RequestContext = request.scope["mockair.ctx"]
        raw = None
        if spec.body == "json":
            raw = await read_limited(request, JSON_BODY_LIMIT)  # step 3
            ctx.body_bytes = raw
        if spec.body == "form":  # step 3 for uploads: the declared size, before anything else
            check_content_length(request, spec.file_limit + FORM_OVERHEAD)
        principal = authenticate(  # step 4
            spec.auth, request.headers, request.query_params.get("key"), state.keys
        )
        ctx.principal = principal
        payload: dict[str, Any] | None = None
        if spec.body == "json":
            assert raw is not None
            # step 7; an empty body is {} where the body is optional (POST /_mockair/reset)
            empty_ok = not spec.body_required and not raw.strip()
            payload = {} if empty_ok else parse_json_object(request, raw)
            ctx.body_json = payload
            model = payload.get("model")
            ctx.model = model if isinstance(model, str) else None
            ctx.stream = payload.get("stream") is True
            if spec.schema is not None:
                payload = state.schemas.validate_cached(
                    spec.schema, raw, payload, allow_unknown=state.settings.allow_unknown_fields
                )
        uploads: list[Upload] = []
        if spec.body == "form":
            fields, uploads = await read_form(  # steps 3 and 7, counted while streaming
                request, file_limit=spec.file_limit, file_param=spec.file_param
            )
            assert spec.schema is not None
            schema = state.schemas.schema(spec.schema)
            form = form_body(schema, fields, uploads)
            ctx.form = {
                name: values[-1] if len(values) == 1 else values for name, values in fields.items()
            }
            ctx.files = [u.journal_view() for u in uploads]
            model = form.get("model")
            ctx.model = model if isinstance(model, str) else None
            payload = state.schemas.validate(
                spec.schema, form, allow_unknown=state.settings.allow_unknown_fields
            )
        call = ApiCall(request, state, ctx, spec, principal, payload)
        call.uploads = uploads
        return await handler(call)

    route = Route(path, endpoint, methods=list(methods), name=f"{','.join(methods)} {path}")
    route.spec = spec  # type: ignore[attr-defined]
    return route


def _path_params(path: str) -> list[str]:
    names = []
    for part in path.replace(".", "/").split("/"):
        if part.startswith("{") and part.endswith("}"):
            names.append(part[1:-1].split(":")[0])
    return names


def json_response(
    content: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        jsonio.dumps(content), status_code=status, headers=headers, media_type="application/json"
    )


def route_spec(route: Route) -> RouteSpec:
    spec = getattr(route, "spec", None)
    if spec is None:
        raise ApiError(f"route {route.path} has no spec")
    return spec  # type: ignore[no-any-return]
