"""A mapping that says what went wrong: `each` over the record itself, refused shapes, the
field/path/line of a value that does not fit, counters by field, partner time zones, `only`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters import mapping_stats
from adapters.config import EntityMapping
from adapters.mapping import Mapper, MappingError, SourceUnfit, log_dropped, refuse_if_none_fit
from adapters.partners_file import load_partners
from adapters.rest_config import RestPartner
from adapters.types import Record

FETCHED = "2026-11-28T10:00:00Z"
MapOne = Callable[[Mapper, Any], Record]
PROGRAMME = {
    "id": "P1",
    "intitule": "CAP Cuisine",
    "capacity": "12",
    "enrolled": 9,
    "session_start": "2026-09-01",
    "rome_code": "G1602",
    "rome_label": "Personnel de cuisine",
}


@pytest.fixture(params=["compiled", "interpreted"])
def map_one(request: pytest.FixtureRequest) -> MapOne:
    if request.param == "compiled":
        return lambda mapper, raw: mapper.map(raw, FETCHED)
    return lambda mapper, raw: mapper.map_interpreted(raw, FETCHED)


def mapper(entity: str, partner: str = "partner", **fields: Any) -> Mapper:
    return Mapper(partner, entity, EntityMapping(id="id", fields=fields))


# -- `each` over the record itself ---------------------------------------------------------------


def test_each_without_path_builds_one_element_from_the_records_own_fields(
    map_one: MapOne,
) -> None:
    programme = mapper(
        "training_program",
        sessions={
            "each": {"start": "session_start", "capacity": "capacity", "enrolled": "enrolled"}
        },
    )
    offer = mapper("offer", occupations={"each": {"romeCode": "rome_code", "label": "rome_label"}})

    assert map_one(programme, PROGRAMME).fields["sessions"] == [
        {"start": "2026-09-01", "capacity": 12, "enrolled": 9}
    ]
    assert map_one(offer, PROGRAMME).fields["occupations"] == [
        {"romeCode": "G1602", "label": "Personnel de cuisine"}
    ]
    # A record that has none of those fields has no session, not an empty one.
    assert map_one(programme, {"id": "P2"}).fields["sessions"] == []


def test_a_dotted_name_into_a_list_of_objects_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match="sessions is a list of objects") as caught:
        mapper("training_program", **{"sessions.capacity": "capacity"})
    assert 'sessions = { each = { capacity = "capacity" } }' in str(caught.value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sessions": "capacity"}, "it needs an `each` table"),
        ({"title": {"path": "t", "each": {"start": "s"}}}, "`each` maps a list of objects"),
        ({"sessions": {"each": {"seats": "capacity"}}}, "fields.sessions.each.seats: not a field"),
        ({"title": "a..b"}, "is not a valid path"),
    ],
)
def test_mappings_the_reader_cannot_use_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mapper("training_program", **fields)


# -- what a value that does not fit says ---------------------------------------------------------

PARTNER_FILE = """version = 1

[partners.lycee]
kind = "rest"
base_url = "http://127.0.0.1:9"

[partners.lycee.entities.training_program]
id = "id"
list = { path = "/programmes" }

