"""POST /v1/responses, GET and DELETE /v1/responses/{id} (CONTRACT §3.4) through the official
openai SDK and raw HTTP, over both transports.

Expected values are computed here from the contract (the §2.7.1 tokenizer regex, the §2.7 id
formula, the §2.9 prices: gpt-5.1-chat and gpt-5 are 125 in / 1000 out cents per 1M tokens).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Callable
from typing import Any, Literal

import httpx
import openai
import pytest
from jsonschema import Draft202012Validator
from PIL import Image
from pydantic import BaseModel

from mockair import Settings
from tests.conftest import EPOCH, Clients
from tests.helpers import assert_error, parse_sse

KEY = "sk-air-resp-test"
OTHER_KEY = "sk-air-resp-other"
MODEL = "gpt-5.1-chat"  # reasoning off by default
REASONER = "gpt-5"  # reasoning on by default
PRICE_IN, PRICE_OUT = 125, 1000
QUESTION = "Tell me something about ferries."
AUTH = {"authorization": f"Bearer {KEY}"}

TOKEN = re.compile(r"\s*[^\W\d_]{1,8}|\s*\d{1,3}|\s*[^\w\s]|\s*_|\s+")

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather report for a city",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city", "unit", "days"],
        "additionalProperties": False,
    },
}
CLOCK = {
    "type": "function",
    "name": "get_time",
    "description": "Current clock time for a timezone",
    "parameters": {
        "type": "object",
        "properties": {"timezone": {"type": "string"}},
        "required": ["timezone"],
    },
}
TOOLS = [CLOCK, WEATHER]  # the weather tool is second: chosen by word overlap
WEATHER_QUESTION = "What is the weather in Paris?"

RESPONSE_KEYS = [
    "id",
    "object",
    "created_at",
    "status",
    "completed_at",
    "error",
    "incomplete_details",
    "instructions",
    "max_output_tokens",
    "model",
    "output",
    "parallel_tool_calls",
    "previous_response_id",
    "reasoning",
    "store",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_p",
    "truncation",
    "usage",
    "user",
    "metadata",
]


# -- contract arithmetic ------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    pieces = TOKEN.findall(text)
    assert "".join(pieces) == text
    return pieces


def ntok(text: str) -> int:
    return len(tokens(text))


def tools_tokens(tools: list[dict[str, Any]]) -> int:
    return ntok(json.dumps(tools, separators=(",", ":"), sort_keys=True, ensure_ascii=False))


def prompt_tokens(*turns: str, tools: list[dict[str, Any]] | None = None, parts: int = 0) -> int:
    total = 3 + sum(4 + ntok(t) for t in turns) + 85 * parts
    return total + (tools_tokens(tools) if tools else 0)


def cost_cents(prompt: int, completion: int) -> float:
    return (prompt * PRICE_IN + completion * PRICE_OUT) / 1e6


def usd(cents: float) -> float:
    return round(cents / 100, 10)


def minted(kind: str, n: int = 1, key: str = KEY) -> str:
    return kind + hashlib.sha256(f"0|{key}|{kind}|{n}".encode()).hexdigest()[:24]


def dumps(value: Any) -> str:
    """Compact JSON as §2.4 writes it; floats in plain decimal notation (``0.00003125``)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, float):
        text = f"{value:.10f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    return json.dumps(value, ensure_ascii=False)


def png_data_url(width: int, height: int, colour: tuple[int, int, int]) -> str:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


# -- clients ------------------------------------------------------------------------------------


def sdk(client: httpx.Client, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=str(client.base_url) + "/v1", api_key=key, http_client=client, max_retries=0
    )


