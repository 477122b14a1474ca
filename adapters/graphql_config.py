"""Configuration of a remote GraphQL service (kind ``graphql``); the adapter and a worked
example are in :mod:`adapters.graphql`, the writes in :mod:`adapters.graphql_writes`.

Every query (and mutation) is parsed when the file is loaded, and each variable the gateway
fills must be declared by it: a broken document is a ``check-config`` error, not a failure at
the first request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from graphql import (
    GraphQLSyntaxError,
    ListTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    TypeNode,
    VariableDefinitionNode,
    parse,
)
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from adapters.config import EntityMapping, HttpPartnerBase, ListSort, PrincipalSetting, Strict
from adapters.mapping import valid_path
from adapters.syntax import FILTERS, LOOKUP_KEYS, lookup_key_path


def _syntax_error(error: GraphQLSyntaxError) -> PydanticCustomError:
    line, column = error.locations[0] if error.locations else (None, None)
    return PydanticCustomError(
        "graphql_syntax",
        "GraphQL syntax error: {reason} (line {line}, column {column} of the query)",
        {
            "reason": error.message.removeprefix("Syntax Error: "),
            "line": line,
            "column": column,
            "hint": "try the query in the partner's GraphiQL; `$name` declares a variable",
        },
    )


def _operation(query: str) -> OperationDefinitionNode:
    """The one query operation of ``query``; raises pydantic-friendly errors."""
    try:
        document = parse(query, no_location=False)
    except GraphQLSyntaxError as error:
        raise _syntax_error(error) from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        raise PydanticCustomError(
            "graphql_operation",
            "the query must hold exactly one operation, found {count}",
            {"count": len(operations), "hint": "keep one `query { ... }` (fragments are fine)"},
        )
    if operations[0].operation is not OperationType.QUERY:
        raise PydanticCustomError(
            "graphql_operation",
            "only query operations are allowed, found a {kind}",
            {"kind": operations[0].operation.value, "hint": "the hub only reads partners here"},
        )
    return operations[0]


def declared_variables(query: str) -> dict[str, VariableDefinitionNode]:
    return {v.variable.name.value: v for v in _operation(query).variable_definitions or ()}


def is_list_type(node: TypeNode) -> bool:
    if isinstance(node, NonNullTypeNode):
        node = node.type
    return isinstance(node, ListTypeNode)


def _required(definitions: Mapping[str, VariableDefinitionNode]) -> set[str]:
    return {
        name
        for name, node in definitions.items()
        if isinstance(node.type, NonNullTypeNode) and node.default_value is None
    }


def _check_query(value: str) -> str:
    _operation(value)
    return value


def _check_path(value: str | None) -> str | None:
    if value is not None and not valid_path(value):
        raise PydanticCustomError(
            "path_syntax",
            "not a valid path",
            {"hint": "dotted keys, `[0]` to index a list, `[*]` to map over it: a.b[*].c"},
        )
    return value


def _problem(loc: tuple[str | int, ...], kind: str, message: str, hint: str) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError(kind, message, {"hint": hint}), loc=loc, input=None
    )


def _raise_if(problems: list[InitErrorDetails], title: str) -> None:
    if problems:
        raise ValidationError.from_exception_data(title, problems)


class GraphqlNoPagination(Strict):
    style: Literal["none"] = "none"


class GraphqlCursorPagination(Strict):
    """Relay-style: ``first``/``after`` variables, cursor and "more" flag read in ``data``."""

    style: Literal["cursor"]
    first_variable: str = "first"
    after_variable: str = "after"
    page_size: Annotated[int, Field(ge=1, le=1000)] = 100
    end_cursor: str = Field(description="path in `data`, e.g. `items.pageInfo.endCursor`")
    has_next_page: str = Field(description="path in `data`, e.g. `items.pageInfo.hasNextPage`")

    _paths = field_validator("end_cursor", "has_next_page")(_check_path)


class GraphqlOffsetPagination(Strict):
    style: Literal["offset"]
    offset_variable: str = "offset"
    limit_variable: str = "limit"
    page_size: Annotated[int, Field(ge=1, le=1000)] = 100


GraphqlPagination = Annotated[
    GraphqlNoPagination | GraphqlCursorPagination | GraphqlOffsetPagination,
    Field(discriminator="style"),
]


class GraphqlList(Strict):
    query: str = Field(description="one GraphQL query; its variables are filled by the hub")
    items: str = Field(description="path of the list of records in `data`")
    total: str | None = Field(None, description="path of the total count in `data`")
    variables: dict[str, Any] = Field(default_factory=dict, description="static variables")
    filters: dict[str, str] = Field(
        default_factory=dict,
        description="common filter -> variable; a list goes to a list variable, and to a "
        "single-value variable only when it holds one value",
    )
    pagination: GraphqlPagination = GraphqlNoPagination()

    _query = field_validator("query")(_check_query)
    _paths = field_validator("items", "total")(_check_path)

    @model_validator(mode="after")
    def _variables_declared(self) -> GraphqlList:
        declared = declared_variables(self.query)
        filled: dict[tuple[str | int, ...], str] = {
            ("variables", name): name for name in self.variables
        }
        filled.update({("filters", common): name for common, name in self.filters.items()})
        if isinstance(self.pagination, GraphqlCursorPagination):
            filled[("pagination", "first_variable")] = self.pagination.first_variable
            filled[("pagination", "after_variable")] = self.pagination.after_variable
        elif isinstance(self.pagination, GraphqlOffsetPagination):
            filled[("pagination", "offset_variable")] = self.pagination.offset_variable
            filled[("pagination", "limit_variable")] = self.pagination.limit_variable
        problems = [
            _problem(
                loc,
                "graphql_variable",
                f"the query declares no variable ${name}",
                f"declare it, e.g. `query Q(${name}: ...)`",
            )
            for loc, name in filled.items()
            if name not in declared
        ]
        always = set(self.variables) | {
            name for loc, name in filled.items() if loc[0] == "pagination"
        }
        problems.extend(
            _problem(
                ("query",),
                "graphql_variable",
                f"the required variable ${name} is never filled",
                "give it in `variables`, make it nullable, or give it a default",
            )
            for name in sorted(_required(declared) - always)
        )
        _raise_if(problems, "GraphqlList")
        return self


class GraphqlLookup(Strict):
    query: str = Field(description="one GraphQL query taking the list of looked-up values")
    variable: str = Field(description="the list variable that receives the values")
    items: str = Field(description="path of the list of records in `data`")
    variables: dict[str, Any] = Field(default_factory=dict, description="static variables")
    max_size: Annotated[int, Field(ge=1, le=1000)] = Field(
        100, description="most values sent in one request"
    )
    key: str | None = Field(
        None,
        description="path of the looked-up value in a partner record; "
        "unset = the mapped field named like the key",
    )

    _query = field_validator("query")(_check_query)
    _paths = field_validator("items", "key")(_check_path)

    @model_validator(mode="after")
    def _variable_is_a_list(self) -> GraphqlLookup:
        declared = declared_variables(self.query)
        problems = []
        node = declared.get(self.variable)
        if node is None:
            problems.append(
                _problem(
                    ("variable",),
                    "graphql_variable",
                    f"the query declares no variable ${self.variable}",
                    f"declare it, e.g. `query Q(${self.variable}: [String!]!)`",
                )
            )
        elif not is_list_type(node.type):
            problems.append(
                _problem(
                    ("variable",),
                    "graphql_variable",
                    f"${self.variable} must be a list: many values go in one request",
                    "declare it as `[String!]!`",
                )
            )
        problems.extend(
            _problem(
                ("variables", name),
                "graphql_variable",
                f"the query declares no variable ${name}",
                "remove it or declare it",
            )
            for name in self.variables
            if name not in declared
        )
        problems.extend(
            _problem(
                ("query",),
                "graphql_variable",
                f"the required variable ${name} is never filled",
                "give it in `variables`, make it nullable, or give it a default",
            )
            for name in sorted(_required(declared) - set(self.variables) - {self.variable})
        )
        _raise_if(problems, "GraphqlLookup")
        return self


class GraphqlEntity(EntityMapping):
    list: GraphqlList | None = None
    sort: ListSort | None = Field(
        None, description="orders the list query can give (`param`: its order variable)"
    )
    lookups: dict[str, GraphqlLookup] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sort_variable_declared(self) -> GraphqlEntity:
        if self.sort is None:
            return self
        if self.list is None:
            problem = _problem(
                ("sort",), "graphql_sort", "`sort` without a `list`", "declare the list query"
            )
            _raise_if([problem], "GraphqlEntity")
        elif self.sort.param is not None and self.sort.param not in declared_variables(
            self.list.query
        ):
            problem = _problem(
                ("sort", "param"),
                "graphql_variable",
                f"the list query declares no variable ${self.sort.param}",
                f"declare it, e.g. `query Q(${self.sort.param}: String)`",
            )
            _raise_if([problem], "GraphqlEntity")
        return self


class GraphqlPartner(HttpPartnerBase):
    kind: Literal["graphql"]
    endpoint: str = Field("/graphql", description="relative to base_url; every query is POSTed")
    health_query: str = Field(
        "query Health { __typename }", description="the query `probe` sends for /readyz"
    )
    principal: PrincipalSetting | None = Field(
        None,
        description="the partner checks who the hub acts for: its calls about personal data "
        "carry the hub's signed principal assertion in this header",
    )
    entities: dict[str, GraphqlEntity]

    _query = field_validator("health_query")(_check_query)

    @model_validator(mode="after")
    def _known_filters_and_keys(self) -> GraphqlPartner:
        problems: list[InitErrorDetails] = []
        for entity, spec in self.entities.items():
            if entity not in FILTERS:
                continue  # an unknown entity is reported once, by the partners file loader
            if spec.list is not None:
                problems.extend(
                    _problem(
                        ("entities", entity, "list", "filters", name),
                        "unknown_filter",
                        f"not a filter of {entity}",
                        f"one of: {', '.join(FILTERS[entity]) or '(none)'}",
                    )
                    for name in spec.list.filters
                    if name not in FILTERS[entity]
                )
            for key, lookup in spec.lookups.items():
                where = ("entities", entity, "lookups", key)
                if key not in LOOKUP_KEYS[entity]:
                    problems.append(
                        _problem(
                            where,
                            "unknown_lookup_key",
                            f"{entity} cannot be looked up by {key}",
                            f"one of: {', '.join(LOOKUP_KEYS[entity])}",
                        )
                    )
                elif key != "id" and lookup_key_path(key) not in spec.fields and lookup.key is None:
                    problems.append(
                        _problem(
                            where,
                            "unread_lookup_key",
                            f"the mapping of {entity} does not read {lookup_key_path(key)}",
                            f"map `fields.{lookup_key_path(key)}`, "
                            "or set `key` to its path in a record",
                        )
                    )
        _raise_if(problems, "GraphqlPartner")
        return self

    def entity_mappings(self) -> dict[str, EntityMapping]:
        return dict(self.entities)
