"""Video tasks (CONTRACT §3.9, §2.10.5, §2.9 video billing, §6, §7 #10/#18/#21, §7.1 #9) and the
§3.6.4 compatibility path on /v1/images/generations, over both transports.

Every status and progress step is watched through polling and through the SSE stream while the
frozen virtual clock is advanced through ``/_mockair/clock``. Expected values come from the
contract: ids from the §2.7 formula, times from §3.9.3 (S = 5, Q = 1), costs from §2.9 with the
catalogue's ``price_per_video_second_cents``, frame sizes from §3.9.4.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import av
import httpx
import mutagen.mp3
import pytest
from PIL import Image

from mockair import MockAir, Settings
from tests.conftest import EPOCH, Clients, state_of
from tests.helpers import assert_error, parse_sse
from tests.synth.test_video import distance, mean_colour, mp4_facts

KEY = "sk-air-video-test"
OTHER = "sk-air-video-other"
AUTH = {"authorization": f"Bearer {KEY}"}
DAY = 86400
FOX = "A red fox darting across snowy hills at dawn"
TASK_KEYS = [
    "task_id",
    "status",
    "progress",
    "model",
    "prompt",
    "mode",
    "duration_seconds",
    "aspect_ratio",
    "quality",
    "sound",
    "seed",
    "created",
    "started_at",
    "completed_at",
    "expires_at",
    "result_url",
    "error",
    "cost_cents",
    "input_image_url",
]
RED = (210, 20, 30)


# -- helpers ----------------------------------------------------------------------------------


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def hex24(scope: str, kind: str, n: int, server_seed: int = 0) -> str:
    return hashlib.sha256(f"{server_seed}|{scope}|{kind}|{n}".encode()).hexdigest()[:24]


def base_of(client: httpx.Client) -> str:
    return str(client.base_url).rstrip("/")


def local(url: str) -> str:
    """The path of an absolute mockair URL (either transport)."""
    return re.sub(r"^https?://[^/]+", "", url)


def create(client: httpx.Client, key: str = KEY, **body: Any) -> httpx.Response:
    body.setdefault("model", "wan-2.6")
    body.setdefault("prompt", FOX)
    return client.post("/v1/video/generations", json=body, headers=bearer(key))


def created(client: httpx.Client, key: str = KEY, **body: Any) -> dict[str, Any]:
    response = create(client, key, **body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def advance(client: httpx.Client, seconds: float) -> float:
    response = client.post("/_mockair/clock", json={"advance": seconds})
    assert response.status_code == 200, response.text
    return response.json()["now"]  # type: ignore[no-any-return]


def get_task(client: httpx.Client, task_id: str, key: str = KEY) -> dict[str, Any]:
    response = client.get(f"/v1/video/tasks/{task_id}", headers=bearer(key))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == TASK_KEYS
    return body  # type: ignore[no-any-return]


def download(client: httpx.Client, url: str) -> bytes:
    response = client.get(local(url))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "video/mp4"
    assert int(response.headers["content-length"]) == len(response.content)
    return response.content


def png_data_url(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def first_frame(data: bytes) -> Image.Image:
    with av.open(io.BytesIO(data)) as container:
        return next(container.decode(video=0)).to_image()


def expected_task(
    client: httpx.Client,
    *,
    n: int = 1,
    status: str = "queued",
    progress: int = 0,
    scope: str = KEY,
    **overrides: Any,
) -> dict[str, Any]:
    """The §3.9.2 object of the n-th task of ``scope`` created at EPOCH (fox, 8 s, sound)."""
    started = EPOCH + 1 if status in ("processing", "completed") else None
    done = EPOCH + 6 if status == "completed" else None
    url = (
        f"{base_of(client)}/media/vid_{hex24(scope, 'vid_', n)}.mp4"
        if status == "completed"
        else None
    )
    task = {
        "task_id": "vt_" + hex24(scope, "vt_", n),
        "status": status,
        "progress": progress,
        "model": "wan-2.6",
        "prompt": FOX,
        "mode": "text",
        "duration_seconds": 8,
        "aspect_ratio": "16:9",
        "quality": "720p",
        "sound": True,
        "seed": 0,
        "created": EPOCH,
        "started_at": started,
        "completed_at": done,
        "expires_at": EPOCH + DAY,
        "result_url": url,
        "error": None,
        "cost_cents": 40.0,
        "input_image_url": None,
    }
    task.update(overrides)
    return task


FOX_BODY = {"model": "wan-2.6", "prompt": FOX, "duration_seconds": 8, "sound": True}


@pytest.fixture
def asgi(settings_factory: Callable[..., Settings]) -> Iterator[httpx.Client]:
    """One in-process client, for the long tables of cases (the transport is covered elsewhere)."""
    clients = Clients("asgi")
    yield clients(settings_factory())
    clients.close()


# -- create -----------------------------------------------------------------------------------


def test_create_returns_the_queued_task(client: httpx.Client) -> None:
    response = client.post("/v1/video/generations", json=FOX_BODY, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-cost-cents"] == "40.0000"  # 8 s x 5 cents
    body = response.json()
    assert list(body) == TASK_KEYS
    assert body == expected_task(client)
    assert response.content == json.dumps(body, separators=(",", ":")).encode()


def test_task_ids_follow_the_sequence(client: httpx.Client) -> None:
    ids = [created(client, prompt=f"clip {n}")["task_id"] for n in range(1, 4)]
    assert ids == ["vt_" + hex24(KEY, "vt_", n) for n in range(1, 4)]
    other = created(client, OTHER)["task_id"]
    assert other == "vt_" + hex24(OTHER, "vt_", 1)  # per-scope counters


def test_ids_use_the_server_seed(make_client: Clients, settings_factory: Callable) -> None:
    client = make_client(settings_factory(seed=7))
    task = created(client)
    assert task["task_id"] == "vt_" + hex24(KEY, "vt_", 1, server_seed=7)
    assert task["seed"] == 7


@pytest.mark.parametrize(
    ("model", "defaults", "cost"),
    [
        ("wan-2.6", (5, "16:9", "720p"), 25.0),
        ("kling-1", (5, "16:9", "720p"), 35.0),
        ("veo-3", (8, "16:9", "720p"), 320.0),
        ("veo-3.1-fast", (4, "16:9", "720p"), 60.0),
        ("sora-2", (10, "16:9", "720p"), 100.0),
        ("grok-imagine-video", (6, "16:9", "720p"), 30.0),  # 720p although 480p is first
    ],
)
def test_defaults(
    asgi: httpx.Client, model: str, defaults: tuple[int, str, str], cost: float
) -> None:
    response = asgi.post(
        "/v1/video/generations", json={"model": model, "prompt": "p"}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    body = response.json()
    duration, ratio, quality = defaults
    assert body["duration_seconds"] == duration
    assert body["aspect_ratio"] == ratio
    assert body["quality"] == quality
    assert body["mode"] == "text"
    assert body["sound"] is False
    assert body["seed"] == 0
    assert body["cost_cents"] == cost
    assert response.headers["x-cost-cents"] == f"{cost:.4f}"


def test_explicit_values_are_echoed(asgi: httpx.Client) -> None:
    response = create(
        asgi,
        duration_seconds=15,
        aspect_ratio="9:16",
        quality="1080p",
        sound=True,
        seed=42,
        mode="text",
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-cost-cents"] == "75.0000"
    assert response.json() == expected_task(
        asgi,
        duration_seconds=15,
        aspect_ratio="9:16",
        quality="1080p",
        seed=42,
        cost_cents=75.0,
    )


def test_image_mode_with_a_data_url_starts_from_that_image(client: httpx.Client) -> None:
    task = created(
        client,
        mode="image",
        duration_seconds=5,
        input_images=[{"url": png_data_url(RED)}],
    )
    assert task["mode"] == "image"
    assert task["input_image_url"] is None  # data: inputs are not echoed
    advance(client, 6)
    done = get_task(client, task["task_id"])
    assert done["status"] == "completed"
    frame = first_frame(download(client, done["result_url"]))
    box = (170, 100, 300, 155)  # clear of the moving shape and the prompt bar
    assert distance(mean_colour(frame, box), RED) < 25
    text = created(client, duration_seconds=5)
    advance(client, 6)
    text_frame = first_frame(download(client, get_task(client, text["task_id"])["result_url"]))
    assert distance(mean_colour(text_frame, box), RED) > 25


def test_image_mode_with_b64_json(asgi: httpx.Client) -> None:
    raw = png_data_url(RED).split(",", 1)[1]
    task = created(asgi, mode="image", input_images=[{"b64_json": raw}])
    assert task["input_image_url"] is None
    assert task["mode"] == "image"


@pytest.mark.parametrize("mode", ["image", "reference"])
def test_the_first_input_url_is_echoed(asgi: httpx.Client, mode: str) -> None:
    images = [{"url": "https://example.com/cat.png"}, {"url": "https://example.com/dog.png"}]
    task = created(asgi, mode=mode, input_images=images)
    assert task["mode"] == mode
    assert task["input_image_url"] == "https://example.com/cat.png"


def test_input_images_are_ignored_in_text_mode(asgi: httpx.Client) -> None:
    task = created(asgi, input_images=[{"url": "https://example.com/cat.png"}])
    assert task["mode"] == "text"
    assert task["input_image_url"] is None


def test_a_media_url_of_this_server_is_an_input(client: httpx.Client) -> None:
    image = client.post(
        "/v1/images/generations",
        json={"model": "flux-2-klein-9b", "prompt": "a red square"},
        headers=AUTH,
    )
    assert image.status_code == 200, image.text
    url = image.json()["data"][0]["url"]
    task = created(client, mode="image", input_images=[{"url": url}])
    assert task["input_image_url"] == url
    missing = create(
        client, mode="image", input_images=[{"url": f"{base_of(client)}/media/img_{'0' * 24}.png"}]
    )
    assert_error(missing, 404, "media_not_found", "media_id")


# -- polling: every status and progress step ---------------------------------------------------


def test_every_step_while_advancing_one_second_at_a_time(client: httpx.Client) -> None:
    task_id = created(client, **FOX_BODY)["task_id"]
    seen = [get_task(client, task_id)]
    for _ in range(7):
        advance(client, 1)
        seen.append(get_task(client, task_id))
    assert [t["status"] for t in seen] == ["queued"] + ["processing"] * 5 + ["completed"] * 2
    assert [t["progress"] for t in seen] == [0, 0, 20, 40, 60, 80, 100, 100]
    assert seen[0] == expected_task(client)
    for step, task in enumerate(seen[1:6], start=1):
        assert task == expected_task(client, status="processing", progress=20 * (step - 1))
    assert seen[6] == expected_task(client, status="completed", progress=100)
    assert seen[7] == seen[6]


def test_fractional_advances(client: httpx.Client) -> None:
    task_id = created(client)["task_id"]
    advance(client, 0.5)
    assert get_task(client, task_id)["status"] == "queued"
    advance(client, 3.0)  # t0 + 3.5: 2.5 s of 5 processed
    task = get_task(client, task_id)
    assert (task["status"], task["progress"], task["started_at"]) == ("processing", 50, EPOCH + 1)
    advance(client, 2.25)  # t0 + 5.75
    assert get_task(client, task_id)["progress"] == 95
    advance(client, 0.25)  # t0 + 6
    assert get_task(client, task_id)["status"] == "completed"


def test_clock_set_moves_the_task(client: httpx.Client) -> None:
    task_id = created(client)["task_id"]
    response = client.post("/_mockair/clock", json={"set": EPOCH + 4})
    assert response.status_code == 200, response.text
    task = get_task(client, task_id)
    assert (task["status"], task["progress"]) == ("processing", 60)


def test_task_seconds_ten(make_client: Clients, settings_factory: Callable) -> None:
    client = make_client(settings_factory(task_seconds=10))
    task_id = created(client)["task_id"]
    seen = [get_task(client, task_id)]
    for _ in range(11):
        advance(client, 1)
        seen.append(get_task(client, task_id))
    assert [t["status"] for t in seen] == ["queued"] + ["processing"] * 10 + ["completed"]
    assert [t["progress"] for t in seen] == [0, *range(0, 100, 10), 100]
    assert seen[-1]["started_at"] == EPOCH + 1
    assert seen[-1]["completed_at"] == EPOCH + 11


def test_task_seconds_zero_completes_at_once(
    make_client: Clients, settings_factory: Callable
) -> None:
    client = make_client(settings_factory(task_seconds=0))
    response = create(client, duration_seconds=5)
    assert response.status_code == 200, response.text
    body = response.json()
    # §3.9.3: "The create response always reports queued."
    assert (body["status"], body["progress"], body["result_url"]) == ("queued", 0, None)
    assert (body["started_at"], body["completed_at"]) == (None, None)
    task = get_task(client, body["task_id"])
    assert task["status"] == "completed"
    assert task["progress"] == 100
    assert task["started_at"] == EPOCH
    assert task["completed_at"] == EPOCH
    assert mp4_facts(download(client, task["result_url"])).seconds == pytest.approx(5)


def test_integer_times_are_floors(make_client: Clients, settings_factory: Callable) -> None:
    client = make_client(settings_factory(epoch=EPOCH + 0.7))
    task_id = created(client)["task_id"]
    first = get_task(client, task_id)
    assert (first["created"], first["expires_at"]) == (EPOCH, EPOCH + DAY)
    advance(client, 6)  # exactly t0 + Q + S
    done = get_task(client, task_id)
    assert done["status"] == "completed"
    assert done["started_at"] == EPOCH + 1  # floor(t0 + 1) = floor(EPOCH + 1.7)
    assert done["completed_at"] == EPOCH + 6


@pytest.mark.mockair(epoch=EPOCH, clock_speed=0)
def test_the_plugin_fixture_advance(mockair: Any) -> None:
    with httpx.Client(base_url=mockair.url, headers=bearer(mockair.api_key)) as http:
        task = http.post("/v1/video/generations", json={"model": "wan-2.6", "prompt": FOX}).json()
        assert task["status"] == "queued"
        mockair.advance(3)
        assert http.get(f"/v1/video/tasks/{task['task_id']}").json()["progress"] == 40
        mockair.advance(3)
        done = http.get(f"/v1/video/tasks/{task['task_id']}").json()
        assert done["status"] == "completed"
        assert done["result_url"].startswith(mockair.url + "/media/vid_")


# -- the result -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "duration", "ratio", "size"),
    [
        ("wan-2.6", 5, "16:9", (320, 180)),
        ("wan-2.6", 5, "9:16", (180, 320)),
        ("kling-1", 5, "1:1", (320, 320)),
        ("grok-imagine-video", 6, "2:3", (214, 320)),
    ],
)
def test_the_result_is_an_h264_mp4_of_the_request(
    asgi: httpx.Client, model: str, duration: int, ratio: str, size: tuple[int, int]
) -> None:
    task_id = created(asgi, model=model, duration_seconds=duration, aspect_ratio=ratio)["task_id"]
    advance(asgi, 6)
    url = get_task(asgi, task_id)["result_url"]
    response = asgi.get(local(url))
    assert response.status_code == 200
    assert response.headers["etag"] == f'"{local(url).rsplit("/", 1)[1][:-4]}"'
    data = response.content
    facts = mp4_facts(data)
    assert facts.seconds == pytest.approx(duration, abs=1e-3)
    assert facts.sample_entry == b"avc1"
    assert facts.video_tracks == 1
    assert (facts.width, facts.height) == size
    assert facts.samples == duration * 12
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.average_rate == 12


def test_the_result_is_rendered_lazily_and_cached(client: httpx.Client) -> None:
    task_id = created(client, duration_seconds=5)["task_id"]
    media_id = "vid_" + hex24(KEY, "vid_", 1)
    store = state_of(client).media
    assert store.peek(media_id, EPOCH).data is None  # nothing rendered yet
    advance(client, 6)
    url = get_task(client, task_id)["result_url"]
    assert url == f"{base_of(client)}/media/{media_id}.mp4"
    first = download(client, url)
    assert store.peek(media_id, EPOCH + 6).data == first
    assert download(client, url) == first
    partial = client.get(local(url), headers={"range": "bytes=0-7"})
    assert partial.status_code == 206
    assert partial.content == first[:8]
    assert partial.content[4:8] == b"ftyp"


# -- list ---------------------------------------------------------------------------------------


def test_list_is_newest_first(client: httpx.Client) -> None:
    ids = []
    for n in range(3):
        ids.append(created(client, prompt=f"clip {n}")["task_id"])
        advance(client, 2)
    response = client.get("/v1/video/tasks", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["object", "data"]
    assert body["object"] == "list"
    assert [t["task_id"] for t in body["data"]] == ids[::-1]
    assert [t["status"] for t in body["data"]] == ["processing", "processing", "completed"]
    for task in body["data"]:
        assert list(task) == TASK_KEYS
        assert task == get_task(client, task["task_id"])


def test_list_of_another_key_is_empty(client: httpx.Client) -> None:
    created(client)
    response = client.get("/v1/video/tasks", headers=bearer(OTHER))
    assert response.status_code == 200
    assert response.json() == {"object": "list", "data": []}


# -- delete -------------------------------------------------------------------------------------


def test_delete_a_completed_task(client: httpx.Client) -> None:
    task_id = created(client, duration_seconds=5)["task_id"]
    advance(client, 6)
    url = get_task(client, task_id)["result_url"]
    download(client, url)
    response = client.delete(f"/v1/video/tasks/{task_id}", headers=AUTH)
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["deleted", "task_id"]
    assert response.json() == {"deleted": True, "task_id": task_id}
    assert_error(
        client.get(f"/v1/video/tasks/{task_id}", headers=AUTH), 404, "task_not_found", "task_id"
    )
    assert_error(client.get(local(url)), 404, "media_not_found", "media_id")
    assert_error(
        client.delete(f"/v1/video/tasks/{task_id}", headers=AUTH),
        404,
        "task_not_found",
        "task_id",
    )
    assert_error(
        client.get(f"/v1/video/tasks/{task_id}/stream", headers=AUTH),
        404,
        "task_not_found",
        "task_id",
    )
    listing = client.get("/v1/video/tasks", headers=AUTH).json()
    assert listing["data"] == []


def test_delete_before_download_removes_the_media_too(client: httpx.Client) -> None:
    task_id = created(client)["task_id"]
    advance(client, 3)
    media = f"/media/vid_{hex24(KEY, 'vid_', 1)}.mp4"
    assert client.delete(f"/v1/video/tasks/{task_id}", headers=AUTH).status_code == 200
    assert_error(client.get(media), 404, "media_not_found", "media_id")
    advance(client, 10)
    assert_error(client.get(media), 404, "media_not_found", "media_id")


def register(client: httpx.Client, key: str) -> None:
    response = client.post("/_mockair/keys", json={"key": key})
    assert response.status_code == 200, response.text


def credits_used(client: httpx.Client, key: str) -> float:
    response = client.get(f"/_mockair/keys/{key}")
    assert response.status_code == 200, response.text
    return response.json()["usage"]["credits_used"]  # type: ignore[no-any-return]


def test_billed_at_creation_refunded_on_early_delete(client: httpx.Client) -> None:
    register(client, KEY)
    first = created(client)["task_id"]  # 5 s x 5 = 25 cents
    assert credits_used(client, KEY) == 25.0
    advance(client, 3)  # processing
    client.delete(f"/v1/video/tasks/{first}", headers=AUTH)
    assert credits_used(client, KEY) == 0.0
    second = created(client, duration_seconds=10)["task_id"]  # 50 cents
    assert credits_used(client, KEY) == 50.0
    advance(client, 6)  # completed: no refund on delete
    client.delete(f"/v1/video/tasks/{second}", headers=AUTH)
    assert credits_used(client, KEY) == 50.0
    # reads are never billed
    created_id = created(client, duration_seconds=5)["task_id"]
    client.get(f"/v1/video/tasks/{created_id}", headers=AUTH)
    client.get("/v1/video/tasks", headers=AUTH)
    assert credits_used(client, KEY) == 75.0


# -- concurrency ------------------------------------------------------------------------------


def fill(client: httpx.Client, key: str = KEY, count: int = 4) -> list[str]:
    return [created(client, key, prompt=f"task {n}")["task_id"] for n in range(count)]


def test_a_fifth_running_task_is_refused(client: httpx.Client) -> None:
    fill(client)
    response = create(client, prompt="one too many")
    error = assert_error(response, 429, "concurrent_task_limit")
    assert error["type"] == "rate_limit"
    assert response.json()["retry_after"] == 6.0  # the earliest completes at t0 + 6
    assert response.headers["retry-after"] == "6"
    assert "x-cost-cents" not in response.headers
    assert len(client.get("/v1/video/tasks", headers=AUTH).json()["data"]) == 4


def test_the_429_carries_ratelimit_headers(client: httpx.Client) -> None:
    fill(client)
    response = create(client)
    assert response.status_code == 429
    # §2.4: a 429 for a caller without rpm_limit: 0, 0 and retry_after with an s suffix
    assert response.headers["x-ratelimit-limit-requests"] == "0"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    reset = response.headers["x-ratelimit-reset-requests"]
    assert re.fullmatch(r"\d+(\.\d{1,3})?s", reset), reset
    assert float(reset[:-1]) == response.json()["retry_after"]


def test_retry_after_counts_to_the_earliest_completion(client: httpx.Client) -> None:
    created(client, prompt="early")  # completes at t0 + 6
    advance(client, 2)
    fill(client, count=3)  # complete at t0 + 8
    advance(client, 1.5)  # t0 + 3.5
    response = create(client)
    assert_error(response, 429, "concurrent_task_limit")
    assert response.json()["retry_after"] == 2.5
    assert response.headers["retry-after"] == "3"  # ceil


def test_retry_after_below_one_second(client: httpx.Client) -> None:
    fill(client)
    advance(client, 5.5)  # all still processing; the earliest completes in 0.5 s
    response = create(client)
    assert_error(response, 429, "concurrent_task_limit")
    assert response.json()["retry_after"] == 0.5
    assert response.headers["retry-after"] == "1"  # ceil, at least 1


def test_completed_tasks_free_their_slots(client: httpx.Client) -> None:
    fill(client)
    advance(client, 5)
    assert create(client).status_code == 429
    advance(client, 1)  # all four completed
    accepted = fill(client)
    assert len(accepted) == 4
    assert create(client).status_code == 429


def test_delete_of_a_running_task_frees_a_slot(client: httpx.Client) -> None:
    ids = fill(client)
    advance(client, 2)
    assert create(client).status_code == 429
    assert client.delete(f"/v1/video/tasks/{ids[1]}", headers=AUTH).status_code == 200
    assert create(client).status_code == 200
    assert create(client).status_code == 429


def test_the_limit_is_per_key(client: httpx.Client) -> None:
    fill(client)
    assert create(client, OTHER).status_code == 200


def test_validation_comes_before_the_limit(client: httpx.Client) -> None:
    fill(client)
    assert_error(create(client, duration_seconds=7), 400, "invalid_value", "duration_seconds")
    assert_error(
        create(client, model="gpt-99"), 404, "model_not_found", "model", type="invalid_request"
    )


def test_other_task_kinds_do_not_count(client: httpx.Client) -> None:
    for n in range(4):
        response = client.post("/suno", json={"prompt": f"song {n}"}, headers=AUTH)
        assert response.status_code == 200, response.text
    fill(client)  # 8 suno clips running do not block video


# -- expiry ---------------------------------------------------------------------------------------


def test_expires_after_24_hours(client: httpx.Client) -> None:
    task_id = created(client, duration_seconds=5)["task_id"]
    advance(client, 6)
    url = get_task(client, task_id)["result_url"]
    download(client, url)
    advance(client, DAY - 6 - 1)  # t0 + 86399
    assert get_task(client, task_id)["status"] == "completed"
    advance(client, 1)  # t0 + 86400
    task = get_task(client, task_id)
    assert task["status"] == "expired"
    assert task["result_url"] is None
    assert task["expires_at"] == EPOCH + DAY
    assert task["error"] is None
    assert_error(client.get(local(url)), 404, "media_not_found", "media_id")
    listed = client.get("/v1/video/tasks", headers=AUTH).json()["data"]
    assert [t["status"] for t in listed] == ["expired"]
    stream = client.get(f"/v1/video/tasks/{task_id}/stream", headers=AUTH)
    events = parse_sse(stream.text)
    assert [e.get("event") for e in events] == ["state", "done"]
    assert json.loads(events[0]["data"]) == task


def test_a_task_that_expires_unfinished_frees_its_slot(
    make_client: Clients, settings_factory: Callable
) -> None:
    client = make_client(settings_factory(task_seconds=DAY * 2))
    fill(client)
    assert create(client).status_code == 429
    advance(client, DAY)
    assert [t["status"] for t in client.get("/v1/video/tasks", headers=AUTH).json()["data"]] == [
        "expired"
    ] * 4
    assert create(client).status_code == 200


# -- isolation and unknown ids ------------------------------------------------------------------


def test_another_key_cannot_see_the_task(client: httpx.Client) -> None:
    task_id = created(client)["task_id"]
    for response in (
        client.get(f"/v1/video/tasks/{task_id}", headers=bearer(OTHER)),
        client.delete(f"/v1/video/tasks/{task_id}", headers=bearer(OTHER)),
        client.get(f"/v1/video/tasks/{task_id}/stream", headers=bearer(OTHER)),
    ):
        assert_error(response, 404, "task_not_found", "task_id")
    assert get_task(client, task_id)["status"] == "queued"  # untouched by the other key


@pytest.mark.parametrize("task_id", ["vt_" + "0" * 24, "nope", "dub_" + "1" * 24])
def test_unknown_task(asgi: httpx.Client, task_id: str) -> None:
    for response in (
        asgi.get(f"/v1/video/tasks/{task_id}", headers=AUTH),
        asgi.delete(f"/v1/video/tasks/{task_id}", headers=AUTH),
        asgi.get(f"/v1/video/tasks/{task_id}/stream", headers=AUTH),
    ):
        assert_error(response, 404, "task_not_found", "task_id")


def test_a_dubbing_id_is_not_a_video_task(client: httpx.Client) -> None:
    response = client.post(
        "/v1/audio/dubbing",
        files={
            "model": (None, "elevenlabs-dubbing"),
            "target_lang": (None, "de"),
            "source_url": (None, "https://example.com/talk.mp3"),
        },
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    dubbing_id = response.json()["dubbing_id"]
    assert_error(
        client.get(f"/v1/video/tasks/{dubbing_id}", headers=AUTH), 404, "task_not_found", "task_id"
    )


def test_auth_is_required(client: httpx.Client) -> None:
    task_id = created(client)["task_id"]
    assert_error(client.post("/v1/video/generations", json=FOX_BODY), 401, "missing_api_key")
    assert_error(client.get(f"/v1/video/tasks/{task_id}"), 401, "missing_api_key")
    assert_error(client.get("/v1/video/tasks"), 401, "missing_api_key")


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        ({"duration_seconds": 7}, 400, "invalid_value", "duration_seconds"),
        ({"model": "kling-1", "duration_seconds": 8}, 400, "invalid_value", "duration_seconds"),
        ({"aspect_ratio": "21:9"}, 400, "invalid_value", "aspect_ratio"),
        ({"model": "veo-3", "aspect_ratio": "1:1"}, 400, "invalid_value", "aspect_ratio"),
        ({"quality": "4k"}, 400, "invalid_value", "quality"),
        ({"model": "kling-1", "quality": "480p"}, 400, "invalid_value", "quality"),
        (
            {"model": "kling-1", "mode": "reference", "input_images": [{"url": "https://x/y.png"}]},
            400,
            "invalid_value",
            "mode",
        ),
        ({"mode": "video"}, 400, "invalid_value", "mode"),
        ({"mode": "image"}, 400, "missing_field", "input_images"),
        ({"mode": "reference"}, 400, "missing_field", "input_images"),
        ({"mode": "image", "input_images": None}, 400, "missing_field", "input_images"),
        (
            {"mode": "image", "input_images": [{"url": f"https://x/{n}.png"} for n in range(5)]},
            400,
            "invalid_value",
            "input_images",
        ),
        (
            {"mode": "image", "input_images": [{"b64_json": "%%% not base64 %%%"}]},
            400,
            "invalid_value",
            "input_images.0",
        ),
        ({"model": "kling-1", "sound": True}, 400, "invalid_value", "sound"),
        ({"model": "grok-imagine-video", "sound": True}, 400, "invalid_value", "sound"),
        ({"model": "gpt-99"}, 404, "model_not_found", "model"),
        ({"model": "gpt-4o-mini"}, 400, "model_not_supported", "model"),
        ({"model": "flux-2-dev"}, 400, "model_not_supported", "model"),
        ({"model": "suno-v5"}, 400, "model_not_supported", "model"),
        ({"prompt": ""}, 400, "invalid_value", "prompt"),
        ({"prompt": "x" * 32001}, 400, "invalid_value", "prompt"),
        ({"prompt": None}, 400, "missing_field", "prompt"),
        ({"duration_seconds": "8"}, 400, "invalid_type", "duration_seconds"),
        ({"sound": "yes"}, 400, "invalid_type", "sound"),
        ({"seed": 1.5}, 400, "invalid_type", "seed"),
        ({"resolution": "1080p"}, 400, "unknown_field", "resolution"),
    ],
)
def test_bad_input(
    asgi: httpx.Client, body: dict[str, Any], status: int, code: str, param: str
) -> None:
    request = {"model": "wan-2.6", "prompt": FOX, **body}
    response = asgi.post("/v1/video/generations", json=request, headers=AUTH)
    kind = "invalid_request" if code == "model_not_found" else None
    assert_error(response, status, code, param, type=kind)
    assert asgi.get("/v1/video/tasks", headers=AUTH).json()["data"] == []


def test_missing_model(asgi: httpx.Client) -> None:
    response = asgi.post("/v1/video/generations", json={"prompt": FOX}, headers=AUTH)
    assert_error(response, 400, "missing_field", "model")


def test_the_last_prompt_length_is_accepted(asgi: httpx.Client) -> None:
    assert create(asgi, prompt="x" * 32000).status_code == 200


def test_sound_false_is_fine_on_a_silent_model(asgi: httpx.Client) -> None:
    task = created(asgi, model="kling-1", sound=False)
    assert task["sound"] is False


def test_a_multipart_body_is_refused(asgi: httpx.Client) -> None:
    response = asgi.post(
        "/v1/video/generations",
        files={"model": (None, "wan-2.6"), "prompt": (None, FOX)},
        headers=AUTH,
    )
    assert_error(response, 400, "invalid_content_type")


def test_invalid_json(asgi: httpx.Client) -> None:
    response = asgi.post(
        "/v1/video/generations",
        content=b"{not json",
        headers={**AUTH, "content-type": "application/json"},
    )
    assert_error(response, 400, "invalid_json")


# -- determinism ----------------------------------------------------------------------------------


def run_script(client: httpx.Client) -> tuple[list[str], list[bytes]]:
    ids = [
        created(client, duration_seconds=5)["task_id"],
        created(client, model="kling-1", aspect_ratio="9:16", seed=3)["task_id"],
        created(client, mode="image", input_images=[{"url": png_data_url(RED)}])["task_id"],
    ]
    advance(client, 6)
    urls = [get_task(client, task_id)["result_url"] for task_id in ids]
    return ids + [local(u) for u in urls], [download(client, u) for u in urls]


def test_same_requests_give_the_same_ids_and_bytes(
    make_client: Clients, settings_factory: Callable
) -> None:
    first = run_script(make_client(settings_factory()))
    second = run_script(make_client(settings_factory()))
    assert first == second
    assert len(set(first[1])) == 3  # three different videos


def test_another_seed_gives_other_bytes(make_client: Clients, settings_factory: Callable) -> None:
    client = make_client(settings_factory())
    a = created(client, duration_seconds=5, seed=1)["task_id"]
    b = created(client, duration_seconds=5, seed=2)["task_id"]
    advance(client, 6)
    first = download(client, get_task(client, a)["result_url"])
    second = download(client, get_task(client, b)["result_url"])
    assert first != second


# -- SSE stream: tasks already terminal (both transports) ------------------------------------------


def test_stream_of_a_completed_task_is_state_then_done(client: httpx.Client) -> None:
    task_id = created(client, **FOX_BODY)["task_id"]
    advance(client, 6)
    task = get_task(client, task_id)
    response = client.get(f"/v1/video/tasks/{task_id}/stream", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    compact = json.dumps(task, separators=(",", ":"))
    assert response.text == f"event: state\ndata: {compact}\n\nevent: done\ndata: [DONE]\n\n"
    assert task == expected_task(client, status="completed", progress=100)


def test_stream_with_task_seconds_zero(make_client: Clients, settings_factory: Callable) -> None:
    client = make_client(settings_factory(task_seconds=0))
    task_id = created(client)["task_id"]
    events = parse_sse(client.get(f"/v1/video/tasks/{task_id}/stream", headers=AUTH).text)
    assert [e.get("event") for e in events] == ["state", "done"]
    assert json.loads(events[0]["data"])["status"] == "completed"
    assert events[1]["data"] == "[DONE]"


# -- SSE stream against a live server, the clock moved by another client --------------------------


class StreamReader:
    """Reads an SSE stream in a thread; each complete event lands in a queue, None at the end."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url, self.headers = url, headers
        self.events: queue.Queue[dict[str, str] | None] = queue.Queue()
        self.status: int | None = None
        self.response_headers: httpx.Headers | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(10.0)) as http,
                http.stream("GET", self.url, headers=self.headers) as response,
            ):
                self.status = response.status_code
                self.response_headers = response.headers
                self.ready.set()
                buffer = ""
                for text in response.iter_text():
                    buffer += text
                    while "\n\n" in buffer:
                        block, buffer = buffer.split("\n\n", 1)
                        self.events.put(parse_sse(block + "\n\n")[0])
        finally:
            self.ready.set()
            self.events.put(None)

    def next(self, timeout: float = 3.0) -> dict[str, str] | None:
        return self.events.get(timeout=timeout)

    def next_event(self, timeout: float = 3.0) -> dict[str, str]:
        """The next event that is not a keepalive comment."""
        while True:
            event = self.next(timeout)
            assert event is not None, "stream ended"
            if "event" in event or "data" in event:
                return event

    def close(self, timeout: float = 5.0) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "stream did not end"


