"""Rate limits, permissions and billing on the virtual clock (CONTRACT §2.9, §2.2 steps 6, 9, 10,
§2.4 x-ratelimit-* headers, §2.3 disabled keys, §3.12.8 /check, §4.9 usage).

Keys are registered through POST /_mockair/keys; the clock starts frozen at EPOCH
(2026-01-01T00:00:00Z, a Thursday) and moves only through POST /_mockair/clock. Costs are the
§2.9 formulas over the catalogue prices in fixtures/models.json.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockair import Settings
from tests.conftest import EPOCH, Clients
from tests.helpers import assert_error

MINI = "gpt-4o-mini"
PARIS = "What is the weather in Paris?"
DAY = 86400
TOKEN = re.compile(r"\s*[^\W\d_]{1,8}|\s*\d{1,3}|\s*[^\w\s]|\s*_|\s+")
CATALOGUE = {
    m["id"]: m
    for m in json.loads(
        (Path(__file__).resolve().parents[2] / "fixtures" / "models.json").read_text()
    )["models"]
}


# -- helpers ------------------------------------------------------------------------------------


def ntok(text: str) -> int:
    return len(TOKEN.findall(text))


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@pytest.fixture
def asgi(settings_factory: Callable[..., Settings]) -> Iterator[httpx.Client]:
    clients = Clients("asgi")
    yield clients(settings_factory())
    clients.close()


def register(client: httpx.Client, key: str, **settings: Any) -> dict[str, Any]:
    response = client.post("/_mockair/keys", json={"key": key, **settings})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def advance(client: httpx.Client, seconds: float) -> None:
    response = client.post("/_mockair/clock", json={"advance": seconds})
    assert response.status_code == 200, response.text


def chat(client: httpx.Client, key: str, model: str = MINI, **fields: Any) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": PARIS}], **fields}
    return client.post("/v1/chat/completions", json=body, headers=bearer(key))


def check(client: httpx.Client, key: str) -> dict[str, Any]:
    response = client.get("/check", params={"key": key})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def usage_stub(client: httpx.Client, key: str, prompt: int, completion: int) -> None:
    """Every chat answer of ``key``'s scope counts exactly these tokens."""
    body = {
        "match": {"key": key},
        "respond": {
            "text": "Fine.",
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion},
        },
    }
    assert client.post("/_mockair/stubs", json=body).status_code == 200


def ratelimit(response: httpx.Response) -> tuple[str, str, str]:
    return (
        response.headers["x-ratelimit-limit-requests"],
        response.headers["x-ratelimit-remaining-requests"],
        response.headers["x-ratelimit-reset-requests"],
    )


# -- rpm token bucket (step 6) -------------------------------------------------------------------


def test_rpm_bucket_of_two(client: httpx.Client) -> None:
    key = "sk-air-limits-rpm2"
    register(client, key, rpm_limit=2)
    first = chat(client, key)
    assert first.status_code == 200
    assert ratelimit(first) == ("2", "1", "30s")
    second = chat(client, key)
    assert second.status_code == 200
    assert ratelimit(second) == ("2", "0", "60s")
    third = chat(client, key)
    assert_error(third, 429, "rate_limit_exceeded")
    assert third.json()["retry_after"] == 30.0
    assert third.headers["retry-after"] == "30"
    assert ratelimit(third) == ("2", "0", "60s")

    advance(client, 30)
    fourth = chat(client, key)
    assert fourth.status_code == 200, fourth.text
    assert ratelimit(fourth) == ("2", "0", "60s")
    fifth = chat(client, key)
    assert_error(fifth, 429, "rate_limit_exceeded")
    assert fifth.json()["retry_after"] == 30.0

    advance(client, 60)  # full again, never above the capacity
    assert [chat(client, key).status_code for _ in range(3)] == [200, 200, 429]


