"""Properties of the pure layer (CONTRACT §2.7, §2.11, §3.5, §3.6.2, §3.7, §3.9.4): every synth
function is deterministic (the same input gives the same bytes), total (any input within its
schema gives a valid output, never an exception), and its output decodes (PNG, MP3, WAV, MP4)
or validates (tool arguments and structured output against their JSON Schemas).

Examples are few per property (``max_examples`` below, MP4 renders 3) and derandomized, so the
file stays fast and stable in CI; each property still sees unicode, empty and very long text,
odd sizes and random schemas.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import math
import struct
from array import array
from typing import Any

import av
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from PIL import Image

from mockair.settings import Settings
from mockair.synth import audio, embeddings, images, text, tokenizer, transcription, video, vision
from mockair.synth.reasoning import EFFORT_RANGES, OFF, ReasoningPlan
from mockair.synth.reply import OutputFormat, ReplyRequest, generate
from mockair.synth.text import load_corpus
from mockair.synth.tools import ToolDef

CORPUS = load_corpus(Settings().fixtures_dir)
NOW = 1767225600.0
FRAME_SECONDS = 1152 / 44100  # one MPEG-1 Layer III frame
FORMATS = FormatChecker(["date", "email", "uuid"])


def fast(examples: int = 25) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# Text: unicode of every category (surrogates excluded: not valid in JSON or UTF-8), empty,
# whitespace only, NULs, and very long.
any_text = st.one_of(
    st.text(max_size=80),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.sampled_from(["", " ", "\n\t", "\x00", "a\x00b", "日本語のテキスト", "🎉" * 50, "é" * 3]),
    st.text(alphabet="ab .!?\n", min_size=3000, max_size=6000),
)
seeds = st.integers(min_value=-(2**63), max_value=2**63)


# -- images ----------------------------------------------------------------------------------

sizes = st.integers(min_value=64, max_value=512)


@fast(20)
@given(
    prompt=any_text,
    model=st.sampled_from(["flux", "dall-e-3", "", "x" * 100]),
    width=sizes,
    height=sizes,
    seed=seeds,
    index=st.integers(min_value=0, max_value=15),
    sources=st.lists(st.text(max_size=40), max_size=3).map(tuple),
)
def test_render_png_is_deterministic_total_and_decodes(
    prompt: str,
    model: str,
    width: int,
    height: int,
    seed: int,
    index: int,
    sources: tuple[str, ...],
) -> None:
    spec = images.ImageSpec(prompt, model, width, height, seed, index, sources)
    first = images.render_png.__wrapped__(spec)  # type: ignore[attr-defined]
    again = images.render_png.__wrapped__(spec)  # type: ignore[attr-defined]
    assert first == again
    assert images.render_png(spec) == first
    with Image.open(io.BytesIO(first)) as png:
        png.load()
        assert png.format == "PNG"
        assert png.size == (width, height)
        assert png.mode == "RGB"
        meta = json.loads(png.text["mockair"])
    assert meta == images.metadata(spec)
    assert vision.mockair_metadata(first) == meta


@fast(10)
@given(
    prompt=any_text,
    width=sizes,
    height=sizes,
    inputs=st.lists(
        st.one_of(
            st.none(),
            st.binary(max_size=64),
            st.builds(
                lambda w, h, c: _png(w, h, c),
                st.integers(1, 80),
                st.integers(1, 80),
                st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
            ),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_render_edit_is_deterministic_total_and_decodes(
    prompt: str, width: int, height: int, inputs: list[bytes | None]
) -> None:
    sources = tuple(f"http://example.invalid/{i}.png" for i in range(len(inputs)))
    spec = images.ImageSpec(prompt, "flux-2-dev", width, height, 0, 0, sources)
    first = images.render_edit(spec, inputs)
    assert images.render_edit(spec, inputs) == first
    with Image.open(io.BytesIO(first)) as png:
        png.load()
        assert png.size == (width, height)


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


@fast(30)
@given(
    data=st.one_of(
        st.binary(max_size=256),
        st.builds(_png, st.integers(1, 40), st.integers(1, 40), st.just((200, 30, 30))),
    ),
    label=st.text(max_size=40),
)
def test_describe_is_total(data: bytes, label: str) -> None:
    sentence = vision.describe(data, label)
    assert isinstance(sentence, str)
    assert sentence.endswith(".")
    assert vision.describe(data, label) == sentence
    assert vision.describe(None, label) == f'An image referenced as "{label}" (not fetched).'


# -- audio -------------------------------------------------------------------------------------


def _wav_frames(data: bytes) -> tuple[int, int, int, int]:
    """(format tag, rate, bytes per frame, frames) read from the RIFF chunks by hand."""
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WAVE"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    position, tag, rate, block, frames = 12, 0, 0, 0, -1
    while position + 8 <= len(data):
        name = data[position : position + 4]
        size = struct.unpack("<I", data[position + 4 : position + 8])[0]
        payload = data[position + 8 : position + 8 + size]
        if name == b"fmt ":
            tag, _, rate, _, block = struct.unpack("<HHIIH", payload[:14])
        elif name == b"data":
            frames = size // block
        position += 8 + size + (size % 2)
    assert position == len(data)
    return tag, rate, block, frames


@fast(15)
@given(
    words=any_text,
    voice=st.sampled_from(["alloy", "21m00Tcm4TlvDq8ikWAM", "voice_x"]),
    base_hz=st.floats(min_value=60, max_value=400),
    instructions=st.text(max_size=30),
    seed=seeds,
    speed=st.floats(min_value=0.25, max_value=4.0),
    format_name=st.sampled_from(sorted(audio.FORMATS)),
)
def test_speech_renders_in_every_format_and_decodes(
    words: str,
    voice: str,
    base_hz: float,
    instructions: str,
    seed: int,
    speed: float,
    format_name: str,
) -> None:
    words = words[:200]  # a few seconds of speech; the length law is tested in test_audio
    fmt = audio.FORMATS[format_name]

    def make() -> bytes:
        segment = audio.speech(
            words,
            base_hz=base_hz,
            voice=voice,
            model="gpt-4o-mini-tts",
            instructions=instructions,
            seed=seed,
            speed=speed,
            rate=fmt.rate,
        )
        meta = audio.metadata("speech", text=words, voice=voice, model="m", seed=seed)
        return audio.render(segment, fmt, meta), segment.duration_seconds  # type: ignore[return-value]

    data, seconds = make()
    assert make()[0] == data
    assert seconds >= 0.3
    info = audio.read_audio(data)
    assert info.container == fmt.container
    assert info.rate == fmt.rate
    assert info.meta == audio.metadata("speech", text=words, voice=voice, model="m", seed=seed)
    if fmt.container == "wav":
        tag, rate, block, frames = _wav_frames(data)
        assert tag == (7 if fmt.ulaw else 1)
        assert rate == fmt.rate
        assert block == (1 if fmt.ulaw else 2)
        assert frames == round(seconds * fmt.rate)
        assert math.isclose(info.duration, seconds, abs_tol=1 / fmt.rate)
    else:
        assert data[:3] == b"ID3"
        assert abs(info.duration - seconds) <= FRAME_SECONDS, (info.duration, seconds)
        with av.open(io.BytesIO(data)) as container:
            decoded = sum(frame.samples for frame in container.decode(audio=0))
        # decoders drop the encoder delay and padding: the same length within a frame
        assert abs(decoded - round(seconds * fmt.rate)) <= 1152, (decoded, seconds)


@fast(10)
@given(
    key=st.one_of(any_text, st.lists(st.text(max_size=10), max_size=3)),
    seed=seeds,
    seconds=st.floats(min_value=0.05, max_value=3.0),
    kind=st.sampled_from(["music", "sfx", "pad"]),
    format_name=st.sampled_from(["mp3", "pcm_22050", "ulaw_8000"]),
)
def test_music_sfx_and_pad_are_exact_and_decode(
    key: Any, seed: int, seconds: float, kind: str, format_name: str
) -> None:
    fmt = audio.FORMATS[format_name]

    def make() -> Any:
        if kind == "music":
            return audio.music(key, seed=seed, seconds=seconds, rate=fmt.rate)
        if kind == "sfx":
            return audio.sound_effect(str(key), seed=seed, seconds=seconds, rate=fmt.rate)
        return audio.pad(seconds, rate=fmt.rate, key=key)

    segment = make()
    assert segment.raw_data == make().raw_data
    assert len(segment.raw_data) == 2 * round(seconds * fmt.rate)
    data = audio.render(segment, fmt, audio.metadata(kind, prompt=str(key)))
    info = audio.read_audio(data)
    assert info.meta is not None
    assert info.meta["kind"] == kind
    if fmt.container == "wav":
        assert math.isclose(info.duration, seconds, abs_tol=1 / fmt.rate)
    else:
        assert abs(info.duration - seconds) <= FRAME_SECONDS


@fast(40)
@given(data=st.binary(max_size=512))
def test_read_audio_is_total(data: bytes) -> None:
    """Any upload is either read or refused with ValueError (a 400), never anything else."""
    try:
        info = audio.read_audio(data)
    except ValueError:
        return
    assert info.duration >= 0


# -- video -------------------------------------------------------------------------------------


@settings(max_examples=3, deadline=None, derandomize=True, database=None)
@given(
    prompt=any_text.map(lambda t: t[:200]),
    seed=seeds,
    duration=st.integers(min_value=1, max_value=2),
    ratio=st.sampled_from(["16:9", "9:16", "1:1", "21:9", "4:3"]),
)
def test_render_mp4_is_deterministic_and_decodes(
    prompt: str, seed: int, duration: int, ratio: str
) -> None:
    spec = video.VideoSpec(prompt, "wan-2.6", seed, duration, ratio)
    first = video.render_mp4(spec)
    assert video.render_mp4(spec) == first
    width, height = video.frame_size(ratio)
    assert max(width, height) == video.LONG_SIDE
    assert width % 2 == 0
    assert height % 2 == 0
    with av.open(io.BytesIO(first)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = list(container.decode(video=0))
    assert len(frames) == duration * video.FPS
    assert {(f.width, f.height) for f in frames} == {(width, height)}
    assert {f.format.name for f in frames} == {"yuv420p"}


# -- embeddings --------------------------------------------------------------------------------


@fast(40)
@given(
    value=any_text,
    model=st.sampled_from(["text-embedding-3-small", "text-embedding-3-large", ""]),
    seed=seeds,
    dimensions=st.integers(min_value=1, max_value=3072),
)
def test_embed_is_deterministic_and_unit_norm(
    value: str, model: str, seed: int, dimensions: int
) -> None:
    vector = embeddings.embed(value, model=model, seed=seed, dimensions=dimensions)
    assert vector == embeddings.embed(value, model=model, seed=seed, dimensions=dimensions)
    assert len(vector) == dimensions
    assert all(isinstance(x, float) and math.isfinite(x) for x in vector)
    norm = math.sqrt(sum(x * x for x in vector))
    if embeddings.trigrams(value):
        # all zeros only when the signed trigram counts cancel out exactly
        assert math.isclose(norm, 1.0, abs_tol=1e-5) or norm == 0.0
    else:
        assert norm == 0.0
    packed = base64.b64decode(embeddings.to_base64(vector))
    assert array("f", packed).tolist() == vector


# -- tokenizer, text, transcription ------------------------------------------------------------


@fast(60)
@given(value=any_text)
def test_tokenize_round_trips(value: str) -> None:
    tokens = tokenizer.tokenize(value)
    assert "".join(tokens) == value
    assert tokenizer.count(value) == len(tokens)


@fast(60)
@given(
    value=any_text,
    stops=st.lists(st.text(max_size=4), max_size=4),
    cap=st.one_of(st.none(), st.integers(min_value=0, max_value=200)),
)
def test_stop_and_cap(value: str, stops: list[str], cap: int | None) -> None:
    trimmed = text.apply_stop_and_cap(value, stops, cap)
    joined = "".join(trimmed.tokens)
    assert value.startswith(joined)
    if cap is not None:
        assert len(trimmed.tokens) <= cap
    for stop in stops:
        if stop and trimmed.finish != "length":
            assert stop not in joined


@fast(40)
@given(value=any_text, duration=st.floats(min_value=0, max_value=3600))
def test_transcription_timings_are_total_and_ordered(value: str, duration: float) -> None:
    parts = transcription.segments(value, duration)
    assert transcription.segments(value, duration) == parts
    previous = 0.0
    for part in parts:
        assert previous <= part.start <= part.end <= round(duration, 3) + 0.001
        previous = part.end
    for word in transcription.words(value, duration):
        assert 0 <= word["start"] <= word["end"] <= round(duration, 3) + 0.001
    assert transcription.srt(parts).count("-->") == len(parts)
    assert transcription.vtt(parts).startswith("WEBVTT")


# -- replies: JSON Schemas, tools, caps, stops, reasoning ------------------------------------

names = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=8)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=8), st.floats(-10, 10)
)


@st.composite
def integer_schema(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    low = draw(st.one_of(st.none(), st.integers(-(10**6), 10**6)))
    if low is not None:
        schema[draw(st.sampled_from(["minimum", "exclusiveMinimum"]))] = low
    width = draw(st.integers(2, 10**6))
    if draw(st.booleans()):
        base = low if low is not None else 0
        schema[draw(st.sampled_from(["maximum", "exclusiveMaximum"]))] = base + width
    if draw(st.booleans()):
        schema["multipleOf"] = draw(st.integers(1, max(1, width // 2)))
    return schema


@st.composite
def number_schema(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number"}
    low = draw(st.floats(-1e6, 1e6, allow_nan=False))
    if draw(st.booleans()):
        schema["minimum"] = low
    if draw(st.booleans()):
        schema["maximum"] = low + draw(st.floats(1, 1e6))
    if draw(st.booleans()):
        schema["multipleOf"] = draw(st.sampled_from([0.25, 0.5, 1, 2.5]))
    return schema


@st.composite
def string_schema(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if draw(st.booleans()):
        schema["format"] = draw(st.sampled_from(["date", "email", "uuid"]))
        return schema
    low = draw(st.integers(0, 40))
    if draw(st.booleans()):
        schema["minLength"] = low
    if draw(st.booleans()):
        schema["maxLength"] = low + draw(st.integers(0, 40))
    return schema


scalar_schemas = st.one_of(
    integer_schema(),
    number_schema(),
    string_schema(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.lists(json_scalars, min_size=1, max_size=5, unique_by=json.dumps).map(lambda v: {"enum": v}),
    json_scalars.map(lambda v: {"const": v}),
    st.just({}),
)


def _compound(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    objects = st.dictionaries(names, children, max_size=5).flatmap(
        lambda props: st.builds(
            lambda required, closed: {
                "type": "object",
                "properties": props,
                "required": required,
                **({"additionalProperties": False} if closed else {}),
            },
            st.lists(st.sampled_from(sorted(props)), unique=True) if props else st.just([]),
            st.booleans(),
        )
    )
    arrays = st.builds(
        lambda items, low, extra: {
            "type": "array",
            "items": items,
            "minItems": low,
            "maxItems": low + extra,
        },
        children,
        st.integers(0, 3),
        st.integers(0, 3),
    )
    any_of = st.lists(children, min_size=1, max_size=3).map(lambda parts: {"anyOf": parts})
    one_of = st.just({"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]})
    all_of = st.builds(
        lambda low, width: {
            "allOf": [{"type": "integer", "minimum": low}, {"maximum": low + width}]
        },
        st.integers(-100, 100),
        st.integers(0, 100),
    )
    nullable = children.map(lambda child: {"anyOf": [child, {"type": "null"}]})
    return st.one_of(objects, arrays, any_of, one_of, all_of, nullable)


schemas = st.recursive(scalar_schemas, _compound, max_leaves=8)


def with_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema reached through a local $ref, as real tool definitions often are."""
    return {"$defs": {"node": schema}, "$ref": "#/$defs/node"}


