"""The partner calls of one request: a budget, and a memo of identical calls.

Each request gets a :class:`RequestCalls` (made with its context; :func:`scoped` makes it the
current one while the request executes). The source registry charges it at the very moment
it is about to call a partner — a cache hit, or an answer shared with an identical call in
flight, costs nothing — and past the budget it raises :class:`PartnerCallBudget` instead of
calling: the field gets an error naming the partner and ``PARTNER_CALL_BUDGET``, the breaker
counts nothing (the partner did nothing wrong), and the rest of the answer stands.

Calls the cache does not answer (caching off for that partner, or personal data, which never
enters a shared cache) are memoised for the request: the same list call twice in one request
is made once. Outside a request (``/readyz``, the command line) nothing is charged.

A call in flight is shared by identical calls of other requests (the cache's single flight),
so the request that started it is the one charged; a refusal raised for that request reaches
the others too, and :func:`retry_if_not_ours` makes their own attempt instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from adapters import request_memo
from adapters.errors import SourceError

T = TypeVar("T")
P = ParamSpec("P")

__all__ = [
    "PartnerCallBudget",
    "RequestCalls",
    "current",
    "memoised",
    "retry_if_not_ours",
    "scoped",
    "spend",
]


class PartnerCallBudget(SourceError):
    """The request has made all the partner calls it may; this one was not made."""

    code = "PARTNER_CALL_BUDGET"

    def __init__(self, partner: str, calls: RequestCalls) -> None:
        super().__init__(
            partner,
            f"this request made its {calls.limit} partner calls; the partner was not called",
        )
        self.calls = calls


@dataclass(eq=False)
class RequestCalls:
    """What one request spent; ``limit`` None: no budget (the memo still applies)."""

    limit: int | None = None
    made: int = 0
    _memo: dict[Hashable, asyncio.Future[Any]] = field(default_factory=dict)

    def spend(self, partner: str) -> None:
        if self.limit is not None and self.made >= self.limit:
            raise PartnerCallBudget(partner, self)
        self.made += 1


_CURRENT: ContextVar[RequestCalls | None] = ContextVar("hub_request_calls", default=None)


def current() -> RequestCalls | None:
    return _CURRENT.get()


@contextlib.contextmanager
def scoped(calls: RequestCalls) -> Iterator[RequestCalls]:
    """Make ``calls`` the current request's while the block runs (and the tasks it starts)."""
    token = _CURRENT.set(calls)
    try:
        with request_memo.scoped():  # and the identical HTTP requests of it are made once
            yield calls
    finally:
        _CURRENT.reset(token)


def spend(partner: str) -> None:
    """Charge one call to ``partner`` to the current request (raises past its budget)."""
    calls = _CURRENT.get()
    if calls is not None:
        calls.spend(partner)


async def retry_if_not_ours(
    call: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
) -> T:
    """``await call(*args, **kwargs)``, a call that may join another request's flight; if that
    flight was refused by the other request's budget, not ours, make our own attempt."""
    try:
        return await call(*args, **kwargs)
    except PartnerCallBudget as refused:
        if refused.calls is current():
            raise
        # One turn of the loop: the refused flight's own callbacks forget it first, so this
        # attempt starts a flight of its own instead of joining the finished one.
        await asyncio.sleep(0)
        return await call(*args, **kwargs)


async def memoised(key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
    """``call()``'s result, computed once per request for ``key`` (every caller gets the same
    object: copy before changing it). Outside a request: just ``call()``."""
    calls = _CURRENT.get()
    if calls is None:
        return await call()
    found = calls._memo.get(key)
    if found is None:
        found = asyncio.ensure_future(call())
        calls._memo[key] = found
    return await asyncio.shield(found)
