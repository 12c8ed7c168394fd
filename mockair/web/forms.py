"""Multipart bodies (CONTRACT §2.6, §6): parsed while streaming, counted against the route's
limit as they arrive, files spooled to disk past 1 MiB, fields converted by the schema."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from mockair import jsonio
from mockair.errors import ApiError, InvalidContentType, InvalidType, PayloadTooLarge

FIELD_LIMIT = 1024 * 1024  # every non-file field (CONTRACT §6)
FORM_OVERHEAD = 1024 * 1024  # room for the other fields beside a file at its limit
TRUE_WORDS = ("true", "1")
FALSE_WORDS = ("false", "0")


@dataclass
class Upload:
    field: str
    filename: str
    content_type: str
    size: int
    sha256: str
    file: UploadFile

    async def read(self) -> bytes:
        await self.file.seek(0)
        return await self.file.read()

    def journal_view(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }


def _too_large(limit: int, param: str | None) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"{param or 'body'}: upload exceeds the limit of {limit // (1024 * 1024)} MiB", param=param
    )


async def _counted(request: Request, limit: int, param: str | None) -> AsyncIterator[bytes]:
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit - FORM_OVERHEAD, param)
            yield chunk
    except ClientDisconnect:
        raise ApiError("Client disconnected while sending the body.") from None


async def read_form(
    request: Request, *, file_limit: int, file_param: str
) -> tuple[dict[str, list[str]], list[Upload]]:
    """Fields (every value of each name, ``name[]`` folded into ``name``) and file parts."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise InvalidContentType("This route takes multipart/form-data.")
    limit = file_limit + FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(file_limit, file_param)
    parser = MultiPartParser(
        request.headers,
        _counted(request, limit, file_param),
        max_files=64,
        max_fields=256,
        max_part_size=FIELD_LIMIT,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        if "Part exceeded maximum size" in str(exc):
            raise PayloadTooLarge("A form field exceeds 1 MiB.") from None
        raise ApiError(f"Malformed multipart body: {exc}", code="invalid_value") from None
    fields: dict[str, list[str]] = {}
    uploads: list[Upload] = []
    try:
        for name, value in form.multi_items():
            base = name[:-2] if name.endswith("[]") else name
            if isinstance(value, UploadFile):
                digest = hashlib.sha256()
                size = 0
                await value.seek(0)
                while chunk := await value.read(1024 * 1024):
                    digest.update(chunk)
                    size += len(chunk)
                if size > file_limit:
                    raise _too_large(file_limit, file_param)
                uploads.append(
                    Upload(
                        base,
                        value.filename or "",
                        value.content_type or "",
                        size,
                        digest.hexdigest(),
                        value,
                    )
                )
            else:
                fields.setdefault(base, []).append(value)
        if sum(u.size for u in uploads) > file_limit:  # the limit is for all files together
            raise _too_large(file_limit, file_param)
    except BaseException:
        await form.close()  # the spooled files of a refused upload
        raise
    return fields, uploads


def _convert(name: str, texts: list[str], schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "array":
        items = schema.get("items") or {}
        if len(texts) == 1 and texts[0].lstrip().startswith("["):
            return _json(name, texts[0])
        return [_scalar(f"{name}.{i}", text, items) for i, text in enumerate(texts)]
    return _scalar(name, texts[-1], schema)


def _json(name: str, text: str) -> Any:
    try:
        return jsonio.loads(text)
    except ValueError:
        raise InvalidType(f"{name}: expected JSON text", param=name) from None


def _scalar(name: str, text: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    try:
        if kind == "integer":
            return int(text.strip())
        if kind == "number":
            return float(text.strip())
    except ValueError:
        word = "an integer" if kind == "integer" else "a number"
        raise InvalidType(f"{name}: expected {word}, got '{text}'", param=name) from None
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise InvalidType(f"{name}: expected a boolean, got '{text}'", param=name)
    if kind in ("object", "array"):
        return _json(name, text)
    return text


def form_body(
    schema: dict[str, Any], fields: dict[str, list[str]], uploads: list[Upload]
) -> dict[str, Any]:
    """The form as a JSON-like body for the route's schema: fields converted by their declared
    type, each file field as its file name (a list of names for array file fields)."""
    properties: dict[str, Any] = schema.get("properties", {})
    body: dict[str, Any] = {}
    for name, texts in fields.items():
        spec = properties.get(name)
        body[name] = _convert(name, texts, spec) if isinstance(spec, dict) else texts[-1]
    for upload in uploads:
        spec = properties.get(upload.field) or {}
        if spec.get("type") == "array":
            body.setdefault(upload.field, []).append(upload.filename or "file")
        else:
            body[upload.field] = upload.filename or "file"
    return body
