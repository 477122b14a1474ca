"""The opaque cursor of a merged list: every partner's own position, bound to the question.

A connection cursor holds, per partner, where its stream stands right after the edge it belongs
to: the adapter's :data:`~adapters.types.Position` (or, for a partner read in full, the sort key
of its last record given), whether it is done, and the short hashes of its records already
given ahead of that position (twins merged into another partner's record, so that the walk
does not give them twice). It is versioned and bound to a hash of the entity, the filters, the
partners asked and the plan: a cursor used with other filters is refused, not misread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from adapters.types import Position, freeze

CURSOR_VERSION = 2
MAX_CURSOR_LENGTH = 8192
MAX_SKIPPED = 64  # twins given ahead of a partner's position, remembered in the cursor


class BadCursor(ValueError):
    """The cursor was not made by this list for this question."""


def skip_hash(partner_id: str) -> str:
    """A short stand-in for a partner's own id (ids may be long; cursors stay small)."""
    return hashlib.blake2b(partner_id.encode(), digest_size=6).hexdigest()


@dataclass(slots=True)
class StreamState:
    position: Position = None
    done: bool = False
    skipped: list[str] = field(default_factory=list)

    def as_json(self) -> list[Any]:
        return [self.position, self.done, list(self.skipped)]

    def copy(self) -> StreamState:
        return StreamState(self.position, self.done, list(self.skipped))


def binding(entity: str, filters: Mapping[str, Any], plan: tuple[Any, ...]) -> str:
    raw = orjson.dumps([entity, repr(freeze(filters)), list(plan)])
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


def encode(bound: str, states: Mapping[str, StreamState]) -> str:
    raw = orjson.dumps(
        [CURSOR_VERSION, bound, {p: s.as_json() for p, s in states.items()}],
        option=orjson.OPT_SORT_KEYS,
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(value: str, bound: str, partners: frozenset[str]) -> dict[str, StreamState]:
    if not value or len(value) > MAX_CURSOR_LENGTH:
        raise BadCursor("not a cursor of this list")
    try:
        data = orjson.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, orjson.JSONDecodeError, ValueError):
        raise BadCursor("not a cursor of this list") from None
    if not isinstance(data, list) or len(data) != 3 or data[0] != CURSOR_VERSION:
        raise BadCursor("not a cursor of this list")
    if data[1] != bound:
        raise BadCursor("this cursor belongs to another question: the filters changed")
    states = data[2]
    if not isinstance(states, dict) or not set(states) <= partners:
        raise BadCursor("not a cursor of this list")
    decoded: dict[str, StreamState] = {}
    for partner, state in states.items():
        if (
            not isinstance(state, list)
            or len(state) != 3
            or not isinstance(state[1], bool)
            or not isinstance(state[2], list)
            or len(state[2]) > MAX_SKIPPED
            or not all(isinstance(s, str) and len(s) == 12 for s in state[2])
        ):
            raise BadCursor("not a cursor of this list")
        decoded[partner] = StreamState(state[0], state[1], list(state[2]))
    return decoded
