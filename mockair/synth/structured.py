"""Deterministic JSON Schema instances (CONTRACT §2.11.4): structured answers and tool arguments.

Every random choice comes from the caller's ``rng`` and the clock from ``now``, so the same
schema, rng state, clock and vocabulary give the same instance. The rules aim at instances that
validate (Draft 2020-12 semantics, as the ``jsonschema`` package implements them) for the usual
subset of schemas: local ``$ref``, ``allOf``/``anyOf``/``oneOf``, ``const``/``enum``, the
types and their bounds. Keywords outside that subset (``not``, ``if``/``then``/``else``,
``patternProperties``, ``dependent*``, ``pattern``, ``propertyNames``, ``minContains``) are
ignored, so an instance may fail them.
"""

from __future__ import annotations

import copy
import math
import random
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from urllib.parse import unquote

__all__ = ["schema_instance"]

# A recursive $ref re-entered more than this often (along one path) switches to minimal
# instances: required properties only, minItems items, a null branch or type when one exists.
MAX_REF_DEPTH = 6
# Past this many re-entries even minimal instances stop recursing: schemas that only recurse
# (a $ref loop, a required self-reference) have no finite instance, so a trivial value ends it.
HARD_REF_DEPTH = MAX_REF_DEPTH + 24
# Schema nesting that deep is not a real schema; stopping keeps clear of Python's recursion limit.
MAX_NESTING = 64
# Values generated per instance before objects and arrays turn minimal, and before they stop:
# several recursive properties (or minItems) grow a tree exponentially in the ref depth.
SOFT_BUDGET = 1_000
HARD_BUDGET = 5_000
# minItems / minProperties beyond this, and minLength padding beyond MAX_PADDING characters in
# all, are not honoured: an answer must fit in memory.
MAX_ITEMS = 10_000
MAX_PADDING = 1_000_000
# How many candidate multiples (numbers) or regenerated items (uniqueItems) are tried.
SCAN = 64

# Keywords that never constrain an instance: a schema made of these only is the {} schema.
_ANNOTATIONS = frozenset(
    {
        "$schema", "$id", "$anchor", "$dynamicAnchor", "$comment", "$defs", "definitions",
        "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly",
        "nullable",
    }
)  # fmt: skip
_OBJECT_KEYS = ("properties", "required", "additionalProperties", "minProperties", "maxProperties")
_ARRAY_KEYS = ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains")
_STRING_KEYS = ("minLength", "maxLength", "format", "pattern")
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
# When allOf parts both bound the same keyword, the tighter bound is kept (not "last wins"):
# an instance of the merged schema must satisfy every part.
_TIGHTEST: dict[str, Callable[[Any, Any], Any]] = {
    **dict.fromkeys(("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"), max),
    **dict.fromkeys(("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"), min),
}  # fmt: skip


def schema_instance(schema: Any, rng: random.Random, *, now: float, words: Sequence[str]) -> Any:
    """A JSON-serialisable instance of ``schema`` (CONTRACT §2.11.4).

    ``schema`` is the root used for local ``$ref``; ``now`` (unix seconds) feeds the date and
    time formats; ``words`` is the non-empty vocabulary of generated strings. The ``false``
    schema, which nothing satisfies, gives ``None``.
    """
    return _Generator(schema, rng, now, words).instance(schema, nested=False)


def _number(value: Any) -> Fraction | None:
    """A finite JSON number as an exact Fraction; booleans and anything else are no number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return Fraction(value)


def _is_empty(schema: Any) -> bool:
    """True for schemas every instance satisfies: ``true``, ``{}``, annotations only."""
    return schema is True or (isinstance(schema, dict) and all(k in _ANNOTATIONS for k in schema))


def _is_null(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    return (
        schema.get("type") in ("null", ["null"])
        or schema.get("enum") == [None]
        or ("const" in schema and schema["const"] is None)
    )


def _has_type(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name in ("integer", "number") and not isinstance(value, bool):
        if isinstance(value, int):
            return True
        return isinstance(value, float) and (name == "number" or value.is_integer())
    python = {"string": str, "array": list, "object": dict}.get(name)
    return python is not None and isinstance(value, python)


def _unique_key(value: Any) -> Any:
    """A hashable key equal exactly when JSON Schema calls two values equal (1 == 1.0 != true)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", Fraction(value) if math.isfinite(value) else value)
    if isinstance(value, list):
        return ("array", tuple(_unique_key(v) for v in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, _unique_key(v)) for k, v in value.items()))
    return ("other", repr(value))


