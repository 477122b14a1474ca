"""What one request already asked a partner, and what its answer already became.

Several list calls of one request often send a partner the very same HTTP request: the nested
``employer { offers }`` lists of a page differ only by a filter the partner cannot apply, so
each of them asks for the same partner pages and tests the records itself. Inside a request
(:func:`scoped`, opened by the source layer's per-request budget) such a request is made once
and its parsed answer shared (:func:`once`), and each raw record of it is mapped once per
selection (:func:`slots`): ten nested scans then cost one scan's calls and mappings, plus ten
cheap filter tests per record.

The memo lives as long as the request and is seen by nothing else, so personal answers may go
through it too ("within one request it may be de-duplicated"). Every sharer gets the same
objects: they are read, never changed. Outside a request each call is made on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["once", "outside", "scoped", "slots"]

_MEMO: ContextVar[dict[Hashable, Any] | None] = ContextVar("hub_request_memo", default=None)


@contextlib.contextmanager
def scoped() -> Iterator[None]:
    """A fresh memo for the block (one request) and the tasks it starts."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


@contextlib.contextmanager
def outside() -> Iterator[None]:
    """No memo for the block: its answers are used once and dropped (a count read page by
    page in memory must not keep every page it read until the request ends)."""
    token = _MEMO.set(None)
    try:
        yield
    finally:
        _MEMO.reset(token)


async def once(key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
    """``call()``'s result, computed once per request for ``key``; a failure is shared too
    (asking again inside the same request would fail the same way, or cost a second call)."""
    memo = _MEMO.get()
    if memo is None:
        return await call()
    found = memo.get(key)
    if found is None:
        found = asyncio.ensure_future(call())
        memo[key] = found
    return await asyncio.shield(found)


def slots(key: Hashable, answer: list[Any]) -> list[Any]:
    """A list of one slot per record of ``answer`` (``None`` until its record is mapped),
    shared by every reader of that same answer under ``key`` in this request.

    The answer itself is kept beside its slots, so its ``id`` (part of ``key``) cannot be
    reused by another list while the memo lives."""
    memo = _MEMO.get()
    if memo is None:
        return [None] * len(answer)
    entry = memo.get(key)
    if entry is None or entry[0] is not answer:
        entry = (answer, [None] * len(answer))
        memo[key] = entry
    return entry[1]