[partners.lycee.entities.training_program.fields]
title = "intitule"
sessions = { each = { start = "session_start", capacity = "capacity" } }
durationMonths = "duree"
"""


def test_the_error_names_the_field_the_partner_path_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "partners.toml"
    path.write_text(PARTNER_FILE, encoding="utf-8")
    block = load_partners(path).partners["lycee"]
    assert isinstance(block, RestPartner)
    programmes = Mapper("lycee", "training_program", block.entities["training_program"])
    lines = PARTNER_FILE.split("\n")
    sessions_line = next(n for n, text in enumerate(lines, 1) if text.startswith("sessions"))
    duration_line = lines.index('durationMonths = "duree"') + 1

    with pytest.raises(MappingError) as caught:
        programmes.map({**PROGRAMME, "capacity": "douze places", "duree": "long"}, FETCHED)

    error = caught.value
    assert (error.field, error.path) == ("sessions.capacity", "capacity")
    assert error.line == f"{path}:{sessions_line}"
    assert [f.field for f in error.failures] == ["sessions.capacity", "durationMonths"]
    assert error.failures[1].line == f"{path}:{duration_line}"
    assert "douze" not in str(error) and "long" not in str(error)


def test_dropped_records_are_counted_by_field_and_named_in_the_log_and_the_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    partner = "counting-partner"
    programmes = mapper("training_program", partner, durationMonths="duree", title="intitule")
    before = mapping_stats.dropped_counts().get((partner, "training_program", "durationMonths"), 0)

    records, dropped = programmes.map_many(
        [{"id": "1", "duree": "x"}, {"id": "2", "duree": "y"}], FETCHED
    )
    with caplog.at_level(logging.WARNING, logger="adapters.mapping"):
        log_dropped(partner, "training_program", dropped)
    with pytest.raises(SourceUnfit) as caught:
        refuse_if_none_fit(partner, "training_program", dropped, len(records))

    assert (records, dropped) == ([], 2)
    after = mapping_stats.dropped_counts()[(partner, "training_program", "durationMonths")]
    assert after - before == 2
    assert "durationMonths (path `duree`): expected an integer" in caplog.text
    assert caught.value.field == "durationMonths"
    assert "no training_program record fits the common syntax (durationMonths" in str(caught.value)
    assert "x" not in caught.value.message.split("(")[1].replace("expected", "")


def test_records_mapped_are_counted_process_wide() -> None:
    partner = "mapped-partner"
    offers = mapper("offer", partner, title="t")

    offers.map_many([{"id": str(n), "t": "Cuisinier"} for n in range(3)], FETCHED)
    offers.map({"id": "9", "t": "Serveur"}, FETCHED)

    assert mapping_stats.mapped_counts()[(partner, "offer")] == 4


# -- `only` ---------------------------------------------------------------------------------------


def test_map_many_reads_only_the_fields_asked_for() -> None:
    offers = mapper(
        "offer",
        title="t",
        positions="n",
        **{"location.city": "ville", "location.inseeCode": "insee"},
    )
    raw = {"id": "1", "t": "Cuisinier", "n": "not a number", "ville": "Annecy", "insee": "74010"}

    records, dropped = offers.map_many([raw], FETCHED, only=frozenset({"title", "location"}))

    assert dropped == 0  # positions is not read, so its bad value costs nothing
    assert records[0].fields == {
        "id": "1",
        "title": "Cuisinier",
        "location": {"city": "Annecy", "inseeCode": "74010"},
    }
    assert offers.map_many([raw], FETCHED)[1] == 1


# -- partner time zones ---------------------------------------------------------------------------


def _block(**settings: Any) -> RestPartner:
    return RestPartner.model_validate(
        {
            "kind": "rest",
            "base_url": "http://127.0.0.1:9",
            "entities": {"offer": {"id": "id", "fields": {"publishedAt": "created"}}},
            **settings,
        }
    )


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("2026-07-14T10:00:00", "2026-07-14T08:00:00Z"),  # summer time, +02:00
        ("2026-01-14T10:00:00", "2026-01-14T09:00:00Z"),  # winter time, +01:00
        ("2026-03-29T03:30:00", "2026-03-29T01:30:00Z"),  # just after the change
        ("2026-01-14T10:00:00+00:00", "2026-01-14T10:00:00Z"),  # an offset is kept
    ],
)
def test_times_without_an_offset_are_read_in_the_partners_zone(
    local: str, utc: str, map_one: MapOne
) -> None:
    block = _block(timezone="Europe/Paris")
    offers = Mapper("p", "offer", block.entities["offer"])

    assert map_one(offers, {"id": "1", "created": local}).fields["publishedAt"] == utc


def test_the_default_zone_is_utc_and_an_unknown_zone_is_refused(map_one: MapOne) -> None:
    offers = Mapper("p", "offer", _block().entities["offer"])
    assert (
        map_one(offers, {"id": "1", "created": "2026-07-14T10:00:00"}).fields["publishedAt"]
        == "2026-07-14T10:00:00Z"
    )
    with pytest.raises(ValidationError, match="unknown time zone 'Europe/Pariss'"):
        _block(timezone="Europe/Pariss")
