"""De-duplication across partners."""

from __future__ import annotations

from typing import Any

from adapters.types import Provenance, Record
from sources.merge import deduplicate, normalise_title


def offer(partner: str, pid: str, **fields: Any) -> Record:
    base = {
        "title": "Apprenti cuisinier H/F",
        "romeCodes": ["G1602"],
        "location": {"inseeCode": "73065"},
        "employer": {"siret": "73282932000074", "name": "Le Bistrot"},
    }
    base.update(fields)
    return Record("offer", {"id": pid, **base}, [Provenance(partner, pid, "2026-11-28T10:00:00Z")])


def test_titles_are_compared_without_case_accents_or_punctuation() -> None:
    assert normalise_title("Apprenti(e) Cuisinier(ère) - H/F") == normalise_title(
        "apprenti e cuisinier ere h f"
    )


def test_the_same_offer_from_two_partners_is_one_record_with_two_provenances() -> None:
    merged = deduplicate(
        "offer",
        [
            [offer("ft", "1", positions=None)],
            [offer("lba", "a", positions=2, title="APPRENTI CUISINIER (H/F)")],
        ],
    )
    assert len(merged) == 1
    assert [p.partner for p in merged[0].provenance] == ["ft", "lba"]
    assert merged[0].fields["positions"] == 2  # filled from the second source
    assert merged[0].fields["title"] == "Apprenti cuisinier H/F"  # the owner's wins


def test_a_publisher_without_siret_still_matches_by_employer_name() -> None:
    merged = deduplicate(
        "offer",
        [[offer("ft", "1", employer={"name": "LE BISTROT"})], [offer("lba", "a")]],
    )
    assert len(merged) == 1


def test_different_communes_romes_or_employers_are_different_offers() -> None:
    merged = deduplicate(
        "offer",
        [
            [offer("ft", "1")],
            [
                offer("lba", "a", location={"inseeCode": "74010"}),
                offer("lba", "b", romeCodes=["G1603"]),
                offer("lba", "c", employer={"siret": "19350030300014", "name": "Autre"}),
            ],
        ],
    )
    assert len(merged) == 4


def test_programmes_merge_by_catalogue_key_and_sessions_by_start_date() -> None:
    catalogue = Record(
        "training_program",
        {"id": "k1", "catalogueKey": "k1", "sessions": [{"start": "2026-09-01", "capacity": 12}]},
        [Provenance("apprentissage", "k1", "t")],
    )
    erp = Record(
        "training_program",
        {
            "id": "F7",
            "catalogueKey": "k1",
            "sessions": [
                {"start": "2026-09-01", "enrolled": 9},
                {"start": "2027-09-01", "capacity": 10},
            ],
        },
        [Provenance("cfa-btp", "F7", "t")],
    )
    [merged] = deduplicate("training_program", [[catalogue], [erp]])
    assert merged.fields["sessions"] == [
        {"start": "2026-09-01", "capacity": 12, "enrolled": 9},
        {"start": "2027-09-01", "capacity": 10},
    ]
    assert catalogue.fields["sessions"] == [{"start": "2026-09-01", "capacity": 12}]  # not mutated


def test_programmes_without_catalogue_key_merge_by_rncp_uai_and_commune() -> None:
    def program(partner: str, pid: str, insee: str) -> Record:
        return Record(
            "training_program",
            {
                "id": pid,
                "certification": {"rncp": "RNCP36629"},
                "responsible": {"uai": "0731549M"},
                "location": {"inseeCode": insee},
            },
            [Provenance(partner, pid, "t")],
        )

    merged = deduplicate(
        "training_program",
        [
            [program("carif", "AF1", "73065")],
            [program("cfa", "9", "73065"), program("cfa", "10", "73008")],
        ],
    )
    assert len(merged) == 2
    assert len(merged[0].provenance) == 2
