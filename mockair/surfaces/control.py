"""The control plane under /_mockair (CONTRACT §4): health, reset, journal, clock, keys, and the
stub and fault rules."""

from __future__ import annotations

import time
from pathlib import Path

from starlette.responses import Response

from mockair import __version__
from mockair.errors import ApiError, InvalidValue
from mockair.settings import parse_epoch
from mockair.state import admin
from mockair.state.billing import roll_day
from mockair.state.clock import MAX_TIME
from mockair.state.keys import is_well_formed, mask
from mockair.state.stubs import RuleKind
from mockair.state.tasks import status_at
from mockair.web.routing import ApiCall, api_route, json_response


class NotFoundIn(ApiError):
    status = 404


def _scope_param(call: ApiCall) -> str | None:
    key = call.query("key")
    if key is None or key == "":
        return None
    if not is_well_formed(key):
        raise InvalidValue("key: expected a full API key (sk-air-...)", param="key")
    return admin.scope_of_key(call.state, key)


async def health(call: ApiCall) -> Response:
    state = call.state
    settings = state.settings
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "seed": settings.seed,
            "strict_keys": settings.strict_keys,
            "allow_unknown_fields": settings.allow_unknown_fields,
            "realtime": settings.realtime,
            "task_seconds": settings.task_seconds,
            "models": len(state.catalog),
            "uptime_seconds": round(time.monotonic() - state.started_real, 3),
            "clock": state.clock.snapshot(),
        }
    )


async def reset(call: ApiCall) -> Response:
    assert call.body is not None
    key = call.body.get("key")
    state = call.state
    if key is None:
        state.reset_all()
        admin.load_startup_files(state)
        return json_response({"reset": True, "scope": "all"})
    scope = admin.scope_of_key(state, key)
    state.reset_scope(scope)
    return json_response({"reset": True, "scope": mask(scope)})


async def list_requests(call: ApiCall) -> Response:
    status = call.query_int("status")
    entries = call.state.journal.select(
        scope=_scope_param(call),
        path=call.query("path") or None,
        method=call.query("method") or None,
        status=status,
        model=call.query("model") or None,
        since=call.query_float("since"),
    )
    total = len(entries)
    limit = call.query_int("limit", minimum=0)
    if limit is not None:
        entries = entries[-limit:] if limit else []
    return json_response({"requests": [e.as_dict() for e in entries], "total": total})


async def clear_requests(call: ApiCall) -> Response:
    return json_response({"deleted": call.state.journal.clear(_scope_param(call))})


async def get_request(call: ApiCall) -> Response:
    entry_id = call.path_param("id")
    entry = call.state.journal.get(entry_id)
    if entry is None:
        raise NotFoundIn(f"Request '{entry_id}' not found.", code="request_not_found", param="id")
    return json_response(entry.as_dict())


async def get_clock(call: ApiCall) -> Response:
    return json_response(call.state.clock.snapshot())


async def set_clock(call: ApiCall) -> Response:
    assert call.body is not None
    body = call.body
    clock = call.state.clock
    if "set" in body:
        try:
            moment = parse_epoch(body["set"])
        except ValueError:
            raise InvalidValue("set: expected unix seconds or ISO-8601", param="set") from None
        if moment < clock.now():
            raise InvalidValue(
                "set: the clock never moves backwards; expected a time >= now", param="set"
            )
        if moment > MAX_TIME:
            raise InvalidValue("set: the clock cannot go past 9999-12-31T23:59:59Z", param="set")
        clock.set(moment)
    if "advance" in body:
        try:
            clock.advance(float(body["advance"]))
        except ValueError as exc:
            raise InvalidValue(f"advance: {exc}", param="advance") from None
    if "speed" in body:
        clock.set_speed(float(body["speed"]))
    if "freeze" in body:
        clock.freeze(bool(body["freeze"]))
    return json_response(clock.snapshot())


async def list_keys(call: ApiCall) -> Response:
    keys, now = call.state.keys, call.state.now()
    views = [
        record.control_view(roll_day(keys.usage_of(record.key), now))
        for record in keys.records.values()
    ]
    return json_response({"keys": views})


async def register_key(call: ApiCall) -> Response:
    assert call.body is not None
    record = admin.register_key(call.state, call.body)
    return json_response(record.control_view(call.state.keys.usage_of(record.key)))


def _key_record(call: ApiCall):  # type: ignore[no-untyped-def]
    key = call.path_param("key")
    record = call.state.keys.get(key)
    if record is None:
        raise NotFoundIn(f"Key '{mask(key)}' not found.", code="key_not_found", param="key")
    return record


async def get_key(call: ApiCall) -> Response:
    record = _key_record(call)
    return json_response(record.control_view(call.state.keys.usage_of(record.key)))


async def delete_key(call: ApiCall) -> Response:
    record = _key_record(call)
    call.state.keys.delete(record.key)
    return json_response({"deleted": True, "key": mask(record.key)})


