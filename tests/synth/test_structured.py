"""Schema instances (CONTRACT §2.11.4): one example per rule, then hypothesis over the subset."""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator, Draft7Validator, Draft202012Validator, FormatChecker

from mockair.synth.structured import schema_instance

NOW = 1767225600.0  # 2026-01-01T00:00:00Z
WORDS = ("ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "ibis", "jay", "kiwi", "lynx")


def make(schema: Any, seed: int = 0, *, now: float = NOW) -> Any:
    return schema_instance(schema, random.Random(seed), now=now, words=WORDS)


def many(schema: Any, n: int = 40) -> list[Any]:
    return [make(schema, seed) for seed in range(n)]


# jsonschema checks date, email and uuid with the standard library alone; date-time, time and
# uri need rfc3339-validator / rfc3987, which are not installed, so strict stdlib checkers
# stand in for them (they accept only what the contract promises: UTC with a Z, https URLs).
FORMATS = FormatChecker(["date", "email", "uuid"])


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value):
        return False
    datetime.fromisoformat(value)
    return True


@FORMATS.checks("time")
def _time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    match = re.fullmatch(r"(\d\d):(\d\d):(\d\d)Z", value)
    return bool(match) and int(value[:2]) < 24 and int(value[3:5]) < 60 and int(value[6:8]) < 60


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) and not re.search(r"\s", value)


def assert_valid(schema: Any, instance: Any) -> None:
    Draft202012Validator(schema, format_checker=FORMATS).validate(instance)


