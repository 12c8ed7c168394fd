"""What one request carries through the pipeline, for the handler and the journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockair.state.keys import Principal

if TYPE_CHECKING:
    from mockair.state.stubs import Rule


@dataclass(slots=True)
class RequestContext:
    journal_id: str
    request_id: str
    started: float  # perf_counter at arrival
    time: float  # virtual time at arrival
    method: str
    path: str
    control: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # first value of each, lower-case
    principal: Principal | None = None
    model: str | None = None
    body_bytes: bytes | None = None
    body_json: Any = None
    form: dict[str, Any] | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    stream: bool = False
    usage: dict[str, Any] | None = None
    cost_cents: str | None = None
    stub_id: str | None = None
    fault_id: str | None = None
    error_code: str | None = None
    traceback: str | None = None
    cut_rule: Rule | None = None  # a fault that cuts this stream, counted when it starts
    answering_model: str | None = None  # a fallback chosen at step 5
    rate_headers: dict[str, str] = field(default_factory=dict)  # x-ratelimit-* of this key
    facts: Any = None  # what stubs and faults match on