object_schemas = st.one_of(
    st.dictionaries(names, schemas, max_size=5).flatmap(
        lambda props: st.builds(
            lambda required: {"type": "object", "properties": props, "required": required},
            st.lists(st.sampled_from(sorted(props)), unique=True) if props else st.just([]),
        )
    ),
    st.just({"type": "object"}),
    st.none(),
)
tools = st.builds(
    ToolDef,
    name=names,
    description=st.text(max_size=30),
    schema=st.one_of(object_schemas, object_schemas.map(lambda s: with_defs(s) if s else s)),
)
plans = st.one_of(
    st.just(OFF),
    st.builds(
        ReasoningPlan,
        on=st.just(True),
        effort=st.sampled_from(sorted(EFFORT_RANGES)),
        budget=st.one_of(st.none(), st.integers(0, 100)),
    ),
)
semantic = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
outputs = st.one_of(
    st.just(OutputFormat()),
    st.just(OutputFormat("json_object")),
    st.one_of(schemas, schemas.map(with_defs), st.none()).map(
        lambda s: OutputFormat("json_schema", s)
    ),
)


@st.composite
def reply_requests(draw: st.DrawFn) -> ReplyRequest:
    return ReplyRequest(
        route_key=draw(
            st.sampled_from(["/v1/chat/completions", "/v1/messages", "/v1/responses", "/ask"])
        ),
        model=draw(st.sampled_from(["gpt-4o-mini", "claude-sonnet-4.6", "deepseek-r1"])),
        semantic={
            "messages": draw(st.lists(any_text, min_size=1, max_size=3)),
            "extra": draw(semantic),
        },
        seed=draw(seeds),
        now=NOW,
        choice=draw(st.integers(0, 15)),
        reasoning=draw(plans),
        tools_called=tuple(draw(st.lists(tools, max_size=3))),
        output=draw(outputs),
        vision=tuple(draw(st.lists(st.text(max_size=20), max_size=2))),
        stops=tuple(draw(st.lists(st.text(min_size=1, max_size=3), max_size=3))),
        cap=draw(st.one_of(st.none(), st.integers(0, 120))),
    )


