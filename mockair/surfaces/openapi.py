"""GET /openapi.json (CONTRACT §3.13): built from schemas/ and the route table, so the document
and the validator never disagree."""

from __future__ import annotations

import copy
import re
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from mockair import __version__, jsonio
from mockair.web.routing import ApiCall, RouteSpec, api_route
from mockair.web.validation import SCHEMA_BASE, SchemaSet

AUTH_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "key": [{"bearer": []}],
    "key_x": [{"bearer": []}, {"x_api_key": []}],
    "primary": [{"bearer": []}, {"x_api_key": []}],
    "public": [{}, {"bearer": []}],
    "legacy": [{}, {"bearer": []}],
    "check": [{"bearer": []}, {"key_query": []}],
    "none": [],
}
ERROR_STATUSES = ("400", "401", "403", "404", "405", "413", "429", "500")


def component_name(schema_id: str) -> str:
    return schema_id.replace("/", ".")


def _rewrite_refs(node: Any, here: str) -> Any:
    """Turn file-relative $refs into pointers inside components/schemas."""
    if isinstance(node, dict):
        out = {}
        for name, value in node.items():
            if name == "$ref" and isinstance(value, str):
                target, _, pointer = value.partition("#")
                if target:
                    base = here.rsplit("/", 1)[0] + "/" if "/" in here else ""
                    parts: list[str] = []
                    for piece in (base + target).split("/"):
                        if piece == "..":
                            parts.pop()
                        elif piece not in ("", "."):
                            parts.append(piece)
                    target_id = "/".join(parts).removesuffix(".json")
                else:
                    target_id = here
                out[name] = f"#/components/schemas/{component_name(target_id)}{pointer}"
            elif name in ("$id", "$schema"):
                continue
            else:
                out[name] = _rewrite_refs(value, here)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, here) for item in node]
    return node


def openapi_path(path: str) -> str:
    """OpenAPI templating has no converters: ``{name:path}`` is ``{name}``."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def _parameters(spec: RouteSpec) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in spec.path_params
    ]
    params += [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in spec.query
    ]
    return params


def _operation(spec: RouteSpec, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": spec.summary,
        "operationId": f"{method.lower()}_{spec.path}".replace("/", "_")
        .replace("{", "")
        .replace("}", "")
        .replace(".", "_")
        .replace("-", "_"),
        "tags": [spec.tag],
        "security": AUTH_SECURITY[spec.auth],
        "responses": {
            "200": {
                "description": "Success",
                "content": {kind: {} for kind in spec.responses},
            },
            **{
                status: {
                    "description": "Error envelope",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/error"}}
                    },
                }
                for status in ERROR_STATUSES
            },
        },
    }
    params = _parameters(spec)
    if params:
        operation["parameters"] = params
    if spec.body != "none" and spec.schema is not None:
        kind = "application/json" if spec.body == "json" else "multipart/form-data"
        operation["requestBody"] = {
            "required": spec.body_required,
            "content": {
                kind: {"schema": {"$ref": f"#/components/schemas/{component_name(spec.schema)}"}}
            },
        }
    return operation


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "code", "param"],
            "additionalProperties": False,
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": ["string", "null"]},
                "param": {"type": ["string", "null"]},
            },
        },
        "retry_after": {"type": "number"},
    },
}


def build_openapi(routes: list[Route], schemas: SchemaSet) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        for spec in getattr(route, "specs", ()):
            item = paths.setdefault(openapi_path(spec.path), {})
            for method in spec.methods:
                item[method.lower()] = _operation(spec, method)
    components = {
        component_name(schema_id): _rewrite_refs(copy.deepcopy(document), schema_id)
        for schema_id, document in schemas.documents.items()
    }
    components["error"] = ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mockair",
            "version": __version__,
            "description": "Local emulator of the Api.Airforce AI gateway.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "x_api_key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "key_query": {"type": "apiKey", "in": "query", "name": "key"},
            },
        },
        "tags": [{"name": "api"}, {"name": "legacy"}, {"name": "mockair"}],
        "x-schema-base": SCHEMA_BASE,
    }


def app_openapi(app: Any) -> dict[str, Any]:
    """The document of one app, built on first use (it is not needed to start serving)."""
    document = getattr(app.state, "openapi", None)
    if document is None:
        document = app.state.openapi = build_openapi(app.state.routes, app.state.mockair.schemas)
    return document  # type: ignore[no-any-return]


async def openapi(call: ApiCall) -> Response:
    body = call.state.cache.get("openapi")
    if body is None:
        body = call.state.cache["openapi"] = jsonio.dumps(app_openapi(call.request.app))
    return Response(body, media_type="application/json")


ROUTES = [
    api_route("/openapi.json", openapi, auth="none", summary="This OpenAPI 3.1 document"),
]
