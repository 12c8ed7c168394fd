"""POST /v1/images/generations (CONTRACT §3.6, §2.10.4, §2.9 image billing, §3.11 media) and the
legacy GET /imagine, /imagine2 and /imagine/models (§3.12.2, §3.12.3), through the official openai
SDK and raw HTTP, over both transports. Every PNG is decoded with Pillow.

Expected values come from the contract: sizes from §3.6.1 (long side 1024 / 2048, short side
rounded to a multiple of 8), ids from the §2.7 formula, costs from the §2.9 image row with the
catalogue's ``priceperthousandimages``. §3.6.4 (video / music models on this route) is not covered.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from mockair import Settings
from mockair.synth.images import ImageSpec, render_edit, render_png
from tests.conftest import EPOCH, Clients, state_of
from tests.helpers import assert_error, parse_sse
from tests.synth.test_images import expected_meta, mean_abs_difference, mean_colour, text_chunks

KEY = "sk-air-img-test"
AUTH = {"authorization": f"Bearer {KEY}"}
MODEL = "flux-2-dev"  # paid, 2500 per 1000 images, max_n 4, edits
FREE_KEY = "sk-air-free-img"
MEDIA_URL = re.compile(r"(https?://[^/]+)/media/(img_[0-9a-f]{24})\.png")
LEGACY_PATHS = ("/imagine", "/v1/imagine", "/imagine2", "/v1/imagine2")
LEGACY_MODELS = [
    "flux",
    "flux-realism",
    "flux-4o",
    "flux-pixel",
    "flux-3d",
    "flux-anime",
    "flux-disney",
    "any-dark",
    "stable-diffusion-xl-lightning",
    "stable-diffusion-xl-base",
    "flux-1.1-pro",
    "midjourney",
    "dall-e-3",
]
MIB = 1024 * 1024


# -- helpers ----------------------------------------------------------------------------------


def sdk(client: httpx.Client, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=str(client.base_url).rstrip("/") + "/v1",
        api_key=key,
        http_client=client,
        max_retries=0,
    )


def base_of(client: httpx.Client) -> str:
    return str(client.base_url).rstrip("/")


def hex24(scope: str, kind: str, n: int, server_seed: int = 0) -> str:
    return hashlib.sha256(f"{server_seed}|{scope}|{kind}|{n}".encode()).hexdigest()[:24]


def post(
    client: httpx.Client, body: Any, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.post(
        "/v1/images/generations", json=body, headers=AUTH if headers is None else headers
    )


def generate(client: httpx.Client, **body: Any) -> dict[str, Any]:
    body.setdefault("model", MODEL)
    body.setdefault("prompt", "a lighthouse on a cliff at dusk")
    response = post(client, body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    result: dict[str, Any] = response.json()
    return result


def fetch(client: httpx.Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return response.content


def pngs(client: httpx.Client, result: dict[str, Any]) -> list[bytes]:
    """The PNG bytes of every item, whichever response_format was used."""
    out = []
    for item in result["data"]:
        if "b64_json" in item:
            assert list(item) == ["b64_json"]
            out.append(base64.b64decode(item["b64_json"], validate=True))
        else:
            assert list(item) == ["url"]
            out.append(fetch(client, item["url"]))
    return out


def b64_pngs(client: httpx.Client, **body: Any) -> list[bytes]:
    return pngs(client, generate(client, response_format="b64_json", **body))


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


def meta_of(data: bytes) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(text_chunks(data)["mockair"][1])
    return meta


def png_bytes(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def media_id_of(url: str) -> str:
    match = MEDIA_URL.fullmatch(url)
    assert match, url
    return match.group(2)


def register(client: httpx.Client, **settings: Any) -> None:
    response = client.post("/_mockair/keys", json=settings)
    assert response.status_code in (200, 201), response.text


# -- through the openai SDK -------------------------------------------------------------------


def test_sdk_generate_url_is_an_absolute_media_url(client: httpx.Client) -> None:
    result = sdk(client).images.generate(model=MODEL, prompt="a red fox in the snow")
    assert result.created == EPOCH
    assert len(result.data or []) == 1
    item = (result.data or [])[0]
    assert item.b64_json is None
    assert item.url == f"{base_of(client)}/media/img_{hex24(KEY, 'img_', 1)}.png"
    data = fetch(client, item.url)
    image = decode(data)
    assert (image.mode, image.size) == ("RGB", (1024, 1024))
    assert text_chunks(data)["mockair"] == (
        "tEXt",
        expected_meta("a red fox in the snow", MODEL, 0, 0, "1024x1024"),
    )
    assert text_chunks(data)["Title"] == ("tEXt", "a red fox in the snow")
    assert text_chunks(data)["Software"] == ("tEXt", "mockair")


def test_sdk_b64_json_equals_the_url_bytes_of_a_fresh_server(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    first, second = make_client(settings_factory()), make_client(settings_factory())
    by_url = sdk(first).images.generate(model=MODEL, prompt="a quiet harbour", size="512x512")
    by_b64 = sdk(second).images.generate(
        model=MODEL, prompt="a quiet harbour", size="512x512", response_format="b64_json"
    )
    assert (by_b64.data or [])[0].url is None
    b64 = (by_b64.data or [])[0].b64_json or ""
    assert fetch(first, (by_url.data or [])[0].url or "") == base64.b64decode(b64)
    assert decode(base64.b64decode(b64)).size == (512, 512)


def test_sdk_n2_gives_two_different_images(client: httpx.Client) -> None:
    result = sdk(client).images.generate(
        model=MODEL, prompt="two owls", n=2, size="256x256", response_format="b64_json"
    )
    images = [base64.b64decode(item.b64_json or "") for item in result.data or []]
    assert len(images) == 2
    assert images[0] != images[1]
    assert mean_abs_difference(decode(images[0]), decode(images[1])) > 5
    assert [meta_of(png)["index"] for png in images] == [0, 1]
    assert [decode(png).size for png in images] == [(256, 256), (256, 256)]
    # The index is part of the seed: image 0 of n=2 is the image of n=1.
    single = sdk(client).images.generate(
        model=MODEL, prompt="two owls", size="256x256", response_format="b64_json"
    )
    assert base64.b64decode((single.data or [])[0].b64_json or "") == images[0]


def test_sdk_n2_urls_are_two_media_items(client: httpx.Client) -> None:
    result = sdk(client).images.generate(model=MODEL, prompt="two owls", n=2, size="128x128")
    urls = [item.url or "" for item in result.data or []]
    assert urls == [
        f"{base_of(client)}/media/img_{hex24(KEY, 'img_', 1)}.png",
        f"{base_of(client)}/media/img_{hex24(KEY, 'img_', 2)}.png",
    ]
    first, second = (fetch(client, url) for url in urls)
    assert first != second


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("256x256", (256, 256)),
        ("512x512", (512, 512)),
        ("1536x1024", (1536, 1024)),
        ("1024x1536", (1024, 1536)),
        ("333x77", (333, 77)),
        ("auto", (1024, 1024)),
    ],
)
def test_sdk_size_variants(client: httpx.Client, size: str, expected: tuple[int, int]) -> None:
    result = sdk(client).images.generate(
        model=MODEL, prompt="size check", size=size, response_format="b64_json"
    )
    data = base64.b64decode((result.data or [])[0].b64_json or "")
    assert decode(data).size == expected
    assert meta_of(data)["size"] == f"{expected[0]}x{expected[1]}"


def test_sdk_sends_optional_openai_fields(client: httpx.Client) -> None:
    result = sdk(client).images.generate(
        model=MODEL,
        prompt="all the knobs",
        size="64x64",
        quality="hd",
        style="vivid",
        user="user-1",
        background="auto",
        moderation="low",
        output_format="png",
        response_format="b64_json",
    )
    data = base64.b64decode((result.data or [])[0].b64_json or "")
    assert decode(data).size == (64, 64)


def test_sdk_extra_body_aspect_ratio_and_seed(client: httpx.Client) -> None:
    result = sdk(client).images.generate(
        model=MODEL,
        prompt="a wide beach",
        response_format="b64_json",
        extra_body={"aspect_ratio": "16:9", "seed": 99},
    )
    data = base64.b64decode((result.data or [])[0].b64_json or "")
    assert decode(data).size == (1024, 576)
    assert meta_of(data)["seed"] == 99


def test_sdk_errors(client: httpx.Client) -> None:
    api = sdk(client)
    with pytest.raises(openai.BadRequestError) as bad:
        api.images.generate(model="gpt-4o-mini", prompt="x")
    assert_error(bad.value.response, 400, "model_not_supported", "model")  # type: ignore[arg-type]
    with pytest.raises(openai.NotFoundError) as missing:
        api.images.generate(model="imagine-99", prompt="x")
    error = assert_error(
        missing.value.response,  # type: ignore[arg-type]
        404,
        "model_not_found",
        "model",
        type="invalid_request",
    )
    assert error["message"] == "Model 'imagine-99' not found."
    with pytest.raises(openai.BadRequestError) as too_many:
        api.images.generate(model=MODEL, prompt="x", n=5)
    assert_error(too_many.value.response, 400, "invalid_value", "n")  # type: ignore[arg-type]


# -- response shape, ids, URLs ----------------------------------------------------------------


def test_response_body_is_exact_compact_json(client: httpx.Client) -> None:
    response = post(client, {"model": MODEL, "prompt": "shape", "size": "64x64", "n": 2})
    assert response.status_code == 200
    base = base_of(client)
    expected = {
        "created": EPOCH,
        "data": [
            {"url": f"{base}/media/img_{hex24(KEY, 'img_', 1)}.png"},
            {"url": f"{base}/media/img_{hex24(KEY, 'img_', 2)}.png"},
        ],
    }
    assert response.text == json.dumps(expected, separators=(",", ":"))
    assert response.headers["x-request-id"].startswith("req_")


def test_b64_json_is_still_stored_as_media(client: httpx.Client) -> None:
    result = generate(client, prompt="stored anyway", size="64x64", response_format="b64_json")
    data = base64.b64decode(result["data"][0]["b64_json"])
    url = f"{base_of(client)}/media/img_{hex24(KEY, 'img_', 1)}.png"
    assert fetch(client, url) == data


def test_media_url_follows_the_host_header(client: httpx.Client) -> None:
    response = post(
        client,
        {"model": MODEL, "prompt": "host", "size": "64x64"},
        headers={**AUTH, "host": "images.example.test:9999"},
    )
    assert response.status_code == 200, response.text
    url = response.json()["data"][0]["url"]
    assert url == f"http://images.example.test:9999/media/img_{hex24(KEY, 'img_', 1)}.png"


@pytest.mark.parametrize(
    ("forwarded", "scheme"),
    [("https", "https"), ("HTTPS", "https"), ("http", "http"), ("gopher", "http"), ("", "http")],
)
def test_media_url_follows_x_forwarded_proto(
    client: httpx.Client, forwarded: str, scheme: str
) -> None:
    # Behind a TLS-terminating proxy the URL handed back must use the client's scheme; any
    # other value is ignored. Both transports agree (uvicorn's proxy middleware is off).
    response = post(
        client,
        {"model": MODEL, "prompt": "proxied", "size": "64x64"},
        headers={**AUTH, "host": "proxy.example.test", "x-forwarded-proto": forwarded},
    )
    assert response.status_code == 200, response.text
    url = response.json()["data"][0]["url"]
    assert url == f"{scheme}://proxy.example.test/media/img_{hex24(KEY, 'img_', 1)}.png"


def test_media_get_serves_the_png_with_media_headers(client: httpx.Client) -> None:
    url = generate(client, prompt="headers", size="96x64")["data"][0]["url"]
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["etag"] == f'"{media_id_of(url)}"'
    assert response.headers["cache-control"] == "public, max-age=86400, immutable"
    assert decode(response.content).size == (96, 64)
    assert client.get(url.replace(".png", ".mp4")).status_code == 404


def test_missing_key_is_401(client: httpx.Client) -> None:
    response = post(client, {"model": MODEL, "prompt": "x"}, headers={})
    assert_error(response, 401, "missing_api_key", None)


# -- determinism and difference ---------------------------------------------------------------


def test_same_request_gives_identical_bytes(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    client = make_client(settings_factory())
    body = {"prompt": "determinism", "size": "200x100", "seed": 5}
    first, again = b64_pngs(client, **body), b64_pngs(client, **body)
    other_server = b64_pngs(make_client(settings_factory()), **body)
    assert first == again == other_server


def test_different_prompts_give_visibly_different_images(client: httpx.Client) -> None:
    (fox,) = b64_pngs(client, prompt="a red fox in the snow", size="256x256")
    (sub,) = b64_pngs(client, prompt="a yellow submarine under the ice", size="256x256")
    a, b = decode(fox), decode(sub)
    assert mean_abs_difference(a, b) > 20
    assert max(abs(x - y) for x, y in zip(mean_colour(a), mean_colour(b), strict=True)) > 10


def test_seed_is_recorded_and_changes_the_image(client: httpx.Client) -> None:
    (default,) = b64_pngs(client, prompt="seeded", size="128x128")
    (seven,) = b64_pngs(client, prompt="seeded", size="128x128", seed=7)
    assert meta_of(default)["seed"] == 0
    assert meta_of(seven)["seed"] == 7
    assert mean_abs_difference(decode(default), decode(seven)) > 5


def test_server_seed_is_the_default_seed(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    client = make_client(settings_factory(seed=7))
    (by_server,) = b64_pngs(client, prompt="seeded", size="128x128")
    (by_request,) = b64_pngs(
        make_client(settings_factory()), prompt="seeded", size="128x128", seed=7
    )
    assert meta_of(by_server)["seed"] == 7
    assert by_server == by_request


def test_api_png_is_the_pure_render(client: httpx.Client) -> None:
    (data,) = b64_pngs(client, prompt="pure", size="120x80", seed=3, model="imagen-4")
    assert data == render_png(ImageSpec("pure", "imagen-4", 120, 80, 3, 0))


# -- size resolution (§3.6.1) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, (1024, 1024), id="default"),
        pytest.param({"size": "auto"}, (1024, 1024), id="auto"),
        pytest.param({"size": "64x64"}, (64, 64), id="64x64"),
        pytest.param({"size": "4096x64"}, (4096, 64), id="4096x64"),
        pytest.param({"size": "64x2048"}, (64, 2048), id="64x2048"),
        pytest.param({"width": 300, "height": 200}, (300, 200), id="width-height"),
        pytest.param({"size": "640x480", "width": 300, "height": 200}, (640, 480), id="size-wins"),
        pytest.param({"size": "auto", "width": 300, "height": 200}, (300, 200), id="auto-absent"),
        pytest.param({"aspect_ratio": "16:9"}, (1024, 576), id="16:9"),
        pytest.param({"aspect_ratio": "9:16"}, (576, 1024), id="9:16"),
        pytest.param({"aspect_ratio": "4:3"}, (1024, 768), id="4:3"),
        pytest.param({"aspect_ratio": "3:2"}, (1024, 680), id="3:2"),
        pytest.param({"aspect_ratio": "21:9"}, (1024, 440), id="21:9"),
        pytest.param({"aspect_ratio": "1:1"}, (1024, 1024), id="1:1"),
        pytest.param({"aspectRatio": "2:3"}, (680, 1024), id="alias-2:3"),
        pytest.param({"aspect_ratio": "16:9", "resolution": "1k"}, (1024, 576), id="16:9-1k"),
        pytest.param({"aspect_ratio": "16:9", "resolution": "2k"}, (2048, 1152), id="16:9-2k"),
        pytest.param({"aspect_ratio": "21:9", "resolution": "2k"}, (2048, 880), id="21:9-2k"),
        pytest.param({"aspect_ratio": "16:9", "size": "auto"}, (1024, 576), id="ratio-auto"),
        pytest.param({"aspect_ratio": "16:9", "size": "320x320"}, (320, 320), id="ratio-size"),
        pytest.param(
            {"aspect_ratio": "16:9", "width": 300, "height": 200}, (300, 200), id="ratio-wh"
        ),
    ],
)
def test_size_resolution(
    client: httpx.Client, fields: dict[str, Any], expected: tuple[int, int]
) -> None:
    (data,) = b64_pngs(client, prompt="sizes", **fields)
    assert decode(data).size == expected
    assert meta_of(data)["size"] == f"{expected[0]}x{expected[1]}"


# -- bad input --------------------------------------------------------------------------------

GARBAGE_B64 = "@@not*base64!!"
NOT_AN_IMAGE = base64.b64encode(b"hello, I am plain text").decode()
RED = png_bytes((40, 30), (255, 0, 0))


@pytest.mark.parametrize(
    ("fields", "status", "code", "param"),
    [
        pytest.param({"size": "0x0"}, 400, "invalid_value", "size", id="size-0x0"),
        pytest.param({"size": "99999x1"}, 400, "invalid_value", "size", id="size-99999x1"),
        pytest.param({"size": "4097x64"}, 400, "invalid_value", "size", id="size-4097"),
        pytest.param({"size": "63x64"}, 400, "invalid_value", "size", id="size-63"),
        pytest.param({"size": "big"}, 400, "invalid_value", "size", id="size-text"),
        pytest.param({"size": "12345678x1"}, 400, "invalid_value", "size", id="size-long"),
        pytest.param({"size": 512}, 400, "invalid_type", "size", id="size-int"),
        pytest.param({"aspect_ratio": "5:7"}, 400, "invalid_value", "aspect_ratio", id="ratio"),
        pytest.param(
            {"aspect_ratio": "5:7", "size": "512x512"},
            400,
            "invalid_value",
            "aspect_ratio",
            id="ratio-with-size",
        ),
        pytest.param({"aspect_ratio": "1:2"}, 400, "invalid_value", "aspect_ratio", id="ratio-1:2"),
        pytest.param({"aspectRatio": "7:5"}, 400, "invalid_value", "aspectRatio", id="alias"),
        pytest.param(
            {"model": "imagen-4", "aspect_ratio": "21:9"},
            400,
            "invalid_value",
            "aspect_ratio",
            id="ratio-not-in-model-list",
        ),
        pytest.param({"n": 5}, 400, "invalid_value", "n", id="n-above-max"),
        pytest.param({"model": "flux", "n": 2}, 400, "invalid_value", "n", id="n-above-max-1"),
        pytest.param({"n": 0}, 400, "invalid_value", "n", id="n-zero"),
        pytest.param({"n": "2"}, 400, "invalid_type", "n", id="n-string"),
        pytest.param({"quality": "ultra"}, 400, "invalid_value", "quality", id="quality"),
        pytest.param({"quality": "xhigh"}, 400, "invalid_value", "quality", id="quality-xhigh"),
        pytest.param({"output_format": "webp"}, 400, "invalid_value", "output_format", id="webp"),
        pytest.param({"output_format": "jpeg"}, 400, "invalid_value", "output_format", id="jpeg"),
        pytest.param({"response_format": "jpeg"}, 400, "invalid_value", "response_format", id="rf"),
        pytest.param({"stream": True}, 400, "invalid_value", "stream", id="stream"),
        pytest.param({"sse": "yes"}, 400, "invalid_type", "sse", id="sse-type"),
        pytest.param(
            {"aspect_ratio": "1:1", "resolution": "8k"}, 400, "invalid_value", "resolution", id="8k"
        ),
        pytest.param({"width": 63, "height": 100}, 400, "invalid_value", "width", id="width"),
        pytest.param({"width": 100, "height": 5000}, 400, "invalid_value", "height", id="height"),
        pytest.param({"seed": "1"}, 400, "invalid_type", "seed", id="seed-string"),
        pytest.param({"prompt": ""}, 400, "invalid_value", "prompt", id="prompt-empty"),
        pytest.param({"prompt": "x" * 32001}, 400, "invalid_value", "prompt", id="prompt-long"),
        pytest.param({"prompt": None}, 400, "missing_field", "prompt", id="prompt-null"),
        pytest.param({"model": None}, 400, "missing_field", "model", id="model-null"),
        pytest.param({"foo": 1}, 400, "unknown_field", "foo", id="unknown-field"),
        pytest.param(
            {"model": "gpt-4o-mini"}, 400, "model_not_supported", "model", id="chat-model"
        ),
        pytest.param(
            {"model": "text-embedding-3-small"},
            400,
            "model_not_supported",
            "model",
            id="embedding-model",
        ),
        pytest.param({"models": ["nope-9"]}, 404, "model_not_found", "models.0", id="fallback-404"),
        pytest.param(
            {"models": ["gpt-4o"]}, 400, "model_not_supported", "models.0", id="fallback-chat"
        ),
        pytest.param(
            {"input_images": [{"b64_json": GARBAGE_B64}]},
            400,
            "invalid_value",
            "input_images.0",
            id="input-garbage-b64",
        ),
        pytest.param(
            {"input_images": [{"url": "data:image/png;base64," + GARBAGE_B64}]},
            400,
            "invalid_value",
            "input_images.0",
            id="input-garbage-data-url",
        ),
        pytest.param(
            {"input_images": [{"b64_json": NOT_AN_IMAGE}]},
            400,
            "invalid_value",
            "input_images.0",
            id="input-not-an-image",
        ),
        pytest.param(
            {"input_images": [{"url": data_url(RED)}, {"b64_json": GARBAGE_B64}]},
            400,
            "invalid_value",
            "input_images.1",
            id="input-second-garbage",
        ),
        pytest.param(
            {"input_images": [{"url": data_url(RED)}] * 5},
            400,
            "invalid_value",
            "input_images",
            id="input-too-many",
        ),
        pytest.param({"input_images": []}, 400, "invalid_value", "input_images", id="input-empty"),
        pytest.param(
            {"model": "imagen-4", "input_images": [{"url": data_url(RED)}]},
            400,
            "invalid_value",
            "input_images",
            id="no-edit-model",
        ),
        pytest.param(
            {"model": "flux", "image_urls": ["https://example.com/a.png"]},
            400,
            "invalid_value",
            "input_images",
            id="no-edit-model-alias",
        ),
        pytest.param(
            {
                "input_images": [
                    {"url": "http://127.0.0.1:8080/media/img_000000000000000000000000.png"}
                ]
            },
            404,
            "media_not_found",
            "media_id",
            id="input-unknown-media",
        ),
    ],
)
def test_bad_input_envelopes(
    client: httpx.Client, fields: dict[str, Any], status: int, code: str, param: str
) -> None:
    response = post(client, {"model": MODEL, "prompt": "bad input", **fields})
    kind = "invalid_request" if code == "model_not_found" else None
    assert_error(response, status, code, param, type=kind)
    assert "x-cost-cents" not in response.headers


def test_unknown_model_is_404_with_the_seed_message(client: httpx.Client) -> None:
    error = assert_error(
        post(client, {"model": "gpt-99", "prompt": "x"}),
        404,
        "model_not_found",
        "model",
        type="invalid_request",
    )
    assert error["message"] == "Model 'gpt-99' not found."


def test_longest_prompt_is_accepted(client: httpx.Client) -> None:
    (data,) = b64_pngs(client, prompt="y" * 32000, size="64x64")
    assert meta_of(data)["prompt"] == "y" * 32000


def test_errors_store_no_media(client: httpx.Client) -> None:
    post(client, {"model": MODEL, "prompt": "x", "size": "0x0"})
    post(client, {"model": MODEL, "prompt": "x", "input_images": [{"b64_json": GARBAGE_B64}]})
    assert len(state_of(client).media) == 0


# -- billing and tiers (§2.9) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "n", "cents"),
    [
        ("flux-2-dev", 1, "2.5000"),
        ("flux-2-dev", 2, "5.0000"),
        ("nano-banana-pro", 3, "40.2000"),
        ("imagen-4", 1, "4.0000"),
        ("flux-2-klein-9b", 4, "0.0000"),
        ("flux", 1, "0.0000"),
    ],
)
def test_cost_header_is_n_times_price_per_thousand(
    client: httpx.Client, model: str, n: int, cents: str
) -> None:
    response = post(client, {"model": model, "prompt": "billed", "n": n, "size": "64x64"})
    assert response.status_code == 200, response.text
    assert response.headers["x-cost-cents"] == cents
    assert len(response.json()["data"]) == n


def test_credits_used_accumulate_on_the_key(client: httpx.Client) -> None:
    key = "sk-air-img-billed"
    register(client, key=key)
    headers = {"authorization": f"Bearer {key}"}
    for n in (1, 2):
        body = {"model": MODEL, "prompt": "billed", "n": n, "size": "64x64"}
        assert post(client, body, headers=headers).status_code == 200
    assert post(client, {"model": MODEL, "prompt": "x", "n": 9}, headers=headers).status_code == 400
    usage = client.get(f"/_mockair/keys/{key}").json()["usage"]
    assert usage["credits_used"] == 7.5


def test_free_tier_key_is_gated_from_paid_image_models(client: httpx.Client) -> None:
    register(client, key=FREE_KEY, tier="free")
    headers = {"authorization": f"Bearer {FREE_KEY}"}
    for model in ("flux-2-dev", "nano-banana-pro", "imagen-4"):
        response = post(client, {"model": model, "prompt": "x", "size": "64x64"}, headers=headers)
        assert_error(response, 403, "free_tier_gated", "model")
    free = post(
        client, {"model": "flux-2-klein-9b", "prompt": "x", "size": "64x64"}, headers=headers
    )
    assert free.status_code == 200, free.text
    assert free.headers["x-cost-cents"] == "0.0000"
    assert len(state_of(client).media) == 1


def test_model_checks_come_before_the_tier_gate(client: httpx.Client) -> None:
    register(client, key=FREE_KEY, tier="free")
    headers = {"authorization": f"Bearer {FREE_KEY}"}
    response = post(client, {"model": MODEL, "prompt": "x", "n": 5}, headers=headers)
    assert_error(response, 400, "invalid_value", "n")


def test_blocked_class_is_model_not_allowed(client: httpx.Client) -> None:
    key = "sk-air-img-noimages"
    register(client, key=key, blocked_classes=["image"])
    response = post(
        client, {"model": MODEL, "prompt": "x"}, headers={"authorization": f"Bearer {key}"}
    )
    assert_error(response, 403, "model_not_allowed", "model")


# -- SSE (§2.10.4) ----------------------------------------------------------------------------


def test_sse_framing_is_exact(client: httpx.Client) -> None:
    response = post(client, {"model": MODEL, "prompt": "sse", "size": "64x64", "sse": True})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["x-cost-cents"] == "2.5000"
    body = {
        "created": EPOCH,
        "data": [{"url": f"{base_of(client)}/media/img_{hex24(KEY, 'img_', 1)}.png"}],
    }
    assert response.text == (
        f": keepalive\n\ndata: {json.dumps(body, separators=(',', ':'))}\n\ndata: [DONE]\n\n"
    )
    events = parse_sse(response.text)
    assert [list(event) for event in events] == [[":"], ["data"], ["data"]]
    assert decode(fetch(client, body["data"][0]["url"])).size == (64, 64)


def test_sse_data_is_the_body_of_the_plain_call(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    body = {
        "model": MODEL,
        "prompt": "sse b64",
        "size": "96x96",
        "n": 2,
        "response_format": "b64_json",
    }
    plain = post(make_client(settings_factory()), body)
    streamed = post(make_client(settings_factory()), {**body, "sse": True})
    assert plain.status_code == streamed.status_code == 200
    events = parse_sse(streamed.text)
    assert events[0] == {":": "keepalive"}
    assert events[-1] == {"data": "[DONE]"}
    assert len(events) == 3
    assert events[1]["data"] == plain.text
    assert json.loads(events[1]["data"]) == plain.json()


def test_sse_false_is_plain_json(client: httpx.Client) -> None:
    response = post(client, {"model": MODEL, "prompt": "x", "size": "64x64", "sse": False})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert list(response.json()) == ["created", "data"]


def test_sse_error_before_the_stream_is_a_plain_envelope(client: httpx.Client) -> None:
    response = post(client, {"model": MODEL, "prompt": "x", "size": "0x0", "sse": True})
    assert_error(response, 400, "invalid_value", "size")
    response = post(client, {"model": "gpt-4o-mini", "prompt": "x", "sse": True})
    assert_error(response, 400, "model_not_supported", "model")


# -- edits (§3.6.3) ---------------------------------------------------------------------------


def red_blue(size: tuple[int, int] = (200, 100)) -> bytes:
    image = Image.new("RGB", size, (255, 0, 0))
    image.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def edit(client: httpx.Client, inputs: list[dict[str, str]], **body: Any) -> bytes:
    body.setdefault("size", "400x200")
    body.setdefault("prompt", "make it dramatic")
    if inputs:
        body["input_images"] = inputs
    (data,) = b64_pngs(client, **body)
    return data


@pytest.mark.parametrize("form", ["data_url", "b64_json"])
def test_edit_output_derives_from_the_input_pixels(client: httpx.Client, form: str) -> None:
    source = red_blue()
    ref = (
        {"url": data_url(source)}
        if form == "data_url"
        else {"b64_json": base64.b64encode(source).decode()}
    )
    data = edit(client, [ref])
    image = decode(data)
    assert image.size == (400, 200)
    left, right = (
        mean_colour(image.crop((0, 0, 200, 200))),
        mean_colour(image.crop((200, 0, 400, 200))),
    )
    assert left[0] > left[2] + 60
    assert right[2] > right[0] + 60
    assert meta_of(data)["sources"] == [sha(source)]
    assert text_chunks(data)["mockair"] == (
        "tEXt",
        expected_meta("make it dramatic", MODEL, 0, 0, "400x200", [sha(source)]),
    )
    assert data == render_edit(
        ImageSpec("make it dramatic", MODEL, 400, 200, 0, 0, (sha(source),)), [source]
    )


def test_solid_red_input_gives_a_red_tinted_output(client: httpx.Client) -> None:
    red = png_bytes((64, 64), (255, 0, 0))
    edited = decode(edit(client, [{"url": data_url(red)}], size="256x256", prompt="tint"))
    (plain,) = b64_pngs(client, size="256x256", prompt="tint")
    r, g, b = mean_colour(edited)
    assert r > g + 60
    assert r > b + 60
    assert mean_abs_difference(edited, decode(plain)) > 20


def test_same_bytes_in_either_form_give_the_same_edit(client: httpx.Client) -> None:
    source = red_blue()
    by_url = edit(client, [{"url": data_url(source)}])
    by_b64 = edit(client, [{"b64_json": base64.b64encode(source).decode()}])
    assert by_url == by_b64
    other = edit(client, [{"url": data_url(red_blue((300, 100)))}])
    assert other != by_url


def test_mockair_media_url_as_input(client: httpx.Client) -> None:
    url = generate(client, prompt="the original", size="256x256")["data"][0]["url"]
    original = fetch(client, url)
    data = edit(client, [{"url": url}], size="256x256", prompt="the edit")
    assert meta_of(data)["sources"] == [sha(original)]
    assert meta_of(data)["prompt"] == "the edit"
    (unrelated,) = b64_pngs(client, prompt="the edit", size="256x256")
    base = decode(original)
    assert mean_abs_difference(decode(data), base) < mean_abs_difference(decode(unrelated), base)


def test_http_url_input_is_a_placeholder_never_fetched(client: httpx.Client) -> None:
    url = "http://127.0.0.1:9/pictures/cat.png"  # nothing listens there: a fetch would fail
    data = edit(client, [{"url": url}], size="128x128")
    assert decode(data).size == (128, 128)
    assert meta_of(data)["sources"] == [url]
    assert edit(client, [{"url": url}], size="128x128") == data
    assert edit(client, [{"url": "http://127.0.0.1:9/pictures/dog.png"}], size="128x128") != data


def test_input_aliases(client: httpx.Client) -> None:
    source = red_blue()
    expected = edit(client, [{"url": data_url(source)}])
    assert edit(client, [], image_urls=[data_url(source)]) == expected
    (via_image_url,) = b64_pngs(
        client, prompt="make it dramatic", size="400x200", image_url=data_url(source)
    )
    assert via_image_url == expected


def test_other_inputs_become_thumbnails_along_the_bottom(client: httpx.Client) -> None:
    red, green = png_bytes((64, 64), (255, 0, 0)), png_bytes((64, 64), (0, 255, 0))
    data = edit(
        client,
        [{"url": data_url(red)}, {"b64_json": base64.b64encode(green).decode()}],
        size="256x256",
    )
    assert meta_of(data)["sources"] == [sha(red), sha(green)]
    image = decode(data)
    bottom = image.crop((0, 192, 256, 256)).tobytes()
    top = image.crop((0, 0, 256, 192)).tobytes()
    pure_green = bytes((0, 255, 0))

    def count(pixels: bytes) -> int:
        return sum(pixels[i : i + 3] == pure_green for i in range(0, len(pixels), 3))

    assert count(bottom) >= 16 * 16
    assert count(top) == 0


def test_input_images_with_b64_json_and_url_mix_in_sources(client: httpx.Client) -> None:
    red = png_bytes((64, 64), (255, 0, 0))
    data = edit(
        client, [{"b64_json": base64.b64encode(red).decode()}, {"url": "https://example.com/x.png"}]
    )
    assert meta_of(data)["sources"] == [sha(red), "https://example.com/x.png"]


# -- media store bound ------------------------------------------------------------------------


def test_media_eviction_makes_the_first_url_404(
    make_client: Clients, settings_factory: Callable[..., Settings]
) -> None:
    client = make_client(settings_factory(media_max_mb=1))
    store = state_of(client).media
    urls: list[str] = []
    total = 0
    first_id = ""
    for request in range(60):
        prompt = f"evict {request}"
        result = generate(client, prompt=prompt, n=4, size="1024x1024")
        sizes = [len(render_png(ImageSpec(prompt, MODEL, 1024, 1024, 0, i))) for i in range(4)]
        urls += [item["url"] for item in result["data"]]
        first_id = first_id or media_id_of(urls[0])
        crossed = total + sum(sizes) > MIB
        total += sum(sizes)
        assert (first_id in store) is not crossed, (request, total)
        if crossed:
            break
    else:
        pytest.fail("the store never filled up")
    assert request > 0  # the first request alone fits
    assert_error(client.get(urls[0]), 404, "media_not_found", "media_id")
    last = fetch(client, urls[-1])
    assert last == render_png(ImageSpec(f"evict {request}", MODEL, 1024, 1024, 0, 3))


def test_media_url_expires_after_24_virtual_hours(client: httpx.Client) -> None:
    url = generate(client, prompt="short lived", size="64x64")["data"][0]["url"]
    assert client.post("/_mockair/clock", json={"advance": 86399}).status_code == 200
    assert decode(fetch(client, url)).size == (64, 64)
    assert client.post("/_mockair/clock", json={"advance": 1}).status_code == 200
    assert_error(client.get(url), 404, "media_not_found", "media_id")


# -- legacy GET /imagine and /imagine2 (§3.12.2) ----------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (None, (1024, 1024)),
        ("1:1", (1024, 1024)),
        ("16:9", (1024, 576)),
        ("9:16", (576, 1024)),
        ("21:9", (1024, 440)),
        ("9:21", (440, 1024)),
        ("1:2", (512, 1024)),
        ("2:1", (1024, 512)),
    ],
)
def test_imagine_sizes(client: httpx.Client, ratio: str | None, expected: tuple[int, int]) -> None:
    params = {"prompt": "a legacy cat"} | ({"size": ratio} if ratio else {})
    response = client.get("/imagine", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = decode(response.content)
    assert (image.mode, image.size) == ("RGB", expected)
    assert meta_of(response.content) == json.loads(
        expected_meta("a legacy cat", "flux", 0, 0, f"{expected[0]}x{expected[1]}")
    )


def test_imagine_paths_give_identical_bytes(client: httpx.Client) -> None:
    params = {"prompt": "same everywhere", "size": "16:9", "seed": "11", "model": "midjourney"}
    bodies = [client.get(path, params=params) for path in LEGACY_PATHS]
    assert all(r.status_code == 200 for r in bodies), [r.text for r in bodies]
    assert len({r.content for r in bodies}) == 1
    meta = meta_of(bodies[0].content)
    assert (meta["model"], meta["seed"], meta["size"]) == ("midjourney", 11, "1024x576")


def test_imagine_is_the_same_picture_as_images_generations(client: httpx.Client) -> None:
    legacy = client.get("/imagine2", params={"prompt": "shared", "size": "16:9", "seed": "4"})
    (current,) = b64_pngs(client, model="flux", prompt="shared", aspect_ratio="16:9", seed=4)
    assert legacy.content == current


def test_imagine_is_deterministic_and_prompt_sensitive(client: httpx.Client) -> None:
    first = client.get("/imagine", params={"prompt": "a green valley"}).content
    again = client.get("/v1/imagine", params={"prompt": "a green valley"}).content
    other = client.get("/imagine", params={"prompt": "a burning ship at night"}).content
    assert first == again
    assert mean_abs_difference(decode(first), decode(other)) > 20


def test_imagine_is_not_stored_and_not_billed(client: httpx.Client) -> None:
    response = client.get("/imagine", params={"prompt": "x"}, headers=AUTH)
    assert response.status_code == 200
    assert "x-cost-cents" not in response.headers
    assert len(state_of(client).media) == 0


def test_imagine_accepts_2000_chars(client: httpx.Client) -> None:
    response = client.get("/imagine", params={"prompt": "z" * 2000, "size": "2:1"})
    assert response.status_code == 200, response.text
    assert meta_of(response.content)["prompt"] == "z" * 2000


@pytest.mark.parametrize("path", LEGACY_PATHS)
@pytest.mark.parametrize(
    ("params", "status", "code", "param"),
    [
        pytest.param({}, 400, "missing_field", "prompt", id="missing-prompt"),
        pytest.param({"prompt": "z" * 2001}, 400, "invalid_value", "prompt", id="prompt-2001"),
        pytest.param({"prompt": "x", "size": "3:1"}, 400, "invalid_value", "size", id="ratio"),
        pytest.param({"prompt": "x", "size": "1024x1024"}, 400, "invalid_value", "size", id="wxh"),
        pytest.param({"prompt": "x", "seed": "abc"}, 400, "invalid_value", "seed", id="seed"),
        pytest.param(
            {"prompt": "x", "model": "gpt-4o"}, 400, "model_not_supported", "model", id="chat"
        ),
        pytest.param({"prompt": "x", "model": "nope-7"}, 404, "model_not_found", "model", id="404"),
    ],
)
def test_imagine_errors(
    client: httpx.Client, path: str, params: dict[str, str], status: int, code: str, param: str
) -> None:
    response = client.get(path, params=params)
    assert_error(response, status, code, param, type="invalid_request" if status == 404 else None)


@pytest.mark.parametrize(
    "path", ["/imagine/models", "/v1/imagine/models", "/imagine2/models", "/v1/imagine2/models"]
)
def test_imagine_models_exact_list(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == LEGACY_MODELS
    assert response.text == json.dumps(LEGACY_MODELS, separators=(",", ":"))


def test_every_legacy_model_draws(client: httpx.Client) -> None:
    for model in LEGACY_MODELS:
        response = client.get("/imagine", params={"prompt": "x", "model": model, "size": "2:1"})
        assert response.status_code == 200, (model, response.text)
        assert meta_of(response.content)["model"] == model


def test_imagine_applies_the_free_tier_gate(client: httpx.Client) -> None:
    """Legacy routes are key-optional with anonymous = tier free (§2.3); step 9 still applies."""
    register(client, key=FREE_KEY, tier="free")
    for headers in ({}, {"authorization": f"Bearer {FREE_KEY}"}):
        response = client.get("/imagine", params={"prompt": "x", "model": MODEL}, headers=headers)
        assert_error(response, 403, "free_tier_gated", "model")
    response = client.get("/imagine", params={"prompt": "x", "model": MODEL}, headers=AUTH)
    assert response.status_code == 200
    assert meta_of(response.content)["model"] == MODEL
