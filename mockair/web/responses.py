"""A JSON response whose header list is built in one step.

Starlette's ``Response`` re-encodes and re-scans its headers on every construction; the routes
here answer already-encoded JSON with a handful of lower-case headers, so the raw list is
written directly.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.background import BackgroundTask
from starlette.responses import Response

JSON_TYPE = (b"content-type", b"application/json")


class JsonBytesResponse(Response):
    media_type = "application/json"

    def __init__(
        self,
        body: bytes,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.background: BackgroundTask | None = None
        raw = [(b"content-length", str(len(body)).encode()), JSON_TYPE]
        if headers:
            raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.raw_headers = raw
