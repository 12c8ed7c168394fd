"""The bounded request journal (CONTRACT §4.8), written once per request after the response.

Entries keep raw captured bytes and are rendered to JSON only when somebody reads them. The
ring holds each entry as one ``marshal``-ed bytes object, which the garbage collector neither
tracks nor counts, beside its request and response bodies, kept by reference (a response is
often shared with a cache: ten thousand copies of the 100 KB model list were 1.6 GB).

Kept as objects, ten thousand entries did two kinds of harm under load (bench/RESULTS.md):
every full collection walked them; and, once the ring was full, each request freed an old
entry's objects as it made a new one's, so the collector's allocation count stood still, no
young collection ran for thousands of requests, and when one finally ran it had 77,000 objects
to walk (a 60-130 ms pause).
"""

from __future__ import annotations

import hashlib
import marshal
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import parse_qsl

from mockair import jsonio
from mockair.state.keys import mask

BODY_CAP = 64 * 1024
REDACTED_HEADERS = ("authorization", "x-api-key")


def _captured_json(data: bytes | None, size: int) -> Any:
    if data is None:
        return None
    marker = {"truncated": True, "size": size, "sha256": hashlib.sha256(data).hexdigest()}
    if size > BODY_CAP:
        return marker
    try:
        value = jsonio.loads(data)
    except ValueError:
        return None
    # A body too deep to be served again as JSON is shown like a too-large one.
    return marker if jsonio.depth(value) > jsonio.MAX_DEPTH else value


def redact_header(name: str, value: str) -> str:
    if name == "authorization":
        scheme, _, rest = value.partition(" ")
        return f"{scheme} {mask(rest.strip())}" if rest else mask(value) or ""
    if name == "x-api-key":
        return mask(value.strip()) or ""
    return value


JOURNAL_SKIP_RESPONSE_HEADERS = (b"content-type", b"date", b"content-length", b"x-request-id")


def _query_view(raw: bytes) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if raw:
        for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            query[name] = redact_header("x-api-key", value) if name == "key" else value
    return query


@dataclass(slots=True)
class Entry:
    """One journaled request. Raw pieces are kept as received (bytes, not parsed objects) and
    shaped only in ``as_dict``: writing an entry costs next to nothing on the request path, and
    ten thousand entries give the garbage collector few objects to walk."""

    id: str
    request_id: str
    time: float
    method: str
    path: str
    raw_query: bytes
    key: str | None
    scope: str | None
    tier: str | None
    raw_headers: Sequence[tuple[bytes, bytes]]
    model: str | None = None
    request_body: bytes | None = None
    request_size: int = 0
    form: dict[str, Any] | None = None
    files: Sequence[dict[str, Any]] = ()
    stream: bool = False
    status: int = 0
    response_type: str | None = None
    raw_response_headers: Sequence[tuple[bytes, bytes]] = ()
    response_body: bytes | None = None
    response_size: int = 0
    events: Sequence[str] | None = None
    events_truncated: bool = False
    usage: dict[str, Any] | None = None
    cost_cents: str | None = None
    stub_id: str | None = None
    fault_id: str | None = None
    error_code: str | None = None
    duration_ms: float = 0.0
    traceback: str | None = None

    def request_body_view(self) -> Any:
        if self.form is not None:
            return self.form
        return _captured_json(self.request_body, self.request_size)

    def response_body_view(self) -> Any:
        kind = (self.response_type or "").split(";")[0].strip()
        if kind != "application/json" or self.events is not None:
            return None
        return _captured_json(self.response_body, self.response_size)

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for raw_name, raw_value in self.raw_headers:
            name = raw_name.decode("latin-1").lower()
            out[name] = redact_header(name, raw_value.decode("latin-1"))
        return out

    def response_headers(self) -> dict[str, str]:
        return {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in self.raw_response_headers
            if name not in JOURNAL_SKIP_RESPONSE_HEADERS and not name.startswith(b"access-control-")
        }

    def as_dict(self) -> dict[str, Any]:
        events = list(self.events) if self.events is not None else None
        if events is not None and self.events_truncated:
            events.append("…truncated")
        return {
            "id": self.id,
            "request_id": self.request_id,
            "time": round(self.time, 6),
            "method": self.method,
            "path": self.path,
            "query": _query_view(self.raw_query),
            "key": mask(self.key),
            "scope": self.scope if self.scope in (None, "anonymous") else mask(self.scope),
            "tier": self.tier,
            "model": self.model,
            "headers": self.headers(),
            "body": self.request_body_view(),
            "files": list(self.files),
            "stream": self.stream,
            "status": self.status,
            "response": {
                "content_type": self.response_type,
                "headers": self.response_headers(),
                "body": self.response_body_view(),
                "size": self.response_size,
                "events": events,
            },
            "usage": self.usage,
            "cost_cents": self.cost_cents,
            "stub_id": self.stub_id,
            "fault_id": self.fault_id,
            "error_code": self.error_code,
            "duration_ms": round(self.duration_ms, 3),
        }


