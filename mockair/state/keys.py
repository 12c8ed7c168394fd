"""Key registry, tiers and accounts (CONTRACT §2.3, §3.10, §4.9)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mockair.state.ids import ANONYMOUS_SCOPE

KEY_PATTERN = re.compile(r"sk-air-[A-Za-z0-9_-]+")
Tier = Literal["free", "default", "premium", "paygo"]
TIERS: tuple[str, ...] = ("free", "default", "premium", "paygo")
LIMIT_RESETS: tuple[str, ...] = ("daily", "weekly", "monthly", "none")
RULE_LISTS: tuple[str, ...] = (
    "allowed_models",
    "blocked_models",
    "allowed_makers",
    "blocked_makers",
    "allowed_classes",
    "blocked_classes",
)
# Stored for /v1/keys but never enforced (CONTRACT §3.10).
UNENFORCED_LISTS: tuple[str, ...] = (
    "allowed_ips",
    "allowed_channels",
    "blocked_channels",
    "allowed_methods",
    "blocked_methods",
)
SETTING_FIELDS: tuple[str, ...] = (
    "tier",
    "primary",
    "owner",
    "label",
    "rpm_limit",
    "daily_token_cap",
    "credit_allowance",
    "limit_reset",
    *RULE_LISTS,
    *UNENFORCED_LISTS,
    "disabled",
)


def is_well_formed(key: str) -> bool:
    return KEY_PATTERN.fullmatch(key) is not None


def mask(key: str | None) -> str | None:
    """``sk-air-...`` + the last 4 characters (CONTRACT §4.8)."""
    if key is None:
        return None
    return "sk-air-..." + key[-4:]


@dataclass
class Usage:
    requests_today: int = 0
    tokens_today: int = 0
    total_requests: int = 0
    total_tokens: int = 0
    credits_used: float = 0.0
    images_generated_today: int = 0
    day: int = -1  # virtual UTC day number the *_today counters belong to
    credits_period: float = 0.0  # start of the credit period credits_used belongs to

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests_today": self.requests_today,
            "tokens_today": self.tokens_today,
            "total_requests": self.total_requests,
            "total_tokens": self.total_tokens,
            "credits_used": round(self.credits_used, 10),
        }


@dataclass
class KeyRecord:
    key: str
    tier: str = "default"
    primary: bool = True
    owner: str | None = None
    label: str | None = None
    rpm_limit: int | None = None
    daily_token_cap: int | None = None
    credit_allowance: float | None = None
    limit_reset: str | None = None
    allowed_models: list[str] = field(default_factory=list)
    blocked_models: list[str] = field(default_factory=list)
    allowed_makers: list[str] = field(default_factory=list)
    blocked_makers: list[str] = field(default_factory=list)
    allowed_classes: list[str] = field(default_factory=list)
    blocked_classes: list[str] = field(default_factory=list)
    allowed_ips: list[str] = field(default_factory=list)
    allowed_channels: list[str] = field(default_factory=list)
    blocked_channels: list[str] = field(default_factory=list)
    allowed_methods: list[str] = field(default_factory=list)
    blocked_methods: list[str] = field(default_factory=list)
    disabled: bool = False
    created_at: float = 0.0
    source: Literal["file", "control", "api"] = "control"

    @property
    def scope(self) -> str:
        return self.key if self.primary or not self.owner else self.owner

    def apply(self, settings: dict[str, Any]) -> None:
        for name in SETTING_FIELDS:
            if name in settings:
                value = settings[name]
                if name in RULE_LISTS or name in UNENFORCED_LISTS:
                    value = list(value or [])
                setattr(self, name, value)
        if self.primary:
            self.owner = None

    def control_view(self, usage: Usage) -> dict[str, Any]:
        """The /_mockair/keys shape (CONTRACT §4.9): full key, settings and usage."""
        return {
            "key": self.key,
            "tier": self.tier,
            "primary": self.primary,
            "owner": self.owner,
            "label": self.label,
            "rpm_limit": self.rpm_limit,
            "daily_token_cap": self.daily_token_cap,
            "credit_allowance": self.credit_allowance,
            "limit_reset": self.limit_reset,
            **{name: list(getattr(self, name)) for name in RULE_LISTS},
            "disabled": self.disabled,
            "usage": usage.as_dict(),
        }


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key (None when anonymous), its tier and its isolation scope."""

    key: str | None
    tier: str
    scope: str
    primary: bool
    record: KeyRecord | None = None

    @property
    def anonymous(self) -> bool:
        return self.key is None


ANONYMOUS = Principal(key=None, tier="free", scope=ANONYMOUS_SCOPE, primary=False)


class KeyRegistry:
    """Registered keys plus the rules of open and strict mode."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.records: dict[str, KeyRecord] = {}
        self.deleted: set[str] = set()
        self.usage: dict[str, Usage] = {}

    def register(self, record: KeyRecord) -> KeyRecord:
        self.deleted.discard(record.key)
        self.records[record.key] = record
        return record

    def upsert(
        self, key: str, settings: dict[str, Any], *, now: float, source: str = "control"
    ) -> KeyRecord:
        record = self.records.get(key)
        if record is None:
            record = KeyRecord(key=key, created_at=now, source=source)  # type: ignore[arg-type]
        record.apply(settings)
        return self.register(record)

    def get(self, key: str) -> KeyRecord | None:
        return self.records.get(key)

    def delete(self, key: str) -> bool:
        if self.records.pop(key, None) is None:
            return False
        self.deleted.add(key)
        self.usage.pop(key, None)
        return True

    def usage_of(self, key: str) -> Usage:
        usage = self.usage.get(key)
        if usage is None:
            usage = self.usage[key] = Usage()
        return usage

    def resolve(self, key: str) -> Principal | None:
        """The principal of a presented key, or None when it must be refused (401)."""
        if not is_well_formed(key) or key in self.deleted:
            return None
        record = self.records.get(key)
        if record is None:
            if self.strict:
                return None
            return Principal(key=key, tier="default", scope=key, primary=True)
        if record.disabled:
            return None
        if not record.primary and record.owner:
            owner = self.records.get(record.owner)
            if owner is None and (self.strict or record.owner in self.deleted):
                return None
        return Principal(
            key=key, tier=record.tier, scope=record.scope, primary=record.primary, record=record
        )

    def secondaries_of(self, scope: str) -> list[KeyRecord]:
        return [r for r in self.records.values() if not r.primary and r.owner == scope]

    def in_scope(self, scope: str) -> list[KeyRecord]:
        return [r for r in self.records.values() if r.scope == scope]