def test_rpm_retry_after_is_rounded_up_to_a_millisecond(asgi: httpx.Client) -> None:
    key = "sk-air-limits-rpm7"
    register(asgi, key, rpm_limit=7)
    for remaining in range(6, -1, -1):
        response = chat(asgi, key)
        assert response.status_code == 200
        reset = (7 - remaining) * 60 / 7
        assert ratelimit(response) == ("7", str(remaining), f"{round(reset, 3):g}s")
    limited = chat(asgi, key)
    assert_error(limited, 429, "rate_limit_exceeded")
    wait = math.ceil(60 / 7 * 1000) / 1000
    assert limited.json()["retry_after"] == wait == 8.572
    assert limited.headers["retry-after"] == "9"
    advance(asgi, 4.5)  # half a token: still 429, wait shrinks
    again = chat(asgi, key)
    assert again.json()["retry_after"] == math.ceil((60 / 7 - 4.5) * 1000) / 1000


def test_ratelimit_headers_on_every_response_of_a_limited_key(asgi: httpx.Client) -> None:
    key = "sk-air-limits-headers"
    register(asgi, key, rpm_limit=60)
    responses = [
        asgi.get("/v1/models", headers=bearer(key)),
        asgi.post("/v1/chat/completions", json={"model": MINI}, headers=bearer(key)),
        chat(asgi, key, model="gpt-99"),
        asgi.post(
            "/v1/embeddings",
            json={"model": "text-embedding-3-small", "input": "x"},
            headers=bearer(key),
        ),
        chat(asgi, key, stream=True),
        asgi.get("/ask", params={"prompt": "hi"}, headers=bearer(key)),
    ]
    assert [r.status_code for r in responses] == [200, 400, 404, 200, 200, 200]
    assert [ratelimit(r) for r in responses] == [
        ("60", str(59 - i), f"{i + 1}s") for i in range(len(responses))
    ]
    unlimited = chat(asgi, "sk-air-limits-free-running")
    assert "x-ratelimit-limit-requests" not in unlimited.headers


def test_rate_limit_comes_before_validation(asgi: httpx.Client) -> None:
    key = "sk-air-limits-order"
    register(asgi, key, rpm_limit=1)
    assert chat(asgi, key).status_code == 200
    invalid = asgi.post("/v1/chat/completions", json={"model": MINI}, headers=bearer(key))
    assert_error(invalid, 429, "rate_limit_exceeded")


def test_faults_come_before_the_rate_limit(asgi: httpx.Client) -> None:
    key = "sk-air-limits-fault-first"
    register(asgi, key, rpm_limit=1)
    faulted = asgi.post(
        "/v1/chat/completions",
        json={"model": MINI, "messages": [{"role": "user", "content": "x"}]},
        headers={**bearer(key), "x-mockair-fault": "503"},
    )
    assert_error(faulted, 503, "upstream_unavailable")  # step 5: no token taken
    assert chat(asgi, key).status_code == 200
    assert_error(chat(asgi, key), 429, "rate_limit_exceeded")


def test_control_plane_is_never_rate_limited(asgi: httpx.Client) -> None:
    key = "sk-air-limits-control"
    register(asgi, key, rpm_limit=1)
    for _ in range(5):
        assert asgi.get("/_mockair/requests", params={"key": key}).status_code == 200
    assert chat(asgi, key).status_code == 200


def test_buckets_are_per_key(asgi: httpx.Client) -> None:
    primary, secondary = "sk-air-limits-owner", "sk-air-limits-child"
    register(asgi, primary, rpm_limit=1)
    register(asgi, secondary, primary=False, owner=primary, rpm_limit=1)
    assert chat(asgi, primary).status_code == 200
    assert chat(asgi, secondary).status_code == 200
    assert_error(chat(asgi, primary), 429, "rate_limit_exceeded")
    assert_error(chat(asgi, secondary), 429, "rate_limit_exceeded")
    assert chat(asgi, "sk-air-limits-stranger").status_code == 200
    # one account: both keys' requests are in the primary's journal
    entries = asgi.get("/_mockair/requests", params={"key": primary}).json()["requests"]
    assert [e["key"][-4:] for e in entries] == ["wner", "hild", "wner", "hild"]


# -- daily token cap (step 10) -------------------------------------------------------------------


