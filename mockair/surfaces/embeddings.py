"""POST /v1/embeddings (CONTRACT §3.5)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from mockair.catalog import Model
from mockair.errors import InvalidValue
from mockair.surfaces import _generation as gen
from mockair.synth import tokenizer
from mockair.synth.embeddings import embed, to_base64, token_ids_text
from mockair.web.routing import ApiCall, api_route, applies_stubs, json_response


def _inputs(value: str | list[Any]) -> list[tuple[str, int]]:
    """(text to embed, prompt tokens) per input; empty inputs are 400 ``invalid_value``.

    The schema already rejects empty strings and arrays; the check is repeated here so the
    handler stays correct whatever the schema says (it is cheap).
    """
    if isinstance(value, str):
        if not value:
            raise InvalidValue("input: expected a non-empty string", param="input")
        return [(value, tokenizer.count(value))]
    if not value:
        raise InvalidValue("input: expected at least 1 items", param="input")
    if isinstance(value[0], int | float):  # one token-id array
        return [(token_ids_text(_ids(value)), len(value))]
    inputs = []
    for index, item in enumerate(value):
        if not item:
            raise InvalidValue(f"input.{index}: expected a non-empty input", param=f"input.{index}")
        if isinstance(item, str):
            inputs.append((item, tokenizer.count(item)))
        else:  # a token-id array: its length is its token count (§2.7.1)
            inputs.append((token_ids_text(_ids(item)), len(item)))
    return inputs


def _ids(values: list[Any]) -> list[int]:
    # JSON Schema counts 187.0 as an integer, so token ids may arrive as integral floats.
    return [int(v) for v in values]


def _dimensions(body: dict[str, Any], model: Model) -> int:
    size = int(model.private.get("embedding_dimensions") or 1536)
    dimensions: int = body.get("dimensions", size)
    if dimensions > size:  # §7.1 #3: needs the model, so step 8 and not the schema
        raise InvalidValue(
            f"dimensions: expected an integer <= {size} for model '{model.id}'",
            param="dimensions",
        )
    return dimensions


@applies_stubs
async def create_embeddings(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    model = call.resolve_model(body["model"], ("embedding",), "embeddings")  # step 8
    dimensions = _dimensions(body, model)
    inputs = _inputs(body["input"])
    call.authorize(model)  # step 9
    await gen.stub_for(call)

    seed = call.state.settings.seed  # embeddings have no request seed (§2.7)
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for index, (text, _) in enumerate(inputs):
        vector = embed(text, model=model.id, seed=seed, dimensions=dimensions)
        data.append(
            {
                "object": "embedding",
                "index": index,
                "embedding": to_base64(vector) if as_base64 else vector,
            }
        )
    prompt_tokens = sum(tokens for _, tokens in inputs)
    cents = prompt_tokens * model.price("pricepermilliontokens") / 1e6
    headers = call.charge(cents, prompt_tokens=prompt_tokens, capped_tokens=prompt_tokens)
    # §2.4 sends X-Tokens-* on chat, messages and responses only; the usage still reaches the
    # journal through charge().
    headers.pop("x-tokens-prompt", None)
    return json_response(
        {
            "object": "list",
            "data": data,
            "model": model.id,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        },
        headers=headers,
    )


ROUTES: list[Route] = [
    api_route(
        "/v1/embeddings",
        create_embeddings,
        methods=("POST",),
        auth="key",
        body="json",
        schema="embeddings.create.request",
        summary="Create embedding vectors (deterministic hashed trigrams)",
    ),
]
