"""POST /v1/messages and /v1/messages/count_tokens (CONTRACT §3.3) through the official
anthropic SDK and raw HTTP, over both transports.

Expected values are computed here from the contract (the §2.7.1 tokenizer regex, the §2.7 id
formula, the §2.9 prices of claude-sonnet-4.6: 300 in / 1500 out / 30 cache read, cents per 1M),
never read back from mockair's own helpers.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx
import httpx2
import pytest
from jsonschema import Draft202012Validator
from PIL import Image

from mockair import Settings
from tests.conftest import Clients
from tests.helpers import assert_error, parse_sse

KEY = "sk-air-msg-test"
OTHER_KEY = "sk-air-msg-other"
MODEL = "claude-sonnet-4.6"
PRICE_IN, PRICE_OUT, PRICE_READ = 300, 1500, 30
QUESTION = "Tell me something about harbours."
MAX = 1024

TOKEN = re.compile(r"\s*[^\W\d_]{1,8}|\s*\d{1,3}|\s*[^\w\s]|\s*_|\s+")

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather report for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city", "unit"],
    },
}
TIME_TOOL = {
    "name": "get_time",
    "description": "Current clock time for a timezone",
    "input_schema": {
        "type": "object",
        "properties": {"timezone": {"type": "string"}},
        "required": ["timezone"],
    },
}
TOOLS = [TIME_TOOL, WEATHER_TOOL]  # the weather tool is second: chosen by word overlap
WEATHER_QUESTION = "What is the weather in Paris?"


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
    """§2.7.1: 3 per request, 4 + text tokens per message, 85 per non-text part, tools JSON."""
    total = 3 + sum(4 + ntok(t) for t in turns) + 85 * parts
    return total + (tools_tokens(tools) if tools else 0)


def cost_cents(
    input_tokens: int, output_tokens: int, read: int = 0, write_5m: int = 0, write_1h: int = 0
) -> float:
    return (
        input_tokens * PRICE_IN
        + read * PRICE_READ
        + write_5m * PRICE_IN * 1.25
        + write_1h * PRICE_IN * 2
        + output_tokens * PRICE_OUT
    ) / 1e6


def usd(cents: float) -> float:
    return round(cents / 100, 10)


def minted(kind: str, n: int = 1, key: str = KEY) -> str:
    return kind + hashlib.sha256(f"0|{key}|{kind}|{n}".encode()).hexdigest()[:24]


def signature(thinking: str) -> str:
    return "sig_" + hashlib.sha256(thinking.encode()).hexdigest()[:48]


def dumps(value: Any) -> str:
    """Compact JSON as §2.4 writes it; floats in plain decimal notation (``0.000087``)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, float):
        text = f"{value:.10f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    return json.dumps(value, ensure_ascii=False)


def png(width: int, height: int, *bands: tuple[tuple[int, int, int], int]) -> bytes:
    """A PNG made of horizontal colour bands (colour, rows), top to bottom."""
    image = Image.new("RGB", (width, height))
    top = 0
    for colour, rows in bands:
        image.paste(colour, (0, top, width, top + rows))
        top += rows
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# -- clients ------------------------------------------------------------------------------------


_TWINS: dict[int, httpx2.Client] = {}


@pytest.fixture(autouse=True)
def _close_twins() -> Iterator[None]:
    yield
    while _TWINS:
        _TWINS.popitem()[1].close()


def sdk_http(client: httpx.Client) -> httpx2.Client:
    """The client the anthropic SDK is given: ``client`` itself when it is an ``httpx2`` client
    (the in-process TestClient); the socket transport's ``httpx.Client`` is refused by this SDK
    version (it only takes ``httpx2``), so that transport gets an ``httpx2`` twin of it."""
    if isinstance(client, httpx2.Client):
        return client
    if id(client) not in _TWINS:
        _TWINS[id(client)] = httpx2.Client(base_url=str(client.base_url), timeout=30)
    return _TWINS[id(client)]


def sdk(client: httpx.Client, key: str = KEY, **options: Any) -> anthropic.Anthropic:
    http = sdk_http(client)
    if "auth_token" in options:
        return anthropic.Anthropic(
            base_url=str(client.base_url), http_client=http, max_retries=0, **options
        )
    return anthropic.Anthropic(
        base_url=str(client.base_url), api_key=key, http_client=http, max_retries=0, **options
    )


