"""Route dispatch by dictionary for fixed paths, then a scan of the parametrised ones.

Starlette's ``Router`` tries every route's regex in turn; with the whole API surface that scan
is most of a request's routing cost. The table keeps Starlette's ``Route`` objects (so their
method checks and 405s are unchanged) and only replaces how the route is found.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self.static: dict[str, Route] = {}
        self.dynamic: list[Route] = []
        for route in routes:
            if "{" in route.path:
                self.dynamic.append(route)
            else:
                self.static[route.path] = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        scope["router"] = self
        route = self.static.get(scope["path"])
        if route is not None:
            scope["route"] = route
            scope["endpoint"] = route.endpoint
            scope["path_params"] = {}
            await route.handle(scope, receive, send)
            return
        for route in self.dynamic:
            match, child_scope = route.matches(scope)
            if match is not Match.NONE:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        raise HTTPException(status_code=404)
