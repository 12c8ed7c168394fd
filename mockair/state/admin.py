"""Operations of the control plane and the startup files on the state (CONTRACT §4, §5.2, §5.3).

Bodies reaching these functions are already validated against their schema; the functions add
the rules that need the state (scopes, ids, regexes).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mockair.errors import ApiError, InvalidValue
from mockair.state import ConfigError, ServerState, read_json_file
from mockair.state.ids import GLOBAL_SCOPE
from mockair.state.keys import KeyRecord, is_well_formed
from mockair.state.stubs import Rule, RuleKind

FAULT_DEFAULT_CODES: dict[int, str] = {
    400: "invalid_value",
    401: "invalid_api_key",
    403: "model_not_allowed",
    404: "route_not_found",
    413: "payload_too_large",
    429: "rate_limit_exceeded",
    500: "internal_error",
    502: "bad_gateway",
    503: "upstream_unavailable",
    504: "gateway_timeout",
}


def scope_of_key(state: ServerState, key: str) -> str:
    """The account (isolation scope) a full key belongs to."""
    record = state.keys.get(key)
    return record.scope if record is not None else key


def register_key(state: ServerState, body: dict[str, Any]) -> KeyRecord:
    settings = dict(body)
    key = settings.pop("key", None)
    owner = settings.get("owner")
    if "primary" not in settings:
        settings["primary"] = owner is None
    if settings["primary"]:
        settings["owner"] = None
    elif owner is None:
        raise InvalidValue(
            "owner: a secondary key needs the primary key that owns it", param="owner"
        )
    scope = owner if owner is not None else GLOBAL_SCOPE
    if key is None:
        key = state.ids.mint_key(scope)
    elif not is_well_formed(key):
        raise InvalidValue("key: expected sk-air- followed by letters, digits, _ or -", param="key")
    return state.keys.upsert(key, settings, now=state.now())


def add_rule(state: ServerState, kind: RuleKind, body: dict[str, Any]) -> Rule:
    match = body.get("match") or {}
    regex = match.get("regex")
    if regex is not None:
        try:
            re.compile(regex)
        except re.error as exc:
            raise InvalidValue(
                f"match.regex: invalid regular expression ({exc})", param="match.regex"
            ) from None
    key = match.get("key")
    scope = scope_of_key(state, key) if key else None
    spec = {"match": match, **{k: v for k, v in body.items() if k not in ("match", "times")}}
    times = body.get("times")
    store = state.stubs if kind == "stub" else state.faults
    rule = Rule(
        kind=kind,
        id=state.ids.mint(scope or GLOBAL_SCOPE, f"{kind}_"),
        scope=scope,
        spec=spec,
        created=int(state.now() // 1),
        times=times,
        remaining=times,
    )
    return store.add(rule)


def _entries(document: Any, name: str, what: str) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get(name, []), list):
        return list(document.get(name, []))
    raise ConfigError(f"{what}: expected an object with a {name!r} list, or a list")


def load_keys(state: ServerState, source: str | Path | tuple[dict[str, Any], ...]) -> int:
    document = read_json_file(source, "keys") if isinstance(source, str | Path) else list(source)
    entries = _entries(document, "keys", "keys file")
    for index, entry in enumerate(entries):
        label = f"keys file entry {index}"
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            label += f" ({entry['key']})"
        if not isinstance(entry, dict) or "key" not in entry:
            raise ConfigError(f"{label}: expected an object with a 'key'")
        try:
            cleaned = state.schemas.validate("control.keys.request", entry)
            record = register_key(state, cleaned)
        except ApiError as exc:
            raise ConfigError(f"{label}: {exc.message}") from None
        record.source = "file"
    return len(entries)


def load_stubs(state: ServerState, source: str | Path | dict[str, Any]) -> int:
    document = read_json_file(source, "stubs") if isinstance(source, str | Path) else source
    if not isinstance(document, dict):
        raise ConfigError("stubs file: expected an object with 'stubs' and/or 'faults' lists")
    count = 0
    for kind, name in (("stub", "stubs"), ("fault", "faults")):
        for index, entry in enumerate(_entries(document, name, "stubs file")):
            label = f"stubs file {name}[{index}]"
            if not isinstance(entry, dict):
                raise ConfigError(f"{label}: expected an object")
            try:
                cleaned = state.schemas.validate(f"control.{name}.request", entry)
                add_rule(state, kind, {**cleaned, **_kept_nulls(entry)})  # type: ignore[arg-type]
            except ApiError as exc:
                raise ConfigError(f"{label}: {exc.message}") from None
            count += 1
    return count


def _kept_nulls(body: dict[str, Any]) -> dict[str, Any]:
    # A fault's "status": null means latency only, unlike other nulls (= absent).
    return {"status": None} if "status" in body and body["status"] is None else {}


def load_startup_files(state: ServerState) -> None:
    settings = state.settings
    if settings.keys is not None:
        load_keys(state, settings.keys)
    if settings.stubs is not None:
        load_stubs(state, settings.stubs)
