"""Cloned voices per scope (CONTRACT §3.8); premade voices come from the catalogue."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from mockair.state.clock import iso_utc


@dataclass
class ClonedVoice:
    voice_id: str
    name: str
    created: float
    base_hz: float
    description: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    remove_background_noise: bool = False

    def library_view(self) -> dict[str, Any]:
        return {
            "voice_id": self.voice_id,
            "provider_voice_id": self.voice_id,
            "name": self.name,
            "description": self.description,
            "labels": self.labels,
            "created_at": iso_utc(self.created),
            "status": "active",
            "provider": "mockair",
            "last_error": None,
        }


class VoiceClones:
    def __init__(self) -> None:
        self._scopes: dict[str, OrderedDict[str, ClonedVoice]] = {}

    def add(self, scope: str, voice: ClonedVoice) -> ClonedVoice:
        self._scopes.setdefault(scope, OrderedDict())[voice.voice_id] = voice
        return voice

    def get(self, scope: str, voice_id: str) -> ClonedVoice | None:
        return self._scopes.get(scope, {}).get(voice_id)

    def of(self, scope: str) -> list[ClonedVoice]:
        return list(self._scopes.get(scope, {}).values())

    def delete(self, scope: str, voice_id: str) -> bool:
        return self._scopes.get(scope, {}).pop(voice_id, None) is not None

    def clear(self, scope: str | None = None) -> None:
        if scope is None:
            self._scopes.clear()
        else:
            self._scopes.pop(scope, None)