def test_daily_token_cap(client: httpx.Client) -> None:
    key = "sk-air-limits-cap"
    register(client, key, daily_token_cap=100)
    usage_stub(client, key, 40, 30)
    advance(client, 3600.5)
    assert chat(client, key).status_code == 200  # 70 tokens today
    assert chat(client, key).status_code == 200  # 140: the request that crosses completes
    assert check(client, key)["tokens_today"] == 140
    capped = chat(client, key)
    assert_error(capped, 429, "daily_token_cap_exceeded")
    wait = DAY - 3600.5
    assert capped.json()["retry_after"] == wait
    assert capped.headers["retry-after"] == str(math.ceil(wait))
    assert ratelimit(capped) == ("0", "0", f"{wait:g}s")
    embed = client.post(
        "/v1/embeddings",
        json={"model": "text-embedding-3-small", "input": "x"},
        headers=bearer(key),
    )
    assert_error(embed, 429, "daily_token_cap_exceeded")
    assert client.get("/v1/models", headers=bearer(key)).status_code == 200  # not a token route

    advance(client, wait - 1)  # 23:59:59 the same day
    assert_error(chat(client, key), 429, "daily_token_cap_exceeded")
    advance(client, 1)  # next virtual midnight
    assert chat(client, key).status_code == 200
    status = check(client, key)
    assert status["tokens_today"] == 70
    assert status["total_tokens"] == 210


def test_embeddings_prompt_tokens_count_toward_the_cap(asgi: httpx.Client) -> None:
    key = "sk-air-limits-embed-cap"
    register(asgi, key, daily_token_cap=5)
    text = "one two three four five six"
    body = {"model": "text-embedding-3-small", "input": text}
    first = asgi.post("/v1/embeddings", json=body, headers=bearer(key))
    assert first.status_code == 200, first.text
    assert check(asgi, key)["tokens_today"] == ntok(text) == 6
    assert_error(
        asgi.post("/v1/embeddings", json=body, headers=bearer(key)), 429, "daily_token_cap_exceeded"
    )


def test_rpm_headers_stay_on_a_cap_429(asgi: httpx.Client) -> None:
    key = "sk-air-limits-both"
    register(asgi, key, rpm_limit=10, daily_token_cap=1)
    assert chat(asgi, key).status_code == 200
    capped = chat(asgi, key)
    assert_error(capped, 429, "daily_token_cap_exceeded")
    assert ratelimit(capped)[:2] == ("10", "8")


# -- credit allowance (step 10) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit_reset", "wait"),
    [
        ("daily", DAY),
        ("weekly", 4 * DAY),  # Thursday -> Monday 2026-01-05
        ("monthly", 31 * DAY),  # -> 2026-02-01
        ("none", DAY),
        (None, DAY),
    ],
)
def test_credit_allowance(asgi: httpx.Client, limit_reset: str | None, wait: int) -> None:
    key = "sk-air-limits-credit"
    settings: dict[str, Any] = {"credit_allowance": 2}
    if limit_reset is not None:
        settings["limit_reset"] = limit_reset
    register(asgi, key, **settings)
    usage_stub(asgi, key, 100000, 0)  # 100000 x 15 / 1e6 = 1.5 cents each
    first = chat(asgi, key)
    assert first.headers["x-cost-cents"] == "1.5000"
    assert chat(asgi, key).status_code == 200  # 1.5 < 2: allowed, then 3.0
    assert check(asgi, key)["credits_used"] == 3.0
    broke = chat(asgi, key)
    assert_error(broke, 429, "insufficient_balance")
    assert broke.json()["retry_after"] == float(wait)
    assert broke.headers["retry-after"] == str(wait)
    assert broke.status_code != 402
    usage = asgi.get(f"/_mockair/keys/{key}").json()["usage"]
    assert usage["credits_used"] == 3.0


