"""Configuration of a remote GraphQL service (kind ``graphql``); the adapter and a worked
example are in :mod:`adapters.graphql`, the writes in :mod:`adapters.graphql_writes`.

Every query (and mutation) is parsed when the file is loaded, and each variable the gateway
fills must be declared by it: a broken document is a ``check-config`` error, not a failure at
the first request.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from typing import Annotated, Any, Literal

from graphql import (
    FieldNode,
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
from adapters.counting import DIMENSIONS, PERIOD_FIELDS, dimension_problem
from adapters.mapping import valid_path
from adapters.syntax import FILTERS, LOOKUP_KEYS, lookup_key_path
from adapters.writes import (
    CLIENT_REFERENCE,
    CREATING,
    WriteValue,
    action_problem,
    value_hint,
    value_problems,
)

ACCEPT = "application/graphql-response+json, application/json"
"""What every call to a GraphQL partner accepts (GraphQL over HTTP)."""


def error_code(error: Any) -> Any:
    """The ``extensions.code`` of one entry of an answer's ``errors`` (None without)."""
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return extensions.get("code") if isinstance(extensions, dict) else None


def _syntax_error(error: GraphQLSyntaxError, what: str) -> PydanticCustomError:
    line, column = error.locations[0] if error.locations else (None, None)
    return PydanticCustomError(
        "graphql_syntax",
        "GraphQL syntax error: {reason} (line {line}, column {column} of the {what})",
        {
            "reason": error.message.removeprefix("Syntax Error: "),
            "line": line,
            "column": column,
            "what": what,
            "hint": f"try the {what} in the partner's GraphiQL; `$name` declares a variable",
        },
    )


def _operation(document: str, kind: OperationType = OperationType.QUERY) -> OperationDefinitionNode:
    """The one operation of ``document``, of ``kind``; raises pydantic-friendly errors."""
    what = kind.value
    try:
        parsed = parse(document, no_location=False)
    except GraphQLSyntaxError as error:
        raise _syntax_error(error, what) from None
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        raise PydanticCustomError(
            "graphql_operation",
            "the {what} must hold exactly one operation, found {count}",
            {
                "what": what,
                "count": len(operations),
                "hint": f"keep one `{what} {{ ... }}` (fragments are fine)",
            },
        )
    if operations[0].operation is not kind:
        hint = (
            "the hub only reads partners here"
            if kind is OperationType.QUERY
            else "a write sends the partner's own mutation: `mutation Name($v: T!) { ... }`"
        )
        raise PydanticCustomError(
            "graphql_operation",
            "only {what} operations are allowed, found a {kind}",
            {"what": what, "kind": operations[0].operation.value, "hint": hint},
        )
    return operations[0]


def declared_variables(
    document: str, kind: OperationType = OperationType.QUERY
) -> dict[str, VariableDefinitionNode]:
    definitions = _operation(document, kind).variable_definitions
    return {v.variable.name.value: v for v in definitions or ()}


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


def _never_filled(
    declared: Mapping[str, VariableDefinitionNode], always: Collection[str]
) -> list[InitErrorDetails]:
    """A problem for each required variable of the query the hub does not fill every time."""
    return [
        _problem(
            ("query",),
            "graphql_variable",
            f"the required variable ${name} is never filled",
            "give it in `variables`, make it nullable, or give it a default",
        )
        for name in sorted(_required(declared) - set(always))
    ]


def _undeclared(
    filled: Mapping[tuple[str | int, ...], str], declared: Collection[str]
) -> list[InitErrorDetails]:
    """A problem at each place naming a variable the query does not declare."""
    return [
        _problem(
            loc,
            "graphql_variable",
            f"the query declares no variable ${name}",
            f"declare it, e.g. `query Q(${name}: ...)`",
        )
        for loc, name in filled.items()
        if name not in declared
    ]


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
        problems = _undeclared(filled, declared)
        always = set(self.variables) | {
            name for loc, name in filled.items() if loc[0] == "pagination"
        }
        problems.extend(_never_filled(declared, always))
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


@functools.cache  # parsed once per document, not at every write
def root_field(mutation: str) -> str:
    """The response key of the mutation's one root field (its alias, else its name): where
    ``data`` says whether the partner ran it."""
    selection = _operation(mutation, OperationType.MUTATION).selection_set.selections[0]
    assert isinstance(selection, FieldNode)  # checked when the file is loaded
    return (selection.alias or selection.name).value


def _check_mutation(value: str) -> str:
    selections = _operation(value, OperationType.MUTATION).selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        raise PydanticCustomError(
            "graphql_operation",
            "a write is one mutation field, found {count} root selections",
            {
                "count": len(selections),
                "hint": "one field at the root: `mutation M($v: T!) { createThing(...) { id } }`",
            },
        )
    return value


