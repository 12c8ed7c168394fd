"""Stub and fault rules (CONTRACT §4.4, §4.5): stored, listed and deleted by id and scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

RuleKind = Literal["stub", "fault"]


@dataclass
class Rule:
    kind: RuleKind
    id: str
    scope: str | None  # the scope of match.key, None for a global rule
    spec: dict[str, Any]  # the validated request body, key order kept
    created: int
    times: int | None
    remaining: int | None
    hits: int = 0
    seen: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        out.update(self.spec)
        out["times"] = self.times
        out["remaining"] = self.remaining
        out["hits"] = self.hits
        if self.kind == "fault":
            out["seen"] = self.seen
        out["created"] = self.created
        return out


class RuleStore:
    """Rules in creation order; the earliest matching rule wins."""

    def __init__(self, kind: RuleKind) -> None:
        self.kind = kind
        self.rules: list[Rule] = []

    def add(self, rule: Rule) -> Rule:
        self.rules.append(rule)
        return rule

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def visible(self, scope: str | None) -> list[Rule]:
        """Global rules plus, when a scope is given, that scope's own."""
        return [
            r for r in self.rules if r.scope is None or (scope is not None and r.scope == scope)
        ]

    def delete(self, rule_id: str) -> bool:
        rule = self.get(rule_id)
        if rule is None:
            return False
        self.rules.remove(rule)
        return True

    def clear(self, scope: str | None = None) -> int:
        doomed = [r for r in self.rules if scope is None or r.scope == scope]
        for rule in doomed:
            self.rules.remove(rule)
        return len(doomed)


@dataclass(frozen=True)
class RequestFacts:
    """What rules match on (CONTRACT §4.4): known before validation, from a peek at the body."""

    path: str
    method: str
    model: str | None
    scope: str | None
    text: str
    stream: bool


def matches(rule: Rule, facts: RequestFacts) -> bool:
    import re

    if rule.scope is not None and rule.scope != facts.scope:
        return False
    match = rule.spec.get("match") or {}
    path = match.get("path")
    if path is not None:
        if path.endswith("*"):
            if not facts.path.startswith(path[:-1]):
                return False
        elif facts.path != path.rstrip("/") and facts.path != path:
            return False
    if "method" in match and match["method"].upper() != facts.method:
        return False
    if "model" in match and match["model"] != facts.model:
        return False
    if "contains" in match and match["contains"].lower() not in facts.text.lower():
        return False
    if "regex" in match and re.search(match["regex"], facts.text) is None:
        return False
    return not ("stream" in match and bool(match["stream"]) != facts.stream)


def use(store: RuleStore, rule: Rule) -> bool:
    """Count a matching request against ``rule``; True when the rule fires for it."""
    rule.seen += 1
    if rule.seen <= int(rule.spec.get("after") or 0):
        return False
    rule.hits += 1
    if rule.remaining is not None:
        rule.remaining -= 1
        if rule.remaining <= 0:
            store.delete(rule.id)
    return True
