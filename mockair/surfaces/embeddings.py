"""POST /v1/embeddings (CONTRACT §3.5)."""

from __future__ import annotations

from starlette.routing import Route

ROUTES: list[Route] = []
