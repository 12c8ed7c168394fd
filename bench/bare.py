"""The baseline: a bare Starlette app on the same uvicorn setup, answering fixed bodies.

``python -m bench.bare PORT ROUTES.json`` where ROUTES.json maps a path to
``{"status": int, "content_type": str, "body_file": path}``. Anything else gets a fixed 404.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


def build(routes_file: Path) -> Starlette:
    table = json.loads(routes_file.read_text())
    fixed = {
        path: (
            spec["status"],
            spec["content_type"],
            Path(spec["body_file"]).read_bytes(),
            spec.get("events"),
        )
        for path, spec in table.items()
    }
    missing = (404, "application/json", b'{"error":"not found"}', None)

    async def answer(request: Request) -> Response:
        await request.body()
        status, content_type, body, events = fixed.get(request.url.path, missing)
        if events:
            # A typical SSE endpoint: the same event written ``events`` times, one by one.
            async def stream():  # type: ignore[no-untyped-def]
                for _ in range(events):
                    yield body

            return StreamingResponse(stream(), media_type=content_type)
        return Response(body, status_code=status, media_type=content_type)

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


def main() -> None:
    port, routes_file = int(sys.argv[1]), Path(sys.argv[2])
    uvicorn.run(
        build(routes_file),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
