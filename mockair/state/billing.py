"""Prices and usage (CONTRACT §2.9): what a request costs and what a key has used."""

from __future__ import annotations

from typing import Any

from mockair.catalog import Model
from mockair.state.keys import KeyRegistry, Principal, Usage

DAY = 86400


def cost_header(cents: float) -> str:
    """``X-Cost-Cents``: a decimal string with exactly 4 decimals."""
    return f"{cents:.4f}"


def usd(cents: float) -> float:
    """``usage.cost``: cents / 100 as USD, rounded to 10 decimals."""
    return round(cents / 100, 10)


def token_cost_cents(model: Model, prompt_tokens: int, completion_tokens: int) -> float:
    return (
        prompt_tokens * model.price("pricepermilliontokens")
        + completion_tokens * model.price("output_pricepermilliontokens")
    ) / 1e6


def messages_cost_cents(
    model: Model,
    input_tokens: int,
    output_tokens: int,
    cache_read: int = 0,
    cache_write_5m: int = 0,
    cache_write_1h: int = 0,
) -> float:
    price_in = model.price("pricepermilliontokens")
    read_price = model.public.get("cache_read_pricepermilliontokens")
    read = float(read_price) if read_price is not None else 0.1 * price_in
    return (
        input_tokens * price_in
        + cache_read * read
        + cache_write_5m * price_in * 1.25
        + cache_write_1h * price_in * 2
        + output_tokens * model.price("output_pricepermilliontokens")
    ) / 1e6


def roll_day(usage: Usage, now: float) -> Usage:
    """Start the *_today counters afresh at virtual midnight; returns ``usage``."""
    day = int(now // DAY)
    if usage.day != day:
        usage.day = day
        usage.requests_today = 0
        usage.tokens_today = 0
        usage.images_generated_today = 0
    return usage


def count_request(keys: KeyRegistry, principal: Principal | None, now: float) -> None:
    if principal is None or principal.key is None:
        return
    usage = keys.usage_of(principal.key)
    roll_day(usage, now)
    usage.requests_today += 1
    usage.total_requests += 1


def charge(
    keys: KeyRegistry, principal: Principal | None, now: float, cents: float, tokens: int
) -> float:
    """Record a billed request; returns the cents actually charged (0 for anonymous callers)."""
    if principal is None or principal.key is None:
        return 0.0
    usage = keys.usage_of(principal.key)
    roll_day(usage, now)
    usage.tokens_today += tokens
    usage.total_tokens += tokens
    usage.credits_used += cents
    return cents


def count_images(keys: KeyRegistry, principal: Principal | None, now: float, n: int) -> None:
    if principal is None or principal.key is None:
        return
    roll_day(keys.usage_of(principal.key), now).images_generated_today += n


def settle_failed_tasks(
    tasks: Any, keys: KeyRegistry, key: str, now: float, task_seconds: float
) -> None:
    """Refund the key's tasks that have failed by ``now`` (CONTRACT §3.9.3), whether or not
    anybody has read them yet, before its usage is shown or checked."""
    from mockair.state.tasks import status_at

    for task in tasks.created_by(key):
        pending = task.fails_with is not None and not task.refunded and task.cost_cents
        if pending and status_at(task, now, task_seconds).status == "failed":
            task.refunded = True
            keys.usage_of(key).credits_used -= task.cost_cents
