"""A faster path through graphql-core for the commonest field: scalars read off an attribute.

graphql-core handles every field alike: it builds a resolve-info object (sixteen values), asks
the middleware manager to wrap the resolver (Strawberry passes one on every request, empty
unless an extension implements ``resolve``), calls Strawberry's wrapper, which calls the
field's default resolver (``getattr``), tests the result for awaitability twice, then completes
it. For a field without arguments whose Strawberry definition has no resolver, no permission and
no extension, and whose type is a scalar or an enum (or a list of them), the answer is
``type.coerce_output_value(getattr(source, name))`` (for each item of a list): this executor
computes that directly, and drops an empty middleware manager. Anything else — a null where the
type forbids one, a value the scalar refuses, a schema with field middleware — takes
graphql-core's own path, so errors, their paths and null propagation stay graphql-core's.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
)
from graphql.pyutils import Path
from graphql.type import get_nullable_type, is_leaf_type, is_list_type, is_non_null_type
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from adapters import deadline

__all__ = ["HubExecutionContext"]


class _Plan(NamedTuple):
    attribute: str
    leaf: GraphQLLeafType
    nullable: bool
    many: bool  # a list of non-null leaves


# id(GraphQLField) -> (the field, its plan or None); fields live as long as the schema.
_PLANS: dict[int, tuple[GraphQLField, _Plan | None]] = {}


def _plan_of(field_def: GraphQLField) -> _Plan | None:
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if (
        not isinstance(definition, StrawberryField)
        or not getattr(field_def.resolve, "_is_default", False)  # Strawberry's basic field
        or field_def.args
    ):
        return None
    nullable = not is_non_null_type(field_def.type)
    inner: Any = get_nullable_type(field_def.type)
    many = is_list_type(inner)
    if many:
        if not is_non_null_type(inner.of_type):
            return None  # null items: graphql-core's path
        inner = get_nullable_type(inner.of_type)
    return _Plan(definition.python_name, inner, nullable, many) if is_leaf_type(inner) else None


def _plan(field_def: GraphQLField) -> _Plan | None:
    known = _PLANS.get(id(field_def))
    if known is not None and known[0] is field_def:
        return known[1]
    plan = _plan_of(field_def)
    _PLANS[id(field_def)] = (field_def, plan)
    return plan


class HubExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.middleware_manager is not None and not self.middleware_manager.middlewares:
            self.middleware_manager = None

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        field_def = self.schema.get_field(parent_type, node.name.value)
        plan = _plan(field_def) if field_def is not None and not node.arguments else None
        if plan is not None and self.middleware_manager is None:
            try:
                value = getattr(source, plan.attribute)
                if value is None:
                    if plan.nullable:
                        return None
                elif plan.many:
                    if isinstance(value, list):
                        coerce = plan.leaf.coerce_output_value
                        items = [coerce(item) for item in value]
                        if all(item is not None and item is not Undefined for item in items):
                            return items
                else:
                    coerced = plan.leaf.coerce_output_value(value)
                    if coerced is not Undefined and coerced is not None:
                        return coerced
            except Exception:  # noqa: S110 - graphql-core's path below reports it as it does
                pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def complete_list_item_value(
        self,
        item: Any,
        complete_results: list[Any],
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: Any,
        item_path: Path,
        position_context: Any,
    ) -> bool:
        if deadline.passed():
            late = GraphQLError(
                "the request's deadline passed", extensions={"code": deadline.DeadlineExceeded.code}
            )
            self.handle_field_error(late, item_type, field_details_list, item_path)
            complete_results.append(None)  # a nullable item: the rest of the list goes on
            return False
        return super().complete_list_item_value(
            item, complete_results, item_type, field_details_list, info, item_path, position_context
        )
