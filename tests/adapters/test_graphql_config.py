"""A ``graphql`` partner block is checked when the file is loaded: queries, variables, keys."""

from __future__ import annotations

import tomllib

import pytest

from adapters.errors import ConfigError
from adapters.graphql import GraphqlPartner
from adapters.partners_file import check_partners, parse_partners

HEAD = """
[partners.reg]
kind = "graphql"
base_url = "http://127.0.0.1:8107"

[partners.reg.entities.organisation]
id = "uai"
fields.uai = "uai"
fields.name = "nom"
"""

LOOKUP = """
[partners.reg.entities.organisation.lookups.uai]
variable = "uais"
items = "etabs"
query = "query ($uais: [String!]!) { etabs(uais: $uais) { uai nom } }"
"""


def problems_of(text: str) -> list[tuple[str, str, str]]:
    return check_partners(tomllib.loads(text))[1]


def test_a_valid_block_loads() -> None:
    config = parse_partners(tomllib.loads(HEAD + LOOKUP)).partners["reg"]

    assert isinstance(config, GraphqlPartner)
    assert config.endpoint == "/graphql"
    assert config.entities["organisation"].lookups["uai"].max_size == 100


def test_a_syntax_error_is_a_config_error_with_a_hint() -> None:
    text = HEAD + LOOKUP.replace("{ uai nom } }", "{ uai nom ")

    with pytest.raises(ConfigError) as caught:
        parse_partners(tomllib.loads(text))

    [(where, message, hint)] = caught.value.problems
    assert where == "partners.reg.entities.organisation.lookups.uai.query"
    assert message.startswith("GraphQL syntax error: Expected Name, found <EOF>")
    assert "(line 1, column" in message
    assert "GraphiQL" in hint


def test_a_mutation_is_refused() -> None:
    text = HEAD + LOOKUP.replace('query = "query (', 'query = "mutation (')

    [(where, message, _)] = problems_of(text)

    assert where.endswith("lookups.uai.query")
    assert message == "only query operations are allowed, found a mutation"


def test_two_operations_are_refused() -> None:
    text = HEAD + LOOKUP.replace(' } }"', ' } } query Other { x }"')

    [(_, message, _)] = problems_of(text)

    assert message == "the query must hold exactly one operation, found 2"


def test_the_lookup_variable_must_be_declared_and_a_list() -> None:
    undeclared = HEAD + LOOKUP.replace('variable = "uais"', 'variable = "codes"')
    single = HEAD + LOOKUP.replace("$uais: [String!]!", "$uais: String!")

    assert [(where, message) for where, message, _ in problems_of(undeclared)] == [
        (
            "partners.reg.entities.organisation.lookups.uai.variable",
            "the query declares no variable $codes",
        ),
        (
            "partners.reg.entities.organisation.lookups.uai.query",
            "the required variable $uais is never filled",
        ),
    ]
    [(where, message, hint)] = problems_of(single)
    assert where.endswith("lookups.uai.variable")
    assert message == "$uais must be a list: many values go in one request"
    assert hint == "declare it as `[String!]!`"


def test_a_required_variable_nobody_fills() -> None:
    text = HEAD + LOOKUP.replace("$uais: [String!]!)", "$uais: [String!]!, $annee: Int!)")

    [(where, message, _)] = problems_of(text)

    assert where.endswith("lookups.uai.query")
    assert message == "the required variable $annee is never filled"
    given = text.replace('variable = "uais"', 'variable = "uais"\nvariables = { annee = 2026 }')
    assert problems_of(given) == []


def test_list_variables_must_be_declared() -> None:
    text = (
        HEAD
        + """
[partners.reg.entities.organisation.list]
items = "etabs.nodes"
pagination = { style = "cursor", end_cursor = "etabs.end", has_next_page = "etabs.more" }
query = "query ($first: Int) { etabs(first: $first) { nodes { uai nom } end more } }"
"""
    )

    [(where, message, _)] = problems_of(text)

    assert where == "partners.reg.entities.organisation.list.pagination"
    assert message == "the query declares no variable $after"


def test_the_sort_variable_must_be_declared_by_the_list_query() -> None:
    text = (
        HEAD
        + """
[partners.reg.entities.organisation.sort]
param = "tri"
values = { name = "NOM" }

[partners.reg.entities.organisation.list]
items = "etabs"
query = "query ($ordre: String) { etabs(ordre: $ordre) { uai nom } }"
"""
    )

    [(where, message, _)] = problems_of(text)

    assert where == "partners.reg.entities.organisation.sort.param"
    assert message == "the list query declares no variable $tri"


def test_a_filter_the_entity_does_not_have() -> None:
    text = (
        HEAD.replace("organisation", "training_program").replace(
            'fields.uai = "uai"\nfields.name = "nom"', 'fields.title = "nom"'
        )
        + """
[partners.reg.entities.training_program.list]
items = "etabs"
filters = { departements = "dep", sectors = "secteur" }
query = "query ($dep: String, $secteur: String) { etabs(dep: $dep, s: $secteur) { uai nom } }"
"""
    )

    [(where, message, hint)] = problems_of(text)

    assert where == "partners.reg.entities.training_program.list.filters.sectors"
    assert message == "not a filter of training_program"
    assert "departements" in hint


def test_a_key_the_entity_cannot_be_looked_up_by_or_that_is_not_read() -> None:
    unknown = HEAD + LOOKUP.replace("lookups.uai]", "lookups.nom]")
    unread = HEAD.replace('fields.uai = "uai"\n', "") + LOOKUP

    [(where, message, _)] = problems_of(unknown)
    assert where == "partners.reg.entities.organisation.lookups.nom"
    assert message == "organisation cannot be looked up by nom"
    [(where, message, _)] = problems_of(unread)
    assert where == "partners.reg.entities.organisation.lookups.uai"
    assert message == "the mapping of organisation does not read uai"
    assert problems_of(unread.replace('items = "etabs"', 'items = "etabs"\nkey = "uai"')) == []


def test_paths_are_checked() -> None:
    text = HEAD + LOOKUP.replace('items = "etabs"', 'items = "etabs[x]"')

    [(where, message, hint)] = problems_of(text)

    assert where == "partners.reg.entities.organisation.lookups.uai.items"
    assert message == "not a valid path"
    assert "[*]" in hint
