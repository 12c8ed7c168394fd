"""``MockAirSession``: one key's view of a running server, over the control plane (§5.4)."""

from __future__ import annotations

import hashlib
import itertools
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockair.server import MockAir

_fresh = itertools.count(1)


class ControlPlaneError(RuntimeError):
    """The control plane refused a session call; the message carries its error envelope."""


class MockAirSession:
    """A key and the helpers that act on its scope: journal, stubs, faults, clock, keys.

    Attributes:
        url: ``http://127.0.0.1:<port>``.
        base_url: ``url + "/v1"``, for the OpenAI SDK.
        api_key: the key this session is bound to (its scope is the isolation unit).
        server: the ``MockAir`` handle, when the server runs in this process.
    """

    def __init__(self, url: str, api_key: str, *, server: MockAir | None = None) -> None:
        self.url = url.rstrip("/")
        self.base_url = self.url + "/v1"
        self.api_key = api_key
        self.server = server
        import httpx  # only sessions need an HTTP client; the server itself does not

        self._http = httpx.Client(base_url=self.url, timeout=30.0)

    @staticmethod
    def key_for(node_id: str) -> str:
        """The per-test key: ``sk-air-t`` + 16 hex of sha256(test node id)."""
        return "sk-air-t" + hashlib.sha256(node_id.encode()).hexdigest()[:16]

    @staticmethod
    def fresh_key() -> str:
        return MockAirSession.key_for(f"session|{os.getpid()}|{next(_fresh)}")

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ControlPlaneError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json()

    def requests(
        self,
        path: str | None = None,
        method: str | None = None,
        status: int | None = None,
        model: str | None = None,
    ) -> list[dict[str, Any]]:
        """This scope's journal entries, oldest first."""
        params: dict[str, Any] = {"key": self.api_key}
        for name, value in (
            ("path", path),
            ("method", method),
            ("status", status),
            ("model", model),
        ):
            if value is not None:
                params[name] = value
        return list(self._call("GET", "/_mockair/requests", params=params)["requests"])

    def last_request(self, path: str | None = None) -> dict[str, Any] | None:
        entries = self.requests(path=path)
        return entries[-1] if entries else None

    def _match(self, **fields: Any) -> dict[str, Any]:
        match = {name: value for name, value in fields.items() if value is not None}
        match["key"] = self.api_key
        return match

    def stub(
        self,
        path: str | None = None,
        model: str | None = None,
        contains: str | None = None,
        regex: str | None = None,
        method: str | None = None,
        stream: bool | None = None,
        times: int | None = None,
        **respond: Any,
    ) -> str:
        """Add a stub bound to this key (CONTRACT §4.4); ``respond`` fields as keywords, e.g.
        ``text=``, ``tool_calls=``, ``reasoning=``, ``error=``, ``latency_ms=``."""
        body = {
            "match": self._match(
                path=path, model=model, contains=contains, regex=regex, method=method, stream=stream
            ),
            "respond": respond,
            "times": times,
        }
        return str(self._call("POST", "/_mockair/stubs", json=body)["id"])

    def fault(
        self,
        status: int | None = 500,
        path: str | None = None,
        model: str | None = None,
        contains: str | None = None,
        regex: str | None = None,
        times: int | None = None,
        after: int = 0,
        code: str | None = None,
        type: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        latency_ms: int | None = None,
        cut_after_chunks: int | None = None,
        cut_mode: str = "error",
    ) -> str:
        """Add a fault bound to this key (CONTRACT §4.5); e.g. ``fault(429, times=2)`` fails
        the next two matching requests, then lets them through."""
        body: dict[str, Any] = {
            "match": self._match(path=path, model=model, contains=contains, regex=regex),
            "status": status,
            "times": times,
            "after": after,
            "cut_mode": cut_mode,
        }
        for name, value in (
            ("code", code),
            ("type", type),
            ("message", message),
            ("retry_after", retry_after),
            ("latency_ms", latency_ms),
            ("cut_after_chunks", cut_after_chunks),
        ):
            if value is not None:
                body[name] = value
        return str(self._call("POST", "/_mockair/faults", json=body)["id"])

    def advance(self, seconds: float) -> float:
        """Advance the virtual clock; returns the new ``now``."""
        return float(self._call("POST", "/_mockair/clock", json={"advance": seconds})["now"])

    def register_key(self, **settings: Any) -> str:
        """Register another key in this scope (secondary unless ``primary=True``)."""
        body = dict(settings)
        if not body.get("primary"):
            body.setdefault("primary", False)
            body.setdefault("owner", self.api_key)
        return str(self._call("POST", "/_mockair/keys", json=body)["key"])

    def reset(self) -> None:
        """Reset this key's scope (journal, rules, usage, ids...); the clock is untouched."""
        self._call("POST", "/_mockair/reset", json={"key": self.api_key})

    def __repr__(self) -> str:
        return f"MockAirSession(url={self.url!r}, api_key={self.api_key!r})"
