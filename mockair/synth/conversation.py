"""A provider-neutral view of a conversation, and prompt-token counting (CONTRACT §2.7.1).

The surfaces translate their wire format (chat messages, Anthropic blocks, Responses items)
into a :class:`Conversation`; generation and counting never look at the wire format again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockair.synth.tokenizer import compact_json, count, count_json
from mockair.synth.tools import ToolDef

REQUEST_OVERHEAD = 3
MESSAGE_OVERHEAD = 4
NON_TEXT_PART = 85


@dataclass
class Turn:
    role: str  # "system" | "user" | "assistant" | "tool"
    text: str = ""
    non_text_parts: int = 0
    images: list[tuple[bytes | None, str]] = field(default_factory=list)
    tool_calls: list[tuple[str, str]] = field(default_factory=list)  # (name, arguments JSON)
    tool_result: bool = False

    def tokens(self) -> int:
        total = MESSAGE_OVERHEAD + count(self.text) + NON_TEXT_PART * self.non_text_parts
        for name, arguments in self.tool_calls:
            total += count(name) + count(arguments)
        return total


@dataclass
class Conversation:
    turns: list[Turn]
    tools: list[ToolDef] = field(default_factory=list)
    tools_as_sent: Any = None  # the request's tools array, counted as sent

    def prompt_tokens(self) -> int:
        total = REQUEST_OVERHEAD + sum(turn.tokens() for turn in self.turns)
        if self.tools_as_sent:
            total += count_json(self.tools_as_sent)
        return total

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def last_user_text(self) -> str:
        for turn in reversed(self.turns):
            if turn.role == "user" and not turn.tool_result:
                return turn.text
        return ""

    def last_user_images(self) -> list[tuple[bytes | None, str]]:
        last = self.last
        if last is not None and last.role == "user" and not last.tool_result:
            return last.images
        return []

    def drop_middle_to_fit(self, limit: int) -> bool:
        """Chat ``transforms: ["middle-out"]``: drop the oldest middle turns until it fits."""
        while self.prompt_tokens() > limit and len(self.turns) > 2:
            del self.turns[1]
        return self.prompt_tokens() <= limit


def arguments_json(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else compact_json(arguments)
