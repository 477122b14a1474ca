"""Process-level tuning applied by the commands that run a server (not by tests).

The gateway allocates many short-lived objects per request (records, GraphQL results); the
cyclic collector's default gen-0 threshold (700) makes it scan the heap hundreds of times per
second under load, which profiles showed as a large share of the CPU of a warm request.
Almost everything is freed by reference counting, so a larger threshold costs little memory.
Objects alive after start-up (the schema, the reference data) are frozen out of the scans.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000


def tune_gc() -> None:
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