@pytest.fixture
def live(settings_factory: Callable[..., Settings]) -> Iterator[tuple[MockAir, httpx.Client]]:
    server = MockAir(settings_factory()).start()
    http = httpx.Client(base_url=server.url, timeout=10)
    try:
        yield server, http
    finally:
        http.close()
        server.stop()


def state_of_event(event: dict[str, str]) -> dict[str, Any]:
    assert event.get("event") == "state", event
    return json.loads(event["data"])  # type: ignore[no-any-return]


def test_stream_follows_every_clock_advance(live: tuple[MockAir, httpx.Client]) -> None:
    server, http = live
    task_id = created(http, **FOX_BODY)["task_id"]
    started = time.monotonic()
    reader = StreamReader(f"{server.url}/v1/video/tasks/{task_id}/stream", AUTH)
    assert reader.ready.wait(3)
    assert reader.status == 200
    assert reader.response_headers is not None
    assert reader.response_headers["content-type"] == "text/event-stream; charset=utf-8"
    first = state_of_event(reader.next_event())  # at once, with a frozen clock
    assert time.monotonic() - started < 1.5
    assert first == get_task(http, task_id)
    assert (first["status"], first["progress"]) == ("queued", 0)
    # nothing changes while the clock stands still (re-evaluated every <= 250 ms)
    time.sleep(0.4)
    assert reader.events.empty()
    seen = [first]
    for _ in range(6):
        advance(http, 1)
        event = state_of_event(reader.next_event(timeout=1.5))  # re-read every <= 250 ms
        assert event == get_task(http, task_id)
        seen.append(event)
    assert [e["status"] for e in seen] == ["queued"] + ["processing"] * 5 + ["completed"]
    assert [e["progress"] for e in seen] == [0, 0, 20, 40, 60, 80, 100]
    assert seen[-1] == expected_task(http, status="completed", progress=100)
    done = reader.next_event()
    assert done == {"event": "done", "data": "[DONE]"}
    assert reader.next() is None  # the stream closes
    reader.close()


