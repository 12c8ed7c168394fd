"""Authentication (CONTRACT §2.3): Bearer everywhere, x-api-key only where documented."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from mockair.errors import InvalidApiKey, MissingApiKey
from mockair.state.keys import ANONYMOUS, KeyRegistry, Principal

# key: Bearer required. key_x: Bearer or x-api-key required. primary: key_x and a primary key
# (checked by the surface, which owns the 403). public: key optional, anonymous sees everything.
# legacy: key optional, anonymous is tier free, scope "anonymous". check: ?key= or Bearer.
# none: no key is read at all.
AuthMode = Literal["key", "key_x", "primary", "public", "legacy", "check", "none"]


def presented_key(headers: Mapping[str, str], *, allow_x_api_key: bool) -> str | None:
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        # A non-Bearer Authorization header presents something that is not a key.
        return authorization.strip() or None
    if allow_x_api_key:
        value = headers.get("x-api-key")
        if value is not None and value.strip():
            return value.strip()
    return None


def authenticate(
    mode: AuthMode, headers: Mapping[str, str], query_key: str | None, keys: KeyRegistry
) -> Principal | None:
    """The caller's principal, ``ANONYMOUS`` for a keyless optional route, or ``None`` (none)."""
    if mode == "none":
        return None
    key = None
    if mode == "check" and query_key:
        key = query_key
    if key is None:
        key = presented_key(headers, allow_x_api_key=mode in ("key_x", "primary"))
    if key is None:
        if mode in ("public", "legacy"):
            return ANONYMOUS
        raise MissingApiKey()
    principal = keys.resolve(key)
    if principal is None:
        raise InvalidApiKey()
    return principal
