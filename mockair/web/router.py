"""Route lookup: a dictionary for fixed paths, then the parametrised ones that can match.

Starlette's ``Router`` tries every route's regex in turn and wraps each route in its own
exception and method handling; here a fixed path is one dictionary lookup, and the pipeline
checks the method and renders every error itself. The table keeps Starlette's ``Route``
objects for their path regexes, convertors and method sets.

A parametrised route whose first two segments are literal (``/v1/video/tasks/{task_id}``) can
only match paths under them, so it is tried only for those; the others are tried for every
path. Either way the candidates keep the table's order, so precedence is as declared.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route


def _lead(path: str) -> str:
    """The first two segments: ``/v1/video`` of ``/v1/video/tasks/x``."""
    return "/".join(path.split("/", 3)[:3])


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
        by_lead: dict[str, list[Route]] = {}
        self._anywhere: list[Route] = []
        for route in self.dynamic:
            lead = _lead(route.path)
            if "{" in lead or not route.path.startswith(lead + "/"):
                self._anywhere.append(route)
            else:
                by_lead.setdefault(lead, []).append(route)
        order = {id(route): index for index, route in enumerate(self.dynamic)}
        self._candidates = {
            lead: sorted([*group, *self._anywhere], key=lambda r: order[id(r)])
            for lead, group in by_lead.items()
        }

    def find(self, path: str) -> tuple[Route, dict[str, Any]] | None:
        """The route serving ``path`` and its converted path parameters, or None."""
        route = self.static.get(path)
        if route is not None:
            return route, {}
        for route in self._candidates.get(_lead(path), self._anywhere):
            match = route.path_regex.match(path)
            if match is not None:
                convertors = route.param_convertors
                params = {
                    name: convertors[name].convert(value)
                    for name, value in match.groupdict().items()
                }
                return route, params
        return None
