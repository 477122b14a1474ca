"""What the mappings did, process-wide: records mapped, records dropped and the fields to blame.

Every :class:`~adapters.mapping.Mapper` reports here, so ``/metrics`` (``hub_records_mapped_total``
and ``hub_records_dropped_total``) and the benchmark can count the records a query cost, and an
answer of which nothing fits can name the fields that failed. Only names, partner paths and
partners-file lines are kept, never a value: they go to logs, metrics and client errors.

A record that fails on two fields counts once under each field in the dropped counter.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_RECENT = 32  # failures kept per (partner, entity) to name them in the error that follows


@dataclass(frozen=True, slots=True)
class FieldFailure:
    """One common-syntax field that could not be read from one record (without its value)."""

    field: str  # the common-syntax field: ``sessions.capacity`` (``id`` for the identifier)
    path: str | None  # the partner path it is read from: ``capacite``
    line: str | None  # where the mapping is written: ``partners.toml:42``
    reason: str  # ``expected an integer``
    location: tuple[str, ...] = ()  # key path under the entity: ("fields", "sessions", ...)

    def describe(self) -> str:
        where = [f"path `{self.path}`"] if self.path else []
        if self.line:
            where.append(self.line)
        return (
            f"{self.field} ({', '.join(where)}): {self.reason}"
            if where
            else (f"{self.field}: {self.reason}")
        )


_lock = threading.Lock()
_mapped: Counter[tuple[str, str]] = Counter()
_dropped: Counter[tuple[str, str, str]] = Counter()
_recent: dict[tuple[str, str], deque[FieldFailure]] = {}
_watchers: ContextVar[list[tuple[str, str, FieldFailure]] | None] = ContextVar(
    "mapping_watchers", default=None
)


def count_mapped(partner: str, entity: str, records: int) -> None:
    if records:
        with _lock:
            _mapped[(partner, entity)] += records


def count_dropped(partner: str, entity: str, failures: Sequence[FieldFailure]) -> None:
    """One record dropped, for every field in ``failures``."""
    with _lock:
        recent = _recent.setdefault((partner, entity), deque(maxlen=_RECENT))
        for failure in failures:
            _dropped[(partner, entity, failure.field)] += 1
            recent.append(failure)
    watching = _watchers.get()
    if watching is not None:
        watching.extend((partner, entity, failure) for failure in failures)


def recent_failures(partner: str, entity: str) -> list[FieldFailure]:
    """The distinct fields that failed last in this mapping, most recent first."""
    with _lock:
        recent = list(_recent.get((partner, entity), ()))
    seen: dict[str, FieldFailure] = {}
    for failure in reversed(recent):
        seen.setdefault(failure.field, failure)
    return list(seen.values())


def mapped_counts() -> dict[tuple[str, str], int]:
    with _lock:
        return dict(_mapped)


def dropped_counts() -> dict[tuple[str, str, str], int]:
    with _lock:
        return dict(_dropped)


@contextmanager
def watching_failures() -> Iterator[list[tuple[str, str, FieldFailure]]]:
    """Collect every (partner, entity, failure) mapped in this context (and the tasks and
    threads it starts), e.g. for ``check-config --probe``."""
    seen: list[tuple[str, str, FieldFailure]] = []
    token = _watchers.set(seen)
    try:
        yield seen
    finally:
        _watchers.reset(token)
