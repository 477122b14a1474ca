"""The xml_feed kind: how an element tree becomes raw records, and that hostile XML is inert."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from adapters import xml_feed
from adapters.errors import SourceBadResponse
from adapters.feed_config import XmlFeedEntity, XmlFeedPartner
from adapters.types import ListQuery
from tests.adapters.feed_partners import (
    FORMATIONS,
    FeedServer,
    feed_partner,
    lheo,
    lheo_action,
    lheo_entity,
    lheo_formation,
)
from tests.adapters.rest_partners import served


def parse(body: bytes, **block: Any) -> list[dict[str, Any]]:
    spec = XmlFeedEntity.model_validate(lheo_entity(**block))
    return list(xml_feed.xml_parser("carif", spec)(io.BytesIO(body)))


def partner(**block: Any) -> XmlFeedPartner:
    return XmlFeedPartner.model_validate(
        feed_partner("xml_feed", {"training_program": lheo_entity(**block)})
    )


async def programs(body: bytes, content_type: str = "application/xml", **block: Any) -> Any:
    server = FeedServer()
    server.publish("/lheo.xml", body, content_type)
    adapter = xml_feed.create("carif", partner(**block), httpx.ASGITransport(app=server))
    try:
        return await adapter.list(ListQuery("training_program", {}, 100))
    finally:
        await adapter.aclose()


# -- the raw record ---------------------------------------------------------------------------


def test_each_action_is_one_record_carrying_its_formation() -> None:
    raws = parse(lheo(*FORMATIONS))
    assert [r["action"]["@numero"] for r in raws] == ["A1", "A2", "A3"]
    first, second = raws[0], raws[1]
    assert first["@numero"] == second["@numero"] == "F1"
    assert first["intitule-formation"] == "BTS Services informatiques aux organisations"
    assert first["certification"] == {"code-RNCP": "RNCP35340"}


def test_declared_repetitions_are_lists_even_when_single() -> None:
    raws = parse(lheo(*FORMATIONS))
    a1, a2 = raws[0]["action"], raws[1]["action"]
    assert [s["periode"]["debut"] for s in a1["session"]] == ["20260907"]
    assert [s["periode"]["debut"] for s in a2["session"]] == ["20260907", "20270104"]
    assert isinstance(a1["lieu-de-formation"], list)
    assert raws[0]["domaine-formation"]["code-ROME"] == ["M1805"]


def test_an_undeclared_repetition_becomes_a_list_and_loses_nothing() -> None:
    formation = lheo_formation(
        "F9", "Titre", "RNCP1", "15", "0731549M", lheo_action("A9", "73065", [])
    ).replace("<intitule-formation>", "<url>u1</url><url>u2</url><intitule-formation>")
    (raw,) = parse(lheo(formation))
    assert raw["url"] == ["u1", "u2"]


def test_keyed_elements_are_read_by_their_attribute() -> None:
    raws = parse(lheo(*FORMATIONS))
    assert raws[0]["action"]["extras"]["extra"] == {"cle-ministere-educatif": "KEY-A1"}
    assert raws[0]["action"]["extras"]["@info"] == "action"
    assert "extras" not in raws[1]["action"]


def test_attributes_text_and_blank_leaves() -> None:
    document = lheo(
        '<formation numero="F1" horodatage-creation="2026-01-01T00:00:00">'
        '<intitule-formation horodatage-modification="x">  Titre  </intitule-formation>'
        "<objectif-formation>   </objectif-formation>"
        '<contenu-formation>mixed<b info="i">bold</b>tail</contenu-formation>'
        '<action numero="A1"><rythme-formation>Alternance</rythme-formation></action>'
        "</formation>"
    )
    (raw,) = parse(document)
    assert raw["@horodatage-creation"] == "2026-01-01T00:00:00"
    assert raw["intitule-formation"] == "Titre"  # a leaf is its text; its attributes unread
    assert raw["objectif-formation"] is None  # blank is absent
    assert raw["contenu-formation"] == {"#text": "mixedtail", "b": "bold"}
    assert raw["action"] == {"@numero": "A1", "rythme-formation": "Alternance"}


def test_comments_and_processing_instructions_are_not_text() -> None:
    document = lheo(
        '<formation numero="F1"><intitule-formation>BTS<!-- brouillon --> MCO<?tool x?>'
        '</intitule-formation><action numero="A1"><rythme-formation/></action></formation>'
    )
    assert parse(document)[0]["intitule-formation"] == "BTS MCO"


def test_without_explode_a_formation_is_one_record() -> None:
    raws = parse(lheo(*FORMATIONS), explode=None, repeated=["action"])
    assert [len(r["action"]) for r in raws] == [2, 1]


def test_a_formation_without_action_gives_no_record_when_exploded() -> None:
    bare = '<formation numero="F0"><intitule-formation>Sans action</intitule-formation></formation>'
    assert parse(lheo(bare, FORMATIONS[1])) == parse(lheo(FORMATIONS[1]))


def test_records_are_found_in_any_namespace_when_none_is_required() -> None:
    assert len(parse(lheo(*FORMATIONS, namespace="urn:other"), namespace=None)) == 3


def test_a_record_in_another_namespace_is_another_format_version() -> None:
    with pytest.raises(SourceBadResponse, match="namespace"):
        parse(lheo(*FORMATIONS, namespace="http://lheo.gouv.fr/2.2"))


def test_an_empty_catalogue_is_empty_not_an_error() -> None:
    assert parse(lheo()) == []


def test_a_latin1_document_is_decoded_by_its_declaration() -> None:
    text = lheo(FORMATIONS[1]).decode().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    (raw,) = parse(text.encode("latin-1"))
    assert raw["intitule-formation"] == "CAP Électricien"


@pytest.mark.parametrize(
    "body",
    [
        lheo(*FORMATIONS)[:-40],  # truncated
        b"",
        b"<lheo><offres><formation></offres></lheo>",  # mismatched tags
        b"<lheo><formation numero='1'>&undefined;</formation></lheo>",
    ],
    ids=["truncated", "empty", "mismatched", "undefined-entity"],
)
def test_malformed_xml_is_a_bad_response_that_quotes_nothing(body: bytes) -> None:
    with pytest.raises(SourceBadResponse) as caught:
        parse(body)
    assert "formation" not in str(caught.value)


# -- hostile XML ------------------------------------------------------------------------------

BILLION_LAUGHS = """<!DOCTYPE lheo [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


async def test_a_billion_laughs_is_refused_without_being_expanded() -> None:
    # libxml2 measures the amplification the declarations would give, even unexpanded
    formation = FORMATIONS[1].replace("CAP Électricien", "CAP &lol9; Électricien")
    with pytest.raises(SourceBadResponse) as caught:
        await programs(lheo(formation, prolog=BILLION_LAUGHS))
    assert "lol" not in str(caught.value)


async def test_nested_internal_entities_stay_inert_references() -> None:
    small_laughs = BILLION_LAUGHS.split(" <!ENTITY lol4")[0] + "]>\n"
    formation = FORMATIONS[1].replace("CAP Électricien", "CAP &lol3; Électricien")
    page = await programs(lheo(formation, prolog=small_laughs))
    (record,) = page.records
    assert record.fields["title"] == "CAP  Électricien"
    assert "lol" not in str(record.fields)


class HitCounter:
    """A partner nobody should call: it counts requests (an XXE would make one)."""

    def __init__(self) -> None:
        self.hits = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.hits += 1
        body = b'<!ENTITY leaked "LEAKED-OVER-HTTP">'
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


async def test_external_entities_and_dtds_are_neither_read_nor_fetched(tmp_path: Path) -> None:
    canary = tmp_path / "secret.txt"
    canary.write_text("CANARY-FILE-CONTENT")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY fromdtd "CANARY-FROM-DTD">')
    counter = HitCounter()
    async with served(counter) as url:
        prolog = (
            f'<!DOCTYPE lheo SYSTEM "{dtd.as_uri()}" [\n'
            f'  <!ENTITY file SYSTEM "{canary.as_uri()}">\n'
            f'  <!ENTITY remote SYSTEM "{url}/entity">\n'
            f'  <!ENTITY % param SYSTEM "{url}/param"> %param;\n'
            "]>\n"
        )
        formation = FORMATIONS[1].replace(
            "CAP Électricien", "CAP &file;&remote;&fromdtd;&leaked; Électricien"
        )
        page = await programs(lheo(formation, prolog=prolog))
    (record,) = page.records
    assert record.fields["title"] == "CAP  Électricien"
    assert "CANARY" not in str(record.fields) and "LEAKED" not in str(record.fields)
    assert counter.hits == 0


# -- through the adapter ----------------------------------------------------------------------


async def test_lheo_dates_levels_and_nested_lists_map_to_the_common_syntax() -> None:
    page = await programs(lheo(*FORMATIONS))
    a1, a2, a3 = page.records
    assert a1.fields["certification"] == {"rncp": "RNCP35340", "level": 5}
    assert a3.fields["certification"]["level"] == 3  # LHEO 13 = level 3
    assert a2.fields["sessions"] == [
        {"start": "2026-09-07", "end": "2029-06-30"},
        {"start": "2027-01-04", "end": "2029-06-30"},
    ]
    assert (a1.fields["catalogueKey"], a2.fields["catalogueKey"]) == ("KEY-A1", None)
    location = a2.fields["location"]  # completed from the reference communes, once per copy
    assert (location["inseeCode"], location["postalCode"], location["city"]) == (
        "74010",
        "74000",
        "Annecy",
    )
    assert a1.fields["responsible"] == {"uai": "0731549M"}
    assert [r.provenance[0].partner_id for r in page.records] == ["A1", "A2", "A3"]


async def test_a_record_that_does_not_fit_is_dropped_and_counted() -> None:
    broken = FORMATIONS[1].replace("20260901", "2026-09-01")  # not AAAAMMJJ
    page = await programs(lheo(FORMATIONS[0], broken))
    assert [r.fields["id"] for r in page.records] == ["A1", "A2"]


async def test_a_document_of_which_nothing_fits_is_a_bad_response() -> None:
    with pytest.raises(SourceBadResponse):
        await programs(lheo(*FORMATIONS), id="action.@absent")


@pytest.mark.parametrize("content_type", ["text/xml; charset=utf-8", "application/atom+xml"])
async def test_usual_xml_media_types_are_accepted(content_type: str) -> None:
    assert len((await programs(lheo(*FORMATIONS), content_type)).records) == 3


async def test_a_declared_media_type_list_replaces_the_usual_one() -> None:
    with pytest.raises(SourceBadResponse, match="content type"):
        await programs(lheo(*FORMATIONS), content_types=["application/vnd.lheo+xml"])
    page = await programs(
        lheo(*FORMATIONS), "application/octet-stream", content_types=["application/octet-stream"]
    )
    assert len(page.records) == 3
