"""The csv_feed kind: declared encoding, delimiter, decimal comma and dates; bad documents."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest

from adapters import csv_feed
from adapters.errors import SourceBadResponse
from adapters.feed_config import CsvFeedEntity, CsvFeedPartner
from adapters.types import ListQuery, Record
from tests.adapters.feed_partners import (
    COMPANIES,
    FeedServer,
    company_csv,
    company_entity,
    feed_partner,
)

FUNDING_HEADER = "code_rncp;intitule;niveau_prise_en_charge;date_effet"
FUNDING_ROWS = (
    ("RNCP36140", "CAP Électricien", "8 500,00", "01/04/2023"),
    ("RNCP35340", "BTS Services informatiques", "9 012,50", "01/04/2023"),
    ("RNCP36140", "CAP Électricien", "8 075,00", "15/07/2025"),
)


def funding_entity(**block: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "path": "/npec.csv",
        "encoding": "latin-1",
        "delimiter": ";",
        "decimal_comma": True,
        "date_format": "%d/%m/%Y",
        "group_by": "code_rncp",
        "group_into": "niveaux",
        "listed": False,
        "lookups": ["rncp"],
        "id": "code_rncp",
        "fields": {
            "certification.rncp": "code_rncp",
            "certification.title": "intitule",
            "fundingLevels": {
                "path": "niveaux[*]",
                "each": {
                    "opco": {"const": "AKTO"},
                    "amount": "niveau_prise_en_charge",
                    "validFrom": "date_effet",
                },
            },
        },
    }
    entity.update(block)
    return entity


def parse(body: bytes, **block: Any) -> list[dict[str, Any]]:
    spec = CsvFeedEntity.model_validate(company_entity(**block))
    return list(csv_feed.csv_parser("akto", spec)(io.BytesIO(body)))


async def read(
    entity: str, block: dict[str, Any], body: bytes, lookup: str = "id"
) -> tuple[list[Record], dict[str, list[Record]]]:
    """Every listed record of one CSV document, and its records by ``lookup`` (RNCPs)."""
    config = CsvFeedPartner.model_validate(feed_partner("csv_feed", {entity: block}))
    server = FeedServer()
    server.publish(block["path"], body, "text/csv")
    adapter = csv_feed.create("akto", config, httpx.ASGITransport(app=server))
    try:
        page = await adapter.list(ListQuery(entity, {}, 100))
        found = await adapter.lookup(entity, lookup, ["RNCP36140", "RNCP35340"])
        return page.records, found
    finally:
        await adapter.aclose()


# -- parsing ----------------------------------------------------------------------------------


def test_latin1_cells_are_decoded_and_stripped() -> None:
    body = company_csv(("732829320", "  Boulangerie Pâtisserie Lévêque ", "AKTO"))
    assert parse(body) == [
        {"siren": "732829320", "raison_sociale": "Boulangerie Pâtisserie Lévêque", "opco": "AKTO"}
    ]


def test_the_same_bytes_read_as_utf8_are_a_bad_response() -> None:
    with pytest.raises(SourceBadResponse, match="encoding"):
        parse(company_csv(*COMPANIES), encoding="utf-8")


def test_a_utf8_export_with_a_bom_reads_its_first_column() -> None:
    body = "\ufeffsiren;raison_sociale;opco\r\n732829320;Société;AKTO\r\n".encode()
    assert parse(body, encoding="utf-8")[0]["siren"] == "732829320"


def test_empty_cells_are_absent_and_blank_lines_skipped() -> None:
    body = b"siren;raison_sociale;opco\r\n732829320;;AKTO\r\n\r\n810028878;X;\r\n"
    assert parse(body) == [
        {"siren": "732829320", "raison_sociale": None, "opco": "AKTO"},
        {"siren": "810028878", "raison_sociale": "X", "opco": None},
    ]


def test_quoted_cells_may_hold_the_delimiter() -> None:
    body = b'siren;raison_sociale;opco\r\n732829320;"Dupont; fils et cie";AKTO\r\n'
    assert parse(body)[0]["raison_sociale"] == "Dupont; fils et cie"


def test_a_document_without_header_uses_the_declared_columns() -> None:
    body = b"732829320;Dupont;AKTO\r\n"
    rows = parse(body, header=False, columns=["siren", "raison_sociale", "opco"])
    assert rows == [{"siren": "732829320", "raison_sociale": "Dupont", "opco": "AKTO"}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'siren;raison_sociale;opco\r\n732829320;"unclosed;AKTO\r\n', "malformed"),
        (b"siren;raison_sociale;siren\r\n1;2;3\r\n", "repeats"),
        (b"siren;nom;opco\r\n732829320;Dupont;AKTO\r\n", "raison_sociale"),
        (b"siren;raison\x00_sociale;opco\r\n", "malformed|raison_sociale"),
    ],
    ids=["unclosed-quote", "repeated-column", "missing-column", "nul-byte"],
)
def test_malformed_csv_is_a_bad_response(body: bytes, message: str) -> None:
    with pytest.raises(SourceBadResponse, match=message):
        parse(body)


def test_an_empty_document_is_empty() -> None:
    assert parse(b"") == []


def test_grouped_rows_make_one_record_per_value_in_first_seen_order() -> None:
    spec = CsvFeedEntity.model_validate(funding_entity())
    body = (FUNDING_HEADER + "\r\n" + "\r\n".join(";".join(r) for r in FUNDING_ROWS)).encode(
        "latin-1"
    )
    raws = list(csv_feed.csv_parser("akto", spec)(io.BytesIO(body)))
    assert [(r["code_rncp"], len(r["niveaux"])) for r in raws] == [
        ("RNCP36140", 2),
        ("RNCP35340", 1),
    ]


# -- through the adapter ----------------------------------------------------------------------


def funding_body(*rows: tuple[str, ...]) -> bytes:
    lines = [FUNDING_HEADER, *(";".join(r) for r in rows)]
    return "\r\n".join(lines).encode("latin-1")


async def test_decimal_comma_and_french_dates_map_to_numbers_and_iso_days() -> None:
    listed, found = await read(
        "training_program", funding_entity(), funding_body(*FUNDING_ROWS), "rncp"
    )
    assert listed == []  # funding levels complete programmes; they are not programmes
    (electricien,) = found["RNCP36140"]
    assert electricien.fields == {
        "id": "RNCP36140",
        "certification": {"rncp": "RNCP36140", "title": "CAP Électricien"},
        "fundingLevels": [
            {"opco": "AKTO", "amount": 8500.0, "validFrom": "2023-04-01"},
            {"opco": "AKTO", "amount": 8075.0, "validFrom": "2025-07-15"},
        ],
    }
    assert found["RNCP35340"][0].fields["fundingLevels"][0]["amount"] == 9012.5


async def test_a_field_may_keep_its_own_format_against_the_feed_default() -> None:
    block = funding_entity()
    block["fields"]["fundingLevels"]["each"]["validFrom"] = {
        "path": "date_effet",
        "format": "%Y-%m-%d",
    }
    rows = [("RNCP36140", "CAP", "8 500,00", "2023-04-01")]
    _, found = await read("training_program", block, funding_body(*rows), "rncp")
    assert found["RNCP36140"][0].fields["fundingLevels"][0]["validFrom"] == "2023-04-01"


async def test_a_row_with_the_wrong_number_of_cells_is_dropped() -> None:
    body = company_csv(*COMPANIES) + b"999999999;trop;de;cellules\r\n"
    records, _ = await read("organisation", company_entity(), body)
    assert sorted(r.fields["siren"] for r in records) == sorted(c[0] for c in COMPANIES)


async def test_a_document_of_which_no_row_fits_is_a_bad_response() -> None:
    body = b"siren;raison_sociale;opco\r\n1;2\r\n3;4\r\n"
    with pytest.raises(SourceBadResponse):
        await read("organisation", company_entity(), body)


async def test_value_maps_turn_the_export_names_into_opco_codes() -> None:
    records, _ = await read("organisation", company_entity(), company_csv(*COMPANIES))
    assert sorted((r.fields["name"], r.fields["opco"]) for r in records) == [
        ("Boulangerie Pâtisserie Lévêque", "AKTO"),
        ("Hôtel du Lac d'Annecy", "AKTO"),
        ("Société Générale de Mécanique", "OPCO2I"),
    ]
