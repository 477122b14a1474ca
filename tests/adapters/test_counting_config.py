"""A mistake in an ``aggregates`` block is found by ``check-config``, at its line (issue 9,
item 2: declared in the partners file, validated at load like the rest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.config_check import Problem, check_file, format_problems
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


def test_an_unknown_sql_dimension(tmp_path: Path) -> None:
    problems, line = mistaken(
        tmp_path,
        'dimensions = { status = "a.statut", month = "a.cree_le", channel = "a.canal" }\n\n# Its',
        'dimensions = { status = "a.statut", rome = "a.cree_le", channel = "a.canal" }\n\n# Its',
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
