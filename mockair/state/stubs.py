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
