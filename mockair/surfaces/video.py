"""Video tasks (CONTRACT §3.9) on the task engine: create, poll, list, delete, stream."""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import Response, StreamingResponse

from mockair.catalog import Model
from mockair.errors import ApiError, InvalidValue, MissingField, RateLimited
from mockair.state.media import MediaItem
from mockair.state.tasks import TASK_TTL, Task, TaskState, seconds_until_done, status_at
from mockair.surfaces import _generation as gen
from mockair.surfaces.images import read_inputs
from mockair.synth.video import VideoSpec, render_mp4
from mockair.web.routing import ApiCall, api_route, applies_stubs, json_response
from mockair.web.sse import SSE_HEADERS, SSE_MEDIA_TYPE, named_event

CONCURRENT_TASKS = 4
POLL_SECONDS = 0.1  # real seconds between re-evaluations of a streamed task
KEEPALIVE_SECONDS = 15.0


class TaskNotFound(ApiError):
    status = 404
    code = "task_not_found"


def _check(body: dict[str, Any], model: Model) -> dict[str, Any]:
    caps = model.caps("video_caps")
    mode = body.get("mode", "text")
    if mode not in caps.get("modes", ["text"]):
        raise InvalidValue(
            f"mode: model '{model.id}' supports {', '.join(caps.get('modes', []))}", param="mode"
        )
    durations = caps.get("durations") or [5]
    duration = body.get("duration_seconds", min(durations))
    if duration not in durations:
        raise InvalidValue(
            f"duration_seconds: expected one of {', '.join(map(str, durations))}, got {duration}",
            param="duration_seconds",
        )
    ratios = caps.get("aspect_ratios") or ["16:9"]
    ratio = body.get("aspect_ratio", ratios[0])
    if ratio not in ratios:
        raise InvalidValue(
            f"aspect_ratio: expected one of {', '.join(ratios)}, got '{ratio}'",
            param="aspect_ratio",
        )
    qualities = caps.get("qualities") or ["720p"]
    quality = body.get("quality", "720p" if "720p" in qualities else qualities[0])
    if quality not in qualities:
        raise InvalidValue(
            f"quality: expected one of {', '.join(qualities)}, got '{quality}'", param="quality"
        )
    if body.get("sound") is True and not caps.get("sound"):
        raise InvalidValue(f"sound: model '{model.id}' makes silent videos", param="sound")
    images = body.get("input_images") or []
    if mode in ("image", "reference") and not images:
        raise MissingField(f"input_images: required in {mode} mode", param="input_images")
    if len(images) > caps.get("max_input_images", 4):
        raise InvalidValue(
            f"input_images: at most {caps.get('max_input_images', 4)}", param="input_images"
        )
    return {
        "mode": mode,
        "duration_seconds": duration,
        "aspect_ratio": ratio,
        "quality": quality,
        "sound": bool(body.get("sound", False)),
    }


def frame_ratio(body: dict[str, Any], caps: dict[str, Any]) -> str:
    """The aspect ratio of a compatibility request: aspect_ratio, aspectRatio or a WxH size."""
    ratios = caps.get("aspect_ratios") or ["16:9"]
    ratio = body.get("aspect_ratio") or body.get("aspectRatio")
    size = body.get("size")
    if ratio is None and isinstance(size, str) and "x" in size:
        width, _, height = size.partition("x")
        if width.isdigit() and height.isdigit() and int(width) and int(height):
            ratio = min(
                ratios,
                key=lambda r: abs(
                    int(r.split(":")[0]) / int(r.split(":")[1]) - int(width) / int(height)
                ),
            )
    ratio = ratio or ratios[0]
    if ratio not in ratios:
        raise InvalidValue(
            f"aspect_ratio: expected one of {', '.join(ratios)}, got '{ratio}'",
            param="aspect_ratio",
        )
    return ratio


def task_view(call: ApiCall, task: Task, state: TaskState | None = None) -> dict[str, Any]:
    if state is None:
        state = status_at(task, call.state.now(), call.state.settings.task_seconds)
    _settle(call, task, state)
    params = task.params
    result_url = (
        f"{call.base_url()}/media/{task.media_id}.mp4"
        if state.status == "completed" and task.media_id
        else None
    )
    return {
        "task_id": task.task_id,
        "status": state.status,
        "progress": state.progress,
        "model": params["model"],
        "prompt": params["prompt"],
        "mode": params["mode"],
        "duration_seconds": params["duration_seconds"],
        "aspect_ratio": params["aspect_ratio"],
        "quality": params["quality"],
        "sound": params["sound"],
        "seed": params["seed"],
        "created": math.floor(task.created),
        "started_at": _floor(state.started_at),
        "completed_at": _floor(state.completed_at) if state.status != "expired" else None,
        "expires_at": math.floor(state.expires_at),
        "result_url": result_url,
        "error": task.fails_with if state.status == "failed" else None,
        "cost_cents": task.cost_cents,
        "input_image_url": params.get("input_image_url"),
    }


def _floor(value: float | None) -> int | None:
    return math.floor(value) if value is not None else None


def _settle(call: ApiCall, task: Task, state: TaskState) -> None:
    """Side effects of reaching a state, done once: refunds of failed tasks, expired media."""
    if state.status == "failed" and not task.refunded:
        _refund(call, task)
    if state.status == "expired" and task.media_id:
        call.state.media.remove(task.media_id)