def body_of(**fields: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": MAX, **fields}


def post(
    client: httpx.Client, body: Any, *, key: str | None = KEY, path: str = "/v1/messages", **h: str
) -> httpx.Response:
    headers = {"x-api-key": key} if key is not None else {}
    headers.update(h)
    return client.post(path, json=body, headers=headers)


def create(client: httpx.Client, **fields: Any) -> tuple[httpx.Response, dict[str, Any]]:
    """A non-streamed call through the SDK: (HTTP response, JSON body)."""
    fields.setdefault("model", MODEL)
    fields.setdefault("max_tokens", MAX)
    raw = sdk(client).messages.with_raw_response.create(**fields)
    assert raw.http_response.status_code == 200, raw.http_response.text
    return raw.http_response, raw.http_response.json()


def advance(client: httpx.Client, seconds: float) -> None:
    response = client.post("/_mockair/clock", json={"advance": seconds})
    assert response.status_code == 200, response.text


def sdk_error(call: Callable[[], Any]) -> httpx.Response:
    with pytest.raises(anthropic.APIStatusError) as caught:
        call()
    return caught.value.response


def expected_events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The §2.10.2 event sequence that streams ``message`` (a non-streamed message)."""
    usage = message["usage"]
    start_usage = {
        "input_tokens": usage["input_tokens"],
        "output_tokens": 0,
        "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
        "cache_read_input_tokens": usage["cache_read_input_tokens"],
        "cache_creation": usage["cache_creation"],
    }
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = start_usage
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start})
    ]
    for index, block in enumerate(message["content"]):
        if block["type"] == "thinking":
            opening = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": t} for t in tokens(block["thinking"])]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif block["type"] == "text":
            opening = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": t} for t in tokens(block["text"])]
        else:
            assert block["type"] == "tool_use"
            opening = {**block, "input": {}}
            partial = json.dumps(block["input"], separators=(",", ":"), ensure_ascii=False)
            deltas = [{"type": "input_json_delta", "partial_json": t} for t in tokens(partial)]
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": opening},
            )
        )
        events += [
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
            for delta in deltas
        ]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    final_usage = {
        "input_tokens": usage["input_tokens"],
        "output_tokens": usage["output_tokens"],
        "output_tokens_details": usage["output_tokens_details"],
        "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
        "cache_read_input_tokens": usage["cache_read_input_tokens"],
        "cost": usage["cost"],
    }
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": message["stop_reason"],
                    "stop_sequence": message["stop_sequence"],
                },
                "usage": final_usage,
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def sse_bytes(events: list[tuple[str, dict[str, Any]]]) -> str:
    return "".join(f"event: {name}\ndata: {dumps(data)}\n\n" for name, data in events)


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


# -- the message object -------------------------------------------------------------------------


def test_create_message_shape_headers_and_price(client: httpx.Client) -> None:
    http, body = create(client, messages=[{"role": "user", "content": QUESTION}])
    assert list(body) == [
        "id",
        "type",
        "role",
        "model",
        "content",
        "stop_reason",
        "stop_sequence",
        "usage",
    ]
    assert body["id"] == minted("msg_")
    assert re.fullmatch(r"msg_[0-9a-f]{24}", body["id"])
    assert (body["type"], body["role"], body["model"]) == ("message", "assistant", MODEL)
    [block] = body["content"]
    assert list(block) == ["type", "text"]
    assert block["type"] == "text"
    text = block["text"]
    assert_is_answer(text)
    assert body["stop_reason"] == "end_turn"
    assert body["stop_sequence"] is None

    usage = body["usage"]
    assert list(usage) == [
        "input_tokens",
        "output_tokens",
        "output_tokens_details",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "cache_creation",
        "cost",
    ]
    input_tokens, output_tokens = prompt_tokens(QUESTION), ntok(text)
    cents = cost_cents(input_tokens, output_tokens)
    assert usage == {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "output_tokens_details": {"thinking_tokens": 0},
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "cost": usd(cents),
    }
    assert http.headers["content-type"] == "application/json"
    assert http.headers["x-tokens-prompt"] == str(input_tokens)
    assert http.headers["x-tokens-completion"] == str(output_tokens)
    assert http.headers["x-cost-cents"] == f"{cents:.4f}"
    assert "x-cache-hit" not in http.headers  # no cache_control anywhere
    # Compact JSON, the cost in plain decimal notation.
    assert http.content.decode() == dumps(body)


def test_sdk_parses_the_message(client: httpx.Client) -> None:
    message = sdk(client).messages.create(
        model=MODEL, max_tokens=MAX, messages=[{"role": "user", "content": QUESTION}]
    )
    assert isinstance(message, anthropic.types.Message)
    assert message.id == minted("msg_")
    assert message.content[0].type == "text"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == prompt_tokens(QUESTION)
    assert message.usage.output_tokens == ntok(message.content[0].text)
    # A second call is the same content with the next id of the sequence.
    again = sdk(client).messages.create(
        model=MODEL, max_tokens=MAX, messages=[{"role": "user", "content": QUESTION}]
    )
    assert again.id == minted("msg_", 2)
    assert again.content == message.content


def test_system_prompt_counts_as_one_message(client: httpx.Client) -> None:
    system = "You are a terse assistant."
    _, as_string = create(client, system=system, messages=[{"role": "user", "content": "Hi"}])
    assert as_string["usage"]["input_tokens"] == prompt_tokens(system, "Hi")
    blocks = [{"type": "text", "text": "You are terse."}, {"type": "text", "text": "Be kind."}]
    _, as_blocks = create(client, system=blocks, messages=[{"role": "user", "content": "Hi"}])
    assert as_blocks["usage"]["input_tokens"] == prompt_tokens("You are terse.\nBe kind.", "Hi")


# -- authentication ----------------------------------------------------------------------------


def test_sdk_api_key_is_accepted(client: httpx.Client) -> None:
    # This SDK version (anthropic 2.15) sends its api_key as "Authorization: Bearer".
    seen: list[Any] = []
    sdk_http(client).event_hooks["request"].append(seen.append)
    message = sdk(client).messages.create(
        model=MODEL, max_tokens=MAX, messages=[{"role": "user", "content": QUESTION}]
    )
    assert seen[-1].headers["authorization"] == f"Bearer {KEY}"
    assert message.id == minted("msg_")


def test_sdk_x_api_key_header_is_accepted(client: httpx.Client) -> None:
    seen: list[Any] = []
    http = sdk_http(client)
    http.event_hooks["request"].append(seen.append)
    api = anthropic.Anthropic(
        base_url=str(client.base_url),
        api_key=None,
        default_headers={"x-api-key": OTHER_KEY},
        http_client=http,
        max_retries=0,
    )
    message = api.messages.create(
        model=MODEL, max_tokens=MAX, messages=[{"role": "user", "content": QUESTION}]
    )
    assert seen[-1].headers["x-api-key"] == OTHER_KEY
    assert "authorization" not in seen[-1].headers
    assert seen[-1].headers["anthropic-version"]  # the SDK sends one; any value is accepted
    assert message.id == minted("msg_", key=OTHER_KEY)  # the x-api-key is the scope


def test_bearer_auth_token_is_accepted(client: httpx.Client) -> None:
    seen: list[Any] = []
    sdk_http(client).event_hooks["request"].append(seen.append)
    message = sdk(client, auth_token=OTHER_KEY).messages.create(
        model=MODEL, max_tokens=MAX, messages=[{"role": "user", "content": QUESTION}]
    )
    assert seen[-1].headers["authorization"] == f"Bearer {OTHER_KEY}"
    assert "x-api-key" not in seen[-1].headers
    assert message.id == minted("msg_", key=OTHER_KEY)  # the bearer key is the scope


def test_raw_x_api_key_without_anthropic_version(client: httpx.Client) -> None:
    response = client.post(
        "/v1/messages",
        json=body_of(messages=[{"role": "user", "content": QUESTION}]),
        headers={"x-api-key": KEY},
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == minted("msg_")


def test_raw_authorization_header_and_any_anthropic_version(client: httpx.Client) -> None:
    body = body_of(messages=[{"role": "user", "content": QUESTION}])
    plain = client.post("/v1/messages", json=body, headers={"Authorization": f"bearer {KEY}"})
    assert plain.status_code == 200, plain.text
    assert plain.json()["id"] == minted("msg_")
    odd = post(client, body, **{"anthropic-version": "not-a-date", "anthropic-beta": "x,y"})
    assert odd.status_code == 200, odd.text
    assert odd.json()["content"] == plain.json()["content"]


def test_authorization_wins_over_x_api_key(client: httpx.Client) -> None:
    body = body_of(messages=[{"role": "user", "content": QUESTION}])
    good_bearer = post(client, body, key="garbage", authorization=f"Bearer {KEY}")
    assert good_bearer.status_code == 200, good_bearer.text
    bad_bearer = post(client, body, key=KEY, authorization="Bearer garbage")
    error = assert_error(bad_bearer, 401, "invalid_api_key", None)
    assert error["message"] == "Invalid API key"


def test_count_tokens_takes_x_api_key_and_bearer(client: httpx.Client) -> None:
    body = {"messages": [{"role": "user", "content": QUESTION}]}
    by_x = post(client, body, path="/v1/messages/count_tokens")
    by_bearer = client.post(
        "/v1/messages/count_tokens", json=body, headers={"authorization": f"Bearer {KEY}"}
    )
    assert by_x.json() == by_bearer.json() == {"input_tokens": prompt_tokens(QUESTION)}
    assert_error(
        post(client, body, key=None, path="/v1/messages/count_tokens"), 401, "missing_api_key"
    )


# -- streaming ---------------------------------------------------------------------------------


def test_stream_text_matches_the_non_streamed_message(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    created = sdk(client).messages.create(model=MODEL, max_tokens=MAX, messages=messages)
    with sdk(client).messages.stream(model=MODEL, max_tokens=MAX, messages=messages) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == created.content[0].text
    assert pieces == tokens(created.content[0].text)  # one text_delta per token
    assert [b.model_dump() for b in final.content] == [b.model_dump() for b in created.content]
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == created.usage.output_tokens
    assert final.usage.input_tokens == created.usage.input_tokens


def test_stream_raw_event_sequence_is_exact(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    body = body_of(messages=[{"role": "user", "content": QUESTION}])
    plain, message, streamed = stream_vs_create(make_client, settings_factory, body)
    assert streamed.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert streamed.headers["cache-control"] == "no-cache"
    assert streamed.headers["x-accel-buffering"] == "no"
    for name in ("x-tokens-prompt", "x-tokens-completion", "x-cost-cents"):
        assert streamed.headers[name] == plain.headers[name]
    assert streamed.text == sse_bytes(expected_events(message))

    events = parse_sse(streamed.text)
    names = [e["event"] for e in events]
    assert names[0] == "message_start"
    assert names[1] == "content_block_start"
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert "ping" not in names
    assert all(set(e) == {"event", "data"} for e in events)
    assert "[DONE]" not in streamed.text
    for event in events:
        assert json.loads(event["data"])["type"] == event["event"]
    start = json.loads(events[0]["data"])["message"]
    assert start["content"] == []
    assert start["usage"]["output_tokens"] == 0
    delta = json.loads(events[-2]["data"])
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert delta["usage"]["output_tokens"] == message["usage"]["output_tokens"]


def test_thinking_block_streams_per_token_then_one_signature(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    body = body_of(
        messages=[{"role": "user", "content": QUESTION}],
        thinking={"type": "enabled", "budget_tokens": 8},
    )
    plain, message, streamed = stream_vs_create(make_client, settings_factory, body)
    thinking, text = message["content"]
    assert list(thinking) == ["type", "thinking", "signature"]
    assert thinking["type"] == "thinking"
    assert ntok(thinking["thinking"]) == 8  # medium effort (20-40) capped by the budget
    assert thinking["signature"] == signature(thinking["thinking"])
    assert re.fullmatch(r"sig_[0-9a-f]{48}", thinking["signature"])
    assert signature("Greet") == "sig_d4fd03eee15d7906cd9dcaf9902a4b5e602d4f493b49a563"  # §2.7
    assert text["type"] == "text"
    assert_is_answer(text["text"])
    usage = message["usage"]
    assert usage["output_tokens_details"] == {"thinking_tokens": 8}
    assert usage["output_tokens"] == 8 + ntok(text["text"])
    assert plain.headers["x-tokens-completion"] == str(usage["output_tokens"])

    assert streamed.text == sse_bytes(expected_events(message))
    deltas = [
        json.loads(e["data"])["delta"]
        for e in parse_sse(streamed.text)
        if e["event"] == "content_block_delta" and json.loads(e["data"])["index"] == 0
    ]
    assert [d["type"] for d in deltas] == ["thinking_delta"] * 8 + ["signature_delta"]
    assert (
        deltas[-1]["signature"]
        == "sig_"
        + (hashlib.sha256("".join(d["thinking"] for d in deltas[:-1]).encode()).hexdigest()[:48])
    )


def test_sdk_stream_accumulates_thinking(client: httpx.Client) -> None:
    options: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": MAX,
        "messages": [{"role": "user", "content": QUESTION}],
        "thinking": {"type": "enabled", "budget_tokens": 8},
    }
    created = sdk(client).messages.create(**options)
    with sdk(client).messages.stream(**options) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert [b.model_dump() for b in final.content] == [b.model_dump() for b in created.content]


def test_a_smaller_budget_is_a_prefix_of_the_thinking(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    _, short = create(client, messages=messages, thinking={"type": "enabled", "budget_tokens": 8})
    _, full = create(client, messages=messages, thinking={"type": "enabled", "budget_tokens": 500})
    full_thinking = full["content"][0]["thinking"]
    assert 20 <= ntok(full_thinking) <= 40  # medium effort
    assert short["content"][0]["thinking"] == "".join(tokens(full_thinking)[:8])
    assert short["content"][1] == full["content"][1]  # the budget only truncates


@pytest.mark.parametrize(
    ("options", "low", "high"),
    [
        ({"thinking": "on"}, 20, 40),
        ({"thinking": {"type": "adaptive"}}, 20, 40),
        ({"thinking_budget": 6}, 6, 6),
        ({"output_config": {"effort": "low"}}, 10, 20),
        ({"output_config": {"effort": "high"}}, 40, 80),
        ({"output_config": {"effort": "high"}, "thinking_budget": 30}, 30, 30),
    ],
)
def test_reasoning_switches_turn_thinking_on(
    client: httpx.Client, options: dict[str, Any], low: int, high: int
) -> None:
    _, body = create(client, messages=[{"role": "user", "content": QUESTION}], extra_body=options)
    assert [b["type"] for b in body["content"]] == ["thinking", "text"]
    thinking = body["content"][0]["thinking"]
    assert low <= ntok(thinking) <= high, thinking
    assert body["usage"]["output_tokens_details"] == {"thinking_tokens": ntok(thinking)}
    assert body["content"][0]["signature"] == signature(thinking)


@pytest.mark.parametrize(
    "options",
    [
        {},  # claude-sonnet-4.6 does not reason by default
        {"thinking": "off"},
        {"thinking": "auto"},
        {"thinking": {"type": "disabled"}},
        {"reasoning_effort": "high"},  # no effect on Anthropic models (§2.11.2, §7 #26)
        {"reasoning_effort": "max"},
    ],
)
def test_thinking_stays_off(client: httpx.Client, options: dict[str, Any]) -> None:
    _, body = create(client, messages=[{"role": "user", "content": QUESTION}], extra_body=options)
    assert [b["type"] for b in body["content"]] == ["text"]
    assert body["usage"]["output_tokens_details"] == {"thinking_tokens": 0}
    assert body["usage"]["output_tokens"] == ntok(body["content"][0]["text"])


def test_reasoning_effort_does_not_lengthen_claude_thinking(client: httpx.Client) -> None:
    # With thinking on, an ignored reasoning_effort "none" does not switch it off.
    _, body = create(
        client,
        messages=[{"role": "user", "content": QUESTION}],
        extra_body={"thinking": "on", "reasoning_effort": "none"},
    )
    assert [b["type"] for b in body["content"]] == ["thinking", "text"]


def test_reasoning_effort_works_on_a_non_anthropic_model(client: httpx.Client) -> None:
    # The contrast: gpt-5.1-chat (openai, reasoning off by default) honours reasoning_effort.
    _, body = create(
        client,
        model="gpt-5.1-chat",
        messages=[{"role": "user", "content": QUESTION}],
        extra_body={"reasoning_effort": "high"},
    )
    assert [b["type"] for b in body["content"]] == ["thinking", "text"]
    assert 40 <= ntok(body["content"][0]["thinking"]) <= 80


# -- tools -------------------------------------------------------------------------------------


def tool_input_is_valid(block: dict[str, Any], tool: dict[str, Any]) -> None:
    assert block["name"] == tool["name"]
    errors = list(Draft202012Validator(tool["input_schema"]).iter_errors(block["input"]))
    assert errors == [], block["input"]


def test_tool_use_reply_with_auto_choice(client: httpx.Client) -> None:
    http, body = create(
        client, tools=TOOLS, messages=[{"role": "user", "content": WEATHER_QUESTION}]
    )
    [block] = body["content"]
    assert list(block) == ["type", "id", "name", "input"]
    assert block["type"] == "tool_use"
    assert block["id"] == minted("toolu_")
    tool_input_is_valid(block, WEATHER_TOOL)
    assert list(block["input"]) == ["city", "unit", "days"]  # every property, in order
    assert body["stop_reason"] == "tool_use"
    assert body["stop_sequence"] is None
    arguments = json.dumps(block["input"], separators=(",", ":"), ensure_ascii=False)
    input_tokens = prompt_tokens(WEATHER_QUESTION, tools=TOOLS)
    output_tokens = 1 + ntok(arguments)
    assert body["usage"]["input_tokens"] == input_tokens
    assert body["usage"]["output_tokens"] == output_tokens
    cents = cost_cents(input_tokens, output_tokens)
    assert http.headers["x-cost-cents"] == f"{cents:.4f}"
    assert body["usage"]["cost"] == usd(cents)


@pytest.mark.parametrize(
    ("tool_choice", "question", "tool"),
    [
        ({"type": "any"}, "Tell me a story.", TIME_TOOL),  # no overlap: first tool
        ({"type": "any"}, WEATHER_QUESTION, WEATHER_TOOL),
        ({"type": "tool", "name": "get_time"}, WEATHER_QUESTION, TIME_TOOL),
        ({"type": "tool", "name": "get_weather"}, "Tell me a story.", WEATHER_TOOL),
        ({"type": "auto", "disable_parallel_tool_use": True}, WEATHER_QUESTION, WEATHER_TOOL),
    ],
)
def test_tool_choice_picks_the_tool(
    client: httpx.Client, tool_choice: dict[str, Any], question: str, tool: dict[str, Any]
) -> None:
    _, body = create(
        client,
        tools=TOOLS,
        tool_choice=tool_choice,
        messages=[{"role": "user", "content": question}],
    )
    [block] = body["content"]  # messages always make exactly one call
    assert block["type"] == "tool_use"
    tool_input_is_valid(block, tool)
    assert body["stop_reason"] == "tool_use"


def test_tool_choice_none_answers_with_text(client: httpx.Client) -> None:
    _, body = create(
        client,
        tools=TOOLS,
        tool_choice={"type": "none"},
        messages=[{"role": "user", "content": WEATHER_QUESTION}],
    )
    assert [b["type"] for b in body["content"]] == ["text"]
    assert body["stop_reason"] == "end_turn"


def test_thinking_comes_before_tool_use(client: httpx.Client) -> None:
    _, body = create(
        client,
        tools=TOOLS,
        thinking={"type": "enabled", "budget_tokens": 5},
        messages=[{"role": "user", "content": WEATHER_QUESTION}],
    )
    assert [b["type"] for b in body["content"]] == ["thinking", "tool_use"]
    arguments = json.dumps(body["content"][1]["input"], separators=(",", ":"))
    assert body["usage"]["output_tokens"] == 5 + 1 + ntok(arguments)


def test_streamed_tool_input_reassembles_in_the_sdk(client: httpx.Client) -> None:
    options: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": MAX,
        "tools": TOOLS,
        "messages": [{"role": "user", "content": WEATHER_QUESTION}],
    }
    created = sdk(client).messages.create(**options)
    fragments: list[str] = []
    with sdk(client).messages.stream(**options) as stream:
        for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                fragments.append(event.delta.partial_json)
        final = stream.get_final_message()
    [block] = final.content
    assert block.type == "tool_use"
    assert block.input == created.content[0].input
    assert block.name == "get_weather"
    assert final.stop_reason == "tool_use"
    assert json.loads("".join(fragments)) == created.content[0].input
    assert fragments == tokens("".join(fragments))  # one fragment per token
    assert len(fragments) == created.usage.output_tokens - 1


def test_streamed_tool_use_raw_events_are_exact(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    body = body_of(tools=TOOLS, messages=[{"role": "user", "content": WEATHER_QUESTION}])
    _, message, streamed = stream_vs_create(make_client, settings_factory, body)
    assert streamed.text == sse_bytes(expected_events(message))
    start = next(e for e in parse_sse(streamed.text) if e["event"] == "content_block_start")
    block = json.loads(start["data"])["content_block"]
    assert block["input"] == {}
    assert block["type"] == "tool_use"


def test_agent_loop_ends_with_text_after_a_tool_result(client: httpx.Client) -> None:
    api = sdk(client)
    messages: list[dict[str, Any]] = [{"role": "user", "content": WEATHER_QUESTION}]
    first = api.messages.create(model=MODEL, max_tokens=MAX, tools=TOOLS, messages=messages)
    [call] = first.content
    assert call.type == "tool_use"
    result = "Sunny and 21 degrees."
    messages += [
        {"role": "assistant", "content": first.content},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": result}],
        },
    ]
    second = api.messages.create(model=MODEL, max_tokens=MAX, tools=TOOLS, messages=messages)
    assert [b.type for b in second.content] == ["text"]
    assert second.stop_reason == "end_turn"
    assert_is_answer(second.content[0].text)
    arguments = json.dumps(call.input, separators=(",", ":"))
    expected = (
        3
        + (4 + ntok(WEATHER_QUESTION))
        + (4 + ntok(call.name) + ntok(arguments))
        + (4 + ntok(result))
        + tools_tokens(TOOLS)
    )
    assert second.usage.input_tokens == expected
    # tool_choice "any" still answers with text after a tool result: the loop ends.
    third = api.messages.create(
        model=MODEL, max_tokens=MAX, tools=TOOLS, tool_choice={"type": "any"}, messages=messages
    )
    assert [b.type for b in third.content] == ["text"]


def test_tool_result_blocks_count_as_their_text(client: httpx.Client) -> None:
    blocks = [{"type": "text", "text": "Sunny."}, {"type": "text", "text": "Warm."}]
    messages = [
        {"role": "user", "content": WEATHER_QUESTION},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"c": 1}}
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": blocks}],
        },
    ]
    counted = post(client, {"messages": messages}, path="/v1/messages/count_tokens").json()
    expected = 3 + 4 + ntok(WEATHER_QUESTION) + 4 + ntok("get_weather") + ntok('{"c":1}') + 4
    assert counted == {"input_tokens": expected + ntok("Sunny.\nWarm.")}


def test_undeclared_tool_choice_name_is_rejected(client: httpx.Client) -> None:
    response = sdk_error(
        lambda: sdk(client).messages.create(
            model=MODEL,
            max_tokens=MAX,
            tools=TOOLS,
            tool_choice={"type": "tool", "name": "get_stock_price"},
            messages=[{"role": "user", "content": WEATHER_QUESTION}],
        )
    )
    assert_error(response, 400, "invalid_value", "tool_choice.name")
    assert "x-cost-cents" not in response.headers


@pytest.mark.parametrize("tool_choice", [None, {"type": "auto"}, {"type": "any"}])
def test_server_tools_are_accepted_and_never_called(
    client: httpx.Client, tool_choice: dict[str, Any] | None
) -> None:
    server_tools = [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]
    question = "Search the web for the latest harbour news."
    options: dict[str, Any] = {"tools": server_tools}
    if tool_choice is not None:
        options["tool_choice"] = tool_choice
    _, body = create(client, messages=[{"role": "user", "content": question}], **options)
    assert [b["type"] for b in body["content"]] == ["text"]
    assert body["stop_reason"] == "end_turn"
    assert body["usage"]["input_tokens"] == prompt_tokens(question, tools=server_tools)


def test_server_tool_beside_a_custom_tool_calls_the_custom_one(client: httpx.Client) -> None:
    tools = [{"type": "web_search_20250305", "name": "web_search"}, WEATHER_TOOL]
    _, body = create(
        client,
        tools=tools,
        tool_choice={"type": "any"},
        messages=[{"role": "user", "content": "Search the web"}],
    )
    [block] = body["content"]
    tool_input_is_valid(block, WEATHER_TOOL)


def test_a_model_without_tools_rejects_tools(client: httpx.Client) -> None:
    # Decision (overrides §7 #25): no silent answer for deepseek-r1 (supports_tools false).
    response = post(
        client,
        body_of(
            model="deepseek-r1", tools=TOOLS, messages=[{"role": "user", "content": "weather?"}]
        ),
    )
    assert_error(response, 400, "model_not_supported", "tools")


# -- prompt caching ----------------------------------------------------------------------------

SYSTEM = "You are the harbour master. Answer questions about ships, tides and the old pier."


def cached_system(ttl: str | None = None) -> list[dict[str, Any]]:
    marker: dict[str, Any] = {"type": "ephemeral"}
    if ttl is not None:
        marker["ttl"] = ttl
    return [{"type": "text", "text": SYSTEM, "cache_control": marker}]


def cache_call(
    client: httpx.Client, *, key: str = KEY, model: str = MODEL, **fields: Any
) -> tuple[str | None, dict[str, Any], httpx.Response]:
    fields.setdefault("system", cached_system())
    fields.setdefault("messages", [{"role": "user", "content": QUESTION}])
    response = post(client, {"model": model, "max_tokens": MAX, **fields}, key=key)
    assert response.status_code == 200, response.text
    return response.headers.get("x-cache-hit"), response.json()["usage"], response


def test_cache_miss_then_5m_hits_then_expiry(client: httpx.Client) -> None:
    prefix = 4 + ntok(SYSTEM)  # the system message; no 3-token request overhead
    total = prompt_tokens(SYSTEM, QUESTION)
    hit, usage, response = cache_call(client)
    assert hit == "miss"
    assert usage["input_tokens"] == total - prefix
    assert usage["cache_creation_input_tokens"] == prefix
    assert usage["cache_read_input_tokens"] == 0
    assert usage["cache_creation"] == {
        "ephemeral_5m_input_tokens": prefix,
        "ephemeral_1h_input_tokens": 0,
    }
    cents = cost_cents(total - prefix, usage["output_tokens"], write_5m=prefix)
    assert usage["cost"] == usd(cents)
    assert response.headers["x-cost-cents"] == f"{cents:.4f}"
    assert response.headers["x-tokens-prompt"] == str(total)  # cache creation included

    hit, usage, response = cache_call(client)
    assert hit == "5m"
    assert usage["input_tokens"] == total - prefix
    assert usage["cache_creation_input_tokens"] == 0
    assert usage["cache_read_input_tokens"] == prefix
    assert usage["cache_creation"] == {
        "ephemeral_5m_input_tokens": 0,
        "ephemeral_1h_input_tokens": 0,
    }
    cents = cost_cents(total - prefix, usage["output_tokens"], read=prefix)
    assert usage["cost"] == usd(cents)
    assert response.headers["x-cost-cents"] == f"{cents:.4f}"
    assert response.headers["x-tokens-prompt"] == str(total)  # cache read included

    advance(client, 200)
    assert cache_call(client)[0] == "5m"  # the hit restarts the TTL ...
    advance(client, 200)
    assert cache_call(client)[0] == "5m"  # ... so 400 s after the write it still hits
    advance(client, 301)
    hit, usage, _ = cache_call(client)
    assert hit == "miss"
    assert usage["cache_creation_input_tokens"] == prefix
    assert usage["cache_read_input_tokens"] == 0


def test_cache_1h_ttl(client: httpx.Client) -> None:
    prefix = 4 + ntok(SYSTEM)
    total = prompt_tokens(SYSTEM, QUESTION)
    hit, usage, response = cache_call(client, system=cached_system("1h"))
    assert hit == "miss"
    assert usage["cache_creation_input_tokens"] == prefix
    assert usage["cache_creation"] == {
        "ephemeral_5m_input_tokens": 0,
        "ephemeral_1h_input_tokens": prefix,
    }
    cents = cost_cents(total - prefix, usage["output_tokens"], write_1h=prefix)
    assert usage["cost"] == usd(cents)
    assert response.headers["x-cost-cents"] == f"{cents:.4f}"

    hit, usage, _ = cache_call(client, system=cached_system("1h"))
    assert hit == "1h"
    assert usage["cache_read_input_tokens"] == prefix
    advance(client, 301)
    assert cache_call(client, system=cached_system("1h"))[0] == "1h"
    advance(client, 3601)
    assert cache_call(client, system=cached_system("1h"))[0] == "miss"


def test_cache_is_per_model_and_per_scope(client: httpx.Client) -> None:
    assert cache_call(client)[0] == "miss"
    assert cache_call(client, model="claude-opus-4.8")[0] == "miss"
    assert cache_call(client, key=OTHER_KEY)[0] == "miss"
    assert cache_call(client)[0] == "5m"
    # A different prefix is a different entry; a different tail is the same one.
    changed = [{**cached_system()[0], "text": SYSTEM + " Be brief."}]
    assert cache_call(client, system=changed)[0] == "miss"
    assert cache_call(client, messages=[{"role": "user", "content": "Other question?"}])[0] == "5m"


def test_cache_marker_on_a_message_block(client: httpx.Client) -> None:
    document = "The pier was built in 1887 and rebuilt after the storm of 1953."
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": document, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": QUESTION},
            ],
        }
    ]
    system = "Be brief."
    hit, usage, _ = cache_call(client, system=system, messages=messages)
    assert hit == "miss"
    # Prefix: the system message and the user message up to the marked block.
    prefix = (4 + ntok(system)) + (4 + ntok(document))
    total = prompt_tokens(system, document + "\n" + QUESTION)
    assert usage["cache_creation_input_tokens"] == prefix
    assert usage["input_tokens"] == total - prefix
    assert cache_call(client, system=system, messages=messages)[0] == "5m"


def test_cache_marker_on_the_last_tool(client: httpx.Client) -> None:
    tools = [TIME_TOOL, {**WEATHER_TOOL, "cache_control": {"type": "ephemeral"}}]
    messages = [{"role": "user", "content": "Tell me a story."}]
    hit, usage, _ = cache_call(client, system=None, tools=tools, messages=messages)
    assert hit == "miss"
    assert usage["cache_creation_input_tokens"] == tools_tokens(tools)
    assert usage["input_tokens"] == prompt_tokens("Tell me a story.")


def test_top_level_cache_control_marks_the_last_block(client: httpx.Client) -> None:
    hit, usage, _ = cache_call(client, system="Be brief.", cache_control={"type": "ephemeral"})
    assert hit == "miss"
    assert usage["cache_creation_input_tokens"] == (4 + ntok("Be brief.")) + (4 + ntok(QUESTION))
    assert usage["input_tokens"] == 3  # only the request overhead is outside the prefix


def test_cache_through_the_sdk(client: httpx.Client) -> None:
    api = sdk(client)
    options: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": MAX,
        "system": cached_system(),
        "messages": [{"role": "user", "content": QUESTION}],
    }
    first = api.messages.with_raw_response.create(**options)
    assert first.headers["x-cache-hit"] == "miss"
    second = api.messages.with_raw_response.create(**options)
    assert second.headers["x-cache-hit"] == "5m"
    assert second.parse().usage.cache_read_input_tokens == 4 + ntok(SYSTEM)
    assert second.parse().usage.cache_creation_input_tokens == 0


def test_cached_stream_reports_cache_usage(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    body = body_of(system=cached_system(), messages=[{"role": "user", "content": QUESTION}])
    plain, message, streamed = stream_vs_create(make_client, settings_factory, body)
    assert plain.headers["x-cache-hit"] == streamed.headers["x-cache-hit"] == "miss"
    assert streamed.text == sse_bytes(expected_events(message))


# -- count_tokens ------------------------------------------------------------------------------


def test_count_tokens_equals_the_input_tokens_of_create(client: httpx.Client) -> None:
    image = base64.b64encode(png(8, 8, ((255, 0, 0), 8))).decode()
    options: dict[str, Any] = {
        "model": MODEL,
        "system": "Be brief.",
        "tools": TOOLS,
        "messages": [
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi! How can I help?"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": image},
                    },
                ],
            },
        ],
    }
    api = sdk(client)
    counted = api.messages.with_raw_response.count_tokens(**options)
    created = api.messages.create(max_tokens=MAX, tool_choice={"type": "none"}, **options)
    expected = prompt_tokens(
        "Be brief.",
        "Hello",
        "Hi! How can I help?",
        "What is in this picture?",
        tools=TOOLS,
        parts=1,
    )
    assert counted.http_response.json() == {"input_tokens": expected}
    assert counted.parse().input_tokens == created.usage.input_tokens == expected
    assert "x-cost-cents" not in counted.headers  # never billed
    assert "x-tokens-prompt" not in counted.headers


def test_count_tokens_model_is_optional(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    without = post(client, {"messages": messages}, path="/v1/messages/count_tokens")
    assert without.status_code == 200, without.text
    assert without.content == f'{{"input_tokens":{prompt_tokens(QUESTION)}}}'.encode()
    with_model = post(
        client, {"model": MODEL, "messages": messages}, path="/v1/messages/count_tokens"
    )
    assert with_model.json() == without.json()


def test_count_tokens_ignores_the_cache(client: httpx.Client) -> None:
    options = {"system": cached_system(), "messages": [{"role": "user", "content": QUESTION}]}
    assert cache_call(client, **options)[0] == "miss"
    counted = post(client, options, path="/v1/messages/count_tokens")
    assert counted.json() == {"input_tokens": prompt_tokens(SYSTEM, QUESTION)}
    assert "x-cache-hit" not in counted.headers


def test_count_tokens_errors(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    error = assert_error(
        sdk_error(lambda: sdk(client).messages.count_tokens(model="claude-9", messages=messages)),
        404,
        "model_not_found",
        "model",
        type="invalid_request",
    )
    assert error["message"] == "Model 'claude-9' not found."
    assert_error(
        post(
            client,
            {"model": "text-embedding-3-small", "messages": messages},
            path="/v1/messages/count_tokens",
        ),
        400,
        "model_not_supported",
        "model",
    )
    assert_error(
        post(client, {"model": MODEL}, path="/v1/messages/count_tokens"),
        400,
        "missing_field",
        "messages",
    )


# -- stop sequences and the token cap ----------------------------------------------------------


def test_stop_sequences_cut_the_answer(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    _, full = create(client, messages=messages)
    text = full["content"][0]["text"]
    pieces = tokens(text)
    stop = pieces[5]  # a token in the middle, with its leading space
    cut = text[: text.find(stop)]
    http, body = create(client, messages=messages, stop_sequences=["never-there", stop])
    assert body["content"] == [{"type": "text", "text": cut}]
    assert body["stop_reason"] == "stop_sequence"
    assert body["stop_sequence"] == stop
    assert body["usage"]["output_tokens"] == ntok(cut)
    assert http.headers["x-tokens-completion"] == str(ntok(cut))
    # A stop sequence that never occurs changes nothing.
    _, same = create(client, messages=messages, stop_sequences=["never-there"])
    assert same["content"] == full["content"]
    assert (same["stop_reason"], same["stop_sequence"]) == ("end_turn", None)


def test_streamed_stop_sequence(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    probe = post(make_client(settings_factory()), body_of(messages=messages)).json()
    stop = tokens(probe["content"][0]["text"])[4]
    body = body_of(messages=messages, stop_sequences=[stop])
    _, message, streamed = stream_vs_create(make_client, settings_factory, body)
    assert message["stop_reason"] == "stop_sequence"
    assert streamed.text == sse_bytes(expected_events(message))
    delta = next(e for e in parse_sse(streamed.text) if e["event"] == "message_delta")
    assert json.loads(delta["data"])["delta"] == {
        "stop_reason": "stop_sequence",
        "stop_sequence": stop,
    }


def test_max_tokens_caps_the_answer(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    _, full = create(client, messages=messages)
    http, body = create(client, messages=messages, max_tokens=5)
    assert body["content"] == [
        {"type": "text", "text": "".join(tokens(full["content"][0]["text"])[:5])}
    ]
    assert body["stop_reason"] == "max_tokens"
    assert body["stop_sequence"] is None
    assert body["usage"]["output_tokens"] == 5
    assert http.headers["x-tokens-completion"] == "5"


def test_max_tokens_counts_answer_tokens_only(client: httpx.Client) -> None:
    _, body = create(
        client,
        messages=[{"role": "user", "content": QUESTION}],
        max_tokens=3,
        thinking={"type": "enabled", "budget_tokens": 7},
    )
    assert ntok(body["content"][0]["thinking"]) == 7
    assert ntok(body["content"][1]["text"]) == 3
    assert body["stop_reason"] == "max_tokens"
    assert body["usage"]["output_tokens"] == 10


def test_streamed_max_tokens(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    body = body_of(messages=[{"role": "user", "content": QUESTION}], max_tokens=4)
    _, message, streamed = stream_vs_create(make_client, settings_factory, body)
    assert message["stop_reason"] == "max_tokens"
    assert message["usage"]["output_tokens"] == 4
    assert streamed.text == sse_bytes(expected_events(message))


# -- vision ------------------------------------------------------------------------------------


def test_an_image_is_described_by_its_pixels(client: httpx.Client) -> None:
    data = base64.b64encode(png(60, 30, ((255, 0, 0), 20), ((0, 0, 255), 10))).decode()
    question = "What is in this image?"
    _, body = create(
        client,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": data},
                    },
                    {"type": "text", "text": question},
                ],
            }
        ],
    )
    text = body["content"][0]["text"]
    sentence = "The image is 60x30 pixels, mostly red and blue."
    assert text.startswith(sentence + " ")
    assert_is_answer(text[len(sentence) + 1 :])
    assert body["usage"]["input_tokens"] == prompt_tokens(question, parts=1)
    assert body["usage"]["output_tokens"] == ntok(text)


def test_a_single_colour_image_and_a_url_image(client: httpx.Client) -> None:
    data = base64.b64encode(png(16, 24, ((0, 160, 50), 24))).decode()
    _, body = create(
        client,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": data},
                    },
                    {
                        "type": "image",
                        "source": {"type": "url", "url": "https://example.com/pics/cat.png?x=1"},
                    },
                ],
            }
        ],
    )
    text = body["content"][0]["text"]
    assert text.startswith(
        'The image is 16x24 pixels, mostly green. An image referenced as "cat.png" (not fetched). '
    )
    assert body["usage"]["input_tokens"] == 3 + 4 + 2 * 85


def test_a_model_without_vision_rejects_images(client: httpx.Client) -> None:
    # Decision (overrides §7 #25): deepseek-v3.2 has no vision; the param is the image's path.
    data = base64.b64encode(png(4, 4, ((255, 0, 0), 4))).decode()
    response = post(
        client,
        body_of(
            model="deepseek-v3.2",
            messages=[
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello."},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Look:"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": data},
                        },
                    ],
                },
            ],
        ),
    )
    assert_error(response, 400, "model_not_supported", "messages.2.content.1")


def test_broken_base64_image_is_invalid(client: httpx.Client) -> None:
    response = post(
        client,
        body_of(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": "@@@"},
                        }
                    ],
                }
            ]
        ),
    )
    assert_error(response, 400, "invalid_value", "messages.0.content.0.source.data")


# -- bad input ---------------------------------------------------------------------------------

USER = [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        ({"model": MODEL, "messages": USER}, 400, "missing_field", "max_tokens"),
        (
            {"model": MODEL, "max_tokens": None, "messages": USER},
            400,
            "missing_field",
            "max_tokens",
        ),
        ({"max_tokens": 5, "messages": USER}, 400, "missing_field", "model"),
        ({"model": MODEL, "max_tokens": 5}, 400, "missing_field", "messages"),
        ({"model": MODEL, "max_tokens": 0, "messages": USER}, 400, "invalid_value", "max_tokens"),
        ({"model": MODEL, "max_tokens": -3, "messages": USER}, 400, "invalid_value", "max_tokens"),
        ({"model": MODEL, "max_tokens": "9", "messages": USER}, 400, "invalid_type", "max_tokens"),
        ({"model": MODEL, "max_tokens": 5, "messages": []}, 400, "invalid_value", "messages"),
        (
            {"model": MODEL, "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]},
            400,
            "invalid_value",
            "messages.0.role",
        ),
        (
            {
                "model": MODEL,
                "max_tokens": 5,
                "messages": [*USER, {"role": "tool", "content": "x"}],
            },
            400,
            "invalid_value",
            "messages.1.role",
        ),
        (
            {"model": MODEL, "max_tokens": 5, "messages": USER, "foo": 1},
            400,
            "unknown_field",
            "foo",
        ),
        # The first missing field wins over an unknown one (§2.6).
        ({"model": MODEL, "foo": 1, "messages": USER}, 400, "missing_field", "max_tokens"),
        (
            {"model": MODEL, "max_tokens": 5, "messages": USER, "stream": "yes"},
            400,
            "invalid_type",
            "stream",
        ),
        (
            {
                "model": MODEL,
                "max_tokens": 5,
                "messages": USER,
                "thinking": {"type": "enabled", "budget_tokens": 0},
            },
            400,
            "invalid_value",
            "thinking.budget_tokens",
        ),
        ({"model": "claude-9", "max_tokens": 5, "messages": USER}, 404, "model_not_found", "model"),
        (
            {"model": "text-embedding-3-small", "max_tokens": 5, "messages": USER},
            400,
            "model_not_supported",
            "model",
        ),
        (
            {"model": "flux-2-dev", "max_tokens": 5, "messages": USER},
            400,
            "model_not_supported",
            "model",
        ),
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
        assert error["message"] == "Model 'claude-9' not found."
    assert "x-cost-cents" not in response.headers


def test_invalid_json_body(client: httpx.Client) -> None:
    response = client.post(
        "/v1/messages", content=b"{not json", headers={"x-api-key": KEY, "content-type": "text/x"}
    )
    assert_error(response, 400, "invalid_json", None)


def test_missing_and_garbage_keys(client: httpx.Client) -> None:
    body = body_of(messages=USER)
    missing = assert_error(post(client, body, key=None), 401, "missing_api_key", None)
    assert missing["message"] == "Missing API key. Send 'Authorization: Bearer sk-air-...'."
    for key in ("garbage", "sk-air-", "sk-air-bad key!"):
        error = assert_error(post(client, body, key=key), 401, "invalid_api_key", None)
        assert error["message"] == "Invalid API key"
    # Through the SDK: its typed errors.
    with pytest.raises(anthropic.AuthenticationError):
        sdk(client, key="garbage").messages.create(model=MODEL, max_tokens=5, messages=USER)


def test_sdk_raises_typed_errors(client: httpx.Client) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        sdk(client).messages.create(model="claude-9", max_tokens=5, messages=USER)
    assert caught.value.status_code == 404
    with pytest.raises(anthropic.BadRequestError) as bad:
        sdk(client).messages.create(model=MODEL, max_tokens=0, messages=USER)
    assert bad.value.body["error"]["param"] == "max_tokens"  # type: ignore[index]


def test_sampling_fields_accept_any_value_and_change_nothing(client: httpx.Client) -> None:
    # "ignored" fields accept any JSON value (§2.6); sampling fields are not semantic (§2.7).
    _, plain = create(client, messages=USER)
    response = post(
        client,
        body_of(
            messages=USER,
            temperature=5,
            top_p="x",
            top_k=-1,
            metadata={"user_id": "u1"},
            service_tier="auto",
        ),
    )
    assert response.status_code == 200, response.text
    assert response.json()["content"] == plain["content"]


def test_other_ignored_fields_change_nothing(client: httpx.Client) -> None:
    # §2.6: fields marked "ignored" have no effect beyond being journaled, so the content is
    # the same as without them (§3.3.1 lists these as ignored).
    _, plain = create(client, messages=USER)
    ignored = {
        "container": {"id": "c1"},
        "mcp_servers": [],
        "context_management": {"edits": []},
        "compaction": {},
        "diagnostics": True,
        "thread": "t1",
        "billing_policy": "x",
        "inference_geo": "eu",
        "speed": "fast",
        "fallback_credit_token": "tok",
        "ignore_defaults": True,
        "skill": "s",
        "skills": ["s"],
    }
    changed = {}
    for name, value in ignored.items():
        response = post(client, body_of(messages=USER, **{name: value}))
        assert response.status_code == 200, (name, response.text)
        if response.json()["content"] != plain["content"]:
            changed[name] = value
    assert sorted(changed) == []


# -- determinism -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"messages": [{"role": "user", "content": QUESTION}]},
        {"messages": [{"role": "user", "content": QUESTION}], "stream": True},
        {
            "messages": [{"role": "user", "content": WEATHER_QUESTION}],
            "tools": TOOLS,
            "thinking": {"type": "enabled", "budget_tokens": 6},
            "stream": True,
        },
        {
            "messages": [{"role": "user", "content": QUESTION}],
            "system": cached_system(),
            "output_config": {"effort": "low"},
        },
    ],
)
def test_same_request_on_two_fresh_servers_gives_identical_bytes(
    make_client: Clients, settings_factory: Callable[..., Settings], fields: dict[str, Any]
) -> None:
    body = body_of(**fields)
    first = post(make_client(settings_factory()), body)
    second = post(make_client(settings_factory()), body)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    for name in ("x-tokens-prompt", "x-tokens-completion", "x-cost-cents", "content-type"):
        assert first.headers[name] == second.headers[name]
    assert first.headers.get("x-cache-hit") == second.headers.get("x-cache-hit")


def test_content_does_not_depend_on_the_clock_or_key(client: httpx.Client) -> None:
    _, first = create(client, messages=USER)
    advance(client, 86400 * 3)
    second = post(client, body_of(messages=USER), key=OTHER_KEY).json()
    assert second["content"] == first["content"]
    assert second["id"] == minted("msg_", key=OTHER_KEY)
