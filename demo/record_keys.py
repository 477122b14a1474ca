"""The ONS record keys the demo's owners store with their records, for the observatory.

An owner that counts for the hub stores, with each record, a key drawn once from 0..2^32-1
and sums them per cell (:mod:`observatory.perturbation`). The demo's owners store the key the
hub itself gives a record it counts in memory, the HMAC of ``"<partner>:<entity>:<own id>"``
under the demo's secret (:func:`observatory.record_key`), so that a count pushed down to them
and the same count made in memory give the same cell keys, and the tests can compare them. A
real owner draws its keys as it likes; nothing requires them to match the hub's.
"""

from __future__ import annotations

import os

from observatory.perturbation import record_key

SECRET_ENV = "HUB_OBSERVATORY_KEY_SECRET"
DEMO_SECRET = "demo-observatory-record-keys"


def secret() -> bytes:
    """The record keys' secret: ``HUB_OBSERVATORY_KEY_SECRET``, else the demo's."""
    return os.environ.get(SECRET_ENV, DEMO_SECRET).encode()


def demo_record_key(partner: str, entity: str, own_id: object) -> int:
    return record_key(secret(), f"{partner}:{entity}:{own_id}")


__all__ = ["DEMO_SECRET", "SECRET_ENV", "demo_record_key", "secret"]