def test_stream_ends_when_time_jumps_past_completion(live: tuple[MockAir, httpx.Client]) -> None:
    server, http = live
    task_id = created(http)["task_id"]
    advance(http, 2)
    reader = StreamReader(f"{server.url}/v1/video/tasks/{task_id}/stream", AUTH)
    first = state_of_event(reader.next_event())
    assert (first["status"], first["progress"]) == ("processing", 20)
    advance(http, 100)
    last = state_of_event(reader.next_event())
    assert (last["status"], last["progress"]) == ("completed", 100)
    assert reader.next_event() == {"event": "done", "data": "[DONE]"}
    assert reader.next() is None
    reader.close()


def test_stream_ends_at_expiry_too(live: tuple[MockAir, httpx.Client]) -> None:
    server, http = live
    task_id = created(http)["task_id"]
    reader = StreamReader(f"{server.url}/v1/video/tasks/{task_id}/stream", AUTH)
    assert state_of_event(reader.next_event())["status"] == "queued"
    advance(http, DAY)
    last = state_of_event(reader.next_event())
    assert (last["status"], last["result_url"]) == ("expired", None)
    assert reader.next_event() == {"event": "done", "data": "[DONE]"}
    reader.close()


def test_two_streams_of_one_task(live: tuple[MockAir, httpx.Client]) -> None:
    server, http = live
    task_id = created(http)["task_id"]
    readers = [
        StreamReader(f"{server.url}/v1/video/tasks/{task_id}/stream", AUTH) for _ in range(2)
    ]
    for reader in readers:
        assert state_of_event(reader.next_event())["status"] == "queued"
    advance(http, 1)
    for reader in readers:
        assert state_of_event(reader.next_event())["status"] == "processing"
    advance(http, 5)
    for reader in readers:
        assert state_of_event(reader.next_event())["status"] == "completed"
        assert reader.next_event()["event"] == "done"
        reader.close()