def _rules(kind: RuleKind):  # type: ignore[no-untyped-def]
    """The five handlers of /_mockair/stubs or /_mockair/faults, which have the same shape."""
    plural = f"{kind}s"

    def store(call: ApiCall):  # type: ignore[no-untyped-def]
        return call.state.stubs if kind == "stub" else call.state.faults

    def one(call: ApiCall):  # type: ignore[no-untyped-def]
        rule_id = call.path_param("id")
        rule = store(call).get(rule_id)
        if rule is None:
            raise NotFoundIn(
                f"{kind.capitalize()} '{rule_id}' not found.", code=f"{kind}_not_found", param="id"
            )
        return rule

    async def add(call: ApiCall) -> Response:
        assert call.body is not None
        body = dict(call.body)
        raw = call.ctx.body_json or {}
        if kind == "fault" and "status" in raw and raw["status"] is None:
            body["status"] = None  # null = latency only (CONTRACT §4.5), not "absent"
        return json_response(admin.add_rule(call.state, kind, body).as_dict())

    async def listing(call: ApiCall) -> Response:
        rules = store(call).visible(_scope_param(call))
        return json_response({plural: [r.as_dict() for r in rules]})

    async def clear(call: ApiCall) -> Response:
        return json_response({"deleted": store(call).clear(_scope_param(call))})

    async def get(call: ApiCall) -> Response:
        return json_response(one(call).as_dict())

    async def delete(call: ApiCall) -> Response:
        rule = one(call)
        store(call).delete(rule.id)
        return json_response({"deleted": True, "id": rule.id})

    base = f"/_mockair/{plural}"
    return [
        api_route(base, listing, auth="none", summary=f"List {plural} (global plus ?key= scope)"),
        api_route(
            base,
            add,
            methods=("POST",),
            auth="none",
            body="json",
            schema=f"control.{plural}.request",
            summary=f"Add a {kind}",
        ),
        api_route(
            base,
            clear,
            methods=("DELETE",),
            auth="none",
            summary=f"Delete all {plural} (or one scope's)",
        ),
        api_route(base + "/{id}", get, auth="none", summary=f"One {kind}"),
        api_route(
            base + "/{id}", delete, methods=("DELETE",), auth="none", summary=f"Delete one {kind}"
        ),
    ]


DASHBOARD = Path(__file__).resolve().parent.parent / "static" / "dashboard.html"


async def dashboard(call: ApiCall) -> Response:
    return Response(DASHBOARD.read_bytes(), media_type="text/html; charset=utf-8")


async def list_tasks(call: ApiCall) -> Response:
    """Every scope's tasks, newest first, for the dashboard."""
    state = call.state
    now, seconds = state.now(), state.settings.task_seconds
    tasks = state.tasks.all()
    tasks.sort(key=lambda t: t.created, reverse=True)
    out = []
    for task in tasks[:200]:
        status = status_at(task, now, seconds)
        out.append(
            {
                "id": task.task_id,
                "kind": task.kind,
                "scope": mask(task.scope),
                "status": status.status,
                "progress": status.progress,
            }
        )
    return json_response({"tasks": out})


async def list_media(call: ApiCall) -> Response:
    """The newest generated media (not voice previews), for the dashboard's gallery."""
    items = [item for item in call.state.media.items() if item.expires]
    base = call.base_url()
    return json_response(
        {
            "media": [
                {
                    "id": item.media_id,
                    "content_type": item.content_type,
                    "size": item.size,
                    "url": f"{base}/media/{item.media_id}.{item.ext}",
                }
                for item in items[-48:][::-1]
            ]
        }
    )


ROUTES = [
    api_route(
        "/_mockair",
        dashboard,
        auth="none",
        summary="The dashboard (HTML)",
        responses=("text/html",),
    ),
    api_route("/_mockair/tasks", list_tasks, auth="none", summary="Every scope's tasks"),
    api_route("/_mockair/media", list_media, auth="none", summary="The newest generated media"),
    api_route("/_mockair/health", health, auth="none", summary="Server status and clock"),
    api_route(
        "/_mockair/reset",
        reset,
        methods=("POST",),
        auth="none",
        body="json",
        schema="control.reset.request",
        body_required=False,
        summary="Reset everything, or one key's scope",
    ),
    api_route(
        "/_mockair/requests",
        list_requests,
        auth="none",
        summary="The request journal",
        query=("key", "path", "method", "status", "model", "since", "limit"),
    ),
    api_route(
        "/_mockair/requests",
        clear_requests,
        methods=("DELETE",),
        auth="none",
        summary="Clear the journal (or one scope's entries)",
        query=("key",),
    ),
    api_route("/_mockair/requests/{id}", get_request, auth="none", summary="One journal entry"),
    api_route("/_mockair/clock", get_clock, auth="none", summary="Read the virtual clock"),
    api_route(
        "/_mockair/clock",
        set_clock,
        methods=("POST",),
        auth="none",
        body="json",
        schema="control.clock.request",
        summary="Set, advance, speed up or freeze the clock",
    ),
    api_route("/_mockair/keys", list_keys, auth="none", summary="Registered keys with usage"),
    api_route(
        "/_mockair/keys",
        register_key,
        methods=("POST",),
        auth="none",
        body="json",
        schema="control.keys.request",
        summary="Register or update a key",
    ),
    api_route("/_mockair/keys/{key}", get_key, auth="none", summary="One registered key"),
    api_route(
        "/_mockair/keys/{key}",
        delete_key,
        methods=("DELETE",),
        auth="none",
        summary="Delete a registered key",
    ),
    *_rules("stub"),
    *_rules("fault"),
]
