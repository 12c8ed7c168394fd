"""One error type, one envelope (CONTRACT §2.5).

Every failure anywhere in mockair is an :class:`ApiError` (or is turned into one at the edge) and
is rendered by :func:`error_response` into exactly ``{"error": {"message", "type", "code",
"param"}}``, plus a top-level ``retry_after`` on a 429.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, ClassVar

from starlette.exceptions import HTTPException
from starlette.responses import Response

from mockair import jsonio
from mockair.web.responses import JsonBytesResponse

STATUS_TYPES: dict[int, str] = {
    400: "invalid_request",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found",
    405: "invalid_request",
    413: "payload_too_large",
    429: "rate_limit",
    500: "internal_error",
    503: "upstream_error",
}

INTERNAL_ERROR_MESSAGE = "Internal error. Quote the X-Request-ID when reporting."


def type_for_status(status: int) -> str:
    """The envelope type of a status; statuses outside the table come only from faults."""
    if status in STATUS_TYPES:
        return STATUS_TYPES[status]
    return "internal_error" if status >= 500 else "invalid_request"


class ApiError(Exception):
    """An error answered with the envelope of CONTRACT §2.5.

    Subclasses fix ``status``, ``type`` and ``code`` at class level; instances carry the message
    and the offending ``param`` (a dotted field path such as ``messages.0.role``). ``retry_after``
    (seconds) is set on 429s and becomes the body's ``retry_after`` and the ``Retry-After``
    header. ``headers`` are extra response headers (``Allow`` on a 405).
    """

    status: ClassVar[int] = 400
    type: ClassVar[str | None] = None
    code: ClassVar[str | None] = "invalid_value"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int | None = None,
        type: str | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        # Instance attributes shadow the class-level defaults only when given.
        if status is not None:
            self.status = status  # type: ignore[misc]
        if code is not None:
            self.code = code  # type: ignore[misc]
        if type is not None:
            self.type = type  # type: ignore[misc]
        self.retry_after = retry_after
        self.headers = dict(headers or {})

    @property
    def error_type(self) -> str:
        return self.type or type_for_status(self.status)

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "code": self.code,
                "param": self.param,
            }
        }
        if self.status == 429:
            body["retry_after"] = float(self.retry_after if self.retry_after is not None else 1.0)
        return body

    def response_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.status == 429:
            retry = self.retry_after if self.retry_after is not None else 1.0
            headers.setdefault("retry-after", str(max(1, math.ceil(retry))))
            if "x-ratelimit-limit-requests" not in headers:
                # A 429 that is not a bucket's (caps, faults, stubs): 0, 0 and the wait.
                headers["x-ratelimit-limit-requests"] = "0"
                headers["x-ratelimit-remaining-requests"] = "0"
                headers["x-ratelimit-reset-requests"] = f"{round(retry, 3):g}s"
        return headers


class InvalidJson(ApiError):
    code = "invalid_json"


class InvalidContentType(ApiError):
    code = "invalid_content_type"


class MissingField(ApiError):
    code = "missing_field"


class UnknownField(ApiError):
    code = "unknown_field"


class InvalidType(ApiError):
    code = "invalid_type"


class InvalidValue(ApiError):
    code = "invalid_value"


class ModelNotSupported(ApiError):
    code = "model_not_supported"


class MissingApiKey(ApiError):
    status = 401
    code = "missing_api_key"

    def __init__(self) -> None:
        super().__init__("Missing API key. Send 'Authorization: Bearer sk-air-...'.")


class InvalidApiKey(ApiError):
    status = 401
    code = "invalid_api_key"

    def __init__(self) -> None:
        super().__init__("Invalid API key")


class PermissionDenied(ApiError):
    status = 403
    code = "model_not_allowed"


class NotFound(ApiError):
    status = 404
    code = "route_not_found"


class ModelNotFound(ApiError):
    # The seed's literal example: HTTP 404 but type invalid_request (CONTRACT §7 #1).
    status = 404
    type = "invalid_request"
    code = "model_not_found"

    def __init__(self, model_id: str, *, param: str = "model") -> None:
        super().__init__(f"Model '{model_id}' not found.", param=param)


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class RateLimited(ApiError):
    status = 429
    code = "rate_limit_exceeded"


class InternalError(ApiError):
    status = 500
    code = "internal_error"

    def __init__(self) -> None:
        super().__init__(INTERNAL_ERROR_MESSAGE)


def error_response(error: ApiError) -> Response:
    return JsonBytesResponse(jsonio.dumps(error.envelope()), error.status, error.response_headers())


ALLOW_ORDER = ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"]


def method_not_allowed(method: str, path: str, allowed: Iterable[str]) -> MethodNotAllowed:
    methods = sorted(
        {m for m in allowed if m != "OPTIONS"},
        key=lambda m: ALLOW_ORDER.index(m) if m in ALLOW_ORDER else len(ALLOW_ORDER),
    )
    if methods:
        methods.append("OPTIONS")  # every route answers CORS preflights
    allow = ", ".join(methods)
    return MethodNotAllowed(
        f"Method {method} not allowed on {path}; allowed: {allow}.",
        headers={"allow": allow} if allow else None,
    )


def from_http_exception(method: str, path: str, exc: HTTPException) -> ApiError:
    """An ``HTTPException`` raised inside Starlette, as the envelope's error."""
    if exc.status_code == 405:
        allowed = [m.strip() for m in (exc.headers or {}).get("Allow", "").split(",")]
        return method_not_allowed(method, path, [m for m in allowed if m])
    if exc.status_code == 404:
        return NotFound(f"Unknown route: {method} {path}")
    return ApiError(str(exc.detail), status=exc.status_code, code="invalid_value")
