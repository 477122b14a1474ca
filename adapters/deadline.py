"""The instant by which the work in progress must end, carried in a context variable.

Deadlines compose by narrowing: the HTTP edge opens a scope for the whole request
(:class:`gateway.deadline.RequestDeadline`), the source layer opens a narrower one around each
partner call (``min(partner deadline, what the request has left - a margin)``), and whatever
runs inside reads :func:`remaining` (the HTTP seam, to honour a ``Retry-After`` only when it
fits) or calls :func:`check` between the items of a CPU-bound loop. A scope never widens the
one it is opened in. Tasks started inside a scope inherit it (asyncio copies the context).

    with within(5.0):            # the request
        with within(2.0):        # one partner call: ends at the earlier of the two
            remaining()          # -> at most 2.0
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ends_at: ContextVar[float | None] = ContextVar("hub_deadline", default=None)


class DeadlineExceeded(Exception):
    """The request's deadline passed during CPU-bound work (a merge, a long list)."""

    code = "DEADLINE_EXCEEDED"


def remaining() -> float | None:
    """Seconds left before the current deadline (may be negative); None outside any scope."""
    ends_at = _ends_at.get()
    return None if ends_at is None else ends_at - time.monotonic()


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """A scope ending ``seconds`` from now, or with the enclosing scope if that ends sooner."""
    ends_at = time.monotonic() + seconds
    outer = _ends_at.get()
    token = _ends_at.set(ends_at if outer is None else min(outer, ends_at))
    try:
        yield
    finally:
        _ends_at.reset(token)


def passed() -> bool:
    """Whether the current deadline has passed (False outside any scope): one clock read."""
    ends_at = _ends_at.get()
    return ends_at is not None and time.monotonic() > ends_at


def check() -> None:
    """Raise :class:`DeadlineExceeded` once the current deadline has passed (cheap: one clock
    read), so a loop without awaits cannot run past the request's deadline."""
    ends_at = _ends_at.get()
    if ends_at is not None and time.monotonic() > ends_at:
        raise DeadlineExceeded("the request's deadline passed")
