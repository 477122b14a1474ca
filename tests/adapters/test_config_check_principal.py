"""The `principal` setting of REST and GraphQL partners: exported in the JSON schema, checked
by check-config at its line, refused where it means nothing (a feed) or where a personal answer
would outlive its request (`etag` on a personal entity)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import jsonschema

from adapters.config_check import check_file, partners_json_schema
from adapters.partners_file import parse_partners
from adapters.rest_config import RestPartner
from tests.adapters.test_config_check import DEMO, make_mistake, only, secrets_set, write

__all__ = ["secrets_set"]  # the autouse fixture setting the demo's secrets


def test_the_demo_declares_it_for_the_partners_that_check_it() -> None:
    partners = parse_partners(tomllib.loads(DEMO)).partners
    for name in ("hub3e", "akto-contrats"):
        block = partners[name]
        assert isinstance(block, RestPartner) and block.principal is not None
        assert block.principal.header == "X-Hub-Principal"
    francetravail = partners["francetravail"]
    assert isinstance(francetravail, RestPartner) and francetravail.principal is None


def test_the_schema_knows_it_for_rest_and_graphql_only() -> None:
    schema = partners_json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    text, _ = make_mistake(
        'principal = { header = "X-Hub-Principal" }\n\n[partners.akto-contrats.entities',
        'principal = { heder = "X-Hub-Principal" }\n\n[partners.akto-contrats.entities',
    )
    assert not validator.is_valid(tomllib.loads(text))
    refs = {
        kind: schema["$defs"][ref.rsplit("/", 1)[-1]]
        for kind, ref in schema["properties"]["partners"]["additionalProperties"]["discriminator"][
            "mapping"
        ].items()
    }
    assert (
        "principal" in refs["rest"]["properties"] and "principal" in refs["graphql"]["properties"]
    )
    assert "principal" not in refs["csv_feed"]["properties"]


def test_a_misspelt_setting_is_reported_at_its_line(tmp_path: Path) -> None:
    old = 'principal = { header = "X-Hub-Principal" }\n\n[partners.akto-contrats.entities'
    text, line = make_mistake(old, old.replace("header", "heder"))

    problems = check_file(write(tmp_path, text))

    typo = only(problems, "partners.akto-contrats.principal.heder")
    assert typo.line == line


def test_a_header_that_is_not_a_header_name(tmp_path: Path) -> None:
    old = 'principal = { header = "X-Hub-Principal" }\n\n[partners.akto-contrats.entities'
    text, _ = make_mistake(old, old.replace("X-Hub-Principal", "X Hub: Principal"))

    assert only(check_file(write(tmp_path, text)), "partners.akto-contrats.principal.header")


def test_a_feed_takes_no_principal(tmp_path: Path) -> None:
    old = 'kind = "csv_feed"\nlabel = "AKTO'
    text, line = make_mistake(old, old.replace("\nlabel", '\nprincipal = { header = "X" }\nlabel'))

    problem = only(check_file(write(tmp_path, text)), "partners.akto.principal")
    assert problem.line == line + 1


def test_a_personal_entity_is_never_revalidated_from_a_kept_body(tmp_path: Path) -> None:
    old = 'lookups.decaNumber = { path = "/api/v1/contrats/{value}" }'
    text, line = make_mistake(old, old + "\netag = true")

    problem = only(
        check_file(write(tmp_path, text)), "partners.akto-contrats.entities.contract.etag"
    )
    assert "never kept across requests" in problem.message
    assert problem.line == line + 1
    assert check_file(write(tmp_path, DEMO)) == []
