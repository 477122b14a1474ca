"""Two training centres' own ERP databases, read live by the ``sql`` adapter.

They hold the centres' programmes (``training_program``) with their sessions, capacity and
enrolment (the fill rate's denominator and numerator), each in its own schema and words:

- ``cfa-btp``, the building-trades CFA of Savoie, on SQLite: ``formations`` and
  ``sessions_formation`` (``id_formation``, ``code_rncp``, ``niveau_eu`` = 3, recruitment
  ``'O'``/``'N'``), with the ministry's catalogue key of each programme.
- ``cfa-hotellerie``, the hotel and catering CFA of Haute-Savoie, on PostgreSQL (schema
  ``cfa_hotellerie`` of database ``test``): ``catalogue`` and ``promotions`` (``ref``,
  ``niveau`` = ``'Niveau 3'``, coordinates as ``numeric``, ``statut_recrutement`` =
  ``'ouvert'``/``'complet'``), without the catalogue key: the gateway matches its programmes
  with the national catalogues by RNCP + responsible UAI + commune.

The rows come from :func:`demo.data.dataset` (the programmes whose ``publishers`` name the ERP),
so the same programme is found again at ``apprentissage`` and ``carif``. Next to them, each ERP
holds its personal tables (candidates, applications and their history, follow-up): see
:mod:`demo.cfa_personal` and :mod:`demo.personal`.

The demo needs no server: :func:`prepare_demo_databases` seeds ``cfa-btp`` into a SQLite file
and ``cfa-hotellerie`` into PostgreSQL when one answers at ``HUB_DEMO_POSTGRES_URL`` (default
the local test server), else into a second SQLite file, where the schema name is simply not
used (SQLite has no schemas; the partner block's ``db_schema`` is ignored there). It returns
the DSN environment variables the partners file names (``HUB_CFA_BTP_DSN``,
``HUB_CFA_HOTELLERIE_DSN``). Usage::

    for name, value in prepare_demo_databases().items():
        os.environ[name] = value
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Numeric, Table, func, insert, literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.orm import registry
from sqlalchemy.schema import CreateSchema, DropSchema
from sqlmodel import Field, SQLModel

from demo.cfa_personal import add_personal_tables, personal_rows
from demo.data import ProgramSeed, dataset
from demo.personal import personal_dataset

logger = logging.getLogger(__name__)

BTP = "cfa-btp"
HOTELLERIE = "cfa-hotellerie"
HOTELLERIE_SCHEMA = "cfa_hotellerie"
DSN_ENV = {BTP: "HUB_CFA_BTP_DSN", HOTELLERIE: "HUB_CFA_HOTELLERIE_DSN"}
"""The environment variable the partners file reads each ERP's DSN from."""

DEMO_POSTGRES_ENV = "HUB_DEMO_POSTGRES_URL"
DEMO_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
_PROBE_TIMEOUT_S = 2.0
# A fixed "last update": the dataset is deterministic.
_UPDATED = datetime(2026, 1, 5, 6, 30, tzinfo=UTC)


# -- cfa-btp: SQLite, numeric level, 'O'/'N' ---------------------------------------------------


class _BtpModel(SQLModel, registry=registry()):
    """The cfa-btp tables, in their own metadata (never the gateway's)."""


class Formation(_BtpModel, table=True):
    __tablename__ = "formations"

    id_formation: str = Field(primary_key=True, max_length=12)
    cle_ministere_educatif: str | None = Field(default=None, max_length=80)
    intitule: str = Field(max_length=200)
    code_rncp: str = Field(max_length=12, index=True)
    code_diplome: str = Field(max_length=8)
    intitule_diplome: str = Field(max_length=200)
    niveau_eu: int
    codes_rome: str = Field(max_length=60)  # "F1602;F1703"
    uai_responsable: str = Field(max_length=8)
    siret_responsable: str = Field(max_length=14)
    uai_formateur: str = Field(max_length=8)
    siret_formateur: str = Field(max_length=14)
    nom_formateur: str = Field(max_length=200)
    adresse_lieu: str = Field(max_length=200)
    code_postal_lieu: str = Field(max_length=5)
    code_insee_lieu: str = Field(max_length=5, index=True)
    commune_lieu: str = Field(max_length=100)
    latitude: float
    longitude: float
    duree_mois: int
    contrats: str = Field(max_length=20)  # "APP" or "APP,PRO"
    distanciel: int  # 0/1, as the ERP stores booleans
    date_maj: datetime
    commentaire_interne: str | None = Field(default=None, max_length=200)  # never mapped


