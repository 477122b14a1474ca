"""What the gateway reports to ``/metrics``: the instruments, and the calls that feed them.

The HTTP edge feeds the request instruments itself (:mod:`gateway.request_metrics`); other parts
of the gateway report through these functions, which cost a few microseconds and never fail:

- :func:`observe_cost` — the static cost of a validated document (query cost analysis);
- :func:`admission_rejected` — a request refused by admission control (503 / 429), before it is
  parsed: counted, and the request is labelled ``overloaded`` whatever answers it;
- :func:`refused_overloaded` / :func:`admitted` — how long admission control took to answer a
  request, by decision (``hub_admission_seconds``); a refusal is also counted as a request
  and as a rejection (``hub_admission_rejections_total``), all in this one call;
- :func:`watch_admission` — how to read the admission state (requests executing, waiting),
  called at scrape time only, so the hot path pays nothing for the gauges.

No request value ever becomes a label: labels are operation kinds, outcomes, error codes, data
classes and partner ids, each from a bounded set; a label value outside its set is ``other``.
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from sources.partner_metrics import SECONDS_BUCKETS  # one set of latency buckets

COST_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000)

OPERATIONS = ("query", "mutation", "subscription", "other")
"""``other``: a request that executed no operation (refused before, or not a document)."""

OUTCOMES = ("ok", "partial", "bad_request", "overloaded", "deadline_exceeded", "error")
"""ok: no error; partial: data and errors (a partner down); bad_request: the client's mistake
(4xx, validation, cost, bad input); overloaded: refused by admission control; deadline_exceeded:
the request's own deadline; error: anything else (5xx, an answer with errors and no data)."""

# A `_created` series per labelled series doubles a scrape and no dashboard of ours reads it.
disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus-client leaves it unannotated

# Instruments are in no registry of their own: gateway.metrics collects them at scrape time,
# with the state it reads from the registry, the caches and the process.
REQUEST_SECONDS = Histogram(
    "hub_request_duration_seconds",
    "GraphQL requests at the HTTP edge, by operation kind and outcome",
    ["operation", "outcome"],
    buckets=SECONDS_BUCKETS,
    registry=None,
)
REQUESTS = Counter(
    "hub_requests",
    "GraphQL requests at the HTTP edge, by operation kind and outcome",
    ["operation", "outcome"],
    registry=None,
)
REQUEST_ERRORS = Counter(
    "hub_request_errors",
    "Errors in GraphQL answers, by extensions.code",
    ["code"],
    registry=None,
)
IN_FLIGHT = Gauge(
    "hub_requests_in_flight",
    "GraphQL requests inside the gateway (admitted or waiting), at the HTTP edge",
    registry=None,
)
QUERY_COST = Histogram(
    "hub_query_cost",
    "Static cost of each validated document (query cost analysis)",
    buckets=COST_BUCKETS,
    registry=None,
)
ADMISSION_SECONDS = Histogram(
    "hub_admission_seconds",
    "From a GraphQL request's arrival to admission control's answer: a slot taken (admitted, "
    "after any wait in the queue) or the 503 sent (queue_full, queue_timeout), by decision",
    ["decision"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=None,
)
ADMISSION_REJECTIONS = Counter(
    "hub_admission_rejections",
    "Requests refused by admission control before parsing, by reason",
    ["reason"],
    registry=None,
)
INSTRUMENTS = (
    REQUEST_SECONDS,
    REQUESTS,
    REQUEST_ERRORS,
    IN_FLIGHT,
    QUERY_COST,
    ADMISSION_SECONDS,
    ADMISSION_REJECTIONS,
)


# -- bounded labels -----------------------------------------------------------------------------

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,47}$")
_REASON = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
MAX_VALUES_PER_LABEL = 64
"""Distinct values one label may take in a process; past it new ones count as ``other``."""


