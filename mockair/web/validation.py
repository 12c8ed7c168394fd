"""Request validation against the JSON Schemas in ``schemas/`` (CONTRACT §2.6).

Each schema is compiled once per process. Only the first error is reported, in the order of
§2.6: a missing required field (schema order), else an unknown top-level field (body order),
else the first type/value error in schema order, depth first.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockair import jsonio
from mockair.errors import ApiError, InvalidType, InvalidValue, MissingField, UnknownField
from mockair.lru import Lru

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

# jsonschema and referencing are imported on the first validation, not at start: they are a
# large share of the import time, and a server that is only listed or polled never needs them.

SCHEMA_BASE = "https://mockair.local/schemas/"

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def dotted(path: Iterable[Any]) -> str:
    return ".".join(str(part) for part in path)


def _quote(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else jsonio.dumps_str(value)


class SchemaSet:
    """All request schemas of one ``schemas/`` directory, compiled once."""

    def __init__(self, schemas_dir: Path) -> None:
        self.dir = schemas_dir
        self.documents: dict[str, dict[str, Any]] = {}
        for path in sorted(schemas_dir.rglob("*.json")):
            relative = path.relative_to(schemas_dir).as_posix()
            document = jsonio.loads(path.read_bytes())
            document.setdefault("$id", SCHEMA_BASE + relative)
            self.documents[relative[: -len(".json")]] = document
        self._registry: Any = None
        self._validators: dict[str, Draft202012Validator] = {}
        # Validation is a pure function of (schema, body): a body seen before (a client's
        # retry, a test's repeated request) is answered from here instead of jsonschema.
        self._valid: Lru[tuple[str, bool, bytes], dict[str, Any]] = Lru(2048)

    def route_schema_ids(self) -> list[str]:
        return [name for name in self.documents if not name.startswith("_")]

    def schema(self, schema_id: str) -> dict[str, Any]:
        return self.documents[schema_id]

    def validator(self, schema_id: str) -> Draft202012Validator:
        validator = self._validators.get(schema_id)
        if validator is None:
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012

            if self._registry is None:
                self._registry = Registry().with_resources(
                    (doc["$id"], Resource.from_contents(doc, DRAFT202012))
                    for doc in self.documents.values()
                )
            validator = _strict_ints()(self.documents[schema_id], registry=self._registry)
            self._validators[schema_id] = validator
        return validator

    def validate_cached(
        self, schema_id: str, raw: bytes, body: dict[str, Any], *, allow_unknown: bool = False
    ) -> dict[str, Any]:
        """``validate``, remembered by the raw body bytes (only valid bodies are remembered).
        The returned dict is shared: callers must not modify it."""
        if len(raw) > 8192:  # small bodies only: the cache stays within a few MB
            return self.validate(schema_id, body, allow_unknown=allow_unknown)
        key = (schema_id, allow_unknown, raw)
        cleaned = self._valid.get(key)
        if cleaned is None:
            cleaned = self._valid.put(
                key, self.validate(schema_id, body, allow_unknown=allow_unknown)
            )
        return cleaned

    def validate(
        self, schema_id: str, body: dict[str, Any], *, allow_unknown: bool = False
    ) -> dict[str, Any]:
        """The body with nulls and (when allowed) unknown fields dropped, or an ``ApiError``."""
        schema = self.documents[schema_id]
        properties: dict[str, Any] = schema.get("properties", {})
        cleaned = {name: value for name, value in body.items() if value is not None}
        for name in schema.get("required", ()):
            if name not in cleaned:
                raise MissingField(f"{name}: field required", param=name)
        for name, other in schema.get("x-required-unless", {}).items():
            if name not in cleaned and other not in cleaned:
                raise MissingField(f"{name}: field required", param=name)
        for name in body:
            if name not in properties:
                if not allow_unknown:
                    raise UnknownField(f"{name}: unknown field", param=name)
                cleaned.pop(name, None)
        errors = [
            error
            for error in self.validator(schema_id).iter_errors(cleaned)
            if error.absolute_path  # root-level required/additionalProperties were handled above
        ]
        if errors:
            order = {name: index for index, name in enumerate(properties)}
            first = min(errors, key=lambda e: order.get(str(e.absolute_path[0]), len(order)))
            head = first.absolute_path[0]
            same_field = [e for e in errors if e.absolute_path[0] == head]
            from jsonschema.exceptions import best_match

            raise to_api_error(best_match(same_field) or first)
        return cleaned


def _path(error: ValidationError) -> deque[Any]:
    return error.absolute_path


def _branch_fits_type(errors: Sequence[ValidationError], depth: int) -> bool:
    """False when a branch failed because the instance itself has the wrong JSON type."""
    return not any(e.validator == "type" and len(e.absolute_path) == depth for e in errors)


def to_api_error(error: ValidationError) -> ApiError:
    """Map one jsonschema error to the envelope's code, param and message."""
    path = _path(error)
    param = dotted(path) or None
    where = param or "body"
    keyword = error.validator
    value = error.validator_value
    instance = error.instance

    if keyword in ("anyOf", "oneOf") and error.context:
        depth = len(path)
        by_branch: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            by_branch.setdefault(int(sub.schema_path[0]), []).append(sub)
        fitting = [errs for errs in by_branch.values() if _branch_fits_type(errs, depth)]
        if not fitting:
            expected: list[str] = []
            for errs in by_branch.values():
                for sub in errs:
                    if sub.validator == "type" and len(sub.absolute_path) == depth:
                        kinds = sub.validator_value
                        for kind in [kinds] if isinstance(kinds, str) else kinds:
                            if kind not in expected:
                                expected.append(kind)
            words = " or ".join(_TYPE_WORDS.get(k, k) for k in expected) or "another type"
            return InvalidType(f"{where}: expected {words}, got {json_type(instance)}", param=param)
        from jsonschema.exceptions import best_match

        best = best_match([sub for errs in fitting for sub in errs])
        if best is not None:
            return to_api_error(best)
    if keyword == "type":
        kinds = [value] if isinstance(value, str) else list(value)
        words = " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)
        return InvalidType(f"{where}: expected {words}, got {json_type(instance)}", param=param)
    if keyword == "required":
        missing = next((name for name in value if name not in instance), value[0])
        full = f"{param}.{missing}" if param else missing
        return MissingField(f"{full}: field required", param=full)
    if keyword == "enum":
        options = ", ".join(_quote(v) for v in value)
        return InvalidValue(
            f"{where}: expected one of {options}, got {_quote(instance)}", param=param
        )
    if keyword == "const":
        return InvalidValue(
            f"{where}: expected {_quote(value)}, got {_quote(instance)}", param=param
        )
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        sign = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
        declared = error.schema.get("type") if isinstance(error.schema, dict) else None
        noun = "an integer" if declared == "integer" else "a number"
        return InvalidValue(f"{where}: expected {noun} {sign[keyword]} {value}", param=param)
    if keyword in ("minLength", "maxLength"):
        bound = "at least" if keyword == "minLength" else "at most"
        return InvalidValue(f"{where}: expected {bound} {value} characters", param=param)
    if keyword in ("minItems", "maxItems"):
        bound = "at least" if keyword == "minItems" else "at most"
        return InvalidValue(f"{where}: expected {bound} {value} items", param=param)
    if keyword in ("minProperties", "maxProperties"):
        bound = "at least" if keyword == "minProperties" else "at most"
        return InvalidValue(f"{where}: expected {bound} {value} keys", param=param)
    if keyword == "pattern":
        return InvalidValue(f"{where}: does not match the pattern {value}", param=param)
    if keyword == "additionalProperties" and path:
        return InvalidValue(f"{where}: {error.message}", param=param)
    if keyword == "x-message":
        return InvalidValue(f"{where}: {value}", param=param)
    return InvalidValue(f"{where}: {error.message}", param=param)


@functools.lru_cache(maxsize=1)
def _strict_ints() -> Any:
    """Draft 2020-12, except that ``integer`` means a JSON integer: JSON Schema counts 5.0 as
    an integer, but every handler uses integers as counts and indexes (``range(n)``)."""
    from jsonschema import Draft202012Validator, validators

    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    return validators.extend(Draft202012Validator, type_checker=checker)


@functools.lru_cache(maxsize=8)
def load_schemas(schemas_dir: Path) -> SchemaSet:
    return SchemaSet(schemas_dir)
