"""The paged list contract: about one page per call, in an order, resumed where it stopped.

Each test runs once per kind that follows it (SQL on SQLite and on PostgreSQL, XML feed, CSV
feed, GraphQL, REST). The expected orders are computed here
from the dataset itself: ties by the partner's id, ascending, whatever the direction.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Adapter
from adapters.filtering import matcher
from adapters.sql import SqlAdapter
from adapters.types import ListQuery, Page, Position, SortOrder
from tests.adapters.contract.conftest import PAGED_KINDS, Open, Serve, server_for
from tests.adapters.contract.partners import (
    APPRENTICESHIP,
    OFFERS,
    PAGE_SIZE,
    PROFESSIONALISATION,
    ContractPartner,
    Offer,
    SqlOffers,
)
from tests.services import postgres_url

LIMIT = 7

_S1, _S2, _S3 = "73282932000074", "19350030300014", "81002887800017"
_A, _P = APPRENTICESHIP, PROFESSIONALISATION
MORE_OFFERS = (
    # ties on a title and on a day with offers of OFFERS, a lower-case title (code-point order
    # puts it after every capital and before accented capitals), a title sorting last
    Offer("OF027", "Boulanger de nuit", "D1102", "73065", date(2025, 5, 5), _A, 2, _S1),
    Offer("OF028", "Commis de cuisine", "G1602", "74010", date(2025, 9, 22), _P, 1, _S2),
    Offer("OF029", "Électricien du bâtiment", "F1602", "73011", date(2025, 9, 22), _A, 3, _S3),
    Offer("OF030", "assistant comptable", "M1607", "74281", date(2025, 1, 6), _P, 1, _S1),
    Offer("OF031", "Zingueur", "F1602", "73008", date(2025, 3, 10), _A, 1, _S2),
    Offer("OF032", "Agent de maintenance", "I1604", "74012", date(2025, 6, 16), _P, 2, _S3),
)  # fmt: skip
CATALOGUE = (*OFFERS, *MORE_OFFERS)  # 31 offers

ORDERS: dict[str, SortOrder | None] = {
    "natural": None,
    "newest": SortOrder("publishedAt", descending=True),
    "title": SortOrder("title"),
}
FILTERS: dict[str, dict[str, Any]] = {
    "none": {},
    "rome": {"romeCodes": ["D1102", "F1602", "G1602"]},  # pushed by SQL and GraphQL
    "contract": {"contractKinds": [PROFESSIONALISATION]},  # pushed by neither
    "contract-and-departement": {"contractKinds": [APPRENTICESHIP], "departements": ["73"]},
}


def in_order(offers: Sequence[Offer], order: SortOrder | None) -> list[str]:
    """The ids of ``offers`` in ``order`` (natural: the ids'), ties by id."""
    ordered = sorted(offers, key=lambda o: o.id)
    if order is not None:
        value = {"publishedAt": lambda o: o.published, "title": lambda o: o.title}[order.field]
        ordered.sort(key=value, reverse=order.descending)  # stable: ties stay by id
    return [o.id for o in ordered]


def matching(offers: Sequence[Offer], filters: Mapping[str, Any]) -> list[Offer]:
    """The filters' meaning, on the dataset itself."""
    romes, kinds = filters.get("romeCodes"), filters.get("contractKinds")
    departements = filters.get("departements")
    return [
        o
        for o in offers
        if (not romes or o.rome in romes)
        and (not kinds or o.nature in kinds)
        and (not departements or o.insee[:2] in departements)
    ]


async def walk(
    adapter: Adapter,
    filters: Mapping[str, Any],
    order: SortOrder | None,
    limit: int = LIMIT,
    resume: Position = None,
) -> list[Page]:
    """Every page of a list, each call resuming at the previous page's end."""
    pages: list[Page] = []
    for _ in range(100):
        page = await adapter.list(ListQuery("offer", filters, limit, order=order, resume=resume))
        pages.append(page)
        assert len(page.records) <= limit
        assert page.positions is not None and len(page.positions) == len(page.records)
        if page.exhausted:
            return pages
        resume = page.end
    raise AssertionError("the walk never ended")


def walked(pages: Sequence[Page]) -> list[str]:
    return [r.fields["id"] for page in pages for r in page.records]


@pytest.fixture
async def paged_partner(serve_paged: Serve) -> ContractPartner:
    return await serve_paged(CATALOGUE)


# -- the walk ---------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
@pytest.mark.parametrize("filters", FILTERS.values(), ids=FILTERS.keys())
async def test_a_walk_returns_every_matching_record_once_in_order(
    paged_partner: ContractPartner, filters: dict[str, Any], order: SortOrder | None
) -> None:
    adapter = paged_partner.adapter
    expected = in_order(matching(CATALOGUE, filters), order)
    assert 0 < len(expected) < len(CATALOGUE) or not filters

    pages = await walk(adapter, filters, order)

    assert walked(pages) == expected
    check = matcher("offer", filters)
    assert all(check(r) for page in pages for r in page.records)
    # each call fills its page (max_items is far above the catalogue): only the last is short
    assert all(len(page.records) == LIMIT for page in pages[:-1])
    assert len(pages) <= math.ceil(len(expected) / LIMIT) + 1
    for page in pages:
        if page.total_exact:
            assert page.total == len(expected)
    if set(filters) <= adapter.pushed_filters("offer"):
        assert pages[0].total_exact  # every filter applied by the partner: its count is exact


async def test_each_position_resumes_right_after_its_record(
    paged_partner: ContractPartner,
) -> None:
    order = SortOrder("publishedAt", descending=True)
    expected = in_order(CATALOGUE, order)
    first = await paged_partner.adapter.list(ListQuery("offer", {}, LIMIT, order=order))
    assert first.positions is not None

    for i in (0, 3, LIMIT - 1):
        again = await paged_partner.adapter.list(
            ListQuery("offer", {}, 4, order=order, resume=first.positions[i])
        )
        assert [r.fields["id"] for r in again.records] == expected[i + 1 : i + 5]


async def test_positions_are_small_json(paged_partner: ContractPartner) -> None:
    for order in ORDERS.values():
        for page in await walk(paged_partner.adapter, FILTERS["contract"], order):
            assert page.positions is not None
            for position in [*page.positions, page.end]:
                text = json.dumps(position)
                assert json.loads(text) == position
                assert len(text) <= 64, text


@pytest.fixture(params=PAGED_KINDS)
async def bounded_partner(
    request: pytest.FixtureRequest, open_partner: Open, tmp_path: Path
) -> ContractPartner:
    server = server_for(request.param, CATALOGUE, tmp_path)
    server.settings["max_items"] = 5
    return await open_partner(server)


async def test_filters_the_partner_cannot_apply_cost_a_bounded_scan(
    bounded_partner: ContractPartner,
) -> None:
    """With ``max_items = 5`` a call examines at most 5 raw records: pages may come back
    short, even empty and not exhausted, yet the walk still returns every match once."""
    filters = FILTERS["contract-and-departement"]
    order = SortOrder("title")

    pages = await walk(bounded_partner.adapter, filters, order)

    assert walked(pages) == in_order(matching(CATALOGUE, filters), order)
    # 5 raw records a call at most: what the database or the partner keeps (a feed examines
    # its whole snapshot)
    adapter = bounded_partner.adapter
    feed = bounded_partner.kind.endswith("_feed")
    pushed = {k: v for k, v in filters.items() if k in adapter.pushed_filters("offer")}
    raw = len(CATALOGUE) if feed else len(matching(CATALOGUE, pushed))
    assert len(pages) >= math.ceil(raw / 5)
    assert any(len(page.records) < LIMIT and not page.exhausted for page in pages)


# -- what a kind declares ---------------------------------------------------------------------

DECLARED = {
    # every field read as-is from one column; not `positions` (a text column), nor lists
    "sql": {"id", "title", "publishedAt", "location.inseeCode", "employer.siret"},
    "graphql": {"-publishedAt", "title", "id"},  # its sort block: two values and `natural`
    "rest": {"-publishedAt", "title", "id"},  # the same, as query parameters
}


async def test_orders_and_resuming_are_declared(paged_partner: ContractPartner) -> None:
    adapter = paged_partner.adapter
    orders = adapter.orders("offer")
    if paged_partner.kind == "sql":
        assert orders == {t for name in DECLARED["sql"] for t in (name, f"-{name}")}
    elif paged_partner.kind in ("graphql", "rest"):
        assert orders == DECLARED[paged_partner.kind]
    else:  # a feed sorts its snapshot by any scalar field, either way
        assert {"-publishedAt", "publishedAt", "title", "-positions", "id"} <= orders
        assert not {"romeCodes", "contractKinds", "location"} & orders
    assert adapter.resumable("offer")

    with pytest.raises(ValueError, match="cannot list"):
        await adapter.list(ListQuery("offer", {}, LIMIT, order=SortOrder("romeCodes")))
    with pytest.raises(ValueError, match="not a position"):
        await adapter.list(ListQuery("offer", {}, LIMIT, resume={"page": 2}))


# -- SQL: the cost follows the page -----------------------------------------------------------


@pytest.fixture(params=["sql", pytest.param("sql_postgres", marks=pytest.mark.postgres)])
async def sql_partner(
    request: pytest.FixtureRequest, open_partner: Open, tmp_path: Path
) -> ContractPartner:
    return await open_partner(server_for(request.param, CATALOGUE, tmp_path))


class RowsRead:
    """The rows each page statement of an SQL adapter brought back (counts aside), by call."""

    def __init__(self, adapter: SqlAdapter) -> None:
        self.calls: list[list[int]] = []
        self.counts = 0
        execute = adapter._execute

        async def counted(connection: Any, statement: Any) -> Any:
            rows = await execute(connection, statement)
            if str(statement).startswith("SELECT count(*)"):
                self.counts += 1
            else:
                self.calls[-1].append(len(rows))
            return rows

        adapter._execute = counted  # type: ignore[method-assign]

    def start_call(self) -> None:
        self.calls.append([])


async def test_sql_reads_about_one_page_per_call(sql_partner: ContractPartner) -> None:
    adapter = sql_partner.adapter
    assert isinstance(adapter, SqlAdapter)
    rows = RowsRead(adapter)
    order = SortOrder("publishedAt", descending=True)
    resume: Position = None
    walked_ids: list[str] = []
    while True:
        rows.start_call()
        page = await adapter.list(ListQuery("offer", {}, LIMIT, order=order, resume=resume))
        walked_ids += [r.fields["id"] for r in page.records]
        if page.exhausted:
            break
        resume = page.end

    assert walked_ids == in_order(CATALOGUE, order)
    # one page statement of at most limit + 1 rows (the page size caps it here), one count
    assert all(len(call) == 1 and call[0] <= min(LIMIT + 1, PAGE_SIZE) for call in rows.calls)
    assert rows.counts <= len(rows.calls)
    assert sum(sum(call) for call in rows.calls) <= len(CATALOGUE) + len(rows.calls)


async def test_sql_with_a_filter_it_cannot_push_reads_each_row_about_once(
    sql_partner: ContractPartner,
) -> None:
    adapter = sql_partner.adapter
    assert isinstance(adapter, SqlAdapter)
    rows = RowsRead(adapter)
    filters = FILTERS["contract"]
    resume: Position = None
    calls = 0
    while True:
        rows.start_call()
        calls += 1
        page = await adapter.list(ListQuery("offer", filters, LIMIT, resume=resume))
        if page.exhausted:
            break
        resume = page.end

    page_rows = [n for call in rows.calls for n in call]
    # every row once, plus at most the rest of one page statement re-read by the next call
    assert sum(page_rows) <= len(CATALOGUE) + calls * PAGE_SIZE
    assert all(n <= PAGE_SIZE for n in page_rows)
    assert rows.counts <= calls


@pytest.mark.postgres
async def test_postgres_text_orders_by_code_point_whatever_the_column_collation(
    open_partner: Open,
) -> None:
    """A French collation puts "assistant" among the A and "Électricien" among the E; the
    gateway compares strings by code point, so the adapter orders text that way too."""
    server = SqlOffers.postgres(CATALOGUE, postgres_url(), title_collation="fr-x-icu")
    partner = await open_partner(server)
    order = SortOrder("title")

    pages = await walk(partner.adapter, {}, order)

    assert walked(pages) == in_order(CATALOGUE, order)


# -- feeds: a new snapshot between two pages --------------------------------------------------


@pytest.fixture(params=["xml_feed", "csv_feed"])
async def refreshing_feed(
    request: pytest.FixtureRequest, open_partner: Open, tmp_path: Path
) -> AsyncIterator[ContractPartner]:
    server = server_for(request.param, OFFERS, tmp_path)
    server.settings["refresh_s"] = 0  # every call revalidates: a new document, a new snapshot
    yield await open_partner(server)


async def test_a_new_snapshot_between_two_pages_loses_and_repeats_nothing(
    refreshing_feed: ContractPartner,
) -> None:
    adapter, server = refreshing_feed.adapter, refreshing_feed.server
    order = SortOrder("publishedAt", descending=True)
    first = await adapter.list(ListQuery("offer", {}, LIMIT, order=order))
    seen = [r.fields["id"] for r in first.records]
    assert seen == in_order(OFFERS, order)[:LIMIT]

    # The partner publishes again: another document order, one offer of the first page gone,
    # one new offer older than every other (it sorts after the first page: it must be seen).
    gone = next(o for o in OFFERS if o.id == seen[1])
    oldest = replace(OFFERS[0], id="OF099", title="Plombier", published=date(2024, 12, 2))
    changed = [o for o in reversed(OFFERS) if o is not gone] + [oldest]
    server.offers = changed

    rest = walked(await walk(adapter, {}, order, resume=first.end))

    assert server.calls >= 2  # the later pages came from the new snapshot
    after = in_order(changed, order)
    last = after.index(seen[-1])
    assert rest == after[last + 1 :]
    assert not set(rest) & set(seen)
    assert "OF099" in rest
