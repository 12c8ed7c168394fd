"""The one source of randomness: generators seeded from a stable hash of their inputs."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, compact, non-ASCII kept (the hash input of every seed)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def seed_hex(*parts: Any) -> str:
    """The first 16 hex digits of sha256(canonical JSON of the parts) (CONTRACT §2.11.1)."""
    return hashlib.sha256(canonical(list(parts)).encode()).hexdigest()[:16]


def rng_for(*parts: Any) -> random.Random:
    """A ``random.Random`` that depends on nothing but ``parts``."""
    return random.Random(int(seed_hex(*parts), 16))


def unit_interval(*parts: Any) -> float:
    """A number in [0, 1) from sha256 of the parts joined by ``|`` (used by audio synthesis)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()
    return int(digest[:13], 16) / float(1 << 52)
