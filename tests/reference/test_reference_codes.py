"""Code lists: levels, OPCOs, and the ROME and NAF nomenclatures read from the data files."""

from __future__ import annotations

import pytest

from adapters.syntax import OPCOS as SYNTAX_OPCOS
from reference import identifiers as ids
from reference.codes import (
    LEVELS,
    OPCOS,
    naf_codes,
    naf_label,
    rome_codes,
    rome_domain,
    rome_label,
)


def test_levels_are_the_european_levels_3_to_8() -> None:
    assert list(LEVELS) == [3, 4, 5, 6, 7, 8]
    for level, word in ((3, "CAP"), (4, "Bac"), (5, "BTS"), (6, "Licence"), (7, "Master")):
        assert word in LEVELS[level]
    assert "Doctorat" in LEVELS[8]
    with pytest.raises(TypeError):
        LEVELS[9] = "x"  # type: ignore[index]


def test_opcos_agree_with_the_adapters_syntax() -> None:
    assert set(OPCOS) == set(SYNTAX_OPCOS.split())
    assert OPCOS["AKTO"].startswith("Akto — Opérateur de compétences")
    assert all("Opérateur de compétences" in name for name in OPCOS.values())


@pytest.mark.parametrize("code", ["F1201", "M1805", "G1602"])
def test_rome_labels(code: str) -> None:
    label = rome_label(code)
    assert label and label == label.strip()
    assert rome_domain(code)
    assert code in rome_codes()


def test_unknown_rome_codes_have_no_label() -> None:
    assert rome_label("Z9999") is None
    assert rome_domain("Z9999") is None
    assert rome_label("m1805") is None, "look-ups take the normalised code"


def test_every_rome_code_is_well_formed_and_its_domain_follows_its_letter() -> None:
    codes = rome_codes()
    assert {"F1201", "M1805", "G1602"} <= codes
    domains: dict[str, set[str | None]] = {}
    for code in codes:
        assert ids.rome(code) == code
        domains.setdefault(code[0], set()).add(rome_domain(code))
    assert all(len(names) == 1 for names in domains.values()), domains


def test_naf_labels() -> None:
    label = naf_label("62.02A")
    assert label and "informatique" in label.lower()
    assert naf_label("6202A") is None, "look-ups take the normalised code"
    assert naf_label("99.99Z") is None


def test_every_naf_code_is_well_formed() -> None:
    codes = naf_codes()
    assert "62.02A" in codes
    assert all(ids.naf(code) == code and naf_label(code) for code in codes)
