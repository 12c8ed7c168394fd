"""POST /v1/chat/completions and the legacy POST /chat/completions (CONTRACT §3.2, §3.12.1,
§2.10.1, §2.11), through the official openai SDK and raw HTTP, over both transports.

The golden stream transcript ``tests/golden/chat_stream.txt`` (and ``chat_stream_tool.txt``) is
the output of a fresh server (frozen clock at EPOCH, server seed 0) for GOLDEN_BODY /
GOLDEN_TOOL_BODY sent with KEY. To regenerate it after an intended change of the corpus or the
generator, run ``.venv/bin/python -m tests.surfaces.test_chat`` from the repository root and
review the diff.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import httpx
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from openai.lib.streaming.chat import ChatCompletionStreamState
from PIL import Image
from pydantic import BaseModel, Field
from starlette.testclient import TestClient

from mockair import Settings, create_app
from mockair.synth.tokenizer import count, count_json, tokenize
from tests.conftest import EPOCH, Clients, state_of
from tests.helpers import assert_error, parse_sse

KEY = "sk-air-chat-test"
AUTH = {"authorization": f"Bearer {KEY}"}
MINI = "gpt-4o-mini"
PARIS = [{"role": "user", "content": "What is the weather in Paris?"}]
PARIS_PROMPT_TOKENS = 14  # 3 per request + 4 per message + 7 (What is the weather in Paris ?)
GOLDEN = Path(__file__).resolve().parent.parent / "golden"

USAGE_KEYS = [
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
    "cache_creation_input_tokens",
    "cache_creation",
    "cost",
]
CHUNK_KEYS = ["id", "object", "created", "model", "system_fingerprint", "choices"]

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 2},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
EMAIL = {
    "type": "function",
    "function": {
        "name": "send_email",
        "description": "Send an email to a recipient",
        "parameters": {
            "type": "object",
            "properties": {
                "to": {"type": "string", "format": "email"},
                "subject": {"type": "string", "maxLength": 12},
                "priority": {"type": "integer", "minimum": 1, "maximum": 5},
            },
            "required": ["to", "subject"],
        },
    },
}
FLIGHT = {
    "type": "function",
    "function": {
        "name": "book_flight",
        "description": "Book a plane ticket",
        "parameters": {
            "type": "object",
            "properties": {
                "origin": {"type": "string", "minLength": 3, "maxLength": 3},
                "passengers": {"type": "integer", "minimum": 1, "maximum": 9},
                "legs": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/leg"},
                    "minItems": 2,
                    "maxItems": 4,
                },
            },
            "required": ["origin", "passengers", "legs"],
            "$defs": {
                "leg": {
                    "type": "object",
                    "properties": {"date": {"type": "string", "format": "date"}},
                    "required": ["date"],
                }
            },
        },
    },
}
TOOLS_BY_NAME = {t["function"]["name"]: t for t in (WEATHER, EMAIL, FLIGHT)}

GOLDEN_BODY: dict[str, Any] = {
    "model": MINI,
    "messages": PARIS,
    "stream": True,
    "stream_options": {"include_usage": True},
}
GOLDEN_TOOL_BODY: dict[str, Any] = {
    "model": MINI,
    "messages": PARIS,
    "tools": [WEATHER],
    "stream": True,
}


# -- helpers ----------------------------------------------------------------------------------


def sdk(client: httpx.Client, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=str(client.base_url).rstrip("/") + "/v1",
        api_key=key,
        http_client=client,
        max_retries=0,
    )


def post(
    client: httpx.Client,
    body: Any,
    *,
    path: str = "/v1/chat/completions",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return client.post(path, json=body, headers=AUTH if headers is None else headers)


def chat(client: httpx.Client, **body: Any) -> dict[str, Any]:
    """A successful non-streamed completion as raw JSON."""
    body.setdefault("model", MINI)
    body.setdefault("messages", PARIS)
    response = post(client, body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def content_of(result: dict[str, Any], index: int = 0) -> str:
    content = result["choices"][index]["message"]["content"]
    assert isinstance(content, str)
    return content


def hex24(scope: str, kind: str, n: int, server_seed: int = 0) -> str:
    return hashlib.sha256(f"{server_seed}|{scope}|{kind}|{n}".encode()).hexdigest()[:24]


def cents_for(prompt: int, completion: int, price_in: float, price_out: float) -> float:
    return (prompt * price_in + completion * price_out) / 1e6


def assert_answer(text: str) -> None:
    """A generated answer (§2.11.1): 20-60 tokens, printable ASCII, ends with . ! or ?."""
    assert 20 <= count(text) <= 60, text
    assert text[-1] in ".!?", text
    assert all(" " <= ch <= "~" for ch in text), text


def stream_chunks(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON chunks of a chat SSE body; asserts the framing and the final [DONE]."""
    assert response.status_code == 200, response.text
    text = response.text
    assert text.endswith("data: [DONE]\n\n")
    events = parse_sse(text)
    for event in events:
        assert list(event) == ["data"], event
    assert text == "".join(f"data: {e['data']}\n\n" for e in events)
    assert events[-1]["data"] == "[DONE]"
    return [json.loads(e["data"]) for e in events[:-1]]


def delta_contents(chunks: list[dict[str, Any]]) -> list[str]:
    return [
        c["choices"][0]["delta"]["content"]
        for c in chunks
        if c["choices"] and set(c["choices"][0]["delta"]) == {"content"}
    ]


def split_inline(content: str) -> tuple[str, str]:
    """(reasoning, answer) of an inline-reasoning content."""
    assert content.startswith("<think>"), content
    reasoning, sep, answer = content[len("<think>") :].partition("</think>\n\n")
    assert sep, content
    assert "<think>" not in answer
    assert "</think>" not in answer
    return reasoning, answer


def red_png(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (255, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def image_messages(url: str, text: str = "What is in this picture?") -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": text},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]


def sdk_status_error(call: Callable[[], Any]) -> httpx.Response:
    with pytest.raises(openai.APIStatusError) as caught:
        call()
    return caught.value.response


def validate(instance: Any, schema: dict[str, Any]) -> None:
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(instance)


# -- plain completion -------------------------------------------------------------------------


def test_plain_completion_shape_usage_and_headers(client: httpx.Client) -> None:
    raw = sdk(client).chat.completions.with_raw_response.create(model=MINI, messages=PARIS)
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/json"
    body = json.loads(raw.http_response.content)
    assert list(body) == [
        "id",
        "object",
        "created",
        "model",
        "system_fingerprint",
        "choices",
        "usage",
    ]
    # First chat completion of this key's scope: sha256("0|<key>|chatcmpl-|1") (§2.7).
    assert body["id"] == "chatcmpl-" + hex24(KEY, "chatcmpl-", 1)
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{24}", body["id"])
    assert body["object"] == "chat.completion"
    assert body["created"] == EPOCH
    assert body["model"] == MINI
    assert body["system_fingerprint"] == "fp_mockair"
    assert len(body["choices"]) == 1
    choice = body["choices"][0]
    assert list(choice) == ["index", "message", "logprobs", "finish_reason"]
    assert choice["index"] == 0
    assert choice["logprobs"] is None
    assert choice["finish_reason"] == "stop"
    message = choice["message"]
    assert list(message) == ["role", "content", "refusal"]
    assert message["role"] == "assistant"
    assert message["refusal"] is None
    content = message["content"]
    assert_answer(content)

    usage = body["usage"]
    completion = count(content)
    assert list(usage) == USAGE_KEYS
    assert usage["prompt_tokens"] == PARIS_PROMPT_TOKENS
    assert usage["completion_tokens"] == completion
    assert usage["total_tokens"] == PARIS_PROMPT_TOKENS + completion
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 0}
    assert usage["cache_creation_input_tokens"] == 0
    assert usage["cache_creation"] == {
        "ephemeral_5m_input_tokens": 0,
        "ephemeral_1h_input_tokens": 0,
    }
    cents = cents_for(PARIS_PROMPT_TOKENS, completion, 15, 60)  # gpt-4o-mini: 15 / 60 per 1M
    assert usage["cost"] == round(cents / 100, 10)
    assert raw.headers["x-tokens-prompt"] == str(PARIS_PROMPT_TOKENS)
    assert raw.headers["x-tokens-completion"] == str(completion)
    assert raw.headers["x-cost-cents"] == f"{cents:.4f}"

    parsed = raw.parse()
    assert parsed.id == body["id"]
    assert parsed.choices[0].message.content == content
    assert parsed.usage is not None
    assert parsed.usage.prompt_tokens == PARIS_PROMPT_TOKENS
    assert parsed.usage.completion_tokens == completion


def test_prompt_tokens_follow_the_tokenizer_rule(client: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "developer", "content": "Answer in English, please!"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Hello, world!"},
                {"type": "text", "text": "Count 12345 items_now."},
            ],
        },
    ]
    result = chat(client, messages=messages)
    expected = (
        3
        + (4 + count("You are terse."))
        + (4 + count("Answer in English, please!"))
        + (4 + count("Hello, world!\nCount 12345 items_now."))
    )
    assert count("Hello, world!") == 4
    assert expected == 3 + 8 + 10 + 15
    assert result["usage"]["prompt_tokens"] == expected


