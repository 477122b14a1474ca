"""Territory: the 552 communes of 73/74 from the data file, and région 84's départements."""

from __future__ import annotations

from importlib import resources

import pytest

from reference import identifiers as ids
from reference.territory import (
    COMMUNES_PROVENANCE,
    commune,
    communes,
    communes_by_postal_code,
    communes_in,
    departement,
    departements,
)


def test_there_are_552_communes_273_in_savoie_and_279_in_haute_savoie() -> None:
    assert len(communes()) == 552
    assert len(communes_in("73")) == 273
    assert len(communes_in("74")) == 279


def test_every_commune_record_is_well_formed() -> None:
    for code, item in communes().items():
        assert item.insee_code == code == ids.insee_commune(code)
        assert item.departement == code[:2] == ids.departement(item.departement)
        assert item.siren == ids.siren(item.siren)
        assert item.name and item.name == item.name.strip()
        assert item.population > 0
        assert item.postal_codes, code
        for postal_code in item.postal_codes:
            assert len(postal_code) == 5 and postal_code.isdigit()
        # Savoie and Haute-Savoie lie within this box.
        assert 45.0 < item.latitude < 46.5 and 5.5 < item.longitude < 7.2, code
        assert item.geo_precision in ("place", "postal_code", "departement")


def test_chambery() -> None:
    chambery = commune("73065")
    assert chambery is not None
    assert chambery.name == "Chambéry"
    assert chambery.departement == "73"
    assert chambery.postal_codes == ("73000",)
    assert chambery.siren == "217300656"
    assert 55_000 < chambery.population < 65_000
    assert chambery.geo_precision == "place"
    assert chambery.latitude == pytest.approx(45.566, abs=0.01)
    assert chambery.longitude == pytest.approx(5.921, abs=0.01)


def test_annecy() -> None:
    annecy = commune("74010")
    assert annecy is not None
    assert annecy.name == "Annecy"
    assert annecy.departement == "74"
    assert "74000" in annecy.postal_codes and len(annecy.postal_codes) > 1  # merged in 2017
    assert annecy.population > 100_000
    assert annecy.latitude == pytest.approx(45.899, abs=0.02)
    assert annecy.longitude == pytest.approx(6.129, abs=0.02)


def test_unknown_communes_are_none() -> None:
    assert commune("75056") is None  # Paris: valid, but outside the territory
    assert commune("") is None


def test_the_commune_table_cannot_be_changed_by_a_caller() -> None:
    table = communes()
    with pytest.raises(TypeError):
        table["73065"] = table["74010"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        table["73065"].name = "x"  # type: ignore[misc]
    assert communes() is table, "read once"


def test_a_postal_code_serves_several_communes() -> None:
    names = {item.name for item in communes_by_postal_code("73000")}
    assert {"Chambéry", "Barberaz", "Bassens", "Jacob-Bellecombette"} <= names
    assert all("73000" in item.postal_codes for item in communes_by_postal_code("73000"))
    assert communes_by_postal_code("75001") == ()


def test_every_postal_code_finds_its_communes() -> None:
    for item in communes().values():
        for postal_code in item.postal_codes:
            assert item in communes_by_postal_code(postal_code)


def test_communes_in_one_or_several_departements() -> None:
    savoie = communes_in("73")
    assert communes_in(["73"]) == savoie
    assert all(item.departement == "73" for item in savoie)
    both = communes_in(["74", "73", "74"])
    assert len(both) == 552
    assert both[0].departement == "74" and both[-1].departement == "73"
    assert communes_in(["38"]) == ()
    assert communes_in([]) == ()


def test_savoie_and_haute_savoie_are_in_region_84_academie_de_grenoble() -> None:
    for code, name in (("73", "Savoie"), ("74", "Haute-Savoie")):
        record = departement(code)
        assert record is not None
        assert (record.code, record.name) == (code, name)
        assert (record.region_code, record.region_name) == ("84", "Auvergne-Rhône-Alpes")
        assert (record.academie_code, record.academie_name) == ("08", "Grenoble")


@pytest.mark.parametrize(
    ("academie_code", "academie_name", "codes"),
    [
        ("08", "Grenoble", {"07", "26", "38", "73", "74"}),
        ("10", "Lyon", {"01", "42", "69"}),
        ("06", "Clermont-Ferrand", {"03", "15", "43", "63"}),
    ],
)
def test_region_84_departements_and_their_academies(
    academie_code: str, academie_name: str, codes: set[str]
) -> None:
    for code in codes:
        record = departement(code)
        assert record is not None
        assert ids.departement(code) == code
        assert record.region_code == "84"
        assert (record.academie_code, record.academie_name) == (academie_code, academie_name)


def test_only_region_84_is_known() -> None:
    assert len(departements()) == 12
    assert {record.region_code for record in departements().values()} == {"84"}
    assert departement("75") is None  # a valid code, not held
    assert departement("2A") is None


def test_provenance_is_stated_and_shipped() -> None:
    assert "INSEE" in COMMUNES_PROVENANCE and "GeoNames" in COMMUNES_PROVENANCE
    shipped = resources.files("reference").joinpath("data", "PROVENANCE.md").read_text("utf-8")
    assert "communes_73_74.csv" in shipped
