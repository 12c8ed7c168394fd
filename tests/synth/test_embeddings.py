"""The pure embedding function (CONTRACT §3.5): hashed trigrams, unit norm, float32 values."""

from __future__ import annotations

import base64
import hashlib
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockair.synth.embeddings import embed, to_base64, token_ids_text, trigrams

SMALL = "text-embedding-3-small"
# 1/sqrt(3) rounded to float32 and widened back: the value printed in the §3.5 example.
INV_SQRT3_F32 = 0.5773502588272095


def as_float32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]  # type: ignore[no-any-return]


def reference(text: str, *, model: str, seed: int, dimensions: int) -> list[float]:
    """§3.5 written out literally, one step per sentence, with struct for the float32 cast."""
    padded = " " + text.lower() + " "
    vector = [0.0] * dimensions
    for i in range(len(padded) - 2):
        h = hashlib.sha256(f"{model}|{seed}|{padded[i : i + 3]}".encode()).hexdigest()
        index = int(h[:8], 16) % dimensions
        vector[index] += 1.0 if int(h[8], 16) % 2 == 0 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if norm:
        vector = [x / norm for x in vector]
    return [as_float32(x) for x in vector]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_trigrams_pad_and_lowercase() -> None:
    assert trigrams("Hi!") == [" hi", "hi!", "i! "]
    assert trigrams("a") == [" a "]
    assert trigrams("") == []
    assert trigrams("aaaa") == [" aa", "aaa", "aaa", "aa "]  # every occurrence counts


def test_the_contract_example_vector() -> None:
    # The §3.5 example (dimensions 4, 3 prompt tokens); "h!o" is one input that produces it.
    assert embed("h!o", model=SMALL, seed=0, dimensions=4) == [
        INV_SQRT3_F32,
        -INV_SQRT3_F32,
        0.0,
        INV_SQRT3_F32,
    ]
    assert as_float32(1 / math.sqrt(3)) == INV_SQRT3_F32 != 1 / math.sqrt(3)


@pytest.mark.parametrize(
    ("text", "dimensions"),
    [("hello world", 1536), ("Hello, World!", 4), ("x", 1), ("ümlaut 🙂 text", 64)],
)
def test_matches_the_literal_algorithm(text: str, dimensions: int) -> None:
    assert embed(text, model=SMALL, seed=0, dimensions=dimensions) == reference(
        text, model=SMALL, seed=0, dimensions=dimensions
    )


def test_repeated_trigrams_accumulate() -> None:
    # "aaaa" has the trigram "aaa" twice: its bucket holds ±2 before normalising.
    vector = embed("aaaa", model=SMALL, seed=0, dimensions=1536)
    assert vector == reference("aaaa", model=SMALL, seed=0, dimensions=1536)
    assert sorted(abs(x) for x in vector if x)[-1] == as_float32(2 / math.sqrt(6))


def test_case_does_not_matter() -> None:
    assert embed("HeLLo", model=SMALL, seed=0, dimensions=32) == embed(
        "hello", model=SMALL, seed=0, dimensions=32
    )


def test_model_and_seed_change_the_vector() -> None:
    base = embed("hello world", model=SMALL, seed=0, dimensions=256)
    assert embed("hello world", model=SMALL, seed=1, dimensions=256) != base
    assert embed("hello world", model="text-embedding-3-large", seed=0, dimensions=256) != base


def test_similar_texts_are_closer_than_unrelated_ones() -> None:
    def vec(text: str) -> list[float]:
        return embed(text, model=SMALL, seed=0, dimensions=1536)

    anchor = vec("The quick brown fox jumps over the lazy dog")
    similar = vec("The quick brown fox jumped over the lazy dogs")
    unrelated = vec("Quarterly revenue grew by seven percent in Europe")
    assert cosine(anchor, similar) > 0.7
    assert cosine(anchor, unrelated) < 0.3
    assert cosine(anchor, similar) > cosine(anchor, unrelated)


def test_an_all_cancelling_text_is_the_zero_vector() -> None:
    # With one dimension every trigram lands on index 0; find a text whose signs cancel.
    def sign(gram: str) -> int:
        digit = int(hashlib.sha256(f"{SMALL}|0|{gram}".encode()).hexdigest()[8], 16)
        return 1 if digit % 2 == 0 else -1

    text = next(
        t
        for t in (f"{a}{b}" for a in "abcdefgh" for b in "abcdefgh")
        if sum(map(sign, trigrams(t))) == 0
    )
    assert embed(text, model=SMALL, seed=0, dimensions=1) == [0.0]
    assert embed(text, model=SMALL, seed=0, dimensions=1536) != [0.0] * 1536


def test_one_dimension_is_plus_or_minus_one() -> None:
    assert embed("hello", model=SMALL, seed=0, dimensions=1)[0] in (1.0, -1.0, 0.0)


def test_dimensions_must_be_positive() -> None:
    with pytest.raises(ValueError, match="dimensions"):
        embed("x", model=SMALL, seed=0, dimensions=0)


def test_token_ids_text() -> None:
    assert token_ids_text([1, 22, 0]) == "t1 t22 t0"
    assert token_ids_text([]) == ""


def test_to_base64_is_little_endian_float32() -> None:
    vector = [INV_SQRT3_F32, -INV_SQRT3_F32, 0.0, 1.0]
    raw = base64.b64decode(to_base64(vector))
    assert raw == struct.pack("<4f", *vector)
    assert to_base64([1.0]) == "AACAPw=="


@given(
    text=st.text(max_size=200),
    dimensions=st.integers(min_value=1, max_value=3072),
    seed=st.integers(min_value=0, max_value=2**63),
    model=st.sampled_from([SMALL, "text-embedding-3-large"]),
)
def test_properties(text: str, dimensions: int, seed: int, model: str) -> None:
    vector = embed(text, model=model, seed=seed, dimensions=dimensions)
    assert len(vector) == dimensions
    assert vector == embed(text, model=model, seed=seed, dimensions=dimensions)
    assert all(isinstance(x, float) and as_float32(x) == x for x in vector)
    norm = math.sqrt(sum(x * x for x in vector))
    assert norm == 0.0 or math.isclose(norm, 1.0, rel_tol=1e-6)
    if not text:
        assert norm == 0.0
    assert struct.unpack(f"<{dimensions}f", base64.b64decode(to_base64(vector))) == tuple(vector)
