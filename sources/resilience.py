"""Per-partner protection: circuit breaker and health, kept in process memory.

A breaker opens after ``failure_threshold`` consecutive failures; while open, calls fail with
``CIRCUIT_OPEN`` without reaching the partner. After ``cool_down_s`` one probe call is let
through (half-open): success closes the breaker, failure re-opens it for another cool-down.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from adapters.config import BreakerPolicy


class Breaker:
    def __init__(self, policy: BreakerPolicy) -> None:
        self._policy = policy
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._probing or time.monotonic() - self._opened_at >= self._policy.cool_down_s:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """Whether a call may go to the partner now (claims the half-open probe slot)."""
        if not self._policy.enabled or self._opened_at is None:
            return True
        if self._probing:
            return False
        if time.monotonic() - self._opened_at >= self._policy.cool_down_s:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def failure(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self._policy.failure_threshold:
            self._opened_at = time.monotonic()
        self._probing = False

    def release(self) -> None:
        """A call that neither succeeded nor failed at the partner (cancelled): free the probe."""
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

    def record_failure(self, code: str) -> None:
        self.calls += 1
        self.failures += 1
        self.last_failure_at = time.time()
        self.last_error_code = code
