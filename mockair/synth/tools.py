"""Which tools a reply calls (CONTRACT §2.11.3). Arguments come from ``structured``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class ToolDef:
    name: str
    description: str
    schema: Any  # the JSON Schema of the arguments / input (None = none given)


@dataclass(frozen=True)
class ToolChoice:
    mode: Literal["auto", "none", "required", "named"]
    name: str | None = None


AUTO = ToolChoice("auto")


def _words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def _tool_words(tool: ToolDef) -> set[str]:
    return _words(re.sub(r"[_\-.]", " ", tool.name) + " " + tool.description)


def plan_tool_calls(
    tools: Sequence[ToolDef],
    choice: ToolChoice,
    *,
    last_user_text: str,
    last_is_user: bool,
    last_is_tool_result: bool,
    parallel: bool,
    max_calls: int | None = None,
) -> list[ToolDef]:
    """The tools the reply calls, in order; empty = a text reply."""
    if not tools or choice.mode == "none" or last_is_tool_result:
        return []
    if choice.mode == "named":
        named = [t for t in tools if t.name == choice.name]
        return named[:1]
    if choice.mode == "auto" and not last_is_user:
        return []
    asked = _words(last_user_text)
    scores = [len(asked & _tool_words(tool)) for tool in tools]
    best = max(range(len(tools)), key=lambda i: (scores[i], -i))
    if parallel:
        chosen = [tool for tool, score in zip(tools, scores, strict=True) if score >= 1]
        calls = chosen or [tools[best]]
        return calls[:max_calls] if max_calls else calls
    return [tools[best]]
