"""A list is completed inside the request's deadline: past it, items are errors, not work."""

from __future__ import annotations

import strawberry

from adapters import deadline
from resolvers.execution import HubExecutionContext


@strawberry.type
class Item:
    number: int


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(number=n) for n in range(50)]

    @strawberry.field
    def maybe_items(self) -> list[Item | None]:
        return [Item(number=n) for n in range(3)]


SCHEMA = strawberry.Schema(Query, execution_context_class=HubExecutionContext)


def test_a_list_completes_whole_inside_the_deadline() -> None:
    with deadline.within(60):
        result = SCHEMA.execute_sync("{ items { number } }")

    assert result.errors is None
    assert result.data == {"items": [{"number": n} for n in range(50)]}


def test_past_the_deadline_a_list_of_non_null_items_is_one_located_error() -> None:
    with deadline.within(-1):  # already over: as if the resolvers had used it all
        result = SCHEMA.execute_sync("{ items { number } }")

    assert result.data is None  # the non-null list, then the non-null root field, are cut
    assert result.errors is not None and len(result.errors) == 1
    error = result.errors[0]
    assert error.extensions == {"code": "DEADLINE_EXCEEDED"}
    assert error.path == ["items", 0]


def test_past_the_deadline_nullable_items_are_null_with_their_errors() -> None:
    with deadline.within(-1):
        result = SCHEMA.execute_sync("{ maybeItems { number } }")

    assert result.data == {"maybeItems": [None, None, None]}
    assert result.errors is not None
    assert [e.path for e in result.errors] == [["maybeItems", n] for n in range(3)]


def test_outside_any_deadline_nothing_is_checked() -> None:
    result = SCHEMA.execute_sync("{ items { number } }")

    assert result.errors is None and result.data is not None