@pytest.mark.parametrize(
    ("limit_reset", "until_reset"),
    [("daily", DAY), ("weekly", 4 * DAY), ("monthly", 31 * DAY)],
)
def test_credit_allowance_resets_on_the_clock(
    asgi: httpx.Client, limit_reset: str, until_reset: int
) -> None:
    key = "sk-air-limits-credit-reset"
    register(asgi, key, credit_allowance=1, limit_reset=limit_reset)
    usage_stub(asgi, key, 100000, 0)
    assert chat(asgi, key).status_code == 200
    assert_error(chat(asgi, key), 429, "insufficient_balance")
    advance(asgi, until_reset - 1)
    limited = chat(asgi, key)
    assert_error(limited, 429, "insufficient_balance")
    assert limited.json()["retry_after"] == 1.0
    advance(asgi, 1)
    assert chat(asgi, key).status_code == 200
    assert check(asgi, key)["credits_used"] == 1.5


def test_lifetime_allowance_never_resets(asgi: httpx.Client) -> None:
    key = "sk-air-limits-lifetime"
    register(asgi, key, credit_allowance=1, limit_reset="none")
    usage_stub(asgi, key, 100000, 0)
    assert chat(asgi, key).status_code == 200
    advance(asgi, 40 * DAY)
    assert_error(chat(asgi, key), 429, "insufficient_balance")


def test_cost_of_a_chat_call_accumulates(client: httpx.Client) -> None:
    key = "sk-air-limits-billing"
    register(client, key)
    total = 0.0
    tokens = 0
    for model in (MINI, "gpt-4.1-mini"):
        response = chat(client, key, model=model)
        assert response.status_code == 200
        prompt = int(response.headers["x-tokens-prompt"])
        completion = int(response.headers["x-tokens-completion"])
        assert prompt == 3 + 4 + ntok(PARIS)
        entry = CATALOGUE[model]
        cents = (
            prompt * entry["pricepermilliontokens"]
            + completion * entry["output_pricepermilliontokens"]
        ) / 1e6
        assert response.headers["x-cost-cents"] == f"{cents:.4f}"
        assert response.json()["usage"]["cost"] == round(cents / 100, 10)
        total += cents
        tokens += prompt + completion
    status = check(client, key)
    assert status["credits_used"] == round(total, 10)
    assert status["tokens_today"] == status["total_tokens"] == tokens
    assert status["requests_today"] == status["total_requests"] == 2
    usage = client.get(f"/_mockair/keys/{key}").json()["usage"]
    assert (usage["tokens_today"], usage["total_tokens"]) == (tokens, tokens)
    assert usage["credits_used"] == round(total, 10)


def test_errors_are_never_billed(asgi: httpx.Client) -> None:
    key = "sk-air-limits-errors"
    register(asgi, key, credit_allowance=1)
    chat(asgi, key, model="gpt-99")
    asgi.post("/v1/chat/completions", json={"model": MINI}, headers=bearer(key))
    asgi.post(
        "/v1/chat/completions",
        json={"model": MINI, "messages": [{"role": "user", "content": "x"}]},
        headers={**bearer(key), "x-mockair-fault": "503"},
    )
    status = check(asgi, key)
    assert (status["credits_used"], status["tokens_today"]) == (0.0, 0)


