# ruff: noqa: E501  (the §2.10 transcripts below are the contract text, verbatim)
"""Stubs (CONTRACT §4.4, §2.2 step 11, §4.11, §5.3, §5.4): provider-neutral canned replies,
matched by path, method, model, key scope, the match text and the stream flag, answered in each
surface's wire format (chat, messages, responses; JSON and SSE), plus the other routes' uses of
``text``, errors, latency, raw overrides, task failures, the stubs file and the pytest fixture.

Expected values come from the contract: tokens from the §2.7.1 regex, ids from the §2.7 formula,
prices from fixtures/models.json (§2.9), the exact SSE transcripts of §2.10.1-§2.10.3.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import time
import uuid
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from starlette.testclient import TestClient

from mockair import MockAir, Settings
from tests.conftest import Clients
from tests.helpers import assert_error, parse_sse

KEY = "sk-air-stubs-a"
OTHER = "sk-air-stubs-b"
MINI = "gpt-4o-mini"
SONNET = "claude-sonnet-4.6"
PARIS = "What is the weather in Paris?"
SUNNY = "Sunny, 21 degrees."
SUNNY_TOKENS = ["Sunny", ",", " 21", " degrees", "."]
FAULT_MESSAGE = "Injected fault (mockair)"
TOKEN = re.compile(r"\s*[^\W\d_]{1,8}|\s*\d{1,3}|\s*[^\w\s]|\s*_|\s+")
CATALOGUE = {
    m["id"]: m
    for m in json.loads(
        (Path(__file__).resolve().parents[2] / "fixtures" / "models.json").read_text()
    )["models"]
}


# -- helpers ------------------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    pieces = TOKEN.findall(text)
    assert "".join(pieces) == text
    return pieces


def hex24(scope: str, kind: str, n: int) -> str:
    return hashlib.sha256(f"0|{scope}|{kind}|{n}".encode()).hexdigest()[:24]


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def price(model: str, field: str) -> float:
    return float(CATALOGUE[model][field] or 0)


def unique_key() -> str:
    return "sk-air-stubs-" + uuid.uuid4().hex[:12]


@pytest.fixture
def asgi(settings_factory: Callable[..., Settings]) -> Iterator[httpx.Client]:
    """One in-process client (fresh server, frozen clock at EPOCH), for the long tables."""
    clients = Clients("asgi")
    yield clients(settings_factory())
    clients.close()


_OPEN: list[Any] = []


@pytest.fixture(autouse=True)
def _close_sdks() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def openai_sdk(client: httpx.Client, key: str = KEY, **options: Any) -> openai.OpenAI:
    options.setdefault("max_retries", 0)
    return openai.OpenAI(
        base_url=str(client.base_url).rstrip("/") + "/v1",
        api_key=key,
        http_client=client,
        **options,
    )


def anthropic_sdk(client: httpx.Client, key: str = KEY, **options: Any) -> anthropic.Anthropic:
    """The anthropic SDK only takes httpx2 clients: the TestClient is one; over a socket the
    SDK gets the server URL and its own client (closed after the test)."""
    options.setdefault("max_retries", 0)
    if isinstance(client, TestClient):
        return anthropic.Anthropic(
            base_url=str(client.base_url), api_key=key, http_client=client, **options
        )
    api = anthropic.Anthropic(base_url=str(client.base_url).rstrip("/"), api_key=key, **options)
    _OPEN.append(api)
    return api


def add_stub(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/_mockair/stubs", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def stub(
    client: httpx.Client,
    respond: dict[str, Any],
    *,
    key: str | None = KEY,
    times: int | None = None,
    **match: Any,
) -> str:
    """Add a stub (bound to ``key`` unless it is None); returns its id."""
    if key is not None:
        match["key"] = key
    body: dict[str, Any] = {"match": match, "respond": respond}
    if times is not None:
        body["times"] = times
    return str(add_stub(client, body)["id"])


def get_stub(client: httpx.Client, stub_id: str) -> dict[str, Any]:
    response = client.get(f"/_mockair/stubs/{stub_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def chat_body(text: str = PARIS, **fields: Any) -> dict[str, Any]:
    return {"model": MINI, "messages": [{"role": "user", "content": text}], **fields}


def messages_body(text: str = PARIS, **fields: Any) -> dict[str, Any]:
    return {
        "model": SONNET,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": text}],
        **fields,
    }


def responses_body(text: str = PARIS, **fields: Any) -> dict[str, Any]:
    return {"model": MINI, "input": text, **fields}


SURFACES = {
    "chat": ("/v1/chat/completions", chat_body),
    "messages": ("/v1/messages", messages_body),
    "responses": ("/v1/responses", responses_body),
}


def post(client: httpx.Client, surface: str, key: str = KEY, **fields: Any) -> httpx.Response:
    path, make = SURFACES[surface]
    text = fields.pop("text", PARIS)
    return client.post(path, json=make(text, **fields), headers=bearer(key))


def chat(client: httpx.Client, key: str = KEY, **fields: Any) -> httpx.Response:
    return post(client, "chat", key, **fields)


def content_of(response: httpx.Response) -> str | None:
    assert response.status_code == 200, response.text
    content = response.json()["choices"][0]["message"]["content"]
    return content  # type: ignore[no-any-return]


def text_of(surface: str, response: httpx.Response) -> str:
    """The answer text of a non-streamed reply of any chat-shaped surface."""
    assert response.status_code == 200, response.text
    body = response.json()
    if surface == "chat":
        return str(body["choices"][0]["message"]["content"])
    if surface == "messages":
        return "".join(b["text"] for b in body["content"] if b["type"] == "text")
    return "".join(
        part["text"]
        for item in body["output"]
        if item["type"] == "message"
        for part in item["content"]
    )


def streamed_text(surface: str, response: httpx.Response) -> str:
    """The answer text of a streamed reply, from the raw SSE events."""
    assert response.status_code == 200, response.text
    events = parse_sse(response.text)
    if surface == "chat":
        assert events[-1]["data"] == "[DONE]"
        out = []
        for event in events[:-1]:
            chunk = json.loads(event["data"])
            for choice in chunk["choices"]:
                out.append(choice["delta"].get("content") or "")
        return "".join(out)
    if surface == "messages":
        datas = [json.loads(e["data"]) for e in events]
        assert datas[-1]["type"] == "message_stop"
        return "".join(
            d["delta"]["text"]
            for d in datas
            if d["type"] == "content_block_delta" and d["delta"]["type"] == "text_delta"
        )
    datas = [json.loads(e["data"]) for e in events]
    assert datas[-1]["type"] in ("response.completed", "response.incomplete")
    return "".join(d["delta"] for d in datas if d["type"] == "response.output_text.delta")


def journal(client: httpx.Client, key: str = KEY, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/_mockair/requests", params={"key": key, **params})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["requests"]
    return entries


def advance(client: httpx.Client, seconds: float) -> None:
    response = client.post("/_mockair/clock", json={"advance": seconds})
    assert response.status_code == 200, response.text


def check(client: httpx.Client, key: str = KEY) -> dict[str, Any]:
    response = client.get("/check", params={"key": key})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def silent_wav(seconds: float = 1.0) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * int(16000 * seconds))
    return buffer.getvalue()


# -- the same text on all six chat surfaces ----------------------------------------------------


def test_the_same_canned_text_on_all_six_surfaces(client: httpx.Client) -> None:
    stub_id = stub(client, {"text": SUNNY}, contains="weather")
    oa = openai_sdk(client)
    question = [{"role": "user", "content": PARIS}]

    chat_reply = oa.chat.completions.create(model=MINI, messages=question)  # type: ignore[arg-type]
    assert chat_reply.choices[0].message.content == SUNNY
    assert chat_reply.choices[0].finish_reason == "stop"
    chat_stream = oa.chat.completions.create(
        model=MINI,
        messages=question,  # type: ignore[arg-type]
        stream=True,
    )
    assert "".join(c.choices[0].delta.content or "" for c in chat_stream if c.choices) == SUNNY

    api = anthropic_sdk(client)
    message = api.messages.create(model=SONNET, max_tokens=1024, messages=question)  # type: ignore[arg-type]
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == SUNNY  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    with api.messages.stream(model=SONNET, max_tokens=1024, messages=question) as stream:  # type: ignore[arg-type]
        assert "".join(stream.text_stream) == SUNNY
        assert stream.get_final_message().content[0].text == SUNNY  # type: ignore[union-attr]

    response = oa.responses.create(model=MINI, input=PARIS)
    assert response.output_text == SUNNY
    assert response.status == "completed"
    events = list(oa.responses.create(model=MINI, input=PARIS, stream=True))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert deltas == SUNNY_TOKENS
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == SUNNY

    entries = journal(client)
    assert [e["stub_id"] for e in entries] == [stub_id] * 6
    assert [e["stream"] for e in entries] == [False, True] * 3
    assert [e["status"] for e in entries] == [200] * 6
    assert get_stub(client, stub_id)["hits"] == 6
    assert get_stub(client, stub_id)["remaining"] is None


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize("stream", [False, True])
def test_stub_text_and_header_on_each_surface(
    asgi: httpx.Client, surface: str, stream: bool
) -> None:
    stub_id = stub(asgi, {"text": SUNNY})
    response = post(asgi, surface, stream=stream)
    assert response.headers["x-mockair-stub"] == stub_id
    if stream:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert streamed_text(surface, response) == SUNNY
    else:
        assert text_of(surface, response) == SUNNY
    assert response.headers["x-tokens-completion"] == str(len(SUNNY_TOKENS))
    assert journal(asgi)[-1]["stub_id"] == stub_id


def test_streamed_deltas_are_the_stub_tokens(asgi: httpx.Client) -> None:
    stub(asgi, {"text": SUNNY})
    chat_events = parse_sse(chat(asgi, stream=True).text)
    chunks = [json.loads(e["data"]) for e in chat_events[:-1]]
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": ""},
        *({"content": t} for t in SUNNY_TOKENS),
        {},
    ]
    messages_events = [
        json.loads(e["data"]) for e in parse_sse(post(asgi, "messages", stream=True).text)
    ]
    assert [
        d["delta"]["text"] for d in messages_events if d["type"] == "content_block_delta"
    ] == SUNNY_TOKENS
    response_events = [
        json.loads(e["data"]) for e in parse_sse(post(asgi, "responses", stream=True).text)
    ]
    assert [
        d["delta"] for d in response_events if d["type"] == "response.output_text.delta"
    ] == SUNNY_TOKENS


# -- exact transcripts of the contract (§2.10.1-§2.10.3) ------------------------------------------

CHAT_GOLDEN = """\
data: {"id":"chatcmpl-6d0a71a6b0fffad457c9319c","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","system_fingerprint":"fp_mockair","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-6d0a71a6b0fffad457c9319c","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","system_fingerprint":"fp_mockair","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-6d0a71a6b0fffad457c9319c","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","system_fingerprint":"fp_mockair","choices":[{"index":0,"delta":{"content":","},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-6d0a71a6b0fffad457c9319c","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","system_fingerprint":"fp_mockair","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-6d0a71a6b0fffad457c9319c","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","system_fingerprint":"fp_mockair","choices":[{"index":0,"delta":{"content":"!"},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-6d0a71a6b0fffad457c9319c","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","system_fingerprint":"fp_mockair","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}

data: {"id":"chatcmpl-6d0a71a6b0fffad457c9319c","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","system_fingerprint":"fp_mockair","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0},"cache_creation_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"cost":0.0000042}}

data: [DONE]

"""

MESSAGES_GOLDEN = """\
event: message_start
data: {"type":"message_start","message":{"id":"msg_5849e8e8b1cb04b3271942cc","type":"message","role":"assistant","model":"claude-sonnet-4.6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":14,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0}}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Greet"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig_d4fd03eee15d7906cd9dcaf9902a4b5e602d4f493b49a563"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hello"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"!"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":14,"output_tokens":3,"output_tokens_details":{"thinking_tokens":1},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cost":0.000087}}

event: message_stop
data: {"type":"message_stop"}

"""

RESPONSES_GOLDEN = """\
event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_7bb8ab2a9f760d603c996816","object":"response","created_at":1767225600,"status":"in_progress","completed_at":null,"error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"gpt-5.1-chat","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}

event: response.in_progress
data: {"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_7bb8ab2a9f760d603c996816","object":"response","created_at":1767225600,"status":"in_progress","completed_at":null,"error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"gpt-5.1-chat","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}

event: response.output_item.added
data: {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_e0b78d932a85857d568fb438","type":"message","status":"in_progress","role":"assistant","content":[]}}

event: response.content_part.added
data: {"type":"response.content_part.added","sequence_number":3,"item_id":"msg_e0b78d932a85857d568fb438","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_e0b78d932a85857d568fb438","output_index":0,"content_index":0,"delta":"Hi","logprobs":[]}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_e0b78d932a85857d568fb438","output_index":0,"content_index":0,"delta":"!","logprobs":[]}

event: response.output_text.done
data: {"type":"response.output_text.done","sequence_number":6,"item_id":"msg_e0b78d932a85857d568fb438","output_index":0,"content_index":0,"text":"Hi!","logprobs":[]}

event: response.content_part.done
data: {"type":"response.content_part.done","sequence_number":7,"item_id":"msg_e0b78d932a85857d568fb438","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hi!","annotations":[]}}

event: response.output_item.done
data: {"type":"response.output_item.done","sequence_number":8,"output_index":0,"item":{"id":"msg_e0b78d932a85857d568fb438","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi!","annotations":[],"logprobs":[]}]}}