def _path_matches(pattern: str, path: str) -> bool:
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


FIELDS = tuple(f.name for f in fields(Entry))


_BODIES = (FIELDS.index("request_body"), FIELDS.index("response_body"))
PACKED_FIELDS = tuple(name for name in FIELDS if name not in ("request_body", "response_body"))


def packed(
    id: str,
    request_id: str,
    time: float,
    method: str,
    path: str,
    raw_query: bytes,
    key: str | None,
    scope: str | None,
    tier: str | None,
    raw_headers: Sequence[tuple[bytes, bytes]],
    model: str | None,
    request_size: int,
    form: dict[str, Any] | None,
    files: Sequence[dict[str, Any]],
    stream: bool,
    status: int,
    response_type: str | None,
    raw_response_headers: Sequence[tuple[bytes, bytes]],
    response_size: int,
    events: Sequence[str] | None,
    events_truncated: bool,
    usage: dict[str, Any] | None,
    cost_cents: str | None,
    stub_id: str | None,
    fault_id: str | None,
    error_code: str | None,
    duration_ms: float,
    traceback: str | None,
    /,
) -> bytes:
    """An entry's fields but its two bodies (those of :class:`Entry`, in its order) as the
    bytes the ring keeps. The request path writes this directly, without building an Entry;
    its arguments are positional because binding thirty keywords cost more than marshalling."""
    return marshal.dumps(
        (
            id,
            request_id,
            time,
            method,
            path,
            raw_query,
            key,
            scope,
            tier,
            raw_headers,
            model,
            request_size,
            form,
            files,
            stream,
            status,
            response_type,
            raw_response_headers,
            response_size,
            events,
            events_truncated,
            usage,
            cost_cents,
            stub_id,
            fault_id,
            error_code,
            duration_ms,
            traceback,
        )
    )


def pack(entry: Entry) -> bytes:
    return packed(*(getattr(entry, name) for name in PACKED_FIELDS))


def unpack(blob: bytes, request_body: bytes | None, response_body: bytes | None) -> Entry:
    values = list(marshal.loads(blob))
    for index, body in zip(_BODIES, (request_body, response_body), strict=True):
        values.insert(index, body)  # in increasing index order: each lands where it belongs
    return Entry(*values)


class Journal:
    """A ring of the last ``size`` entries, with lookup by id."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._order: deque[str] = deque()  # entry ids, oldest first
        self._blobs: dict[str, bytes] = {}
        self._request_bodies: dict[str, bytes] = {}
        self._response_bodies: dict[str, bytes] = {}

    def write(self, entry: Entry) -> None:
        self.write_packed(entry.id, pack(entry), entry.request_body, entry.response_body)

    def write_packed(
        self,
        entry_id: str,
        blob: bytes,
        request_body: bytes | None,
        response_body: bytes | None,
    ) -> None:
        """Write an entry made by :func:`packed`, with its bodies."""
        if len(self._order) >= self.size:
            old = self._order.popleft()
            self._blobs.pop(old, None)
            self._request_bodies.pop(old, None)
            self._response_bodies.pop(old, None)
        self._order.append(entry_id)
        self._blobs[entry_id] = blob
        if request_body is not None:
            self._request_bodies[entry_id] = request_body
        if response_body is not None:
            self._response_bodies[entry_id] = response_body

    def _unpack(self, entry_id: str, blob: bytes) -> Entry:
        return unpack(blob, self._request_bodies.get(entry_id), self._response_bodies.get(entry_id))

    def get(self, entry_id: str) -> Entry | None:
        blob = self._blobs.get(entry_id)
        return self._unpack(entry_id, blob) if blob is not None else None

    def __len__(self) -> int:
        return len(self._order)

    def _all(self) -> Iterator[Entry]:
        for entry_id in self._order:
            blob = self._blobs.get(entry_id)
            if blob is not None:
                yield self._unpack(entry_id, blob)

    def select(
        self,
        *,
        scope: str | None = None,
        path: str | None = None,
        method: str | None = None,
        status: int | None = None,
        model: str | None = None,
        since: float | None = None,
    ) -> list[Entry]:
        upper = method.upper() if method is not None else None
        return [
            e
            for e in self._all()
            if (scope is None or e.scope == scope)
            and (path is None or _path_matches(path, e.path))
            and (upper is None or e.method == upper)
            and (status is None or e.status == status)
            and (model is None or e.model == model)
            and (since is None or e.time >= since)
        ]

    def clear(self, scope: str | None = None) -> int:
        if scope is None:
            count = len(self._order)
            self._order.clear()
            self._blobs.clear()
            self._request_bodies.clear()
            self._response_bodies.clear()
            return count
        doomed = {e.id for e in self._all() if e.scope == scope}
        self._order = deque(i for i in self._order if i not in doomed)
        for store in (self._blobs, self._request_bodies, self._response_bodies):
            for entry_id in doomed:
                store.pop(entry_id, None)
        return len(doomed)
