"""The route table in one place: every surface's ``ROUTES``, joined.

Routes that share a path (GET and POST /_mockair/clock, say) are merged into one Starlette
``Route`` that dispatches by method, so that a 405 names every allowed method in ``Allow``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockair.surfaces import (
    audio,
    chat,
    control,
    dubbing,
    embeddings,
    images,
    keys,
    legacy,
    media,
    messages,
    model_list,
    openapi,
    responses_api,
    video,
    voices,
)


def _merge(routes: list[Route]) -> list[Route]:
    by_path: dict[str, list[Route]] = {}
    for route in routes:
        by_path.setdefault(route.path, []).append(route)
    merged = []
    for path, group in by_path.items():
        endpoints = {}
        specs = []
        for route in group:
            spec = route.spec  # type: ignore[attr-defined]
            specs.append(spec)
            for method in spec.methods:
                if method in endpoints:
                    raise ValueError(f"two routes for {method} {path}")
                endpoints[method] = route.endpoint
        if "GET" in endpoints:
            endpoints.setdefault("HEAD", endpoints["GET"])

        async def dispatch(request: Request, _endpoints=endpoints) -> Response:  # type: ignore[no-untyped-def]
            return await _endpoints[request.method](request)  # type: ignore[no-any-return]

        distinct = {id(endpoint) for endpoint in endpoints.values()}
        # One endpoint for every method (GET and its HEAD): called directly, no dispatch.
        only = next(iter(endpoints.values())) if len(distinct) == 1 else dispatch
        route = Route(path, only, methods=sorted(endpoints), name=path)
        route.specs = specs  # type: ignore[attr-defined]
        merged.append(route)
    return merged


def all_routes() -> list[Route]:
    return _merge(
        [
            *model_list.ROUTES,
            *chat.ROUTES,
            *messages.ROUTES,
            *responses_api.ROUTES,
            *audio.ROUTES,
            *voices.ROUTES,
            *video.ROUTES,
            *dubbing.ROUTES,
            *keys.ROUTES,
            *legacy.ROUTES,
            *embeddings.ROUTES,
            *images.ROUTES,
            *media.ROUTES,
            *openapi.ROUTES,
            *control.ROUTES,
        ]
    )
