"""The one reply engine behind chat, messages, responses, legacy chat and /ask (CONTRACT §2.11).

``generate`` is a pure function of its request: the same request gives the same reply, whether
it is then streamed or not, and a capped or stopped reply is a prefix of the uncapped one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mockair.synth.conversation import arguments_json
from mockair.synth.reasoning import OFF, ReasoningPlan, reasoning_tokens
from mockair.synth.rng import rng_for
from mockair.synth.text import Corpus, answer_tokens, apply_stop_and_cap
from mockair.synth.tokenizer import compact_json, tokenize
from mockair.synth.tools import ToolDef


@dataclass(frozen=True)
class CannedToolCall:
    name: str
    arguments: Any  # an object, or its JSON text
    id: str | None = None


@dataclass(frozen=True)
class Canned:
    """A stub's provider-neutral reply: whatever is given replaces what would be generated."""

    text: str | None = None
    tool_calls: tuple[CannedToolCall, ...] | None = None
    reasoning: str | None = None


@dataclass(frozen=True)
class OutputFormat:
    kind: str = "text"  # "text" | "json_object" | "json_schema"
    schema: Any = None


TEXT = OutputFormat()


@dataclass(frozen=True)
class ReplyRequest:
    route_key: str
    model: str
    semantic: Any
    seed: int
    now: float
    choice: int = 0
    reasoning: ReasoningPlan = OFF
    tools_called: Sequence[ToolDef] = ()
    output: OutputFormat = TEXT
    vision: Sequence[str] = ()
    stops: Sequence[str] = ()
    cap: int | None = None
    canned: Canned | None = None


@dataclass
class ToolCallOut:
    name: str
    arguments_json: str
    given_id: str | None = None

    @property
    def argument_tokens(self) -> list[str]:
        return tokenize(self.arguments_json)


@dataclass
class Reply:
    reasoning_tokens: list[str]
    answer_tokens: list[str]
    tool_calls: list[ToolCallOut] = field(default_factory=list)
    finish: str = "stop"  # "stop" | "length" | "stop_sequence" | "tool_calls"
    stop_sequence: str | None = None

    @property
    def answer(self) -> str:
        return "".join(self.answer_tokens)

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_tokens)

    def tool_tokens(self) -> int:
        return sum(1 + len(call.argument_tokens) for call in self.tool_calls)

    def completion_tokens(self, *, inline_tags: bool = False) -> int:
        """Answer + reasoning (+ the 8 inline tag tokens) + per tool call 1 + argument tokens:
        exactly the number of token-bearing deltas a stream of this reply carries."""
        tags = 8 if inline_tags and self.reasoning_tokens else 0
        return len(self.answer_tokens) + len(self.reasoning_tokens) + tags + self.tool_tokens()


def _schema_instance(schema: Any, parts: list[Any], corpus: Corpus, now: float) -> Any:
    from mockair.synth.structured import schema_instance

    return schema_instance(schema, rng_for(*parts), now=now, words=corpus.words)


def generate(request: ReplyRequest, corpus: Corpus) -> Reply:
    base = [request.route_key, request.model, request.semantic, request.seed, request.choice]
    canned = request.canned

    if canned is not None and canned.reasoning is not None:
        reasoning = tokenize(canned.reasoning)
        if request.reasoning.budget is not None:
            reasoning = reasoning[: request.reasoning.budget]
    elif request.reasoning.on:
        reasoning = reasoning_tokens(corpus, rng_for(*base, "reasoning"), request.reasoning)
    else:
        reasoning = []

    calls: list[ToolCallOut] = []
    if canned is not None and canned.tool_calls:
        calls = [ToolCallOut(c.name, arguments_json(c.arguments), c.id) for c in canned.tool_calls]
    elif canned is None or canned.text is None:
        for index, tool in enumerate(request.tools_called):
            schema = tool.schema if tool.schema is not None else {"type": "object"}
            value = _schema_instance(schema, [*base, "tool", index, tool.name], corpus, request.now)
            calls.append(ToolCallOut(tool.name, compact_json(value)))
    if calls:
        return Reply(reasoning, [], calls, "tool_calls")

    if canned is not None and canned.text is not None:
        text = canned.text
    elif request.output.kind == "json_schema":
        schema = request.output.schema if request.output.schema is not None else {}
        text = compact_json(_schema_instance(schema, [*base, "json"], corpus, request.now))
    else:
        generated = "".join(answer_tokens(corpus, rng_for(*base)))
        if request.output.kind == "json_object":
            text = compact_json({"answer": generated})
        else:
            text = " ".join([*request.vision, generated])
    trimmed = apply_stop_and_cap(text, request.stops, request.cap)
    return Reply(reasoning, trimmed.tokens, [], trimmed.finish, trimmed.stop_sequence)