# -- the rules, one by one ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        # const, also over a contradicting type
        ({"const": {"a": [1, 2]}}, {"a": [1, 2]}),
        ({"const": None}, None),
        # missing / {} / true / false schemas
        ({}, {}),
        (True, {}),
        (False, None),
        ({"title": "annotations only", "$defs": {"x": {"type": "integer"}}}, {}),
        ({"type": "object", "properties": {"a": {}, "b": True}}, {"a": "value", "b": "value"}),
        ({"type": "array", "items": {}}, ["value"]),
        ({"type": "array"}, ["value"]),
        ({"type": "object"}, {}),
        ({"properties": {}}, {}),
        ({"type": "null"}, None),
        # required names that are not in properties
        ({"type": "object", "required": ["x"]}, {"x": "value"}),
        (
            {"type": "object", "required": ["x"], "additionalProperties": {"const": 3}},
            {"x": 3},
        ),
        (
            {"type": "object", "minProperties": 2, "additionalProperties": {"const": True}},
            {"field1": True, "field2": True},
        ),
        # maxProperties drops optional properties from the end, never required ones
        (
            {
                "type": "object",
                "properties": {"a": {"const": 1}, "b": {"const": 2}, "c": {"const": 3}},
                "required": ["c"],
                "maxProperties": 2,
            },
            {"a": 1, "c": 3},
        ),
        # formats
        ({"type": "string", "format": "date-time"}, "2026-01-01T00:00:00Z"),
        ({"type": "string", "format": "date"}, "2026-01-01"),
        ({"type": "string", "format": "time"}, "00:00:00Z"),
        ({"type": "string", "format": "email"}, "user@example.com"),
        # minLength pads with "x", maxLength cuts (after the format)
        ({"type": "string", "format": "email", "minLength": 20}, "user@example.comxxxx"),
        ({"type": "string", "maxLength": 0}, ""),
        # integer / number ranges that leave one value
        ({"type": "integer", "minimum": 5, "maximum": 5}, 5),
        ({"type": "integer", "exclusiveMinimum": 4, "exclusiveMaximum": 6}, 5),
        ({"type": "integer", "minimum": 4.5, "maximum": 5.5}, 5),
        ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.02}, 0.01),
        ({"type": "integer", "minimum": 3, "exclusiveMinimum": 3, "maximum": 4}, 4),
        ({"type": "integer", "minimum": 1, "maximum": 20, "multipleOf": 20}, 20),
        # a missing bound gives way to multipleOf: 1000 is the first multiple above 1
        ({"type": "integer", "minimum": 1, "multipleOf": 1000}, 1000),
        ({"type": "integer", "maximum": -1, "multipleOf": 1000}, -1000),
        # arrays
        ({"type": "array", "items": {"const": 1}, "minItems": 3}, [1, 1, 1]),
        ({"type": "array", "items": {"const": 1}, "maxItems": 0}, []),
        ({"items": {"const": "i"}}, ["i"]),
        (
            {
                "type": "array",
                "prefixItems": [{"const": "a"}, {"const": 2}],
                "minItems": 3,
                "items": {"const": None},
            },
            ["a", 2, None],
        ),
        (
            {"type": "array", "items": {}, "minItems": 3, "uniqueItems": True},
            ["value", "value2", "value3"],
        ),
        ({"type": "array", "items": {"const": 1}, "contains": {"const": 1}, "maxItems": 5}, [1]),
        # type lists: the first non-null type
        ({"type": ["null", "string"], "format": "email"}, "user@example.com"),
        ({"type": ["integer", "string"], "minimum": 9, "maximum": 9}, 9),
        ({"type": ["null"]}, None),
        # anyOf / oneOf: the first branch that is not null
        ({"anyOf": [{"const": 1}, {"const": 2}]}, 1),
        ({"oneOf": [{"type": "null"}, {"const": "x"}]}, "x"),
        ({"anyOf": [{"type": "null"}]}, None),
        ({"anyOf": [False, {"const": 2}]}, 2),
        # allOf: merged object schemas
        (
            {
                "allOf": [
                    {"type": "object", "properties": {"a": {"const": 1}}, "required": ["a"]},
                    {"properties": {"b": {"const": 2}}, "required": ["b", "c"]},
                ]
            },
            {"a": 1, "b": 2, "c": "value"},
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "integer", "minimum": 3}},
                "allOf": [{"properties": {"a": {"maximum": 3}}}],
            },
            {"a": 3},
        ),
        ({"allOf": [{"type": "integer", "minimum": 7}, {"maximum": 7, "minimum": 0}]}, 7),
        (
            {
                "allOf": [{"type": ["string", "integer"]}, {"type": ["integer", "null"]}],
                "minimum": 2,
                "maximum": 2,
            },
            2,
        ),
        ({"allOf": [{"enum": [1, 2, 3]}, {"enum": [3, 4]}]}, 3),
    ],
)
def test_rule_examples(schema: Any, expected: Any) -> None:
    for seed in range(5):
        got = make(schema, seed)
        assert got == expected
        assert type(got) is type(expected)
    if schema is not False:
        assert_valid(schema, expected)


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"$defs": {"n": {"const": 4}}, "$ref": "#/$defs/n"}, 4),
        ({"definitions": {"n": {"const": 4}}, "$ref": "#/definitions/n"}, 4),
        ({"$defs": {"a/b~c": {"const": 5}}, "$ref": "#/$defs/a~1b~0c"}, 5),
        ({"$defs": {"a b": {"const": 6}}, "$ref": "#/$defs/a%20b"}, 6),
        ({"$defs": {"x": {"$anchor": "here", "const": 7}}, "$ref": "#here"}, 7),
        ({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"const": 8}}, "$ref": "#/$defs/a"}, 8),
        (
            {
                "type": "object",
                "properties": {"p": {"$ref": "#/$defs/p"}, "q": {"$ref": "#/properties/p"}},
                "$defs": {"p": {"type": "integer", "minimum": 2, "maximum": 2}},
            },
            {"p": 2, "q": 2},
        ),
        # $ref siblings apply too (2020-12)
        (
            {"$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n", "minimum": 3, "maximum": 3},
            3,
        ),
    ],
)
def test_refs(schema: Any, expected: Any) -> None:
    assert make(schema) == expected
    assert_valid(schema, expected)


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        # no instance exists: the rules still give a defined, terminating answer
        ({"type": "string", "const": 7}, 7),  # const wins over type
        ({"type": "string", "format": "email", "maxLength": 4}, "user"),  # cut after the format
        ({"type": "string", "format": "date", "minLength": 8, "maxLength": 7}, "2026-01"),
        ({"type": "array", "items": {"const": 1}, "minItems": 5, "maxItems": 2}, [1, 1]),
        ({"type": "array", "prefixItems": [{"const": "a"}], "minItems": 3, "items": False}, ["a"]),
        ({"type": "integer", "minimum": 1, "maximum": 2, "multipleOf": 5}, 2),  # stays in range
        # remote or unknown references are not fetched: they accept anything
        (
            {"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}},
            {"a": "value"},
        ),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}, {"a": "value"}),
        # $ref cycles without structure (jsonschema itself recurses forever on these)
        ({"$ref": "#"}, {}),
        (
            {
                "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
                "$ref": "#/$defs/a",
            },
            {},
        ),
        (
            {"$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}], "const": 1}}, "$ref": "#/$defs/a"},
            1,
        ),
    ],
)
def test_best_effort_without_an_instance(schema: Any, expected: Any) -> None:
    assert make(schema) == expected


