"""The ERPs' personal tables, seeded for real on SQLite and PostgreSQL and read back in SQL."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.schema import DropSchema

from demo.cfa_erp import BTP, HOTELLERIE, seed_cfa_btp, seed_cfa_hotellerie
from demo.data import dataset
from demo.lifecycle import ERP_STATUS, is_valid_path
from demo.personal import CANDIDATES_PER_ERP, build_personal_dataset
from tests.services import postgres_url

FROM_ERP = {label: status for status, label in ERP_STATUS.items()}
CANARY = "CANARY-5e1f0a"


@dataclass
class Seeded:
    dsns: dict[str, str]
    schemas: dict[str, str | None]

    @contextlib.asynccontextmanager
    async def connect(self, erp: str) -> AsyncIterator[AsyncConnection]:
        engine = create_async_engine(self.dsns[erp])
        try:
            async with engine.connect() as connection:
                schema = self.schemas[erp]
                if schema is not None:
                    connection = await connection.execution_options(
                        schema_translate_map={None: schema}
                    )
                    await connection.execute(text(f'SET search_path TO "{schema}"'))
                yield connection
        finally:
            await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Seeded]:
    if request.param == "sqlite":
        dsns = {erp: f"sqlite+aiosqlite:///{tmp_path / f'{erp}.db'}" for erp in (BTP, HOTELLERIE)}
        seeded = Seeded(dsns, {BTP: None, HOTELLERIE: None})
    else:
        url = postgres_url().replace("postgresql://", "postgresql+asyncpg://", 1)
        run = uuid.uuid4().hex[:8]
        schemas: dict[str, str | None] = {
            BTP: f"hub_test_pbtp_{run}",
            HOTELLERIE: f"hub_test_phot_{run}",
        }
        seeded = Seeded({BTP: url, HOTELLERIE: url}, schemas)
    try:
        await seed_cfa_btp(seeded.dsns[BTP], seeded.schemas[BTP], canary=CANARY)
        await seed_cfa_hotellerie(seeded.dsns[HOTELLERIE], seeded.schemas[HOTELLERIE], CANARY)
        yield seeded
    finally:
        for erp, schema in seeded.schemas.items():
            if schema is not None:
                engine = create_async_engine(seeded.dsns[erp])
                async with engine.begin() as connection:
                    await connection.execute(DropSchema(schema, cascade=True, if_exists=True))
                await engine.dispose()


async def rows(seeded: Seeded, erp: str, sql: str) -> list[dict[str, object]]:
    async with seeded.connect(erp) as connection:
        result = await connection.execute(text(sql))
        return [dict(row._mapping) for row in result]


@pytest.mark.parametrize("erp", [BTP, HOTELLERIE])
async def test_candidates_applications_and_histories_are_read_back(
    seeded: Seeded, erp: str
) -> None:
    candidates = await rows(seeded, erp, "SELECT * FROM candidats ORDER BY id")
    assert len(candidates) == CANDIDATES_PER_ERP[erp]
    assert not {"nir", "rqth", "handicap"} & set(candidates[0])  # never held
    assert all(c["ine"] is None or len(str(c["ine"])) == 11 for c in candidates)
    formations = await rows(
        seeded,
        erp,
        "SELECT id_formation AS id FROM formations"
        if erp == BTP
        else "SELECT ref AS id FROM catalogue",
    )
    known = {f["id"] for f in formations}
    applications = await rows(seeded, erp, "SELECT * FROM candidatures ORDER BY id")
    assert {a["formation_id"] for a in applications} <= known
    assert {a["candidat_id"] for a in applications} == {c["id"] for c in candidates}
    history = await rows(
        seeded, erp, "SELECT candidature_id, statut, le FROM historique_candidature ORDER BY id"
    )
    paths: dict[object, list[str]] = {}
    for step in history:
        paths.setdefault(step["candidature_id"], []).append(FROM_ERP[str(step["statut"])])
    assert set(paths) == {a["id"] for a in applications}
    for application in applications:
        path = paths[application["id"]]
        assert is_valid_path(path), path
        assert FROM_ERP[str(application["statut"])] == path[-1]
        assert application["reference_client"] is None
    placed = {a["candidat_id"] for a in applications if a["statut"] == "place"}
    follow_ups = await rows(seeded, erp, "SELECT candidat_id, visibilite FROM suivis")
    assert follow_ups and {f["candidat_id"] for f in follow_ups} <= placed
    assert {f["visibilite"] for f in follow_ups} == {"cfa_seul", "parties_contrat"}


async def test_the_rows_are_those_of_the_personal_dataset(seeded: Seeded) -> None:
    people = build_personal_dataset(dataset(), canary=CANARY)
    candidates = await rows(seeded, BTP, "SELECT * FROM candidats ORDER BY id")
    for row, seed in zip(candidates, people.candidates[BTP], strict=True):
        person = people.persons[seed.person_key]
        assert (row["nom"], row["prenom"], row["courriel"], row["ine"]) == (
            person.last_name,
            person.first_name,
            person.email,
            person.ine,
        )
        assert str(row["date_naissance"]) == person.birth_date.isoformat()
    romes = await rows(seeded, HOTELLERIE, "SELECT romes_vises FROM candidats")
    assert all(";" not in str(r["romes_vises"]) for r in romes)  # its own separator: ","


@pytest.mark.parametrize("erp", [BTP, HOTELLERIE])
async def test_the_canary_is_planted_in_one_candidate(seeded: Seeded, erp: str) -> None:
    async with seeded.connect(erp) as connection:
        carriers = (
            await connection.execute(
                text("SELECT id, courriel FROM candidats WHERE nom = :canary"), {"canary": CANARY}
            )
        ).all()
        summaries = (
            await connection.execute(
                text("SELECT candidat_id FROM suivis WHERE resume LIKE :pattern"),
                {"pattern": f"%{CANARY}%"},
            )
        ).all()
    assert len(carriers) == 1 and CANARY in carriers[0].courriel
    assert [s.candidat_id for s in summaries] == [carriers[0].id]


async def test_a_client_reference_is_unique(seeded: Seeded) -> None:
    insert = (
        "INSERT INTO candidatures (id, candidat_id, formation_id, session, canal, statut, "
        "cree_le, modifie_le, reference_client) VALUES (:id, 1, 'FORM-0001', :day, 'hub', "
        "'brouillon', :at, :at, 'hub-ref-1')"
    )
    at = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
    async with seeded.connect(BTP) as connection:
        await connection.execute(text(insert), {"id": 10_001, "day": at.date(), "at": at})
        with pytest.raises(IntegrityError):
            await connection.execute(text(insert), {"id": 10_002, "day": at.date(), "at": at})
        await connection.rollback()