def _refund(call: ApiCall, task: Task) -> None:
    """Give the creating key its money back (whoever happens to read or delete the task)."""
    task.refunded = True
    if task.cost_cents and task.key:
        call.state.keys.usage_of(task.key).credits_used -= task.cost_cents


@applies_stubs
async def create(call: ApiCall) -> Response:
    body = call.body
    assert body is not None
    model = call.resolve_model(body["model"], ("video",), "video generation")
    for index, model_id in enumerate(body.get("models") or []):
        call.state.catalog.get_kind(
            model_id, ("video",), "video generation", param=f"models.{index}"
        )
    params = _check(body, model)
    refs = body.get("input_images") or [] if params["mode"] != "text" else []
    inputs, _ = read_inputs(call, refs) if refs else ([], [])
    call.authorize(model)
    respond = await gen.stub_for(call, task_route=True)
    fails_with = gen.task_failure(respond)
    state, now, seconds = call.state, call.state.now(), call.state.settings.task_seconds
    key = call.principal.key if call.principal is not None else None
    if key is not None:
        active = state.tasks.active_for_key(key, "video", now, seconds)
        if len(active) >= CONCURRENT_TASKS:
            wait = min(seconds_until_done(t, now, seconds) for t in active)
            raise RateLimited(
                f"At most {CONCURRENT_TASKS} video tasks may run at once.",
                code="concurrent_task_limit",
                retry_after=max(0.001, wait),
            )
    seed = gen.seed_of(call)
    scope = call.scope_id
    first_url = refs[0].get("url") if refs else None
    params.update(
        model=model.id,
        prompt=body["prompt"],
        seed=seed,
        input_image_url=first_url if first_url and not first_url.startswith("data:") else None,
    )
    cents = call.charged_cents(
        params["duration_seconds"] * model.price("price_per_video_second_cents")
    )
    headers = call.charge(cents)
    task = Task(
        fails_with=fails_with,
        task_id=state.ids.mint(scope, "vt_"),
        kind="video",
        scope=scope,
        key=key,
        created=now,
        params=params,
        cost_cents=round(cents, 4),
        media_id=state.ids.mint(scope, "vid_"),
    )
    spec = VideoSpec(
        body["prompt"],
        model.id,
        seed,
        params["duration_seconds"],
        params["aspect_ratio"],
        params["mode"],
    )
    state.media.put(
        MediaItem(
            task.media_id,
            "mp4",
            now,
            scope,
            render=functools.partial(render_mp4, spec, inputs[0] if inputs else None),
        )
    )
    state.tasks.add(task, now, seconds)
    # The create response always reports queued (CONTRACT §3.9.3), even with task_seconds 0.
    queued = TaskState("queued", 0, None, None, now + TASK_TTL)
    return json_response(task_view(call, task, queued), headers=headers)


def _task(call: ApiCall) -> Task:
    task_id = call.path_param("task_id")
    task = call.state.tasks.get(call.scope_id, task_id, "video")
    if task is None:
        raise TaskNotFound(f"Task '{task_id}' not found.", param="task_id")
    return task


async def get_task(call: ApiCall) -> Response:
    return json_response(task_view(call, _task(call)))


async def list_tasks(call: ApiCall) -> Response:
    tasks = call.state.tasks.of(call.scope_id, "video")[::-1][:100]
    return json_response({"object": "list", "data": [task_view(call, t) for t in tasks]})


async def delete_task(call: ApiCall) -> Response:
    task = _task(call)
    state = status_at(task, call.state.now(), call.state.settings.task_seconds)
    if not state.terminal and not task.refunded:
        _refund(call, task)
    if task.media_id:
        call.state.media.remove(task.media_id)
    call.state.tasks.delete(call.scope_id, task.task_id)
    return json_response({"deleted": True, "task_id": task.task_id})


async def stream_task(call: ApiCall) -> Response:
    task = _task(call)

    async def events() -> AsyncIterator[bytes]:
        last: tuple[str, int] | None = None
        quiet_since = time.monotonic()
        while True:
            state = status_at(task, call.state.now(), call.state.settings.task_seconds)
            if (state.status, state.progress) != last:
                last = (state.status, state.progress)
                quiet_since = time.monotonic()
                yield named_event("state", task_view(call, task, state))
                if state.status == "failed":
                    error = task.fails_with or {}
                    yield named_event(
                        "error",
                        {
                            "error": {
                                "message": error.get("message", "Task failed"),
                                "type": "upstream_error",
                                "code": error.get("code"),
                                "param": None,
                            }
                        },
                    )
                if state.terminal:
                    yield b"event: done\ndata: [DONE]\n\n"
                    return
            elif time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield b": keepalive\n\n"
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(events(), media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS)


ROUTES = [
    api_route(
        "/v1/video/generations",
        create,
        methods=("POST",),
        body="json",
        schema="video.generations.request",
        summary="Create a video task",
    ),
    api_route("/v1/video/tasks", list_tasks, summary="This key's video tasks, newest first"),
    api_route("/v1/video/tasks/{task_id}", get_task, summary="One video task"),
    api_route(
        "/v1/video/tasks/{task_id}",
        delete_task,
        methods=("DELETE",),
        summary="Cancel and delete a video task",
    ),
    api_route(
        "/v1/video/tasks/{task_id}/stream",
        stream_task,
        summary="Task progress as SSE (event: state ... event: done)",
        responses=("text/event-stream",),
    ),
]
