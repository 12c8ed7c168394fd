"""Stored Responses objects per scope (CONTRACT §3.4.4): at most 1000, oldest evicted."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

PER_SCOPE = 1000


@dataclass
class StoredResponse:
    body: dict[str, Any]  # the response object exactly as created
    conversation: list[Any]  # the turns that led to it (without instructions), for follow-ups


class ResponseStore:
    def __init__(self) -> None:
        self._scopes: dict[str, OrderedDict[str, StoredResponse]] = {}

    def put(self, scope: str, response_id: str, stored: StoredResponse) -> None:
        bucket = self._scopes.setdefault(scope, OrderedDict())
        bucket[response_id] = stored
        while len(bucket) > PER_SCOPE:
            bucket.popitem(last=False)

    def get(self, scope: str, response_id: str) -> StoredResponse | None:
        return self._scopes.get(scope, {}).get(response_id)

    def delete(self, scope: str, response_id: str) -> bool:
        return self._scopes.get(scope, {}).pop(response_id, None) is not None

    def clear(self, scope: str | None = None) -> None:
        if scope is None:
            self._scopes.clear()
        else:
            self._scopes.pop(scope, None)