class GraphqlWrite(Strict):
    """One action as the partner's own mutation (see :mod:`adapters.graphql_writes`).

    ``variables`` maps the mutation's variables to values (:mod:`adapters.writes`); a dotted
    name fills a field of an input object (``input.candidate``). ``created_id`` is the path of
    the new record's id in ``data`` (creating actions). ``rejected_codes`` and
    ``not_found_codes`` are the ``extensions.code`` values by which the partner says it
    refused the input (nothing applied) or that the record to change does not exist;
    ``user_errors`` the path of a payload's own refusals, for partners that answer those in
    ``data`` (``createThing { thing { id } userErrors { field message } }``).
    """

    mutation: str = Field(description="one GraphQL mutation with one root field")
    variables: dict[str, WriteValue] = Field(
        default_factory=dict, description="variable (dotted: a field of it) -> value"
    )
    created_id: str | None = Field(
        None, description="path in `data` of the created record's id (creating actions)"
    )
    rejected_codes: list[str] = Field(
        default_factory=lambda: ["BAD_USER_INPUT"],
        description="error codes meaning the partner refused the input, nothing applied",
    )
    not_found_codes: list[str] = Field(
        default_factory=lambda: ["NOT_FOUND"],
        description="error codes meaning the record to change does not exist there",
    )
    user_errors: str | None = Field(
        None,
        description="path in `data` of the payload's own list of refusals (`userErrors`); "
        "a non-empty list there means the partner refused the input, nothing applied",
    )

    _mutation = field_validator("mutation")(_check_mutation)
    _paths = field_validator("created_id", "user_errors")(_check_path)

    @model_validator(mode="after")
    def _variables_declared(self) -> GraphqlWrite:
        declared = declared_variables(self.mutation, OperationType.MUTATION)
        filled = {name.split(".")[0] for name in self.variables}
        problems = [
            _problem(
                ("variables", name),
                "graphql_variable",
                f"the mutation declares no variable ${name.split('.')[0]}",
                f"declare it, e.g. `mutation M(${name.split('.')[0]}: ...)`",
            )
            for name in self.variables
            if name.split(".")[0] not in declared
        ]
        problems.extend(
            _problem(
                ("mutation",),
                "graphql_variable",
                f"the required variable ${name} is never filled",
                "give it a value in `variables`, make it nullable, or give it a default",
            )
            for name in sorted(_required(declared) - filled)
        )
        _raise_if(problems, "GraphqlWrite")
        return self


def _write_problems(entity: str, spec: GraphqlEntity) -> list[InitErrorDetails]:
    """Write blocks the adapter could not use, each at its own key."""
    found: list[InitErrorDetails] = []
    for action, write in spec.writes.items():
        where: tuple[str | int, ...] = ("entities", entity, "writes", action)
        problem = action_problem(entity, action)
        if problem is not None:
            hint = "application: submit, transition; follow_up: record"
            found.append(_problem(where, "unknown_write", problem, hint))
            continue
        for name, value in write.variables.items():
            message = value_problems(entity, action, value)
            if message is not None:
                hint = value_hint(entity, action, sql=False)
                found.append(_problem((*where, "variables", name), "write_value", message, hint))
        if action in CREATING:
            if write.created_id is None:
                found.append(
                    _problem(
                        where,
                        "created_id",
                        f"`{action}` creates a record: say where `data` holds its id",
                        f'created_id = "{root_field(write.mutation)}.id"',
                    )
                )
            if CLIENT_REFERENCE not in spec.lookups:
                # After an unknown outcome the hub asks the owner what it holds under the
                # reference it sent; without a way to ask, it could only guess or resend.
                found.append(
                    _problem(
                        where,
                        "reconcile",
                        f"`{action}` needs `lookups.clientReference` to find what it created "
                        "after an unknown outcome",
                        "declare a look-up by clientReference, and send `clientReference` "
                        "in `variables`",
                    )
                )
            if CLIENT_REFERENCE not in write.variables.values():
                found.append(
                    _problem(
                        (*where, "variables"),
                        "reconcile",
                        f"`{action}` must send the client reference the hub finds it by",
                        '<variable> = "clientReference"',
                    )
                )
        elif "id" not in write.variables.values():
            found.append(
                _problem(
                    (*where, "variables"),
                    "write_target",
                    f"`{action}` changes a record: a variable must carry its id",
                    '<variable> = "id"',
                )
            )
    return found


class GraphqlDimension(Strict):
    """One dimension of the owner's aggregate query: the value it is grouped by in the group
    variable (``group``), where a row holds its value (``at``, default: ``group``), and the
    list variable filtering on it (unset: it only groups). A group's value is read through the
    entity's mapping of the dimension's field (its ``values`` map); a filter's common values
    are sent as every owner value mapped to them. A dimension read from a related record is
    the owner's to compute: grouped and filtered by common values, read and sent as they are."""

    group: str = Field(description="the value naming it in the group variable")
    at: str | None = Field(None, description="path of its value in a row; unset = `group`")
    variable: str | None = Field(None, description="list variable filtering on it")

    _paths = field_validator("at")(_check_path)

    @property
    def path(self) -> str:
        return self.at or self.group


class GraphqlPeriod(Strict):
    """The period as two variables: days ``from`` (included) to ``to`` (excluded)."""

    from_variable: str
    to_variable: str
    format: str = Field("%Y-%m-%d", description="strftime format of the days")


