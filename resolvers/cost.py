"""What a query costs, from the ``@cost`` and ``@listSize`` directives of the schema.

The figure follows the GraphQL Foundation / IBM cost specification as federation routers apply
it (Apollo's demand control, Cosmo), so a router in front of the hub that reads the printed
schema computes the same number:

- a field weighs what its ``@cost(weight:)`` says, else what its type's ``@cost`` says, else 1
  for an object, interface or union and 0 for a scalar or an enum; an argument given in the
  query adds its own ``@cost``;
- a list multiplies the cost of one element (its weight and its selection) by its size: the
  value of a ``slicingArguments`` argument (a literal, a variable, else the argument's
  default), else ``assumedSize``; ``sizedFields`` hand that size to the named child lists (a
  Relay connection's ``edges``);
- aliases count (two aliases are two fields); fragments are expanded where they are spread,
  each fragment at most once on one path (validation refuses cycles anyway); the fragments of
  an abstract type are all counted (an upper bound).

Two departures, both where the hub refuses the query for its own reason first: a slicing
value is capped at the hub's page bound (``first`` past it is ``BAD_USER_INPUT``, not a
costly query), and ``_entities`` counts one element per representation, capped at the
representation bound, each weighing a look-up.

The weights themselves are the directives below; the resolvers put them on their fields.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)
from graphql.pyutils import Undefined
from graphql.utilities import get_operation_ast
from strawberry import UNSET
from strawberry.federation.schema_directives import Cost, ListSize

__all__ = [
    "DEFAULT_LIST_SIZE",
    "ENTITY",
    "LIST_CALL",
    "LOOKUP",
    "PROBE",
    "QueryCostModel",
    "about",
    "model_for",
    "page_of",
]

LIST_CALL = Cost(weight=100)
"""A field that asks partners for a list: it fans out to every partner listing the entity."""
LOOKUP = Cost(weight=5)
"""A field whose record is looked up at partners (batched per request by the DataLoaders)."""
PROBE = Cost(weight=50)
"""``partners(probe:)``: one call to every partner (once per request, shared for seconds)."""
DEFAULT_LIST_SIZE = 10
"""Size of a list field without ``@listSize`` (the schema test keeps that from happening)."""


def page_of(default: int) -> ListSize:
    """A Relay connection paged by ``first``: its ``edges`` hold ``first`` elements."""
    return ListSize(
        slicing_arguments=["first"],
        sized_fields=["edges"],
        assumed_size=default,
        require_one_slicing_argument=False,
    )


def about(size: int) -> ListSize:
    """A list read off a record whose length no argument sets: its usual length."""
    # UNSET: the printed schema shows the arguments that mean something, nothing else.
    return ListSize(
        assumed_size=size,
        slicing_arguments=UNSET,
        sized_fields=UNSET,
        require_one_slicing_argument=UNSET,
    )


ENTITY = "_entities"


@dataclass(frozen=True, slots=True)
class _Field:
    weight: int
    argument_weights: Mapping[str, int]
    is_list: bool
    assumed_size: int | None
    slicing: tuple[str, ...]
    sized_fields: frozenset[str]
    defaults: Mapping[str, Any]  # slicing argument -> its schema default


def _directive(holder: Any, kind: type[Any]) -> Any:
    definition = (getattr(holder, "extensions", None) or {}).get("strawberry-definition")
    for directive in getattr(definition, "directives", None) or ():
        if isinstance(directive, kind):
            return directive
    return None


class QueryCostModel:
    """The cost of documents against one schema. ``max_list`` caps slicing values (the page
    bound) and ``max_entities`` the representations counted."""

    def __init__(self, schema: GraphQLSchema, max_list: int, max_entities: int) -> None:
        self.schema = schema
        self.max_list = max_list
        self.max_entities = max_entities
        self._fields: dict[tuple[str, str], _Field] = {}

    def cost(
        self,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int:
        """The cost of the operation the request executes (0 when there is none to pick)."""
        # graphql-core's own choice, the one execution makes (None when it would refuse).
        operation = get_operation_ast(document, operation_name)
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        if operation is None:
            return 0
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        walk = _Walk(self, fragments, variables or {})
        return walk.selection(root, operation.selection_set, None, frozenset())

    def field(self, parent: GraphQLNamedType, name: str) -> _Field | None:
        known = self._fields.get((parent.name, name))
        if known is not None:
            return known
        definition = getattr(parent, "fields", {}).get(name)
        if definition is None:
            return None
        made = self._describe(definition)
        self._fields[(parent.name, name)] = made
        return made

    def _describe(self, definition: Any) -> _Field:
        named = get_named_type(definition.type)
        cost = _directive(definition, Cost) or _directive(named, Cost)
        weight = cost.weight if cost is not None else (0 if is_leaf_type(named) else 1)
        arguments = {}
        for arg_name, argument in definition.args.items():
            arg_cost = _directive(argument, Cost)
            if arg_cost is not None:
                arguments[arg_name] = arg_cost.weight
        size = _directive(definition, ListSize)
        slicing = tuple(size.slicing_arguments or ()) if size is not None else ()
        defaults = {
            name: definition.args[name].default_value
            for name in slicing
            if name in definition.args and definition.args[name].default_value is not Undefined
        }
        return _Field(
            weight=weight,
            argument_weights=arguments,
            is_list=is_list_type(get_nullable_type(definition.type)),
            assumed_size=size.assumed_size if size is not None else None,
            slicing=slicing,
            sized_fields=frozenset(size.sized_fields or ()) if size is not None else frozenset(),
            defaults=defaults,
        )


class _Walk:
    def __init__(
        self,
        model: QueryCostModel,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.model = model
        self.fragments = fragments
        self.variables = variables

    def selection(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode | None,
        sized: tuple[frozenset[str], int] | None,
        spread: frozenset[str],
    ) -> int:
        """The cost of a selection set on ``parent``; ``sized`` names the child lists whose
        size the parent field's slicing argument set."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                size = sized[1] if sized is not None and selection.name.value in sized[0] else None
                total += self.field(parent, selection, size, spread)
            elif isinstance(selection, InlineFragmentNode):
                typed = self._condition(selection.type_condition, parent)
                total += self.selection(typed, selection.selection_set, sized, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spread:
                    continue  # unknown or a cycle: validation refused both already
                typed = self._condition(fragment.type_condition, parent)
                total += self.selection(typed, fragment.selection_set, sized, spread | {name})
        return total

    def _condition(self, condition: Any, parent: GraphQLNamedType) -> GraphQLNamedType:
        if condition is None:
            return parent
        found = self.model.schema.get_type(condition.name.value)
        return found if found is not None else parent

    def field(
        self,
        parent: GraphQLNamedType,
        node: FieldNode,
        size_from_parent: int | None,
        spread: frozenset[str],
    ) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0  # __typename, introspection: no partner, no list of records
        described = self.model.field(parent, name)
        if described is None:
            return 0
        definition = parent.fields[name]  # type: ignore[attr-defined]
        arguments = {a.name.value: a.value for a in node.arguments or ()}
        cost = sum(w for arg, w in described.argument_weights.items() if arg in arguments)
        slice_size = self._slice(described, arguments)
        child_sized = (
            (described.sized_fields, slice_size)
            if described.sized_fields and slice_size is not None
            else None
        )
        element = described.weight + self.selection(
            get_named_type(definition.type), node.selection_set, child_sized, spread
        )
        if name == ENTITY and parent is self.model.schema.query_type:
            count = self._length(arguments.get("representations"))
            return cost + (element + LOOKUP.weight) * min(count, self.model.max_entities)
        if not described.is_list:
            return cost + element
        if size_from_parent is not None:
            size = size_from_parent
        elif slice_size is not None and not described.sized_fields:
            size = slice_size
        elif described.assumed_size is not None:
            size = described.assumed_size
        else:
            size = DEFAULT_LIST_SIZE
        return cost + element * size

    def _slice(self, described: _Field, arguments: Mapping[str, ValueNode]) -> int | None:
        """The list size a slicing argument asks for, capped at the page bound."""
        if not described.slicing:
            return None
        sizes = []
        for name in described.slicing:
            value = self._value(arguments.get(name))
            if value is None:
                value = described.defaults.get(name)
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # a JSON 50.0 is the Int 50 to graphql-core
            if isinstance(value, int) and not isinstance(value, bool):
                sizes.append(value)
        if not sizes:
            return described.assumed_size
        return max(0, min(max(sizes), self.model.max_list))

    def _value(self, node: ValueNode | None) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, IntValueNode):
            try:
                return int(node.value)
            except ValueError:
                return None
        return None

    def _length(self, node: ValueNode | None) -> int:
        if isinstance(node, ListValueNode):
            return len(node.values)
        if isinstance(node, VariableNode):
            value = self.variables.get(node.name.value)
            return len(value) if isinstance(value, list) else 1
        return 1 if node is not None else 0


@functools.lru_cache(maxsize=8)
def model_for(schema: GraphQLSchema, max_list: int, max_entities: int) -> QueryCostModel:
    """One model per schema and bounds: its field table is built once, on first use."""
    return QueryCostModel(schema, max_list, max_entities)