def test_stream_paces_itself_by_a_running_clock(settings_factory: Callable[..., Settings]) -> None:
    with MockAir(settings_factory(clock_speed=30)) as server:
        http = httpx.Client(base_url=server.url, timeout=10)
        task_id = created(http)["task_id"]
        reader = StreamReader(f"{server.url}/v1/video/tasks/{task_id}/stream", AUTH)
        states = []
        while True:
            event = reader.next_event(timeout=5)
            if event.get("event") == "done":
                break
            states.append(state_of_event(event))
        reader.close()
        http.close()
    order = {"queued": 0, "processing": 1, "completed": 2}
    assert states[-1]["status"] == "completed"
    assert states[-1]["progress"] == 100
    ranks = [(order[s["status"]], s["progress"]) for s in states]
    assert ranks == sorted(ranks)
    assert len(set(map(tuple, ranks))) == len(ranks)  # an event only when something changed


# -- /v1/images/generations with video and music models (§3.6.4) ----------------------------------


def images(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/v1/images/generations", json=body, headers=AUTH)


def test_images_route_with_a_video_model(client: httpx.Client) -> None:
    response = images(client, model="veo-3", prompt=FOX)
    assert response.status_code == 200, response.text
    assert response.headers["x-cost-cents"] == "320.0000"  # 8 s x 40
    media_id = "vid_" + hex24(KEY, "vid_", 1)
    assert response.json() == {
        "created": EPOCH,
        "data": [{"url": f"{base_of(client)}/media/{media_id}.mp4"}],
    }
    facts = mp4_facts(download(client, response.json()["data"][0]["url"]))
    assert facts.seconds == pytest.approx(8, abs=1e-3)
    assert (facts.width, facts.height) == (320, 180)
    assert facts.sample_entry == b"avc1"
    assert client.get("/v1/video/tasks", headers=AUTH).json()["data"] == []  # no task


@pytest.mark.parametrize(
    ("body", "seconds", "size", "cost"),
    [
        ({"model": "veo-3", "aspect_ratio": "9:16"}, 8, (180, 320), "320.0000"),
        ({"model": "veo-3", "aspectRatio": "9:16"}, 8, (180, 320), "320.0000"),
        ({"model": "veo-3.1-fast", "duration": 4}, 4, (320, 180), "60.0000"),
        ({"model": "veo-3.1-fast", "duration_seconds": 6}, 6, (320, 180), "90.0000"),
    ],
)
def test_images_route_video_options(
    asgi: httpx.Client, body: dict[str, Any], seconds: int, size: tuple[int, int], cost: str
) -> None:
    response = images(asgi, prompt="a ship", **body)
    assert response.status_code == 200, response.text
    assert response.headers["x-cost-cents"] == cost
    facts = mp4_facts(download(asgi, response.json()["data"][0]["url"]))
    assert facts.seconds == pytest.approx(seconds, abs=1e-3)
    assert (facts.width, facts.height) == size


def test_images_route_with_a_music_model(client: httpx.Client) -> None:
    response = images(client, model="suno-v5", prompt="calm piano", style="jazz")
    assert response.status_code == 200, response.text
    assert response.headers["x-cost-cents"] == "2.0000"  # 10 s x 0.2
    media_id = "aud_" + hex24(KEY, "aud_", 1)
    assert response.json() == {
        "created": EPOCH,
        "data": [{"url": f"{base_of(client)}/media/{media_id}.mp3"}],
    }
    audio = client.get(f"/media/{media_id}.mp3")
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/mpeg"
    length = mutagen.mp3.MP3(io.BytesIO(audio.content)).info.length
    assert length == pytest.approx(10.0, abs=0.1)


@pytest.mark.parametrize("model", ["veo-3", "suno-v5"])
@pytest.mark.parametrize(
    ("extra", "param"), [({"n": 2}, "n"), ({"response_format": "b64_json"}, "response_format")]
)
def test_images_route_compatibility_limits(
    asgi: httpx.Client, model: str, extra: dict[str, Any], param: str
) -> None:
    assert_error(images(asgi, model=model, prompt="x", **extra), 400, "invalid_value", param)


def test_images_route_with_a_video_model_is_deterministic(
    make_client: Clients, settings_factory: Callable
) -> None:
    results = []
    for _ in range(2):
        client = make_client(settings_factory())
        url = images(client, model="veo-3.1-fast", prompt="same", duration=4).json()["data"][0][
            "url"
        ]
        results.append((local(url), download(client, url)))
    assert results[0] == results[1]