event: response.completed
data: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_7bb8ab2a9f760d603c996816","object":"response","created_at":1767225600,"status":"completed","completed_at":1767225600,"error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"gpt-5.1-chat","output":[{"id":"msg_e0b78d932a85857d568fb438","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi!","annotations":[],"logprobs":[]}]}],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":{"input_tokens":9,"input_tokens_details":{"cached_tokens":0},"output_tokens":2,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":11,"cost":0.00003125},"user":null,"metadata":{}}}

"""


def test_chat_stream_is_the_contract_transcript(client: httpx.Client) -> None:
    stub(client, {"text": "Hello, world!"})
    body = chat_body("Say hello to the world", stream=True, stream_options={"include_usage": True})
    response = client.post("/v1/chat/completions", json=body, headers=bearer(KEY))
    assert response.status_code == 200, response.text
    expected = CHAT_GOLDEN.replace(
        "chatcmpl-6d0a71a6b0fffad457c9319c", "chatcmpl-" + hex24(KEY, "chatcmpl-", 1)
    )
    assert response.text == expected
    assert response.headers["x-tokens-prompt"] == "12"
    assert response.headers["x-tokens-completion"] == "4"
    assert response.headers["x-cost-cents"] == f"{(12 * 15 + 4 * 60) / 1e6:.4f}"


def test_messages_stream_with_stubbed_reasoning_is_the_contract_transcript(
    client: httpx.Client,
) -> None:
    stub(client, {"text": "Hello!", "reasoning": "Greet"})
    response = client.post(
        "/v1/messages", json=messages_body(PARIS, stream=True), headers=bearer(KEY)
    )
    assert response.status_code == 200, response.text
    expected = MESSAGES_GOLDEN.replace(
        "msg_5849e8e8b1cb04b3271942cc", "msg_" + hex24(KEY, "msg_", 1)
    )
    assert response.text == expected
    assert response.headers["x-cost-cents"] == f"{(14 * 300 + 3 * 1500) / 1e6:.4f}"


def test_responses_stream_is_the_contract_transcript(client: httpx.Client) -> None:
    stub(client, {"text": "Hi!"})
    body = {"model": "gpt-5.1-chat", "input": "Hi there", "stream": True}
    response = client.post("/v1/responses", json=body, headers=bearer(KEY))
    assert response.status_code == 200, response.text
    expected = RESPONSES_GOLDEN.replace(
        "resp_7bb8ab2a9f760d603c996816", "resp_" + hex24(KEY, "resp_", 1)
    ).replace("msg_e0b78d932a85857d568fb438", "msg_" + hex24(KEY, "msg_", 1))
    assert response.text == expected


# -- post-processing of stubbed text (§2.11.1) ----------------------------------------------------


def test_stubbed_text_goes_through_max_tokens_and_stop(asgi: httpx.Client) -> None:
    stub(asgi, {"text": SUNNY})
    capped = chat(asgi, max_tokens=2)
    assert content_of(capped) == "Sunny,"
    assert capped.json()["choices"][0]["finish_reason"] == "length"
    stopped = chat(asgi, stop=[" degrees"])
    assert content_of(stopped) == "Sunny, 21"
    assert stopped.json()["choices"][0]["finish_reason"] == "stop"

    message = post(asgi, "messages", max_tokens=2).json()
    assert message["content"][0]["text"] == "Sunny,"
    assert message["stop_reason"] == "max_tokens"
    message = post(asgi, "messages", stop_sequences=[" 21"]).json()
    assert message["content"][0]["text"] == "Sunny,"
    assert message["stop_reason"] == "stop_sequence"
    assert message["stop_sequence"] == " 21"

    response = post(asgi, "responses", max_output_tokens=3)
    assert text_of("responses", response) == "Sunny, 21"
    assert response.json()["status"] == "incomplete"
    assert response.json()["incomplete_details"] == {"reason": "max_output_tokens"}


# -- matching -------------------------------------------------------------------------------------

CANNED = {"status": 200, "body": {"canned": True}}


def stubbed(response: httpx.Response) -> bool:
    """Whether the raw CANNED override answered."""
    if "x-mockair-stub" in response.headers:
        assert response.json() == {"canned": True}, response.text
        return True
    assert response.status_code == 200, response.text
    return False


def test_match_path_is_exact(asgi: httpx.Client) -> None:
    stub(asgi, CANNED, path="/v1/chat/completions")
    assert stubbed(chat(asgi))
    legacy = asgi.post("/chat/completions", json=chat_body(), headers=bearer(KEY))
    assert not stubbed(legacy)  # the legacy alias is another path
    assert not stubbed(post(asgi, "responses"))


def test_match_path_prefix_with_star(asgi: httpx.Client) -> None:
    stub(asgi, CANNED, path="/v1/audio/*")
    speech = asgi.post(
        "/v1/audio/speech",
        json={"model": "gpt-4o-mini-tts", "input": "Hello there", "voice": "alloy"},
        headers=bearer(KEY),
    )
    assert stubbed(speech)
    assert not stubbed(chat(asgi))
    embeddings = asgi.post(
        "/v1/embeddings",
        json={"model": "text-embedding-3-small", "input": "hello"},
        headers=bearer(KEY),
    )
    assert not stubbed(embeddings)


def test_match_method(asgi: httpx.Client) -> None:
    stub(asgi, {"text": "by GET"}, path="/v1/chat/completions", method="GET")
    assert content_of(chat(asgi)) != "by GET"
    stub(asgi, {"text": "by POST"}, path="/v1/chat/completions", method="POST")
    assert content_of(chat(asgi)) == "by POST"


def test_match_model(asgi: httpx.Client) -> None:
    stub(asgi, {"text": "mini only"}, model=MINI)
    assert content_of(chat(asgi)) == "mini only"
    other = asgi.post(
        "/v1/chat/completions", json={**chat_body(), "model": "gpt-4.1-mini"}, headers=bearer(KEY)
    )
    assert content_of(other) != "mini only"


def test_match_contains_is_case_insensitive(asgi: httpx.Client) -> None:
    stub(asgi, {"text": "contains"}, contains="WEATHER in paris")
    assert content_of(chat(asgi, text="what is the Weather In Paris today?")) == "contains"
    assert content_of(chat(asgi, text="what is the climate in Paris?")) != "contains"


def test_match_regex_is_case_sensitive_search(asgi: httpx.Client) -> None:
    stub(asgi, {"text": "regex"}, regex=r"\bParis\b")
    assert content_of(chat(asgi, text="Flights to Paris tomorrow")) == "regex"
    assert content_of(chat(asgi, text="flights to paris tomorrow")) != "regex"
    assert content_of(chat(asgi, text="A Parisian cafe")) != "regex"


def test_invalid_regex_is_400(asgi: httpx.Client) -> None:
    response = asgi.post(
        "/_mockair/stubs", json={"match": {"regex": "("}, "respond": {"text": "x"}}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_value"
    assert asgi.get("/_mockair/stubs").json() == {"stubs": []}


def test_match_stream_flag(asgi: httpx.Client) -> None:
    stub(asgi, {"text": "streamed"}, stream=True)
    stub(asgi, {"text": "not streamed"}, stream=False)
    assert content_of(chat(asgi)) == "not streamed"
    assert streamed_text("chat", chat(asgi, stream=True)) == "streamed"
    assert streamed_text("messages", post(asgi, "messages", stream=True)) == "streamed"
    assert text_of("messages", post(asgi, "messages")) == "not streamed"


def test_match_text_is_the_last_user_turn(asgi: httpx.Client) -> None:
    stub(asgi, {"text": "weather stub"}, contains="weather")
    history = [
        {"role": "system", "content": "You talk about the weather."},
        {"role": "user", "content": "What is the weather?"},
        {"role": "assistant", "content": "It rains."},
        {"role": "user", "content": "Thanks!"},
    ]
    body = {"model": MINI, "messages": history}
    assert content_of(asgi.post("/v1/chat/completions", json=body, headers=bearer(KEY))) != (
        "weather stub"
    )
    body = {"model": MINI, "messages": [*history, {"role": "user", "content": "And the weather?"}]}
    assert content_of(asgi.post("/v1/chat/completions", json=body, headers=bearer(KEY))) == (
        "weather stub"
    )
    # messages: the system prompt is not the match text
    message = messages_body("Thanks!", system="Always mention the weather.")
    reply = asgi.post("/v1/messages", json=message, headers=bearer(KEY))
    assert text_of("messages", reply) != "weather stub"
    # responses: the last user item of an input list
    items = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "Rain."},
        {"role": "user", "content": "ok"},
    ]
    reply = asgi.post("/v1/responses", json=responses_body(items), headers=bearer(KEY))  # type: ignore[arg-type]
    assert text_of("responses", reply) != "weather stub"


def test_match_text_joins_parts_with_newlines(asgi: httpx.Client) -> None:
    stub(asgi, {"text": "joined"}, regex=r"^first part\nsecond part$")
    parts = [{"type": "text", "text": "first part"}, {"type": "text", "text": "second part"}]
    body = {"model": MINI, "messages": [{"role": "user", "content": parts}]}
    assert content_of(asgi.post("/v1/chat/completions", json=body, headers=bearer(KEY))) == (
        "joined"
    )
    blocks = {**messages_body(), "messages": [{"role": "user", "content": parts}]}
    assert text_of("messages", asgi.post("/v1/messages", json=blocks, headers=bearer(KEY))) == (
        "joined"
    )
    inputs = [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "first part"},
                {"type": "input_text", "text": "second part"},
            ],
        }
    ]
    reply = asgi.post("/v1/responses", json=responses_body(inputs), headers=bearer(KEY))  # type: ignore[arg-type]
    assert text_of("responses", reply) == "joined"


ROUTE_MATCH_TEXT: list[tuple[str, str, str, dict[str, Any]]] = [
    # (name, regex on the match text, method + path, request kwargs)
    (
        "embeddings",
        r"^alpha\nbeta$",
        "POST /v1/embeddings",
        {"json": {"model": "text-embedding-3-small", "input": ["alpha", "beta"]}},
    ),
    (
        "images",
        r"^A red lighthouse$",
        "POST /v1/images/generations",
        {"json": {"model": "flux", "prompt": "A red lighthouse"}},
    ),
    (
        "speech",
        r"^Read this aloud$",
        "POST /v1/audio/speech",
        {"json": {"model": "gpt-4o-mini-tts", "input": "Read this aloud", "voice": "alloy"}},
    ),
    (
        "vision",
        r"^https://example\.com/cat\.png$",
        "GET /images/vision",
        {"params": {"url": "https://example.com/cat.png"}},
    ),
    ("ask", r"^Tell me a joke$", "GET /ask", {"params": {"prompt": "Tell me a joke"}}),
    (
        "transcription",
        r"^meeting\.wav$",
        "POST /v1/audio/transcriptions",
        {
            "files": [
                ("model", (None, "whisper-1")),
                ("file", ("meeting.wav", silent_wav(), "audio/wav")),
            ]
        },
    ),
]


@pytest.mark.parametrize(
    ("regex", "route", "kwargs"),
    [case[1:] for case in ROUTE_MATCH_TEXT],
    ids=[case[0] for case in ROUTE_MATCH_TEXT],
)
def test_match_text_of_other_routes(
    asgi: httpx.Client, regex: str, route: str, kwargs: dict[str, Any]
) -> None:
    method, path = route.split(" ")
    stub(asgi, {"status": 200, "body": {"canned": True}}, regex=regex)
    response = asgi.request(method, path, headers=bearer(KEY), **kwargs)
    assert response.json() == {"canned": True}, response.text
    assert "x-mockair-stub" in response.headers


def test_earliest_created_wins(asgi: httpx.Client) -> None:
    first = stub(asgi, {"text": "first"}, contains="weather")
    second = stub(asgi, {"text": "second"})
    third = stub(asgi, {"text": "third"}, contains="weather")
    weather = chat(asgi)
    assert content_of(weather) == "first"
    assert weather.headers["x-mockair-stub"] == first
    hello = chat(asgi, text="Hello there")
    assert content_of(hello) == "second"
    assert hello.headers["x-mockair-stub"] == second
    assert asgi.delete(f"/_mockair/stubs/{first}").json() == {"deleted": True, "id": first}
    assert content_of(chat(asgi)) == "second"
    asgi.delete(f"/_mockair/stubs/{second}")
    assert chat(asgi).headers["x-mockair-stub"] == third
    assert [get_stub(asgi, third)["hits"]] == [1]


def test_times_counts_down_then_the_stub_is_deleted(asgi: httpx.Client) -> None:
    stub_id = stub(asgi, {"text": "twice"}, times=2)
    stored = get_stub(asgi, stub_id)
    assert (stored["times"], stored["remaining"], stored["hits"]) == (2, 2, 0)
    assert content_of(chat(asgi)) == "twice"
    stored = get_stub(asgi, stub_id)
    assert (stored["times"], stored["remaining"], stored["hits"]) == (2, 1, 1)
    assert content_of(chat(asgi)) == "twice"
    gone = asgi.get(f"/_mockair/stubs/{stub_id}")
    assert_error(gone, 404, "stub_not_found", "id")
    assert asgi.get("/_mockair/stubs", params={"key": KEY}).json() == {"stubs": []}
    third = chat(asgi)
    assert content_of(third) != "twice"
    assert "x-mockair-stub" not in third.headers
    assert [e["stub_id"] for e in journal(asgi)] == [stub_id, stub_id, None]


def test_unlimited_stub_counts_hits(asgi: httpx.Client) -> None:
    stub_id = stub(asgi, {"text": "forever"})
    for _ in range(3):
        assert content_of(chat(asgi)) == "forever"
    stored = get_stub(asgi, stub_id)
    assert (stored["times"], stored["remaining"], stored["hits"]) == (None, None, 3)


def test_non_matching_requests_do_not_count(asgi: httpx.Client) -> None:
    stub_id = stub(asgi, {"text": "x"}, contains="weather", times=1)
    chat(asgi, text="Hello")
    post(asgi, "messages", text="Hello")
    stored = get_stub(asgi, stub_id)
    assert (stored["remaining"], stored["hits"]) == (1, 0)


def test_header_and_journal_name_the_stub(asgi: httpx.Client) -> None:
    stub_id = stub(asgi, {"text": SUNNY}, contains="weather")
    assert chat(asgi).headers["x-mockair-stub"] == stub_id
    plain = chat(asgi, text="Hello")
    assert "x-mockair-stub" not in plain.headers
    entries = journal(asgi)
    assert [e["stub_id"] for e in entries] == [stub_id, None]
    assert entries[0]["response"]["body"]["choices"][0]["message"]["content"] == SUNNY


def test_stubs_are_step_11_after_validation_and_auth(asgi: httpx.Client) -> None:
    stub_id = stub(asgi, {"text": SUNNY}, key=None)
    assert_error(asgi.post("/v1/chat/completions", json=chat_body()), 401, "missing_api_key")
    invalid = asgi.post("/v1/chat/completions", json={"model": MINI}, headers=bearer(KEY))
    assert_error(invalid, 400, "missing_field", "messages")
    unknown = asgi.post(
        "/v1/chat/completions", json={**chat_body(), "model": "gpt-99"}, headers=bearer(KEY)
    )
    assert_error(unknown, 404, "model_not_found", "model", type="invalid_request")
    assert get_stub(asgi, stub_id)["hits"] == 0


# -- tool calls -----------------------------------------------------------------------------------

TOOL_CALLS = [
    {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}, "id": "call_given"},
    {"name": "get_time", "arguments": '{"timezone":"UTC"}'},
]
WEATHER_ARGS = '{"city":"Paris","unit":"celsius"}'
TIME_ARGS = '{"timezone":"UTC"}'
TOOL_TOKENS = sum(1 + len(tokens(a)) for a in (WEATHER_ARGS, TIME_ARGS))


def test_tool_calls_in_chat(client: httpx.Client) -> None:
    stub(client, {"tool_calls": TOOL_CALLS})
    reply = chat(client)  # no tools in the request: the stub still makes a tool-call reply
    assert reply.status_code == 200, reply.text
    choice = reply.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        {
            "id": "call_given",
            "type": "function",
            "function": {"name": "get_weather", "arguments": WEATHER_ARGS},
        },
        {
            "id": "call_" + hex24(KEY, "call_", 1),
            "type": "function",
            "function": {"name": "get_time", "arguments": TIME_ARGS},
        },
    ]
    assert reply.json()["usage"]["completion_tokens"] == TOOL_TOKENS
    sdk_reply = openai_sdk(client).chat.completions.create(
        model=MINI,
        messages=[{"role": "user", "content": PARIS}],
    )
    calls = sdk_reply.choices[0].message.tool_calls
    assert calls is not None
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [  # type: ignore[union-attr]
        ("call_given", "get_weather", {"city": "Paris", "unit": "celsius"}),
        ("call_" + hex24(KEY, "call_", 2), "get_time", {"timezone": "UTC"}),
    ]

    stream = chat(client, stream=True)
    chunks = [json.loads(e["data"]) for e in parse_sse(stream.text)[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant", "content": None}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    heads = [d["tool_calls"][0] for d in deltas if "tool_calls" in d and "id" in d["tool_calls"][0]]
    assert [(h["index"], h["id"], h["function"]) for h in heads] == [
        (0, "call_given", {"name": "get_weather", "arguments": ""}),
        (1, "call_" + hex24(KEY, "call_", 3), {"name": "get_time", "arguments": ""}),
    ]
    for index, arguments in enumerate((WEATHER_ARGS, TIME_ARGS)):
        fragments = [
            d["tool_calls"][0]["function"]["arguments"]
            for d in deltas
            if "tool_calls" in d
            and d["tool_calls"][0]["index"] == index
            and "id" not in d["tool_calls"][0]
        ]
        assert fragments == tokens(arguments)


def test_tool_calls_in_messages(client: httpx.Client) -> None:
    stub(client, {"tool_calls": TOOL_CALLS})
    message = anthropic_sdk(client).messages.create(
        model=SONNET, max_tokens=1024, messages=[{"role": "user", "content": PARIS}]
    )
    assert message.stop_reason == "tool_use"
    assert [(b.type, b.id, b.name, b.input) for b in message.content] == [  # type: ignore[union-attr]
        ("tool_use", "call_given", "get_weather", {"city": "Paris", "unit": "celsius"}),
        ("tool_use", "toolu_" + hex24(KEY, "toolu_", 1), "get_time", {"timezone": "UTC"}),
    ]
    assert message.usage.output_tokens == TOOL_TOKENS

    events = [json.loads(e["data"]) for e in parse_sse(post(client, "messages", stream=True).text)]
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert starts == [
        {"type": "tool_use", "id": "call_given", "name": "get_weather", "input": {}},
        {
            "type": "tool_use",
            "id": "toolu_" + hex24(KEY, "toolu_", 2),
            "name": "get_time",
            "input": {},
        },
    ]
    for index, arguments in enumerate((WEATHER_ARGS, TIME_ARGS)):
        partials = [
            e["delta"]["partial_json"]
            for e in events
            if e["type"] == "content_block_delta" and e["index"] == index
        ]
        assert partials == tokens(arguments)
    delta = next(e for e in events if e["type"] == "message_delta")
    assert delta["delta"]["stop_reason"] == "tool_use"


def test_tool_calls_in_responses(client: httpx.Client) -> None:
    stub(client, {"tool_calls": TOOL_CALLS})
    response = openai_sdk(client).responses.create(model=MINI, input=PARIS)
    assert [(i.type, i.call_id, i.name, i.arguments) for i in response.output] == [  # type: ignore[union-attr]
        ("function_call", "call_given", "get_weather", WEATHER_ARGS),
        ("function_call", "call_" + hex24(KEY, "call_", 1), "get_time", TIME_ARGS),
    ]
    assert [i.id for i in response.output] == [
        "fc_" + hex24(KEY, "fc_", 1),
        "fc_" + hex24(KEY, "fc_", 2),
    ]
    assert response.usage is not None
    assert response.usage.output_tokens == TOOL_TOKENS

    events = [json.loads(e["data"]) for e in parse_sse(post(client, "responses", stream=True).text)]
    for index, arguments in enumerate((WEATHER_ARGS, TIME_ARGS)):
        deltas = [
            e["delta"]
            for e in events
            if e["type"] == "response.function_call_arguments.delta" and e["output_index"] == index
        ]
        assert deltas == tokens(arguments)
    done = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert [(d["name"], d["arguments"]) for d in done] == [
        ("get_weather", WEATHER_ARGS),
        ("get_time", TIME_ARGS),
    ]
    final = events[-1]["response"]
    assert [item["call_id"] for item in final["output"]] == [
        "call_given",
        "call_" + hex24(KEY, "call_", 2),
    ]


def test_tool_call_arguments_given_as_a_string_are_parsed_the_same(asgi: httpx.Client) -> None:
    stub(asgi, {"tool_calls": [{"name": "lookup", "arguments": '{"q": "Paris", "n": 2}'}]})
    call = chat(asgi).json()["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"q": "Paris", "n": 2}
    block = post(asgi, "messages").json()["content"][0]
    assert block["input"] == {"q": "Paris", "n": 2}
    item = post(asgi, "responses").json()["output"][0]
    assert json.loads(item["arguments"]) == {"q": "Paris", "n": 2}


# -- reasoning ------------------------------------------------------------------------------------

SIGNATURE = "sig_" + hashlib.sha256(b"Greet").hexdigest()[:48]


def test_stubbed_reasoning_on_a_non_reasoning_model(client: httpx.Client) -> None:
    assert CATALOGUE[MINI]["supports_reasoning"] is False
    stub(client, {"text": "Hello!", "reasoning": "Greet"})
    inline = chat(client).json()
    assert inline["choices"][0]["message"]["content"] == "<think>Greet</think>\n\nHello!"
    assert inline["usage"]["completion_tokens_details"] == {"reasoning_tokens": 1}
    assert inline["usage"]["completion_tokens"] == 2 + 1 + 8
    separate = chat(client, reasoning={"format": "separate"}).json()
    assert separate["choices"][0]["message"]["content"] == "Hello!"
    assert separate["choices"][0]["message"]["reasoning"] == "Greet"
    excluded = chat(client, reasoning={"exclude": True}).json()
    assert excluded["choices"][0]["message"]["content"] == "Hello!"
    assert "reasoning" not in excluded["choices"][0]["message"]
    assert excluded["usage"]["completion_tokens_details"] == {"reasoning_tokens": 1}

    stream = chat(client, stream=True, reasoning={"format": "separate"})
    deltas = [json.loads(e["data"])["choices"][0]["delta"] for e in parse_sse(stream.text)[:-1]]
    assert deltas[1:-1] == [{"reasoning": "Greet"}, {"content": "Hello"}, {"content": "!"}]

    message = post(client, "messages", model=MINI).json()
    assert message["content"] == [
        {"type": "thinking", "thinking": "Greet", "signature": SIGNATURE},
        {"type": "text", "text": "Hello!"},
    ]
    assert message["usage"]["output_tokens_details"] == {"thinking_tokens": 1}

    response = post(client, "responses").json()
    reasoning, answer = response["output"]
    assert reasoning["type"] == "reasoning"
    assert reasoning["id"] == "rs_" + hex24(KEY, "rs_", 1)
    assert reasoning["summary"] == []
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "Greet"}]
    assert answer["content"][0]["text"] == "Hello!"
    assert response["usage"]["output_tokens_details"] == {"reasoning_tokens": 1}
    events = [json.loads(e["data"]) for e in parse_sse(post(client, "responses", stream=True).text)]
    assert [e["delta"] for e in events if e["type"] == "response.reasoning_text.delta"] == ["Greet"]
    assert [e["text"] for e in events if e["type"] == "response.reasoning_text.done"] == ["Greet"]


# -- finish reasons -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "chat_finish", "stop_reason", "status"),
    [
        ("stop", "stop", "end_turn", "completed"),
        ("length", "length", "max_tokens", "incomplete"),
        ("content_filter", "content_filter", "refusal", "incomplete"),
        ("end_turn", "stop", "end_turn", "completed"),
        ("max_tokens", "length", "max_tokens", "incomplete"),
        ("refusal", "content_filter", "refusal", "incomplete"),
        ("completed", "stop", "end_turn", "completed"),
        ("incomplete", "length", "max_tokens", "incomplete"),
    ],
)
def test_finish_reason_override(
    asgi: httpx.Client, given: str, chat_finish: str, stop_reason: str, status: str
) -> None:
    stub(asgi, {"text": SUNNY, "finish_reason": given})
    completion = chat(asgi).json()
    assert completion["choices"][0]["finish_reason"] == chat_finish
    assert completion["choices"][0]["message"]["content"] == SUNNY
    chunks = [json.loads(e["data"]) for e in parse_sse(chat(asgi, stream=True).text)[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == chat_finish
    message = post(asgi, "messages").json()
    assert message["stop_reason"] == stop_reason
    events = [json.loads(e["data"]) for e in parse_sse(post(asgi, "messages", stream=True).text)]
    assert next(e for e in events if e["type"] == "message_delta")["delta"]["stop_reason"] == (
        stop_reason
    )
    assert post(asgi, "responses").json()["status"] == status
    events = [json.loads(e["data"]) for e in parse_sse(post(asgi, "responses", stream=True).text)]
    assert events[-1]["type"] == f"response.{status}"
    assert events[-1]["response"]["status"] == status


def test_tool_calls_finish_reason_on_a_text_reply(asgi: httpx.Client) -> None:
    stub(asgi, {"tool_calls": [{"name": "f", "arguments": {}}], "finish_reason": "tool_calls"})
    assert chat(asgi).json()["choices"][0]["finish_reason"] == "tool_calls"
    assert post(asgi, "messages").json()["stop_reason"] == "tool_use"
    assert post(asgi, "responses").json()["status"] == "completed"


# -- usage overrides ---------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_usage_override_on_chat(asgi: httpx.Client, stream: bool) -> None:
    stub(asgi, {"text": SUNNY, "usage": {"prompt_tokens": 1000, "completion_tokens": 2000}})
    response = chat(
        asgi, stream=stream, **({"stream_options": {"include_usage": True}} if stream else {})
    )
    cents = (1000 * 15 + 2000 * 60) / 1e6
    assert response.headers["x-tokens-prompt"] == "1000"
    assert response.headers["x-tokens-completion"] == "2000"
    assert response.headers["x-cost-cents"] == f"{cents:.4f}" == "0.1350"
    if stream:
        usage = json.loads(parse_sse(response.text)[-2]["data"])["usage"]
    else:
        usage = response.json()["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (
        1000,
        2000,
        3000,
    )
    assert usage["cost"] == round(cents / 100, 10)
    status = check(asgi)
    assert status["tokens_today"] == 3000
    assert status["credits_used"] == round(cents, 10)
    entry = journal(asgi, path="/v1/chat/completions")[-1]
    assert entry["usage"] == {"prompt_tokens": 1000, "completion_tokens": 2000}
    assert entry["cost_cents"] == "0.1350"


def test_usage_override_on_messages_and_responses(asgi: httpx.Client) -> None:
    stub(asgi, {"text": SUNNY, "usage": {"prompt_tokens": 1000, "completion_tokens": 2000}})
    message = post(asgi, "messages")
    assert message.headers["x-cost-cents"] == f"{(1000 * 300 + 2000 * 1500) / 1e6:.4f}"
    assert (message.json()["usage"]["input_tokens"], message.json()["usage"]["output_tokens"]) == (
        1000,
        2000,
    )
    response = post(asgi, "responses")
    assert response.headers["x-tokens-prompt"] == "1000"
    assert response.headers["x-tokens-completion"] == "2000"
    usage = response.json()["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (
        1000,
        2000,
        3000,
    )
    assert response.headers["x-cost-cents"] == "0.1350"
    assert check(asgi)["tokens_today"] == 6000


def test_partial_usage_override(asgi: httpx.Client) -> None:
    stub(asgi, {"text": SUNNY, "usage": {"completion_tokens": 50}})
    response = chat(asgi)
    prompt = 3 + 4 + len(tokens(PARIS))
    assert response.json()["usage"]["prompt_tokens"] == prompt
    assert response.json()["usage"]["completion_tokens"] == 50
    assert response.headers["x-tokens-prompt"] == str(prompt)
    assert response.headers["x-cost-cents"] == f"{(prompt * 15 + 50 * 60) / 1e6:.4f}"


# -- error replies, latency, raw overrides -------------------------------------------------------


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize("stream", [False, True])
def test_error_stub_answers_that_envelope(asgi: httpx.Client, surface: str, stream: bool) -> None:
    stub_id = stub(asgi, {"text": "ignored", "error": {"status": 503}})
    response = post(asgi, surface, stream=stream)
    error = assert_error(response, 503, "upstream_unavailable")
    assert error["message"] == FAULT_MESSAGE
    assert response.headers["x-mockair-stub"] == stub_id
    assert "x-cost-cents" not in response.headers
    entry = journal(asgi)[-1]
    assert (entry["status"], entry["stub_id"], entry["error_code"]) == (
        503,
        stub_id,
        "upstream_unavailable",
    )
    asgi.delete("/_mockair/stubs")  # the stub matches every route, /check included
    assert check(asgi)["credits_used"] == 0.0


def test_error_stub_429_with_retry_after(asgi: httpx.Client) -> None:
    stub(asgi, {"error": {"status": 429, "retry_after": 2.5}})
    response = chat(asgi)
    assert_error(response, 429, "rate_limit_exceeded")
    assert response.json()["retry_after"] == 2.5
    assert response.headers["retry-after"] == "3"
    assert response.headers["x-ratelimit-limit-requests"] == "0"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.headers["x-ratelimit-reset-requests"] == "2.5s"


def test_error_stub_with_every_field(asgi: httpx.Client) -> None:
    stub(
        asgi,
        {
            "error": {
                "status": 400,
                "type": "invalid_request",
                "code": "content_policy_violation",
                "message": "Refused by policy",
                "param": "messages",
            }
        },
    )
    response = post(asgi, "messages")
    error = assert_error(response, 400, "content_policy_violation", "messages")
    assert error["message"] == "Refused by policy"
    with pytest.raises(anthropic.BadRequestError):
        anthropic_sdk(asgi).messages.create(
            model=SONNET, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )


def test_error_stub_needs_a_status(asgi: httpx.Client) -> None:
    response = asgi.post("/_mockair/stubs", json={"respond": {"error": {"code": "x"}}})
    assert_error(response, 400, "missing_field", "respond.error.status")
    stub(asgi, {"error": {"status": 500}})
    assert_error(chat(asgi), 500, "internal_error")


def test_latency_ms_delays_the_reply(asgi: httpx.Client) -> None:
    stub(asgi, {"text": SUNNY, "latency_ms": 300})
    started = time.monotonic()
    response = chat(asgi)
    assert time.monotonic() - started >= 0.3
    assert content_of(response) == SUNNY


def test_latency_ms_delays_a_streamed_reply(asgi: httpx.Client) -> None:
    stub(asgi, {"text": SUNNY, "latency_ms": 250})
    started = time.monotonic()
    response = post(asgi, "responses", stream=True)
    assert time.monotonic() - started >= 0.25
    assert streamed_text("responses", response) == SUNNY


RAW_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/chat/completions", {"json": chat_body()}),
    ("POST", "/v1/messages", {"json": messages_body()}),
    ("POST", "/v1/responses", {"json": responses_body()}),
    ("POST", "/v1/embeddings", {"json": {"model": "text-embedding-3-small", "input": "hi"}}),
    ("POST", "/v1/images/generations", {"json": {"model": "flux", "prompt": "a cat"}}),
    (
        "POST",
        "/v1/audio/speech",
        {"json": {"model": "gpt-4o-mini-tts", "input": "Hello", "voice": "alloy"}},
    ),
    ("POST", "/v1/video/generations", {"json": {"model": "wan-2.6", "prompt": "a fox"}}),
    ("GET", "/ask", {"params": {"prompt": "hi"}}),
    ("GET", "/imagine", {"params": {"prompt": "a cat"}}),
    ("GET", "/images/vision", {"params": {"url": "https://example.com/cat.png"}}),
    ("GET", "/v1/models", {}),
    ("GET", "/v1/audio/voices", {}),
    ("GET", "/v1/video/tasks", {}),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs"), RAW_ROUTES, ids=[f"{m} {p}" for m, p, _ in RAW_ROUTES]
)
def test_raw_override_on_any_route(
    asgi: httpx.Client, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    stub_id = stub(
        asgi,
        {
            "text": "ignored",
            "error": {"status": 503},
            "status": 418,
            "body": {"teapot": [1, 2]},
            "headers": {"x-canned": "yes"},
        },
        path=path,
    )
    response = asgi.request(method, path, headers=bearer(KEY), **kwargs)
    assert response.status_code == 418, response.text
    assert response.json() == {"teapot": [1, 2]}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-canned"] == "yes"
    assert response.headers["x-mockair-stub"] == stub_id
    entry = journal(asgi)[-1]
    assert (entry["status"], entry["stub_id"]) == (418, stub_id)


# -- other routes: embeddings, images, transcription, vision, /ask ------------------------------


def test_embeddings_stub(asgi: httpx.Client) -> None:
    body = {"model": "text-embedding-3-small", "input": ["alpha", "beta"]}
    stub_id = stub(asgi, {"error": {"status": 503}}, path="/v1/embeddings", times=1)
    failed = asgi.post("/v1/embeddings", json=body, headers=bearer(KEY))
    assert_error(failed, 503, "upstream_unavailable")
    assert failed.headers["x-mockair-stub"] == stub_id
    text_id = stub(asgi, {"text": "not applicable here"}, path="/v1/embeddings")
    ok = asgi.post("/v1/embeddings", json=body, headers=bearer(KEY))
    assert ok.status_code == 200, ok.text
    assert len(ok.json()["data"]) == 2
    assert ok.headers["x-mockair-stub"] == text_id


def test_images_stub_error_and_latency(asgi: httpx.Client) -> None:
    stub_id = stub(
        asgi,
        {"error": {"status": 429, "retry_after": 4}, "latency_ms": 200},
        path="/v1/images/generations",
    )
    started = time.monotonic()
    response = asgi.post(
        "/v1/images/generations", json={"model": "flux", "prompt": "a cat"}, headers=bearer(KEY)
    )
    assert time.monotonic() - started >= 0.2
    assert_error(response, 429, "rate_limit_exceeded")
    assert response.json()["retry_after"] == 4.0
    assert response.headers["retry-after"] == "4"
    assert response.headers["x-mockair-stub"] == stub_id


@pytest.mark.parametrize("response_format", ["json", "text", "verbose_json"])
def test_transcription_text_is_the_transcript(asgi: httpx.Client, response_format: str) -> None:
    stub_id = stub(asgi, {"text": "The stubbed transcript."}, path="/v1/audio/transcriptions")
    response = asgi.post(
        "/v1/audio/transcriptions",
        files=[
            ("model", (None, "whisper-1")),
            ("response_format", (None, response_format)),
            ("file", ("meeting.wav", silent_wav(), "audio/wav")),
        ],
        headers=bearer(KEY),
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-mockair-stub"] == stub_id
    if response_format == "text":
        assert response.text == "The stubbed transcript.\n"
    else:
        assert response.json()["text"] == "The stubbed transcript."
    sdk_text = openai_sdk(asgi).audio.transcriptions.create(
        model="whisper-1", file=("meeting.wav", silent_wav())
    )
    assert sdk_text.text == "The stubbed transcript."


@pytest.mark.parametrize("path", ["/images/vision", "/v1/images/vision"])
def test_vision_text_is_the_description(asgi: httpx.Client, path: str) -> None:
    stub_id = stub(asgi, {"text": "A cat on a mat."}, path=path)
    response = asgi.get(path, params={"url": "https://example.com/cat.png"}, headers=bearer(KEY))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "A cat on a mat."
    assert response.headers["x-mockair-stub"] == stub_id
    plain = asgi.get(path, params={"url": "https://example.com/dog.png"}, headers=bearer(OTHER))
    assert plain.text == 'An image referenced as "dog.png" (not fetched).'


def test_ask_text_is_streamed_as_lines(asgi: httpx.Client) -> None:
    stub_id = stub(asgi, {"text": "Hello, world!"}, path="/ask")
    response = asgi.get("/ask", params={"prompt": "hi"}, headers=bearer(KEY))
    assert response.status_code == 200, response.text
    assert response.text == "".join(
        f'data: {{"message":"{t}","url":""}}\n\n' for t in ["Hello", ",", " world", "!"]
    )
    assert response.headers["x-mockair-stub"] == stub_id
    anonymous = stub(asgi, {"text": "Anonymous!"}, key=None, path="/v1/ask")
    reply = asgi.get("/v1/ask", params={"prompt": "hi"})
    # Letter runs are at most 8 long (§2.7.1): "Anonymous" is two tokens.
    messages = [json.loads(e["data"])["message"] for e in parse_sse(reply.text)]
    assert messages == ["Anonymou", "s", "!"]
    assert reply.headers["x-mockair-stub"] == anonymous


# -- task routes: a stub error makes the task fail (§3.9.3) -------------------------------------


def video_task(client: httpx.Client) -> dict[str, Any]:
    response = client.post(
        "/v1/video/generations", json={"model": "wan-2.6", "prompt": "A fox"}, headers=bearer(KEY)
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_video_stub_error_makes_the_task_fail(client: httpx.Client) -> None:
    assert client.post("/_mockair/keys", json={"key": KEY}).status_code == 200
    stub_id = stub(
        client,
        {"error": {"status": 503, "code": "upstream_unavailable", "message": "GPU melted"}},
        path="/v1/video/generations",
    )
    created = client.post(
        "/v1/video/generations", json={"model": "wan-2.6", "prompt": "A fox"}, headers=bearer(KEY)
    )
    assert created.status_code == 200, created.text
    assert created.headers["x-mockair-stub"] == stub_id
    task = created.json()
    duration = CATALOGUE["wan-2.6"]["video_caps"]["durations"][0]
    cost = duration * price("wan-2.6", "price_per_video_second_cents")
    assert (task["status"], task["progress"], task["error"]) == ("queued", 0, None)
    assert task["cost_cents"] == cost
    assert created.headers["x-cost-cents"] == f"{cost:.4f}"
    assert check(client)["credits_used"] == cost

    advance(client, 3)  # processing: not failed yet
    midway = client.get(f"/v1/video/tasks/{task['task_id']}", headers=bearer(KEY)).json()
    assert midway["status"] == "processing"
    assert midway["error"] is None

    advance(client, 3)  # t0 + Q + S = 6: the time it would have completed
    failed = client.get(f"/v1/video/tasks/{task['task_id']}", headers=bearer(KEY)).json()
    assert failed["status"] == "failed"
    assert failed["progress"] == 99
    assert failed["result_url"] is None
    assert failed["error"] == {"code": "upstream_unavailable", "message": "GPU melted"}
    assert check(client)["credits_used"] == 0.0  # refunded
    registered = client.get(f"/_mockair/keys/{KEY}").json()
    assert registered["usage"]["credits_used"] == 0.0

    stream = client.get(f"/v1/video/tasks/{task['task_id']}/stream", headers=bearer(KEY))
    events = parse_sse(stream.text)
    assert [e.get("event") for e in events] == ["state", "error", "done"]
    assert json.loads(events[0]["data"]) == failed
    error = json.loads(events[1]["data"])
    assert list(error) == ["error"]
    assert list(error["error"]) == ["message", "type", "code", "param"]
    assert error["error"]["code"] == "upstream_unavailable"
    assert error["error"]["message"] == "GPU melted"
    assert events[2]["data"] == "[DONE]"


def test_video_stub_refund_is_visible_without_reading_the_task(asgi: httpx.Client) -> None:
    stub(asgi, {"error": {"status": 503}}, path="/v1/video/generations")
    task = video_task(asgi)
    assert check(asgi)["credits_used"] == task["cost_cents"] > 0
    advance(asgi, 6)
    # The task failed at t0 + 6 and its cost is refunded then, whoever looks first.
    assert check(asgi)["credits_used"] == 0.0


def test_video_stub_error_does_not_touch_other_tasks(asgi: httpx.Client) -> None:
    stub(asgi, {"error": {"status": 503}}, path="/v1/video/generations", times=1)
    failing = video_task(asgi)
    fine = video_task(asgi)
    advance(asgi, 6)
    statuses = {
        t["task_id"]: t["status"]
        for t in asgi.get("/v1/video/tasks", headers=bearer(KEY)).json()["data"]
    }
    assert statuses == {failing["task_id"]: "failed", fine["task_id"]: "completed"}


# -- stub cuts ------------------------------------------------------------------------------------


def test_stub_cut_after_chunks(asgi: httpx.Client) -> None:
    stub(asgi, {"text": SUNNY, "cut_after_chunks": 2})
    response = chat(asgi, stream=True)
    assert response.status_code == 200
    events = parse_sse(response.text)
    assert len(events) == 3
    assert [json.loads(e["data"])["choices"][0]["delta"] for e in events[:2]] == [
        {"role": "assistant", "content": ""},
        {"content": "Sunny"},
    ]
    assert json.loads(events[2]["data"]) == {
        "error": {
            "message": FAULT_MESSAGE,
            "type": "upstream_error",
            "code": "upstream_unavailable",
            "param": None,
        }
    }
    assert "[DONE]" not in response.text
    assert content_of(chat(asgi)) == SUNNY  # not streaming: nothing to cut


# -- the stubs file (§5.3) -----------------------------------------------------------------------


def test_stubs_file_is_loaded_at_start_and_after_a_global_reset(
    make_client: Clients, settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    path = tmp_path / "stubs.json"
    path.write_text(
        json.dumps(
            {
                "stubs": [
                    {
                        "match": {"contains": "weather"},
                        "respond": {"text": "From the file."},
                        "times": 1,
                    }
                ],
                "faults": [{"match": {"path": "/v1/embeddings"}, "status": 503}],
            }
        )
    )
    client = make_client(settings_factory(stubs=str(path)))
    assert content_of(chat(client)) == "From the file."
    assert content_of(chat(client)) != "From the file."  # times 1: used up
    embed = {"model": "text-embedding-3-small", "input": "x"}
    assert_error(
        client.post("/v1/embeddings", json=embed, headers=bearer(KEY)), 503, "upstream_unavailable"
    )
    assert client.get("/_mockair/stubs").json() == {"stubs": []}

    scoped = client.post("/_mockair/reset", json={"key": KEY})
    assert scoped.status_code == 200
    assert client.get("/_mockair/stubs").json() == {"stubs": []}  # a scoped reset does not reload

    assert client.post("/_mockair/reset", json={}).json() == {"reset": True, "scope": "all"}
    assert content_of(chat(client)) == "From the file."
    assert content_of(chat(client, key=OTHER)) != "From the file."


def test_stubs_file_stubs_are_global(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    client = make_client(settings_factory(stubs={"stubs": [{"respond": {"text": "Everyone."}}]}))
    assert content_of(chat(client, key=KEY)) == "Everyone."
    assert content_of(chat(client, key=OTHER)) == "Everyone."


# -- isolation by key (§4.11) ------------------------------------------------------------------


def test_a_keyed_stub_never_affects_another_key(client: httpx.Client) -> None:
    mine = stub(client, {"text": "only for A"}, key=KEY, times=1)
    theirs = chat(client, key=OTHER)
    assert content_of(theirs) != "only for A"
    assert "x-mockair-stub" not in theirs.headers
    assert get_stub(client, mine)["remaining"] == 1  # not used up by B
    assert get_stub(client, mine)["hits"] == 0
    assert content_of(chat(client, key=KEY)) == "only for A"
    listed_b = client.get("/_mockair/stubs", params={"key": OTHER}).json()["stubs"]
    assert listed_b == []
    assert client.get("/_mockair/stubs").json() == {"stubs": []}  # global listing: no scoped ones


def test_a_global_stub_affects_everyone(client: httpx.Client) -> None:
    stub_id = stub(client, {"text": "for everyone"}, key=None)
    assert content_of(chat(client, key=KEY)) == "for everyone"
    assert content_of(chat(client, key=OTHER)) == "for everyone"
    anonymous = client.post("/chat/completions", json=chat_body())
    assert content_of(anonymous) == "for everyone"
    for key in (KEY, OTHER):
        assert [
            s["id"] for s in client.get("/_mockair/stubs", params={"key": key}).json()["stubs"]
        ] == [stub_id]


def test_two_keys_with_different_stubs(asgi: httpx.Client) -> None:
    stub(asgi, {"text": "A's answer"}, key=KEY)
    stub(asgi, {"text": "B's answer"}, key=OTHER)
    for _ in range(2):
        assert content_of(chat(asgi, key=KEY)) == "A's answer"
        assert content_of(chat(asgi, key=OTHER)) == "B's answer"
    assert len(journal(asgi, KEY)) == len(journal(asgi, OTHER)) == 2


def test_a_stub_bound_to_a_secondary_key_covers_its_account(asgi: httpx.Client) -> None:
    primary, secondary = "sk-air-stubs-owner", "sk-air-stubs-ci"
    for body in ({"key": primary}, {"key": secondary, "primary": False, "owner": primary}):
        assert asgi.post("/_mockair/keys", json=body).status_code == 200
    stub(asgi, {"text": "account stub"}, key=secondary)
    assert content_of(chat(asgi, key=primary)) == "account stub"
    assert content_of(chat(asgi, key=secondary)) == "account stub"
    assert content_of(chat(asgi, key=OTHER)) != "account stub"


def test_parallel_keys_on_one_server(live_server: MockAir) -> None:
    keys = [unique_key(), unique_key()]
    results: dict[str, list[str | None]] = {key: [] for key in keys}
    with httpx.Client(base_url=live_server.url, timeout=30) as control:
        for key in keys:
            stub(control, {"text": f"answer for {key[-4:]}"}, key=key)

    def run(key: str) -> None:
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            for _ in range(10):
                results[key].append(content_of(chat(http, key=key)))

    threads = [threading.Thread(target=run, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with httpx.Client(base_url=live_server.url, timeout=30) as control:
        for key in keys:
            assert results[key] == [f"answer for {key[-4:]}"] * 10
            entries = journal(control, key)
            assert len(entries) == 10
            assert {e["key"] for e in entries} == {"sk-air-..." + key[-4:]}
            control.post("/_mockair/reset", json={"key": key})


# -- the pytest fixture (§5.4) --------------------------------------------------------------------

pytester_only = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytester_only
def test_fixture_stubs_are_per_test_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import re
        import time

        import openai
        import pytest

        STUB_ID = re.compile(r"stub_[0-9a-f]{24}")


        @pytest.mark.parametrize("word", ["alpha", "beta", "gamma", "delta"])
        def test_own_stub(mockair, word):
            client = openai.OpenAI(base_url=mockair.base_url, api_key=mockair.api_key)
            stub_id = mockair.stub(path="/v1/chat/completions", text=f"Only {word}.")
            assert STUB_ID.fullmatch(stub_id)
            for _ in range(5):
                reply = client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
                )
                assert reply.choices[0].message.content == f"Only {word}."
                time.sleep(0.01)
            entries = mockair.requests(path="/v1/chat/completions")
            assert [e["stub_id"] for e in entries] == [stub_id] * 5
            client.close()


        def test_no_stub_left_over(mockair):
            client = openai.OpenAI(base_url=mockair.base_url, api_key=mockair.api_key)
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
            assert not reply.choices[0].message.content.startswith("Only ")
            assert mockair.requests()[0]["stub_id"] is None
            client.close()
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*2 workers*"])


@pytester_only
def test_fixture_fault_lets_the_openai_sdk_retry(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import re

        import openai


        def test_retries(mockair):
            fault_id = mockair.fault(429, times=2, path="/v1/chat/completions")
            assert re.fullmatch(r"fault_[0-9a-f]{24}", fault_id)
            client = openai.OpenAI(
                base_url=mockair.base_url, api_key=mockair.api_key, max_retries=2
            )
            mockair.stub(path="/v1/chat/completions", text="Third time lucky.")
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
            assert reply.choices[0].message.content == "Third time lucky."
            entries = mockair.requests(path="/v1/chat/completions")
            assert [e["status"] for e in entries] == [429, 429, 200]
            assert [e["fault_id"] for e in entries] == [fault_id, fault_id, None]
            client.close()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_session_stub_and_fault_return_ids(live_server: MockAir) -> None:
    session = live_server.session()
    try:
        stub_id = session.stub(contains="weather", text=SUNNY, times=1)
        fault_id = session.fault(503, path="/v1/embeddings")
        assert re.fullmatch(r"stub_[0-9a-f]{24}", stub_id)
        assert re.fullmatch(r"fault_[0-9a-f]{24}", fault_id)
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            assert get_stub(http, stub_id)["match"] == {
                "contains": "weather",
                "key": session.api_key,
            }
            assert content_of(chat(http, key=session.api_key)) == SUNNY
            assert http.get(f"/_mockair/stubs/{stub_id}").status_code == 404
            embed = http.post(
                "/v1/embeddings",
                json={"model": "text-embedding-3-small", "input": "x"},
                headers=bearer(session.api_key),
            )
            assert_error(embed, 503, "upstream_unavailable")
            assert embed.headers["x-mockair-fault-id"] == fault_id
            assert content_of(chat(http, key=unique_key())) != SUNNY
    finally:
        session.reset()
        session.close()


HEADER_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/chat/completions", {"json": chat_body()}),
    ("POST", "/chat/completions", {"json": chat_body()}),
    ("POST", "/v1/embeddings", {"json": {"model": "text-embedding-3-small", "input": "hi"}}),
    ("POST", "/v1/images/generations", {"json": {"model": "flux", "prompt": "a cat"}}),
    (
        "POST",
        "/v1/audio/speech",
        {"json": {"model": "gpt-4o-mini-tts", "input": "Hello", "voice": "alloy"}},
    ),
    ("POST", "/v1/video/generations", {"json": {"model": "wan-2.6", "prompt": "a fox"}}),
    ("GET", "/ask", {"params": {"prompt": "hi"}}),
    ("GET", "/imagine", {"params": {"prompt": "a cat"}}),
    ("GET", "/get-audio", {"params": {"text": "hi"}}),
    ("GET", "/images/vision", {"params": {"url": "https://example.com/cat.png"}}),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs"), HEADER_ROUTES, ids=[f"{m} {p}" for m, p, _ in HEADER_ROUTES]
)
def test_stub_header_on_every_stubbed_route(
    asgi: httpx.Client, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    stub_id = stub(asgi, {"latency_ms": 1}, path=path)
    response = asgi.request(method, path, headers=bearer(KEY), **kwargs)
    assert response.status_code == 200, response.text
    assert journal(asgi)[-1]["stub_id"] == stub_id
    assert response.headers.get("x-mockair-stub") == stub_id
