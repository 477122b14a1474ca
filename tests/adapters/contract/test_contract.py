"""The adapter contract: the same behaviour from every kind of partner system.

Each test runs once per kind (REST, SQL, XML feed, CSV feed, GraphQL, and SQL on PostgreSQL
when one answers), against a fixture partner serving the same :data:`OFFERS` in its own shape
(see :mod:`tests.adapters.contract.partners`). What the adapter returns is compared with the
dataset converted here, independently of any partner's format.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from adapters.errors import SourceError, SourceUnavailable
from adapters.filtering import keep, predicates
from adapters.types import ListQuery, Record
from tests.adapters.contract.conftest import Open
from tests.adapters.contract.partners import (
    BAD_OFFER,
    OFFERS,
    PAGE_SIZE,
    ContractPartner,
    Offer,
    SqlOffers,
)
from tests.services import postgres_url

LIMIT = 100  # more than any partner holds: a list that wants everything

Row = tuple[str, str, tuple[str, ...], str, tuple[str, ...], int, str, str]
"""(id, title, romeCodes, publishedAt, contractKinds, positions, INSEE code, SIRET)."""


def midnight_utc(day: date) -> str:
    return datetime.combine(day, time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def expected(offer: Offer) -> Row:
    assert isinstance(offer.positions, int)
    return (
        offer.id,
        offer.title,
        (offer.rome,),
        midnight_utc(offer.published),
        (offer.nature,),
        offer.positions,
        offer.insee,
        offer.siret,
    )


def observed(record: Record) -> Row:
    f = record.fields
    return (
        f["id"],
        f["title"],
        tuple(f["romeCodes"]),
        f["publishedAt"],
        tuple(f["contractKinds"]),
        f["positions"],
        f["location"]["inseeCode"],
        f["employer"]["siret"],
    )


def ids(records: Iterable[Record]) -> list[str]:
    return [record.fields["id"] for record in records]


def matches(offer: Offer, filters: Mapping[str, Sequence[str]]) -> bool:
    """The common filters' meaning, on the dataset itself."""
    romes, departements = filters.get("romeCodes"), filters.get("departements")
    return (not romes or offer.rome in romes) and (
        not departements or offer.insee[:2] in departements
    )


# -- 1. list: every record, mapped ------------------------------------------------------------


async def test_list_returns_every_record_mapped(contract_partner: ContractPartner) -> None:
    page = await contract_partner.adapter.list(ListQuery("offer", {}, LIMIT))

    assert sorted(observed(r) for r in page.records) == sorted(expected(o) for o in OFFERS)
    for record in page.records:
        assert record.entity == "offer"
        assert record.owner.partner == contract_partner.name
        assert record.owner.partner_id == record.fields["id"]
    assert page.total in (None, len(OFFERS))  # the partner's own count, where it gives one
    assert not page.truncated


# -- 2. list with filters ---------------------------------------------------------------------

FILTERS: dict[str, dict[str, Any]] = {
    "rome": {"romeCodes": ["D1102", "F1602"]},
    "departement": {"departements": ["74"]},
    "rome-and-departement": {"romeCodes": ["D1104", "G1602", "I1604"], "departements": ["73"]},
}


@pytest.mark.parametrize("filters", FILTERS.values(), ids=FILTERS.keys())
async def test_list_with_filters(
    contract_partner: ContractPartner, filters: dict[str, Any]
) -> None:
    adapter = contract_partner.adapter
    page = await adapter.list(ListQuery("offer", filters, LIMIT))

    # What the gateway does with any partner's answer: re-apply every filter.
    kept = keep(page.records, predicates("offer", filters))
    wanted = [o.id for o in OFFERS if matches(o, filters)]
    assert 0 < len(wanted) < len(OFFERS)
    assert sorted(ids(kept)) == sorted(wanted)

    # A filter the partner declares it applies is applied: nothing it returns fails it.
    for name in adapter.pushed_filters("offer") & filters.keys():
        alone = predicates("offer", {name: filters[name]})
        assert ids(keep(page.records, alone)) == ids(page.records), name


# -- 3. look-up by key ------------------------------------------------------------------------


