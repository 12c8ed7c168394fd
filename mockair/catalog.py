"""The model catalogue (CONTRACT §3.1): the one place where a model's capabilities live."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockair import jsonio
from mockair.errors import ModelNotFound, ModelNotSupported

# Private kind -> public class used by key rules (CONTRACT §3.1.2).
KIND_CLASS: dict[str, str | None] = {
    "chat": "chat",
    "embedding": "embedding",
    "image": "image",
    "video": "video",
    "tts": "audio",
    "music": "audio",
    "sfx": "audio",
    "transcription": "audio",
    "audio_isolation": "audio",
    "voice_changer": "audio",
    "dubbing": "audio",
    "suno": "audio",
    "3d": None,
}

# Which request schemas a kind's routes use: their fields are the model's supported_parameters.
KIND_SCHEMAS: dict[str, tuple[str, ...]] = {
    "chat": (
        "chat.completions.request",
        "messages.create.request",
        "responses.create.request",
    ),
    "embedding": ("embeddings.create.request",),
    "image": ("images.generations.request",),
    "video": ("video.generations.request",),
    "tts": ("audio.speech.request",),
    "music": ("audio.music.request",),
    "sfx": ("audio.sound_effects.request",),
    "transcription": ("audio.transcriptions.request",),
    "audio_isolation": ("audio.audio_isolation.request",),
    "voice_changer": ("audio.voice_changer.request",),
    "dubbing": ("audio.dubbing.request",),
    "suno": ("legacy.suno.request",),
    "3d": (),
}


@dataclass(frozen=True)
class Model:
    id: str
    kind: str
    owned_by: str
    tier: str
    public: dict[str, Any]
    private: dict[str, Any]

    @property
    def model_class(self) -> str | None:
        return KIND_CLASS.get(self.kind)

    def flag(self, name: str) -> bool:
        return bool(self.public.get(name))

    def caps(self, name: str) -> dict[str, Any]:
        return self.public.get(name) or {}

    def price(self, name: str) -> float:
        value = self.public.get(name)
        return float(value) if value is not None else 0.0

    def as_public(self, created: int) -> dict[str, Any]:
        return {**self.public, "created": created}


class Catalog:
    def __init__(self, models: Iterable[Model]) -> None:
        self.models: tuple[Model, ...] = tuple(models)
        self.by_id: dict[str, Model] = {m.id: m for m in self.models}
        if len(self.by_id) != len(self.models):
            raise ValueError("duplicate model ids in the catalogue")

    def __len__(self) -> int:
        return len(self.models)

    def find(self, model_id: str) -> Model | None:
        return self.by_id.get(model_id)

    def get(self, model_id: str, *, param: str = "model") -> Model:
        model = self.by_id.get(model_id)
        if model is None:
            raise ModelNotFound(model_id, param=param)
        return model

    def get_kind(
        self, model_id: str, kinds: tuple[str, ...], purpose: str, *, param: str = "model"
    ) -> Model:
        """The model, which must be of one of ``kinds`` (else 400 model_not_supported)."""
        model = self.get(model_id, param=param)
        if model.kind not in kinds:
            raise ModelNotSupported(f"Model '{model_id}' does not support {purpose}.", param=param)
        return model

    def of_kind(self, *kinds: str) -> list[Model]:
        return [m for m in self.models if m.kind in kinds]


def _schema_fields(schemas_dir: Path, schema_id: str) -> list[str]:
    path = schemas_dir / f"{schema_id}.json"
    if not path.is_file():
        return []
    schema = jsonio.loads(path.read_bytes())
    return list(schema.get("properties", {}))


@functools.lru_cache(maxsize=8)
def load_catalog(fixtures_dir: Path, schemas_dir: Path) -> Catalog:
    """Read ``fixtures/models.json`` once per process (the catalogue is immutable)."""
    document = jsonio.loads((fixtures_dir / "models.json").read_bytes())
    fields_by_kind: dict[str, list[str]] = {}
    models = []
    for entry in document["models"]:
        entry = dict(entry)
        private = entry.pop("mockair", {}) or {}
        kind = private.get("kind", "chat")
        if kind not in fields_by_kind:
            seen: dict[str, None] = {}
            for schema_id in KIND_SCHEMAS.get(kind, ()):
                seen.update(dict.fromkeys(_schema_fields(schemas_dir, schema_id)))
            fields_by_kind[kind] = list(seen)
        entry["supported_parameters"] = fields_by_kind[kind]
        models.append(
            Model(
                id=entry["id"],
                kind=kind,
                owned_by=entry["owned_by"],
                tier=entry.get("tier", "free"),
                public=entry,
                private=private,
            )
        )
    return Catalog(models)


@dataclass(frozen=True)
class Voice:
    voice_id: str
    name: str
    base_hz: float
    public: dict[str, Any]  # the /v1/audio/voices object without preview_url


@functools.lru_cache(maxsize=8)
def load_voices(fixtures_dir: Path) -> tuple[Voice, ...]:
    """The premade and legacy voices of ``fixtures/voices.json``, in file order."""
    document = jsonio.loads((fixtures_dir / "voices.json").read_bytes())
    voices = []
    for entry in document["voices"]:
        entry = dict(entry)
        private = entry.pop("mockair", {}) or {}
        voices.append(
            Voice(entry["voice_id"], entry["name"], float(private.get("base_hz", 180)), entry)
        )
    return tuple(voices)


def consent_text(fixtures_dir: Path) -> str:
    return (fixtures_dir / "consent.txt").read_text("utf-8").rstrip()
