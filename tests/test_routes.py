"""Walk the route table: every body has a schema, every route is in /openapi.json, auth per D2."""

from __future__ import annotations

import httpx
from jsonschema import Draft202012Validator

from mockair.settings import Settings
from mockair.surfaces import all_routes
from mockair.surfaces.openapi import openapi_path
from mockair.web.routing import RouteSpec
from mockair.web.validation import load_schemas

SPECS: list[RouteSpec] = [spec for route in all_routes() for spec in route.specs]  # type: ignore[attr-defined]

# CONTRACT §1.1 auth column for the routes that exist.
EXPECTED_AUTH = {
    "/v1/models": "public",
    "/models": "public",
    "/v1/models/{model}": "public",
    "/media/{name:path}": "none",
    "/openapi.json": "none",
}


def test_every_body_route_has_a_schema_that_exists() -> None:
    schemas = load_schemas(Settings().schemas_dir)
    for spec in SPECS:
        if spec.body != "none":
            assert spec.schema is not None, spec.path
            Draft202012Validator.check_schema(schemas.schema(spec.schema))
        if "POST" in spec.methods or "PATCH" in spec.methods:
            assert spec.body != "none", spec.path


def test_auth_modes_follow_the_contract() -> None:
    for spec in SPECS:
        if spec.control:
            assert spec.auth == "none", spec.path
        elif spec.path in EXPECTED_AUTH:
            assert spec.auth == EXPECTED_AUTH[spec.path], spec.path


def test_every_route_is_in_openapi(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert document["info"] == {
        "title": "mockair",
        "version": "0.1.0",
        "description": document["info"]["description"],
    }
    for spec in SPECS:
        operations = document["paths"][openapi_path(spec.path)]
        for method in spec.methods:
            operation = operations[method.lower()]
            assert operation["tags"] == ["mockair" if spec.control else spec.tag]
            if spec.schema is not None:
                kind = "application/json" if spec.body == "json" else "multipart/form-data"
                ref = operation["requestBody"]["content"][kind]["schema"]["$ref"]
                assert ref == f"#/components/schemas/{spec.schema}"
    listed = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    assert listed == {(openapi_path(spec.path), m) for spec in SPECS for m in spec.methods}


def test_openapi_refs_all_resolve(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                assert ref.startswith("#/"), ref
                target: object = document
                for part in ref[2:].split("/"):
                    assert isinstance(target, dict), ref
                    assert part in target, ref
                    target = target[part]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def test_openapi_is_valid_for_its_own_validator(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    for name, schema in document["components"]["schemas"].items():
        assert name
        Draft202012Validator.check_schema(schema)
