"""GET /v1/models, /models and /v1/models/{model} (CONTRACT §3.1)."""

from __future__ import annotations

from starlette.responses import Response

from mockair import jsonio
from mockair.state.limits import may_use
from mockair.web.routing import ApiCall, api_route

CACHE_HEADERS = {"cache-control": "max-age=60"}


async def list_models(call: ApiCall) -> Response:
    catalog = call.state.catalog
    created = int(call.state.now() // 1)
    principal = call.principal
    # Anonymous callers and open-mode keys of a paying tier may use every model: that list is
    # the same bytes for a whole virtual second, so it is serialised once per second.
    unrestricted = (
        principal is None
        or principal.anonymous
        or (principal.record is None and principal.tier != "free")
    )
    if unrestricted:
        cached = call.state.cache.get("models")
        if cached is not None and cached[0] == created:
            body = cached[1]
        else:
            models = [m.as_public(created) for m in catalog.models]
            body = jsonio.dumps({"object": "list", "data": models})
            call.state.cache["models"] = (created, body)
    else:
        models = [m.as_public(created) for m in catalog.models if may_use(principal, m)]
        body = jsonio.dumps({"object": "list", "data": models})
    return Response(body, media_type="application/json", headers=CACHE_HEADERS)


async def get_model(call: ApiCall) -> Response:
    model = call.state.catalog.get(call.path_param("model"), param="model")
    body = jsonio.dumps(model.as_public(int(call.state.now() // 1)))
    return Response(body, media_type="application/json", headers=CACHE_HEADERS)


ROUTES = [
    api_route("/v1/models", list_models, auth="public", summary="List the models this key may use"),
    api_route(
        "/models", list_models, auth="public", summary="List models (legacy alias)", tag="legacy"
    ),
    api_route("/v1/models/{model}", get_model, auth="public", summary="Retrieve one model"),
]
