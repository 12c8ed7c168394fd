"""Embedding vectors (CONTRACT §3.5): hashed character trigrams, L2-normalised, float32.

Similar texts share trigrams, so they get similar vectors. Everything here is a pure function of
(text, model, seed, dimensions).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import sys
from array import array
from collections.abc import Sequence

__all__ = ["embed", "to_base64", "token_ids_text", "trigrams"]


def trigrams(text: str) -> list[str]:
    """Every character trigram (each occurrence) of the lowercased text padded with spaces."""
    padded = f" {text.lower()} "
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


@functools.lru_cache(maxsize=65536)
def _bucket(model: str, seed: int, gram: str) -> tuple[int, int]:
    """(first 8 hex digits as an integer, ±1 from the 9th hex digit) of the trigram's sha256."""
    digest = hashlib.sha256(f"{model}|{seed}|{gram}".encode()).hexdigest()
    return int(digest[:8], 16), 1 if int(digest[8], 16) % 2 == 0 else -1


def embed(text: str, *, model: str, seed: int, dimensions: int) -> list[float]:
    """The unit vector (or all zeros) of ``text``, each value a float32 widened to a float."""
    if dimensions < 1:
        raise ValueError(f"dimensions must be >= 1, got {dimensions}")
    counts: dict[int, int] = {}
    for gram in trigrams(text):
        value, sign = _bucket(model, seed, gram)
        index = value % dimensions
        counts[index] = counts.get(index, 0) + sign
    vector = [0.0] * dimensions
    norm = math.sqrt(sum(c * c for c in counts.values()))
    if norm == 0:
        return vector
    for index, total in counts.items():
        vector[index] = total / norm
    # array("f") rounds each double to the nearest float32, exactly as
    # struct.unpack("<f", struct.pack("<f", x))[0] does, but in one C loop.
    return array("f", vector).tolist()


def token_ids_text(ids: Sequence[int]) -> str:
    """The text a token-id array stands for: ``"t<id>"`` words joined by spaces."""
    return " ".join(f"t{token_id}" for token_id in ids)


def to_base64(vector: Sequence[float]) -> str:
    """Base64 of the vector as a little-endian float32 array (``encoding_format: "base64"``)."""
    packed = array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")
