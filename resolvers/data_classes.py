"""Which data class each GraphQL type holds (ARCHITECTURE, principle 4), read by the response cache.

Every entity type (a :class:`~resolvers.node.Node`) says its class with :func:`holds`; value
types (an address, a page) hold the class of whatever holds them and need no marker. The
response cache keeps no answer whose document can reach a type marked ``PERSONAL``, or an
entity type with no marker at all, so a new personal type is safe even before it is marked.

Usage::

    @holds(DataClass.PERSONAL)
    @strawberry.type
    class Candidate(Node): ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from adapters.types import DataClass

__all__ = ["FROM_CACHE_FIELDS", "data_class_of", "holds"]

T = TypeVar("T")
_ATTRIBUTE = "__hub_data_class__"

# (GraphQL type, field) pairs saying whether a value came from the hub's cache: an answer
# served from the response cache says true there, whatever the execution that made it said.
FROM_CACHE_FIELDS = frozenset({("Provenance", "fromCache")})


def holds(data_class: DataClass) -> Callable[[type[T]], type[T]]:
    """Mark a Strawberry type with the data class of what it holds."""

    def mark(cls: type[T]) -> type[T]:
        setattr(cls, _ATTRIBUTE, data_class)
        return cls

    return mark


def data_class_of(cls: type) -> DataClass | None:
    """The class's own marker; a subclass does not inherit its base's (it must say its own)."""
    found = vars(cls).get(_ATTRIBUTE)
    return found if isinstance(found, DataClass) else None