def test_older_drafts() -> None:
    # draft 4 boolean exclusive bounds and draft 7 tuple items
    schema: dict[str, Any] = {
        "type": "integer",
        "minimum": 1,
        "maximum": 3,
        "exclusiveMinimum": True,
        "exclusiveMaximum": True,
    }
    assert make(schema) == 2
    Draft4Validator(schema).validate(2)
    schema = {"type": "array", "items": [{"const": 1}, {"const": 2}], "minItems": 2}
    assert make(schema) == [1, 2]
    Draft7Validator(schema).validate([1, 2])


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


TREE = {
    "$defs": {
        "node": {
            "type": "object",
            "properties": {
                "label": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
            },
            "required": ["label"],
        }
    },
    "$ref": "#/$defs/node",
}
CHAIN = {  # every node needs a next: only the null branch ends it
    "$defs": {
        "chain": {
            "type": "object",
            "properties": {"next": {"anyOf": [{"$ref": "#/$defs/chain"}, {"type": "null"}]}},
            "required": ["next"],
        }
    },
    "$ref": "#/$defs/chain",
}
PAIR = {  # two recursive properties: both expand until the limit, then null ends them
    "type": ["object", "null"],
    "properties": {"left": {"$ref": "#"}, "right": {"$ref": "#"}},
    "required": ["left", "right"],
}
MUTUAL = {
    "$defs": {
        "a": {"type": "object", "properties": {"b": {"$ref": "#/$defs/b"}}, "required": ["b"]},
        "b": {"type": "array", "items": {"$ref": "#/$defs/a"}},
    },
    "$ref": "#/$defs/a",
}
ENDLESS = {  # a required self-reference has no finite instance; it still terminates
    "$defs": {
        "x": {"type": "object", "properties": {"x": {"$ref": "#/$defs/x"}}, "required": ["x"]}
    },
    "$ref": "#/$defs/x",
}


@pytest.mark.parametrize("schema", [TREE, CHAIN, PAIR, MUTUAL])
def test_recursive_refs_terminate_and_validate(schema: Any) -> None:
    instance = make(schema)
    assert 4 < depth(instance) < 40
    assert_valid(schema, instance)
    assert make(schema) == instance


def test_recursion_past_the_limit_is_minimal() -> None:
    instance = make(TREE)
    node = instance
    while node.get("children"):
        node = node["children"][0]
    assert node == {"label": node["label"]}  # required properties only, optional dropped
    chain = make(CHAIN)
    while chain["next"] is not None:
        chain = chain["next"]
    assert chain == {"next": None}