class SessionFormation(_BtpModel, table=True):
    __tablename__ = "sessions_formation"

    id_session: int = Field(primary_key=True)
    id_formation: str = Field(foreign_key="formations.id_formation", index=True, max_length=12)
    date_debut: date
    date_fin: date
    places_ouvertes: int
    inscrits: int
    recrutement_ouvert: str = Field(max_length=1)  # 'O' / 'N'


# -- cfa-hotellerie: PostgreSQL, "Niveau 3", numeric coordinates, 'ouvert'/'complet' -----------


class _HotellerieModel(SQLModel, registry=registry()):
    """The cfa-hotellerie tables; their schema is given at seeding time (PostgreSQL only)."""


class Catalogue(_HotellerieModel, table=True):
    __tablename__ = "catalogue"

    ref: str = Field(primary_key=True, max_length=12)
    libelle: str = Field(max_length=200)
    rncp: str = Field(max_length=12, index=True)
    diplome: str = Field(max_length=8)
    niveau: str = Field(max_length=10)  # "Niveau 3"
    rome: str = Field(max_length=60)  # "G1602,G1601"
    uai_cfa: str = Field(max_length=8)
    siret_cfa: str = Field(max_length=14)
    uai_site: str = Field(max_length=8)
    siret_site: str = Field(max_length=14)
    site: str = Field(max_length=200)
    adresse: str = Field(max_length=200)
    cp: str = Field(max_length=5)
    ville: str = Field(max_length=100)
    insee: str = Field(max_length=5, index=True)
    # numeric(8, 5): PostgreSQL hands the adapter Decimal values, which it must take.
    lat: float = Field(sa_column=Column(Numeric(8, 5, asdecimal=False), nullable=False))
    lon: float = Field(sa_column=Column(Numeric(8, 5, asdecimal=False), nullable=False))
    duree_mois: int
    contrats: str = Field(max_length=60)  # "apprentissage,professionnalisation"
    a_distance: bool
    mis_a_jour: datetime


class Promotion(_HotellerieModel, table=True):
    __tablename__ = "promotions"

    id_promotion: int = Field(primary_key=True)
    ref_catalogue: str = Field(foreign_key="catalogue.ref", index=True, max_length=12)
    rentree: date
    fin: date
    effectif_max: int
    effectif_actuel: int
    statut_recrutement: str = Field(max_length=10)  # 'ouvert' / 'complet'


# Candidates, applications with their history, follow-up: the same shape in both ERPs.
BTP_PERSONAL = add_personal_tables(_BtpModel.metadata)
HOTELLERIE_PERSONAL = add_personal_tables(_HotellerieModel.metadata)


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


# -- rows ----------------------------------------------------------------------------------------

Rows = dict[Table, list[dict[str, Any]]]

_BTP_CONTRACTS = {"APPRENTICESHIP": "APP", "PROFESSIONALISATION": "PRO"}
_HOTELLERIE_CONTRACTS = {
    "APPRENTICESHIP": "apprentissage",
    "PROFESSIONALISATION": "professionnalisation",
}