def test_ids_follow_the_per_scope_counter(client: httpx.Client) -> None:
    first = chat(client)
    second = chat(client)
    other = post(
        client, {"model": MINI, "messages": PARIS}, headers={"authorization": "Bearer sk-air-other"}
    )
    assert first["id"] == "chatcmpl-" + hex24(KEY, "chatcmpl-", 1)
    assert second["id"] == "chatcmpl-" + hex24(KEY, "chatcmpl-", 2)
    assert other.json()["id"] == "chatcmpl-" + hex24("sk-air-other", "chatcmpl-", 1)
    assert content_of(first) == content_of(second) == content_of(other.json())


# -- determinism ------------------------------------------------------------------------------


def test_same_request_on_two_fresh_servers_is_byte_identical(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    body = {"model": MINI, "messages": PARIS, "n": 2, "seed": 7}
    responses = []
    for _ in range(2):
        fresh = make_client(settings_factory())
        responses.append(post(fresh, body))
    first, second = responses
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    for name in ("x-tokens-prompt", "x-tokens-completion", "x-cost-cents", "content-type"):
        assert first.headers[name] == second.headers[name]
    assert first.json()["id"] == "chatcmpl-" + hex24(KEY, "chatcmpl-", 1)


def test_a_remembered_answer_is_byte_identical_to_a_computed_one(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    """The second of two identical requests is assembled from the remembered serialisation;
    a fresh server computing the same request as its second one gives the same bytes."""
    body = {"model": MINI, "messages": PARIS, "max_tokens": 30}
    remembering = make_client(settings_factory())
    post(remembering, body)
    assert len(state_of(remembering).wire) == 1
    remembered = post(remembering, body)
    computing = make_client(settings_factory())
    post(computing, {"model": MINI, "messages": [{"role": "user", "content": "Other"}]})
    computed = post(computing, body)
    assert remembered.status_code == computed.status_code == 200
    assert remembered.content == computed.content
    assert remembered.json()["id"] == "chatcmpl-" + hex24(KEY, "chatcmpl-", 2)
    for name in ("x-tokens-prompt", "x-tokens-completion", "x-cost-cents", "content-length"):
        assert remembered.headers[name] == computed.headers[name]


def test_seed_changes_the_text_and_defaults_to_the_server_seed(client: httpx.Client) -> None:
    default = content_of(chat(client))
    assert content_of(chat(client, seed=0)) == default  # server seed is 0
    one = content_of(chat(client, seed=1))
    two = content_of(chat(client, seed=2))
    assert len({default, one, two}) == 3
    assert content_of(chat(client, seed=1)) == one
    assert_answer(one)
    assert_answer(two)


def test_server_seed_setting_is_the_default_seed(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    seeded = make_client(settings_factory(seed=5))
    plain = make_client(settings_factory())
    assert content_of(chat(seeded)) == content_of(chat(plain, seed=5))
    assert content_of(chat(seeded)) != content_of(chat(plain))


def test_sampling_and_transport_fields_do_not_change_the_text(client: httpx.Client) -> None:
    plain = content_of(chat(client))
    sampled = chat(
        client,
        temperature=1.7,
        top_p=0.1,
        frequency_penalty=1.5,
        presence_penalty=-1,
        user="someone",
        metadata={"a": "b"},
        store=True,
        logit_bias={"42": 5},
    )
    assert content_of(sampled) == plain


def test_prompt_changes_the_text(client: httpx.Client) -> None:
    other = [{"role": "user", "content": "Tell me about London."}]
    assert content_of(chat(client, messages=other)) != content_of(chat(client))


def test_streamed_content_equals_non_streamed(client: httpx.Client) -> None:
    api = sdk(client)
    plain = api.chat.completions.create(model=MINI, messages=PARIS, seed=3)
    pieces = []
    finish = None
    with api.chat.completions.create(model=MINI, messages=PARIS, seed=3, stream=True) as stream:
        for chunk in stream:
            if chunk.choices:
                pieces.append(chunk.choices[0].delta.content or "")
                finish = chunk.choices[0].finish_reason or finish
    assert "".join(pieces) == plain.choices[0].message.content
    assert finish == "stop"


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_token_cap_keeps_a_prefix_with_finish_length(client: httpx.Client, field: str) -> None:
    full = content_of(chat(client))
    capped = chat(client, **{field: 5})
    text = content_of(capped)
    assert text == "".join(tokenize(full)[:5])
    assert full.startswith(text)
    assert text != full
    assert capped["choices"][0]["finish_reason"] == "length"
    assert capped["usage"]["completion_tokens"] == 5


def test_both_caps_the_smaller_wins_and_a_large_cap_changes_nothing(
    client: httpx.Client,
) -> None:
    full = chat(client)
    both = chat(client, max_tokens=9, max_completion_tokens=4)
    assert content_of(both) == "".join(tokenize(content_of(full))[:4])
    assert both["usage"]["completion_tokens"] == 4
    both = chat(client, max_tokens=3, max_completion_tokens=11)
    assert both["usage"]["completion_tokens"] == 3
    roomy = chat(client, max_tokens=1000)
    assert content_of(roomy) == content_of(full)
    assert roomy["choices"][0]["finish_reason"] == "stop"
    huge = chat(client, max_tokens=10**6)  # silently capped at the model's 16384
    assert content_of(huge) == content_of(full)
    exact = chat(client, max_tokens=full["usage"]["completion_tokens"])
    assert content_of(exact) == content_of(full)
    assert exact["choices"][0]["finish_reason"] == "stop"


def test_cap_on_the_stream_gives_the_same_prefix(client: httpx.Client) -> None:
    full = content_of(chat(client))
    chunks = stream_chunks(
        post(client, {"model": MINI, "messages": PARIS, "stream": True, "max_tokens": 6})
    )
    deltas = delta_contents(chunks)
    assert deltas == tokenize(full)[:6]
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_stop_sequences_cut_at_the_earliest_occurrence(client: httpx.Client) -> None:
    full = content_of(chat(client))
    tokens = tokenize(full)
    late, early = "".join(tokens[12:14]), tokens[4]
    cut = min(full.find(late), full.find(early))
    assert 0 < cut < len(full)
    stopped = chat(client, stop=[late, "zzz-never", early])
    assert content_of(stopped) == full[:cut]
    assert stopped["choices"][0]["finish_reason"] == "stop"
    assert stopped["usage"]["completion_tokens"] == count(full[:cut])
    single = chat(client, stop=late)
    assert content_of(single) == full[: full.find(late)]
    absent = chat(client, stop="zzz-never")
    assert content_of(absent) == full
    assert absent["choices"][0]["finish_reason"] == "stop"


def test_stop_then_cap(client: httpx.Client) -> None:
    full = content_of(chat(client))
    tokens = tokenize(full)
    stop = "".join(tokens[10:12])
    before = full[: full.find(stop)]
    capped = chat(client, stop=stop, max_tokens=3)
    assert content_of(capped) == "".join(tokens[:3])
    assert capped["choices"][0]["finish_reason"] == "length"
    roomy = chat(client, stop=stop, max_tokens=50)
    assert content_of(roomy) == before
    assert roomy["choices"][0]["finish_reason"] == "stop"


def test_n_gives_distinct_deterministic_choices(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    results = [chat(make_client(settings_factory()), n=2) for _ in range(2)]
    first, again = results
    assert first == again
    choices = first["choices"]
    assert [c["index"] for c in choices] == [0, 1]
    texts = [c["message"]["content"] for c in choices]
    assert texts[0] != texts[1]
    for text in texts:
        assert_answer(text)
    assert all(c["finish_reason"] == "stop" for c in choices)
    usage = first["usage"]
    assert usage["prompt_tokens"] == PARIS_PROMPT_TOKENS
    assert usage["completion_tokens"] == count(texts[0]) + count(texts[1])
    assert usage["total_tokens"] == PARIS_PROMPT_TOKENS + usage["completion_tokens"]


def test_n_two_streams_choice_after_choice(client: httpx.Client) -> None:
    plain = chat(client, n=2)
    chunks = stream_chunks(post(client, {"model": MINI, "messages": PARIS, "n": 2, "stream": True}))
    indexes = [c["choices"][0]["index"] for c in chunks]
    switch = indexes.index(1)
    assert indexes == [0] * switch + [1] * (len(indexes) - switch)
    for index in (0, 1):
        mine = [c for c in chunks if c["choices"][0]["index"] == index]
        assert mine[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
        assert mine[-1]["choices"][0]["finish_reason"] == "stop"
        assert "".join(delta_contents(mine)) == content_of(plain, index)


# -- streaming --------------------------------------------------------------------------------


def test_stream_framing_with_include_usage(client: httpx.Client) -> None:
    plain = chat(client)
    response = post(client, GOLDEN_BODY)
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    chunks = stream_chunks(response)
    content = content_of(plain)
    tokens = tokenize(content)
    assert len(chunks) == 1 + len(tokens) + 1 + 1

    ids = {c["id"] for c in chunks}
    assert ids == {"chatcmpl-" + hex24(KEY, "chatcmpl-", 2)}
    for chunk in chunks:
        assert list(chunk) == [*CHUNK_KEYS, "usage"]
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["created"] == EPOCH
        assert chunk["model"] == MINI
        assert chunk["system_fingerprint"] == "fp_mockair"
    for chunk in chunks[:-1]:
        assert chunk["usage"] is None
        assert len(chunk["choices"]) == 1
        assert list(chunk["choices"][0]) == ["index", "delta", "logprobs", "finish_reason"]

    def choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]

    assert chunks[0]["choices"] == choice({"role": "assistant", "content": ""})
    for chunk, token in zip(chunks[1:-2], tokens, strict=True):
        assert chunk["choices"] == choice({"content": token})
        assert tokenize(token) == [token]
    assert chunks[-2]["choices"] == choice({}, "stop")
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == plain["usage"]
    assert usage_chunk["usage"]["completion_tokens"] == len(delta_contents(chunks))
    assert response.headers["x-tokens-prompt"] == str(PARIS_PROMPT_TOKENS)
    assert response.headers["x-tokens-completion"] == str(len(tokens))
    assert response.headers["x-cost-cents"] == f"{cents_for(14, len(tokens), 15, 60):.4f}"


def test_stream_without_include_usage_has_no_usage_key(client: httpx.Client) -> None:
    for options in ({}, {"stream_options": {"include_usage": False}}):
        response = post(client, {"model": MINI, "messages": PARIS, "stream": True, **options})
        chunks = stream_chunks(response)
        for chunk in chunks:
            assert list(chunk) == CHUNK_KEYS
            assert len(chunk["choices"]) == 1
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        assert chunks[-1]["choices"][0]["delta"] == {}
        completion = int(response.headers["x-tokens-completion"])
        assert completion == len(delta_contents(chunks))
        assert len(chunks) == completion + 2


def test_stream_matches_the_golden_transcript(client: httpx.Client) -> None:
    response = post(client, GOLDEN_BODY)
    assert response.status_code == 200
    assert response.content == (GOLDEN / "chat_stream.txt").read_bytes()


def test_tool_stream_matches_the_golden_transcript(client: httpx.Client) -> None:
    response = post(client, GOLDEN_TOOL_BODY)
    assert response.status_code == 200
    assert response.content == (GOLDEN / "chat_stream_tool.txt").read_bytes()


def test_stream_via_sdk_with_usage(client: httpx.Client) -> None:
    api = sdk(client)
    raw = api.chat.completions.with_raw_response.create(
        model=MINI, messages=PARIS, stream=True, stream_options={"include_usage": True}
    )
    assert raw.headers["x-tokens-prompt"] == "14"
    usage = None
    pieces = []
    with raw.parse() as stream:
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            for c in chunk.choices:
                pieces.append(c.delta.content or "")
    assert usage is not None
    assert usage.completion_tokens == count("".join(pieces))
    assert raw.headers["x-tokens-completion"] == str(usage.completion_tokens)


# -- tools ------------------------------------------------------------------------------------


def tool_calls_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["content"] is None
    assert message["refusal"] is None
    calls: list[dict[str, Any]] = message["tool_calls"]
    for call in calls:
        assert list(call) == ["id", "type", "function"]
        assert call["type"] == "function"
        assert list(call["function"]) == ["name", "arguments"]
        arguments = json.loads(call["function"]["arguments"])
        assert call["function"]["arguments"] == json.dumps(arguments, separators=(",", ":"))
        validate(arguments, TOOLS_BY_NAME[call["function"]["name"]]["function"]["parameters"])
    return calls


def names(calls: list[dict[str, Any]]) -> list[str]:
    return [c["function"]["name"] for c in calls]


def ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def test_auto_picks_the_tool_sharing_most_words(client: httpx.Client) -> None:
    tools = [WEATHER, EMAIL, FLIGHT]
    weather = chat(client, messages=PARIS, tools=tools)
    calls = tool_calls_of(weather)
    assert names(calls) == ["get_weather"]
    assert calls[0]["id"] == "call_" + hex24(KEY, "call_", 1)
    arguments = calls[0]["function"]["arguments"]
    usage = weather["usage"]
    tools_tokens = count_json(tools)
    assert tools_tokens == count(json.dumps(tools, separators=(",", ":"), sort_keys=True))
    assert usage["prompt_tokens"] == PARIS_PROMPT_TOKENS + tools_tokens
    assert usage["completion_tokens"] == 1 + count(arguments)
    email = chat(client, messages=ask("Please send an email to Bob"), tools=tools)
    assert names(tool_calls_of(email)) == ["send_email"]
    flight = chat(client, messages=ask("I want to book a flight"), tools=tools)
    assert names(tool_calls_of(flight)) == ["book_flight"]


def test_auto_ties_go_to_the_first_tool_and_default_choice_is_auto(
    client: httpx.Client,
) -> None:
    result = chat(client, messages=ask("Hello there"), tools=[FLIGHT, EMAIL])
    assert names(tool_calls_of(result)) == ["book_flight"]
    explicit = chat(client, messages=ask("Hello there"), tools=[FLIGHT, EMAIL], tool_choice="auto")
    assert names(tool_calls_of(explicit)) == ["book_flight"]  # tool_choice is semantic input


def test_auto_after_an_assistant_turn_is_text_but_required_calls(client: httpx.Client) -> None:
    messages = [*PARIS, {"role": "assistant", "content": "Let me check."}]
    text = chat(client, messages=messages, tools=[EMAIL, WEATHER])
    assert text["choices"][0]["finish_reason"] == "stop"
    assert "tool_calls" not in text["choices"][0]["message"]
    assert_answer(content_of(text))
    required = chat(client, messages=messages, tools=[EMAIL, WEATHER], tool_choice="required")
    assert names(tool_calls_of(required)) == ["get_weather"]  # last user text still decides


def test_required_without_any_match_calls_the_first_tool(client: httpx.Client) -> None:
    result = chat(
        client, messages=ask("Hello there"), tools=[EMAIL, WEATHER], tool_choice="required"
    )
    assert names(tool_calls_of(result)) == ["send_email"]


def test_named_choice_calls_that_tool(client: httpx.Client) -> None:
    choice = {"type": "function", "function": {"name": "book_flight"}}
    result = chat(client, tools=[WEATHER, EMAIL, FLIGHT], tool_choice=choice)
    calls = tool_calls_of(result)
    assert names(calls) == ["book_flight"]
    legs = json.loads(calls[0]["function"]["arguments"])["legs"]
    assert len(legs) == 2
    assert legs[0] == {"date": "2026-01-01"}
    # A named choice is one call even with parallel_tool_calls.
    parallel = chat(
        client, tools=[WEATHER, EMAIL, FLIGHT], tool_choice=choice, parallel_tool_calls=True
    )
    assert names(tool_calls_of(parallel)) == ["book_flight"]


def test_allowed_tools_and_custom_choices_act_as_auto(client: httpx.Client) -> None:
    for choice in (
        {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}},
        {"type": "custom", "custom": {"name": "anything"}},
    ):
        result = chat(client, tools=[EMAIL, WEATHER], tool_choice=choice)
        assert names(tool_calls_of(result)) == ["get_weather"], choice


def test_choice_none_gives_text(client: httpx.Client) -> None:
    result = chat(client, tools=[WEATHER], tool_choice="none")
    choice = result["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert list(choice["message"]) == ["role", "content", "refusal"]
    assert_answer(content_of(result))
    assert result["usage"]["completion_tokens"] == count(content_of(result))


def test_parallel_tool_calls_call_every_matching_tool(client: httpx.Client) -> None:
    text = ask("Send an email about the weather in Paris")
    tools = [WEATHER, FLIGHT, EMAIL]
    result = chat(client, messages=text, tools=tools, parallel_tool_calls=True)
    calls = tool_calls_of(result)
    assert names(calls) == ["get_weather", "send_email"]
    assert [c["id"] for c in calls] == [
        "call_" + hex24(KEY, "call_", 1),
        "call_" + hex24(KEY, "call_", 2),
    ]
    assert result["usage"]["completion_tokens"] == sum(
        1 + count(c["function"]["arguments"]) for c in calls
    )
    # Not explicitly true: one call, the best match (send, an, email beat the, weather).
    single = chat(client, messages=text, tools=tools)
    assert names(tool_calls_of(single)) == ["send_email"]
    off = chat(client, messages=text, tools=tools, parallel_tool_calls=False)
    assert names(tool_calls_of(off)) == ["send_email"]
    # Nothing matches: the single best (first) tool.
    none_match = chat(client, messages=ask("Hello there"), tools=tools, parallel_tool_calls=True)
    assert names(tool_calls_of(none_match)) == ["get_weather"]


def test_custom_tools_are_never_called(client: httpx.Client) -> None:
    tools = [{"type": "custom", "custom": {"name": "grammar_tool"}}]
    result = chat(client, tools=tools)
    assert result["choices"][0]["finish_reason"] == "stop"
    assert_answer(content_of(result))
    assert result["usage"]["prompt_tokens"] == PARIS_PROMPT_TOKENS + count_json(tools)


def test_agent_loop_with_the_sdk(client: httpx.Client) -> None:
    api = sdk(client)
    messages: list[Any] = list(PARIS)
    first = api.chat.completions.create(model=MINI, messages=messages, tools=[WEATHER])
    assert first.choices[0].finish_reason == "tool_calls"
    message = first.choices[0].message
    assert message.content is None
    assert message.tool_calls is not None
    assert len(message.tool_calls) == 1
    call = message.tool_calls[0]
    assert call.function.name == "get_weather"
    arguments = json.loads(call.function.arguments)
    validate(arguments, WEATHER["function"]["parameters"])
    messages.append(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
            ],
        }
    )
    result_text = json.dumps({"city": arguments["city"], "temperature_c": 21})
    messages.append({"role": "tool", "tool_call_id": call.id, "content": result_text})
    second = api.chat.completions.create(model=MINI, messages=messages, tools=[WEATHER])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.tool_calls is None
    answer = second.choices[0].message.content
    assert answer is not None
    assert_answer(answer)
    assert second.usage is not None
    assert second.usage.prompt_tokens == (
        3
        + (4 + 7)
        + (4 + count("get_weather") + count(call.function.arguments))
        + (4 + count(result_text))
        + count_json([WEATHER])
    )
    # tool_choice "required" after a tool result still answers with text (the loop ends).
    forced = api.chat.completions.create(
        model=MINI, messages=messages, tools=[WEATHER], tool_choice="required"
    )
    assert forced.choices[0].finish_reason == "stop"
    assert forced.choices[0].message.tool_calls is None


def test_streamed_tool_calls_reassemble_with_the_sdk_helpers(client: httpx.Client) -> None:
    api = sdk(client)
    text = ask("Send an email about the weather in Paris")
    tools: list[Any] = [WEATHER, EMAIL]
    plain = api.chat.completions.create(
        model=MINI, messages=text, tools=tools, parallel_tool_calls=True
    )
    assert plain.choices[0].message.tool_calls is not None
    expected = [
        (c.function.name, c.function.arguments) for c in plain.choices[0].message.tool_calls
    ]
    assert [name for name, _ in expected] == ["get_weather", "send_email"]

    with api.chat.completions.stream(
        model=MINI, messages=text, tools=tools, parallel_tool_calls=True
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].finish_reason == "tool_calls"
    streamed = final.choices[0].message.tool_calls
    assert streamed is not None
    assert [(c.function.name, c.function.arguments) for c in streamed] == expected
    assert all(re.fullmatch(r"call_[0-9a-f]{24}", c.id) for c in streamed)

    state = ChatCompletionStreamState()
    with api.chat.completions.create(
        model=MINI, messages=text, tools=tools, parallel_tool_calls=True, stream=True
    ) as raw_stream:
        for chunk in raw_stream:
            state.handle_chunk(chunk)
    accumulated = state.get_final_completion().choices[0].message.tool_calls
    assert accumulated is not None
    assert [(c.function.name, c.function.arguments) for c in accumulated] == expected


def test_tool_call_stream_framing(client: httpx.Client) -> None:
    plain = chat(client, tools=[WEATHER])
    arguments = tool_calls_of(plain)[0]["function"]["arguments"]
    response = post(client, {"model": MINI, "messages": PARIS, "tools": [WEATHER], "stream": True})
    chunks = stream_chunks(response)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant", "content": None}
    assert deltas[1] == {
        "tool_calls": [
            {
                "index": 0,
                "id": "call_" + hex24(KEY, "call_", 2),
                "type": "function",
                "function": {"name": "get_weather", "arguments": ""},
            }
        ]
    }
    pieces = tokenize(arguments)
    assert deltas[2:-1] == [
        {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} for piece in pieces
    ]
    assert deltas[-1] == {}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert response.headers["x-tokens-completion"] == str(1 + len(pieces))


def test_named_choice_not_declared_is_rejected(client: httpx.Client) -> None:
    choice = {"type": "function", "function": {"name": "launch_rocket"}}
    response = post(
        client, {"model": MINI, "messages": PARIS, "tools": [WEATHER], "tool_choice": choice}
    )
    assert_error(response, 400, "invalid_value", "tool_choice.function.name")
    without_tools = post(client, {"model": MINI, "messages": PARIS, "tool_choice": choice})
    assert_error(without_tools, 400, "invalid_value", "tool_choice.function.name")


def test_tools_on_a_model_without_tools_are_rejected(client: httpx.Client) -> None:
    response = post(client, {"model": "deepseek-r1", "messages": PARIS, "tools": [WEATHER]})
    assert_error(response, 400, "model_not_supported", "tools")
    via_sdk = sdk_status_error(
        lambda: sdk(client).chat.completions.create(
            model="deepseek-r1", messages=PARIS, tools=[WEATHER]
        )
    )
    assert_error(via_sdk, 400, "model_not_supported", "tools")


# -- structured output ------------------------------------------------------------------------


PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 20},
        "age": {"type": "integer", "minimum": 18, "maximum": 120},
        "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 3},
        "role": {"type": "string", "enum": ["admin", "user", "guest"]},
        "verified": {"type": "boolean"},
        "joined": {"type": "string", "format": "date-time"},
    },
    "required": ["name", "age", "score", "tags", "role", "verified", "joined"],
    "additionalProperties": False,
}