async def test_lookup_by_id_finds_one_and_skips_a_missing_one(
    contract_partner: ContractPartner,
) -> None:
    adapter = contract_partner.adapter
    offer = OFFERS[9]

    found = await adapter.lookup("offer", "id", [offer.id])
    assert list(found) == [offer.id]
    assert [observed(r) for r in found[offer.id]] == [expected(offer)]

    assert await adapter.lookup("offer", "id", ["OF999"]) == {}
    mixed = await adapter.lookup("offer", "id", ["OF999", offer.id])
    assert list(mixed) == [offer.id]


# -- 4. batched look-up -----------------------------------------------------------------------


async def test_batched_lookup_costs_one_partner_call(contract_partner: ContractPartner) -> None:
    adapter = contract_partner.adapter
    first, second = [o.id for o in OFFERS[0::2][:10]], [o.id for o in OFFERS[1::2][:10]]

    found = await adapter.lookup("offer", "id", first)
    assert contract_partner.calls == 1  # one request, one statement, or one feed fetch
    assert sorted(found) == sorted(first)
    assert all(ids(found[value]) == [value] for value in first)

    found = await adapter.lookup("offer", "id", second)
    assert contract_partner.calls <= 2  # a feed answers from the copy it already fetched
    assert sorted(found) == sorted(second)


# -- 5. pagination walk -----------------------------------------------------------------------


async def test_list_walks_every_page_once(contract_partner: ContractPartner) -> None:
    assert len(OFFERS) > PAGE_SIZE and contract_partner.calls == 0

    page = await contract_partner.adapter.list(ListQuery("offer", {}, LIMIT))

    walked = ids(page.records)
    assert len(walked) == len(set(walked)) == len(OFFERS)
    pages = math.ceil(len(OFFERS) / PAGE_SIZE) if contract_partner.paginated else 1
    assert contract_partner.calls == pages


async def test_list_stops_at_the_limit(contract_partner: ContractPartner) -> None:
    page = await contract_partner.adapter.list(ListQuery("offer", {}, PAGE_SIZE + 3))

    listed = ids(page.records)
    assert len(listed) == len(set(listed)) == PAGE_SIZE + 3
    assert set(listed) <= {o.id for o in OFFERS}
    assert page.truncated


# -- 6. partner failure -----------------------------------------------------------------------


async def test_dead_partner_is_source_unavailable(contract_partner: ContractPartner) -> None:
    dead = contract_partner.dead
    filters = {"romeCodes": ["D1102"], "departements": ["73"]}
    looked_up = [OFFERS[0].id, OFFERS[1].id]

    with pytest.raises(SourceUnavailable) as listing:
        await dead.list(ListQuery("offer", filters, LIMIT))
    with pytest.raises(SourceUnavailable) as lookup:
        await dead.lookup("offer", "id", looked_up)

    # Messages may reach clients and logs: no value of a record, of the request, nor the DSN/URL.
    never = {contract_partner.dead_target, *looked_up, "D1102"}
    for o in OFFERS:
        never |= {o.id, o.title, o.rome, o.insee, o.siret}
    for error in (listing.value, lookup.value):
        assert isinstance(error, SourceError)
        assert error.partner == contract_partner.name and error.retryable
        assert not [value for value in never if value in str(error)]


# -- 7. a record that does not fit ------------------------------------------------------------


async def test_a_wrongly_typed_record_is_dropped(serve: Any) -> None:
    partner: ContractPartner = await serve([*OFFERS[:12], BAD_OFFER, *OFFERS[12:]])

    page = await partner.adapter.list(ListQuery("offer", {}, LIMIT))
    assert sorted(observed(r) for r in page.records) == sorted(expected(o) for o in OFFERS)

    found = await partner.adapter.lookup("offer", "id", [BAD_OFFER.id, OFFERS[3].id])
    assert list(found) == [OFFERS[3].id]


# -- found by this suite ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        # asyncpg hands over a datetime.date for a DATE column, SQLite the same day as text
        pytest.param("postgres", marks=[pytest.mark.postgres]),
    ],
)
async def test_a_day_column_maps_to_an_instant_on_every_sql_backend(
    open_partner: Open, backend: str, tmp_path: Any
) -> None:
    server = (
        SqlOffers.sqlite(OFFERS, tmp_path, published_as="date")
        if backend == "sqlite"
        else SqlOffers.postgres(OFFERS, postgres_url(), published_as="date")
    )
    partner = await open_partner(server)

    page = await partner.adapter.list(ListQuery("offer", {}, LIMIT))

    assert sorted(observed(r) for r in page.records) == sorted(expected(o) for o in OFFERS)