def size(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(size(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(size(v) for v in value)
    return 1


def test_wide_recursion_stays_bounded_and_valid() -> None:
    # five recursive properties would give 5^7 nodes; past the budget objects turn minimal
    schema = {
        "type": ["object", "null"],
        "properties": {name: {"$ref": "#"} for name in "abcde"},
        "required": ["a", "b"],
    }
    instance = make(schema)
    assert 1_000 < size(instance) < 6_000
    assert_valid(schema, instance)


def test_unsatisfiable_recursion_still_terminates() -> None:
    assert depth(make(ENDLESS)) < 40
    both = {
        "type": "object",
        "properties": {"l": {"$ref": "#"}, "r": {"$ref": "#"}},
        "required": ["l", "r"],
    }
    assert size(make(both)) < 20_000  # 2^30 nodes without the hard budget
    huge = {"type": "array", "items": {"type": "string", "minLength": 10**9}, "minItems": 10**9}
    strings = make(huge)
    assert len(strings) == 10_000
    assert 1_000_000 < sum(map(len, strings)) < 1_200_000
    deep: Any = {"const": 1}
    for _ in range(300):  # deeper than any real schema, shallower than the recursion limit
        deep = {"type": "object", "properties": {"a": deep}}
    assert depth(make(deep)) < 100


def test_enum_choice_is_seeded() -> None:
    schema = {"enum": ["red", "green", "blue", 4, None]}
    assert {json.dumps(v) for v in many(schema)} == {'"red"', '"green"', '"blue"', "4", "null"}
    assert many(schema) == many(schema)


def test_enum_members_of_the_declared_type() -> None:
    assert set(many({"type": "string", "enum": ["a", 1, "b", None]})) == {"a", "b"}


def test_date_time_follows_the_clock() -> None:
    later = NOW + 86400 * 45 + 3661.9  # fractions of a second are dropped
    schema = {"type": "string", "format": "date-time"}
    assert make(schema, now=later) == "2026-02-15T01:01:01Z"
    assert make({"type": "string", "format": "date"}, now=later) == "2026-02-15"
    assert make({"type": "string", "format": "time"}, now=later) == "01:01:01Z"
    assert make(schema, now=0) == "1970-01-01T00:00:00Z"
    assert make(schema, now=1e20) == "9999-12-31T23:59:59Z"


def test_uri_and_uuid_formats() -> None:
    for fmt in ("uri", "url"):
        values = many({"type": "string", "format": fmt})
        assert all(v.startswith("https://example.com/") for v in values)
        assert {v.rsplit("/", 1)[1] for v in values} <= set(WORDS)
    uuids = many({"type": "string", "format": "uuid"})
    assert len(set(uuids)) == len(uuids)
    assert all(uuid.UUID(v).version == 4 and str(uuid.UUID(v)) == v for v in uuids)


def test_plain_strings_are_one_to_four_words() -> None:
    values = many({"type": "string"}, 80)
    assert {len(v.split(" ")) for v in values} == {1, 2, 3, 4}
    assert all(set(v.split(" ")) <= set(WORDS) for v in values)
    padded = make({"type": "string", "minLength": 60, "pattern": "^[0-9]+$"})
    assert len(padded) == 60
    assert padded.endswith("x")  # pattern is not honoured
    assert padded.rstrip("x").split(" ")[0] in WORDS


@pytest.mark.parametrize(
    ("schema", "low", "high"),
    [
        ({"type": "integer"}, 0, 100),
        ({"type": "integer", "minimum": 50}, 50, 100),
        ({"type": "integer", "minimum": 500}, 500, 600),
        ({"type": "integer", "minimum": -50}, -50, 50),
        ({"type": "integer", "exclusiveMinimum": 100}, 101, 200),
        ({"type": "integer", "maximum": 30}, 0, 30),
        ({"type": "integer", "maximum": -3}, -103, -3),
        ({"type": "integer", "exclusiveMaximum": 0}, -100, -1),
        ({"type": "integer", "maximum": 250}, 150, 250),
        ({"type": "number", "minimum": 0.5, "exclusiveMaximum": 1}, 0.5, 0.99),
        ({"type": "number", "exclusiveMinimum": -1, "maximum": -0.5}, -0.99, -0.5),
        ({"minimum": 10, "maximum": 12}, 10, 12),  # no type: a number
    ],
)
def test_numeric_ranges(schema: dict[str, Any], low: float, high: float) -> None:
    values = many(schema)
    assert all(low <= v <= high for v in values)
    assert len(set(values)) > 3
    integer = schema.get("type") == "integer"
    assert all(type(v) is (int if integer else float) for v in values)
    assert all(round(v, 2) == v for v in values)  # at most two decimals


@pytest.mark.parametrize(
    ("schema", "allowed"),
    [
        ({"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 20}, {7, 14}),
        ({"type": "integer", "multipleOf": 2.5, "minimum": 0, "maximum": 12}, {0, 5, 10}),
        (
            {"type": "number", "multipleOf": 0.25, "minimum": 0, "maximum": 1},
            {0, 0.25, 0.5, 0.75, 1},
        ),
        (
            {"type": "number", "multipleOf": 5, "exclusiveMinimum": 0, "exclusiveMaximum": 15},
            {5, 10},
        ),
    ],
)
def test_multiple_of(schema: dict[str, Any], allowed: set[float]) -> None:
    values = set(many(schema))
    assert values <= allowed
    assert len(values) > 1


def test_multiple_of_float_as_jsonschema_checks_it() -> None:
    # 0.3 / 0.1 is 2.9999999999999996 in floats, so jsonschema rejects 0.3 as a multiple of
    # 0.1: every candidate is checked the way the validator does.
    assert set(many({"type": "number", "multipleOf": 0.1, "minimum": 0.3, "maximum": 0.4})) == {0.4}
    for schema in (
        {"type": "number", "multipleOf": 0.1},
        {"type": "number", "multipleOf": 0.001, "minimum": 0.001, "maximum": 0.009},
        {"type": "number", "multipleOf": 1e-7, "exclusiveMinimum": 0},
        {"type": "integer", "multipleOf": 0.1, "minimum": 1},
        {"type": "number", "multipleOf": 1 / 3, "maximum": 10},
    ):
        for value in many(schema, 20):
            assert_valid(schema, value)


def test_booleans_are_seeded() -> None:
    assert set(many({"type": "boolean"})) == {True, False}


def test_unique_items_are_distinct() -> None:
    values = make(
        {"type": "array", "items": {"type": "boolean"}, "minItems": 2, "uniqueItems": True}
    )
    assert sorted(values) == [False, True]
    # a third distinct boolean does not exist; minItems 1 allows stopping at two
    schema = {
        "type": "array",
        "items": {"type": "boolean"},
        "minItems": 1,
        "maxItems": 3,
        "uniqueItems": True,
    }
    assert len(make(schema)) == 1
    schema["minItems"] = 3
    assert len(make(schema)) == 3  # unsatisfiable: minItems wins over uniqueness
    schema = {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": 3},
        "minItems": 4,
        "uniqueItems": True,
    }
    assert sorted(make(schema)) == [0, 1, 2, 3]


def test_properties_keep_their_order_and_include_optional_ones() -> None:
    schema = {
        "type": "object",
        "properties": {"z": {"type": "integer"}, "a": {"type": "string"}, "m": {}},
        "required": ["m"],
    }
    assert list(make(schema)) == ["z", "a", "m"]


def test_same_seed_same_instance_and_seeds_differ() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "n": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "id": {"type": "string", "format": "uuid"},
        },
    }
    assert make(schema, 3) == make(schema, 3)
    assert len({json.dumps(make(schema, seed)) for seed in range(10)}) == 10


def test_golden_instance() -> None:
    # Pins the order in which the rng is consumed: changing it changes every API answer.
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"enum": ["c", "f"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 14},
            "temp": {"type": "number"},
            "ok": {"type": "boolean"},
            "when": {"type": "string", "format": "date"},
        },
        "required": ["city"],
    }
    assert make(schema, 7) == GOLDEN


GOLDEN = {
    "city": "cat gnu kiwi",
    "unit": "c",
    "days": 2,
    "temp": 87.79,
    "ok": False,
    "when": "2026-01-01",
}


# -- hypothesis: random schemas from the supported subset ----------------------------------------

NAMES = st.text(alphabet="abcdefgh_", min_size=1, max_size=5)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.text(max_size=5),
)
FORMAT_NAMES = ["date-time", "date", "time", "email", "uri", "url", "uuid"]
MULTIPLES: tuple[float, ...] = (1, 2, 3, 7, 25, 0.5, 0.25, 0.1, 0.2, 0.3, 0.01, 0.05, 2.5, 0.001)