class _BoundedValues:
    """The values one label has taken, at most :data:`MAX_VALUES_PER_LABEL` of them."""

    def __init__(self, shape: re.Pattern[str], other: str) -> None:
        self._shape = shape
        self._other = other
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: object) -> str:
        if not isinstance(value, str) or not self._shape.match(value):
            return self._other
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) >= MAX_VALUES_PER_LABEL:
                return self._other
            self._seen.add(value)
        return value


error_code = _BoundedValues(_CODE, "OTHER")
"""An error's ``extensions.code`` as a label value (``OTHER`` past the bound or misshapen)."""
_reason = _BoundedValues(_REASON, "other")


# -- the request being answered -----------------------------------------------------------------


@dataclass(slots=True)
class RequestRecord:
    """What the layers below the HTTP edge learn about the request it is timing."""

    operation: str | None = None  # set once the document is parsed
    executed: bool = False  # an operation ran (False: refused before, or a cached answer)
    has_data: bool = False
    codes: list[str] = field(default_factory=list)  # the answer's error codes, bounded
    overloaded: bool = False  # refused by admission control


_current: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar(
    "hub_request_record", default=None
)


def current_request() -> RequestRecord | None:
    """The record of the request this task is answering (None outside a timed request)."""
    return _current.get()


def start_request() -> tuple[RequestRecord, contextvars.Token[RequestRecord | None]]:
    record = RequestRecord()
    return record, _current.set(record)


def end_request(token: contextvars.Token[RequestRecord | None]) -> None:
    _current.reset(token)


# -- what other parts of the gateway report -----------------------------------------------------


def observe_cost(cost: float) -> None:
    """The static cost of one validated document (call once per request, before execution)."""
    QUERY_COST.observe(cost)


def refused_overloaded(decision: str, seconds: float) -> None:
    """A GraphQL request refused by admission control (``decision``: ``queue_full`` or
    ``queue_timeout``) ``seconds`` after it arrived, counted as the request metrics would have
    (the refusal is answered in front of them, to cost as little as it can)."""
    REQUESTS.labels("other", "overloaded").inc()
    REQUEST_SECONDS.labels("other", "overloaded").observe(seconds)
    REQUEST_ERRORS.labels("OVERLOADED").inc()
    ADMISSION_SECONDS.labels(_reason(decision)).observe(seconds)
    admission_rejected(decision)


_ADMITTED_SECONDS = ADMISSION_SECONDS.labels("admitted")  # bound once: paid by every request


def admitted(seconds: float) -> None:
    """A GraphQL request given a slot ``seconds`` after it arrived (its wait in the queue)."""
    _ADMITTED_SECONDS.observe(seconds)


def admission_rejected(reason: str = "overloaded") -> None:
    """A request refused by admission control (``reason``: a snake_case word, e.g.
    ``in_flight``, ``queue_full``, ``queue_timeout``)."""
    ADMISSION_REJECTIONS.labels(_reason(reason)).inc()
    record = _current.get()
    if record is not None:
        record.overloaded = True


@dataclass(frozen=True, slots=True)
class AdmissionState:
    """How to read admission control's state; called at scrape time (from another thread
    when ``/metrics`` has its own port): each callable only reads a number."""

    executing: Callable[[], int]
    waiting: Callable[[], int]


_admission: AdmissionState | None = None


def watch_admission(executing: Callable[[], int], waiting: Callable[[], int]) -> None:
    """Expose admission control's gauges: ``hub_admission_in_flight`` (requests executing)
    and ``hub_admission_queued`` (admitted, waiting for a slot). The last call wins (one
    admission controller per process)."""
    global _admission
    _admission = AdmissionState(executing, waiting)


def admission_state() -> AdmissionState | None:
    return _admission


__all__ = [
    "INSTRUMENTS",
    "OPERATIONS",
    "OUTCOMES",
    "AdmissionState",
    "RequestRecord",
    "admission_rejected",
    "admission_state",
    "current_request",
    "end_request",
    "error_code",
    "observe_cost",
    "start_request",
    "watch_admission",
]
