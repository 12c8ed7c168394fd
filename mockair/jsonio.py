"""Compact JSON in and out (CONTRACT §2.4): separators without spaces, UTF-8, keys in order."""

from __future__ import annotations

import json
from typing import Any

import orjson

# orjson reads integers past 64 bits as floats; the standard library keeps them exact. A body
# may hold one where it has a run of 19 digits. The run is found by mapping every digit to "0"
# and everything else to a space, then searching for 19 zeros: two C passes. The regex
# ``\d{19}``, which tries a match at every digit, took about 8,000 instructions for a 70-byte
# chat body (callgrind), 3% of the whole request.
_DIGITS_ONLY = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_NINETEEN_DIGITS = b"0" * 19


def has_long_digit_run(raw: bytes) -> bool:
    """True when ``raw`` holds 19 ASCII digits in a row (an integer orjson may not keep)."""
    return len(raw) >= 19 and _NINETEEN_DIGITS in raw.translate(_DIGITS_ONLY)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON bytes, non-ASCII not escaped, dict order kept."""
    try:
        out = orjson.dumps(value)
    except TypeError:
        # orjson refuses integers beyond 64 bits: write those as pre-serialised fragments.
        out = orjson.dumps(_big_ints(value))
    # orjson's bytes keep the whole growth buffer they were written into (about 16 times
    # their length, measured with tracemalloc on orjson 3.13); bodies that live on in the
    # journal or the caches would hold all of it, so they are copied to their exact size.
    return bytes(memoryview(out))


def _big_ints(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return orjson.Fragment(str(value).encode()) if abs(value) >= 2**63 else value
    if isinstance(value, dict):
        return {key: _big_ints(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_big_ints(item) for item in value]
    return value


def dumps_str(value: Any) -> str:
    return dumps(value).decode()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(data: bytes | str) -> Any:
    """Parse JSON; raises ``ValueError`` for anything that is not strict JSON."""
    raw = data.encode() if isinstance(data, str) else data
    if not has_long_digit_run(raw):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    # orjson refuses very large integers and deep nesting; the standard library decides which
    # of those are still JSON (RecursionError is the deep-nesting case).
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, RecursionError, json.JSONDecodeError) as exc:
        raise ValueError(str(exc)) from None


MAX_DEPTH = 128  # no API body nests this deep; deeper ones would exhaust recursive code


def depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, dict):
            stack.extend((child, level + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, level + 1) for child in node)
    return deepest