def btp_rows(programs: Sequence[ProgramSeed] | None = None) -> Rows:
    """The cfa-btp rows of ``programs`` (default: those the dataset publishes on cfa-btp)."""
    if programs is None:
        programs = dataset().programs_published_on(BTP)
    formations: list[dict[str, Any]] = []
    sessions: list[dict[str, Any]] = []
    for program in programs:
        own_id = program.publishers[BTP]
        provider, address = program.provider, program.address
        formations.append(
            {
                "id_formation": own_id,
                "cle_ministere_educatif": program.publishers.get("apprentissage"),
                "intitule": program.title,
                "code_rncp": program.rncp,
                "code_diplome": program.cfd,
                "intitule_diplome": program.certification_title,
                "niveau_eu": program.level,
                "codes_rome": ";".join(program.rome_codes),
                "uai_responsable": program.responsible.uai,
                "siret_responsable": program.responsible.siret,
                "uai_formateur": provider.uai,
                "siret_formateur": provider.siret,
                "nom_formateur": provider.name,
                "adresse_lieu": address.label,
                "code_postal_lieu": address.postal_code,
                "code_insee_lieu": address.insee_code,
                "commune_lieu": address.city,
                "latitude": address.latitude,
                "longitude": address.longitude,
                "duree_mois": program.duration_months,
                "contrats": ",".join(_BTP_CONTRACTS[k] for k in program.contract_kinds),
                "distanciel": int(program.fully_remote),
                "date_maj": _UPDATED,
                "commentaire_interne": "à revoir avec le référent handicap",
            }
        )
        for session in program.sessions:
            sessions.append(
                {
                    "id_session": len(sessions) + 1,
                    "id_formation": own_id,
                    "date_debut": session.start,
                    "date_fin": session.end,
                    "places_ouvertes": session.capacity,
                    "inscrits": session.enrolled,
                    "recrutement_ouvert": "O" if session.recruitment_open else "N",
                }
            )
    return {_table(Formation): formations, _table(SessionFormation): sessions}


def hotellerie_rows(programs: Sequence[ProgramSeed] | None = None) -> Rows:
    """The cfa-hotellerie rows of ``programs`` (default: those published on cfa-hotellerie)."""
    if programs is None:
        programs = dataset().programs_published_on(HOTELLERIE)
    catalogue: list[dict[str, Any]] = []
    promotions: list[dict[str, Any]] = []
    for program in programs:
        ref = program.publishers[HOTELLERIE]
        provider, address = program.provider, program.address
        catalogue.append(
            {
                "ref": ref,
                "libelle": program.title,
                "rncp": program.rncp,
                "diplome": program.cfd,
                "niveau": f"Niveau {program.level}",
                "rome": ",".join(program.rome_codes),
                "uai_cfa": program.responsible.uai,
                "siret_cfa": program.responsible.siret,
                "uai_site": provider.uai,
                "siret_site": provider.siret,
                "site": provider.name,
                "adresse": address.label,
                "cp": address.postal_code,
                "ville": address.city,
                "insee": address.insee_code,
                "lat": address.latitude,
                "lon": address.longitude,
                "duree_mois": program.duration_months,
                "contrats": ",".join(_HOTELLERIE_CONTRACTS[k] for k in program.contract_kinds),
                "a_distance": program.fully_remote,
                "mis_a_jour": _UPDATED,
            }
        )
        for session in program.sessions:
            promotions.append(
                {
                    "id_promotion": len(promotions) + 1,
                    "ref_catalogue": ref,
                    "rentree": session.start,
                    "fin": session.end,
                    "effectif_max": session.capacity,
                    "effectif_actuel": session.enrolled,
                    "statut_recrutement": "ouvert" if session.recruitment_open else "complet",
                }
            )
    return {_table(Catalogue): catalogue, _table(Promotion): promotions}


# -- seeding -------------------------------------------------------------------------------------


