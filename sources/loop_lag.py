"""How late this process's event loop runs its callbacks: the gateway's own starvation.

A partner call that times out while the loop was too busy to read the answer (a CPU-bound
request, a long GC pause, an overload the gateway brought on itself) says nothing about the
partner, so the breaker must not count it. A periodic task sleeps ``interval_s`` and records how
much later than asked it woke up; :meth:`LoopLag.worst_since` gives the worst delay seen since an
instant, including the tick that is overdue right now (the sampler may not have run yet when a
timed-out call asks: both woke up after the same stall).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

INTERVAL_S = 0.05
KEPT_S = 65.0  # longer than any call may last (a partner deadline is at most 60 s)


class LoopLag:
    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._samples: deque[tuple[float, float]] = deque(maxlen=int(KEPT_S / interval_s))
        self._next_wake: float | None = None
        self._task: asyncio.Task[None] | None = None

    def ensure_running(self) -> None:
        """Start sampling on the running loop (once per loop; cheap when already running)."""
        task = self._task
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            return
        self._next_wake = None
        self._task = asyncio.get_running_loop().create_task(self._sample(), name="loop-lag")

    async def _sample(self) -> None:
        while True:
            self._next_wake = time.monotonic() + self.interval_s
            await asyncio.sleep(self.interval_s)
            woke = time.monotonic()
            self._samples.append((woke, max(0.0, woke - self._next_wake)))

    def worst_since(self, since: float) -> float:
        """The longest delay (seconds) the loop imposed on a callback since ``since``
        (``time.monotonic()``), the tick overdue now included."""
        now = time.monotonic()
        worst = 0.0 if self._next_wake is None else max(0.0, now - self._next_wake)
        for woke, lag in reversed(self._samples):
            if woke < since:
                break
            worst = max(worst, lag)
        return worst

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        if task.get_loop() is asyncio.get_running_loop():
            with contextlib.suppress(asyncio.CancelledError):
                await task