def test_json_object_answers_with_an_answer_object(client: httpx.Client) -> None:
    result = chat(client, response_format={"type": "json_object"})
    content = content_of(result)
    value = json.loads(content)
    assert list(value) == ["answer"]
    assert content == json.dumps(value, separators=(",", ":"))
    assert_answer(value["answer"])
    assert result["choices"][0]["finish_reason"] == "stop"
    assert result["usage"]["completion_tokens"] == count(content)


@pytest.mark.parametrize("strict", [True, False, None])
def test_json_schema_content_validates(client: httpx.Client, strict: bool | None) -> None:
    spec: dict[str, Any] = {"name": "person", "schema": PERSON}
    if strict is not None:
        spec["strict"] = strict
    result = chat(client, response_format={"type": "json_schema", "json_schema": spec})
    content = content_of(result)
    value = json.loads(content)
    validate(value, PERSON)
    assert content == json.dumps(value, separators=(",", ":"))
    assert list(value) == list(PERSON["properties"])  # type: ignore[call-overload]
    assert len(value["tags"]) == 2
    assert value["joined"] == "2026-01-01T00:00:00Z"
    assert result["usage"]["completion_tokens"] == count(content)
    again = chat(client, response_format={"type": "json_schema", "json_schema": spec})
    assert content_of(again) == content


