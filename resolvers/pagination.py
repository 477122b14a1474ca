"""Relay-style connections over a merged, stably ordered list of records.

Cursors are keyset cursors: they hold the sort key of the last record seen, not an offset, so
a client walking every page sees each record exactly once even when the merged list is rebuilt
between two pages (a cache refresh, a partner coming back).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
import strawberry

from resolvers.errors import BadUserInput

T = TypeVar("T")
SortKey = tuple[str, ...]
_CURSOR_VERSION = 1
_MAX_CURSOR_LENGTH = 1024


@strawberry.type(description="Position in a paged list (Relay PageInfo).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items after this page.")
    has_previous_page: bool = strawberry.field(description="Items before this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(description="Pass it as `after` for the next page.")


def encode_cursor(key: SortKey) -> str:
    raw = orjson.dumps([_CURSOR_VERSION, *key])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str, arity: int) -> SortKey:
    if not value or len(value) > _MAX_CURSOR_LENGTH:
        raise BadUserInput("after", "not a cursor of this list")
    try:
        data = orjson.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, orjson.JSONDecodeError, ValueError):
        raise BadUserInput("after", "not a cursor of this list") from None
    if (
        not isinstance(data, list)
        or len(data) != arity + 1
        or data[0] != _CURSOR_VERSION
        or not all(isinstance(part, str) for part in data[1:])
    ):
        raise BadUserInput("after", "not a cursor of this list")
    return tuple(data[1:])


def check_first(first: int, maximum: int) -> None:
    if first < 1 or first > maximum:
        raise BadUserInput("first", f"must be between 1 and {maximum}")


@dataclass(slots=True)
class Slice(Generic[T]):
    items: list[tuple[SortKey, T]]
    has_next: bool
    has_previous: bool


def page(
    items: Sequence[T],
    key: Callable[[T], SortKey],
    first: int,
    after: str | None,
    arity: int,
    descending: bool = False,
) -> Slice[T]:
    """The ``first`` items after the cursor, in key order (descending when asked).

    ``arity`` is the length of the sort key, checked against the cursor.
    """
    cursor = decode_cursor(after, arity) if after is not None else None
    keyed = sorted(((key(item), item) for item in items), key=lambda kv: kv[0], reverse=descending)
    start = 0
    if cursor is not None:
        start = next(
            (i for i, (k, _) in enumerate(keyed) if (k < cursor if descending else k > cursor)),
            len(keyed),
        )
    chosen = keyed[start : start + first]
    return Slice(chosen, start + first < len(keyed), start > 0)


def page_info(chunk: Slice[Any]) -> PageInfo:
    return PageInfo(
        has_next_page=chunk.has_next,
        has_previous_page=chunk.has_previous,
        start_cursor=encode_cursor(chunk.items[0][0]) if chunk.items else None,
        end_cursor=encode_cursor(chunk.items[-1][0]) if chunk.items else None,
    )
