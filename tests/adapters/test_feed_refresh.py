"""The feed contract, run over both kinds (xml_feed, csv_feed) against a real feed partner app:
conditional GET, refresh interval, single flight, last good copy, stale limit, batched look-ups.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters import csv_feed, xml_feed
from adapters.errors import SourceBadResponse, SourceUnavailable
from adapters.feed import FeedAdapter
from adapters.feed_config import CsvFeedPartner, XmlFeedPartner
from adapters.types import ListQuery
from tests.adapters.feed_partners import (
    COMPANIES,
    FORMATIONS,
    FeedServer,
    ManualClock,
    company_csv,
    company_entity,
    feed_partner,
    lheo,
    lheo_entity,
    until,
)
from tests.adapters.rest_partners import served


@dataclass(frozen=True)
class Case:
    """One kind of feed: its config, two versions of its document, and what they hold."""

    kind: str
    entity: str
    path: str
    content_type: str
    first: bytes
    first_ids: list[str]
    second: bytes
    second_ids: list[str]
    key: str  # a look-up key besides id
    key_values: dict[str, str]  # value -> id found by it, in the first document
    build: Callable[..., FeedAdapter]
    block: dict[str, Any]

    def config(self, **settings: Any) -> Any:
        raw = feed_partner(self.kind, {self.entity: self.block}, **settings)
        model = XmlFeedPartner if self.kind == "xml_feed" else CsvFeedPartner
        return model.model_validate(raw)


XML = Case(
    kind="xml_feed",
    entity="training_program",
    path="/lheo.xml",
    content_type="application/xml",
    first=lheo(*FORMATIONS),
    first_ids=["A1", "A2", "A3"],
    second=lheo(FORMATIONS[1]),
    second_ids=["A3"],
    key="catalogueKey",
    key_values={"KEY-A1": "A1", "KEY-A3": "A3"},
    build=xml_feed.create,
    block=lheo_entity(lookups=["catalogueKey", "rncp"]),
)
CSV = Case(
    kind="csv_feed",
    entity="organisation",
    path="/entreprises.csv",
    content_type="text/csv; charset=ISO-8859-1",
    first=company_csv(*COMPANIES),
    first_ids=["193500303", "732829320", "810028878"],  # a feed lists in its ids' order
    second=company_csv(COMPANIES[0]),
    second_ids=["732829320"],
    key="siren",
    key_values={"732829320": "732829320", "193500303": "193500303"},
    build=csv_feed.create,
    block=company_entity(),
)


@pytest.fixture(params=[XML, CSV], ids=["xml_feed", "csv_feed"])
def case(request: pytest.FixtureRequest) -> Case:
    case: Case = request.param
    return case


@pytest.fixture
def server(case: Case) -> FeedServer:
    server = FeedServer()
    server.publish(case.path, case.first, case.content_type)
    return server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


Connect = Callable[..., FeedAdapter]


@pytest.fixture
async def connect(case: Case, server: FeedServer, clock: ManualClock) -> AsyncIterator[Connect]:
    made: list[FeedAdapter] = []

    def build(app: Any = server, **settings: Any) -> FeedAdapter:
        transport = httpx.ASGITransport(app=app) if app is not None else None
        adapter = case.build("partner", case.config(**settings), transport, clock=clock)
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        await adapter.aclose()


async def ids(adapter: FeedAdapter, case: Case) -> list[str]:
    page = await adapter.list(ListQuery(case.entity, {}, 100))
    return [r.fields["id"] for r in page.records]


# -- conditional GET and the refresh interval -----------------------------------------------


async def test_a_fresh_snapshot_is_served_without_calling_the_partner(
    case: Case, server: FeedServer, connect: Connect, clock: ManualClock
) -> None:
    adapter = connect()
    assert await ids(adapter, case) == case.first_ids
    clock.advance(59)  # refresh_s = 60
    assert await ids(adapter, case) == case.first_ids
    assert server.calls == 1
    assert server.seen[0].if_none_match is None  # nothing to revalidate yet


async def test_a_due_refresh_revalidates_and_a_304_keeps_the_snapshot(
    case: Case, server: FeedServer, connect: Connect, clock: ManualClock
) -> None:
    adapter = connect()
    await ids(adapter, case)
    clock.advance(61)
    assert await ids(adapter, case) == case.first_ids
    assert server.calls == 2
    revalidation = server.seen[1]
    assert revalidation.if_none_match == server.documents[case.path].etag
    assert revalidation.if_modified_since == server.documents[case.path].last_modified
    assert server.not_modified == 1
    (status,) = adapter.status()
    assert (status.fetches, status.not_modified, status.stale) == (1, 1, False)
    clock.advance(30)  # the 304 restarted the interval
    await ids(adapter, case)
    assert server.calls == 2


async def test_a_changed_document_replaces_the_snapshot(
    case: Case, server: FeedServer, connect: Connect, clock: ManualClock
) -> None:
    adapter = connect()
    await ids(adapter, case)
    server.publish(case.path, case.second, case.content_type)
    clock.advance(61)
    assert await ids(adapter, case) == case.second_ids
    assert server.not_modified == 0


async def test_a_partner_without_etag_is_revalidated_by_date(
    case: Case, connect: Connect, clock: ManualClock
) -> None:
    dated = FeedServer(use_etag=False)
    dated.publish(case.path, case.first, case.content_type)
    adapter = connect(dated)
    await ids(adapter, case)
    clock.advance(61)
    await ids(adapter, case)
    assert dated.seen[1].if_none_match is None
    assert dated.seen[1].if_modified_since == dated.documents[case.path].last_modified
    assert dated.not_modified == 1


async def test_the_feed_asks_for_its_media_type(
    case: Case, server: FeedServer, connect: Connect
) -> None:
    await ids(connect(), case)
    accept = server.seen[0].accept or ""
    assert ("xml" if case.kind == "xml_feed" else "csv") in accept


# -- one fetch for many callers ---------------------------------------------------------------


async def test_a_batched_lookup_of_many_keys_makes_one_fetch(
    case: Case, server: FeedServer, connect: Connect
) -> None:
    adapter = connect()
    wanted = [*case.key_values, "absent-value"]
    found = await adapter.lookup(case.entity, case.key, wanted)
    assert {value: [r.fields["id"] for r in records] for value, records in found.items()} == {
        value: [record_id] for value, record_id in case.key_values.items()
    }
    by_id = await adapter.lookup(case.entity, "id", case.first_ids)
    assert sorted(by_id) == sorted(case.first_ids)
    assert server.calls == 1


async def test_concurrent_callers_share_one_refresh(
    case: Case, server: FeedServer, connect: Connect
) -> None:
    adapter = connect()
    server.gate = asyncio.Event()
    lookups = asyncio.gather(*(adapter.lookup(case.entity, "id", [i]) for i in case.first_ids))
    lists = asyncio.gather(*(adapter.list(ListQuery(case.entity, {}, 10)) for _ in range(5)))
    await until(lambda: server.waiting == 1)
    server.gate.set()
    found, pages = await lookups, await lists
    assert server.calls == 1
    assert [sorted(f) for f in found] == [[i] for i in case.first_ids]
    assert all(len(p.records) == len(case.first_ids) for p in pages)


async def test_a_caller_cancelled_at_its_deadline_does_not_cancel_the_refresh(
    case: Case, server: FeedServer, connect: Connect
) -> None:
    adapter = connect()
    server.gate = asyncio.Event()
    impatient = asyncio.create_task(adapter.list(ListQuery(case.entity, {}, 10)))
    await until(lambda: server.waiting == 1)
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    server.gate.set()
    assert await ids(adapter, case) == case.first_ids
    assert server.calls == 1


# -- the last good copy -----------------------------------------------------------------------


async def test_the_last_good_copy_is_served_while_the_partner_is_down(
    case: Case, server: FeedServer, connect: Connect, clock: ManualClock
) -> None:
    adapter = connect()
    await ids(adapter, case)
    server.fail_with = 503
    clock.advance(61)
    page = await adapter.list(ListQuery(case.entity, {}, 100))
    assert [r.fields["id"] for r in page.records] == case.first_ids
    assert all(r.provenance[0].from_cache for r in page.records)
    (status,) = adapter.status()
    assert status.stale and status.last_error == SourceUnavailable.code
    tried = server.calls
    clock.advance(4)  # retry_after_failure_s = 5: the partner is left alone meanwhile
    assert await ids(adapter, case) == case.first_ids
    assert server.calls == tried
    clock.advance(2)
    server.fail_with = None
    page = await adapter.list(ListQuery(case.entity, {}, 100))
    assert server.calls == tried + 1 and server.not_modified == 1
    assert not any(r.provenance[0].from_cache for r in page.records)
    assert not adapter.status()[0].stale


async def test_past_max_stale_the_partner_error_propagates(
    case: Case, server: FeedServer, connect: Connect, clock: ManualClock
) -> None:
    adapter = connect()
    await ids(adapter, case)
    server.fail_with = 503
    clock.advance(601)  # max_stale_s = 600
    with pytest.raises(SourceUnavailable):
        await adapter.list(ListQuery(case.entity, {}, 100))
    with pytest.raises(SourceUnavailable):
        await adapter.lookup(case.entity, "id", case.first_ids)


async def test_without_any_copy_a_failing_partner_is_an_error(
    case: Case, server: FeedServer, connect: Connect
) -> None:
    server.fail_with = 500
    with pytest.raises(SourceUnavailable):
        await connect().list(ListQuery(case.entity, {}, 100))


async def test_a_bad_document_keeps_the_last_good_copy(
    case: Case, server: FeedServer, connect: Connect, clock: ManualClock
) -> None:
    adapter = connect()
    await ids(adapter, case)
    server.publish(case.path, b"\x00\x01 not a feed \xff", case.content_type)
    clock.advance(61)
    assert await ids(adapter, case) == case.first_ids
    assert adapter.status()[0].last_error == SourceBadResponse.code


async def test_an_html_error_page_is_a_bad_response(
    case: Case, server: FeedServer, connect: Connect
) -> None:
    server.publish(case.path, b"<html><body>Erreur</body></html>", "text/html")
    with pytest.raises(SourceBadResponse):
        await connect().list(ListQuery(case.entity, {}, 100))


async def test_a_real_partner_stopped_leaves_its_last_good_copy(
    case: Case, server: FeedServer, connect: Connect, clock: ManualClock
) -> None:
    async with served(server) as url:
        adapter = connect(None, base_url=url)
        assert await ids(adapter, case) == case.first_ids
    clock.advance(61)  # the server is gone: connection refused
    assert await ids(adapter, case) == case.first_ids
    (status,) = adapter.status()
    assert status.stale and status.last_error == SourceUnavailable.code
    with pytest.raises(SourceUnavailable):
        await adapter.probe()


async def test_probe_passes_while_the_partner_answers(
    case: Case, server: FeedServer, connect: Connect, clock: ManualClock
) -> None:
    adapter = connect()
    await adapter.probe()
    clock.advance(61)
    await adapter.probe()
    assert server.calls == 2 and server.not_modified == 1


# -- what callers receive ---------------------------------------------------------------------


async def test_records_handed_out_are_copies(case: Case, connect: Connect) -> None:
    adapter = connect()
    page = await adapter.list(ListQuery(case.entity, {}, 100))
    page.records[0].fields["id"] = "changed by a merge"
    page.records[0].provenance.append(page.records[0].provenance[0])
    again = await adapter.list(ListQuery(case.entity, {}, 100))
    assert again.records[0].fields["id"] == case.first_ids[0]
    assert len(again.records[0].provenance) == 1


async def test_list_honours_the_limit_and_says_when_it_cut(case: Case, connect: Connect) -> None:
    page = await connect().list(ListQuery(case.entity, {}, 1))
    assert [r.fields["id"] for r in page.records] == case.first_ids[:1]
    assert page.total == len(case.first_ids) and page.truncated


async def test_lookup_by_an_undeclared_key_is_a_programming_error(
    case: Case, connect: Connect
) -> None:
    adapter = connect()
    assert "id" in adapter.lookup_keys(case.entity)
    with pytest.raises(ValueError):
        await adapter.lookup(case.entity, "uai", ["0731549M"])


async def test_closing_cancels_a_refresh_in_flight(
    case: Case, server: FeedServer, connect: Connect
) -> None:
    adapter = connect()
    server.gate = asyncio.Event()
    waiting = asyncio.create_task(adapter.list(ListQuery(case.entity, {}, 10)))
    await until(lambda: server.waiting == 1)
    await adapter.aclose()
    server.gate.set()
    with pytest.raises(asyncio.CancelledError):  # the refresh it awaited is gone
        await waiting
    assert server.calls == 1