def _merge(a: Any, b: Any) -> Any:
    """Two flattened schemas (no $ref/allOf/anyOf/oneOf) as one: the allOf of both."""
    if a is False or b is False:
        return False
    if not isinstance(a, dict):
        return b if isinstance(b, dict) else {}
    if not isinstance(b, dict):
        return a
    out = dict(a)
    for key, value in b.items():
        old = out.get(key)
        if key not in out:
            out[key] = value
        elif key == "properties" and isinstance(old, dict) and isinstance(value, dict):
            props = dict(old)
            for name, sub in value.items():
                # Left unflattened: it is flattened, with $ref tracking, when it is generated.
                props[name] = {"allOf": [props[name], sub]} if name in props else sub
            out[key] = props
        elif key == "required" and isinstance(old, list) and isinstance(value, list):
            out[key] = [*old, *(name for name in value if name not in old)]
        elif key in _TIGHTEST and _number(old) is not None and _number(value) is not None:
            out[key] = _TIGHTEST[key](old, value)
        elif key in ("items", "additionalProperties", "contains"):
            out[key] = _merge_subschemas(old, value)
        elif key == "type":
            out[key] = _merge_types(old, value)
        elif key == "enum" and isinstance(old, list) and isinstance(value, list):
            keys = {_unique_key(v) for v in value}
            both = [v for v in old if _unique_key(v) in keys]
            out[key] = both or value
        else:
            out[key] = value  # other keywords: the last schema wins (CONTRACT §2.11.4 allOf)
    return out


def _merge_subschemas(a: Any, b: Any) -> Any:
    if a is False or b is False:
        return False
    if a is True or not isinstance(a, dict):
        return b
    if b is True or not isinstance(b, dict):
        return a
    return {"allOf": [a, b]}


def _merge_types(a: Any, b: Any) -> Any:
    """The types both allow (an integer is a number); the last one when they share none."""
    first = [a] if isinstance(a, str) else a if isinstance(a, list) else []
    second = [b] if isinstance(b, str) else b if isinstance(b, list) else []
    both: list[str] = []
    for name in first:
        if name in second or (name == "integer" and "number" in second):
            both.append(name)
        elif name == "number" and "integer" in second:
            both.append("integer")
    both = list(dict.fromkeys(both))
    if not both:
        return b
    return both[0] if len(both) == 1 else both


