"""Robustness: schemathesis against mockair's own /openapi.json, every route (CONTRACT §1.1,
§2.2-§2.6, §3.13).

Every operation of the document is fuzzed against a live server (real socket, frozen clock,
``task_seconds=0``) with positive and negative data and a bounded number of examples: with the
key ``sk-air-fuzz``, anonymously, and with a malformed key. Every response must be:

* not a 5xx;
* when it is a 4xx, exactly the §2.5 envelope ``{"error": {message, type, code, param}}`` (plus
  ``retry_after`` on a 429), served as ``application/json``, its code one of the §2.5 table with
  that code's status, and the type of that status;
* when it is a success, a well-formed body of a documented content type (JSON parses, SSE
  frames parse, PNG / MP3 / WAV / MP4 decode);
* carrying ``X-Request-ID``.

Positive cases draw, half of the time, real values for what the document can only type as a
string: a catalogue model of the route's kind, a premade voice, and ids of objects created
beforehand (media, responses, video tasks, suno clips, secondary keys), so that the fuzzing
reaches past pipeline step 8 (§2.2) into the handlers.

The control plane (``/_mockair/*``) is fuzzed on a server of its own: the stubs, faults, keys,
clock changes and resets it creates would otherwise change what the API operations answer (a
fault rule injects a 5xx on purpose). Control-plane calls never meet stubs or faults (§4.1), so
the control operations can share their server.

Schemathesis checks in use: ``not_a_server_error``, ``status_code_conformance``,
``content_type_conformance``, ``response_headers_conformance``, ``response_schema_conformance``.

Schemathesis checks disabled, and why:

* ``positive_data_acceptance``: schema-valid requests are rejected by design at pipeline step 8
  (§2.2): an arbitrary ``model`` string is 404 ``model_not_found``, values are checked against
  the model's caps, ids in paths are unknown (404). The envelope checks cover those answers.
* ``negative_data_rejection``: schema-invalid requests are accepted by design in places: unknown
  query parameters are ignored (§2.1), nested unknown keys are ignored (§2.6), "ignored" fields
  accept any JSON value (§2.6). Every rejection is still checked to be an exact envelope.
* ``ignored_auth``: it re-sends requests without credentials and expects a 401 wherever a
  security requirement is declared, but public and legacy routes are optional-auth
  (``[{}, bearer]``, §2.3); the anonymous and malformed-key tests assert the exact §2.3 401s.
* ``use_after_free``, ``ensure_resource_availability``: stateful-phase checks; they need links
  between operations, which the document does not declare.
* ``missing_required_header``, ``unsupported_method``: coverage-phase checks; these tests run
  the fuzzing phase (wrong methods and headers are covered by tests/test_routes.py and
  tests/test_hostile.py).
* ``max_response_time``: the contract sets no latency bound.

Generation-only change: the Anthropic ``block`` schema uses ``if``/``then`` under a recursive
``$ref``, which schemathesis' canonicaliser cannot model (``UnsupportedSchema`` for
``/v1/messages`` and ``/v1/messages/count_tokens``), so those conditionals are dropped from the
copy of the document that *generates* requests; the server still validates with its full schema.

Bounds: examples per operation below (``EXAMPLES``), derandomized (the same cases on every run),
no shrinking (a failure reports the case as found). The whole file takes well under 4 minutes.
"""

from __future__ import annotations

import copy
import io
import json
import re
import struct
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mockair import MockAir, create_app
from mockair.catalog import load_catalog
from mockair.settings import Settings
from mockair.surfaces.openapi import app_openapi
from tests.helpers import STATUS_TYPES

EPOCH = 1767225600
FUZZ_KEY = "sk-air-fuzz"
BAD_KEY = "not-a-mockair-key"

