"""Legacy GET /ask and /v1/ask (CONTRACT §2.10.6, §3.12.4)."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from PIL import Image

from mockair.synth.tokenizer import count
from tests.helpers import assert_error


def events(response: httpx.Response) -> list[dict[str, str]]:
    lines = [line for line in response.text.split("\n") if line]
    assert all(line.startswith("data: ") for line in lines)
    return [json.loads(line[6:]) for line in lines]


@pytest.mark.parametrize("path", ["/ask", "/v1/ask"])
def test_streams_one_token_per_line(client: httpx.Client, path: str) -> None:
    response = client.get(path, params={"prompt": "What is ChatGPT?"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert "[DONE]" not in response.text
    assert response.text.endswith("\n\n")
    chunks = events(response)
    text = "".join(c["message"] for c in chunks)
    assert len(chunks) == count(text)
    assert 20 <= len(chunks) <= 60
    assert all(c["url"] == "" for c in chunks)
    assert "x-cost-cents" not in response.headers  # legacy /ask is never billed


def test_both_paths_and_repeats_give_the_same_answer(client: httpx.Client) -> None:
    first = client.get("/ask", params={"prompt": "Tell me about harbours"}).text
    assert client.get("/v1/ask", params={"prompt": "Tell me about harbours"}).text == first
    assert client.get("/ask", params={"prompt": "Tell me about trains"}).text != first


def test_a_picture_prompt_links_a_real_png_on_the_last_event(client: httpx.Client) -> None:
    chunks = events(client.get("/ask", params={"prompt": "Draw a lighthouse at night"}))
    assert all(c["url"] == "" for c in chunks[:-1])
    url = chunks[-1]["url"]
    assert url.startswith(str(client.base_url) + "/media/img_")
    assert url.endswith(".png")
    image = client.get(url.removeprefix(str(client.base_url)))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(image.content)) as png:
        assert png.size == (1024, 1024)
        meta = json.loads(png.text["mockair"])
    assert meta["prompt"] == "Draw a lighthouse at night"
    assert meta["model"] == "flux"


def test_key_optional_but_validated(client: httpx.Client) -> None:
    ok = client.get("/ask", params={"prompt": "hi"}, headers={"authorization": "Bearer sk-air-a"})
    assert ok.status_code == 200
    bad = client.get("/ask", params={"prompt": "hi"}, headers={"authorization": "Bearer nope"})
    assert_error(bad, 401, "invalid_api_key")


def test_missing_prompt(client: httpx.Client) -> None:
    assert_error(client.get("/ask"), 400, "missing_field", "prompt")
    assert_error(client.get("/ask", params={"prompt": ""}), 400, "missing_field", "prompt")