def _validate(schema: Any, instance: Any) -> None:
    validator = Draft202012Validator(schema if schema is not None else {}, format_checker=FORMATS)
    errors = sorted(validator.iter_errors(instance), key=str)
    assert not errors, (json.dumps(schema)[:500], json.dumps(instance)[:500], errors[0].message)


@fast(50)
@given(request=reply_requests())
def test_generate_is_total_deterministic_and_valid(request: ReplyRequest) -> None:
    reply = generate(request, CORPUS)
    assert generate(request, CORPUS) == reply
    budget = request.reasoning.budget
    if request.reasoning.on:
        assert bool(reply.reasoning_tokens) == (budget is None or budget > 0)
        if budget is not None:
            assert len(reply.reasoning_tokens) <= budget
    else:
        assert reply.reasoning_tokens == []
    if request.tools_called:
        assert reply.finish == "tool_calls"
        assert [call.name for call in reply.tool_calls] == [t.name for t in request.tools_called]
        for call, tool in zip(reply.tool_calls, request.tools_called, strict=True):
            arguments = json.loads(call.arguments_json)
            _validate(tool.schema if tool.schema is not None else {"type": "object"}, arguments)
        return
    assert reply.tool_calls == []
    if request.cap is not None:
        assert len(reply.answer_tokens) <= request.cap
    # capped or stopped answers are prefixes of the whole one (§2.7)
    whole = generate(dataclasses.replace(request, cap=None, stops=()), CORPUS)
    assert whole.answer.startswith(reply.answer)
    if request.output.kind == "json_schema":
        _validate(request.output.schema, json.loads(whole.answer))
    elif request.output.kind == "json_object":
        assert isinstance(json.loads(whole.answer), dict)
    for stop in request.stops:
        if reply.finish != "length":
            assert stop not in reply.answer