EXAMPLES = {"positive": 20, "negative": 15, "anonymous": 6, "bad_key": 4}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# CONTRACT §2.5 code table: code -> status. ``request_not_found`` is the control plane's answer
# for GET /_mockair/requests/{id} (§4.8 names no code; it follows stub_not_found/fault_not_found).
CODES = {
    "invalid_json": 400,
    "invalid_content_type": 400,
    "missing_field": 400,
    "unknown_field": 400,
    "invalid_type": 400,
    "invalid_value": 400,
    "model_not_supported": 400,
    "context_length_exceeded": 400,
    "consent_stale": 400,
    "missing_api_key": 401,
    "invalid_api_key": 401,
    "model_not_allowed": 403,
    "free_tier_gated": 403,
    "primary_key_required": 403,
    "key_limit_reached": 403,
    "route_not_found": 404,
    "model_not_found": 404,
    "response_not_found": 404,
    "task_not_found": 404,
    "dubbing_not_found": 404,
    "dubbing_not_ready": 404,
    "language_not_found": 404,
    "voice_not_found": 404,
    "media_not_found": 404,
    "clip_not_found": 404,
    "key_not_found": 404,
    "stub_not_found": 404,
    "fault_not_found": 404,
    "request_not_found": 404,
    "method_not_allowed": 405,
    "payload_too_large": 413,
    "rate_limit_exceeded": 429,
    "daily_token_cap_exceeded": 429,
    "insufficient_balance": 429,
    "concurrent_task_limit": 429,
}
NULL_PARAM_CODES = {
    "invalid_json",
    "invalid_content_type",
    "missing_api_key",
    "invalid_api_key",
    "primary_key_required",
    "key_limit_reached",
    "route_not_found",
    "method_not_allowed",
    "rate_limit_exceeded",
    "daily_token_cap_exceeded",
    "insufficient_balance",
    "concurrent_task_limit",
}

# The model kind each route serves (body ``model`` or query ``model``).
ROUTE_KINDS = {
    "/v1/chat/completions": "chat",
    "/chat/completions": "chat",
    "/v1/messages": "chat",
    "/v1/messages/count_tokens": "chat",
    "/v1/responses": "chat",
    "/v1/embeddings": "embedding",
    "/v1/images/generations": "image",
    "/v1/audio/speech": "tts",
    "/v1/audio/music": "music",
    "/v1/audio/sound-effects": "sfx",
    "/v1/audio/transcriptions": "transcription",
    "/v1/audio/audio-isolation": "audio_isolation",
    "/v1/audio/voice-changer": "voice_changer",
    "/v1/audio/dubbing": "dubbing",
    "/v1/video/generations": "video",
    "/suno": "suno",
    "/v1/suno": "suno",
    "/imagine": "image",
    "/v1/imagine": "image",
    "/imagine2": "image",
    "/v1/imagine2": "image",
    "/images/vision": "chat",
    "/v1/images/vision": "chat",
}
VOICES = ["alloy", "nova", "21m00Tcm4TlvDq8ikWAM", "alex", "sophia"]


def _document() -> dict[str, Any]:
    """The /openapi.json of an in-process app: only to list the operations at collection."""
    return app_openapi(create_app(Settings(port=0, log_level="warning")))


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in _document()["paths"].items()
        for method, operation in item.items()
    ]


OPERATIONS = _operations()


def _negatable(operation: dict[str, Any]) -> bool:
    """Negative data exists only where there is a body or a query to break: path parameters
    are free strings, and security parameters are not generated (auth is set by the test)."""
    return "requestBody" in operation or any(
        p["in"] == "query" for p in operation.get("parameters", [])
    )


def _key_required(operation: dict[str, Any]) -> bool:
    security = operation["security"]
    return bool(security) and {} not in security


def _label(method: str, path: str) -> str:
    return f"{method} {path}"


API = [(m, p, op) for m, p, op in OPERATIONS if not p.startswith("/_mockair")]
CONTROL = [(m, p, op) for m, p, op in OPERATIONS if p.startswith("/_mockair")]

API_CASES = [
    pytest.param(m, p, mode, id=f"{_label(m, p)}-{mode}")
    for m, p, op in API
    for mode in ("positive", "negative")
    if mode == "positive" or _negatable(op)
]
CONTROL_CASES = [
    pytest.param(m, p, mode, id=f"{_label(m, p)}-{mode}")
    for m, p, op in CONTROL
    for mode in ("positive", "negative")
    if mode == "positive" or _negatable(op)
]
KEYED = {(m, p) for m, p, op in API if _key_required(op)}


# -- the generation document --------------------------------------------------------------


def _without_conditionals(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _without_conditionals(v) for k, v in node.items() if k not in ("if", "then")}
        if "allOf" in out:
            out["allOf"] = [part for part in out["allOf"] if part != {}]
            if not out["allOf"]:
                del out["allOf"]
        return out
    if isinstance(node, list):
        return [_without_conditionals(item) for item in node]
    return node