class _Generator:
    def __init__(self, root: Any, rng: random.Random, now: float, words: Sequence[str]) -> None:
        self.root = root
        self.rng = rng
        self.now = now
        self.words = words or ("value",)
        self.stack: list[str] = []  # the $refs being expanded along the current path
        self.reentries = 0  # how many of them re-enter a $ref already on the path
        self.nesting = 0
        self.generated = 0  # values generated so far (the budgets)
        self.padding = MAX_PADDING  # "x" characters minLength may still add
        self._anchors: dict[str, Any] | None = None

    @property
    def minimal(self) -> bool:
        return self.reentries > MAX_REF_DEPTH or self.generated > SOFT_BUDGET

    @property
    def exhausted(self) -> bool:
        return (
            self.reentries > HARD_REF_DEPTH
            or self.generated > HARD_BUDGET
            or self.nesting > MAX_NESTING
        )

    # -- $ref and combinators ------------------------------------------------------------

    def _resolve(self, ref: Any) -> Any:
        """The target of a local ``#...`` reference (JSON pointer or $anchor); else ``{}``."""
        if not isinstance(ref, str) or not ref.startswith("#"):
            return {}  # remote references are not fetched: the target accepts anything
        fragment = unquote(ref[1:])
        if fragment and not fragment.startswith("/"):
            return self._anchor_index().get(fragment, {})
        node = self.root
        for token in fragment.split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return {}
        return node

    def _anchor_index(self) -> dict[str, Any]:
        if self._anchors is None:
            self._anchors = {}
            todo = [self.root]
            while todo:
                node = todo.pop()
                if isinstance(node, dict):
                    anchor = node.get("$anchor")
                    if isinstance(anchor, str):
                        self._anchors.setdefault(anchor, node)
                    todo.extend(node.values())
                elif isinstance(node, list):
                    todo.extend(node)
        return self._anchors

    def _flatten(self, schema: Any, pushed: list[bool], depth: int = 0) -> Any:
        """``schema`` without $ref/allOf/anyOf/oneOf: targets resolved, parts merged, one branch
        chosen. Each $ref expanded is pushed on ``self.stack`` (and noted in ``pushed``) so the
        caller can pop it once the instance below it is built."""
        if isinstance(schema, bool):
            return schema
        if not isinstance(schema, dict) or depth > MAX_NESTING:
            return {}
        rest = {k: v for k, v in schema.items() if k not in ("$ref", "allOf", "anyOf", "oneOf")}
        flat: Any = rest
        if "$ref" in schema:
            ref = str(schema["$ref"])
            again = ref in self.stack
            self.stack.append(ref)
            self.reentries += again
            pushed.append(again)
            if self.exhausted:
                return {}
            flat = _merge(self._flatten(self._resolve(ref), pushed, depth + 1), flat)
        parts = schema.get("allOf")
        if isinstance(parts, list):
            for part in parts:
                flat = _merge(flat, self._flatten(part, pushed, depth + 1))
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                branch = self._branch([b for b in branches if b is not False] or branches)
                flat = _merge(flat, self._flatten(branch, pushed, depth + 1))
        return flat

    def _branch(self, branches: list[Any]) -> Any:
        # The contract says "first branch"; we take the first branch that is not the null
        # schema when there is one, so Optional[X] (anyOf [null, X]) yields an X, not null.
        # Past the recursion limit we prefer null, then a branch that does not re-enter a
        # $ref on the path, so a recursive schema still ends in a valid instance.
        if self.minimal:
            for branch in branches:
                if _is_null(branch):
                    return branch
            for branch in branches:
                if not (isinstance(branch, dict) and branch.get("$ref") in self.stack):
                    return branch
        return next((b for b in branches if not _is_null(b)), branches[0])

    # -- dispatch --------------------------------------------------------------------------

    def instance(self, schema: Any, *, nested: bool) -> Any:
        pushed: list[bool] = []
        self.nesting += 1
        self.generated += 1
        try:
            flat = self._flatten(schema, pushed)
            return self._generate(flat, nested)
        finally:
            self.nesting -= 1
            for again in pushed:
                self.stack.pop()
                self.reentries -= again

    def _generate(self, flat: Any, nested: bool) -> Any:
        if flat is False:
            return None  # nothing validates against false; null is the least wrong answer
        if _is_empty(flat):
            return "value" if nested else {}
        if "const" in flat:
            return copy.deepcopy(flat["const"])
        kind = self._type(flat)
        enum = flat.get("enum")
        if isinstance(enum, list) and enum:
            typed = [v for v in enum if kind is None or _has_type(v, kind)]
            return copy.deepcopy(self.rng.choice(typed or enum))
        if kind == "object":
            return {} if self.exhausted else self._object(flat)
        if kind == "array":
            return [] if self.exhausted else self._array(flat)
        if kind == "string":
            return self._string(flat)
        if kind in ("integer", "number"):
            return self._numeric(flat, integer=kind == "integer")
        if kind == "boolean":
            return self.rng.getrandbits(1) == 1
        if kind == "null":
            return None
        return "value" if nested else {}

    def _type(self, flat: dict[str, Any]) -> str | None:
        declared = flat.get("type")
        names = [declared] if isinstance(declared, str) else declared
        if isinstance(names, list):
            known = [n for n in names if n in _TYPES]
            if known:
                if self.minimal and "null" in known:
                    return "null"
                return next((n for n in known if n != "null"), "null")
        # No (usable) type: the keywords present say what the schema describes.
        for kind, keys in (
            ("object", _OBJECT_KEYS),
            ("array", _ARRAY_KEYS),
            ("string", _STRING_KEYS),
            ("number", _NUMBER_KEYS),
        ):
            if any(k in flat for k in keys):
                return kind
        return None

    # -- objects and arrays ------------------------------------------------------------------

    def _object(self, flat: dict[str, Any]) -> dict[str, Any]:
        props = flat.get("properties")
        props = props if isinstance(props, dict) else {}
        required = flat.get("required")
        required = [r for r in required if isinstance(r, str)] if isinstance(required, list) else []
        extra = flat.get("additionalProperties")
        min_props = min(_size(flat.get("minProperties")) or 0, MAX_ITEMS)
        max_props = _size(flat.get("maxProperties"))

        names = [n for n in props if props[n] is not False]
        if self.minimal:
            chosen = [n for n in names if n in required]
            optional = [n for n in names if n not in required]
            chosen += optional[: max(0, min_props - len(chosen))]
            names = [n for n in names if n in chosen]  # keep the properties order
        out: dict[str, Any] = {name: self.instance(props[name], nested=True) for name in names}
        for name in required:
            if name not in out:
                out[name] = self._extra_value(extra)
        counter = 0
        while len(out) < min_props and extra is not False:
            counter += 1
            if f"field{counter}" not in out:
                out[f"field{counter}"] = self._extra_value(extra)
        if max_props is not None:
            for name in reversed([n for n in out if n not in required]):
                if len(out) <= max_props:
                    break
                del out[name]
        return out

    def _extra_value(self, extra: Any) -> Any:
        return self.instance(extra, nested=True) if isinstance(extra, dict) else "value"

    def _array(self, flat: dict[str, Any]) -> list[Any]:
        prefix = flat.get("prefixItems")
        items = flat.get("items", {})
        if isinstance(items, list):  # draft 2019 and older: items as a tuple
            prefix, items = items, flat.get("additionalItems", {})
        prefix = prefix if isinstance(prefix, list) else []
        min_items = min(_size(flat.get("minItems")) or 0, MAX_ITEMS)
        max_items = _size(flat.get("maxItems"))
        contains = flat.get("contains")

        size = min_items if self.minimal else max(min_items, 1)
        if isinstance(contains, dict):
            size = max(size, 1)  # contains needs one matching item
        if items is False:
            size = min(size, len(prefix))
        if max_items is not None:
            size = min(size, max_items)
        unique = flat.get("uniqueItems") is True

        out: list[Any] = []
        seen: set[Any] = set()
        for index in range(size):
            item = prefix[index] if index < len(prefix) else items
            if index == 0 and isinstance(contains, dict):
                item = {"allOf": [item, contains]}
            value = self.instance(item, nested=True)
            if unique:
                tries = 0
                while _unique_key(value) in seen and tries < SCAN:
                    tries += 1
                    value = (
                        f"value{index + 1}"  # "value" every time otherwise
                        if _is_empty(item)
                        else self.instance(item, nested=True)
                    )
                if _unique_key(value) in seen and index >= min_items:
                    break  # a shorter array beats a duplicate when minItems allows it
                seen.add(_unique_key(value))
            out.append(value)
        return out

    # -- scalars ---------------------------------------------------------------------------

    def _string(self, flat: dict[str, Any]) -> str:
        fmt = flat.get("format")
        if fmt in ("date-time", "date", "time"):
            moment = _utc(self.now)
            day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            clock = f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
            text = {"date-time": f"{day}T{clock}", "date": day, "time": clock}[fmt]
        elif fmt == "email":
            text = "user@example.com"
        elif fmt in ("uri", "url"):
            text = f"https://example.com/{self.rng.choice(self.words)}"
        elif fmt == "uuid":
            text = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        else:
            count = self.rng.randint(1, 4)
            text = " ".join(self.rng.choice(self.words) for _ in range(count))
        min_len = min(_size(flat.get("minLength")) or 0, len(text) + self.padding)
        max_len = _size(flat.get("maxLength"))
        self.padding -= max(0, min_len - len(text))
        text = text.ljust(min_len, "x")
        return text if max_len is None else text[:max_len]

    def _numeric(self, flat: dict[str, Any], *, integer: bool) -> int | float:
        lo, lo_open = _bound(flat, "minimum", "exclusiveMinimum", lower=True)
        hi, hi_open = _bound(flat, "maximum", "exclusiveMaximum", lower=False)
        hard_lo, hard_hi = lo, hi
        # Missing bounds (CONTRACT §2.11.4): 0 / 100, or the other bound -/+ 100 when that one
        # lies outside 0-100. "Outside" includes an exclusive bound at 0 or 100 itself, since
        # the default would otherwise leave no room at all.
        if lo is None:
            inside = hi is None or ((hi > 0 or (hi == 0 and not hi_open)) and hi <= 100)
            lo = Fraction(0) if inside or hi is None else hi - 100
        if hi is None:
            inside = hard_lo is None or ((lo < 100 or (lo == 100 and not lo_open)) and lo >= 0)
            hi = Fraction(100) if inside else lo + 100
        multiple = flat.get("multipleOf")
        step = _number(multiple)
        if step is None or step <= 0:
            multiple, step = None, None
        elif isinstance(multiple, float):
            step = Fraction(repr(multiple))  # the decimal the author wrote, not the binary float

        def valid(value: int | float, *, defaults: bool = True, multiple_too: bool = True) -> bool:
            # ``defaults``: also the defaulted bounds (inclusive); past them multipleOf may lead.
            low, high = (lo, hi) if defaults else (hard_lo, hard_hi)
            if low is not None and (value < low or (lo_open and value == low)):
                return False
            if high is not None and (value > high or (hi_open and value == high)):
                return False
            return multiple is None or not multiple_too or _is_multiple(value, multiple)

        if integer:
            grids = [_lcm(step, Fraction(1)) if step else Fraction(1)]
        else:
            # Two decimals at most (CONTRACT), unless only other multiples of multipleOf fit:
            # an instance that validates matters more than a short number.
            cent = Fraction(1, 100)
            grids = [_lcm(step, cent), step] if step else [cent]
        # Inside the (defaulted) range first, from a seeded start outwards. The grid is exact
        # but validation compares floats, so the range is widened by one step each side and
        # every candidate is checked (a float multipleOf also fails some exact multiples).
        for grid in grids:
            k_lo, k_hi = _ceil_div(lo, grid, lo_open), _floor_div(hi, grid, hi_open)
            if k_lo - 1 <= k_hi + 1:
                start = self.rng.randint(*((k_lo, k_hi) if k_lo <= k_hi else (k_lo - 1, k_hi + 1)))
                for k in _outward(start, k_lo - 1, k_hi + 1):
                    if valid(value := _as_number(k * grid, integer)):
                        return value
        # Then past a defaulted bound, nearest to the schema's bound first: the missing bound
        # is our choice, the schema's multipleOf is not.
        for grid in grids if hard_lo is None or hard_hi is None else []:
            if hard_hi is None:
                first = _ceil_div(lo, grid, lo_open) - 1
                ks = range(first, first + SCAN)
            else:
                first = _floor_div(hi, grid, hi_open) + 1
                ks = range(first, first - SCAN, -1)
            for k in ks:
                if valid(value := _as_number(k * grid, integer), defaults=False):
                    return value
        middle = _as_number((lo + hi) / 2, integer)
        if valid(middle):
            return middle  # e.g. a range too narrow for two decimals
        # No multiple of multipleOf validates within the bounds, so no instance exists; a value
        # inside the bounds is the closest we get.
        return middle if valid(middle, multiple_too=False) else _as_number(lo, integer)


