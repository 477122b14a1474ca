"""The two simulated CFA ERPs, seeded for real and read through their blocks of demo/partners.toml.

Over SQLite files and over PostgreSQL (schemas of their own, dropped afterwards), the adapter
must give back every programme the dataset publishes on each ERP, with the codes the gateway
merges on (RNCP, responsible UAI, commune, catalogue key) and the sessions' capacity and
enrolment (the fill rate's denominator and numerator).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.sql import SqlAdapter
from adapters.types import ListQuery, Record
from demo.cfa_erp import (
    BTP,
    DSN_ENV,
    HOTELLERIE,
    postgres_answers,
    seed_cfa_btp,
    seed_demo_databases,
)
from demo.data import ProgramSeed, dataset
from tests.adapters.demo_erps import asyncpg_url, demo_blocks, seeded_erps
from tests.services import postgres_url


@dataclass
class Seeded:
    adapters: dict[str, SqlAdapter]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def seeded(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Seeded]:
    async with seeded_erps(request.param, tmp_path, monkeypatch, "hub_test") as adapters:
        yield Seeded(adapters)


def published(partner: str) -> dict[str, ProgramSeed]:
    return {p.publishers[partner]: p for p in dataset().programs_published_on(partner)}


def expected_sessions(program: ProgramSeed) -> list[dict[str, Any]]:
    return [
        {
            "start": s.start.isoformat(),
            "end": s.end.isoformat(),
            "capacity": s.capacity,
            "enrolled": s.enrolled,
            "recruitmentOpen": s.recruitment_open,
        }
        for s in sorted(program.sessions, key=lambda s: s.start)
    ]


def check_programme(record: Record, program: ProgramSeed) -> None:
    fields = record.fields
    assert fields["title"] == program.title
    assert fields["certification"]["rncp"] == program.rncp
    assert fields["certification"]["cfd"] == program.cfd
    assert fields["certification"]["level"] == program.level
    assert fields["certification"]["romeCodes"] == list(program.rome_codes)
    assert fields["responsible"]["uai"] == program.responsible.uai
    assert fields["responsible"]["siret"] == program.responsible.siret
    assert fields["provider"]["uai"] == program.provider.uai
    assert fields["location"]["inseeCode"] == program.address.insee_code
    assert fields["location"]["postalCode"] == program.address.postal_code
    assert fields["location"]["latitude"] == pytest.approx(program.address.latitude)
    assert fields["location"]["longitude"] == pytest.approx(program.address.longitude)
    assert fields["contractKinds"] == list(program.contract_kinds)
    assert fields["durationMonths"] == program.duration_months
    assert fields["fullyRemote"] is program.fully_remote
    assert sorted(fields["sessions"], key=lambda s: s["start"]) == expected_sessions(program)


@pytest.mark.parametrize("partner", [BTP, HOTELLERIE])
async def test_every_published_programme_is_read_back(seeded: Seeded, partner: str) -> None:
    expected = published(partner)
    assert expected  # the dataset gives each ERP programmes, so the test can fail
    page = await seeded.adapters[partner].list(ListQuery("training_program", {}, limit=1000))

    assert not page.truncated
    by_id = {r.owner.partner_id: r for r in page.records}
    assert sorted(by_id) == sorted(expected)
    for own_id, program in expected.items():
        check_programme(by_id[own_id], program)


async def test_only_cfa_btp_carries_the_catalogue_key(seeded: Seeded) -> None:
    btp = await seeded.adapters[BTP].list(ListQuery("training_program", {}, limit=1000))
    for record in btp.records:
        program = published(BTP)[record.owner.partner_id]
        assert record.fields["catalogueKey"] == program.publishers["apprentissage"]
    hotellerie = await seeded.adapters[HOTELLERIE].list(
        ListQuery("training_program", {}, limit=1000)
    )
    assert all("catalogueKey" not in r.fields for r in hotellerie.records)


async def test_level_filter_goes_through_the_value_map(seeded: Seeded) -> None:
    expected = sorted(k for k, p in published(HOTELLERIE).items() if p.level == 3)
    assert expected and len(expected) < len(published(HOTELLERIE))
    page = await seeded.adapters[HOTELLERIE].list(
        ListQuery("training_program", {"levels": [3]}, limit=1000)
    )
    assert sorted(r.owner.partner_id for r in page.records) == expected


async def test_filters_on_the_btp_erp(seeded: Seeded) -> None:
    programs = published(BTP)
    rncp = next(iter(programs.values())).rncp
    rome = next(iter(programs.values())).rome_codes[0]
    adapter = seeded.adapters[BTP]

    by_rncp = await adapter.list(ListQuery("training_program", {"rncp": [rncp]}, 1000))
    by_rome = await adapter.list(ListQuery("training_program", {"romeCodes": [rome]}, 1000))
    in_73 = await adapter.list(ListQuery("training_program", {"departements": ["73"]}, 1000))

    assert sorted(r.owner.partner_id for r in by_rncp.records) == sorted(
        k for k, p in programs.items() if p.rncp == rncp
    )
    assert sorted(r.owner.partner_id for r in by_rome.records) == sorted(
        k for k, p in programs.items() if rome in p.rome_codes
    )
    assert sorted(r.owner.partner_id for r in in_73.records) == sorted(
        k for k, p in programs.items() if p.address.insee_code.startswith("73")
    )


async def test_lookups_by_catalogue_key_and_rncp(seeded: Seeded) -> None:
    program = next(iter(published(BTP).values()))
    key = program.publishers["apprentissage"]
    found = await seeded.adapters[BTP].lookup("training_program", "catalogueKey", [key])
    assert [r.owner.partner_id for r in found[key]] == [program.publishers[BTP]]

    hotel = next(iter(published(HOTELLERIE).values()))
    found = await seeded.adapters[HOTELLERIE].lookup("training_program", "rncp", [hotel.rncp])
    assert hotel.publishers[HOTELLERIE] in {r.owner.partner_id for r in found[hotel.rncp]}
    assert all(r.fields["certification"]["rncp"] == hotel.rncp for r in found[hotel.rncp])


async def test_seeding_is_idempotent(seeded: Seeded) -> None:
    adapter = seeded.adapters[BTP]
    first = await adapter.list(ListQuery("training_program", {}, limit=1000))
    dsn = adapter.sql.dsn.resolve()
    await seed_cfa_btp(dsn, adapter.sql.db_schema)  # drop & create again, same rows
    again = await adapter.list(ListQuery("training_program", {}, limit=1000))
    assert [r.fields for r in again.records] == [r.fields for r in first.records]


# -- the demo's start-up: no server needed ------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_demo_falls_back_to_sqlite_without_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/test"
    assert not await postgres_answers(nowhere)
    dsns = await seed_demo_databases(tmp_path / "data", nowhere)

    assert set(dsns) == {DSN_ENV[BTP], DSN_ENV[HOTELLERIE]}
    assert all(dsn.startswith("sqlite+aiosqlite:///") for dsn in dsns.values())
    for name, value in dsns.items():
        monkeypatch.setenv(name, value)
    blocks = demo_blocks()
    assert blocks[HOTELLERIE].db_schema == "cfa_hotellerie"  # ignored by SQLite
    for name, block in blocks.items():
        adapter = SqlAdapter(name, block)
        try:
            await adapter.probe()
            page = await adapter.list(ListQuery("training_program", {}, limit=1000))
        finally:
            await adapter.aclose()
        assert len(page.records) == len(published(name))


@pytest.mark.postgres
async def test_postgres_is_seen_when_it_answers() -> None:
    assert await postgres_answers(asyncpg_url(postgres_url()))
