"""The query cost limit: checked right after validation, before any resolver runs.

A document whose cost (:mod:`resolvers.cost`) is over the request's limit
(``Context.max_query_cost``) is refused like an invalid one — no field executes, no partner is
called — with one error::

    {"message": "Query too complex: it costs 30800, the limit is 2500",
     "extensions": {"code": "QUERY_TOO_COMPLEX", "cost": 30800, "limit": 2500}}

Every answer, refused or not, says what it cost, as GitHub's and Shopify's APIs do:
``extensions.cost = {"requested": 130, "limit": 2500}``.

    schema = strawberry.Schema(Query, extensions=[ValidationCache, QueryCostLimit])

It must come after ``ValidationCache`` (which validates on entering the validation step): the
cost is only computed on a valid document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from resolvers.cost import model_for

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


class QueryCostLimit(SchemaExtension):
    def __init__(self) -> None:
        super().__init__()
        self._cost: int | None = None
        self._limit: int | None = None

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.pre_execution_errors is None and ec.graphql_document is not None:
            # No validation cache ran before this extension: validate here, as Strawberry would.
            ec.pre_execution_errors = validate_document(
                ec.schema._schema, ec.graphql_document, ec.validation_rules
            )
        context = ec.context
        limit = getattr(context, "max_query_cost", None)
        if not ec.pre_execution_errors and ec.graphql_document is not None and limit is not None:
            model = model_for(
                ec.schema._schema, context.max_page_size, context.max_entity_representations
            )
            cost = model.cost(ec.graphql_document, ec.operation_name, ec.variables)
            self._cost, self._limit = cost, limit
            if cost > limit:
                ec.pre_execution_errors = [
                    GraphQLError(
                        f"Query too complex: it costs {cost}, the limit is {limit}",
                        extensions={"code": QUERY_TOO_COMPLEX, "cost": cost, "limit": limit},
                    )
                ]
        yield

    def get_results(self) -> dict[str, Any]:
        if self._cost is None:
            return {}
        return {"cost": {"requested": self._cost, "limit": self._limit}}