class Forecast(BaseModel):
    city: str
    temperature_c: int = Field(ge=-40, le=45)
    conditions: Literal["sunny", "cloudy", "rain"]
    hourly: list[float]


def test_sdk_parse_returns_a_model_instance(client: httpx.Client) -> None:
    result = sdk(client).chat.completions.parse(
        model=MINI, messages=PARIS, response_format=Forecast
    )
    message = result.choices[0].message
    assert isinstance(message.parsed, Forecast)
    assert message.parsed == Forecast.model_validate_json(message.content or "")
    assert -40 <= message.parsed.temperature_c <= 45
    assert len(message.parsed.hourly) == 1


class GetWeather(BaseModel):
    city: str = Field(min_length=2)
    days: int = Field(ge=1, le=7)


def test_sdk_parse_with_a_pydantic_tool(client: httpx.Client) -> None:
    result = sdk(client).chat.completions.parse(
        model=MINI, messages=PARIS, tools=[openai.pydantic_function_tool(GetWeather)]
    )
    assert result.choices[0].finish_reason == "tool_calls"
    calls = result.choices[0].message.tool_calls
    assert calls is not None
    assert len(calls) == 1
    assert calls[0].function.name == "GetWeather"
    parsed = calls[0].function.parsed_arguments
    assert isinstance(parsed, GetWeather)
    assert 1 <= parsed.days <= 7


def test_structured_output_with_reasoning_keeps_content_parseable(client: httpx.Client) -> None:
    spec = {"name": "person", "schema": PERSON, "strict": True}
    result = chat(
        client, model="gpt-5", response_format={"type": "json_schema", "json_schema": spec}
    )
    message = result["choices"][0]["message"]
    validate(json.loads(message["content"]), PERSON)
    reasoning = message["reasoning"]
    assert isinstance(reasoning, str)
    assert result["usage"]["completion_tokens_details"]["reasoning_tokens"] == count(reasoning)
    assert result["usage"]["completion_tokens"] == count(message["content"]) + count(reasoning)
    parsed = sdk(client).chat.completions.parse(
        model="gpt-5", messages=PARIS, response_format=Forecast
    )
    assert isinstance(parsed.choices[0].message.parsed, Forecast)


# hypothesis: many schemas sent as json_schema, the content must validate.

_names = st.sampled_from(["a", "b", "id", "name", "value", "count", "items", "meta", "x_y"])


@st.composite
def _string_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    low = draw(st.none() | st.integers(0, 12))
    high = draw(st.none() | st.integers(low or 0, (low or 0) + 20))
    if low is not None:
        schema["minLength"] = low
    if high is not None:
        schema["maxLength"] = high
    fmt = draw(st.none() | st.sampled_from(["date-time", "date", "email", "uri", "uuid"]))
    if fmt is not None and low is None and high is None:
        schema["format"] = fmt
    return schema


@st.composite
def _number_schemas(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["integer", "number"]))
    schema: dict[str, Any] = {"type": kind}
    low = draw(st.none() | st.integers(-500, 500))
    high = draw(st.none() | st.integers((low if low is not None else -500) + 2, 1000))
    if low is not None:
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
    if high is not None:
        schema["maximum"] = high
    if kind == "integer" and draw(st.booleans()) and low is None and high is None:
        schema["multipleOf"] = draw(st.integers(2, 7))
    return schema