def post(client: httpx.Client, body: Any, *, key: str | None = KEY, **h: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key is not None else {}
    headers.update(h)
    return client.post("/v1/responses", json=body, headers=headers)


def create(
    client: httpx.Client, key: str = KEY, **fields: Any
) -> tuple[httpx.Response, dict[str, Any]]:
    """A non-streamed call through the SDK: (HTTP response, JSON body)."""
    fields.setdefault("model", MODEL)
    raw = sdk(client, key).responses.with_raw_response.create(**fields)
    assert raw.http_response.status_code == 200, raw.http_response.text
    return raw.http_response, raw.http_response.json()


def sdk_error(call: Callable[[], Any]) -> httpx.Response:
    with pytest.raises(openai.APIStatusError) as caught:
        call()
    return caught.value.response


def text_of(response: dict[str, Any]) -> str:
    [item] = [i for i in response["output"] if i["type"] == "message"]
    [part] = item["content"]
    return part["text"]  # type: ignore[no-any-return]


def expected_events(final: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The §2.10.3 event sequence that streams the response object ``final``."""
    pending = {
        **final,
        "status": "in_progress",
        "completed_at": None,
        "incomplete_details": None,
        "output": [],
        "usage": None,
    }
    events: list[tuple[str, dict[str, Any]]] = []

    def emit(kind: str, **fields: Any) -> None:
        events.append((kind, {"type": kind, "sequence_number": len(events), **fields}))

    emit("response.created", response=pending)
    emit("response.in_progress", response=pending)
    for index, item in enumerate(final["output"]):
        if item["type"] == "message":
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "content": []},
            )
            text = item["content"][0]["text"]
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            part = {"type": "output_text", "text": "", "annotations": []}
            emit("response.content_part.added", **where, part=part)
            for piece in tokens(text):
                emit("response.output_text.delta", **where, delta=piece, logprobs=[])
            emit("response.output_text.done", **where, text=text, logprobs=[])
            emit("response.content_part.done", **where, part={**part, "text": text})
        elif item["type"] == "reasoning":
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "content": []},
            )
            text = item["content"][0]["text"]
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            for piece in tokens(text):
                emit("response.reasoning_text.delta", **where, delta=piece)
            emit("response.reasoning_text.done", **where, text=text)
        else:
            assert item["type"] == "function_call"
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "arguments": ""},
            )
            where = {"item_id": item["id"], "output_index": index}
            for piece in tokens(item["arguments"]):
                emit("response.function_call_arguments.delta", **where, delta=piece)
            emit(
                "response.function_call_arguments.done",
                **where,
                name=item["name"],
                arguments=item["arguments"],
            )
        emit("response.output_item.done", output_index=index, item=item)
    last = "response.completed" if final["status"] == "completed" else "response.incomplete"
    emit(last, response=final)
    return events


def streamed_events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    return [(e["event"], json.loads(e["data"])) for e in parse_sse(response.text)]


def stream_vs_create(
    make_client: Clients, settings_factory: Callable[..., Settings], body: dict[str, Any]
) -> tuple[httpx.Response, dict[str, Any], httpx.Response]:
    """The same request non-streamed and streamed, each on its own fresh server (same ids)."""
    plain = post(make_client(settings_factory()), body)
    assert plain.status_code == 200, plain.text
    streamed = post(make_client(settings_factory()), {**body, "stream": True})
    assert streamed.status_code == 200, streamed.text
    return plain, plain.json(), streamed


def assert_is_answer(text: str) -> None:
    assert 20 <= ntok(text) <= 60, text
    assert text[-1] in ".!?", text
    assert all(" " <= ch <= "~" for ch in text), text


# -- the response object -----------------------------------------------------------------------


def test_create_with_a_string_input(client: httpx.Client) -> None:
    instructions = "Answer briefly."
    http, body = create(client, input=QUESTION, instructions=instructions)
    assert list(body) == RESPONSE_KEYS
    assert "output_text" not in body
    assert body["id"] == minted("resp_")
    assert re.fullmatch(r"resp_[0-9a-f]{24}", body["id"])
    [item] = body["output"]
    assert list(item) == ["id", "type", "status", "role", "content"]
    assert item["id"] == minted("msg_")
    assert (item["type"], item["status"], item["role"]) == ("message", "completed", "assistant")
    [part] = item["content"]
    assert list(part) == ["type", "text", "annotations", "logprobs"]
    assert (part["type"], part["annotations"], part["logprobs"]) == ("output_text", [], [])
    text = part["text"]
    assert_is_answer(text)

    input_tokens, output_tokens = prompt_tokens(instructions, QUESTION), ntok(text)
    cents = cost_cents(input_tokens, output_tokens)
    assert body == {
        "id": minted("resp_"),
        "object": "response",
        "created_at": EPOCH,
        "status": "completed",
        "completed_at": EPOCH,
        "error": None,
        "incomplete_details": None,
        "instructions": instructions,
        "max_output_tokens": None,
        "model": MODEL,
        "output": [item],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
            "cost": usd(cents),
        },
        "user": None,
        "metadata": {},
    }
    assert list(body["usage"]) == [
        "input_tokens",
        "input_tokens_details",
        "output_tokens",
        "output_tokens_details",
        "total_tokens",
        "cost",
    ]
    assert isinstance(body["temperature"], float)
    assert isinstance(body["top_p"], float)
    assert http.headers["content-type"] == "application/json"
    assert http.headers["x-tokens-prompt"] == str(input_tokens)
    assert http.headers["x-tokens-completion"] == str(output_tokens)
    assert http.headers["x-cost-cents"] == f"{cents:.4f}"
    assert http.content.decode() == dumps(body)  # compact, "temperature":1.0, plain decimals


def test_sdk_output_text_and_types(client: httpx.Client) -> None:
    response = sdk(client).responses.create(model=MODEL, input=QUESTION)
    assert response.id == minted("resp_")
    assert response.status == "completed"
    assert response.created_at == EPOCH
    assert response.output[0].type == "message"
    assert response.output_text == response.output[0].content[0].text  # type: ignore[union-attr]
    assert_is_answer(response.output_text)
    assert response.usage is not None
    assert response.usage.input_tokens == prompt_tokens(QUESTION)
    assert response.usage.output_tokens == ntok(response.output_text)
    # The same request again: the same content, the next ids of the sequences.
    again = sdk(client).responses.create(model=MODEL, input=QUESTION)
    assert again.id == minted("resp_", 2)
    assert again.output[0].id == minted("msg_", 2)
    assert again.output_text == response.output_text


def test_echo_fields_reflect_the_request(client: httpx.Client) -> None:
    _, body = create(
        client,
        input=QUESTION,
        temperature=0.5,
        top_p=0.25,
        metadata={"team": "qa"},
        user="user-1",
        store=True,
        truncation="auto",
        parallel_tool_calls=False,
        tool_choice="none",
        tools=[WEATHER],
        max_output_tokens=500,
    )
    assert body["temperature"] == 0.5
    assert body["top_p"] == 0.25
    assert body["metadata"] == {"team": "qa"}
    assert body["user"] == "user-1"
    assert body["truncation"] == "auto"
    assert body["parallel_tool_calls"] is False
    assert body["tool_choice"] == "none"
    assert body["tools"] == [WEATHER]
    assert body["max_output_tokens"] == 500
    assert body["status"] == "completed"
    assert [i["type"] for i in body["output"]] == ["message"]  # tool_choice none


def test_x_api_key_is_accepted_on_responses(client: httpx.Client) -> None:
    by_x = client.post(
        "/v1/responses", json={"model": MODEL, "input": "Hi"}, headers={"x-api-key": KEY}
    )
    assert by_x.status_code == 200, by_x.text
    assert by_x.json()["id"] == minted("resp_")
    got = client.get(f"/v1/responses/{by_x.json()['id']}", headers={"x-api-key": KEY})
    assert got.status_code == 200
    assert got.content == by_x.content
    deleted = client.delete(f"/v1/responses/{by_x.json()['id']}", headers={"x-api-key": KEY})
    assert deleted.status_code == 200
    # x-api-key is read only on the routes that take it (§2.3): chat completions ignores it.
    chat = client.post(
        "/v1/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]},
        headers={"x-api-key": KEY},
    )
    assert_error(chat, 401, "missing_api_key", None)


def test_auth_errors(client: httpx.Client) -> None:
    body = {"model": MODEL, "input": "Hi"}
    assert_error(post(client, body, key=None), 401, "missing_api_key", None)
    error = assert_error(post(client, body, key="nope"), 401, "invalid_api_key", None)
    assert error["message"] == "Invalid API key"
    assert_error(client.get("/v1/responses/resp_x"), 401, "missing_api_key", None)
    with pytest.raises(openai.AuthenticationError):
        sdk(client, key="nope").responses.create(model=MODEL, input="Hi")


def test_input_items_and_roles(client: httpx.Client) -> None:
    items = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "input_text", "text": "Use plain words."}]},
        {"type": "message", "role": "user", "content": "Hello"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "Hi there."}]},
        {"type": "reasoning", "id": "rs_x", "summary": []},
        {"role": "user", "content": [{"type": "input_text", "text": QUESTION}]},
    ]
    _, body = create(client, input=items)
    expected = prompt_tokens("Be brief.", "Use plain words.", "Hello", "Hi there.", QUESTION)
    assert body["usage"]["input_tokens"] == expected
    assert [i["type"] for i in body["output"]] == ["message"]


# -- streaming ---------------------------------------------------------------------------------


def test_stream_raw_events_are_exact(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    body = {"model": MODEL, "input": QUESTION, "instructions": "Answer briefly."}
    plain, final, streamed = stream_vs_create(make_client, settings_factory, body)
    assert streamed.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert streamed.headers["cache-control"] == "no-cache"
    assert streamed.headers["x-accel-buffering"] == "no"
    for name in ("x-tokens-prompt", "x-tokens-completion", "x-cost-cents"):
        assert streamed.headers[name] == plain.headers[name]
    expected = expected_events(final)
    assert streamed.text == "".join(f"event: {n}\ndata: {dumps(d)}\n\n" for n, d in expected)

    events = streamed_events(streamed)
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    assert all(d["type"] == name for name, d in events)
    text = text_of(final)
    assert [name for name, _ in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * ntok(text),
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert "[DONE]" not in streamed.text
    created = events[0][1]["response"]
    assert (created["status"], created["output"], created["usage"]) == ("in_progress", [], None)
    assert events[-1][1]["response"] == final


def test_sdk_stream_final_response_equals_the_non_streamed_one(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    plain = sdk(make_client(settings_factory())).responses.create(model=MODEL, input=QUESTION)
    deltas: list[str] = []
    kinds: list[str] = []
    numbers: list[int] = []
    api = sdk(make_client(settings_factory()))
    with api.responses.stream(model=MODEL, input=QUESTION) as stream:
        for event in stream:
            kinds.append(event.type)
            numbers.append(event.sequence_number)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert numbers == list(range(len(numbers)))
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-1] == "response.completed"
    assert "".join(deltas) == plain.output_text == final.output_text
    assert final.id == plain.id
    assert final.status == plain.status == "completed"
    assert [(i.id, i.type) for i in final.output] == [(i.id, i.type) for i in plain.output]
    assert final.usage is not None
    assert plain.usage is not None
    assert final.usage.model_dump() == plain.usage.model_dump()


def test_max_output_tokens_makes_the_response_incomplete(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    uncapped = post(make_client(settings_factory()), {"model": MODEL, "input": QUESTION}).json()
    body = {"model": MODEL, "input": QUESTION, "max_output_tokens": 4}
    plain, final, streamed = stream_vs_create(make_client, settings_factory, body)
    assert final["status"] == "incomplete"
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["max_output_tokens"] == 4
    assert text_of(final) == "".join(tokens(text_of(uncapped))[:4])  # a prefix
    assert final["usage"]["output_tokens"] == 4
    assert plain.headers["x-tokens-completion"] == "4"

    events = streamed_events(streamed)
    assert events == expected_events(final)
    assert events[-1][0] == "response.incomplete"
    assert events[-1][1]["response"] == final
    assert "response.completed" not in [name for name, _ in events]


def test_sdk_stream_of_an_incomplete_response(client: httpx.Client) -> None:
    # The SDK's get_final_response() wants response.completed; the incomplete response is the
    # payload of the last event.
    with sdk(client).responses.stream(model=MODEL, input=QUESTION, max_output_tokens=3) as s:
        events = list(s)
    kinds = [event.type for event in events]
    assert kinds[-1] == "response.incomplete"
    final = events[-1].response  # type: ignore[union-attr]
    assert final.status == "incomplete"
    assert final.incomplete_details is not None
    assert final.incomplete_details.reason == "max_output_tokens"
    assert ntok(final.output_text) == 3


def test_a_streamed_response_is_stored_as_completed(client: httpx.Client) -> None:
    streamed = post(client, {"model": MODEL, "input": QUESTION, "stream": True})
    final = streamed_events(streamed)[-1][1]["response"]
    got = client.get(f"/v1/responses/{final['id']}", headers=AUTH)
    assert got.status_code == 200
    assert got.json() == final


# -- state -------------------------------------------------------------------------------------


def test_previous_response_id_carries_the_conversation(client: httpx.Client) -> None:
    api = sdk(client)
    instructions = "Answer briefly."
    first = api.responses.create(model=MODEL, input=QUESTION, instructions=instructions)
    assert first.usage is not None
    assert first.usage.input_tokens == prompt_tokens(instructions, QUESTION)
    follow = "And what about trains?"
    second = api.responses.create(model=MODEL, input=follow, previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert second.instructions is None  # not inherited
    assert second.usage is not None
    # The previous input and output are carried; the instructions are not.
    assert second.usage.input_tokens == prompt_tokens(QUESTION, first.output_text, follow)
    assert second.output_text != first.output_text
    third = api.responses.create(model=MODEL, input="Thanks.", previous_response_id=second.id)
    assert third.usage is not None
    assert third.usage.input_tokens == prompt_tokens(
        QUESTION, first.output_text, follow, second.output_text, "Thanks."
    )


def test_previous_response_id_without_new_input(client: httpx.Client) -> None:
    first = sdk(client).responses.create(model=MODEL, input=QUESTION)
    response = post(client, {"model": MODEL, "previous_response_id": first.id})
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["input_tokens"] == prompt_tokens(QUESTION, first.output_text)


def test_store_false_is_neither_retrievable_nor_usable(client: httpx.Client) -> None:
    api = sdk(client)
    unstored = api.responses.create(model=MODEL, input=QUESTION, store=False)
    assert unstored.store is False
    assert unstored.id == minted("resp_")
    got = sdk_error(lambda: api.responses.retrieve(unstored.id))
    assert_error(got, 404, "response_not_found", "response_id")
    follow = sdk_error(
        lambda: api.responses.create(model=MODEL, input="More?", previous_response_id=unstored.id)
    )
    assert_error(follow, 404, "response_not_found", "previous_response_id")


def test_get_returns_exactly_the_created_object(client: httpx.Client) -> None:
    http, body = create(client, input=QUESTION, metadata={"a": "b"})
    got = client.get(f"/v1/responses/{body['id']}", headers=AUTH)
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json"
    assert got.content == http.content
    assert "x-cost-cents" not in got.headers  # GETs are never billed
    retrieved = sdk(client).responses.retrieve(body["id"])
    assert retrieved.id == body["id"]
    assert retrieved.output_text == text_of(body)
    assert retrieved.metadata == {"a": "b"}
    # Other query parameters are ignored.
    with_query = client.get(
        f"/v1/responses/{body['id']}?include[]=x&starting_after=3&stream=false", headers=AUTH
    )
    assert with_query.content == http.content


def test_delete_then_get_is_404(client: httpx.Client) -> None:
    _, body = create(client, input=QUESTION)
    response_id = body["id"]
    deleted = client.delete(f"/v1/responses/{response_id}", headers=AUTH)
    assert deleted.status_code == 200
    assert (
        deleted.content == f'{{"id":"{response_id}","object":"response","deleted":true}}'.encode()
    )
    assert list(deleted.json()) == ["id", "object", "deleted"]
    assert "x-cost-cents" not in deleted.headers
    assert_error(
        client.get(f"/v1/responses/{response_id}", headers=AUTH),
        404,
        "response_not_found",
        "response_id",
    )
    assert_error(
        client.delete(f"/v1/responses/{response_id}", headers=AUTH),
        404,
        "response_not_found",
        "response_id",
    )
    assert_error(
        post(client, {"model": MODEL, "input": "x", "previous_response_id": response_id}),
        404,
        "response_not_found",
        "previous_response_id",
    )


def test_sdk_delete(client: httpx.Client) -> None:
    api = sdk(client)
    response = api.responses.create(model=MODEL, input=QUESTION)
    api.responses.delete(response.id)
    assert_error(
        sdk_error(lambda: api.responses.retrieve(response.id)),
        404,
        "response_not_found",
        "response_id",
    )


def test_another_keys_response_is_not_found(client: httpx.Client) -> None:
    _, body = create(client, input=QUESTION)
    other = sdk(client, OTHER_KEY)
    assert_error(
        sdk_error(lambda: other.responses.retrieve(body["id"])),
        404,
        "response_not_found",
        "response_id",
    )
    assert_error(
        sdk_error(
            lambda: other.responses.create(model=MODEL, input="x", previous_response_id=body["id"])
        ),
        404,
        "response_not_found",
        "previous_response_id",
    )
    assert_error(
        client.delete(f"/v1/responses/{body['id']}", headers={"x-api-key": OTHER_KEY}),
        404,
        "response_not_found",
        "response_id",
    )
    # Still there for its own key.
    assert client.get(f"/v1/responses/{body['id']}", headers=AUTH).status_code == 200
    # The other key's own ids start at 1 in its own scope.
    _, mine = create(client, key=OTHER_KEY, input=QUESTION)
    assert mine["id"] == minted("resp_", key=OTHER_KEY)


def test_unknown_response_id(client: httpx.Client) -> None:
    assert_error(
        client.get("/v1/responses/resp_000000000000000000000000", headers=AUTH),
        404,
        "response_not_found",
        "response_id",
    )


def test_get_with_stream_true_is_rejected(client: httpx.Client) -> None:
    _, body = create(client, input=QUESTION)
    response = client.get(f"/v1/responses/{body['id']}?stream=true", headers=AUTH)
    assert_error(response, 400, "invalid_value", "stream")


# -- reasoning ---------------------------------------------------------------------------------


def test_gpt5_reasons_by_default(client: httpx.Client) -> None:
    http, body = create(client, model=REASONER, input=QUESTION)
    reasoning, message = body["output"]
    assert list(reasoning) == ["id", "type", "status", "summary", "content"]
    assert reasoning["id"] == minted("rs_")
    assert (reasoning["type"], reasoning["status"], reasoning["summary"]) == (
        "reasoning",
        "completed",
        [],
    )
    [part] = reasoning["content"]
    assert list(part) == ["type", "text"]
    assert part["type"] == "reasoning_text"
    thought = part["text"]
    assert 20 <= ntok(thought) <= 40  # medium effort
    assert message["type"] == "message"
    assert message["id"] == minted("msg_")
    answer = text_of(body)
    assert_is_answer(answer)
    usage = body["usage"]
    assert usage["output_tokens_details"] == {"reasoning_tokens": ntok(thought)}
    assert usage["output_tokens"] == ntok(thought) + ntok(answer)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    cents = cost_cents(usage["input_tokens"], usage["output_tokens"])
    assert usage["cost"] == usd(cents)
    assert http.headers["x-tokens-completion"] == str(usage["output_tokens"])
    assert http.headers["x-cost-cents"] == f"{cents:.4f}"
    assert sdk(client).responses.retrieve(body["id"]).output_text == answer


def test_reasoning_echo_reflects_the_request(client: httpx.Client) -> None:
    # §3.4.3: echo fields reflect the request, defaults as shown ({"effort":null,...}); gpt-5
    # reasons by default, but the request set no reasoning.
    _, body = create(client, model=REASONER, input=QUESTION)
    assert body["reasoning"] == {"effort": None, "summary": None}


def test_low_effort_reasoning_on_gpt51(client: httpx.Client) -> None:
    _, body = create(client, input=QUESTION, reasoning={"effort": "low"})
    assert [i["type"] for i in body["output"]] == ["reasoning", "message"]
    thought = body["output"][0]["content"][0]["text"]
    assert 10 <= ntok(thought) <= 20
    assert body["reasoning"] == {"effort": "low", "summary": None}
    assert body["usage"]["output_tokens_details"] == {"reasoning_tokens": ntok(thought)}
    assert body["output"][0]["id"] == minted("rs_")


@pytest.mark.parametrize(
    ("model", "options", "types"),
    [
        (MODEL, {}, ["message"]),
        (MODEL, {"reasoning": {"effort": "none"}}, ["message"]),
        (REASONER, {"reasoning": {"effort": "none"}}, ["message"]),
        (REASONER, {"reasoning_effort": "none"}, ["message"]),
        (MODEL, {"reasoning_effort": "high"}, ["reasoning", "message"]),
        (MODEL, {"thinking": "on"}, ["reasoning", "message"]),
        ("gpt-4o-mini", {"reasoning": {"effort": "high"}}, ["message"]),  # no reasoning support
        # §7.1 #1: reasoning.effort has no effect on Anthropic-owned models; thinking does.
        ("claude-sonnet-4.6", {"reasoning": {"effort": "high"}}, ["message"]),
        ("claude-sonnet-4.6", {"thinking": "on"}, ["reasoning", "message"]),
    ],
)
def test_reasoning_switches(
    client: httpx.Client, model: str, options: dict[str, Any], types: list[str]
) -> None:
    response = post(client, {"model": model, "input": QUESTION, **options})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [i["type"] for i in body["output"]] == types
    reasoning = body["usage"]["output_tokens_details"]["reasoning_tokens"]
    assert (reasoning > 0) == ("reasoning" in types)


def test_reasoning_streams_as_reasoning_text_deltas(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    body = {"model": MODEL, "input": QUESTION, "reasoning": {"effort": "low"}}
    _, final, streamed = stream_vs_create(make_client, settings_factory, body)
    events = streamed_events(streamed)
    assert events == expected_events(final)
    thought = final["output"][0]["content"][0]["text"]
    deltas = [d for name, d in events if name == "response.reasoning_text.delta"]
    assert [d["delta"] for d in deltas] == tokens(thought)
    assert all((d["output_index"], d["content_index"]) == (0, 0) for d in deltas)
    names = [name for name, _ in events]
    assert names.index("response.reasoning_text.done") < names.index("response.content_part.added")
    done = next(d for name, d in events if name == "response.reasoning_text.done")
    assert (done["text"], done["content_index"]) == (thought, 0)
    added = [d for name, d in events if name == "response.output_item.added"]
    assert [a["item"]["type"] for a in added] == ["reasoning", "message"]
    assert added[0]["item"]["status"] == "in_progress"
    assert added[0]["item"]["content"] == []


def test_sdk_stream_with_reasoning(client: httpx.Client) -> None:
    created = sdk(client).responses.create(model=REASONER, input=QUESTION)
    thought: list[str] = []
    with sdk(client).responses.stream(model=REASONER, input=QUESTION) as stream:
        for event in stream:
            if event.type == "response.reasoning_text.delta":
                thought.append(event.delta)
        final = stream.get_final_response()
    assert "".join(thought) == created.output[0].content[0].text  # type: ignore[union-attr]
    assert final.output_text == created.output_text
    assert [i.type for i in final.output] == ["reasoning", "message"]


# -- function tools ----------------------------------------------------------------------------


def function_call_of(body: dict[str, Any]) -> dict[str, Any]:
    [item] = body["output"]
    assert item["type"] == "function_call"
    return item  # type: ignore[no-any-return]


def arguments_are_valid(item: dict[str, Any], tool: dict[str, Any]) -> dict[str, Any]:
    assert item["name"] == tool["name"]
    arguments = json.loads(item["arguments"])
    assert list(Draft202012Validator(tool["parameters"]).iter_errors(arguments)) == []
    assert item["arguments"] == json.dumps(arguments, separators=(",", ":"))  # compact
    return arguments  # type: ignore[no-any-return]


def test_function_call_item(client: httpx.Client) -> None:
    http, body = create(client, input=WEATHER_QUESTION, tools=TOOLS)
    item = function_call_of(body)
    assert list(item) == ["id", "type", "status", "call_id", "name", "arguments"]
    assert item["id"] == minted("fc_")
    assert item["call_id"] == minted("call_")
    assert re.fullmatch(r"fc_[0-9a-f]{24}", item["id"])
    assert re.fullmatch(r"call_[0-9a-f]{24}", item["call_id"])
    assert item["status"] == "completed"
    arguments = arguments_are_valid(item, WEATHER)
    assert list(arguments) == ["city", "unit", "days"]
    input_tokens = prompt_tokens(WEATHER_QUESTION, tools=TOOLS)
    output_tokens = 1 + ntok(item["arguments"])
    assert body["status"] == "completed"
    assert body["tools"] == TOOLS
    assert body["usage"]["input_tokens"] == input_tokens
    assert body["usage"]["output_tokens"] == output_tokens
    cents = cost_cents(input_tokens, output_tokens)
    assert http.headers["x-cost-cents"] == f"{cents:.4f}"
    assert sdk(client).responses.retrieve(body["id"]).output_text == ""


@pytest.mark.parametrize(
    ("tool_choice", "question", "tool"),
    [
        ("required", "Tell me a story.", CLOCK),  # no overlap: first tool
        ({"type": "function", "name": "get_time"}, WEATHER_QUESTION, CLOCK),
        ({"type": "function", "name": "get_weather"}, "Tell me a story.", WEATHER),
    ],
)
def test_tool_choice(
    client: httpx.Client, tool_choice: Any, question: str, tool: dict[str, Any]
) -> None:
    _, body = create(client, input=question, tools=TOOLS, tool_choice=tool_choice)
    arguments_are_valid(function_call_of(body), tool)
    assert body["tool_choice"] == tool_choice


def test_parallel_tool_calls_true_calls_every_matching_tool(client: httpx.Client) -> None:
    question = "What is the weather and the current clock time in Paris?"
    _, body = create(client, input=question, tools=TOOLS, parallel_tool_calls=True)
    items = body["output"]
    assert [i["name"] for i in items] == ["get_time", "get_weather"]  # request order
    assert [i["id"] for i in items] == [minted("fc_", 1), minted("fc_", 2)]
    _, single = create(client, input=question, tools=TOOLS)  # not explicitly true: one call
    assert [i["name"] for i in single["output"]] == ["get_time"]  # best overlap, first on ties
    _, capped = create(
        client, input=question, tools=TOOLS, parallel_tool_calls=True, max_tool_calls=1
    )
    assert [i["name"] for i in capped["output"]] == ["get_time"]


def test_function_call_output_follow_up_is_text(client: httpx.Client) -> None:
    api = sdk(client)
    first = api.responses.create(model=MODEL, input=WEATHER_QUESTION, tools=TOOLS)  # type: ignore[arg-type]
    [call] = first.output
    assert call.type == "function_call"
    result = "Sunny and 21 degrees."
    second = api.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": result}],
        tools=TOOLS,  # type: ignore[arg-type]
    )
    assert [i.type for i in second.output] == ["message"]
    assert second.status == "completed"
    assert_is_answer(second.output_text)
    assert second.usage is not None
    expected = (
        3
        + (4 + ntok(WEATHER_QUESTION))
        + (4 + ntok(call.name) + ntok(call.arguments))
        + (4 + ntok(result))
        + tools_tokens(TOOLS)
    )
    assert second.usage.input_tokens == expected
    # Even tool_choice "required" answers with text right after a tool result.
    third = api.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": result}],
        tools=TOOLS,  # type: ignore[arg-type]
        tool_choice="required",
    )
    assert [i.type for i in third.output] == ["message"]


def test_function_call_history_in_the_input(client: httpx.Client) -> None:
    arguments = '{"city":"Paris","unit":"celsius","days":1}'
    items = [
        {"role": "user", "content": WEATHER_QUESTION},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": arguments,
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "Rain."},
    ]
    _, body = create(client, input=items, tools=TOOLS)
    assert [i["type"] for i in body["output"]] == ["message"]
    expected = (
        3
        + (4 + ntok(WEATHER_QUESTION))
        + (4 + ntok("get_weather") + ntok(arguments))
        + (4 + ntok("Rain."))
        + tools_tokens(TOOLS)
    )
    assert body["usage"]["input_tokens"] == expected


def test_streamed_function_call_arguments_reassemble(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    body = {"model": MODEL, "input": WEATHER_QUESTION, "tools": TOOLS}
    _, final, streamed = stream_vs_create(make_client, settings_factory, body)
    events = streamed_events(streamed)
    assert events == expected_events(final)
    item = function_call_of(final)
    fragments = [d["delta"] for n, d in events if n == "response.function_call_arguments.delta"]
    assert "".join(fragments) == item["arguments"]
    assert fragments == tokens(item["arguments"])
    added = next(d for n, d in events if n == "response.output_item.added")
    assert added["item"]["arguments"] == ""
    assert added["item"]["status"] == "in_progress"


def test_sdk_stream_function_call(client: httpx.Client) -> None:
    created = sdk(client).responses.create(model=MODEL, input=WEATHER_QUESTION, tools=TOOLS)  # type: ignore[arg-type]
    fragments: list[str] = []
    with sdk(client).responses.stream(
        model=MODEL,
        input=WEATHER_QUESTION,
        tools=TOOLS,  # type: ignore[arg-type]
    ) as stream:
        for event in stream:
            if event.type == "response.function_call_arguments.delta":
                fragments.append(event.delta)
        final = stream.get_final_response()
    [item] = final.output
    assert item.type == "function_call"
    assert item.arguments == "".join(fragments) == created.output[0].arguments  # type: ignore[union-attr]
    assert item.name == "get_weather"


def test_undeclared_tool_choice_name_is_rejected(client: httpx.Client) -> None:
    response = sdk_error(
        lambda: sdk(client).responses.create(
            model=MODEL,
            input=WEATHER_QUESTION,
            tools=TOOLS,  # type: ignore[arg-type]
            tool_choice={"type": "function", "name": "get_stock_price"},
        )
    )
    assert_error(response, 400, "invalid_value", "tool_choice.name")


def test_built_in_tools_are_accepted_and_never_called(client: httpx.Client) -> None:
    tools = [{"type": "web_search"}, {"type": "code_interpreter", "container": {"type": "auto"}}]
    _, body = create(client, input="Search the web for ferry news.", tools=tools)
    assert [i["type"] for i in body["output"]] == ["message"]
    assert body["tools"] == tools


def test_a_model_without_tools_rejects_function_tools(client: httpx.Client) -> None:
    # Decision (overrides §7 #25): deepseek-r1 has no supports_tools.
    response = post(client, {"model": "deepseek-r1", "input": "weather?", "tools": [WEATHER]})
    assert_error(response, 400, "model_not_supported", "tools")


# -- structured output -------------------------------------------------------------------------

CITY_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 3, "maxLength": 40},
        "population": {"type": "integer", "minimum": 1000, "maximum": 5000000},
        "coastal": {"type": "boolean"},
        "kind": {"type": "string", "enum": ["town", "city", "village"]},
        "founded": {"type": "string", "format": "date"},
        "districts": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "area": {"type": "number"}},
                "required": ["name", "area"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["name", "population", "coastal", "kind", "founded", "districts"],
    "additionalProperties": False,
}


def test_json_schema_output_validates(client: httpx.Client) -> None:
    text_format = {"type": "json_schema", "name": "city", "schema": CITY_SCHEMA, "strict": True}
    response = sdk(client).responses.create(
        model=MODEL,
        input="Describe a city.",
        text={"format": text_format},  # type: ignore[typeddict-item]
    )
    value = json.loads(response.output_text)
    assert list(Draft202012Validator(CITY_SCHEMA).iter_errors(value)) == []
    assert list(value) == list(CITY_SCHEMA["properties"])  # type: ignore[call-overload]
    assert value["founded"] == "2026-01-01"  # the virtual clock's date
    assert len(value["districts"]) == 2
    assert response.output_text == json.dumps(value, separators=(",", ":"))
    assert response.text.format.type == "json_schema"  # echoed


def test_json_object_output(client: httpx.Client) -> None:
    _, body = create(client, input=QUESTION, text={"format": {"type": "json_object"}})
    value = json.loads(text_of(body))
    assert list(value) == ["answer"]
    assert_is_answer(value["answer"])


class District(BaseModel):
    name: str
    area: float


class City(BaseModel):
    name: str
    population: int
    coastal: bool
    kind: Literal["town", "city", "village"]
    districts: list[District]


def test_sdk_parse_with_a_pydantic_model(client: httpx.Client) -> None:
    parsed = sdk(client).responses.parse(model=MODEL, input="Describe a city.", text_format=City)
    city = parsed.output_parsed
    assert isinstance(city, City)
    assert city.kind in ("town", "city", "village")
    assert len(city.districts) == 1  # max(minItems, 1)
    assert isinstance(city.districts[0], District)
    assert json.loads(parsed.output_text) == city.model_dump()


# -- vision ------------------------------------------------------------------------------------


def test_input_image_is_described(client: httpx.Client) -> None:
    question = "What is in this image?"
    _, body = create(
        client,
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": question},
                    {"type": "input_image", "image_url": png_data_url(12, 5, (0, 0, 255))},
                ],
            }
        ],
    )
    text = text_of(body)
    assert text.startswith("The image is 12x5 pixels, mostly blue. ")
    assert body["usage"]["input_tokens"] == prompt_tokens(question, parts=1)


def test_a_model_without_vision_rejects_input_images(client: httpx.Client) -> None:
    # Decision (overrides §7 #25): glm-4.7-flash has no vision; the param is the image's path.
    response = post(
        client,
        {
            "model": "glm-4.7-flash",
            "input": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "Look"},
                        {"type": "input_image", "image_url": "https://example.com/a.png"},
                    ],
                }
            ],
        },
    )
    assert_error(response, 400, "model_not_supported", "input.0.content.1")


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        ({"input": "Hi"}, 400, "missing_field", "model"),
        ({"model": MODEL}, 400, "missing_field", "input"),
        ({"model": MODEL, "input": None}, 400, "missing_field", "input"),
        (
            {"model": MODEL, "input": "Hi", "models": ["gpt-4o-mini"]},
            400,
            "unknown_field",
            "models",
        ),
        ({"model": MODEL, "input": "Hi", "seed": 1}, 400, "unknown_field", "seed"),
        ({"model": MODEL, "input": "Hi", "background": True}, 400, "invalid_value", "background"),
        (
            {"model": MODEL, "input": "Hi", "conversation": "conv_1"},
            400,
            "invalid_value",
            "conversation",
        ),
        (
            {"model": MODEL, "input": "Hi", "conversation": {"id": "conv_1"}},
            400,
            "invalid_value",
            "conversation",
        ),
        (
            {"model": MODEL, "input": "Hi", "prompt": {"id": "pmpt_1"}},
            400,
            "invalid_value",
            "prompt",
        ),
        ({"model": "gpt-99", "input": "Hi"}, 404, "model_not_found", "model"),
        ({"model": "text-embedding-3-small", "input": "Hi"}, 400, "model_not_supported", "model"),
        ({"model": MODEL, "input": "Hi", "temperature": 3}, 400, "invalid_value", "temperature"),
        ({"model": MODEL, "input": "Hi", "temperature": "hot"}, 400, "invalid_type", "temperature"),
        ({"model": MODEL, "input": "Hi", "top_p": 1.5}, 400, "invalid_value", "top_p"),
        (
            {"model": MODEL, "input": "Hi", "max_output_tokens": 0},
            400,
            "invalid_value",
            "max_output_tokens",
        ),
        (
            {"model": MODEL, "input": "Hi", "truncation": "maybe"},
            400,
            "invalid_value",
            "truncation",
        ),
        ({"model": MODEL, "input": 5}, 400, "invalid_type", "input"),
    ],
)
def test_bad_requests(
    client: httpx.Client, body: dict[str, Any], status: int, code: str, param: str
) -> None:
    response = post(client, body)
    error = assert_error(
        response, status, code, param, type="invalid_request" if status == 404 else None
    )
    if code == "model_not_found":
        assert error["message"] == "Model 'gpt-99' not found."
    assert "x-cost-cents" not in response.headers


def test_background_false_is_fine(client: httpx.Client) -> None:
    response = post(client, {"model": MODEL, "input": "Hi", "background": False})
    assert response.status_code == 200, response.text


def test_sdk_raises_typed_errors(client: httpx.Client) -> None:
    with pytest.raises(openai.NotFoundError):
        sdk(client).responses.create(model="gpt-99", input="Hi")
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(client).responses.create(model=MODEL, input="Hi", temperature=3)
    assert caught.value.code == "invalid_value"
    assert caught.value.param == "temperature"


def test_ignored_fields_change_nothing(client: httpx.Client) -> None:
    # §2.6: "ignored" fields have no effect beyond being journaled (and, where stated, echoed).
    _, plain = create(client, input=QUESTION)
    ignored = {
        "include": ["reasoning.encrypted_content"],
        "safety_identifier": "s1",
        "prompt_cache_key": "k1",
        "prompt_cache_retention": "24h",
        "service_tier": "auto",
        "verbosity": "low",
        "prompt_cache_options": {},
        "context_management": [],
        "moderation": {},
        "image": {},
        "access_programs": [],
        "background_options": {},
        "ignore_defaults": True,
    }
    changed = {}
    for name, value in ignored.items():
        response = post(client, {"model": MODEL, "input": QUESTION, name: value})
        assert response.status_code == 200, (name, response.text)
        if text_of(response.json()) != text_of(plain):
            changed[name] = value
    assert sorted(changed) == []


# -- determinism -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"model": MODEL, "input": QUESTION},
        {"model": MODEL, "input": QUESTION, "stream": True},
        {"model": REASONER, "input": QUESTION, "stream": True},
        {"model": MODEL, "input": WEATHER_QUESTION, "tools": TOOLS, "stream": True},
        {
            "model": MODEL,
            "input": "Describe a city.",
            "text": {"format": {"type": "json_schema", "name": "c", "schema": CITY_SCHEMA}},
        },
    ],
)
def test_same_request_on_two_fresh_servers_gives_identical_bytes(
    make_client: Clients, settings_factory: Callable[..., Settings], body: dict[str, Any]
) -> None:
    first = post(make_client(settings_factory()), body)
    second = post(make_client(settings_factory()), body)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    for name in ("x-tokens-prompt", "x-tokens-completion", "x-cost-cents", "content-type"):
        assert first.headers[name] == second.headers[name]


def test_streaming_and_non_streaming_give_the_same_content(client: httpx.Client) -> None:
    plain = post(client, {"model": REASONER, "input": QUESTION}).json()
    streamed = post(client, {"model": REASONER, "input": QUESTION, "stream": True})
    final = streamed_events(streamed)[-1][1]["response"]
    strip = [{k: v for k, v in item.items() if k != "id"} for item in plain["output"]]
    assert [{k: v for k, v in item.items() if k != "id"} for item in final["output"]] == strip
    assert final["usage"] == plain["usage"]