async def _seed(dsn: str, metadata: MetaData, rows: Rows, schema: str | None) -> int:
    """Drop and create the tables (in ``schema`` on PostgreSQL), then insert ``rows``."""
    engine = create_async_engine(dsn)
    try:
        async with engine.begin() as connection:
            if schema is not None and engine.dialect.name != "sqlite":
                await connection.execute(DropSchema(schema, cascade=True, if_exists=True))
                await connection.execute(CreateSchema(schema))
                connection = await connection.execution_options(schema_translate_map={None: schema})
            else:
                await connection.run_sync(metadata.drop_all)
            await connection.run_sync(metadata.create_all)
            for table in metadata.sorted_tables:
                if rows.get(table):
                    await _insert_many(connection, table, rows[table], schema)
            if engine.dialect.name == "postgresql":
                await _advance_sequences(connection, metadata, rows, schema)
    finally:
        await engine.dispose()
    return sum(len(r) for r in rows.values())


async def _insert_many(
    connection: AsyncConnection, table: Table, rows: list[dict[str, Any]], schema: str | None
) -> None:
    """One driver-level ``executemany`` of ``rows``: SQLAlchemy's per-row statement work was
    most of the demo's seeding time once the ERPs held thousands of applications. The
    statement is SQLAlchemy's own, compiled once, and each value still goes through its column
    type's bind processing, so the stored values are the ones ``insert(table)`` writes."""
    dialect = connection.dialect
    in_schema = schema is not None and dialect.name != "sqlite"
    compiled = insert(table).compile(
        dialect=dialect,
        column_keys=list(rows[0]),
        schema_translate_map={None: schema} if in_schema else None,
        render_schema_translate=in_schema,
    )
    order = compiled.positiontup
    if order is None:  # a driver with named parameters: the portable way
        await connection.execute(insert(table), rows)
        return
    values: list[tuple[Any, ...]] = [tuple(row[name] for name in order) for row in rows]
    processors = [
        (index, process)
        for index, name in enumerate(order)
        if (process := table.c[name].type.bind_processor(dialect)) is not None
    ]
    if processors:  # SQLite's dates and instants, as strings
        values = [_processed(row, processors) for row in values]
    if dialect.driver == "asyncpg":  # PostgreSQL's COPY: ten times an executemany
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.copy_records_to_table(
            table.name, records=values, columns=order, schema_name=schema if in_schema else None
        )
    else:
        await connection.exec_driver_sql(str(compiled), values)


def _processed(
    row: tuple[Any, ...], processors: Sequence[tuple[int, Callable[[Any], Any]]]
) -> tuple[Any, ...]:
    out = list(row)
    for index, process in processors:
        if out[index] is not None:
            out[index] = process(out[index])
    return tuple(out)


async def _advance_sequences(
    connection: AsyncConnection, metadata: MetaData, rows: Rows, schema: str | None
) -> None:
    """Past the seeded ids: rows were inserted with their ids, so PostgreSQL's serial
    sequences still start at 1, and the first row a hub writes would collide with a seed."""
    for table in metadata.sorted_tables:
        key = [c for c in table.primary_key.columns if c.autoincrement is not False]
        if len(key) != 1 or not rows.get(table) or not isinstance(key[0].type, Integer):
            continue
        column = key[0].name
        highest = max(int(row[column]) for row in rows[table])
        sequence = await connection.scalar(
            select(func.pg_get_serial_sequence(f"{schema or 'public'}.{table.name}", column))
        )
        if sequence is not None:
            await connection.execute(select(func.setval(sequence, highest)))


async def seed_cfa_btp(dsn: str, schema: str | None = None, canary: str | None = None) -> int:
    """(Re)create the cfa-btp database at ``dsn``; returns the number of rows written.

    Idempotent: tables (or, on PostgreSQL with ``schema``, the whole schema) are dropped first.
    ``canary`` (default: ``HUB_DEMO_CANARY``) is planted in one candidate (demo.personal).
    """
    rows = {**btp_rows(), **personal_rows(BTP, BTP_PERSONAL, personal_dataset(canary))}
    return await _seed(dsn, _BtpModel.metadata, rows, schema)


