"""Route lookup: a dictionary for fixed paths, then a scan of the parametrised ones.

Starlette's ``Router`` tries every route's regex in turn and wraps each route in its own
exception and method handling; here a fixed path is one dictionary lookup, and the pipeline
checks the method and renders every error itself. The table keeps Starlette's ``Route``
objects for their path regexes, convertors and method sets.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route


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

    def find(self, path: str) -> tuple[Route, dict[str, Any]] | None:
        """The route serving ``path`` and its converted path parameters, or None."""
        route = self.static.get(path)
        if route is not None:
            return route, {}
        for route in self.dynamic:
            match = route.path_regex.match(path)
            if match is not None:
                convertors = route.param_convertors
                params = {
                    name: convertors[name].convert(value)
                    for name, value in match.groupdict().items()
                }
                return route, params
        return None
