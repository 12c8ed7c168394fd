"""GET /v1/models, /models and /v1/models/{model} (CONTRACT §3.1), over raw httpx and the SDK."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from mockair import Settings
from tests.conftest import EPOCH, Clients, state_of
from tests.helpers import assert_error

# The public Model fields of CONTRACT §3.1.2, in order.
PUBLIC_FIELDS = [
    "id",
    "object",
    "created",
    "owned_by",
    "catalog_id",
    "context_length",
    "max_output_tokens",
    "max_tokens",
    "input_modalities",
    "output_modalities",
    "supports_chat",
    "supports_streaming",
    "supports_vision",
    "supports_tools",
    "supports_reasoning",
    "supports_documents",
    "supports_caching",
    "supports_web_search",
    "supports_images",
    "supports_audio_input",
    "supports_video_input",
    "moderated",
    "moderated_categories",
    "tier",
    "min_tier",
    "status",
    "multiplier",
    "pricepermilliontokens",
    "output_pricepermilliontokens",
    "official_pricepermilliontokens",
    "cache_read_pricepermilliontokens",
    "price_tiers",
    "priceperthousandimages",
    "price_per_million_chars_cents",
    "price_per_audio_minute_cents",
    "price_per_audio_second_cents",
    "price_per_generation_cents",
    "price_per_video_second_cents",
    "latency_ms",
    "ttft_ms",
    "group",
    "supported_parameters",
    "default_parameters",
    "media_type",
    "image_caps",
    "video_caps",
    "speech_caps",
    "audio_caps",
    "sfx_caps",
    "transcription_caps",
    "dubbing_caps",
    "knowledge_cutoff",
    "released_unix",
    "customer_price_table",
]

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "models.json"
CATALOGUE: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["models"]
CATALOGUE_IDS = [m["id"] for m in CATALOGUE]
KIND_CLASS = {
    "chat": "chat",
    "embedding": "embedding",
    "image": "image",
    "video": "video",
    "tts": "audio",
    "music": "audio",
    "sfx": "audio",
    "transcription": "audio",
    "audio_isolation": "audio",
    "voice_changer": "audio",
    "dubbing": "audio",
    "suno": "audio",
    "3d": None,
}


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def listed_ids(client: httpx.Client, key: str | None = None) -> list[str]:
    response = client.get("/v1/models", headers=bearer(key) if key else None)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["data"]]


def register(client: httpx.Client, **settings: Any) -> str:
    response = client.post("/_mockair/keys", json=settings)
    assert response.status_code == 200, response.text
    return str(response.json()["key"])


def ids_where(predicate: Any) -> list[str]:
    return [m["id"] for m in CATALOGUE if predicate(m)]


# -- listing ---------------------------------------------------------------------------------


def test_list_shape_and_catalogue_order(client: httpx.Client) -> None:
    response = client.get("/v1/models")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["object", "data"]
    assert body["object"] == "list"
    assert len(body["data"]) == 81
    assert [m["id"] for m in body["data"]] == CATALOGUE_IDS
    assert CATALOGUE_IDS[:3] == ["gpt-4o-mini", "gpt-4.1-mini", "gpt-5.1-chat"]
    assert CATALOGUE_IDS[-1] == "trellis-2"


def test_every_model_has_the_public_fields_in_order_and_no_private_object(
    client: httpx.Client,
) -> None:
    data = client.get("/v1/models").json()["data"]
    for model in data:
        assert list(model) == PUBLIC_FIELDS, model["id"]
        assert "mockair" not in model
        assert model["object"] == "model"
        assert model["max_tokens"] == model["max_output_tokens"], model["id"]
        assert model["default_parameters"] == {}
        assert model["tier"] in ("free", "paid")
        assert isinstance(model["supported_parameters"], list)
    assert b'"mockair"' not in client.get("/v1/models").content


def test_public_values_match_the_fixture(client: httpx.Client) -> None:
    data = client.get("/v1/models").json()["data"]
    for model, entry in zip(data, CATALOGUE, strict=True):
        for name in PUBLIC_FIELDS:
            if name in ("created", "supported_parameters"):
                continue
            assert model[name] == entry[name], (model["id"], name)


def test_alias_models_is_the_same_list(client: httpx.Client) -> None:
    v1 = client.get("/v1/models")
    legacy = client.get("/models")
    assert legacy.status_code == 200
    assert legacy.json() == v1.json()
    assert legacy.headers["cache-control"] == "max-age=60"


def test_known_entry_example(client: httpx.Client) -> None:
    model = client.get("/v1/models/claude-sonnet-4.6").json()
    assert model["id"] == "claude-sonnet-4.6"
    assert model["owned_by"] == "anthropic"
    assert model["catalog_id"] == "anthropic/claude-sonnet-4-6"
    assert model["context_length"] == 200000
    assert model["max_output_tokens"] == 64000
    assert model["tier"] == "paid"
    assert model["input_modalities"] == ["text", "image", "document"]
    assert model["pricepermilliontokens"] == 300
    assert model["output_pricepermilliontokens"] == 1500
    assert model["cache_read_pricepermilliontokens"] == 30
    assert model["supports_caching"] is True
    assert model["supports_documents"] is True


def test_created_is_floor_of_virtual_now_and_follows_the_clock(client: httpx.Client) -> None:
    data = client.get("/v1/models").json()["data"]
    assert {m["created"] for m in data} == {EPOCH}
    assert client.get("/v1/models/gpt-5").json()["created"] == EPOCH
    advanced = client.post("/_mockair/clock", json={"advance": 3600.75})
    assert advanced.status_code == 200
    data = client.get("/v1/models").json()["data"]
    assert {m["created"] for m in data} == {EPOCH + 3600}
    assert isinstance(data[0]["created"], int)
    assert client.get("/models").json()["data"][0]["created"] == EPOCH + 3600
    assert client.get("/v1/models/gpt-5").json()["created"] == EPOCH + 3600


def test_supported_parameters_of_chat_models(client: httpx.Client) -> None:
    data = client.get("/v1/models").json()["data"]
    by_kind = {m["id"]: m["mockair"]["kind"] for m in CATALOGUE}
    chat = [m for m in data if by_kind[m["id"]] == "chat"]
    assert len(chat) == 39
    first = chat[0]["supported_parameters"]
    for expected in ("model", "messages", "max_tokens", "stream", "tools", "tool_choice"):
        assert expected in first
    assert "thinking" in first  # the Anthropic messages schema is one of the kind's routes
    assert len(first) == len(set(first))
    for model in chat:
        assert model["supported_parameters"] == first, model["id"]
    embedding = next(m for m in data if m["id"] == "text-embedding-3-small")
    assert "input" in embedding["supported_parameters"]
    assert "messages" not in embedding["supported_parameters"]


@pytest.mark.parametrize("path", ["/v1/models", "/models", "/v1/models/gpt-4o-mini"])
def test_cache_control_max_age_60(client: httpx.Client, path: str) -> None:
    assert client.get(path).headers["cache-control"] == "max-age=60"


# -- keys and permissions --------------------------------------------------------------------


def test_keyless_and_open_mode_keys_see_every_model(client: httpx.Client) -> None:
    assert listed_ids(client) == CATALOGUE_IDS
    assert listed_ids(client, "sk-air-open-mode-1") == CATALOGUE_IDS
    premium = register(client, key="sk-air-premium", tier="premium")
    assert listed_ids(client, premium) == CATALOGUE_IDS


def test_free_tier_key_sees_only_free_models(client: httpx.Client) -> None:
    key = register(client, key="sk-air-freebie", tier="free")
    ids = listed_ids(client, key)
    expected = ids_where(lambda m: m["tier"] == "free")
    assert ids == expected
    assert len(ids) == 50
    assert "gpt-4o-mini" in ids
    assert "gpt-5" not in ids
    data = client.get("/v1/models", headers=bearer(key)).json()["data"]
    assert {m["tier"] for m in data} == {"free"}


def test_allowed_models_filter_keeps_catalogue_order(client: httpx.Client) -> None:
    key = register(client, key="sk-air-allow", allowed_models=["flux", "gpt-4o-mini", "gpt-99"])
    assert listed_ids(client, key) == ["gpt-4o-mini", "flux"]


def test_blocked_models_filter(client: httpx.Client) -> None:
    key = register(client, key="sk-air-blockm", blocked_models=["gpt-5", "trellis-2"])
    assert listed_ids(client, key) == [i for i in CATALOGUE_IDS if i not in ("gpt-5", "trellis-2")]


def test_blocked_makers_filter(client: httpx.Client) -> None:
    key = register(client, key="sk-air-noopenai", blocked_makers=["openai"])
    ids = listed_ids(client, key)
    assert ids == ids_where(lambda m: m["owned_by"] != "openai")
    assert len(ids) == 81 - 13


def test_allowed_makers_filter(client: httpx.Client) -> None:
    key = register(client, key="sk-air-anthro", allowed_makers=["anthropic"])
    assert listed_ids(client, key) == ["claude-sonnet-4.6", "claude-opus-4.8", "claude-3-opus"]


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        (["embedding"], ["text-embedding-3-small", "text-embedding-3-large"]),
        (
            ["video"],
            ["wan-2.6", "kling-1", "veo-3", "veo-3.1-fast", "sora-2", "grok-imagine-video"],
        ),
        (["audio"], ids_where(lambda m: KIND_CLASS[m["mockair"]["kind"]] == "audio")),
        (["chat", "image"], ids_where(lambda m: m["mockair"]["kind"] in ("chat", "image"))),
    ],
)
def test_allowed_classes_filter(
    client: httpx.Client, classes: list[str], expected: list[str]
) -> None:
    key = register(client, key="sk-air-classes", allowed_classes=classes)
    assert listed_ids(client, key) == expected


def test_blocked_classes_filter(client: httpx.Client) -> None:
    key = register(client, key="sk-air-nochat", blocked_classes=["chat"])
    ids = listed_ids(client, key)
    assert ids == ids_where(lambda m: m["mockair"]["kind"] != "chat")
    assert "trellis-2" in ids  # a 3d model has no class, so a class block leaves it listed


def test_free_tier_and_class_rules_combine(client: httpx.Client) -> None:
    key = register(client, key="sk-air-freeimg", tier="free", allowed_classes=["image"])
    assert listed_ids(client, key) == ids_where(
        lambda m: m["mockair"]["kind"] == "image" and m["tier"] == "free"
    )


def test_secondary_key_uses_its_own_rules(client: httpx.Client) -> None:
    owner = register(client, key="sk-air-owner-models")
    child = register(client, key="sk-air-child-models", owner=owner, allowed_models=["gpt-5"])
    assert listed_ids(client, owner) == CATALOGUE_IDS
    assert listed_ids(client, child) == ["gpt-5"]


def test_retrieve_ignores_permissions(client: httpx.Client) -> None:
    free = register(client, key="sk-air-free-retrieve", tier="free")
    narrow = register(client, key="sk-air-narrow", allowed_models=["flux"])
    for key in (free, narrow):
        response = client.get("/v1/models/gpt-5", headers=bearer(key))
        assert response.status_code == 200, response.text
        assert response.json()["id"] == "gpt-5"
        assert response.json()["tier"] == "paid"


def test_retrieve_returns_the_same_object_as_the_list(client: httpx.Client) -> None:
    data = client.get("/v1/models").json()["data"]
    for model in (data[0], data[40], data[-1]):
        one = client.get(f"/v1/models/{model['id']}")
        assert one.status_code == 200
        assert list(one.json()) == PUBLIC_FIELDS
        assert one.json() == model


def test_retrieve_matches_ids_literally(client: httpx.Client) -> None:
    assert client.get("/v1/models/grok-4.1-fast:free").json()["id"] == "grok-4.1-fast:free"
    assert client.get("/v1/models/Nous-Hermes-2-Mixtral-8x7B-DPO").status_code == 200
    assert_error(
        client.get("/v1/models/nous-hermes-2-mixtral-8x7b-dpo"),
        404,
        "model_not_found",
        "model",
        type="invalid_request",
    )


def test_unknown_model_is_404_model_not_found(client: httpx.Client) -> None:
    response = client.get("/v1/models/gpt-99", headers=bearer("sk-air-someone"))
    error = assert_error(response, 404, "model_not_found", "model", type="invalid_request")
    assert error["message"] == "Model 'gpt-99' not found."


@pytest.mark.parametrize("path", ["/v1/models", "/models", "/v1/models/gpt-4o-mini"])
@pytest.mark.parametrize("authorization", ["Bearer nope", "Bearer sk-air-", "Token sk-air-abc"])
def test_invalid_key_is_401(client: httpx.Client, path: str, authorization: str) -> None:
    error = assert_error(
        client.get(path, headers={"authorization": authorization}), 401, "invalid_api_key"
    )
    assert error["message"] == "Invalid API key"


def test_disabled_key_is_401(client: httpx.Client) -> None:
    key = register(client, key="sk-air-disabled-models", disabled=True)
    assert_error(client.get("/v1/models", headers=bearer(key)), 401, "invalid_api_key")
    assert_error(client.get("/v1/models/gpt-5", headers=bearer(key)), 401, "invalid_api_key")


def test_strict_mode_keyless_is_still_ok(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    client = make_client(settings_factory(strict_keys=True))
    assert listed_ids(client) == CATALOGUE_IDS
    assert client.get("/v1/models/gpt-5").status_code == 200
    assert_error(
        client.get("/v1/models", headers=bearer("sk-air-stranger")), 401, "invalid_api_key"
    )


def test_listing_is_journaled_with_the_caller(client: httpx.Client) -> None:
    client.get("/v1/models", headers=bearer("sk-air-journal-models"))
    entries = client.get("/_mockair/requests", params={"path": "/v1/models"}).json()["requests"]
    assert [(e["key"], e["tier"], e["status"]) for e in entries] == [
        ("sk-air-...dels", "default", 200)
    ]
    assert len(state_of(client).journal) == 1


# -- the official openai SDK -----------------------------------------------------------------


def sdk(client: httpx.Client, key: str = "sk-air-sdk-models") -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{client.base_url}/v1", api_key=key, http_client=client, max_retries=0
    )


def test_sdk_models_list(client: httpx.Client) -> None:
    page = sdk(client).models.list()
    models = list(page)
    assert [m.id for m in models] == CATALOGUE_IDS
    assert models[0].object == "model"
    assert models[0].owned_by == "openai"
    assert models[0].created == EPOCH


def test_sdk_models_list_with_a_free_key(client: httpx.Client) -> None:
    key = register(client, key="sk-air-sdk-free", tier="free")
    ids = [m.id for m in sdk(client, key).models.list()]
    assert ids == ids_where(lambda m: m["tier"] == "free")


def test_sdk_models_retrieve(client: httpx.Client) -> None:
    model = sdk(client).models.retrieve("claude-opus-4.8")
    assert model.id == "claude-opus-4.8"
    assert model.owned_by == "anthropic"
    assert model.created == EPOCH
    assert model.object == "model"
    extra = model.model_dump()
    assert extra["context_length"] == 200000
    assert extra["max_output_tokens"] == 32000


def test_sdk_models_retrieve_unknown_raises_not_found(client: httpx.Client) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk(client).models.retrieve("gpt-99")
    assert caught.value.status_code == 404
    assert caught.value.code == "model_not_found"
    assert caught.value.param == "model"


def test_sdk_invalid_key_raises_authentication_error(client: httpx.Client) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        sdk(client, "not-a-key").models.list()
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
