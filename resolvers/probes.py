"""Probe rounds of ``partners(probe: true)``: one per request, shared for seconds across them.

A probe round calls every configured partner once. Anyone may ask for one (every client is
anonymous today), so a round is what one request gets however many aliases ask for it, and a
round that started less than :data:`REUSE_S` seconds ago answers the next requests too: thirty
aliases in thirty requests still make one call per partner every few seconds.

The round runs in a task of its own, so a request cancelled while it waits (its deadline)
does not cancel the round the others share.
"""

from __future__ import annotations

import asyncio
import time
import weakref

from sources.registry import SourceRegistry

REUSE_S = 5.0

Codes = dict[str, str | None]  # partner -> None when it answered, else the error code

_ROUNDS: weakref.WeakKeyDictionary[SourceRegistry, tuple[float, asyncio.Task[Codes]]] = (
    weakref.WeakKeyDictionary()
)


async def _probe_all(registry: SourceRegistry) -> Codes:
    codes = await asyncio.gather(*(registry.probe(s) for s in registry.sources))
    return {s.partner: code for s, code in zip(registry.sources, codes, strict=True)}


def shared_round(registry: SourceRegistry) -> asyncio.Task[Codes]:
    """The round every request may use now: the last one while it is recent, else a new one."""
    now = time.monotonic()
    known = _ROUNDS.get(registry)
    if known is not None:
        started, task = known
        failed = task.done() and (task.cancelled() or task.exception() is not None)
        if now - started < REUSE_S and not failed:
            return task
    task = asyncio.ensure_future(_probe_all(registry))
    _ROUNDS[registry] = (now, task)
    return task


def forget(registry: SourceRegistry) -> None:
    """Drop the shared round (tests that need a fresh probe)."""
    _ROUNDS.pop(registry, None)
