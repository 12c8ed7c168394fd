"""Reasoning switches and lengths (CONTRACT §2.11.2, §7 #26, §7.1 #2), as pure functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mockair.synth.reasoning import OFF, ReasoningPlan, plan_reasoning, reasoning_tokens
from mockair.synth.rng import rng_for
from mockair.synth.text import load_corpus

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def plan(
    body: dict[str, Any],
    *,
    supports: bool = True,
    default: bool = False,
    anthropic: bool = False,
    endpoint: str = "chat",
) -> ReasoningPlan:
    return plan_reasoning(
        body,
        supports_reasoning=supports,
        reasons_by_default=default,
        anthropic=anthropic,
        endpoint=endpoint,
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reasoning_effort": "high"},
        {"thinking": "on"},
        {"thinking": {"type": "enabled", "budget_tokens": 5}},
        {"thinking_budget": 5},
        {"reasoning": {"enabled": True, "effort": "high"}},
    ],
)
def test_models_without_reasoning_never_reason(body: dict[str, Any]) -> None:
    assert plan(body, supports=False, default=True) == OFF
    assert not plan(body, supports=False).on


def test_model_default_applies_without_switches() -> None:
    assert plan({}, default=True) == ReasoningPlan(True, "medium", None)
    assert plan({}, default=False) == OFF
    assert plan({"thinking": "auto"}, default=True).on
    assert not plan({"thinking": "auto"}, default=False).on


@pytest.mark.parametrize("effort", ["minimal", "low", "medium", "high", "xhigh", "max"])
def test_any_effort_but_none_turns_reasoning_on(effort: str) -> None:
    assert plan({"reasoning_effort": effort}) == ReasoningPlan(True, effort, None)
    assert plan({"reasoning": {"effort": effort}}) == ReasoningPlan(True, effort, None)


def test_effort_none_turns_reasoning_off() -> None:
    assert plan({"reasoning_effort": "none"}, default=True) == OFF
    assert plan({"reasoning": {"effort": "none"}}, default=True) == OFF


@pytest.mark.parametrize(
    ("thinking", "on"),
    [
        ("on", True),
        ("off", False),
        ({"type": "enabled", "budget_tokens": 100}, True),
        ({"type": "adaptive"}, True),
        ({"type": "disabled"}, False),
    ],
)
def test_thinking_switch(thinking: Any, on: bool) -> None:
    assert plan({"thinking": thinking}, default=not on).on is on


def test_budgets() -> None:
    assert plan({"thinking": {"type": "enabled", "budget_tokens": 5}}).budget == 5
    assert plan({"thinking_budget": 7}) == ReasoningPlan(True, "medium", 7)  # §7.1 #2
    assert plan({"thinking_budget": 0}, default=True) == OFF  # §7.1 #2
    assert plan({"thinking_budget": 9}, default=True).budget == 9
    assert plan({"thinking": "on", "thinking_budget": 4}).budget == 4


def test_reasoning_max_tokens_alone_turns_reasoning_on() -> None:
    # §3.2.1: reasoning.max_tokens acts like thinking_budget (alone > 0: on with that budget).
    assert plan({"reasoning": {"max_tokens": 5}}) == ReasoningPlan(True, "medium", 5)


def test_reasoning_enabled_switch() -> None:
    assert plan({"reasoning": {"enabled": True}}).on
    assert not plan({"reasoning": {"enabled": False}}, default=True).on


def test_anthropic_models_ignore_openai_efforts() -> None:
    assert plan({"reasoning_effort": "high"}, anthropic=True) == OFF
    assert plan({"reasoning": {"effort": "high"}}, anthropic=True) == OFF
    assert plan({"reasoning_effort": "none"}, anthropic=True, default=True).on
    assert plan({"thinking": "on"}, anthropic=True).on
    assert plan({"thinking_budget": 3}, anthropic=True) == ReasoningPlan(True, "medium", 3)
    effort = plan({"output_config": {"effort": "high"}}, anthropic=True, endpoint="messages")
    assert effort == ReasoningPlan(True, "high", None)


@pytest.mark.parametrize(
    ("effort", "low", "high"),
    [
        ("minimal", 10, 20),
        ("low", 10, 20),
        ("medium", 20, 40),
        ("high", 40, 80),
        ("xhigh", 40, 80),
        ("max", 40, 80),
    ],
)
def test_reasoning_lengths(effort: str, low: int, high: int) -> None:
    corpus = load_corpus(FIXTURES)
    for seed in range(25):
        tokens = reasoning_tokens(corpus, rng_for("r", seed), ReasoningPlan(True, effort))
        assert low <= len(tokens) <= high, (effort, seed)
        capped = reasoning_tokens(corpus, rng_for("r", seed), ReasoningPlan(True, effort, 5))
        assert capped == tokens[:5]
