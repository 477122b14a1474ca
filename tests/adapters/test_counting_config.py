"""A mistake in an ``aggregates`` block is found by ``check-config``, at its line (issue 9,
item 2: declared in the partners file, validated at load like the rest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.config_check import Problem, check_file, format_problems
from adapters.counting import DIMENSIONS, CountQuery
from adapters.syntax import ENTITIES
from demo.run import partners_file

DEMO = partners_file().read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def secrets_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in sorted(set(re.findall(r'env = "([A-Z0-9_]+)"', DEMO))):
        monkeypatch.setenv(name, "test-value")


def mistaken(tmp_path: Path, old: str, new: str) -> tuple[list[Problem], int]:
    """The demo file with the first ``old`` (cfa-btp's, where both ERPs write it) mistaken."""
    assert old in DEMO, old
    line = DEMO.count("\n", 0, DEMO.index(old)) + 1
    path = tmp_path / "partners.toml"
    path.write_text(DEMO.replace(old, new, 1), encoding="utf-8")
    return check_file(path), line


def only(problems: list[Problem], location: str) -> Problem:
    found = [p for p in problems if p.location == location]
    assert len(found) == 1, format_problems(problems)
    return found[0]


def test_the_demo_aggregates_are_clean(tmp_path: Path) -> None:
    path = tmp_path / "partners.toml"
    path.write_text(DEMO, encoding="utf-8")
    assert check_file(path) == []


BTP_DIMENSIONS = 'dimensions = { status = "a.statut", month = "a.cree_le", channel = "a.canal"'
BTP_JOINS = """joins = [
  { table = "candidats", alias = "k", on = "k.id = a.candidat_id" },
  { table = "formations", alias = "f", on = "f.id_formation = a.formation_id" },
]"""
APPLICATION = "partners.cfa-btp.entities.application.aggregates"


def test_an_unknown_sql_dimension(tmp_path: Path) -> None:
    problems, line = mistaken(
        tmp_path,
        BTP_DIMENSIONS,
        'dimensions = { status = "a.statut", rome = "a.cree_le", channel = "a.canal"',
    )
    problem = only(problems, "partners.cfa-btp.entities.application.aggregates.dimensions.rome")
    assert problem.line == line
    assert "not a dimension of application" in problem.message


def test_a_joined_column_and_an_untyped_period(tmp_path: Path) -> None:
    old = 'record_key = "a.cle_ons"\nperiod = "a.cree_le"\n'
    new = 'record_key = "h.cle_ons"\nperiod = "a.modifie_le"\n'
    problems, line = mistaken(tmp_path, old, new)
    base = "partners.cfa-btp.entities.application.aggregates"
    joined = only(problems, f"{base}.record_key")
    assert joined.line == line and "main table" in joined.message
    untyped = only(problems, f"{base}.period")
    assert untyped.line == line + 1 and "type" in untyped.message


def test_a_rest_dimension_whose_field_is_not_mapped(tmp_path: Path) -> None:
    problems, line = mistaken(
        tmp_path,
        'dimensions.month = { group = "mois" }\ndimensions.training_centre',
        'dimensions.channel = { group = "mois" }\ndimensions.training_centre',
    )
    problem = only(problems, "partners.hub3e.entities.application.aggregates.dimensions.channel")
    assert problem.line == line
    assert "does not map" in problem.message


def test_a_join_for_counting_that_names_no_earlier_table(tmp_path: Path) -> None:
    """A join's `on` must tie it to the main table or a join before it (else a cross join)."""
    problems, line = mistaken(
        tmp_path,
        BTP_JOINS,
        BTP_JOINS.replace('on = "k.id = a.candidat_id"', 'on = "k.id = f.id_formation"'),
    )
    problem = only(problems, f"{APPLICATION}.joins.0.on")
    assert problem.line == line + 1  # the first join's own line, under `joins = [`
    assert "main table or of a join before it" in problem.message


def test_a_join_for_counting_that_reuses_an_alias(tmp_path: Path) -> None:
    problems, line = mistaken(
        tmp_path,
        BTP_JOINS,
        BTP_JOINS.replace('alias = "k", on = "k.id', 'alias = "h", on = "h.id'),
    )
    problem = only(problems, f"{APPLICATION}.joins.0.alias")
    assert problem.line == line + 1 and "already taken" in problem.message


def test_a_dimension_on_a_one_to_many_join_or_an_unknown_alias(tmp_path: Path) -> None:
    """The entity's own join (the history, one row per step) would count a record per step."""
    old = 'departement = "k.commune_insee", rome_domain = "f.codes_rome"'
    problems, line = mistaken(
        tmp_path, old, 'departement = "h.statut", rome_domain = "x.codes_rome"'
    )
    many = only(problems, f"{APPLICATION}.dimensions.departement")
    assert many.line == line and "aggregates.joins" in many.message
    unknown = only(problems, f"{APPLICATION}.dimensions.rome_domain")
    assert unknown.line == line and "unknown alias" in unknown.message


def test_own_values_on_a_dimension_the_mapping_reads(tmp_path: Path) -> None:
    problems, line = mistaken(
        tmp_path,
        BTP_DIMENSIONS,
        'dimensions = { status = { column = "a.statut", values = { place = "PLACED" } }, '
        'month = "a.cree_le", channel = "a.canal"',
    )
    problem = only(problems, f"{APPLICATION}.dimensions.status")
    assert problem.line == line and "no `values` of its own" in problem.message


def test_days_to_placement_without_the_steps(tmp_path: Path) -> None:
    old = 'history = { join = "h", status = "h.statut", at = "h.le" }\n'
    problems, line = mistaken(tmp_path, old, "")
    problem = only(problems, f"{APPLICATION}.dimensions.days_to_placement")
    assert "declare where the steps are" in problem.message
    assert problem.line == line - 1  # the dimensions line, just above where `history` was
    problems, line = mistaken(
        tmp_path, old, 'history = { join = "k", status = "h.statut", at = "h.le" }\n'
    )
    wrong = [p for p in problems if p.location.startswith(f"{APPLICATION}.history")]
    assert {p.location for p in wrong} == {
        f"{APPLICATION}.history.join",
        f"{APPLICATION}.history.status",
        f"{APPLICATION}.history.at",
    }
    assert all(p.line == line for p in wrong)


def test_a_rest_dimension_of_a_related_record_needs_no_mapped_field(tmp_path: Path) -> None:
    """AKTO computes the employer's département itself: nothing of the contract's mapping is
    read for it, and the block is clean; a dimension the entity does not have is not."""
    problems, line = mistaken(
        tmp_path,
        'dimensions.departement = { group = "departement", param = "departement" }\n'
        "dimensions.rome_domain",
        'dimensions.commune = { group = "departement", param = "departement" }\n'
        "dimensions.rome_domain",
    )
    problem = only(problems, "partners.hub3e.entities.application.aggregates.dimensions.commune")
    assert problem.line == line and "not a dimension of application" in problem.message


def test_every_related_dimension_names_real_fields() -> None:
    """The vocabulary's related records: the link is a field of the counted entity, what it
    reads a field of the related one, and none of them is counted in memory."""
    related = [
        (entity, name, dimension)
        for entity, dimensions in DIMENSIONS.items()
        for name, dimension in dimensions.items()
        if dimension.related is not None
    ]
    assert {(entity, name) for entity, name, _ in related} == {
        (entity, name)
        for entity in ("application", "contract")
        for name in ("departement", "rome_domain", "level")
    }
    for entity, name, dimension in related:
        assert dimension.related is not None and dimension.field is None
        assert dimension.related.link in ENTITIES[entity], (entity, name)
        assert dimension.related.reads in ENTITIES[dimension.related.entity], (entity, name)
        assert CountQuery(entity, (name,)).read_fields == frozenset()
        assert CountQuery(entity, (name,)).pushed_only == (name,)
    placed = CountQuery("application", ("days_to_placement",))
    assert placed.pushed_only == () and placed.read_fields == {"createdAt", "history"}


def test_a_join_for_counting_tied_to_nothing(tmp_path: Path) -> None:
    problems, line = mistaken(
        tmp_path,
        BTP_JOINS,
        BTP_JOINS.replace('on = "k.id = a.candidat_id"', 'on = "k.id = k.id"'),
    )
    problem = only(problems, f"{APPLICATION}.joins.0.on")
    assert problem.line == line + 1 and "main table or of a join before it" in problem.message


BTP_PERIODS = 'periods = { session = "a.session" }'


def test_a_period_field_the_entity_is_not_dated_by(tmp_path: Path) -> None:
    problems, line = mistaken(tmp_path, BTP_PERIODS, 'periods = { startDate = "a.session" }')
    problem = only(problems, f"{APPLICATION}.periods.startDate")
    assert problem.line == line
    assert "application is not dated by `startDate`" in problem.message
    assert "createdAt, session" in problem.hint


def test_a_period_column_untyped_or_not_of_the_main_table(tmp_path: Path) -> None:
    problems, line = mistaken(tmp_path, BTP_PERIODS, 'periods = { session = "a.modifie_le" }')
    untyped = only(problems, f"{APPLICATION}.periods.session")
    assert untyped.line == line and "type is not declared" in untyped.message
    problems, line = mistaken(tmp_path, BTP_PERIODS, 'periods = { session = "f.debut" }')
    joined = [p for p in problems if p.location == f"{APPLICATION}.periods.session"]
    assert joined and all(p.line == line for p in joined)
    assert any("not a column of the main table" in p.message for p in joined)


def test_the_default_period_declared_twice(tmp_path: Path) -> None:
    problems, line = mistaken(tmp_path, BTP_PERIODS, 'periods = { createdAt = "a.cree_le" }')
    problem = only(problems, f"{APPLICATION}.periods.createdAt")
    assert problem.line == line and "`period` declares it" in problem.message