def generation_document(raw: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(raw)
    schemas = document["components"]["schemas"]
    schemas["_defs.anthropic"] = _without_conditionals(schemas["_defs.anthropic"])
    return document


def fuzz_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {"generation": {"with-security-parameters": False, "deterministic": True}}
    )


def load_schema(server: MockAir) -> Any:
    """The live server's document (schemathesis' loader), ready to generate from."""
    config = fuzz_config()
    live = schemathesis.openapi.from_url(server.url + "/openapi.json", config=fuzz_config())
    assert live.raw_schema["info"]["title"] == "mockair"
    schema = schemathesis.openapi.from_dict(generation_document(live.raw_schema), config=config)
    schema.config.update(base_url=server.url)
    return schema


# -- fixtures -------------------------------------------------------------------------------


class Fuzzed:
    def __init__(self, server: MockAir, seeds: dict[str, list[str]]) -> None:
        self.server = server
        self.schema = load_schema(server)
        self.seeds = seeds
        self.session = requests.Session()


def _create_seeds(server: MockAir) -> dict[str, list[str]]:
    """Objects of the fuzz key's account, so that path ids sometimes exist."""
    auth = {"Authorization": f"Bearer {FUZZ_KEY}"}
    with requests.Session() as http:

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = http.post(server.url + path, json=body, headers=auth, timeout=60)
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]

        def media_name(url: str) -> str:
            return url.rsplit("/", 1)[-1]

        image = post("/v1/images/generations", {"model": "flux", "prompt": "seed", "size": "64x64"})
        task = post(
            "/v1/video/generations",
            {"model": "wan-2.6", "prompt": "seed", "duration_seconds": 5},
        )
        response = post("/v1/responses", {"model": "gpt-4o-mini", "input": "seed"})
        secondary = post("/v1/keys", {"label": "fuzz"})
        clips = post("/suno", {"prompt": "seed"})["clips"]
        clip = http.get(f"{server.url}/suno/{clips[0]}", headers=auth, timeout=60).json()
        polled = http.get(
            f"{server.url}/v1/video/tasks/{task['task_id']}", headers=auth, timeout=60
        ).json()
    media = [media_name(image["data"][0]["url"]), media_name(clip["audio_url"])]
    media += [media_name(clip["video_url"]), media_name(polled["result_url"])]
    return {
        "name": media,
        "task_id": [task["task_id"]],
        "response_id": [response["id"]],
        "key": [secondary["key"]],
        "uuid": clips,
        "model": ["gpt-4o-mini", "flux", "wan-2.6", "text-embedding-3-small"],
        "lang": ["es", "en"],
    }


@pytest.fixture(scope="module")
def api() -> Iterator[Fuzzed]:
    with MockAir(port=0, epoch=EPOCH, clock_speed=0, task_seconds=0, log_level="warning") as server:
        fuzzed = Fuzzed(server, _create_seeds(server))
        yield fuzzed
        fuzzed.session.close()
        assert_healthy(server)


@pytest.fixture(scope="module")
def control() -> Iterator[Fuzzed]:
    with MockAir(port=0, epoch=EPOCH, clock_speed=0, task_seconds=0, log_level="warning") as server:
        fuzzed = Fuzzed(server, {})
        yield fuzzed
        fuzzed.session.close()
        assert_healthy(server)


@pytest.fixture(scope="module")
def kinds() -> dict[str, list[str]]:
    settings_ = Settings()
    catalog = load_catalog(settings_.fixtures_dir, settings_.schemas_dir)
    out: dict[str, list[str]] = {}
    for model in catalog.models:
        out.setdefault(model.kind, []).append(model.id)
    return out


