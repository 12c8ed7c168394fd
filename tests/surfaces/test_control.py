"""The control plane /_mockair (CONTRACT §4): health, clock, journal, keys, reset, stubs, faults."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockair import Settings
from mockair.state.media import MediaItem
from tests.conftest import EPOCH, Clients, state_of
from tests.helpers import assert_error
from tests.state.test_journal import make_entry

REQ_ID = re.compile(r"req_[0-9a-f]{24}")
ALICE = "sk-air-alice-0000aaaa"
BOB = "sk-air-bob-0000bbbb"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def journal(client: httpx.Client, **params: Any) -> dict[str, Any]:
    return ok(client.get("/_mockair/requests", params=params))  # type: ignore[no-any-return]


def paths(client: httpx.Client, **params: Any) -> list[str]:
    return [e["path"] for e in journal(client, **params)["requests"]]


# -- health ----------------------------------------------------------------------------------


def test_health_shape_and_values(client: httpx.Client) -> None:
    response = client.get("/_mockair/health")
    body = ok(response)
    assert list(body) == [
        "status",
        "version",
        "seed",
        "strict_keys",
        "allow_unknown_fields",
        "realtime",
        "task_seconds",
        "models",
        "uptime_seconds",
        "clock",
    ]
    assert body["status"] == "ok"
    assert body["version"] == "0.1.0"
    assert body["seed"] == 0
    assert body["strict_keys"] is False
    assert body["allow_unknown_fields"] is False
    assert body["realtime"] is False
    assert body["task_seconds"] == 5
    assert body["models"] == 81
    assert isinstance(body["uptime_seconds"], int | float)
    assert 0 <= body["uptime_seconds"] < 600
    assert body["clock"] == {
        "now": float(EPOCH),
        "iso": "2026-01-01T00:00:00Z",
        "epoch": float(EPOCH),
        "speed": 0.0,
        "frozen": False,
        "advanced": 0.0,
    }
    assert list(body["clock"]) == ["now", "iso", "epoch", "speed", "frozen", "advanced"]


def test_health_reflects_settings(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    client = make_client(
        settings_factory(
            seed=7,
            strict_keys=True,
            allow_unknown_fields=True,
            realtime=True,
            task_seconds=2,
            clock_speed=3,
        )
    )
    body = ok(client.get("/_mockair/health"))
    assert body["seed"] == 7
    assert body["strict_keys"] is True
    assert body["allow_unknown_fields"] is True
    assert body["realtime"] is True
    assert body["task_seconds"] == 2
    assert body["clock"]["speed"] == 3.0
    assert body["clock"]["epoch"] == float(EPOCH)


def test_health_is_not_journaled_and_answers_head(client: httpx.Client) -> None:
    assert client.head("/_mockair/health").status_code == 200
    client.get("/_mockair/health")
    assert journal(client) == {"requests": [], "total": 0}


# -- clock -----------------------------------------------------------------------------------


def clock(client: httpx.Client, **body: Any) -> dict[str, Any]:
    return ok(client.post("/_mockair/clock", json=body))  # type: ignore[no-any-return]


def test_clock_get(client: httpx.Client) -> None:
    assert ok(client.get("/_mockair/clock")) == {
        "now": 1767225600.0,
        "iso": "2026-01-01T00:00:00Z",
        "epoch": 1767225600.0,
        "speed": 0.0,
        "frozen": False,
        "advanced": 0.0,
    }


def test_clock_advance_accumulates(client: httpx.Client) -> None:
    body = clock(client, advance=6)
    assert body["now"] == EPOCH + 6
    assert body["iso"] == "2026-01-01T00:00:06Z"
    assert body["advanced"] == 6.0
    body = clock(client, advance=0.5)
    assert body["now"] == EPOCH + 6.5
    assert body["iso"] == "2026-01-01T00:00:06Z"  # floored
    assert body["advanced"] == 6.5
    assert body["epoch"] == float(EPOCH)
    assert ok(client.get("/_mockair/clock")) == body


def test_clock_set_unix_seconds(client: httpx.Client) -> None:
    body = clock(client, set=EPOCH + 86400)
    assert body["now"] == EPOCH + 86400
    assert body["iso"] == "2026-01-02T00:00:00Z"
    assert body["epoch"] == float(EPOCH)
    # now = epoch + real elapsed × speed + manual advances (CONTRACT §2.8): a set is an advance.
    assert body["advanced"] == 86400.0
    assert clock(client, set=str(EPOCH + 86400 + 30))["now"] == EPOCH + 86430


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-01-02T00:00:00Z", EPOCH + 86400),
        ("2026-01-01T01:00:00+00:00", EPOCH + 3600),
        ("2026-01-01T03:00:00+02:00", EPOCH + 3600),
        ("2026-01-01T00:00:10", EPOCH + 10),  # no offset = UTC
    ],
)
def test_clock_set_iso(client: httpx.Client, moment: str, expected: int) -> None:
    body = clock(client, set=moment)
    assert body["now"] == expected


def test_clock_set_now_is_allowed(client: httpx.Client) -> None:
    assert clock(client, set=EPOCH)["now"] == EPOCH


@pytest.mark.parametrize("moment", [EPOCH - 1, "2025-12-31T23:59:59Z", 0])
def test_clock_set_in_the_past_is_400(client: httpx.Client, moment: Any) -> None:
    assert_error(client.post("/_mockair/clock", json={"set": moment}), 400, "invalid_value", "set")
    assert ok(client.get("/_mockair/clock"))["now"] == EPOCH


def test_clock_set_in_the_past_after_an_advance(client: httpx.Client) -> None:
    clock(client, advance=100)
    response = client.post("/_mockair/clock", json={"set": EPOCH + 50})
    assert_error(response, 400, "invalid_value", "set")
    assert ok(client.get("/_mockair/clock"))["now"] == EPOCH + 100


def test_clock_set_garbage_is_400(client: httpx.Client) -> None:
    assert_error(
        client.post("/_mockair/clock", json={"set": "tomorrow"}), 400, "invalid_value", "set"
    )


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"advance": -1}, "invalid_value", "advance"),
        ({"speed": -0.5}, "invalid_value", "speed"),
        ({"advance": "10"}, "invalid_type", "advance"),
        ({"freeze": "yes"}, "invalid_type", "freeze"),
        ({"rewind": 10}, "unknown_field", "rewind"),
    ],
)
def test_clock_validation(
    client: httpx.Client, body: dict[str, Any], code: str, param: str
) -> None:
    assert_error(client.post("/_mockair/clock", json=body), 400, code, param)
    assert ok(client.get("/_mockair/clock"))["now"] == EPOCH


def test_clock_speed_makes_time_run(client: httpx.Client) -> None:
    body = clock(client, speed=1000)
    assert body["speed"] == 1000.0
    start = body["now"]
    time.sleep(0.05)
    now = ok(client.get("/_mockair/clock"))["now"]
    assert now >= start + 40  # 0.05 s real × 1000
    assert now < start + 100000


def test_clock_freeze_and_unfreeze(client: httpx.Client) -> None:
    clock(client, speed=1000)
    frozen = clock(client, freeze=True)
    assert frozen["frozen"] is True
    assert frozen["speed"] == 1000.0
    time.sleep(0.03)
    assert ok(client.get("/_mockair/clock"))["now"] == frozen["now"]
    thawed = clock(client, freeze=False)
    assert thawed["frozen"] is False
    assert thawed["now"] >= frozen["now"]
    assert thawed["now"] < frozen["now"] + 20  # no jump for the time spent frozen
    time.sleep(0.03)
    assert ok(client.get("/_mockair/clock"))["now"] >= thawed["now"] + 20


def test_clock_frozen_still_advances_manually(client: httpx.Client) -> None:
    clock(client, freeze=True)
    assert clock(client, advance=60)["now"] == EPOCH + 60
    assert clock(client, set=EPOCH + 120)["now"] == EPOCH + 120


def test_clock_applies_set_then_advance(client: httpx.Client) -> None:
    # set before advance: set = now + 5 is valid, then +10. Advance first would make set invalid.
    body = clock(client, advance=10, set=EPOCH + 5)
    assert body["now"] == EPOCH + 15
    assert body["advanced"] == 15.0


def test_clock_applies_advance_then_speed_then_freeze(client: httpx.Client) -> None:
    body = clock(client, freeze=True, speed=1000, advance=6)
    # Speed is applied before freeze, so at most the few real microseconds between the two run
    # at 1000x; after that the clock stands still.
    assert EPOCH + 6 <= body["now"] < EPOCH + 7
    assert body["advanced"] == 6.0
    assert body["speed"] == 1000.0
    assert body["frozen"] is True
    time.sleep(0.02)
    assert ok(client.get("/_mockair/clock"))["now"] == body["now"]


def test_clock_failed_set_changes_nothing_else(client: httpx.Client) -> None:
    response = client.post("/_mockair/clock", json={"set": EPOCH - 10, "advance": 5, "speed": 9})
    assert_error(response, 400, "invalid_value", "set")
    snapshot = ok(client.get("/_mockair/clock"))
    assert (snapshot["now"], snapshot["speed"], snapshot["advanced"]) == (float(EPOCH), 0.0, 0.0)


def test_clock_calls_are_not_journaled(client: httpx.Client) -> None:
    clock(client, advance=1)
    client.get("/_mockair/clock")
    client.post("/_mockair/clock", json={"advance": -1})
    assert journal(client)["total"] == 0


# -- journal ---------------------------------------------------------------------------------


def test_every_api_request_is_journaled_including_errors(client: httpx.Client) -> None:
    client.get("/v1/models/gpt-4o-mini")
    client.get("/v1/nope")
    client.delete("/v1/models")
    client.get("/v1/models/gpt-99")
    client.get("/v1/models", headers=bearer("garbage"))
    client.get("/media/img_nothing.png")
    body = journal(client)
    assert body["total"] == 6
    got = [(e["method"], e["path"], e["status"], e["error_code"]) for e in body["requests"]]
    assert got == [
        ("GET", "/v1/models/gpt-4o-mini", 200, None),
        ("GET", "/v1/nope", 404, "route_not_found"),
        ("DELETE", "/v1/models", 405, "method_not_allowed"),
        ("GET", "/v1/models/gpt-99", 404, "model_not_found"),
        ("GET", "/v1/models", 401, "invalid_api_key"),
        ("GET", "/media/img_nothing.png", 404, "media_not_found"),
    ]


def test_control_plane_calls_are_not_journaled(client: httpx.Client) -> None:
    client.get("/_mockair/health")
    client.get("/_mockair/requests")
    client.post("/_mockair/keys", json={"key": ALICE})
    client.get("/_mockair/keys")
    client.post("/_mockair/stubs", json={"respond": {"text": "hi"}})
    client.post("/_mockair/faults", json={"status": 503})
    client.get("/_mockair/stubs")
    client.get("/_mockair/faults")
    client.post("/_mockair/clock", json={"advance": 1})
    client.post("/_mockair/reset", json={"key": ALICE})
    assert journal(client) == {"requests": [], "total": 0}
    assert len(state_of(client).journal) == 0


def test_entry_shape(client: httpx.Client) -> None:
    response = client.get(
        "/v1/models/gpt-4o-mini?channels=x", headers={**bearer(ALICE), "user-agent": "UA/1"}
    )
    (entry,) = journal(client)["requests"]
    assert list(entry) == [
        "id",
        "request_id",
        "time",
        "method",
        "path",
        "query",
        "key",
        "scope",
        "tier",
        "model",
        "headers",
        "body",
        "files",
        "stream",
        "status",
        "response",
        "usage",
        "cost_cents",
        "stub_id",
        "fault_id",
        "error_code",
        "duration_ms",
    ]
    assert REQ_ID.fullmatch(entry["id"])
    assert entry["request_id"] == entry["id"] == response.headers["x-request-id"]
    assert entry["time"] == float(EPOCH)
    assert entry["method"] == "GET"
    assert entry["path"] == "/v1/models/gpt-4o-mini"
    assert entry["query"] == {"channels": "x"}
    assert entry["key"] == "sk-air-...aaaa"
    assert entry["scope"] == "sk-air-...aaaa"
    assert entry["tier"] == "default"
    assert entry["headers"]["user-agent"] == "UA/1"
    assert entry["body"] is None
    assert entry["files"] == []
    assert entry["stream"] is False
    assert entry["status"] == 200
    assert list(entry["response"]) == ["content_type", "headers", "body", "size", "events"]
    assert entry["response"]["content_type"] == "application/json"
    assert entry["response"]["headers"]["cache-control"] == "max-age=60"
    assert entry["response"]["body"] == response.json()
    assert entry["response"]["size"] == len(response.content)
    assert entry["response"]["events"] is None
    assert entry["stub_id"] is None
    assert entry["fault_id"] is None
    assert entry["error_code"] is None
    assert isinstance(entry["duration_ms"], int | float)
    assert entry["duration_ms"] >= 0


def test_anonymous_entry(client: httpx.Client) -> None:
    client.get("/v1/models/gpt-5")
    (entry,) = journal(client)["requests"]
    assert entry["key"] is None
    assert entry["scope"] == "anonymous"
    assert entry["tier"] == "free"


def test_entry_time_is_virtual(client: httpx.Client) -> None:
    clock(client, advance=42.25)
    client.get("/v1/models/gpt-5")
    assert journal(client)["requests"][0]["time"] == EPOCH + 42.25


def test_keys_are_redacted_everywhere(client: httpx.Client) -> None:
    client.get(
        "/v1/models/gpt-5",
        params={"key": "sk-air-querysecret9876"},
        headers={
            "authorization": "Bearer sk-air-headersecret1234",
            "x-api-key": "sk-air-xkeysecret5678",
        },
    )
    response = client.get("/_mockair/requests")
    (entry,) = response.json()["requests"]
    assert entry["key"] == "sk-air-...1234"
    assert entry["scope"] == "sk-air-...1234"
    assert entry["headers"]["authorization"] == "Bearer sk-air-...1234"
    assert entry["headers"]["x-api-key"] == "sk-air-...5678"
    assert entry["query"] == {"key": "sk-air-...9876"}
    for secret in ("headersecret", "xkeysecret", "querysecret"):
        assert secret not in response.text
    one = client.get(f"/_mockair/requests/{entry['id']}")
    for secret in ("headersecret", "xkeysecret", "querysecret"):
        assert secret not in one.text


def test_large_response_bodies_are_truncated(client: httpx.Client) -> None:
    response = client.get("/v1/models")
    assert len(response.content) > 64 * 1024
    (entry,) = journal(client)["requests"]
    assert entry["response"]["body"] == {
        "truncated": True,
        "size": len(response.content),
        "sha256": hashlib.sha256(response.content).hexdigest(),
    }
    assert entry["response"]["size"] == len(response.content)


def test_error_response_bodies_are_captured(client: httpx.Client) -> None:
    response = client.get("/v1/models/gpt-99")
    (entry,) = journal(client)["requests"]
    assert entry["response"]["body"] == response.json()
    assert entry["response"]["body"]["error"]["code"] == "model_not_found"


def test_request_bodies_are_captured_and_truncated(client: httpx.Client) -> None:
    # No API route with a JSON body exists yet, so the entries are written as the pipeline would.
    small = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    large = json.dumps({"model": "gpt-4o-mini", "input": "x" * (70 * 1024)})
    state = state_of(client)
    for n, raw in ((1, small), (2, large)):
        state.journal.write(
            make_entry(
                f"req_manual{n}",
                time=float(EPOCH),
                request_body=raw.encode(),
                request_size=len(raw),
            )
        )
    first, second = journal(client)["requests"]
    assert first["body"] == json.loads(small)
    assert second["body"] == {
        "truncated": True,
        "size": len(large),
        "sha256": hashlib.sha256(large.encode()).hexdigest(),
    }


def make_traffic(client: httpx.Client) -> list[str]:
    """Five requests over two keys and two virtual times; returns their journal ids."""
    ids = [
        client.get("/v1/models/gpt-4o-mini").headers["x-request-id"],
        client.get("/v1/models/gpt-5", headers=bearer(ALICE)).headers["x-request-id"],
        client.get("/v1/models/gpt-99", headers=bearer(BOB)).headers["x-request-id"],
        client.delete("/v1/models").headers["x-request-id"],
    ]
    clock(client, advance=10)
    ids.append(client.get("/v1/models/flux", headers=bearer(ALICE)).headers["x-request-id"])
    return ids


@pytest.mark.parametrize(
    ("params", "expected", "total"),
    [
        ({}, [0, 1, 2, 3, 4], 5),
        ({"key": ALICE}, [1, 4], 2),
        ({"key": BOB}, [2], 1),
        ({"path": "/v1/models"}, [3], 1),
        ({"path": "/v1/models/gpt-5"}, [1], 1),
        ({"path": "/v1/models*"}, [0, 1, 2, 3, 4], 5),
        ({"path": "/v1/models/*"}, [0, 1, 2, 4], 4),
        ({"path": "/media/*"}, [], 0),
        ({"path": "/v1/*"}, [0, 1, 2, 3, 4], 5),
        ({"path": "/v1/model"}, [], 0),
        ({"method": "DELETE"}, [3], 1),
        ({"method": "GET"}, [0, 1, 2, 4], 4),
        ({"status": 404}, [2], 1),
        ({"status": 405}, [3], 1),
        ({"status": 200}, [0, 1, 4], 3),
        ({"since": EPOCH + 10}, [4], 1),
        ({"since": EPOCH + 10.5}, [], 0),
        ({"since": EPOCH}, [0, 1, 2, 3, 4], 5),
        ({"limit": 2}, [3, 4], 5),
        ({"limit": 0}, [], 5),
        ({"limit": 50}, [0, 1, 2, 3, 4], 5),
        ({"key": ALICE, "limit": 1}, [4], 2),
        ({"key": ALICE, "method": "GET", "status": 200}, [1, 4], 2),
        ({"path": "/v1/models*", "since": EPOCH, "status": 200, "limit": 2}, [1, 4], 3),
        ({"path": "/v1/models/*", "status": 404}, [2], 1),
    ],
)
def test_journal_filters(
    client: httpx.Client, params: dict[str, Any], expected: list[int], total: int
) -> None:
    ids = make_traffic(client)
    body = journal(client, **params)
    assert [e["id"] for e in body["requests"]] == [ids[i] for i in expected]
    assert body["total"] == total


def test_journal_model_filter(client: httpx.Client) -> None:
    state = state_of(client)
    for n, model in enumerate(["gpt-4o-mini", "gpt-5", None, "gpt-4o-mini"]):
        state.journal.write(make_entry(f"req_m{n}", time=float(EPOCH), model=model))
    assert [e["id"] for e in journal(client, model="gpt-4o-mini")["requests"]] == [
        "req_m0",
        "req_m3",
    ]
    assert journal(client, model="gpt-5")["total"] == 1
    assert journal(client, model="claude")["total"] == 0


def test_journal_is_oldest_first(client: httpx.Client) -> None:
    for n in range(4):
        client.get("/v1/models/gpt-5", params={"n": str(n)})
    assert [e["query"]["n"] for e in journal(client)["requests"]] == ["0", "1", "2", "3"]


def test_get_one_entry(client: httpx.Client) -> None:
    request_id = client.get("/v1/models/gpt-5").headers["x-request-id"]
    listed = journal(client)["requests"][0]
    one = ok(client.get(f"/_mockair/requests/{request_id}"))
    assert one == listed
    assert one["id"] == request_id


def test_get_unknown_entry_is_404(client: httpx.Client) -> None:
    response = client.get("/_mockair/requests/req_000000000000000000000000")
    # CONTRACT §2.5's code table has no code for an unknown journal entry; mockair's choice.
    assert_error(response, 404, "request_not_found", "id")


def test_client_request_id_is_echoed_but_the_journal_id_is_generated(
    client: httpx.Client,
) -> None:
    response = client.get("/v1/models/gpt-5", headers={"x-request-id": "trace-abc-123"})
    assert response.headers["x-request-id"] == "trace-abc-123"
    (entry,) = journal(client)["requests"]
    assert entry["request_id"] == "trace-abc-123"
    assert REQ_ID.fullmatch(entry["id"])
    assert ok(client.get(f"/_mockair/requests/{entry['id']}"))["request_id"] == "trace-abc-123"
    assert client.get("/_mockair/requests/trace-abc-123").status_code == 404


def test_invalid_client_request_id_is_replaced(client: httpx.Client) -> None:
    response = client.get("/v1/models/gpt-5", headers={"x-request-id": "has space"})
    (entry,) = journal(client)["requests"]
    assert entry["request_id"] == entry["id"] == response.headers["x-request-id"]


def test_delete_all_entries(client: httpx.Client) -> None:
    make_traffic(client)
    assert ok(client.delete("/_mockair/requests")) == {"deleted": 5}
    assert journal(client) == {"requests": [], "total": 0}
    assert ok(client.delete("/_mockair/requests")) == {"deleted": 0}


def test_delete_entries_of_one_scope(client: httpx.Client) -> None:
    ids = make_traffic(client)
    assert ok(client.delete("/_mockair/requests", params={"key": ALICE})) == {"deleted": 2}
    assert [e["id"] for e in journal(client)["requests"]] == [ids[0], ids[2], ids[3]]
    assert client.get(f"/_mockair/requests/{ids[1]}").status_code == 404
    assert ok(client.delete("/_mockair/requests", params={"key": ALICE})) == {"deleted": 0}


def test_journal_ring_drops_the_oldest(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    client = make_client(settings_factory(journal_size=5))
    ids = [
        client.get("/v1/models/gpt-5", params={"n": str(n)}).headers["x-request-id"]
        for n in range(7)
    ]
    body = journal(client)
    assert body["total"] == 5
    assert [e["id"] for e in body["requests"]] == ids[2:]
    assert [e["query"]["n"] for e in body["requests"]] == ["2", "3", "4", "5", "6"]
    assert client.get(f"/_mockair/requests/{ids[0]}").status_code == 404
    assert client.get(f"/_mockair/requests/{ids[1]}").status_code == 404
    assert ok(client.get(f"/_mockair/requests/{ids[2]}"))["id"] == ids[2]


# -- keys ------------------------------------------------------------------------------------

KEY_VIEW_FIELDS = [
    "key",
    "tier",
    "primary",
    "owner",
    "label",
    "rpm_limit",
    "daily_token_cap",
    "credit_allowance",
    "limit_reset",
    "allowed_models",
    "blocked_models",
    "allowed_makers",
    "blocked_makers",
    "allowed_classes",
    "blocked_classes",
    "disabled",
    "usage",
]
ZERO_USAGE = {
    "requests_today": 0,
    "tokens_today": 0,
    "total_requests": 0,
    "total_tokens": 0,
    "credits_used": 0.0,
}


def key_view(key: str, **settings: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "key": key,
        "tier": "default",
        "primary": True,
        "owner": None,
        "label": None,
        "rpm_limit": None,
        "daily_token_cap": None,
        "credit_allowance": None,
        "limit_reset": None,
        "allowed_models": [],
        "blocked_models": [],
        "allowed_makers": [],
        "blocked_makers": [],
        "allowed_classes": [],
        "blocked_classes": [],
        "disabled": False,
        "usage": ZERO_USAGE,
    }
    view.update(settings)
    return view


def test_register_key_example(client: httpx.Client) -> None:
    body = ok(
        client.post(
            "/_mockair/keys",
            json={"key": "sk-air-limited", "tier": "free", "rpm_limit": 2, "daily_token_cap": 1000},
        )
    )
    assert list(body) == KEY_VIEW_FIELDS
    assert list(body["usage"]) == list(ZERO_USAGE)
    assert body == {
        "key": "sk-air-limited",
        "tier": "free",
        "primary": True,
        "owner": None,
        "label": None,
        "rpm_limit": 2,
        "daily_token_cap": 1000,
        "credit_allowance": None,
        "limit_reset": None,
        "allowed_models": [],
        "blocked_models": [],
        "allowed_makers": [],
        "blocked_makers": [],
        "allowed_classes": [],
        "blocked_classes": [],
        "disabled": False,
        "usage": {
            "requests_today": 0,
            "tokens_today": 0,
            "total_requests": 0,
            "total_tokens": 0,
            "credits_used": 0.0,
        },
    }


def test_register_key_defaults(client: httpx.Client) -> None:
    assert ok(client.post("/_mockair/keys", json={"key": ALICE})) == key_view(ALICE)


def test_register_every_setting(client: httpx.Client) -> None:
    settings = {
        "tier": "premium",
        "label": "ci",
        "rpm_limit": 600,
        "daily_token_cap": 5000,
        "credit_allowance": 100,
        "limit_reset": "weekly",
        "allowed_models": ["gpt-5"],
        "blocked_models": ["gpt-4o-mini"],
        "allowed_makers": ["openai"],
        "blocked_makers": ["google"],
        "allowed_classes": ["chat"],
        "blocked_classes": ["video"],
        "disabled": True,
    }
    body = ok(client.post("/_mockair/keys", json={"key": ALICE, **settings}))
    assert body == key_view(ALICE, **settings)


def test_register_is_an_upsert(client: httpx.Client) -> None:
    ok(client.post("/_mockair/keys", json={"key": ALICE, "tier": "free", "rpm_limit": 5}))
    body = ok(client.post("/_mockair/keys", json={"key": ALICE, "label": "renamed"}))
    assert body == key_view(ALICE, tier="free", rpm_limit=5, label="renamed")
    assert [k["key"] for k in ok(client.get("/_mockair/keys"))["keys"]] == [ALICE]


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"key": "not-a-key"}, "invalid_value", "key"),
        ({"key": ALICE, "tier": "gold"}, "invalid_value", "tier"),
        ({"key": ALICE, "rpm_limit": 0}, "invalid_value", "rpm_limit"),
        ({"key": ALICE, "allowed_classes": ["3d"]}, "invalid_value", "allowed_classes.0"),
        ({"key": ALICE, "disabled": "no"}, "invalid_type", "disabled"),
        ({"key": ALICE, "colour": "red"}, "unknown_field", "colour"),
    ],
)
def test_register_key_validation(
    client: httpx.Client, body: dict[str, Any], code: str, param: str
) -> None:
    assert_error(client.post("/_mockair/keys", json=body), 400, code, param)
    assert ok(client.get("/_mockair/keys")) == {"keys": []}


def test_generated_key_is_sk_air_and_64_hex_from_the_seed(client: httpx.Client) -> None:
    first = ok(client.post("/_mockair/keys", json={}))["key"]
    second = ok(client.post("/_mockair/keys", json={"tier": "free"}))["key"]
    assert re.fullmatch(r"sk-air-[0-9a-f]{64}", first)
    assert first == "sk-air-" + sha("0|global|sk-air-|1")
    assert second == "sk-air-" + sha("0|global|sk-air-|2")
    assert ok(client.get(f"/_mockair/keys/{second}"))["tier"] == "free"


def test_generated_keys_are_deterministic_per_seed(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    one = make_client(settings_factory(seed=7))
    two = make_client(settings_factory(seed=7))
    other = make_client(settings_factory(seed=8))
    keys = [ok(c.post("/_mockair/keys", json={}))["key"] for c in (one, two, other)]
    assert keys[0] == keys[1] == "sk-air-" + sha("7|global|sk-air-|1")
    assert keys[2] == "sk-air-" + sha("8|global|sk-air-|1")


def test_generated_secondary_key_uses_the_owner_scope(client: httpx.Client) -> None:
    ok(client.post("/_mockair/keys", json={"key": ALICE}))
    body = ok(client.post("/_mockair/keys", json={"owner": ALICE}))
    assert body["key"] == "sk-air-" + sha(f"0|{ALICE}|sk-air-|1")
    assert body["primary"] is False
    assert body["owner"] == ALICE


def test_list_get_and_delete_keys(client: httpx.Client) -> None:
    ok(client.post("/_mockair/keys", json={"key": ALICE, "tier": "premium"}))
    ok(client.post("/_mockair/keys", json={"key": BOB}))
    listing = ok(client.get("/_mockair/keys"))
    assert listing == {"keys": [key_view(ALICE, tier="premium"), key_view(BOB)]}
    assert ok(client.get(f"/_mockair/keys/{ALICE}")) == key_view(ALICE, tier="premium")
    assert client.delete(f"/_mockair/keys/{ALICE}").status_code == 200
    assert ok(client.get("/_mockair/keys")) == {"keys": [key_view(BOB)]}
    assert_error(client.get(f"/_mockair/keys/{ALICE}"), 404, "key_not_found", "key")


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_key_is_404(client: httpx.Client, method: str) -> None:
    response = client.request(method, "/_mockair/keys/sk-air-nobody")
    assert_error(response, 404, "key_not_found", "key")


def test_secondary_key_shares_the_owner_scope_in_the_journal(client: httpx.Client) -> None:
    ok(client.post("/_mockair/keys", json={"key": ALICE}))
    child = ok(client.post("/_mockair/keys", json={"key": "sk-air-child-cccc", "owner": ALICE}))
    assert child["primary"] is False
    assert child["owner"] == ALICE
    client.get("/v1/models/gpt-5", headers=bearer(ALICE))
    client.get("/v1/models/gpt-5", headers=bearer("sk-air-child-cccc"))
    client.get("/v1/models/gpt-5", headers=bearer(BOB))
    entries = journal(client, key=ALICE)["requests"]
    assert [(e["key"], e["scope"]) for e in entries] == [
        ("sk-air-...aaaa", "sk-air-...aaaa"),
        ("sk-air-...cccc", "sk-air-...aaaa"),
    ]
    # A secondary key designates its account's scope too.
    assert journal(client, key="sk-air-child-cccc")["total"] == 2
    assert journal(client, key=BOB)["total"] == 1


def test_secondary_key_needs_an_owner(client: httpx.Client) -> None:
    response = client.post("/_mockair/keys", json={"key": ALICE, "primary": False})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "owner"


# -- reset -----------------------------------------------------------------------------------


def fill_state(client: httpx.Client) -> None:
    ok(client.post("/_mockair/keys", json={"key": ALICE, "tier": "free"}))
    ok(client.post("/_mockair/stubs", json={"respond": {"text": "global"}}))
    ok(client.post("/_mockair/stubs", json={"match": {"key": ALICE}, "respond": {"text": "a"}}))
    ok(client.post("/_mockair/faults", json={"status": 503}))
    ok(client.post("/_mockair/faults", json={"match": {"key": BOB}, "status": 500}))
    client.get("/v1/models/gpt-5", headers=bearer(ALICE))
    client.get("/v1/models/gpt-5", headers=bearer(BOB))
    client.get("/v1/models/gpt-5")


@pytest.mark.parametrize("kwargs", [{"json": {}}, {"content": b""}, {}])
def test_global_reset_clears_everything(client: httpx.Client, kwargs: dict[str, Any]) -> None:
    fill_state(client)
    clock(client, advance=500, speed=2)
    response = client.post("/_mockair/reset", **kwargs)
    assert ok(response) == {"reset": True, "scope": "all"}
    assert journal(client) == {"requests": [], "total": 0}
    assert ok(client.get("/_mockair/keys")) == {"keys": []}
    assert ok(client.get("/_mockair/stubs", params={"key": ALICE})) == {"stubs": []}
    assert ok(client.get("/_mockair/faults", params={"key": BOB})) == {"faults": []}
    assert ok(client.get("/_mockair/clock")) == {
        "now": float(EPOCH),
        "iso": "2026-01-01T00:00:00Z",
        "epoch": float(EPOCH),
        "speed": 0.0,
        "frozen": False,
        "advanced": 0.0,
    }


def test_global_reset_unfreezes_the_clock(client: httpx.Client) -> None:
    clock(client, freeze=True, advance=3)
    ok(client.post("/_mockair/reset", json={}))
    snapshot = ok(client.get("/_mockair/clock"))
    assert snapshot["frozen"] is False
    assert snapshot["now"] == float(EPOCH)


def test_global_reset_restarts_id_counters(client: httpx.Client) -> None:
    first_key = ok(client.post("/_mockair/keys", json={}))["key"]
    first_stub = ok(client.post("/_mockair/stubs", json={"respond": {"text": "x"}}))["id"]
    ok(client.post("/_mockair/reset", json={}))
    assert ok(client.post("/_mockair/keys", json={}))["key"] == first_key
    assert ok(client.post("/_mockair/stubs", json={"respond": {"text": "x"}}))["id"] == first_stub


def test_global_reset_clears_media_but_not_voice_previews(client: httpx.Client) -> None:
    state = state_of(client)
    for media_id, expires in (("img_aaaaaaaaaaaaaaaaaaaaaaaa", True), ("aud_preview", False)):
        ext = "png" if media_id.startswith("img_") else "mp3"
        state.media.put(
            MediaItem(media_id, ext, state.now(), "anonymous", data=b"abc", expires=expires)
        )
    ok(client.post("/_mockair/reset", json={}))
    assert client.get("/media/img_aaaaaaaaaaaaaaaaaaaaaaaa.png").status_code == 404
    assert client.get("/media/aud_preview.mp3").content == b"abc"


def test_global_reset_reloads_the_keys_file(
    make_client: Clients, settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [{"key": "sk-air-filed", "tier": "free"}]}))
    client = make_client(settings_factory(keys=str(path)))
    assert ok(client.get("/_mockair/keys")) == {"keys": [key_view("sk-air-filed", tier="free")]}
    ok(client.post("/_mockair/keys", json={"key": "sk-air-filed", "tier": "premium"}))
    ok(client.post("/_mockair/keys", json={"key": ALICE}))
    client.delete("/_mockair/keys/sk-air-filed")
    ok(client.post("/_mockair/reset", json={}))
    assert ok(client.get("/_mockair/keys")) == {"keys": [key_view("sk-air-filed", tier="free")]}
    # The reloaded key is in force: a free key sees only free models.
    data = ok(client.get("/v1/models", headers=bearer("sk-air-filed")))["data"]
    assert {m["tier"] for m in data} == {"free"}


def test_global_reset_reloads_the_stubs_file(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    stubs = {"stubs": [{"respond": {"text": "from file"}}], "faults": [{"status": 503}]}
    client = make_client(settings_factory(stubs=stubs))
    stub_ids = [s["id"] for s in ok(client.get("/_mockair/stubs"))["stubs"]]
    fault_ids = [f["id"] for f in ok(client.get("/_mockair/faults"))["faults"]]
    assert len(stub_ids) == len(fault_ids) == 1
    ok(client.delete("/_mockair/stubs"))
    ok(client.delete("/_mockair/faults"))
    ok(client.post("/_mockair/reset"))
    assert [s["id"] for s in ok(client.get("/_mockair/stubs"))["stubs"]] == stub_ids
    assert [f["id"] for f in ok(client.get("/_mockair/faults"))["faults"]] == fault_ids


def test_scoped_reset_response(client: httpx.Client) -> None:
    key = "sk-air-b72aca5f484ede9e98bc205bab72a66475a0ac365b216602b9fb84beb114e83d"
    assert ok(client.post("/_mockair/reset", json={"key": key})) == {
        "reset": True,
        "scope": "sk-air-...e83d",
    }


def test_scoped_reset_by_a_secondary_key_names_the_account(client: httpx.Client) -> None:
    ok(client.post("/_mockair/keys", json={"key": ALICE}))
    ok(client.post("/_mockair/keys", json={"key": "sk-air-child-cccc", "owner": ALICE}))
    client.get("/v1/models/gpt-5", headers=bearer(ALICE))
    response = client.post("/_mockair/reset", json={"key": "sk-air-child-cccc"})
    assert ok(response) == {"reset": True, "scope": "sk-air-...aaaa"}
    assert journal(client, key=ALICE)["total"] == 0


def test_scoped_reset_clears_only_that_scope(client: httpx.Client) -> None:
    fill_state(client)
    clock(client, advance=30)
    ok(client.post("/_mockair/reset", json={"key": ALICE}))
    entries = journal(client)["requests"]
    assert [e["scope"] for e in entries] == ["sk-air-...bbbb", "anonymous"]
    # ALICE's bound stub is gone, the global one and BOB's fault stay.
    alice_stubs = ok(client.get("/_mockair/stubs", params={"key": ALICE}))["stubs"]
    bob_faults = ok(client.get("/_mockair/faults", params={"key": BOB}))["faults"]
    assert [stub["respond"]["text"] for stub in alice_stubs] == ["global"]
    assert [fault["status"] for fault in bob_faults] == [503, 500]
    # Registered keys and the clock are untouched.
    assert [k["key"] for k in ok(client.get("/_mockair/keys"))["keys"]] == [ALICE]
    assert ok(client.get("/_mockair/clock"))["now"] == EPOCH + 30


def test_scoped_reset_restarts_that_scope_id_counters(client: httpx.Client) -> None:
    def add(key: str) -> str:
        body = {"match": {"key": key}, "respond": {"text": "x"}}
        return str(ok(client.post("/_mockair/stubs", json=body))["id"])

    alice_first = add(ALICE)
    bob_first = add(BOB)
    assert alice_first == "stub_" + sha(f"0|{ALICE}|stub_|1")[:24]
    assert add(ALICE) == "stub_" + sha(f"0|{ALICE}|stub_|2")[:24]
    ok(client.post("/_mockair/reset", json={"key": ALICE}))
    assert add(ALICE) == alice_first
    assert add(BOB) == "stub_" + sha(f"0|{BOB}|stub_|2")[:24] != bob_first


def test_reset_validation(client: httpx.Client) -> None:
    assert_error(client.post("/_mockair/reset", json={"key": "nope"}), 400, "invalid_value", "key")
    assert_error(
        client.post("/_mockair/reset", json={"scope": "all"}), 400, "unknown_field", "scope"
    )
    assert_error(client.post("/_mockair/reset", content=b"{"), 400, "invalid_json")


# -- stubs and faults ------------------------------------------------------------------------

STUB_EXAMPLE = {
    "match": {
        "path": "/v1/chat/completions",
        "method": "POST",
        "model": "gpt-4o-mini",
        "key": "sk-air-test-1",
        "contains": "weather",
        "regex": "\\bParis\\b",
    },
    "respond": {"text": "Sunny, 21 degrees.", "latency_ms": 0},
    "times": 1,
}
FAULT_EXAMPLE = {
    "match": {"path": "/v1/chat/completions", "model": "gpt-4o-mini"},
    "status": 503,
    "type": None,
    "code": None,
    "message": None,
    "param": None,
    "retry_after": None,
    "latency_ms": 0,
    "cut_after_chunks": None,
    "cut_mode": "error",
    "times": 2,
    "after": 1,
}
RULE_ID = {"stubs": re.compile(r"stub_[0-9a-f]{24}"), "faults": re.compile(r"fault_[0-9a-f]{24}")}


def minimal(kind: str, **match: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"respond": {"text": "x"}} if kind == "stubs" else {"status": 500}
    if match:
        body["match"] = match
    return body


def test_add_stub_returns_the_stored_stub(client: httpx.Client) -> None:
    body = ok(client.post("/_mockair/stubs", json=STUB_EXAMPLE))
    assert list(body) == ["id", "match", "respond", "times", "remaining", "hits", "created"]
    assert body == {
        "id": "stub_" + sha("0|sk-air-test-1|stub_|1")[:24],
        "match": STUB_EXAMPLE["match"],
        "respond": STUB_EXAMPLE["respond"],
        "times": 1,
        "remaining": 1,
        "hits": 0,
        "created": EPOCH,
    }


def test_add_global_stub_defaults(client: httpx.Client) -> None:
    clock(client, advance=12.9)
    body = ok(client.post("/_mockair/stubs", json={"respond": {"text": "hi"}}))
    assert body["id"] == "stub_" + sha("0|global|stub_|1")[:24]
    assert body["times"] is None
    assert body["remaining"] is None
    assert body["hits"] == 0
    assert body["created"] == EPOCH + 12
    assert body["respond"] == {"text": "hi"}


def test_add_fault_returns_the_stored_fault(client: httpx.Client) -> None:
    body = ok(client.post("/_mockair/faults", json=FAULT_EXAMPLE))
    assert body["id"] == "fault_" + sha("0|global|fault_|1")[:24]
    keys = list(body)
    assert (keys[0], keys[-1]) == ("id", "created")
    assert body["match"] == FAULT_EXAMPLE["match"]
    assert body["status"] == 503
    assert body["latency_ms"] == 0
    assert body["cut_mode"] == "error"
    assert body["after"] == 1
    assert body["times"] == 2
    assert body["remaining"] == 2
    assert body["hits"] == 0
    assert body["seen"] == 0
    assert body["created"] == EPOCH


def test_fault_status_null_is_kept(client: httpx.Client) -> None:
    body = ok(client.post("/_mockair/faults", json={"status": None, "latency_ms": 50}))
    assert "status" in body
    assert body["status"] is None
    assert body["latency_ms"] == 50
    stored = ok(client.get(f"/_mockair/faults/{body['id']}"))
    assert stored["status"] is None
    assert "status" in stored


@pytest.mark.parametrize("kind", ["stubs", "faults"])
def test_rule_crud(client: httpx.Client, kind: str) -> None:
    singular = kind[:-1]
    first = ok(client.post(f"/_mockair/{kind}", json=minimal(kind)))
    second = ok(client.post(f"/_mockair/{kind}", json=minimal(kind, path="/v1/embeddings")))
    assert RULE_ID[kind].fullmatch(first["id"])
    assert first["id"] != second["id"]
    assert ok(client.get(f"/_mockair/{kind}")) == {kind: [first, second]}
    assert ok(client.get(f"/_mockair/{kind}/{second['id']}")) == second
    assert client.delete(f"/_mockair/{kind}/{first['id']}").status_code == 200
    assert ok(client.get(f"/_mockair/{kind}")) == {kind: [second]}
    assert_error(client.get(f"/_mockair/{kind}/{first['id']}"), 404, f"{singular}_not_found", "id")
    assert_error(
        client.delete(f"/_mockair/{kind}/{first['id']}"), 404, f"{singular}_not_found", "id"
    )
    assert ok(client.delete(f"/_mockair/{kind}")) == {"deleted": 1}
    assert ok(client.get(f"/_mockair/{kind}")) == {kind: []}


@pytest.mark.parametrize("kind", ["stubs", "faults"])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_rule_is_404(client: httpx.Client, kind: str, method: str) -> None:
    response = client.request(method, f"/_mockair/{kind}/{kind[:-1]}_000000000000000000000000")
    assert_error(response, 404, f"{kind[:-1]}_not_found", "id")


@pytest.mark.parametrize("kind", ["stubs", "faults"])
def test_rule_listing_by_scope(client: httpx.Client, kind: str) -> None:
    glob = ok(client.post(f"/_mockair/{kind}", json=minimal(kind)))
    alice = ok(client.post(f"/_mockair/{kind}", json=minimal(kind, key=ALICE)))
    bob = ok(client.post(f"/_mockair/{kind}", json=minimal(kind, key=BOB)))
    assert ok(client.get(f"/_mockair/{kind}")) == {kind: [glob]}
    assert ok(client.get(f"/_mockair/{kind}", params={"key": ALICE})) == {kind: [glob, alice]}
    assert ok(client.get(f"/_mockair/{kind}", params={"key": BOB})) == {kind: [glob, bob]}
    assert ok(client.delete(f"/_mockair/{kind}", params={"key": ALICE})) == {"deleted": 1}
    assert ok(client.get(f"/_mockair/{kind}", params={"key": ALICE})) == {kind: [glob]}
    assert ok(client.get(f"/_mockair/{kind}", params={"key": BOB})) == {kind: [glob, bob]}
    assert ok(client.delete(f"/_mockair/{kind}")) == {"deleted": 2}
    assert ok(client.get(f"/_mockair/{kind}", params={"key": BOB})) == {kind: []}


@pytest.mark.parametrize("kind", ["stubs", "faults"])
def test_rule_bound_to_a_secondary_key_is_in_the_account_scope(
    client: httpx.Client, kind: str
) -> None:
    ok(client.post("/_mockair/keys", json={"key": ALICE}))
    ok(client.post("/_mockair/keys", json={"key": "sk-air-child-cccc", "owner": ALICE}))
    rule = ok(client.post(f"/_mockair/{kind}", json=minimal(kind, key="sk-air-child-cccc")))
    assert rule["id"] == f"{kind[:-1]}_" + sha(f"0|{ALICE}|{kind[:-1]}_|1")[:24]
    assert ok(client.get(f"/_mockair/{kind}", params={"key": ALICE})) == {kind: [rule]}


@pytest.mark.parametrize("kind", ["stubs", "faults"])
def test_invalid_regex_is_400(client: httpx.Client, kind: str) -> None:
    response = client.post(f"/_mockair/{kind}", json=minimal(kind, regex="(unclosed"))
    assert_error(response, 400, "invalid_value", "match.regex")
    assert ok(client.get(f"/_mockair/{kind}")) == {kind: []}


@pytest.mark.parametrize(
    ("kind", "body", "code", "param"),
    [
        ("stubs", {"match": {}}, "missing_field", "respond"),
        ("stubs", {"respond": {"text": "x"}, "times": 0}, "invalid_value", "times"),
        ("stubs", {"respond": {"text": "x"}, "extra": 1}, "unknown_field", "extra"),
        ("stubs", {"respond": {"latency_ms": 60001}}, "invalid_value", "respond.latency_ms"),
        ("faults", {"latency_ms": 60001}, "invalid_value", "latency_ms"),
        ("faults", {"status": "503"}, "invalid_type", "status"),
        ("faults", {"cut_mode": "explode"}, "invalid_value", "cut_mode"),
        ("faults", {"after": -1}, "invalid_value", "after"),
        ("faults", {"match": {"key": "nope"}}, "invalid_value", "match.key"),
    ],
)
def test_rule_validation(
    client: httpx.Client, kind: str, body: dict[str, Any], code: str, param: str
) -> None:
    assert_error(client.post(f"/_mockair/{kind}", json=body), 400, code, param)


def test_stub_and_fault_counters_are_separate(client: httpx.Client) -> None:
    stub = ok(client.post("/_mockair/stubs", json=minimal("stubs")))
    fault = ok(client.post("/_mockair/faults", json=minimal("faults")))
    assert stub["id"] == "stub_" + sha("0|global|stub_|1")[:24]
    assert fault["id"] == "fault_" + sha("0|global|fault_|1")[:24]
