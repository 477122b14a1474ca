"""Per-partner protection: circuit breaker and health, kept in process memory.

A breaker opens after ``failure_threshold`` consecutive failures *of the partner*; while open,
calls fail with ``CIRCUIT_OPEN`` without reaching the partner. After the cool-down one probe
call is let through (half-open): success closes the breaker, failure re-opens it for twice the
previous cool-down (from ``cool_down_s``, 1 s by default, up to ``max_cool_down_s``), so a
partner back after a burst is used again within a second while one that stays down is probed
ever less often.

What counts as a failure is decided by :meth:`sources.registry.Source.call`: timeouts,
connection errors, 5xx, and bad answers to well-formed questions. Not counted (:meth:`release`):
a question the partner refused because of the values a client sent
(:class:`~adapters.errors.SourceRejected`), a timeout while the gateway's own event loop was
starved or before the partner was even called (the gateway's overload, not the partner's), a
cancelled call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from adapters.config import BreakerPolicy


@dataclass(frozen=True, slots=True)
class ResiliencePolicy:
    """The gateway-wide part of partner protection (settings ``HUB_DEADLINE_MARGIN_S`` and
    ``HUB_LOOP_LAG_THRESHOLD_S``)."""

    deadline_margin_s: float = 0.25  # kept from the request's budget to merge and answer
    loop_lag_threshold_s: float = 0.25  # a stall this long exonerates a timed-out partner


class Breaker:
    def __init__(self, policy: BreakerPolicy) -> None:
        self._policy = policy
        self._failures = 0
        self._opened_at: float | None = None
        self._cool_down_s = policy.cool_down_s
        self._probing = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._probing or self._cooled_down():
            return "half_open"
        return "open"

    @property
    def cool_down_s(self) -> float:
        """The wait before the next probe (grows with each failed probe)."""
        return self._cool_down_s

    def _cooled_down(self) -> bool:
        return self._opened_at is not None and (
            time.monotonic() - self._opened_at >= self._cool_down_s
        )

    def allow(self) -> bool:
        """Whether a call may go to the partner now (claims the half-open probe slot)."""
        if not self._policy.enabled or self._opened_at is None:
            return True
        if self._probing:
            return False
        if self._cooled_down():
            self._probing = True
            return True
        return False

    def success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._cool_down_s = self._policy.cool_down_s
        self._probing = False

    def failure(self) -> None:
        self._failures += 1
        if self._probing:
            self._cool_down_s = min(self._cool_down_s * 2, self._policy.max_cool_down_s)
            self._opened_at = time.monotonic()
        elif self._failures >= self._policy.failure_threshold:
            if self._opened_at is None:
                self._cool_down_s = self._policy.cool_down_s
            self._opened_at = time.monotonic()
        self._probing = False

    def release(self) -> None:
        """A call that says nothing of the partner's health: frees the probe slot."""
        self._probing = False


@dataclass(slots=True)
class Health:
    last_success_at: float | None = None
    last_failure_at: float | None = None
    last_error_code: str | None = None
    calls: int = 0
    failures: int = 0

    def record_success(self) -> None:
        self.calls += 1
        self.last_success_at = time.time()

    def record_uncounted(self) -> None:
        """A call that failed for a reason not the partner's (the gateway's own overload): it
        counts as a failed call, but does not make the partner look down."""
        self.calls += 1
        self.failures += 1

    def record_failure(self, code: str) -> None:
        self.calls += 1
        self.failures += 1
        self.last_failure_at = time.time()
        self.last_error_code = code