def assert_healthy(server: MockAir) -> None:
    health = requests.get(server.url + "/_mockair/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"


# -- response checks -----------------------------------------------------------------------


def _header(response: Any, name: str) -> str | None:
    values = response.headers.get(name)
    return values[0] if values else None


def check_envelope(response: Any) -> dict[str, Any]:
    """The exact CONTRACT §2.5 envelope of a 4xx; returns the error object."""
    status = response.status_code
    assert _header(response, "content-type") == "application/json", response.headers
    body = json.loads(response.content)
    assert list(body) == (["error", "retry_after"] if status == 429 else ["error"]), body
    error = body["error"]
    assert list(error) == ["message", "type", "code", "param"], error
    assert isinstance(error["message"], str)
    assert error["message"]
    code = error["code"]
    assert code in CODES, f"undocumented code {code!r}: {error}"
    assert CODES[code] == status, f"{code} answered with {status}: {error}"
    expected_type = "invalid_request" if code == "model_not_found" else STATUS_TYPES[status]
    assert error["type"] == expected_type, error
    param = error["param"]
    assert param is None or isinstance(param, str), error
    if code in NULL_PARAM_CODES:
        assert param is None, error
    elif status != 413 and code != "invalid_value":
        # invalid_value names its field, except for a body that is not a form at all
        # ("Malformed multipart body", web/forms.py), where no field exists.
        assert isinstance(param, str), error  # may be "": an unknown field named ""
    if status == 429:
        assert isinstance(body["retry_after"], int | float)
        assert _header(response, "retry-after") is not None
    if status == 405:
        assert _header(response, "allow"), response.headers
    return error  # type: ignore[no-any-return]


SSE_LINE = re.compile(r"(data|event|id|retry)?:.*")


def check_sse(data: bytes) -> None:
    text = data.decode("utf-8")
    assert text.endswith("\n\n"), text[-200:]
    for block in text.split("\n\n"):
        if not block:
            continue
        for line in block.split("\n"):
            assert SSE_LINE.fullmatch(line), f"not an SSE line: {line!r}"
            if line.startswith("data:"):
                payload = line[5:].strip()
                if payload != "[DONE]":
                    json.loads(payload)


def check_png(data: bytes) -> None:
    from PIL import Image

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.size[0] > 0
        assert image.size[1] > 0


def check_mp3(data: bytes) -> None:
    from mutagen.mp3 import MP3

    assert MP3(io.BytesIO(data)).info.length > 0


def check_wav(data: bytes) -> None:
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WAVE"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    position, chunks = 12, {}
    while position + 8 <= len(data):
        name, size = (
            data[position : position + 4],
            struct.unpack("<I", data[position + 4 : position + 8])[0],
        )
        chunks[name] = data[position + 8 : position + 8 + size]
        position += 8 + size + (size % 2)
    assert position == len(data)
    assert b"fmt " in chunks
    assert b"data" in chunks


def check_mp4(data: bytes) -> None:
    import av

    assert data[4:8] == b"ftyp"
    with av.open(io.BytesIO(data)) as container:
        frame = next(container.decode(video=0))
        assert frame.width > 0


def check_success(response: Any) -> None:
    content_type = _header(response, "content-type") or ""
    base = content_type.split(";")[0].strip()
    data = response.content
    if base == "application/json":
        json.loads(data)
    elif base == "text/event-stream":
        check_sse(data)
    elif base == "image/png":
        check_png(data)
    elif base == "audio/mpeg":
        check_mp3(data)
    elif base == "audio/wav":
        check_wav(data)
    elif base == "video/mp4":
        check_mp4(data)
    elif base in ("text/plain", "text/vtt"):
        data.decode("utf-8")
    elif base == "text/html":
        assert b"<html" in data.lower()
    else:
        raise AssertionError(f"undocumented success content type {content_type!r}")


def check_response(case: Any, response: Any) -> None:
    assert _header(response, "x-request-id"), response.headers
    assert response.status_code < 500, response.content[:2000]
    case.validate_response(response, checks=CHECKS)
    if response.status_code >= 400:
        check_envelope(response)
    else:
        check_success(response)


# -- running one operation ----------------------------------------------------------------


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def _realistic(case: Any, data: st.DataObject, fuzzed: Fuzzed, kinds: dict[str, list[str]]) -> None:
    """Half of the time, replace free strings with real models, voices and ids."""
    kind = ROUTE_KINDS.get(case.operation.path)
    for container in (case.body, case.query):
        if not isinstance(container, dict):
            continue
        if kind is not None and "model" in container and data.draw(st.booleans()):
            container["model"] = data.draw(st.sampled_from(kinds[kind]))
        if "voice" in container and data.draw(st.booleans()):
            container["voice"] = data.draw(st.sampled_from(VOICES))
    for name in list(case.path_parameters or {}):
        seeds = fuzzed.seeds.get(name)
        if seeds and data.draw(st.booleans()):
            case.path_parameters[name] = data.draw(st.sampled_from(seeds))


def _run(
    fuzzed: Fuzzed,
    kinds: dict[str, list[str]],
    method: str,
    path: str,
    mode: str,
    *,
    auth: str | None,
    examples: int,
    expect_401: str | None = None,
) -> None:
    operation = fuzzed.schema[path][method]
    generation = GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE
    seen: list[int] = []

    @given(case=operation.as_strategy(generation_mode=generation), data=st.data())
    @_settings(examples)
    def fuzz(case: Any, data: st.DataObject) -> None:
        if mode == "positive":
            _realistic(case, data, fuzzed, kinds)
        headers = {
            k: v
            for k, v in (case.headers or {}).items()
            if k.lower() not in ("authorization", "x-api-key")
        }
        if auth is not None:
            headers["Authorization"] = f"Bearer {auth}"
        case.headers = headers
        response = case.call(base_url=fuzzed.server.url, session=fuzzed.session, timeout=60)
        seen.append(response.status_code)
        try:
            check_response(case, response)
        except AssertionError as exc:
            request = case.as_curl_command(headers=headers, base_url=fuzzed.server.url)
            raise AssertionError(f"{exc}\nrequest: {request[:3000]}") from None
        if expect_401 is not None:
            # Routing (step 2) and the body size (step 3) come before authentication: a path
            # parameter holding a slash is another route.
            code = check_envelope(response)["code"] if response.status_code >= 400 else None
            assert code in (expect_401, "route_not_found", "payload_too_large"), response.content

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        fuzz()
    assert seen, "no request was sent"


@pytest.mark.parametrize(("method", "path", "mode"), API_CASES)
def test_fuzz_api_with_key(
    api: Fuzzed, kinds: dict[str, list[str]], method: str, path: str, mode: str
) -> None:
    _run(api, kinds, method, path, mode, auth=FUZZ_KEY, examples=EXAMPLES[mode])


@pytest.mark.parametrize(
    ("method", "path"), [pytest.param(m, p, id=_label(m, p)) for m, p, _ in API]
)
def test_fuzz_api_anonymous(
    api: Fuzzed, kinds: dict[str, list[str]], method: str, path: str
) -> None:
    """No key: keyed routes are 401 missing_api_key whatever the body (auth is step 4, before
    validation); public, legacy and media routes answer as they would for anyone."""
    keyed = (method, path) in KEYED and path not in ("/check", "/v1/check")
    _run(
        api,
        kinds,
        method,
        path,
        "positive",
        auth=None,
        examples=EXAMPLES["anonymous"],
        expect_401="missing_api_key" if keyed else None,
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [pytest.param(m, p, id=_label(m, p)) for m, p, op in API if op["security"]],
)
def test_fuzz_api_malformed_key(
    api: Fuzzed, kinds: dict[str, list[str]], method: str, path: str
) -> None:
    """A malformed key is 401 invalid_api_key on every route that reads a key, optional-auth
    routes included (§2.3: a key that is sent and invalid is still 401)."""
    expect = "invalid_api_key" if path not in ("/check", "/v1/check") else None
    _run(
        api,
        kinds,
        method,
        path,
        "positive",
        auth=BAD_KEY,
        examples=EXAMPLES["bad_key"],
        expect_401=expect,
    )


@pytest.mark.parametrize(("method", "path", "mode"), CONTROL_CASES)
def test_fuzz_control_plane(
    control: Fuzzed, kinds: dict[str, list[str]], method: str, path: str, mode: str
) -> None:
    _run(control, kinds, method, path, mode, auth=None, examples=EXAMPLES[mode])


def test_every_operation_is_fuzzed() -> None:
    """The parametrization covers the whole document, every route of §1.1 and the control plane."""
    fuzzed = {(m, p) for m, p, _ in API} | {(m, p) for m, p, _ in CONTROL}
    assert fuzzed == {(m, p) for m, p, _ in OPERATIONS}
    paths = {p for _, p in fuzzed}
    for required in (
        "/v1/chat/completions",
        "/v1/messages",
        "/v1/audio/transcriptions",
        "/media/{name}",
    ):
        assert required in paths
    assert len(API_CASES) > len(API)