_leaves = st.one_of(
    _string_schemas(),
    _number_schemas(),
    st.just({"type": "boolean"}),
    st.lists(st.text("abcxyz", min_size=1, max_size=5), min_size=1, max_size=4, unique=True).map(
        lambda members: {"type": "string", "enum": members}
    ),
    st.sampled_from([1, "fixed", True]).map(lambda value: {"const": value}),
    st.just({"type": ["string", "null"]}),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    @st.composite
    def objects(draw: st.DrawFn) -> dict[str, Any]:
        props = draw(st.dictionaries(_names, children, min_size=0, max_size=4))
        required = draw(st.lists(st.sampled_from(sorted(props)), unique=True)) if props else []
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            schema["required"] = required
        if draw(st.booleans()):
            schema["additionalProperties"] = False
        return schema

    @st.composite
    def arrays(draw: st.DrawFn) -> dict[str, Any]:
        low = draw(st.integers(0, 3))
        high = draw(st.integers(max(low, 1), 5))
        return {"type": "array", "items": draw(children), "minItems": low, "maxItems": high}

    return st.one_of(
        objects(),
        arrays(),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"anyOf": xs}),
    )


_subschemas = st.recursive(_leaves, _containers, max_leaves=8)


@st.composite
def _top_schemas(draw: st.DrawFn) -> dict[str, Any]:
    props = draw(st.dictionaries(_names, _subschemas, min_size=1, max_size=4))
    schema: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "required": sorted(props),
        "additionalProperties": False,
    }
    if draw(st.booleans()):
        definition = draw(_subschemas)
        schema["$defs"] = {
            "Thing": definition,
            "Pair": {
                "type": "array",
                "items": {"$ref": "#/$defs/Thing"},
                "minItems": 2,
                "maxItems": 2,
            },
        }
        props["thing"] = {"$ref": "#/$defs/Thing"}
        props["pair"] = {"$ref": "#/$defs/Pair"}
        schema["required"] = sorted(props)
    return schema


@settings(max_examples=40, deadline=None)
@given(schema=_top_schemas(), strict=st.booleans(), seed=st.integers(0, 1000))
def test_hypothesis_json_schema_answers_validate(
    schema: dict[str, Any], strict: bool, seed: int
) -> None:
    app = create_app(Settings(port=0, epoch=EPOCH, clock_speed=0, log_level="warning"))
    local = TestClient(app, base_url="http://127.0.0.1:8080")
    try:
        body = {
            "model": MINI,
            "messages": PARIS,
            "seed": seed,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "generated", "schema": schema, "strict": strict},
            },
        }
        response = post(local, body)
    finally:
        local.close()
    assert response.status_code == 200, response.text
    content = content_of(response.json())
    value = json.loads(content)
    validate(value, schema)
    assert list(value) == list(schema["properties"])
    assert response.json()["usage"]["completion_tokens"] == count(content)


# -- reasoning (§2.11.2) ----------------------------------------------------------------------


def reasoning_tokens(result: dict[str, Any]) -> int:
    value: int = result["usage"]["completion_tokens_details"]["reasoning_tokens"]
    return value


def test_gpt5_reasons_inline_by_default(client: httpx.Client) -> None:
    result = chat(client, model="gpt-5")
    message = result["choices"][0]["message"]
    assert list(message) == ["role", "content", "refusal"]
    reasoning, answer = split_inline(message["content"])
    assert_answer(answer)
    assert 20 <= count(reasoning) <= 40  # medium (default) effort
    assert reasoning_tokens(result) == count(reasoning)
    assert result["usage"]["completion_tokens"] == count(answer) + count(reasoning) + 8
    assert result["choices"][0]["finish_reason"] == "stop"
    cents = cents_for(14, result["usage"]["completion_tokens"], 125, 1000)
    assert result["usage"]["cost"] == round(cents / 100, 10)


def test_gpt51_chat_is_off_by_default_and_follows_effort(client: httpx.Client) -> None:
    plain = chat(client, model="gpt-5.1-chat")
    assert "<think>" not in content_of(plain)
    assert reasoning_tokens(plain) == 0
    assert plain["usage"]["completion_tokens"] == count(content_of(plain))
    assert_answer(content_of(plain))
    for effort, low, high in (
        ("low", 10, 20),
        ("minimal", 10, 20),
        ("medium", 20, 40),
        ("high", 40, 80),
    ):
        result = chat(client, model="gpt-5.1-chat", reasoning_effort=effort)
        reasoning, answer = split_inline(content_of(result))
        assert low <= reasoning_tokens(result) <= high, effort
        assert reasoning_tokens(result) == count(reasoning)
        assert result["usage"]["completion_tokens"] == count(answer) + count(reasoning) + 8
    nested = chat(client, model="gpt-5.1-chat", reasoning={"effort": "high"})
    assert 40 <= reasoning_tokens(nested) <= 80
    enabled = chat(client, model="gpt-5.1-chat", reasoning={"enabled": True})
    assert 20 <= reasoning_tokens(enabled) <= 40
    none = chat(client, model="gpt-5", reasoning_effort="none")
    assert reasoning_tokens(none) == 0
    assert "<think>" not in content_of(none)


@pytest.mark.parametrize("model", ["deepseek-r1", "gpt-oss-120b"])
def test_models_reasoning_by_default(client: httpx.Client, model: str) -> None:
    result = chat(client, model=model)
    reasoning, answer = split_inline(content_of(result))
    assert 20 <= reasoning_tokens(result) <= 40
    assert result["usage"]["completion_tokens"] == count(answer) + count(reasoning) + 8
    off = chat(client, model=model, thinking="off")
    assert reasoning_tokens(off) == 0


@pytest.mark.parametrize("effort", ["xhigh", "max"])
def test_highest_efforts_reason_long(client: httpx.Client, effort: str) -> None:
    result = chat(client, model="gpt-5.1-chat", reasoning_effort=effort)
    assert 40 <= reasoning_tokens(result) <= 80


def test_reasoning_max_tokens_acts_like_thinking_budget(client: httpx.Client) -> None:
    # §3.2.1: reasoning.max_tokens acts like thinking_budget, which alone turns reasoning on
    # with that budget (§7.1 #2); on a model reasoning by default it caps the reasoning.
    alone = chat(client, model="gpt-5.1-chat", reasoning={"max_tokens": 5})
    assert reasoning_tokens(alone) == 5
    assert count(split_inline(content_of(alone))[0]) == 5
    capped = chat(client, model="gpt-5", reasoning={"max_tokens": 6})
    assert reasoning_tokens(capped) == 6


def test_reasoning_format_separate_and_exclude(client: httpx.Client) -> None:
    inline = chat(client, model="gpt-5")
    reasoning, answer = split_inline(content_of(inline))

    separate = chat(client, model="gpt-5", reasoning={"format": "separate"})
    message = separate["choices"][0]["message"]
    assert message["content"] == answer
    assert message["reasoning"] == reasoning
    assert reasoning_tokens(separate) == count(reasoning)
    assert separate["usage"]["completion_tokens"] == count(answer) + count(reasoning)

    explicit_inline = chat(client, model="gpt-5", reasoning={"format": "inline"})
    assert content_of(explicit_inline) == content_of(inline)

    excluded = chat(client, model="gpt-5", reasoning={"exclude": True})
    message = excluded["choices"][0]["message"]
    assert list(message) == ["role", "content", "refusal"]
    assert message["content"] == answer
    assert reasoning_tokens(excluded) == count(reasoning)
    assert excluded["usage"]["completion_tokens"] == count(answer) + count(reasoning)


def test_reasoning_placements_agree_with_each_other(client: httpx.Client) -> None:
    # The placements of one request (all with a reasoning object) carry the same texts.
    inline = chat(client, model="gpt-5", reasoning={"format": "inline"})
    reasoning, answer = split_inline(content_of(inline))
    assert inline["usage"]["completion_tokens"] == count(answer) + count(reasoning) + 8
    separate = chat(client, model="gpt-5", reasoning={"format": "separate", "exclude": False})
    assert separate["choices"][0]["message"]["content"] == answer
    assert separate["choices"][0]["message"]["reasoning"] == reasoning
    excluded = chat(client, model="gpt-5", reasoning={"format": "separate", "exclude": True})
    assert list(excluded["choices"][0]["message"]) == ["role", "content", "refusal"]
    assert content_of(excluded) == answer
    assert reasoning_tokens(excluded) == reasoning_tokens(inline) == count(reasoning)


def test_reasoning_separate_through_the_sdk(client: httpx.Client) -> None:
    result = sdk(client).chat.completions.create(
        model="gpt-5", messages=PARIS, extra_body={"reasoning": {"format": "separate"}}
    )
    message = result.choices[0].message
    extra = message.model_extra or {}
    assert isinstance(extra.get("reasoning"), str)
    assert "<think>" not in (message.content or "")
    assert result.usage is not None
    assert result.usage.completion_tokens_details is not None
    assert result.usage.completion_tokens_details.reasoning_tokens == count(extra["reasoning"])