class GraphqlAggregates(Strict):
    """The owner's aggregate query for the observatory (:mod:`adapters.graphql_counting`).

    One query per count, its values in variables only (never in the document): the group
    names in the list variable ``group_variable``, each filter's owner values in its
    dimension's list ``variable``, the period's days in ``period``'s two variables, besides
    the static ``variables``. The rows are read at ``rows`` in ``data``, each with its groups'
    values (at their ``at`` paths), its count at ``count`` and the sum of its records' ONS
    record keys at ``key_sum``. Sent with the partner's credential and, for a personal
    entity, the hub's signed principal (an OBSERVATORY one: it sees counts, never a person).
    Example::

        [partners.cfa-gql.entities.application.aggregates]
        query = '''
        query Stats($par: [Regroupement!]!, $etats: [Etat!], $depuis: String, $avant: String) {
          statistiquesCandidatures(grouper: $par, etats: $etats, depuis: $depuis, avant: $avant)
            { groupes { etat mois effectif sommeCles } }
        }'''
        group_variable = "par"
        rows = "statistiquesCandidatures.groupes"
        count = "effectif"
        key_sum = "sommeCles"
        period = { from_variable = "depuis", to_variable = "avant" }
        dimensions.status = { group = "ETAT", at = "etat", variable = "etats" }
        dimensions.month = { group = "MOIS", at = "mois" }
    """

    query: str = Field(description="one GraphQL query; its variables are filled by the hub")
    group_variable: str = Field(description="list variable taking the names grouped by")
    variables: dict[str, Any] = Field(default_factory=dict, description="static variables")
    rows: str = Field(description="path of the list of rows in `data`")
    count: str = Field(description="path of a row's count")
    key_sum: str | None = Field(
        None, description="path of a row's sum of record keys (unset: the owner has none)"
    )
    period: GraphqlPeriod | None = Field(
        None,
        description="the period's variables, on the entity's default date (PERIOD_FIELDS): "
        "a count dated by another field is not answered",
    )
    dimensions: dict[str, GraphqlDimension] = Field(default_factory=dict)

    _query = field_validator("query")(_check_query)
    _paths = field_validator("rows", "count", "key_sum")(_check_path)

    @model_validator(mode="after")
    def _variables_declared(self) -> GraphqlAggregates:
        declared = declared_variables(self.query)
        lists: dict[tuple[str | int, ...], str] = {("group_variable",): self.group_variable}
        lists.update(
            {
                ("dimensions", name, "variable"): how.variable
                for name, how in self.dimensions.items()
                if how.variable is not None
            }
        )
        filled: dict[tuple[str | int, ...], str] = {
            ("variables", name): name for name in self.variables
        }
        filled.update(lists)
        if self.period is not None:
            filled[("period", "from_variable")] = self.period.from_variable
            filled[("period", "to_variable")] = self.period.to_variable
        problems = _undeclared(filled, declared)
        problems.extend(
            _problem(
                loc,
                "graphql_variable",
                f"${name} must be a list: it may take several values",
                "declare it as a list, e.g. `[String!]`",
            )
            for loc, name in lists.items()
            if name in declared and not is_list_type(declared[name].type)
        )
        always = {*self.variables, self.group_variable}  # a filter, a period: not every time
        problems.extend(_never_filled(declared, always))
        _raise_if(problems, "GraphqlAggregates")
        return self


def _aggregate_problems(entity: str, spec: GraphqlEntity) -> list[InitErrorDetails]:
    """What the entity's aggregates declare that it cannot count by, each at its own key."""
    aggregates = spec.aggregates
    if aggregates is None:
        return []
    where: tuple[str | int, ...] = ("entities", entity, "aggregates")
    if entity not in DIMENSIONS:
        return [_problem(where, "not_counted", f"{entity} is not counted", ", ".join(DIMENSIONS))]
    found = [
        _problem((*where, "dimensions", name), "dimension", problem, "")
        for name in aggregates.dimensions
        if (problem := dimension_problem(entity, name, spec)) is not None
    ]
    if aggregates.period is not None and entity not in PERIOD_FIELDS:
        found.append(_problem((*where, "period"), "period", f"{entity} has no period date", ""))
    return found


class GraphqlEntity(EntityMapping):
    list: GraphqlList | None = None
    sort: ListSort | None = Field(
        None, description="orders the list query can give (`param`: its order variable)"
    )
    lookups: dict[str, GraphqlLookup] = Field(default_factory=dict)
    writes: dict[str, GraphqlWrite] = Field(
        default_factory=dict, description="action -> the partner's mutation (adapters.writes)"
    )
    aggregates: GraphqlAggregates | None = Field(
        None, description="the owner's aggregate query (adapters.graphql_counting)"
    )

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
            problems.extend(_write_problems(entity, spec))
            problems.extend(_aggregate_problems(entity, spec))
        _raise_if(problems, "GraphqlPartner")
        return self

    def entity_mappings(self) -> dict[str, EntityMapping]:
        return dict(self.entities)
