"""/v1/keys (CONTRACT §3.10): an account's secondary keys, managed by its primary key only —
full key shown once at creation, masked afterwards, Cache-Control: no-store on every response,
100-key cap — and how created keys behave (scope shared with the primary, own limits).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mockair import Settings
from tests.conftest import Clients
from tests.helpers import assert_error

PRIMARY = "sk-air-keys-owner"
OTHER = "sk-air-keys-other-account"
MINI = "gpt-4o-mini"
FULL_KEY = re.compile(r"sk-air-[0-9a-f]{64}")
API_KEY_FIELDS = [
    "key",
    "label",
    "created_at",
    "disabled",
    "tier",
    "rpm_limit",
    "daily_token_cap",
    "credit_allowance",
    "credits_used",
    "limit_reset",
    "allowed_models",
    "blocked_models",
    "allowed_makers",
    "blocked_makers",
    "allowed_classes",
    "blocked_classes",
    "allowed_ips",
    "allowed_channels",
    "blocked_channels",
    "allowed_methods",
    "blocked_methods",
]
CI_BODY = {
    "label": "ci",
    "rpm_limit": 60,
    "credit_allowance": 500,
    "limit_reset": "daily",
    "allowed_classes": ["chat"],
}


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def minted(scope: str, n: int) -> str:
    return "sk-air-" + hashlib.sha256(f"0|{scope}|sk-air-|{n}".encode()).hexdigest()


def mask(key: str) -> str:
    return "sk-air-..." + key[-4:]


@pytest.fixture
def asgi(settings_factory: Callable[..., Settings]) -> Iterator[httpx.Client]:
    clients = Clients("asgi")
    yield clients(settings_factory())
    clients.close()


def no_store(response: httpx.Response) -> httpx.Response:
    assert response.headers["cache-control"] == "no-store", (response.status_code, response.text)
    return response


def create(
    client: httpx.Client, body: dict[str, Any] | None = None, key: str = PRIMARY
) -> dict[str, Any]:
    response = no_store(client.post("/v1/keys", json=body or {}, headers=bearer(key)))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def chat(client: httpx.Client, key: str) -> httpx.Response:
    body = {"model": MINI, "messages": [{"role": "user", "content": "hi"}]}
    return client.post("/v1/chat/completions", json=body, headers=bearer(key))


# -- lifecycle -----------------------------------------------------------------------------------


def test_lifecycle(client: httpx.Client) -> None:
    created = create(client, CI_BODY)
    key = created["key"]
    assert FULL_KEY.fullmatch(key)
    assert key == minted(PRIMARY, 1)
    assert created == {
        "key": key,
        "label": "ci",
        "created_at": "2026-01-01T00:00:00Z",
        "disabled": False,
        "tier": "default",
        "rpm_limit": 60,
        "daily_token_cap": None,
        "credit_allowance": 500,
        "credits_used": 0.0,
        "limit_reset": "daily",
        "allowed_models": [],
        "blocked_models": [],
        "allowed_makers": [],
        "blocked_makers": [],
        "allowed_classes": ["chat"],
        "blocked_classes": [],
        "allowed_ips": [],
        "allowed_channels": [],
        "blocked_channels": [],
        "allowed_methods": [],
        "blocked_methods": [],
    }
    assert list(created) == API_KEY_FIELDS

    # the new key works, with its own limits
    answered = chat(client, key)
    assert answered.status_code == 200, answered.text
    assert answered.headers["x-ratelimit-limit-requests"] == "60"
    embed = client.post(
        "/v1/embeddings",
        json={"model": "text-embedding-3-small", "input": "x"},
        headers=bearer(key),
    )
    assert_error(embed, 403, "model_not_allowed", "model")

    listed = no_store(client.get("/v1/keys", headers=bearer(PRIMARY)))
    assert listed.status_code == 200
    body = listed.json()
    assert list(body) == ["keys", "total"]
    assert body["total"] == 1
    assert body["keys"][0] == {
        **created,
        "key": mask(key),
        "credits_used": body["keys"][0]["credits_used"],
    }
    assert body["keys"][0]["credits_used"] > 0  # the chat call above
    assert key not in listed.text

    patched = no_store(
        client.patch(
            f"/v1/keys/{key}", json={"label": "nightly", "rpm_limit": 5}, headers=bearer(PRIMARY)
        )
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["key"] == mask(key)
    assert (patched.json()["label"], patched.json()["rpm_limit"]) == ("nightly", 5)
    assert patched.json()["allowed_classes"] == ["chat"]  # partial update
    assert key not in patched.text
    assert chat(client, key).headers["x-ratelimit-limit-requests"] == "5"

    deleted = no_store(client.delete(f"/v1/keys/{key}", headers=bearer(PRIMARY)))
    assert deleted.status_code == 200
    assert deleted.json() == {"deleted": True}
    assert_error(chat(client, key), 401, "invalid_api_key")
    again = no_store(client.delete(f"/v1/keys/{key}", headers=bearer(PRIMARY)))
    assert_error(again, 404, "key_not_found", "key")
    assert no_store(client.get("/v1/keys", headers=bearer(PRIMARY))).json() == {
        "keys": [],
        "total": 0,
    }


def test_defaults_of_an_empty_body(asgi: httpx.Client) -> None:
    created = create(asgi, {})
    assert {k: v for k, v in created.items() if k != "key"} == {
        "label": None,
        "created_at": "2026-01-01T00:00:00Z",
        "disabled": False,
        "tier": "default",
        "rpm_limit": None,
        "daily_token_cap": None,
        "credit_allowance": None,
        "credits_used": 0.0,
        "limit_reset": None,
        **{name: [] for name in API_KEY_FIELDS[10:]},
    }
    no_body = no_store(asgi.post("/v1/keys", headers=bearer(PRIMARY)))
    assert no_body.status_code == 200, no_body.text
    assert no_body.json()["key"] == minted(PRIMARY, 2)


def test_created_at_follows_the_virtual_clock(asgi: httpx.Client) -> None:
    assert asgi.post("/_mockair/clock", json={"advance": 90}).status_code == 200
    assert create(asgi)["created_at"] == "2026-01-01T00:01:30Z"


def test_list_in_creation_order(asgi: httpx.Client) -> None:
    keys = [create(asgi, {"label": f"k{i}"})["key"] for i in range(3)]
    assert keys == [minted(PRIMARY, n) for n in (1, 2, 3)]
    listed = asgi.get("/v1/keys", headers=bearer(PRIMARY)).json()
    assert [k["key"] for k in listed["keys"]] == [mask(k) for k in keys]
    assert [k["label"] for k in listed["keys"]] == ["k0", "k1", "k2"]
    assert listed["total"] == 3
    other = asgi.get("/v1/keys", headers=bearer(OTHER)).json()
    assert other == {"keys": [], "total": 0}


def test_patch_and_delete_by_masked_key(asgi: httpx.Client) -> None:
    key = create(asgi)["key"]
    patched = asgi.patch(f"/v1/keys/{mask(key)}", json={"tier": "premium"}, headers=bearer(PRIMARY))
    assert patched.status_code == 200, patched.text
    assert patched.json()["tier"] == "premium"
    assert asgi.get("/check", params={"key": key}).json()["info"] == "Premium key"
    deleted = asgi.delete(f"/v1/keys/{mask(key)}", headers=bearer(PRIMARY))
    assert deleted.json() == {"deleted": True}
    assert_error(chat(asgi, key), 401, "invalid_api_key")


def test_disable_and_enable_by_patch(client: httpx.Client) -> None:
    key = create(client)["key"]
    assert chat(client, key).status_code == 200
    off = client.patch(f"/v1/keys/{key}", json={"disabled": True}, headers=bearer(PRIMARY))
    assert off.json()["disabled"] is True
    error = assert_error(chat(client, key), 401, "invalid_api_key")
    assert error["message"] == "Invalid API key"
    on = client.patch(f"/v1/keys/{key}", json={"disabled": False}, headers=bearer(PRIMARY))
    assert on.json()["disabled"] is False
    assert chat(client, key).status_code == 200


def test_x_api_key_is_accepted(asgi: httpx.Client) -> None:
    response = no_store(asgi.post("/v1/keys", json={}, headers={"x-api-key": PRIMARY}))
    assert response.status_code == 200
    listed = asgi.get("/v1/keys", headers={"x-api-key": PRIMARY}).json()
    assert listed["total"] == 1


# -- who may call ---------------------------------------------------------------------------------


def test_secondary_keys_get_403_primary_key_required(client: httpx.Client) -> None:
    secondary = create(client)["key"]
    calls = [
        client.post("/v1/keys", json={}, headers=bearer(secondary)),
        client.get("/v1/keys", headers=bearer(secondary)),
        client.patch(f"/v1/keys/{secondary}", json={"label": "x"}, headers=bearer(secondary)),
        client.delete(f"/v1/keys/{secondary}", headers=bearer(secondary)),
    ]
    for response in calls:
        no_store(response)
        assert_error(response, 403, "primary_key_required")
    assert client.get("/v1/keys", headers=bearer(PRIMARY)).json()["total"] == 1


def test_registered_secondary_keys_are_refused_too(asgi: httpx.Client) -> None:
    child = "sk-air-keys-registered-child"
    body = {"key": child, "primary": False, "owner": PRIMARY}
    assert asgi.post("/_mockair/keys", json=body).status_code == 200
    assert_error(no_store(asgi.get("/v1/keys", headers=bearer(child))), 403, "primary_key_required")
    # a registered secondary is one of the account's keys
    assert [k["key"] for k in asgi.get("/v1/keys", headers=bearer(PRIMARY)).json()["keys"]] == [
        mask(child)
    ]


def test_other_accounts_keys_are_404(client: httpx.Client) -> None:
    theirs = create(client, key=OTHER)["key"]
    mine = create(client)["key"]
    for method in ("PATCH", "DELETE"):
        for target in (theirs, mask(theirs), PRIMARY, "sk-air-never-made", mine + "x"):
            kwargs: dict[str, Any] = {"json": {"label": "x"}} if method == "PATCH" else {}
            response = client.request(
                method, f"/v1/keys/{target}", headers=bearer(PRIMARY), **kwargs
            )
            no_store(response)
            assert_error(response, 404, "key_not_found", "key")
    assert chat(client, theirs).status_code == 200  # untouched


def test_cache_control_on_every_error(asgi: httpx.Client) -> None:
    responses = [
        asgi.get("/v1/keys"),
        asgi.post("/v1/keys", json={}),
        asgi.get("/v1/keys", headers=bearer("not-a-key")),
        asgi.post("/v1/keys", json={"tier": "gold"}, headers=bearer(PRIMARY)),
        asgi.post("/v1/keys", json={"rpm_limit": 0}, headers=bearer(PRIMARY)),
        asgi.post("/v1/keys", json={"surprise": 1}, headers=bearer(PRIMARY)),
        asgi.post("/v1/keys", content=b"{", headers=bearer(PRIMARY)),
        asgi.patch("/v1/keys/sk-air-nope", json={}, headers=bearer(PRIMARY)),
        asgi.put("/v1/keys", json={}, headers=bearer(PRIMARY)),
    ]
    assert [r.status_code for r in responses] == [401, 401, 401, 400, 400, 400, 400, 404, 405]
    for response in responses:
        no_store(response)
    assert_error(responses[0], 401, "missing_api_key")
    assert_error(responses[2], 401, "invalid_api_key")
    assert_error(responses[3], 400, "invalid_value", "tier")
    assert_error(responses[4], 400, "invalid_value", "rpm_limit")
    assert_error(responses[5], 400, "unknown_field", "surprise")
    assert_error(responses[6], 400, "invalid_json")
    assert_error(responses[7], 404, "key_not_found", "key")


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"label": "x" * 101}, "invalid_value", "label"),
        ({"rpm_limit": 100001}, "invalid_value", "rpm_limit"),
        ({"daily_token_cap": 0}, "invalid_value", "daily_token_cap"),
        ({"credit_allowance": -1}, "invalid_value", "credit_allowance"),
        ({"limit_reset": "hourly"}, "invalid_value", "limit_reset"),
        ({"allowed_classes": ["robot"]}, "invalid_value", "allowed_classes.0"),
        ({"disabled": True}, "unknown_field", "disabled"),  # PATCH only
        ({"rpm_limit": "60"}, "invalid_type", "rpm_limit"),
    ],
)
def test_create_validation(asgi: httpx.Client, body: dict[str, Any], code: str, param: str) -> None:
    response = no_store(asgi.post("/v1/keys", json=body, headers=bearer(PRIMARY)))
    assert_error(response, 400, code, param)
    assert asgi.get("/v1/keys", headers=bearer(PRIMARY)).json()["total"] == 0


def test_key_limit_of_100(asgi: httpx.Client) -> None:
    for _ in range(100):
        assert asgi.post("/v1/keys", json={}, headers=bearer(PRIMARY)).status_code == 200
    refused = no_store(asgi.post("/v1/keys", json={}, headers=bearer(PRIMARY)))
    assert_error(refused, 403, "key_limit_reached")
    assert asgi.get("/v1/keys", headers=bearer(PRIMARY)).json()["total"] == 100
    assert asgi.post("/v1/keys", json={}, headers=bearer(OTHER)).status_code == 200  # per account
    first = asgi.get("/v1/keys", headers=bearer(PRIMARY)).json()["keys"][0]["key"]
    asgi.delete(f"/v1/keys/{first}", headers=bearer(PRIMARY))
    assert asgi.post("/v1/keys", json={}, headers=bearer(PRIMARY)).status_code == 200


# -- created keys in use --------------------------------------------------------------------------


def test_secondary_keys_share_the_primary_scope_but_not_its_limits(client: httpx.Client) -> None:
    assert client.post("/_mockair/keys", json={"key": PRIMARY, "rpm_limit": 1}).status_code == 200
    secondary = create(client, {"rpm_limit": 2})["key"]  # the primary's one token is used here
    assert_error(chat(client, PRIMARY), 429, "rate_limit_exceeded")
    assert chat(client, secondary).status_code == 200
    assert chat(client, secondary).status_code == 200
    assert_error(chat(client, secondary), 429, "rate_limit_exceeded")
    entries = client.get("/_mockair/requests", params={"key": PRIMARY}).json()["requests"]
    assert [(e["method"], e["path"], e["key"], e["status"]) for e in entries] == [
        ("POST", "/v1/keys", mask(PRIMARY), 200),
        ("POST", "/v1/chat/completions", mask(PRIMARY), 429),
        ("POST", "/v1/chat/completions", mask(secondary), 200),
        ("POST", "/v1/chat/completions", mask(secondary), 200),
        ("POST", "/v1/chat/completions", mask(secondary), 429),
    ]
    assert {e["scope"] for e in entries} == {mask(PRIMARY)}
    via_secondary = client.get("/_mockair/requests", params={"key": secondary}).json()
    assert via_secondary["total"] == 5  # the same account
    client.post("/_mockair/clock", json={"advance": 60})  # /check takes a token too
    status = client.get("/check", params={"key": secondary}).json()
    assert (status["primary"], status["requests_today"], status["rpm_limit"]) == (False, 3, 2)


def test_secondary_key_stub_and_usage(asgi: httpx.Client) -> None:
    secondary = create(asgi, {"credit_allowance": 1})["key"]
    stub = {"match": {"key": PRIMARY}, "respond": {"text": "x", "usage": {"prompt_tokens": 100000}}}
    assert asgi.post("/_mockair/stubs", json=stub).status_code == 200
    assert chat(asgi, secondary).status_code == 200  # 1.5 cents, charged to the secondary key
    assert_error(chat(asgi, secondary), 429, "insufficient_balance")
    assert chat(asgi, PRIMARY).status_code == 200  # the primary has no allowance
    listed = asgi.get("/v1/keys", headers=bearer(PRIMARY)).json()["keys"]
    assert listed[0]["credits_used"] == round((100000 * 15 + 1 * 60) / 1e6, 10)


def test_created_keys_work_in_strict_mode(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    client = make_client(settings_factory(strict_keys=True, keys=[{"key": PRIMARY}]))
    assert_error(chat(client, "sk-air-keys-unregistered"), 401, "invalid_api_key")
    created = create(client)["key"]
    assert chat(client, created).status_code == 200
    assert client.post("/_mockair/reset", json={}).status_code == 200
    assert_error(chat(client, created), 401, "invalid_api_key")  # /v1/keys keys are runtime keys
    assert chat(client, PRIMARY).status_code == 200  # the keys file is reloaded