def _size(value: Any) -> int | None:
    """A non-negative integer keyword (minItems, maxLength, ...), or None."""
    number = _number(value)
    if number is None or number < 0 or number.denominator != 1:
        return None
    return int(number)


def _bound(
    flat: dict[str, Any], inclusive: str, exclusive: str, *, lower: bool
) -> tuple[Fraction | None, bool]:
    """The tighter of the inclusive and exclusive bound on one side, and whether it is open."""
    bound = _number(flat.get(inclusive))
    raw = flat.get(exclusive)
    if isinstance(raw, bool):  # draft 4: a flag that makes minimum/maximum exclusive
        return bound, raw and bound is not None
    strict = _number(raw)
    if strict is None:
        return bound, False
    if bound is None or (strict >= bound if lower else strict <= bound):
        return strict, True
    return bound, False


def _lcm(a: Fraction, b: Fraction) -> Fraction:
    return Fraction(math.lcm(a.numerator, b.numerator), math.gcd(a.denominator, b.denominator))


def _ceil_div(bound: Fraction, step: Fraction, open_: bool) -> int:
    k = math.ceil(bound / step)
    return k + 1 if open_ and k * step == bound else k


def _floor_div(bound: Fraction, step: Fraction, open_: bool) -> int:
    k = math.floor(bound / step)
    return k - 1 if open_ and k * step == bound else k


def _outward(start: int, low: int, high: int) -> list[int]:
    """Up to SCAN indices in [low, high], nearest to ``start`` first (start, +1, -1, +2, ...)."""
    ks = [start]
    for d in range(1, SCAN):
        ks += [start + d, start - d]
    return [k for k in ks if low <= k <= high][:SCAN]


def _as_number(value: Fraction, integer: bool) -> int | float:
    if integer:
        return math.ceil(value)
    try:
        return float(value)
    except OverflowError:  # a bound beyond float range (big JSON integers): keep it exact
        return round(value)


def _is_multiple(value: int | float, multiple: int | float) -> bool:
    """``multipleOf`` exactly as jsonschema checks it (float division for float divisors)."""
    if isinstance(multiple, float):
        try:
            quotient = value / multiple
            return int(quotient) == quotient
        except (OverflowError, ValueError):
            return (Fraction(value) / Fraction(multiple)).denominator == 1
    return value % multiple == 0


def _utc(now: float) -> datetime:
    """The clock as a UTC datetime, floored to the second and clamped to years 1-9999."""
    seconds = math.floor(now) if math.isfinite(now) else 0
    seconds = min(max(seconds, -62135596800), 253402300799)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
