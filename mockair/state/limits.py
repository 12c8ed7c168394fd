"""Permissions, rate limits, daily caps and credit allowances (CONTRACT §2.9, steps 6, 9, 10),
all on the virtual clock."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from mockair.catalog import Model
from mockair.errors import ApiError, PermissionDenied, RateLimited
from mockair.state.keys import KeyRecord, Principal, Usage


def permission_error(principal: Principal | None, model: Model) -> ApiError | None:
    """The 403 a request with this model must get, or None when it is allowed."""
    if principal is None:
        return None
    record = principal.record
    if record is not None:
        denied = (record.allowed_models and model.id not in record.allowed_models) or (
            model.id in record.blocked_models
        )
        if not denied:
            denied = (record.allowed_makers and model.owned_by not in record.allowed_makers) or (
                model.owned_by in record.blocked_makers
            )
        if not denied:
            model_class = model.model_class
            denied = (record.allowed_classes and model_class not in record.allowed_classes) or (
                model_class in record.blocked_classes
            )
        if denied:
            return PermissionDenied(
                f"Model '{model.id}' is not allowed for this API key.", param="model"
            )
    if principal.tier == "free" and model.tier == "paid":
        return PermissionDenied(
            f"Model '{model.id}' is not available on the free tier.",
            code="free_tier_gated",
            param="model",
        )
    return None


def may_use(principal: Principal | None, model: Model) -> bool:
    return permission_error(principal, model) is None


# -- rate limits, daily caps and credit allowances (CONTRACT §2.9, steps 6 and 10) ------------

DAY = 86400.0


@dataclass
class Bucket:
    capacity: float
    tokens: float
    at: float  # virtual time of ``tokens``

    def refill(self, now: float) -> None:
        rate = self.capacity / 60.0
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.at) * rate)
        self.at = max(self.at, now)

    def seconds_to_full(self) -> float:
        return (self.capacity - self.tokens) / (self.capacity / 60.0)


def ratelimit_headers(limit: int, remaining: int, reset_s: float) -> dict[str, str]:
    return {
        "x-ratelimit-limit-requests": str(limit),
        "x-ratelimit-remaining-requests": str(max(0, remaining)),
        "x-ratelimit-reset-requests": f"{round(reset_s, 3):g}s",
    }


class RateLimiter:
    """One token bucket per key with an ``rpm_limit``, refilled on the virtual clock."""

    def __init__(self) -> None:
        self.buckets: dict[str, Bucket] = {}

    def take(self, record: KeyRecord, now: float) -> dict[str, str]:
        """Take one token; the x-ratelimit-* headers, or a 429 ``RateLimited`` carrying them."""
        limit = int(record.rpm_limit or 0)
        bucket = self.buckets.get(record.key)
        if bucket is None or bucket.capacity != limit:
            bucket = self.buckets[record.key] = Bucket(limit, float(limit), now)
        bucket.refill(now)
        if bucket.tokens < 1.0:
            wait = math.ceil((1.0 - bucket.tokens) / (limit / 60.0) * 1000) / 1000
            headers = ratelimit_headers(limit, 0, bucket.seconds_to_full())
            raise RateLimited(
                f"Rate limit exceeded: {limit} requests per minute.",
                retry_after=max(wait, 0.001),
                headers=headers,
            )
        bucket.tokens -= 1.0
        return ratelimit_headers(limit, math.floor(bucket.tokens), bucket.seconds_to_full())

    def clear(self, keys: list[str] | None = None) -> None:
        if keys is None:
            self.buckets.clear()
        else:
            for key in keys:
                self.buckets.pop(key, None)


def _utc(now: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(now, dt.UTC)


def next_midnight(now: float) -> float:
    return (math.floor(now / DAY) + 1) * DAY


def period_start(reset: str | None, now: float) -> float:
    """Start of the current credit period (``none``: the beginning of time)."""
    moment = _utc(now)
    if reset == "daily":
        return math.floor(now / DAY) * DAY
    if reset == "weekly":
        monday = moment.date() - dt.timedelta(days=moment.weekday())
        return dt.datetime(monday.year, monday.month, monday.day, tzinfo=dt.UTC).timestamp()
    if reset == "monthly":
        return dt.datetime(moment.year, moment.month, 1, tzinfo=dt.UTC).timestamp()
    return 0.0


def next_reset(reset: str | None, now: float) -> float:
    moment = _utc(now)
    if reset == "daily":
        return next_midnight(now)
    if reset == "weekly":
        return period_start("weekly", now) + 7 * DAY
    if reset == "monthly":
        year, month = (
            (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        )
        return dt.datetime(year, month, 1, tzinfo=dt.UTC).timestamp()
    return now + DAY


def check_allowances(record: KeyRecord, usage: Usage, now: float) -> None:
    """Step 10: the daily token cap, then the credit allowance (429s; 402 is never sent)."""
    if record.daily_token_cap is not None:
        today = usage.tokens_today if usage.day == int(now // DAY) else 0
        if today >= record.daily_token_cap:
            raise RateLimited(
                f"Daily token cap of {record.daily_token_cap} reached.",
                code="daily_token_cap_exceeded",
                retry_after=max(1.0, next_midnight(now) - now),
            )
    if record.credit_allowance is not None:
        start = period_start(record.limit_reset, now)
        if usage.credits_period != start:
            usage.credits_period = start
            usage.credits_used = 0.0
        if usage.credits_used >= record.credit_allowance:
            retry = next_reset(record.limit_reset, now) - now
            raise RateLimited(
                f"Credit allowance of {record.credit_allowance} cents used up.",
                code="insufficient_balance",
                retry_after=max(1.0, retry),
            )