async def seed_cfa_hotellerie(
    dsn: str, schema: str | None = HOTELLERIE_SCHEMA, canary: str | None = None
) -> int:
    """(Re)create the cfa-hotellerie database at ``dsn`` (PostgreSQL: in ``schema``)."""
    people = personal_dataset(canary)
    rows = {**hotellerie_rows(), **personal_rows(HOTELLERIE, HOTELLERIE_PERSONAL, people)}
    return await _seed(dsn, _HotellerieModel.metadata, rows, schema)


def sqlite_dsn(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def postgres_answers(dsn: str, timeout_s: float = _PROBE_TIMEOUT_S) -> bool:
    """Whether a PostgreSQL server answers ``SELECT 1`` at ``dsn`` within ``timeout_s``."""
    try:
        engine = create_async_engine(dsn, connect_args={"timeout": timeout_s})
    except (SQLAlchemyError, ImportError):
        return False
    try:
        async with asyncio.timeout(timeout_s * 2), engine.connect() as connection:
            await connection.execute(select(literal(1)))
        return True
    except (SQLAlchemyError, OSError, TimeoutError):
        return False
    finally:
        await engine.dispose()


async def seed_demo_databases(
    data_dir: Path, postgres_dsn: str | None = DEMO_POSTGRES_URL
) -> dict[str, str]:
    """Seed both ERPs; returns ``{DSN variable: DSN}`` for the partners file.

    ``cfa-hotellerie`` goes to PostgreSQL when ``postgres_dsn`` answers, else to SQLite.
    """
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    btp = sqlite_dsn(data_dir / "cfa-btp.sqlite3")
    # Both at once: SQLite works in its own thread while PostgreSQL's server works on the other.
    async with asyncio.TaskGroup() as group:
        group.create_task(seed_cfa_btp(btp))
        on_postgres = group.create_task(_seeded_on_postgres(postgres_dsn)) if postgres_dsn else None
    if postgres_dsn is not None and on_postgres is not None and on_postgres.result():
        return {DSN_ENV[BTP]: btp, DSN_ENV[HOTELLERIE]: postgres_dsn}
    logger.warning("%s: no usable PostgreSQL, seeded into SQLite instead", HOTELLERIE)
    hotellerie = sqlite_dsn(data_dir / "cfa-hotellerie.sqlite3")
    await seed_cfa_hotellerie(hotellerie)
    return {DSN_ENV[BTP]: btp, DSN_ENV[HOTELLERIE]: hotellerie}


async def _seeded_on_postgres(dsn: str) -> bool:
    try:
        if make_url(dsn).get_backend_name() != "postgresql":
            return False
    except SQLAlchemyError:
        return False
    if not await postgres_answers(dsn):
        return False
    try:
        await seed_cfa_hotellerie(dsn)
    except (SQLAlchemyError, OSError):  # e.g. no right to create the schema
        return False
    return True


def prepare_demo_databases(data_dir: Path | None = None) -> dict[str, str]:
    """What the demo command calls at start-up (outside any event loop).

    ``data_dir`` defaults to a new temporary directory; PostgreSQL is tried at
    ``HUB_DEMO_POSTGRES_URL`` (an asyncpg URL; empty to never try it).
    """
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="alternance-hub-demo-"))
    postgres = os.environ.get(DEMO_POSTGRES_ENV, DEMO_POSTGRES_URL) or None
    return asyncio.run(seed_demo_databases(data_dir, postgres))


__all__ = [
    "BTP",
    "BTP_PERSONAL",
    "DEMO_POSTGRES_ENV",
    "DSN_ENV",
    "HOTELLERIE",
    "HOTELLERIE_PERSONAL",
    "HOTELLERIE_SCHEMA",
    "btp_rows",
    "hotellerie_rows",
    "postgres_answers",
    "prepare_demo_databases",
    "seed_cfa_btp",
    "seed_cfa_hotellerie",
    "seed_demo_databases",
]
