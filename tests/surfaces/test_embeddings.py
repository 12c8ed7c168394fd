"""POST /v1/embeddings (CONTRACT §3.5) through the official openai SDK, over both transports."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from mockair import Settings
from mockair.synth.embeddings import embed
from mockair.synth.tokenizer import count
from tests.conftest import Clients
from tests.helpers import assert_error

KEY = "sk-air-embed-0001"
SMALL = "text-embedding-3-small"
LARGE = "text-embedding-3-large"
AUTH = {"authorization": f"Bearer {KEY}"}


def sdk(client: httpx.Client, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{client.base_url}/v1", api_key=key, http_client=client, max_retries=0
    )


def vectors(client: httpx.Client, inputs: Any, **options: Any) -> list[list[float]]:
    result = sdk(client).embeddings.create(input=inputs, encoding_format="float", **options)
    return [item.embedding for item in result.data]


def sdk_error(call: Callable[[], Any]) -> httpx.Response:
    with pytest.raises(openai.APIStatusError) as caught:
        call()
    return caught.value.response


def is_float32(x: float) -> bool:
    return struct.unpack("<f", struct.pack("<f", x))[0] == x  # type: ignore[no-any-return]


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (norm(a) * norm(b))


# -- success ----------------------------------------------------------------------------------


def test_the_contract_example_byte_for_byte(client: httpx.Client) -> None:
    # §3.5's example answer; its input is not given, "h!o" (3 tokens) is one that produces it.
    raw = sdk(client).embeddings.with_raw_response.create(
        model=SMALL, input="h!o", dimensions=4, encoding_format="float"
    )
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/json"
    assert raw.http_response.content == (
        b'{"object":"list","data":[{"object":"embedding","index":0,"embedding":'
        b"[0.5773502588272095,-0.5773502588272095,0.0,0.5773502588272095]}],"
        b'"model":"text-embedding-3-small","usage":{"prompt_tokens":3,"total_tokens":3}}'
    )
    parsed = raw.parse()
    assert parsed.data[0].embedding == [
        0.5773502588272095,
        -0.5773502588272095,
        0.0,
        0.5773502588272095,
    ]


def test_a_string_gets_one_unit_float32_vector(client: httpx.Client) -> None:
    text = "Hello, world!"
    result = sdk(client).embeddings.create(model=SMALL, input=text, encoding_format="float")
    assert result.object == "list"
    assert result.model == SMALL
    assert [(d.object, d.index) for d in result.data] == [("embedding", 0)]
    vector = result.data[0].embedding
    assert len(vector) == 1536  # the model's embedding_dimensions
    assert math.isclose(norm(vector), 1.0, rel_tol=1e-6)
    assert all(is_float32(x) for x in vector)
    assert vector == embed(text, model=SMALL, seed=0, dimensions=1536)
    assert result.usage.prompt_tokens == result.usage.total_tokens == 4  # Hello , ␠world !


def test_large_model_has_3072_dimensions(client: httpx.Client) -> None:
    [vector] = vectors(client, "hi", model=LARGE)
    assert len(vector) == 3072
    assert vector == embed("hi", model=LARGE, seed=0, dimensions=3072)


def test_a_list_of_strings(client: httpx.Client) -> None:
    texts = ["first input", "the second one, longer", "3"]
    result = sdk(client).embeddings.create(model=SMALL, input=texts, encoding_format="float")
    assert [d.index for d in result.data] == [0, 1, 2]
    for item, text in zip(result.data, texts, strict=True):
        assert item.embedding == embed(text, model=SMALL, seed=0, dimensions=1536)
    tokens = sum(count(t) for t in texts)
    assert (result.usage.prompt_tokens, result.usage.total_tokens) == (tokens, tokens)


def test_token_ids_embed_as_t_words_and_count_their_length(client: httpx.Client) -> None:
    result = sdk(client).embeddings.create(
        model=SMALL, input=[15, 0, 9001], encoding_format="float"
    )
    assert len(result.data) == 1
    assert result.data[0].embedding == embed("t15 t0 t9001", model=SMALL, seed=0, dimensions=1536)
    assert result.usage.prompt_tokens == 3

    nested = sdk(client).embeddings.create(
        model=SMALL, input=[[1, 2], [3], [1, 2]], encoding_format="float"
    )
    assert [d.index for d in nested.data] == [0, 1, 2]
    assert nested.data[0].embedding == embed("t1 t2", model=SMALL, seed=0, dimensions=1536)
    assert nested.data[1].embedding == embed("t3", model=SMALL, seed=0, dimensions=1536)
    assert nested.data[2].embedding == nested.data[0].embedding
    assert nested.usage.prompt_tokens == nested.usage.total_tokens == 5


def test_dimensions_sets_the_size_and_hashes_modulo_it(client: httpx.Client) -> None:
    [vector] = vectors(client, "hello world", model=SMALL, dimensions=4)
    assert len(vector) == 4
    assert math.isclose(norm(vector), 1.0, rel_tol=1e-6)
    assert vector == embed("hello world", model=SMALL, seed=0, dimensions=4)
    [full] = vectors(client, "hello world", model=LARGE, dimensions=3072)  # the maximum
    assert len(full) == 3072


def test_base64_is_the_same_vector(client: httpx.Client) -> None:
    texts = ["alpha beta", "gamma"]
    floats = vectors(client, texts, model=SMALL, dimensions=64)
    # Without encoding_format the SDK asks for base64 and decodes it itself.
    decoded = sdk(client).embeddings.create(model=SMALL, input=texts, dimensions=64)
    assert [d.embedding for d in decoded.data] == floats
    raw = client.post(
        "/v1/embeddings",
        headers=AUTH,
        json={"model": SMALL, "input": texts, "dimensions": 64, "encoding_format": "base64"},
    )
    assert raw.status_code == 200
    for item, vector in zip(raw.json()["data"], floats, strict=True):
        assert isinstance(item["embedding"], str)
        assert list(struct.unpack("<64f", base64.b64decode(item["embedding"]))) == vector


def test_user_and_null_options_are_accepted(client: httpx.Client) -> None:
    [plain] = vectors(client, "same", model=SMALL)
    [with_user] = vectors(client, "same", model=SMALL, user="someone")
    assert with_user == plain
    raw = client.post(
        "/v1/embeddings",
        headers=AUTH,
        json={"model": SMALL, "input": "same", "dimensions": None, "encoding_format": None},
    )
    assert raw.status_code == 200, raw.text
    assert raw.json()["data"][0]["embedding"] == plain


def test_similar_texts_have_closer_vectors(client: httpx.Client) -> None:
    anchor, similar, unrelated = vectors(
        client,
        [
            "How do I reset my password?",
            "how can I reset my password",
            "Volcanic soils are rich in minerals",
        ],
        model=SMALL,
    )
    assert cosine(anchor, similar) > cosine(anchor, unrelated) + 0.3


def test_same_vectors_on_a_fresh_server_other_seed_differs(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    texts = ["determinism", "is a feature"]
    first = vectors(make_client(settings_factory()), texts, model=SMALL)
    second = vectors(make_client(settings_factory()), texts, model=SMALL)
    assert first == second
    other = vectors(make_client(settings_factory(seed=1)), texts, model=SMALL)
    assert other != first
    assert other == [embed(t, model=SMALL, seed=1, dimensions=1536) for t in texts]


def test_2048_inputs_are_accepted(client: httpx.Client) -> None:
    texts = [f"document {i} about topic {i % 17}" for i in range(2048)]
    result = sdk(client).embeddings.create(model=SMALL, input=texts)  # base64 on the wire
    assert len(result.data) == 2048
    assert result.data[2047].index == 2047
    assert result.data[5].embedding == embed(texts[5], model=SMALL, seed=0, dimensions=1536)
    assert result.usage.prompt_tokens == sum(count(t) for t in texts)


# -- billing ----------------------------------------------------------------------------------


def test_cost_header_and_key_usage(client: httpx.Client) -> None:
    assert client.post("/_mockair/keys", json={"key": KEY}).status_code == 200
    text = "word" + " word" * 399  # 400 tokens
    raw = sdk(client).embeddings.with_raw_response.create(
        model=LARGE, input=[text, text], encoding_format="float"
    )
    assert raw.status_code == 200
    result = raw.parse()
    tokens = 2 * count(text)
    assert tokens == 800
    assert result.usage.prompt_tokens == tokens
    cents = tokens * 13 / 1e6  # 13 cents per 1M tokens
    assert raw.headers["x-cost-cents"] == f"{cents:.4f}" == "0.0104"
    # §2.4: X-Tokens-* belong to chat, messages and responses only.
    assert "x-tokens-prompt" not in raw.headers
    usage = next(k for k in client.get("/_mockair/keys").json()["keys"] if k["key"] == KEY)["usage"]
    assert usage["tokens_today"] == usage["total_tokens"] == tokens
    assert math.isclose(usage["credits_used"], cents)
    entry = client.get("/_mockair/requests", params={"path": "/v1/embeddings"}).json()["requests"]
    assert entry[-1]["usage"] == {"prompt_tokens": tokens}
    assert entry[-1]["cost_cents"] == "0.0104"
    assert entry[-1]["model"] == LARGE


def test_small_requests_cost_zero_point_zero(client: httpx.Client) -> None:
    raw = sdk(client).embeddings.with_raw_response.create(model=SMALL, input="hi")
    assert raw.headers["x-cost-cents"] == "0.0000"


# -- errors -----------------------------------------------------------------------------------


def post(client: httpx.Client, body: dict[str, Any], key: str | None = KEY) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return client.post("/v1/embeddings", json=body, headers=headers)


def test_missing_fields(client: httpx.Client) -> None:
    assert_error(post(client, {"model": SMALL}), 400, "missing_field", "input")
    assert_error(post(client, {"model": SMALL, "input": None}), 400, "missing_field", "input")
    assert_error(post(client, {"input": "x"}), 400, "missing_field", "model")


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ("", "input"),
        ([], "input"),
        (["ok", ""], "input.1"),
        ([""], "input.0"),
        ([[1], []], "input.1"),
        ([3, -1], "input.1"),
        ([f"x{i}" for i in range(2049)], "input"),
    ],
)
def test_empty_or_bad_inputs_are_invalid_value(
    client: httpx.Client, value: Any, param: str
) -> None:
    response = sdk_error(lambda: sdk(client).embeddings.create(model=SMALL, input=value))
    assert_error(response, 400, "invalid_value", param)


@pytest.mark.parametrize(
    ("value", "param"),
    [(7, "input"), ({"text": "x"}, "input"), (["a", 1], "input.1"), ([1, "a"], "input.1")],
)
def test_wrongly_typed_inputs(client: httpx.Client, value: Any, param: str) -> None:
    assert_error(post(client, {"model": SMALL, "input": value}), 400, "invalid_type", param)


def test_unknown_model_is_404(client: httpx.Client) -> None:
    response = sdk_error(lambda: sdk(client).embeddings.create(model="embed-99", input="x"))
    error = assert_error(response, 404, "model_not_found", "model", type="invalid_request")
    assert error["message"] == "Model 'embed-99' not found."


@pytest.mark.parametrize("model", ["gpt-4o-mini", "flux-2-dev"])
def test_a_model_of_another_kind_is_not_supported(client: httpx.Client, model: str) -> None:
    response = sdk_error(lambda: sdk(client).embeddings.create(model=model, input="x"))
    assert_error(response, 400, "model_not_supported", "model")


@pytest.mark.parametrize(
    ("model", "dimensions"), [(SMALL, 0), (SMALL, -3), (SMALL, 1537), (LARGE, 3073)]
)
def test_dimensions_out_of_range(client: httpx.Client, model: str, dimensions: int) -> None:
    response = sdk_error(
        lambda: sdk(client).embeddings.create(model=model, input="x", dimensions=dimensions)
    )
    assert_error(response, 400, "invalid_value", "dimensions")


def test_dimensions_must_be_an_integer(client: httpx.Client) -> None:
    body = {"model": SMALL, "input": "x", "dimensions": 4.5}
    assert_error(post(client, body), 400, "invalid_type", "dimensions")


def test_unknown_encoding_format(client: httpx.Client) -> None:
    response = sdk_error(
        lambda: sdk(client).embeddings.create(
            model=SMALL,
            input="x",
            encoding_format="hex",  # type: ignore[arg-type]
        )
    )
    assert_error(response, 400, "invalid_value", "encoding_format")


def test_unknown_field(client: httpx.Client) -> None:
    body = {"model": SMALL, "input": "x", "seed": 3}
    assert_error(post(client, body), 400, "unknown_field", "seed")


def test_a_key_is_required(client: httpx.Client) -> None:
    error = assert_error(
        post(client, {"model": SMALL, "input": "x"}, key=None), 401, "missing_api_key"
    )
    assert error["message"] == "Missing API key. Send 'Authorization: Bearer sk-air-...'."
    response = sdk_error(lambda: sdk(client, "bogus").embeddings.create(model=SMALL, input="x"))
    assert_error(response, 401, "invalid_api_key")


def test_free_tier_is_gated_from_the_paid_model(client: httpx.Client) -> None:
    free = "sk-air-free1"
    assert client.post("/_mockair/keys", json={"key": free, "tier": "free"}).status_code == 200
    response = sdk_error(lambda: sdk(client, free).embeddings.create(model=LARGE, input="x"))
    assert_error(response, 403, "free_tier_gated", "model")
    # The free model is allowed.
    ok = sdk(client, free).embeddings.create(model=SMALL, input="x")
    assert len(ok.data) == 1
    # Step 8 (model and its values) answers before step 9 (permissions).
    too_big = sdk_error(
        lambda: sdk(client, free).embeddings.create(model=LARGE, input="x", dimensions=5000)
    )
    assert_error(too_big, 400, "invalid_value", "dimensions")
    unknown = sdk_error(lambda: sdk(client, free).embeddings.create(model="nope", input="x"))
    assert_error(unknown, 404, "model_not_found", "model", type="invalid_request")


def test_class_rules_block_embeddings(client: httpx.Client) -> None:
    key = "sk-air-nochat-embed"
    body = {"key": key, "blocked_classes": ["embedding"]}
    assert client.post("/_mockair/keys", json=body).status_code == 200
    response = sdk_error(lambda: sdk(client, key).embeddings.create(model=SMALL, input="x"))
    assert_error(response, 403, "model_not_allowed", "model")


def test_errors_are_not_billed(client: httpx.Client) -> None:
    assert client.post("/_mockair/keys", json={"key": KEY}).status_code == 200
    assert post(client, {"model": SMALL, "input": "x", "dimensions": 9999}).status_code == 400
    usage = next(k for k in client.get("/_mockair/keys").json()["keys"] if k["key"] == KEY)["usage"]
    assert usage["tokens_today"] == 0
    assert usage["credits_used"] == 0.0


def test_get_is_method_not_allowed(client: httpx.Client) -> None:
    response = client.get("/v1/embeddings", headers=AUTH)
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["allow"]