def test_thinking_switches(client: httpx.Client) -> None:
    off = chat(client, model="gpt-5", thinking="off")
    assert reasoning_tokens(off) == 0
    assert "<think>" not in content_of(off)
    disabled = chat(client, model="gpt-5", thinking={"type": "disabled"})
    assert reasoning_tokens(disabled) == 0
    auto = chat(client, model="gpt-5", thinking="auto")
    assert reasoning_tokens(auto) > 0
    auto_off = chat(client, model="gpt-5.1-chat", thinking="auto")
    assert reasoning_tokens(auto_off) == 0

    on = chat(client, model="gpt-5.1-chat", thinking="on")
    reasoning, _ = split_inline(content_of(on))
    assert 20 <= reasoning_tokens(on) <= 40
    assert reasoning_tokens(on) == count(reasoning)
    adaptive = chat(client, model="gpt-5.1-chat", thinking={"type": "adaptive"})
    assert reasoning_tokens(adaptive) > 0


def test_thinking_budget_caps_reasoning_to_a_prefix(client: httpx.Client) -> None:
    roomy = chat(client, model="gpt-5.1-chat", thinking={"type": "enabled", "budget_tokens": 1000})
    full_reasoning, full_answer = split_inline(content_of(roomy))
    assert 20 <= count(full_reasoning) <= 40

    tight = chat(client, model="gpt-5.1-chat", thinking={"type": "enabled", "budget_tokens": 5})
    reasoning, answer = split_inline(content_of(tight))
    assert reasoning_tokens(tight) == 5
    assert reasoning == "".join(tokenize(full_reasoning)[:5])
    assert answer == full_answer  # budgets only truncate (§2.7)
    assert tight["usage"]["completion_tokens"] == count(answer) + 5 + 8

    # thinking_budget alone turns reasoning on with that budget (§7.1 #2).
    budget = chat(client, model="gpt-5.1-chat", thinking_budget=7)
    reasoning, _ = split_inline(content_of(budget))
    assert reasoning_tokens(budget) == 7
    assert count(reasoning) == 7

    default = chat(client, model="gpt-5")
    default_reasoning, default_answer = split_inline(content_of(default))
    capped = chat(client, model="gpt-5", thinking_budget=6)
    reasoning, answer = split_inline(content_of(capped))
    assert reasoning == "".join(tokenize(default_reasoning)[:6])
    assert answer == default_answer
    assert reasoning_tokens(capped) == 6


def test_token_cap_applies_to_the_answer_only(client: httpx.Client) -> None:
    full = chat(client, model="gpt-5")
    reasoning, answer = split_inline(content_of(full))
    capped = chat(client, model="gpt-5", max_tokens=4)
    capped_reasoning, capped_answer = split_inline(content_of(capped))
    assert capped_reasoning == reasoning
    assert capped_answer == "".join(tokenize(answer)[:4])
    assert capped["choices"][0]["finish_reason"] == "length"
    assert capped["usage"]["completion_tokens"] == 4 + count(reasoning) + 8


def test_claude_ignores_reasoning_effort_but_honours_thinking(client: httpx.Client) -> None:
    claude = "claude-sonnet-4.6"
    plain = chat(client, model=claude)
    assert reasoning_tokens(plain) == 0
    for options in ({"reasoning_effort": "high"}, {"reasoning": {"effort": "high"}}):
        ignored = chat(client, model=claude, **options)
        assert reasoning_tokens(ignored) == 0, options
        assert "<think>" not in content_of(ignored)
    thinking = chat(client, model=claude, thinking="on")
    reasoning, _ = split_inline(content_of(thinking))
    assert 20 <= reasoning_tokens(thinking) <= 40
    assert reasoning_tokens(thinking) == count(reasoning)
    budgeted = chat(client, model=claude, thinking={"type": "enabled", "budget_tokens": 5})
    assert reasoning_tokens(budgeted) == 5
    with_budget = chat(client, model=claude, thinking_budget=9)
    assert reasoning_tokens(with_budget) == 9


def test_non_reasoning_model_ignores_every_switch(client: httpx.Client) -> None:
    for options in (
        {"reasoning_effort": "high"},
        {"thinking": "on"},
        {"thinking": {"type": "enabled", "budget_tokens": 5}},
        {"thinking_budget": 5},
        {"reasoning": {"effort": "high", "format": "separate"}},
        {"reasoning": {"enabled": True}},
    ):
        result = chat(client, model=MINI, **options)
        message = result["choices"][0]["message"]
        assert list(message) == ["role", "content", "refusal"], options
        assert "<think>" not in message["content"]
        assert reasoning_tokens(result) == 0
        assert result["usage"]["completion_tokens"] == count(message["content"])
        assert_answer(message["content"])


def test_streamed_separate_reasoning_comes_as_reasoning_deltas(client: httpx.Client) -> None:
    body = {"model": "gpt-5", "messages": PARIS, "reasoning": {"format": "separate"}}
    plain = chat(client, **body)
    message = plain["choices"][0]["message"]
    chunks = stream_chunks(post(client, {**body, "stream": True}))
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant", "content": ""}
    reasoning_pieces = [d["reasoning"] for d in deltas if "reasoning" in d]
    assert all(list(d) == ["reasoning"] for d in deltas if "reasoning" in d)
    assert "".join(reasoning_pieces) == message["reasoning"]
    assert reasoning_pieces == tokenize(message["reasoning"])
    content_pieces = delta_contents(chunks)
    assert "".join(content_pieces) == message["content"]
    # Every reasoning delta comes before the first content delta.
    kinds = [next(iter(d)) for d in deltas[1:-1]]
    assert kinds == ["reasoning"] * len(reasoning_pieces) + ["content"] * len(content_pieces)
    assert len(reasoning_pieces) + len(content_pieces) == plain["usage"]["completion_tokens"]


def test_streamed_inline_reasoning_tokenizes_the_tags(client: httpx.Client) -> None:
    plain = chat(client, model="gpt-5")
    response = post(client, {"model": "gpt-5", "messages": PARIS, "stream": True})
    pieces = delta_contents(stream_chunks(response))
    assert pieces[:3] == ["<", "think", ">"]
    assert "".join(pieces) == content_of(plain)
    close = 3 + plain["usage"]["completion_tokens_details"]["reasoning_tokens"]
    assert pieces[close : close + 5] == ["<", "/", "think", ">", "\n\n"]
    assert len(pieces) == plain["usage"]["completion_tokens"]
    assert response.headers["x-tokens-completion"] == str(len(pieces))


def test_reasoning_with_a_tool_call_is_separate(client: httpx.Client) -> None:
    result = chat(client, model="gpt-5", tools=[WEATHER])
    calls = tool_calls_of(result)
    message = result["choices"][0]["message"]
    assert isinstance(message["reasoning"], str)
    assert result["usage"]["completion_tokens"] == (
        count(message["reasoning"]) + 1 + count(calls[0]["function"]["arguments"])
    )


# -- logprobs (§3.2.3) -----------------------------------------------------------------------


def test_logprobs_one_entry_per_answer_token(client: httpx.Client) -> None:
    result = chat(client, logprobs=True, top_logprobs=3)
    tokens = tokenize(content_of(result))
    block = result["choices"][0]["logprobs"]
    assert list(block) == ["content", "refusal"]
    assert block["refusal"] is None
    entries = block["content"]
    assert [e["token"] for e in entries] == tokens
    for position, entry in enumerate(entries):
        assert list(entry) == ["token", "logprob", "bytes", "top_logprobs"]
        assert entry["bytes"] == list(entry["token"].encode())
        assert -2 < entry["logprob"] <= 0
        assert entry["logprob"] * 1000 == round(entry["logprob"] * 1000)
        top = entry["top_logprobs"]
        assert [t["token"] for t in top] == [
            tokens[(position + rank) % len(tokens)] for rank in range(3)
        ]
        assert top[0]["logprob"] == entry["logprob"]
        assert all(a["logprob"] > b["logprob"] for a, b in itertools.pairwise(top))
    assert chat(client, logprobs=True)["choices"][0]["logprobs"]["content"][0]["top_logprobs"] == []
    assert chat(client, logprobs=False)["choices"][0]["logprobs"] is None


def test_streamed_logprobs_are_not_null_when_requested(client: httpx.Client) -> None:
    # §2.10.1: "logprobs is null unless requested".
    plain = chat(client, logprobs=True, top_logprobs=1)
    entries = plain["choices"][0]["logprobs"]["content"]
    body = {"model": MINI, "messages": PARIS, "logprobs": True, "top_logprobs": 1, "stream": True}
    chunks = stream_chunks(post(client, body))
    content_chunks = [c for c in chunks if "content" in c["choices"][0]["delta"]][1:]
    assert len(content_chunks) == len(entries)
    for chunk, entry in zip(content_chunks, entries, strict=True):
        assert chunk["choices"][0]["logprobs"] == {"content": [entry], "refusal": None}


# -- vision -----------------------------------------------------------------------------------


def test_data_url_png_is_described(client: httpx.Client) -> None:
    result = chat(client, messages=image_messages(data_url(red_png())))
    content = content_of(result)
    sentence = "The image is 40x30 pixels, mostly red."
    assert content.startswith(sentence + " ")
    assert_answer(content[len(sentence) + 1 :])
    expected_prompt = 3 + 4 + count("What is in this picture?") + 85
    assert result["usage"]["prompt_tokens"] == expected_prompt
    assert result["usage"]["completion_tokens"] == count(content)