# -- permissions (step 9) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "denied", "allowed"),
    [
        ({"allowed_models": ["gpt-4.1-mini"]}, MINI, "gpt-4.1-mini"),
        ({"blocked_models": [MINI]}, MINI, "gpt-4.1-mini"),
        ({"allowed_makers": ["anthropic"]}, MINI, "claude-sonnet-4.6"),
        ({"blocked_makers": ["openai"]}, "gpt-4.1-mini", "deepseek-v3.2"),
        ({"allowed_classes": ["image"]}, MINI, None),
        ({"blocked_classes": ["chat"]}, "claude-sonnet-4.6", None),
    ],
)
def test_model_rules(
    asgi: httpx.Client, settings: dict[str, Any], denied: str, allowed: str | None
) -> None:
    key = "sk-air-limits-rules"
    register(asgi, key, **settings)
    assert_error(chat(asgi, key, model=denied), 403, "model_not_allowed", "model")
    messages = {"model": denied, "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}
    assert_error(
        asgi.post("/v1/messages", json=messages, headers=bearer(key)),
        403,
        "model_not_allowed",
        "model",
    )
    responses = asgi.post(
        "/v1/responses", json={"model": denied, "input": "x"}, headers=bearer(key)
    )
    assert_error(responses, 403, "model_not_allowed", "model")
    if allowed is not None:
        assert chat(asgi, key, model=allowed).status_code == 200


@pytest.mark.parametrize(
    ("settings", "route", "body"),
    [
        (
            {"allowed_classes": ["chat"]},
            "/v1/embeddings",
            {"model": "text-embedding-3-small", "input": "x"},
        ),
        (
            {"blocked_classes": ["image"]},
            "/v1/images/generations",
            {"model": "flux", "prompt": "x"},
        ),
        (
            {"blocked_classes": ["audio"]},
            "/v1/audio/speech",
            {"model": "gpt-4o-mini-tts", "input": "x", "voice": "alloy"},
        ),
        (
            {"blocked_classes": ["video"]},
            "/v1/video/generations",
            {"model": "wan-2.6", "prompt": "x"},
        ),
        (
            {"blocked_makers": ["black-forest-labs"]},
            "/v1/images/generations",
            {"model": "flux", "prompt": "x"},
        ),
    ],
)
def test_model_rules_on_other_routes(
    asgi: httpx.Client, settings: dict[str, Any], route: str, body: dict[str, Any]
) -> None:
    key = "sk-air-limits-classes"
    register(asgi, key, **settings)
    assert_error(
        asgi.post(route, json=body, headers=bearer(key)), 403, "model_not_allowed", "model"
    )


def test_permission_checks_come_after_model_resolution_and_validation(asgi: httpx.Client) -> None:
    key = "sk-air-limits-perm-order"
    register(asgi, key, allowed_models=["gpt-4.1-mini"])
    assert_error(
        chat(asgi, key, model="gpt-99"), 404, "model_not_found", "model", type="invalid_request"
    )
    invalid = asgi.post(
        "/v1/chat/completions", json={"model": MINI, "messages": "x"}, headers=bearer(key)
    )
    assert invalid.status_code == 400


@pytest.mark.parametrize("model", ["claude-sonnet-4.6", "gpt-4.1-mini", "deepseek-r1"])
def test_free_tier_is_gated_from_paid_models(asgi: httpx.Client, model: str) -> None:
    assert CATALOGUE[model]["tier"] == "paid"
    key = "sk-air-limits-free"
    register(asgi, key, tier="free")
    assert_error(chat(asgi, key, model=model), 403, "free_tier_gated", "model")
    assert chat(asgi, key, model=MINI).status_code == 200  # a free model
    for tier in ("default", "premium", "paygo"):
        register(asgi, key, tier=tier)
        assert chat(asgi, key, model=model).status_code == 200, tier


def test_model_rules_come_before_tier_gating(asgi: httpx.Client) -> None:
    key = "sk-air-limits-free-blocked"
    register(asgi, key, tier="free", blocked_models=["claude-sonnet-4.6"])
    assert_error(chat(asgi, key, model="claude-sonnet-4.6"), 403, "model_not_allowed", "model")


def test_anonymous_legacy_callers_are_free_tier(client: httpx.Client) -> None:
    body = {"model": "claude-sonnet-4.6", "messages": [{"role": "user", "content": "x"}]}
    assert_error(client.post("/chat/completions", json=body), 403, "free_tier_gated", "model")
    free = client.post("/chat/completions", json={**body, "model": MINI})
    assert free.status_code == 200, free.text
    assert free.headers["x-cost-cents"] == "0.0000"
    assert_error(
        client.get("/imagine", params={"prompt": "a cat", "model": "imagen-4"}),
        403,
        "free_tier_gated",
        "model",
    )
    # keyed legacy callers of a default-tier key may use paid models
    keyed = client.post("/chat/completions", json=body, headers=bearer("sk-air-limits-legacy"))
    assert keyed.status_code == 200, keyed.text


def test_internal_models_are_exempt(asgi: httpx.Client) -> None:
    key = "sk-air-limits-internal"
    register(asgi, key, tier="free", blocked_classes=["chat", "audio"])
    assert asgi.get("/ask", params={"prompt": "hi"}, headers=bearer(key)).status_code == 200
    audio = asgi.get("/get-audio", params={"text": "hi"}, headers=bearer(key))
    assert audio.status_code == 200, audio.text


# -- disabled keys --------------------------------------------------------------------------------


def test_disabled_key_is_401(client: httpx.Client) -> None:
    key = "sk-air-limits-off"
    register(client, key, disabled=True)
    response = chat(client, key)
    error = assert_error(response, 401, "invalid_api_key")
    assert error["message"] == "Invalid API key"
    assert_error(client.get("/check", params={"key": key}), 401, "invalid_api_key")
    register(client, key, disabled=False)
    assert chat(client, key).status_code == 200


def test_keys_file_settings_are_enforced(
    make_client: Clients, settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(
        json.dumps(
            {
                "keys": [
                    {"key": "sk-air-alice", "primary": True, "tier": "premium", "rpm_limit": 600},
                    {
                        "key": "sk-air-alice-ci",
                        "primary": False,
                        "owner": "sk-air-alice",
                        "credit_allowance": 100,
                        "limit_reset": "daily",
                        "allowed_classes": ["chat"],
                    },
                    {"key": "sk-air-free", "tier": "free", "rpm_limit": 1, "daily_token_cap": 1000},
                    {"key": "sk-air-off", "disabled": True},
                ]
            }
        )
    )
    client = make_client(settings_factory(keys=str(path)))
    alice = chat(client, "sk-air-alice", model="claude-sonnet-4.6")
    assert alice.status_code == 200
    assert ratelimit(alice) == ("600", "599", "0.1s")
    embed = client.post(
        "/v1/embeddings",
        json={"model": "text-embedding-3-small", "input": "x"},
        headers=bearer("sk-air-alice-ci"),
    )
    assert_error(embed, 403, "model_not_allowed", "model")
    assert_error(
        chat(client, "sk-air-free", model="claude-sonnet-4.6"), 403, "free_tier_gated", "model"
    )
    assert_error(chat(client, "sk-air-free"), 429, "rate_limit_exceeded")
    assert_error(chat(client, "sk-air-off"), 401, "invalid_api_key")
    ci = check(client, "sk-air-alice-ci")
    assert (ci["primary"], ci["credit_allowance"], ci["limit_reset"], ci["tier"]) == (
        False,
        100,
        "daily",
        "default",
    )


# -- GET /check (§3.12.8) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "info"),
    [
        ("free", "Free key"),
        ("default", "Default key"),
        ("premium", "Premium key"),
        ("paygo", "Pay-as-you-go key"),
    ],
)
def test_check_info_per_tier(asgi: httpx.Client, tier: str, info: str) -> None:
    key = f"sk-air-limits-{tier}"
    register(asgi, key, tier=tier)
    status = check(asgi, key)
    assert (status["info"], status["tier"], status["valid"]) == (info, tier, True)


def test_check_shape_for_an_open_mode_key(client: httpx.Client) -> None:
    key = "sk-air-limits-open-e83d"
    for _ in range(2):
        assert chat(client, key).status_code == 200
    response = client.get("/check", params={"key": key})
    assert response.status_code == 200
    body = response.json()
    tokens = sum(
        e["usage"]["prompt_tokens"] + e["usage"]["completion_tokens"]
        for e in client.get("/_mockair/requests", params={"key": key}).json()["requests"]
        if e["path"] == "/v1/chat/completions"
    )
    assert body == {
        "key": "sk-air-...e83d",
        "valid": True,
        "info": "Default key",
        "tier": "default",
        "primary": True,
        "disabled": False,
        "rpm_limit": None,
        "daily_token_cap": None,
        "credit_allowance": None,
        "credits_used": body["credits_used"],
        "limit_reset": None,
        "requests_today": 2,
        "tokens_today": tokens,
        "total_requests": 2,
        "total_tokens": tokens,
        "images_generated_today": 0,
    }
    assert body["credits_used"] > 0
    assert list(body) == [
        "key",
        "valid",
        "info",
        "tier",
        "primary",
        "disabled",
        "rpm_limit",
        "daily_token_cap",
        "credit_allowance",
        "credits_used",
        "limit_reset",
        "requests_today",
        "tokens_today",
        "total_requests",
        "total_tokens",
        "images_generated_today",
    ]


def test_check_reports_the_key_settings(asgi: httpx.Client) -> None:
    key = "sk-air-limits-settings"
    register(
        asgi,
        key,
        tier="premium",
        rpm_limit=30,
        daily_token_cap=5000,
        credit_allowance=250.5,
        limit_reset="weekly",
    )
    status = check(asgi, key)
    assert {
        k: status[k] for k in ("rpm_limit", "daily_token_cap", "credit_allowance", "limit_reset")
    } == {
        "rpm_limit": 30,
        "daily_token_cap": 5000,
        "credit_allowance": 250.5,
        "limit_reset": "weekly",
    }


def test_check_key_sources(asgi: httpx.Client) -> None:
    query, header = "sk-air-limits-query", "sk-air-limits-bearer"
    register(asgi, query, tier="premium")
    register(asgi, header, tier="free")
    by_header = asgi.get("/check", headers=bearer(header)).json()
    assert (by_header["key"], by_header["tier"]) == ("sk-air-...arer", "free")
    both = asgi.get("/check", params={"key": query}, headers=bearer(header)).json()
    assert (both["key"], both["tier"]) == ("sk-air-...uery", "premium")  # ?key= wins
    v1 = asgi.get("/v1/check", params={"key": query}).json()
    assert v1["tier"] == "premium"
    assert_error(asgi.get("/check"), 401, "missing_api_key")
    assert_error(asgi.get("/check", params={"key": "nope"}), 401, "invalid_api_key")
    assert_error(asgi.get("/check", params={"key": "sk-air-bad key"}), 401, "invalid_api_key")


def test_check_counters_roll_over_at_virtual_midnight(asgi: httpx.Client) -> None:
    key = "sk-air-limits-rollover"
    usage_stub(asgi, key, 10, 5)
    for _ in range(3):
        assert chat(asgi, key).status_code == 200
    today = check(asgi, key)
    assert (today["requests_today"], today["tokens_today"]) == (3, 45)
    advance(asgi, DAY)
    tomorrow = check(asgi, key)
    assert (tomorrow["requests_today"], tomorrow["tokens_today"]) == (0, 0)
    assert tomorrow["total_tokens"] == 45
    assert tomorrow["total_requests"] >= 3
    assert asgi.get("/_mockair/clock").json()["now"] == EPOCH + DAY


def test_images_generated_today(asgi: httpx.Client) -> None:
    key = "sk-air-limits-images"
    for prompt in ("a cat", "a dog"):
        response = asgi.post(
            "/v1/images/generations", json={"model": "flux", "prompt": prompt}, headers=bearer(key)
        )
        assert response.status_code == 200, response.text
    assert check(asgi, key)["images_generated_today"] == 2


# -- concurrent video tasks -----------------------------------------------------------------------


def test_concurrent_video_tasks(asgi: httpx.Client) -> None:
    key = "sk-air-limits-video"
    body = {"model": "wan-2.6", "prompt": "A fox"}
    for _ in range(4):
        assert asgi.post("/v1/video/generations", json=body, headers=bearer(key)).status_code == 200
    advance(asgi, 2)
    busy = asgi.post("/v1/video/generations", json=body, headers=bearer(key))
    assert_error(busy, 429, "concurrent_task_limit")
    assert busy.json()["retry_after"] == 4.0  # completes at t0 + Q + S = 6
    assert busy.headers["retry-after"] == "4"
    other = asgi.post("/v1/video/generations", json=body, headers=bearer("sk-air-limits-video2"))
    assert other.status_code == 200
    advance(asgi, 4)
    assert asgi.post("/v1/video/generations", json=body, headers=bearer(key)).status_code == 200
