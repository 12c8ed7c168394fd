"""Deterministic id sequences (CONTRACT §2.7): ``prefix + sha256(seed|scope|kind|n)[:24]``."""

from __future__ import annotations

import hashlib

GLOBAL_SCOPE = "global"
ANONYMOUS_SCOPE = "anonymous"


def hex_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class IdSequences:
    """Per-(scope, kind) counters starting at 1, so parallel scopes never disturb each other."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._counters: dict[tuple[str, str], int] = {}
        self._prefixes: dict[tuple[str, str], str] = {}  # "seed|scope|kind|", made once

    def _next(self, scope: str, kind: str) -> str:
        pair = (scope, kind)
        n = self._counters.get(pair, 0) + 1
        self._counters[pair] = n
        prefix = self._prefixes.get(pair)
        if prefix is None:
            prefix = self._prefixes[pair] = f"{self.seed}|{scope}|{kind}|"
        return hex_digest(prefix + str(n))

    def mint(self, scope: str, prefix: str) -> str:
        """The next id of this kind in this scope, e.g. ``chatcmpl-6d0a71a6b0fffad457c9319c``."""
        return prefix + self._next(scope, prefix)[:24]

    def mint_key(self, scope: str) -> str:
        """A created API key: ``sk-air-`` + the full 64-hex digest."""
        return "sk-air-" + self._next(scope, "sk-air-")

    def mint_uuid(self, scope: str, kind: str = "clip") -> str:
        """An RFC 4122 version-4 UUID built from the first 32 hex of the digest."""
        h = list(self._next(scope, kind)[:32])
        h[12] = "4"
        h[16] = "89ab"[int(h[16], 16) & 3]
        s = "".join(h)
        return f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}"

    def reset_scope(self, scope: str) -> None:
        for pair in [pair for pair in self._counters if pair[0] == scope]:
            del self._counters[pair]
            self._prefixes.pop(pair, None)
