"""How long what one request read stays fresh: the inputs of a response cache entry.

The source registry notes, for every partner answer a request used, how many seconds it stays
fresh (``None``: not cacheable, e.g. a failure, a stale answer or PERSONAL data). The response
cache keeps a serialised answer only while every input is fresh, so it can never outlive the
partner answers it was made from.

Usage::

    with track() as inputs:
        ...  # execute the request; the registry calls note(...)
    if inputs.cacheable: store(answer, ttl=inputs.fresh_for)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from adapters.types import DataClass


@dataclass(slots=True)
class Inputs:
    fresh_for: float | None = None  # seconds; None: nothing noted yet
    cacheable: bool = True

    def note(self, fresh_for: float | None, data_class: DataClass) -> None:
        if fresh_for is None or fresh_for <= 0 or data_class == DataClass.PERSONAL:
            self.cacheable = False
            return
        self.fresh_for = fresh_for if self.fresh_for is None else min(self.fresh_for, fresh_for)


_current: ContextVar[Inputs | None] = ContextVar("hub_request_inputs", default=None)


@contextlib.contextmanager
def track() -> Iterator[Inputs]:
    inputs = Inputs()
    token = _current.set(inputs)
    try:
        yield inputs
    finally:
        _current.reset(token)


def note(fresh_for: float | None, data_class: DataClass) -> None:
    """Record one input of the current request (no-op outside :func:`track`)."""
    inputs = _current.get()
    if inputs is not None:
        inputs.note(fresh_for, data_class)
