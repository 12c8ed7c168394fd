"""/v1/keys (CONTRACT §3.10): an account's secondary keys, for its primary key only; and the
legacy GET /check (§3.12.8)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from mockair.errors import ApiError, MissingApiKey
from mockair.state.billing import roll_day, settle_failed_tasks
from mockair.state.clock import iso_utc
from mockair.state.keys import RULE_LISTS, UNENFORCED_LISTS, KeyRecord, mask
from mockair.web.routing import ApiCall, api_route, json_response

KEY_LIMIT = 100
NO_STORE = {"cache-control": "no-store"}
TIER_INFO = {
    "free": "Free key",
    "default": "Default key",
    "premium": "Premium key",
    "paygo": "Pay-as-you-go key",
}


def _primary(call: ApiCall) -> str:
    principal = call.principal
    assert principal is not None
    if not principal.primary:
        raise ApiError(
            "Only the account's primary key may manage keys.",
            status=403,
            code="primary_key_required",
            headers=NO_STORE,
        )
    return principal.scope


def view(call: ApiCall, record: KeyRecord, *, full: bool = False) -> dict[str, Any]:
    usage = call.state.keys.usage_of(record.key)
    return {
        "key": record.key if full else mask(record.key),
        "label": record.label,
        "created_at": iso_utc(record.created_at),
        "disabled": record.disabled,
        "tier": record.tier,
        "rpm_limit": record.rpm_limit,
        "daily_token_cap": record.daily_token_cap,
        "credit_allowance": record.credit_allowance,
        "credits_used": round(usage.credits_used, 10),
        "limit_reset": record.limit_reset,
        **{name: list(getattr(record, name)) for name in (*RULE_LISTS, *UNENFORCED_LISTS)},
    }


def _own(call: ApiCall, account: str) -> KeyRecord:
    given = call.path_param("key")
    for record in call.state.keys.secondaries_of(account):
        if given in (record.key, mask(record.key)):
            return record
    raise ApiError(
        f"Key '{mask(given)}' not found.",
        status=404,
        code="key_not_found",
        param="key",
        headers=NO_STORE,
    )


async def create_key(call: ApiCall) -> Response:
    account = _primary(call)
    assert call.body is not None
    keys = call.state.keys
    if len(keys.secondaries_of(account)) >= KEY_LIMIT:
        raise ApiError(
            f"The account already has {KEY_LIMIT} keys.",
            status=403,
            code="key_limit_reached",
            headers=NO_STORE,
        )
    key = call.state.ids.mint_key(account)
    settings = {"tier": "default", **call.body, "primary": False, "owner": account}
    record = keys.upsert(key, settings, now=call.state.now(), source="api")
    return json_response(view(call, record, full=True), headers=NO_STORE)


async def list_keys(call: ApiCall) -> Response:
    account = _primary(call)
    records = call.state.keys.secondaries_of(account)
    return json_response(
        {"keys": [view(call, r) for r in records], "total": len(records)}, headers=NO_STORE
    )


async def update_key(call: ApiCall) -> Response:
    record = _own(call, _primary(call))
    assert call.body is not None
    record.apply(call.body)
    return json_response(view(call, record), headers=NO_STORE)


async def delete_key(call: ApiCall) -> Response:
    record = _own(call, _primary(call))
    call.state.keys.delete(record.key)
    return json_response({"deleted": True}, headers=NO_STORE)


async def check(call: ApiCall) -> Response:
    principal = call.principal
    if principal is None or principal.key is None:
        raise MissingApiKey()
    record = principal.record
    state = call.state
    settle_failed_tasks(
        state.tasks, state.keys, principal.key, state.now(), state.settings.task_seconds
    )
    usage = roll_day(state.keys.usage_of(principal.key), state.now())
    return json_response(
        {
            "key": mask(principal.key),
            "valid": True,
            "info": TIER_INFO.get(principal.tier, "Default key"),
            "tier": principal.tier,
            "primary": principal.primary,
            "disabled": False,
            "rpm_limit": record.rpm_limit if record else None,
            "daily_token_cap": record.daily_token_cap if record else None,
            "credit_allowance": record.credit_allowance if record else None,
            "credits_used": round(usage.credits_used, 10),
            "limit_reset": record.limit_reset if record else None,
            "requests_today": usage.requests_today,
            "tokens_today": usage.tokens_today,
            "total_requests": usage.total_requests,
            "total_tokens": usage.total_tokens,
            "images_generated_today": usage.images_generated_today,
        }
    )


ROUTES = [
    api_route(
        "/v1/keys",
        create_key,
        methods=("POST",),
        auth="primary",
        body="json",
        schema="keys.create.request",
        body_required=False,
        summary="Create a secondary key (the full key is shown only here)",
    ),
    api_route("/v1/keys", list_keys, auth="primary", summary="The account's secondary keys"),
    api_route(
        "/v1/keys/{key}",
        update_key,
        methods=("PATCH",),
        auth="primary",
        body="json",
        schema="keys.update.request",
        summary="Change a secondary key",
    ),
    api_route(
        "/v1/keys/{key}",
        delete_key,
        methods=("DELETE",),
        auth="primary",
        summary="Delete a secondary key",
    ),
    *[
        api_route(
            path,
            check,
            auth="check",
            tag="legacy",
            query=("key",),
            summary="Tier, limits and usage of a key (legacy)",
        )
        for path in ("/check", "/v1/check")
    ],
]