def test_two_colour_image_names_both(client: httpx.Client) -> None:
    image = Image.new("RGB", (64, 16), (30, 60, 220))
    image.paste((220, 30, 30), (40, 0, 64, 16))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    result = chat(client, messages=image_messages(data_url(buffer.getvalue())))
    assert content_of(result).startswith("The image is 64x16 pixels, mostly blue and red. ")


def test_sdk_image_part(client: httpx.Client) -> None:
    result = sdk(client).chat.completions.create(
        model=MINI,
        messages=image_messages(data_url(red_png(12, 9))),  # type: ignore[arg-type]
    )
    assert (result.choices[0].message.content or "").startswith(
        "The image is 12x9 pixels, mostly red. "
    )


def test_mockair_png_is_described_from_its_metadata(client: httpx.Client) -> None:
    from PIL.PngImagePlugin import PngInfo

    meta = {
        "generator": "mockair",
        "kind": "image",
        "prompt": "a red fox",
        "model": "flux-2-dev",
        "seed": 3,
        "index": 0,
        "size": "16x16",
        "sources": [],
    }
    info = PngInfo()
    info.add_text("Title", "a red fox")
    info.add_text("Software", "mockair")
    info.add_text("mockair", json.dumps(meta, separators=(",", ":")))
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 0, 255)).save(buffer, format="PNG", pnginfo=info)
    result = chat(client, messages=image_messages(data_url(buffer.getvalue())))
    assert content_of(result).startswith(
        'The image shows "a red fox" (generated by flux-2-dev, seed 3). '
    )


def test_media_url_of_this_server_is_read_by_id(client: httpx.Client) -> None:
    generated = client.post(
        "/v1/images/generations",
        json={"model": "flux-2-klein-9b", "prompt": "a red fox", "size": "64x64", "seed": 4},
        headers=AUTH,
    )
    assert generated.status_code == 200, generated.text
    url = generated.json()["data"][0]["url"]
    result = chat(client, messages=image_messages(url))
    assert content_of(result).startswith(
        'The image shows "a red fox" (generated by flux-2-klein-9b, seed 4). '
    )
    unknown = chat(
        client, messages=image_messages(f"{client.base_url}media/img_000000000000000000000000.png")
    )
    assert content_of(unknown).startswith(
        'An image referenced as "img_000000000000000000000000.png" (not fetched). '
    )


def test_http_image_url_is_not_fetched(client: httpx.Client) -> None:
    result = chat(client, messages=image_messages("https://example.com/pics/cat.png?size=2"))
    assert content_of(result).startswith('An image referenced as "cat.png" (not fetched). ')


def test_images_of_earlier_turns_are_not_described(client: httpx.Client) -> None:
    messages = [
        *image_messages(data_url(red_png())),
        {"role": "assistant", "content": "Nice."},
        *PARIS,
    ]
    result = chat(client, messages=messages)
    assert not content_of(result).startswith("The image")
    assert_answer(content_of(result))
    assert result["usage"]["prompt_tokens"] == (
        3 + (4 + count("What is in this picture?") + 85) + (4 + count("Nice.")) + (4 + 7)
    )


def test_broken_base64_is_rejected(client: httpx.Client) -> None:
    messages = image_messages("data:image/png;base64,@@not*base64!!")
    response = post(client, {"model": MINI, "messages": messages})
    assert_error(response, 400, "invalid_value", "messages.0.content.1.image_url.url")


def test_image_on_a_model_without_vision_is_rejected(client: httpx.Client) -> None:
    messages = image_messages(data_url(red_png()))
    response = post(client, {"model": "glm-4.7-flash", "messages": messages})
    assert_error(response, 400, "model_not_supported", "messages.0.content.1")
    earlier = [*messages, {"role": "assistant", "content": "ok"}, *PARIS]
    response = post(client, {"model": "glm-4.7-flash", "messages": earlier})
    assert_error(response, 400, "model_not_supported", "messages.0.content.1")


# -- legacy POST /chat/completions ------------------------------------------------------------

LEGACY_BODY = {
    "model": "claude-3-opus",
    "messages": [{"role": "user", "content": "Write a haiku about the sea."}],
    "max_tokens": 2048,
    "stream": False,
    "temperature": 0.7,
    "top_p": 0.5,
    "top_k": 0,
}


def test_legacy_route_works_without_a_key(client: httpx.Client) -> None:
    response = post(client, LEGACY_BODY, path="/chat/completions", headers={})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == "chatcmpl-" + hex24("anonymous", "chatcmpl-", 1)
    assert body["object"] == "chat.completion"
    assert body["model"] == "claude-3-opus"
    assert body["system_fingerprint"] == "fp_mockair"
    assert body["choices"][0]["logprobs"] is None
    assert body["choices"][0]["finish_reason"] == "stop"
    content = content_of(body)
    assert_answer(content)
    prompt = 3 + 4 + count("Write a haiku about the sea.")
    assert body["usage"]["prompt_tokens"] == prompt
    assert body["usage"]["cost"] == 0
    assert response.headers["x-cost-cents"] == "0.0000"
    assert response.headers["x-tokens-prompt"] == str(prompt)
    assert response.headers["x-tokens-completion"] == str(count(content))


def test_legacy_route_with_a_key_matches_the_current_route(client: httpx.Client) -> None:
    current = post(client, LEGACY_BODY)
    legacy = post(client, LEGACY_BODY, path="/chat/completions")
    anonymous = post(client, LEGACY_BODY, path="/chat/completions", headers={})
    assert current.status_code == legacy.status_code == anonymous.status_code == 200
    assert content_of(legacy.json()) == content_of(current.json())
    assert content_of(anonymous.json()) == content_of(current.json())
    assert (
        legacy.json()["usage"]["completion_tokens"] == current.json()["usage"]["completion_tokens"]
    )
    usage = legacy.json()["usage"]
    cents = cents_for(usage["prompt_tokens"], usage["completion_tokens"], 1500, 7500)
    assert legacy.headers["x-cost-cents"] == f"{cents:.4f}"
    assert usage["cost"] == round(cents / 100, 10)
    assert legacy.json()["id"] == "chatcmpl-" + hex24(KEY, "chatcmpl-", 2)


def test_legacy_route_streams_like_the_current_one(client: httpx.Client) -> None:
    body = {**LEGACY_BODY, "stream": True, "stream_options": {"include_usage": True}}
    plain = post(client, LEGACY_BODY, path="/chat/completions", headers={})
    response = post(client, body, path="/chat/completions", headers={})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["x-cost-cents"] == "0.0000"
    chunks = stream_chunks(response)
    assert "".join(delta_contents(chunks)) == content_of(plain.json())
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["cost"] == 0


def test_legacy_route_validates_like_the_current_one(client: httpx.Client) -> None:
    response = post(
        client, {"model": "claude-3-opus", "messages": []}, path="/chat/completions", headers={}
    )
    assert_error(response, 400, "invalid_value", "messages")
    response = post(client, {**LEGACY_BODY, "foo": 1}, path="/chat/completions", headers={})
    assert_error(response, 400, "unknown_field", "foo")


def test_current_route_needs_a_key(client: httpx.Client) -> None:
    response = post(client, {"model": MINI, "messages": PARIS}, headers={})
    error = assert_error(response, 401, "missing_api_key", None)
    assert error["message"] == "Missing API key. Send 'Authorization: Bearer sk-air-...'."
    bad = post(client, {"model": MINI, "messages": PARIS}, headers={"authorization": "Bearer nope"})
    assert_error(bad, 401, "invalid_api_key", None)


# -- context length ---------------------------------------------------------------------------

LEGACY_8K = "llama-3.1-8b-chat"  # context 8192


def words(n: int) -> str:
    """A text of exactly n tokens."""
    text = "alpha" + " alpha" * (n - 1)
    assert count(text) == n
    return text


def test_context_length_boundary(client: httpx.Client) -> None:
    fits = chat(client, model=LEGACY_8K, messages=ask(words(8192 - 7)))
    assert fits["usage"]["prompt_tokens"] == 8192
    response = post(client, {"model": LEGACY_8K, "messages": ask(words(8192 - 6))})
    assert_error(response, 400, "context_length_exceeded", "messages")


def test_middle_out_drops_the_oldest_middle_messages(client: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": words(5000)},
        {"role": "assistant", "content": words(4000)},
        {"role": "assistant", "content": "Noted."},
        *PARIS,
    ]
    response = post(client, {"model": LEGACY_8K, "messages": messages})
    assert_error(response, 400, "context_length_exceeded", "messages")
    result = chat(client, model=LEGACY_8K, messages=messages, transforms=["middle-out"])
    # Dropping the 5000-token turn is enough; the 4000-token one stays.
    assert result["usage"]["prompt_tokens"] == (
        3 + (4 + count("You are terse.")) + (4 + 4000) + (4 + count("Noted.")) + (4 + 7)
    )
    assert_answer(content_of(result))


