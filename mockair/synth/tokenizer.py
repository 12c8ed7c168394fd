"""The one offline tokenizer (CONTRACT §2.7.1): every count and every streamed delta."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

TOKEN = re.compile(r"\s*[^\W\d_]{1,8}|\s*\d{1,3}|\s*[^\w\s]|\s*_|\s+")


@functools.lru_cache(maxsize=4096)
def _tokenize_cached(text: str) -> tuple[str, ...]:
    return tuple(TOKEN.findall(text))


def tokenize(text: str) -> list[str]:
    """The pieces of ``text``; joined, they give ``text`` back exactly."""
    if len(text) <= 2048:
        return list(_tokenize_cached(text))
    return TOKEN.findall(text)


def count(text: str) -> int:
    if not text:
        return 0
    return len(_tokenize_cached(text)) if len(text) <= 2048 else len(TOKEN.findall(text))


def compact_json(value: Any, *, sort_keys: bool = False) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)


def count_json(value: Any) -> int:
    """Tokens of a value as one compact, key-sorted JSON text (tool definitions)."""
    return count(compact_json(value, sort_keys=True))
