"""Route lookup: the indexed table finds exactly what a scan of every route in order finds."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import Route

from mockair.surfaces import all_routes
from mockair.web.router import RouteTable

ROUTES = all_routes()
TABLE = RouteTable(ROUTES)
SEGMENTS = sorted(
    {part for route in ROUTES for part in route.path.split("/") if part and "{" not in part}
)


def scan(path: str) -> tuple[Route, dict[str, Any]] | None:
    for route in ROUTES:
        if "{" not in route.path:
            if route.path == path:
                return route, {}
            continue
        match = route.path_regex.match(path)
        if match is not None:
            convertors = route.param_convertors
            return route, {k: convertors[k].convert(v) for k, v in match.groupdict().items()}
    return None


segment = st.sampled_from(SEGMENTS) | st.text("abc-_.0123456789", min_size=1, max_size=8)


@given(st.lists(segment, min_size=1, max_size=6))
def test_the_table_agrees_with_a_scan_in_order(parts: list[str]) -> None:
    path = "/" + "/".join(parts)
    assert TABLE.find(path) == scan(path)


def test_parametrised_routes_are_found() -> None:
    for path, expected in [
        ("/v1/video/tasks/vt_1", "/v1/video/tasks/{task_id}"),
        ("/v1/video/tasks/vt_1/stream", "/v1/video/tasks/{task_id}/stream"),
        ("/v1/suno/abc", "/v1/suno/{uuid}"),
        ("/suno/abc", "/suno/{uuid}"),
        ("/media/a/b.png", "/media/{name:path}"),
        ("/_mockair/requests/req_1", "/_mockair/requests/{id}"),
    ]:
        found = TABLE.find(path)
        assert found is not None, path
        assert found[0].path == expected, path
    assert TABLE.find("/v1/video/nope/x") is None
