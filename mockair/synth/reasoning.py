"""Whether a request reasons, how much, and the reasoning text (CONTRACT §2.11.2)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from mockair.synth.text import Corpus, sentences_text

EFFORT_RANGES = {
    "minimal": (10, 20),
    "low": (10, 20),
    "medium": (20, 40),
    "high": (40, 80),
    "xhigh": (40, 80),
    "max": (40, 80),
}


@dataclass(frozen=True)
class ReasoningPlan:
    on: bool
    effort: str = "medium"
    budget: int | None = None


OFF = ReasoningPlan(False)


def _thinking_switch(value: Any) -> bool | None:
    if isinstance(value, str):
        return {"on": True, "off": False}.get(value)  # "auto" = the model default
    if isinstance(value, dict):
        kind = value.get("type")
        if kind in ("enabled", "adaptive", "between_tools"):
            return True
        if kind == "disabled":
            return False
    return None


def plan_reasoning(
    body: dict[str, Any],
    *,
    supports_reasoning: bool,
    reasons_by_default: bool,
    anthropic: bool,
    endpoint: str,
) -> ReasoningPlan:
    """The reasoning switches of a chat, messages or responses body, in one decision.

    The first explicit switch wins, in this order: ``thinking``; chat ``reasoning.enabled``;
    an effort (``reasoning_effort``, chat/responses ``reasoning.effort``, messages
    ``output_config.effort``; ``none`` = off); ``thinking_budget`` (0 = off). Without any, the
    model default. On Anthropic-owned models the OpenAI effort fields do nothing (seed 004).
    """
    if not supports_reasoning:
        return OFF
    reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else {}
    efforts = []
    if not anthropic:
        efforts += [body.get("reasoning_effort"), reasoning.get("effort")]
    if endpoint == "messages":
        config = body.get("output_config") if isinstance(body.get("output_config"), dict) else {}
        efforts.append(config.get("effort"))
    effort = next((e for e in efforts if isinstance(e, str)), None)

    budgets = []
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and isinstance(thinking.get("budget_tokens"), int):
        budgets.append(thinking["budget_tokens"])
    for value in (body.get("thinking_budget"), reasoning.get("max_tokens")):
        if isinstance(value, int) and value > 0:
            budgets.append(value)
    budget = min(budgets) if budgets else None

    decision = _thinking_switch(thinking)
    if decision is None and isinstance(reasoning.get("enabled"), bool) and endpoint == "chat":
        decision = reasoning["enabled"]
    if decision is None and effort is not None:
        decision = effort != "none"
    if decision is None:
        # thinking_budget alone switches (0 = off, §7.1 #2); chat reasoning.max_tokens acts
        # like it (§3.2.1).
        for value in (body.get("thinking_budget"), reasoning.get("max_tokens")):
            if isinstance(value, int) and not isinstance(value, bool):
                decision = value > 0
                break
    if decision is None:
        decision = reasons_by_default
    if not decision:
        return OFF
    level = effort if effort in EFFORT_RANGES else "medium"
    return ReasoningPlan(True, level, budget)


def reasoning_tokens(corpus: Corpus, rng: random.Random, plan: ReasoningPlan) -> list[str]:
    low, high = EFFORT_RANGES[plan.effort]
    tokens = sentences_text(corpus, rng, low, high)
    if plan.budget is not None:
        tokens = tokens[: plan.budget]
    return tokens
