"""The demo dataset: deterministic, valid identifiers, real territory, the intended overlaps."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from adapters.syntax import OPCOS
from demo.data import Dataset, dataset
from demo.generate import uai_letter
from demo.territory import communes, distance_km

ROOT = Path(__file__).resolve().parents[2]
HASH_SNIPPET = (
    "import hashlib; from demo.data import dataset; "
    "print(hashlib.sha256(repr(dataset()).encode()).hexdigest())"
)


def labels(filename: str) -> dict[str, str]:
    with (ROOT / "reference" / "data" / filename).open(encoding="utf-8", newline="") as handle:
        return {row["code"]: row["label"] for row in csv.DictReader(handle)}


def fresh_hashes(*hash_seeds: str) -> list[str]:
    """The dataset's hash in one new interpreter per hash seed, run side by side."""
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", HASH_SNIPPET],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            text=True,
        )
        for seed in hash_seeds
    ]
    outputs = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    return outputs


def test_two_fresh_processes_build_the_same_dataset() -> None:
    first, second = fresh_hashes("1", "2")
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert first == second


def test_sizes_are_those_of_the_brief() -> None:
    data = dataset()
    assert 550 <= len(data.employers) <= 650
    assert 35 <= len(data.centres) <= 45
    assert 1900 <= len(data.offers) <= 2100
    assert 250 <= len(data.programs) <= 350


def test_every_siret_and_siren_is_valid_and_unique() -> None:
    data = dataset()
    records = data.establishments()
    for record in records:
        assert stdnum_siret.is_valid(record.siret), record.siret
        assert stdnum_siren.is_valid(record.siren)
        assert record.siret.startswith(record.siren)
    assert len({r.siret for r in records}) == len(records)
    assert {c.siret for c in data.centres} <= {r.siret for r in data.centre_establishments}


def test_every_uai_is_valid_and_of_its_departement() -> None:
    data = dataset()
    uais = [c.uai for c in data.centres]
    assert len(set(uais)) == len(uais)
    for centre in data.centres:
        assert re.fullmatch(r"07[34]\d{4}[A-Z]", centre.uai)
        assert centre.uai[-1] == uai_letter(centre.uai[:7])
        assert centre.uai[1:3] == centre.address.departement
    assert {"0731549M", "0741451A"} <= set(uais)


def test_addresses_are_on_real_communes() -> None:
    data = dataset()
    places = communes()
    addresses = [e.address for e in data.establishments()] + [o.address for o in data.offers]
    for address in addresses:
        commune = places[address.insee_code]
        assert address.city == commune.name
        assert address.postal_code in commune.postal_codes
        assert (
            distance_km(commune.latitude, commune.longitude, address.latitude, address.longitude)
            < 2
        )
        assert re.fullmatch(r"\d+ \S+ .+", address.label)


def test_codes_are_real_and_consistent() -> None:
    data = dataset()
    rome, naf = labels("rome.csv"), labels("naf.csv")
    assert {"F1201", "M1805", "G1602"} <= set(rome)
    for employer in data.employers:
        assert naf[employer.naf_code] == employer.naf_label
        assert employer.opco in OPCOS.split()
        assert employer.idcc is not None and employer.idcc.isdigit()
    by_naf = {e.naf_code: (e.opco, e.idcc) for e in data.employers}
    assert by_naf["56.10A"] == ("AKTO", "1979")
    assert by_naf["62.02A"] == ("ATLAS", "1486")
    assert all(
        e.opco == "CONSTRUCTYS" and e.idcc in ("1596", "1597")
        for e in data.employers
        if e.naf_code.startswith("43.")
    )
    for offer in data.offers:
        assert rome[offer.rome_code] == offer.rome_label
        assert 3 <= offer.level <= 7
    for program in data.programs:
        assert re.fullmatch(r"RNCP\d{3,5}", program.rncp)
        assert re.fullmatch(r"[A-Z0-9]{3}\d{3}[A-Z0-9]{2}", program.cfd)
        assert 3 <= program.level <= 7
        assert all(code in rome for code in program.rome_codes)
        assert all(s.enrolled <= s.capacity and s.start < s.end for s in program.sessions)


def test_offers_are_shared_between_partners_as_intended() -> None:
    data = dataset()
    count = Counter(p for o in data.offers for p in o.publishers)
    assert 950 <= count["francetravail"] <= 1200
    assert 950 <= count["apprentissage"] <= 1200
    assert 120 <= count["hub3e"] <= 180
    both = [o for o in data.offers if {"francetravail", "apprentissage"} <= set(o.publishers)]
    assert 0.15 <= len(both) / count["francetravail"] <= 0.25
    on_hub3e = [o for o in data.offers if "hub3e" in o.publishers]
    overlapping = [o for o in on_hub3e if len(o.publishers) > 1]
    assert len(overlapping) > 0.7 * len(on_hub3e)
    # The same real offer is never published twice by one employer under the same title.
    keys = [(o.employer_siret, o.rome_code, o.address.insee_code, o.title) for o in data.offers]
    assert len(set(keys)) == len(keys)


def test_partner_ids_have_each_partner_shape_and_are_unique() -> None:
    data = dataset()
    shapes = {
        "francetravail": r"\d{3}[A-Z]{4}",
        "apprentissage": r"[0-9a-f]{24}",
        "hub3e": r"M-\d{5}",
    }
    for partner, shape in shapes.items():
        ids = [o.publishers[partner] for o in data.offers_published_on(partner)]
        assert all(re.fullmatch(shape, i) for i in ids), partner
        assert len(set(ids)) == len(ids)
    keys = [p.publishers["apprentissage"] for p in data.programs]
    assert len(set(keys)) == len(keys) == len(data.programs)
    carif = [p.publishers["carif"] for p in data.programs_published_on("carif")]
    assert all(re.fullmatch(r"AF_\d{5}", i) for i in carif)
    assert 0.5 <= len(carif) / len(data.programs) <= 0.7


def test_two_centres_have_their_own_erp() -> None:
    data = dataset()
    btp, hotel = data.centre_with_erp("cfa-btp"), data.centre_with_erp("cfa-hotellerie")
    assert btp.address.departement == "73" and hotel.address.departement == "74"
    for centre in (btp, hotel):
        mine = data.programs_published_on(centre.erp or "")
        assert len(mine) >= 5
        assert all(p.responsible == centre for p in mine)


def test_the_demo_query_near_chambery_finds_a_few_dozen_cooks() -> None:
    chambery = communes()["73065"]
    near = [
        o
        for o in dataset().offers
        if o.rome_code == "G1602"
        and distance_km(
            chambery.latitude, chambery.longitude, o.address.latitude, o.address.longitude
        )
        <= 15
    ]
    assert 24 <= len(near) <= 80


def test_lookup_helpers() -> None:
    data: Dataset = dataset()
    employer = data.employers[3]
    assert data.employer_by_siret(employer.siret) == employer
    assert data.employer_by_siret("00000000000000") is None
    assert data.centre_by_uai("0731549M") is not None
    assert data.centre_by_uai("0731549N") is None