def test_middle_out_that_cannot_fit_is_still_rejected(client: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": words(8200)},
    ]
    response = post(
        client, {"model": LEGACY_8K, "messages": messages, "transforms": ["middle-out"]}
    )
    assert_error(response, 400, "context_length_exceeded", "messages")


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        pytest.param({"model": MINI}, 400, "missing_field", "messages", id="missing-messages"),
        pytest.param({"messages": PARIS}, 400, "missing_field", "model", id="missing-model"),
        pytest.param(
            {"model": MINI, "messages": None}, 400, "missing_field", "messages", id="null-messages"
        ),
        pytest.param(
            {"model": MINI, "messages": []}, 400, "invalid_value", "messages", id="empty-messages"
        ),
        pytest.param({"messages": "hi"}, 400, "missing_field", "model", id="messages-hi-no-model"),
        pytest.param(
            {"model": MINI, "messages": "hi"}, 400, "invalid_type", "messages", id="messages-string"
        ),
        pytest.param(
            {"model": MINI, "messages": [{"role": "robot", "content": "hi"}]},
            400,
            "invalid_value",
            "messages.0.role",
            id="role-robot",
        ),
        pytest.param(
            {"model": MINI, "messages": [*PARIS, {"role": "tool", "content": "21C"}]},
            400,
            "missing_field",
            "messages.1.tool_call_id",
            id="tool-without-id",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "max_tokens": 0},
            400,
            "invalid_value",
            "max_tokens",
            id="max-tokens-0",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "max_tokens": -1},
            400,
            "invalid_value",
            "max_tokens",
            id="max-tokens-neg",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "max_completion_tokens": 0},
            400,
            "invalid_value",
            "max_completion_tokens",
            id="max-completion-0",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "max_tokens": "10"},
            400,
            "invalid_type",
            "max_tokens",
            id="max-tokens-string",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "n": 17}, 400, "invalid_value", "n", id="n-17"
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "n": 0}, 400, "invalid_value", "n", id="n-0"
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "stop": ["a", "b", "c", "d", "e"]},
            400,
            "invalid_value",
            "stop",
            id="five-stops",
        ),
        pytest.param(
            {"model": "gpt-99", "messages": PARIS},
            404,
            "model_not_found",
            "model",
            id="unknown-model",
        ),
        pytest.param(
            {"model": "flux-2-dev", "messages": PARIS},
            400,
            "model_not_supported",
            "model",
            id="image-model",
        ),
        pytest.param(
            {"model": "text-embedding-3-small", "messages": PARIS},
            400,
            "model_not_supported",
            "model",
            id="embedding-model",
        ),
        pytest.param(
            {
                "model": MINI,
                "messages": PARIS,
                "tools": [{"type": "function", "function": {"name": "x", "parameters": 5}}],
            },
            400,
            "invalid_type",
            "tools.0.function.parameters",
            id="parameters-not-object",
        ),
        pytest.param(
            {
                "model": MINI,
                "messages": PARIS,
                "tools": [{"type": "function", "function": {"name": "bad name!"}}],
            },
            400,
            "invalid_value",
            "tools.0.function.name",
            id="bad-tool-name",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "stream_options": {"include_usage": True}},
            400,
            "invalid_value",
            "stream_options",
            id="stream-options-without-stream",
        ),
        pytest.param(
            {
                "model": MINI,
                "messages": PARIS,
                "stream": False,
                "stream_options": {"include_usage": True},
            },
            400,
            "invalid_value",
            "stream_options",
            id="stream-options-stream-false",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "foo": 1},
            400,
            "unknown_field",
            "foo",
            id="unknown-field",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "modalities": ["audio"]},
            400,
            "invalid_value",
            "modalities",
            id="audio-modality",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "modalities": ["text", "audio"]},
            400,
            "invalid_value",
            "modalities",
            id="text-audio-modality",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "reasoning_effort": "huge"},
            400,
            "invalid_value",
            "reasoning_effort",
            id="bad-effort",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "tool_choice": "sometimes"},
            400,
            "invalid_value",
            "tool_choice",
            id="bad-tool-choice",
        ),
        pytest.param({"model": 5, "messages": PARIS}, 400, "invalid_type", "model", id="model-int"),
        pytest.param(
            {"model": MINI, "messages": PARIS, "seed": "x"},
            400,
            "invalid_type",
            "seed",
            id="seed-string",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "top_logprobs": 21},
            400,
            "invalid_value",
            "top_logprobs",
            id="top-logprobs-21",
        ),
        pytest.param(
            {"model": MINI, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
            400,
            "missing_field",
            "messages.0.content.0.text",
            id="text-part-without-text",
        ),
        pytest.param(
            {"model": MINI, "messages": PARIS, "tools": [{"type": "function", "function": {}}]},
            400,
            "missing_field",
            "tools.0.function.name",
            id="tool-without-name",
        ),
        pytest.param(
            {"foo": 1, "model": MINI}, 400, "missing_field", "messages", id="missing-before-unknown"
        ),
        pytest.param(
            {"model": MINI, "messages": "hi", "foo": 1},
            400,
            "unknown_field",
            "foo",
            id="unknown-before-type",
        ),
        pytest.param(
            {"model": "gpt-99", "messages": PARIS, "max_tokens": 0},
            400,
            "invalid_value",
            "max_tokens",
            id="validation-before-model",
        ),
        pytest.param(
            {"model": "gpt-99", "messages": PARIS, "stream": True},
            404,
            "model_not_found",
            "model",
            id="stream-error-is-json",
        ),
    ],
)
def test_bad_input(
    client: httpx.Client, body: dict[str, Any], status: int, code: str, param: str
) -> None:
    # An unknown model is a 404 with type invalid_request (§2.5, §7 #1).
    kind = "invalid_request" if code == "model_not_found" else None
    assert_error(post(client, body), status, code, param, type=kind)


def test_body_that_is_not_a_json_object(client: httpx.Client) -> None:
    for content in (b"", b"{nope", b"[1, 2]", b'"hi"'):
        response = client.post("/v1/chat/completions", content=content, headers=AUTH)
        assert_error(response, 400, "invalid_json", None)
    multipart = client.post("/v1/chat/completions", files={"model": ("m", MINI)}, headers=AUTH)
    assert_error(multipart, 400, "invalid_content_type", None)
    # JSON is parsed whatever the declared content type.
    text_plain = client.post(
        "/v1/chat/completions",
        content=json.dumps({"model": MINI, "messages": PARIS}),
        headers={**AUTH, "content-type": "text/plain"},
    )
    assert text_plain.status_code == 200


def test_authentication_comes_before_validation(client: httpx.Client) -> None:
    response = post(client, {"foo": 1}, headers={})
    assert_error(response, 401, "missing_api_key", None)


def test_errors_are_not_billed(client: httpx.Client) -> None:
    response = post(client, {"model": MINI, "messages": PARIS, "n": 17})
    assert_error(response, 400, "invalid_value", "n")
    for name in ("x-cost-cents", "x-tokens-prompt", "x-tokens-completion"):
        assert name not in response.headers


def test_unknown_model_message_and_type(client: httpx.Client) -> None:
    error = assert_error(
        post(client, {"model": "gpt-99", "messages": PARIS}),
        404,
        "model_not_found",
        "model",
        type="invalid_request",
    )
    assert error["message"] == "Model 'gpt-99' not found."


def test_errors_through_the_sdk(client: httpx.Client) -> None:
    api = sdk(client)
    with pytest.raises(openai.NotFoundError):
        api.chat.completions.create(model="gpt-99", messages=PARIS)
    response = sdk_status_error(
        lambda: api.chat.completions.create(model=MINI, messages=PARIS, max_tokens=0)
    )
    assert_error(response, 400, "invalid_value", "max_tokens")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            base_url=str(client.base_url).rstrip("/") + "/v1",
            api_key="not-a-key",
            http_client=client,
            max_retries=0,
        ).chat.completions.create(model=MINI, messages=PARIS)


def test_allowed_fields_the_sdk_can_send_pass(client: httpx.Client) -> None:
    result = sdk(client).chat.completions.create(
        model=MINI,
        messages=PARIS,
        temperature=0.2,
        top_p=0.9,
        frequency_penalty=0.1,
        presence_penalty=0.1,
        user="u",
        metadata={"k": "v"},
        store=False,
        service_tier="auto",
        logprobs=False,
        seed=0,
        verbosity="low",
        prompt_cache_key="pk",
        safety_identifier="s",
        modalities=["text"],
        parallel_tool_calls=False,
    )
    assert result.choices[0].finish_reason == "stop"
    assert_answer(result.choices[0].message.content or "")


# -- golden files -----------------------------------------------------------------------------


def _regenerate_golden() -> None:
    """Write the golden transcripts from a fresh in-process server (see the module docstring)."""
    for name, body in (
        ("chat_stream.txt", GOLDEN_BODY),
        ("chat_stream_tool.txt", GOLDEN_TOOL_BODY),
    ):
        app = create_app(Settings(port=0, epoch=EPOCH, clock_speed=0, log_level="warning"))
        local = TestClient(app, base_url="http://127.0.0.1:8080")
        response = post(local, body)
        local.close()
        assert response.status_code == 200, response.text
        GOLDEN.mkdir(exist_ok=True)
        (GOLDEN / name).write_bytes(response.content)
        print(f"wrote {GOLDEN / name} ({len(response.content)} bytes)")


if __name__ == "__main__":
    _regenerate_golden()