# Strategies built once: constructing one costs more than drawing from it.
FORMAT_CHOICE = st.sampled_from([None, None, *FORMAT_NAMES])
LENGTHS = st.none() | st.integers(0, 30)
MULTIPLE_CHOICE = st.none() | st.sampled_from(MULTIPLES)
SCALES = st.sampled_from([1, 1, 1000])
WITNESSES = st.integers(-200, 200)
FRACTIONS = st.sampled_from([0, 0.5, 0.125, 0.333])
GAPS = st.sampled_from([0, 0, 0.5, 1, 3, 10, 250])
OPEN_GAPS = st.sampled_from([0.5, 1, 3, 10, 250])
BOUND_KINDS = st.sampled_from(["none", "inclusive", "exclusive", "both"])


@st.composite
def strings(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    fmt = draw(FORMAT_CHOICE)
    if fmt is not None:
        schema["format"] = fmt  # a format fixes the text; length bounds would break it
        return schema
    low = draw(LENGTHS)
    if low is not None:
        schema["minLength"] = low
    high = draw(LENGTHS)
    if high is not None:
        schema["maxLength"] = max(high, low or 0)
    return schema


MULTIPLE_OF = {m: Draft202012Validator({"multipleOf": m}) for m in MULTIPLES}


def _multiple_ok(value: float, multiple: float) -> bool:
    return MULTIPLE_OF[multiple].is_valid(value)


@st.composite
def numbers(draw: st.DrawFn, integer: bool | None = None) -> dict[str, Any]:
    """Bounds drawn around a witness value, so every schema has an instance."""
    if integer is None:
        integer = draw(st.booleans())
    schema: dict[str, Any] = {"type": "integer" if integer else "number"}
    multiple = draw(MULTIPLE_CHOICE)
    scale = draw(SCALES)
    if multiple is None:
        witness: float = draw(WITNESSES) * scale
        if not integer:
            witness += draw(FRACTIONS)
    else:
        schema["multipleOf"] = multiple
        witness = draw(WITNESSES) * scale * multiple
        if integer and float(witness).is_integer():
            witness = int(witness)
        if (integer and not isinstance(witness, int)) or not _multiple_ok(witness, multiple):
            witness = 0  # always a multiple
    for inclusive, exclusive, sign in (
        ("minimum", "exclusiveMinimum", -1),
        ("maximum", "exclusiveMaximum", 1),
    ):
        kind = draw(BOUND_KINDS)
        if kind in ("inclusive", "both"):
            schema[inclusive] = witness + sign * draw(GAPS)
        if kind in ("exclusive", "both"):
            schema[exclusive] = witness + sign * draw(OPEN_GAPS)
    return schema


LEAVES = st.one_of(
    st.just({}),
    st.just(True),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.builds(lambda v: {"const": v}, SCALARS),
    st.lists(SCALARS, min_size=1, max_size=5).map(lambda vs: {"enum": vs}),
    strings(),
    numbers(),
)
WIDE_ITEMS = st.sampled_from(
    [
        {"type": "string"},
        {"type": "string", "format": "uuid"},
        {"type": "integer", "minimum": 0, "maximum": 10**6},
        {"type": "number"},
    ]
)


def objects(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        props = draw(st.dictionaries(NAMES, children, max_size=4))
        schema: dict[str, Any] = {"properties": props}
        if not props or draw(st.booleans()):
            schema["type"] = "object"
        required = [name for name in props if draw(st.booleans())]
        extra = draw(st.sampled_from(("absent", "false", "schema")))
        if extra == "false":
            schema["additionalProperties"] = False
        elif extra == "schema":
            schema["additionalProperties"] = draw(children)
        if extra != "false" and draw(st.booleans()):
            required.append("zz_missing")  # required but not in properties
        if required:
            schema["required"] = required
        room = len(props) if extra == "false" else len(props) + 3
        low = draw(st.integers(0, room))
        if low:
            schema["minProperties"] = low
        if draw(st.booleans()):
            schema["maxProperties"] = draw(st.integers(max(low, len(required)), room + 1))
        return schema

    return build()


def arrays(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array"} if draw(st.booleans()) else {}
        shape = draw(st.sampled_from(("items", "prefix", "unique")))
        low = draw(st.integers(0, 3))
        if shape == "prefix":
            schema["prefixItems"] = draw(st.lists(children, min_size=1, max_size=3))
            closed = draw(st.booleans())
            schema["items"] = False if closed else draw(children)
            if closed:
                low = min(low, len(schema["prefixItems"]))
        elif shape == "unique":
            schema["items"] = draw(WIDE_ITEMS)
            schema["uniqueItems"] = True
        else:
            schema["items"] = draw(children)
            if low <= 1 and draw(st.booleans()):
                schema["uniqueItems"] = True  # one item is always unique
        if low:
            schema["minItems"] = low
        if draw(st.booleans()):
            schema["maxItems"] = draw(st.integers(low, 4))
        return schema

    return build()


@st.composite
def one_of_types(draw: st.DrawFn, children: st.SearchStrategy[Any]) -> dict[str, Any]:
    # oneOf needs branches that exclude each other: one per JSON type (integer, not number).
    kinds = draw(
        st.lists(
            st.sampled_from(["string", "integer", "boolean", "null", "object", "array"]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    branches = []
    for kind in kinds:
        if kind == "string":
            branches.append(draw(strings()))
        elif kind == "integer":
            branches.append(draw(numbers(integer=True)))
        elif kind == "object":
            branches.append(
                {"type": "object", "properties": draw(st.dictionaries(NAMES, children, max_size=2))}
            )
        elif kind == "array":
            branches.append({"type": "array", "items": draw(children)})
        else:
            branches.append({"type": kind})
    return {"oneOf": branches}


@st.composite
def all_of_objects(draw: st.DrawFn, children: st.SearchStrategy[Any]) -> dict[str, Any]:
    # Disjoint property names and no additionalProperties: false, so the parts can agree.
    parts = []
    for index in range(draw(st.integers(1, 3))):
        props = draw(
            st.dictionaries(NAMES.map(lambda n, i=index: f"p{i}{n}"), children, max_size=3)
        )
        part: dict[str, Any] = {"properties": props}
        if draw(st.booleans()):
            part["type"] = "object"
        if props:
            part["required"] = [name for name in props if draw(st.booleans())]
        parts.append(part)
    schema: dict[str, Any] = {"allOf": parts}
    if draw(st.booleans()):
        schema["type"] = "object"
    return schema


@st.composite
def nullable(draw: st.DrawFn, children: st.SearchStrategy[Any]) -> Any:
    child = draw(children)
    if isinstance(child, dict) and child.get("type") == "null":
        return child
    if isinstance(child, dict) and isinstance(child.get("type"), str):
        types = [child["type"], "null"]
        return {**child, "type": types[::-1] if draw(st.booleans()) else types}
    branches = [child, {"type": "null"}]
    return {"anyOf": branches[::-1] if draw(st.booleans()) else branches}


def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        objects(children),
        arrays(children),
        st.lists(children, min_size=1, max_size=3).map(lambda bs: {"anyOf": bs}),
        one_of_types(children),
        all_of_objects(children),
        nullable(children),
    )


DEF_NAMES = ("d_a", "d_b", "node", "chain", "pair", "even", "odd")


def recursive_defs(key: str) -> dict[str, Any]:
    ref = f"#/{key}/"
    return {
        "node": {
            "type": "object",
            "properties": {
                "label": {"type": "string"},
                "kids": {"type": "array", "items": {"$ref": ref + "node"}},
            },
            "required": ["label"],
        },
        "chain": {
            "type": "object",
            "properties": {"next": {"anyOf": [{"$ref": ref + "chain"}, {"type": "null"}]}},
            "required": ["next"],
        },
        "pair": {
            "type": ["object", "null"],
            "required": ["l", "r"],
            "properties": {"l": {"$ref": ref + "pair"}, "r": {"$ref": ref + "pair"}},
        },
        "even": {"type": "array", "items": {"$ref": ref + "odd"}, "maxItems": 2},
        "odd": {"type": "object", "properties": {"e": {"$ref": ref + "even"}}},
    }


DEF_KEYS = ("$defs", "definitions")
PLAIN = st.recursive(LEAVES, extend, max_leaves=5)
# Built once: hypothesis strategies are costly to construct, cheap to draw from.
MAIN = {
    key: st.recursive(
        LEAVES | st.sampled_from([{"$ref": f"#/{key}/{name}"} for name in DEF_NAMES]),
        extend,
        max_leaves=10,
    )
    for key in DEF_KEYS
}


@st.composite
def schemas(draw: st.DrawFn) -> Any:
    key = draw(st.sampled_from(DEF_KEYS))
    main = draw(MAIN[key])
    if not isinstance(main, dict):
        return main
    defs = {name: draw(PLAIN) for name in DEF_NAMES if name.startswith("d_")}
    return {**main, key: {**defs, **recursive_defs(key)}}


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(schema=schemas(), seed=st.integers(0, 2**32 - 1))
def test_instances_validate(schema: Any, seed: int) -> None:
    instance = make(schema, seed)
    text = json.dumps(instance, allow_nan=False)
    assert json.dumps(make(schema, seed), allow_nan=False) == text  # same seed, same bytes
    assert_valid(schema, instance)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=schemas())
def test_the_strategy_builds_valid_schemas(schema: Any) -> None:
    # Checked apart, on fewer examples: the metaschema check costs more than all the rest.
    Draft202012Validator.check_schema(schema)
