"""Argument validation: every bad input becomes ``BAD_USER_INPUT`` naming the argument,
before any partner is called."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from reference import identifiers
from resolvers.errors import BadUserInput

T = TypeVar("T")
MAX_LIST_ITEMS = 50


def one(argument: str, value: str, check: Callable[[str], T]) -> T:
    try:
        return check(value)
    except identifiers.InvalidIdentifier as error:
        raise BadUserInput(argument, f"{error.kind}: {error.reason}") from None


def many(argument: str, values: Sequence[str] | None, check: Callable[[str], T]) -> list[T]:
    if values is None:
        return []
    if len(values) > MAX_LIST_ITEMS:
        raise BadUserInput(argument, f"at most {MAX_LIST_ITEMS} values")
    return [one(argument, v, check) for v in values]


def levels(argument: str, values: Sequence[int] | None) -> list[int]:
    if values is None:
        return []
    if len(values) > MAX_LIST_ITEMS:
        raise BadUserInput(argument, f"at most {MAX_LIST_ITEMS} values")
    for value in values:
        if not 3 <= value <= 8:
            raise BadUserInput(argument, "a European framework level between 3 and 8")
    return list(values)


def radius(argument: str, value: float) -> float:
    if not 0 <= value <= 200:
        raise BadUserInput(argument, "between 0 and 200 km")
    return value


def coordinate(argument: str, value: float, limit: float) -> float:
    if not -limit <= value <= limit:
        raise BadUserInput(argument, f"between -{limit:g} and {limit:g} degrees")
    return value


def instant(argument: str, value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def partner_names(argument: str, values: Sequence[str] | None, known: Sequence[str]) -> list[str]:
    if values is None:
        return []
    unknown = [v for v in values if v not in known]
    if unknown:
        raise BadUserInput(argument, "unknown partner; see the `partners` query")
    return list(values)
