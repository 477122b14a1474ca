"""The SQL adapter against real databases: the same tests over SQLite (a file) and PostgreSQL.

Each test gets a fresh database: a SQLite file under ``tmp_path``, or a schema of its own in the
test PostgreSQL (``db_schema``), dropped afterwards. The statements the adapter sends are read
from SQLAlchemy's ``before_cursor_execute`` event, so the tests see the SQL itself.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.schema import CreateSchema, DropSchema

from adapters.errors import SourceBadResponse, SourceUnavailable
from adapters.registry import build_adapter
from adapters.sql import LOOKUP_CHUNK, SqlAdapter
from adapters.sql_config import SqlPartner
from adapters.types import GeoFilter, ListQuery, SortOrder
from tests.services import postgres_url

DSN_ENV = "HUB_TEST_SQL_DSN"

# -- the fixture database -----------------------------------------------------------------------

metadata = MetaData()
programmes = Table(
    "programmes",
    metadata,
    Column("id_prog", Integer, primary_key=True, autoincrement=False),
    Column("code", String(20)),
    Column("titre", String(200)),
    Column("rncp", String(12)),
    Column("niveau", Integer),
    Column("uai", String(8)),
    Column("insee", String(5)),
    Column("lat", Float),
    Column("lon", Float),
    Column("notes_internes", String(200)),  # never mapped: must never be selected
)
sessions = Table(
    "sessions",
    metadata,
    Column("id_session", Integer, primary_key=True, autoincrement=False),
    Column("id_prog", Integer, ForeignKey("programmes.id_prog")),
    Column("debut", Date),
    Column("fin", Date),
    Column("places", Integer),
    Column("inscrits", Integer),
    Column("ouvert", String(1)),
)
offres = Table(
    "offres",
    metadata,
    Column("id_offre", Integer, primary_key=True, autoincrement=False),
    Column("intitule", String(200)),
    Column("rome", String(5)),
    Column("publie_le", DateTime),
    Column("commentaire", String(200)),  # never mapped
)

COMMUNES = [  # (INSEE, latitude, longitude): Chambéry, Annecy, Albertville, Thonon
    ("73065", 45.5646, 5.9178),
    ("74010", 45.8992, 6.1294),
    ("73011", 45.6755, 6.3925),
    ("74281", 46.3705, 6.4793),
]
RNCPS = ["RNCP36629", "RNCP35316", "RNCP37489"]
UAIS = ["0731549M", "0741451A"]
PROGRAMME_COUNT = 23
OFFER_COUNT = 17
BASE_DAY = date(2025, 9, 1)
BASE_INSTANT = datetime(2025, 3, 1, 8, 0, 0)


def programme_rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(1, PROGRAMME_COUNT + 1):
        insee, lat, lon = COMMUNES[i % len(COMMUNES)]
        rows.append(
            {
                "id_prog": i,
                "code": f"CAT-{i:03d}",
                "titre": f"Programme {i}",
                "rncp": RNCPS[i % len(RNCPS)],
                "niveau": 3 + i % 3,
                "uai": UAIS[i % len(UAIS)],
                "insee": insee,
                "lat": lat,
                "lon": lon,
                "notes_internes": f"note {i}",
            }
        )
    return rows


def session_rows() -> list[dict[str, Any]]:
    rows, next_id = [], 1
    for i in range(1, PROGRAMME_COUNT + 1):
        for n in range(i % 4):  # 0 to 3 sessions: some programmes have none
            start = BASE_DAY + timedelta(days=365 * n)
            rows.append(
                {
                    "id_session": next_id,
                    "id_prog": i,
                    "debut": start,
                    "fin": start + timedelta(days=700),
                    "places": 12 + n,
                    "inscrits": 5 + n + i % 3,
                    "ouvert": "O" if n % 2 == 0 else "N",
                }
            )
            next_id += 1
    return rows


def offer_rows() -> list[dict[str, Any]]:
    # Several offers share an instant, so the composite keyset (instant, id) matters.
    return [
        {
            "id_offre": i,
            "intitule": f"Offre {i}",
            "rome": ["F1703", "M1805", "G1602"][i % 3],
            "publie_le": BASE_INSTANT + timedelta(days=i // 3),
            "commentaire": "interne",
        }
        for i in range(1, OFFER_COUNT + 1)
    ]


def programme_entity(**overrides: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "table": "programmes",
        "alias": "p",
        "joins": [{"table": "sessions", "alias": "s", "on": "s.id_prog = p.id_prog"}],
        "id": "p.id_prog",
        "columns": {"p.id_prog": "int"},
        "group_by_id": True,
        "rows_into": "sessions",
        "lookups": {"catalogueKey": "p.code"},
        "filters": {
            "rncp": {"column": "p.rncp", "op": "in"},
            "levels": {"column": "p.niveau", "op": "in"},
            "communes": {"column": "p.insee", "op": "eq"},
            "departements": {"column": "p.insee", "op": "prefix"},
            "responsibleUai": {"column": "p.uai"},
            "near": {"op": "near", "latitude": "p.lat", "longitude": "p.lon"},
        },
        "fields": {
            "title": "p.titre",
            "catalogueKey": "p.code",
            "certification.rncp": "p.rncp",
            "certification.level": "p.niveau",
            "responsible.uai": "p.uai",
            "location.inseeCode": "p.insee",
            "location.latitude": "p.lat",
            "location.longitude": "p.lon",
            "sessions": {
                "path": "sessions",
                "each": {
                    "start": "s.debut",
                    "end": "s.fin",
                    "capacity": "s.places",
                    "enrolled": "s.inscrits",
                    "recruitmentOpen": "s.ouvert",
                },
            },
        },
    }
    entity.update(overrides)
    return entity


def offer_entity(**overrides: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "table": "offres",
        "alias": "o",
        "id": "o.id_offre",
        "key": ["o.publie_le", "o.id_offre"],
        "columns": {"o.id_offre": "int", "o.publie_le": "datetime"},
        "filters": {
            "romeCodes": {"column": "o.rome", "op": "in"},
            "publishedSince": {"column": "o.publie_le", "op": "gte"},
        },
        "fields": {"title": "o.intitule", "romeCodes": "o.rome", "publishedAt": "o.publie_le"},
    }
    entity.update(overrides)
    return entity


@dataclass
class Database:
    backend: str
    dsn: str
    schema: str | None

    def config(self, **overrides: Any) -> SqlPartner:
        block: dict[str, Any] = {
            "kind": "sql",
            "dsn": {"env": DSN_ENV},
            "db_schema": self.schema,
            "entities": {"training_program": programme_entity(), "offer": offer_entity()},
        }
        block.update(overrides)
        return SqlPartner.model_validate(block)


async def _create(dsn: str, schema: str | None) -> None:
    engine = create_async_engine(dsn)
    try:
        async with engine.begin() as connection:
            if schema is not None:
                await connection.execute(CreateSchema(schema))
                connection = await connection.execution_options(schema_translate_map={None: schema})
            await connection.run_sync(metadata.create_all)
            await connection.execute(insert(programmes), programme_rows())
            await connection.execute(insert(sessions), session_rows())
            await connection.execute(insert(offres), offer_rows())
    finally:
        await engine.dispose()


async def _drop_schema(dsn: str, schema: str) -> None:
    engine = create_async_engine(dsn)
    try:
        async with engine.begin() as connection:
            await connection.execute(DropSchema(schema, cascade=True, if_exists=True))
    finally:
        await engine.dispose()


def asyncpg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(
    request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        db = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'partner.db'}", None)
    else:
        schema = f"hub_test_sql_{uuid.uuid4().hex[:10]}"
        db = Database("postgres", asyncpg_url(postgres_url()), schema)
    monkeypatch.setenv(DSN_ENV, db.dsn)
    try:
        await _create(db.dsn, db.schema)
        yield db
    finally:
        if db.schema is not None:
            await _drop_schema(db.dsn, db.schema)


@dataclass
class Statements:
    """Every statement an adapter sends, with its parameters, as the driver receives them."""

    sql: list[str] = field(default_factory=list)
    parameters: list[Any] = field(default_factory=list)

    def __call__(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        self.sql.append(statement)
        self.parameters.append(parameters)


@pytest.fixture
async def connect(database: Database) -> AsyncIterator[Any]:
    """``connect(**config_overrides)``: an adapter over ``database`` and what it sends."""
    made: list[SqlAdapter] = []

    def make(**overrides: Any) -> tuple[SqlAdapter, Statements]:
        adapter = SqlAdapter("cfa-test", database.config(**overrides))
        statements = Statements()
        event.listen(adapter.engine().sync_engine, "before_cursor_execute", statements)
        made.append(adapter)
        return adapter, statements

    yield make
    for adapter in made:
        await adapter.aclose()


def where_part(sql: str) -> str:
    """The text after the last WHERE (the outer statement's, or the page subquery's)."""
    upper = sql.upper()
    assert "WHERE" in upper, sql
    return sql[upper.index("WHERE") :]


def ids_of(page_records: list[Any]) -> list[int]:
    return [int(r.fields["id"]) for r in page_records]


# -- list: filters in WHERE, only the needed columns --------------------------------------------


async def test_list_pushes_filters_into_where(connect: Any) -> None:
    adapter, statements = connect()
    filters = {"rncp": ["RNCP36629"], "levels": [3, 4], "responsibleUai": ["0731549M"]}
    page = await adapter.list(ListQuery("training_program", filters, limit=100))

    expected = [
        r["id_prog"]
        for r in programme_rows()
        if r["rncp"] == "RNCP36629" and r["niveau"] in (3, 4) and r["uai"] == "0731549M"
    ]
    assert expected  # the fixture has matches, so the test can fail
    assert sorted(ids_of(page.records)) == expected
    where = where_part(statements.sql[0])
    for column in ("rncp", "niveau", "uai"):
        assert column in where
    assert "RNCP36629" not in statements.sql[0]  # a value is a parameter, never SQL text
    assert "RNCP36629" in str(statements.parameters[0])


async def test_list_selects_only_the_columns_the_mapping_reads(connect: Any) -> None:
    adapter, statements = connect()
    await adapter.list(ListQuery("training_program", {}, limit=5))
    await adapter.list(ListQuery("offer", {}, limit=5))
    # one page statement and one count (the walk did not reach the end) per list
    assert len(statements.sql) == 4
    for sql in statements.sql:
        assert "notes_internes" not in sql and "commentaire" not in sql
        assert "*" not in sql.replace("count(*)", "")
    assert "titre" in statements.sql[0] and "places" in statements.sql[0]
    assert [sql.startswith("SELECT count(*)") for sql in statements.sql] == [0, 1, 0, 1]


async def test_communes_departements_and_near_filters(connect: Any) -> None:
    adapter, statements = connect()
    by_commune = await adapter.list(ListQuery("training_program", {"communes": ["73011"]}, 100))
    by_departement = await adapter.list(
        ListQuery("training_program", {"departements": ["74"]}, 100)
    )
    annecy = GeoFilter(latitude=45.8992, longitude=6.1294, radius_km=5)
    near = await adapter.list(ListQuery("training_program", {"near": annecy}, 100))

    rows = programme_rows()
    assert sorted(ids_of(by_commune.records)) == [
        r["id_prog"] for r in rows if r["insee"] == "73011"
    ]
    assert sorted(ids_of(by_departement.records)) == [
        r["id_prog"] for r in rows if r["insee"].startswith("74")
    ]
    assert sorted(ids_of(near.records)) == [r["id_prog"] for r in rows if r["insee"] == "74010"]
    assert "lat" in where_part(statements.sql[2]) and "lon" in where_part(statements.sql[2])


async def test_gte_filter_on_an_instant_and_a_value_map(connect: Any) -> None:
    since = BASE_INSTANT + timedelta(days=3)
    adapter, statements = connect()
    page = await adapter.list(
        ListQuery("offer", {"publishedSince": since.isoformat() + "Z"}, limit=100)
    )
    assert sorted(ids_of(page.records)) == [
        r["id_offre"] for r in offer_rows() if r["publie_le"] >= since
    ]
    assert "publie_le >=" in where_part(statements.sql[0])

    mapped = programme_entity()
    # Level 4 written as the partner's code: every RNCP35316 programme is of level 4.
    mapped["filters"]["levels"] = {"column": "p.rncp", "op": "in", "values": {"4": "RNCP35316"}}
    adapter, statements = connect(entities={"training_program": mapped})
    page = await adapter.list(ListQuery("training_program", {"levels": [4]}, limit=100))
    assert sorted(ids_of(page.records)) == [
        r["id_prog"] for r in programme_rows() if r["rncp"] == "RNCP35316"
    ]
    assert "RNCP35316" in str(statements.parameters[0])  # the value map went into the SQL


async def test_a_filter_the_block_does_not_declare_is_not_pushed(connect: Any) -> None:
    adapter, statements = connect()
    assert "romeCodes" not in adapter.pushed_filters("training_program")
    page = await adapter.list(ListQuery("training_program", {"romeCodes": ["F1703"]}, 100))
    assert "WHERE" not in statements.sql[0].split("FROM", 2)[1].upper()
    # The adapter applies it to what it read: no programme maps a ROME code, none matches,
    # and having read every row it knows that exactly.
    assert page.records == [] and page.exhausted
    assert page.total == 0 and page.total_exact
    assert len(statements.sql) == 1


async def test_empty_and_impossible_filter_values(connect: Any) -> None:
    adapter, statements = connect()
    empty = await adapter.list(ListQuery("training_program", {"rncp": []}, limit=100))
    impossible = await adapter.list(ListQuery("training_program", {"levels": ["abc"]}, 100))
    assert len(empty.records) == PROGRAMME_COUNT  # an empty list is no filter
    assert impossible.records == []  # no integer column holds "abc": nothing matches
    assert not any("abc" in str(p) for p in statements.parameters)


# -- keyset pagination --------------------------------------------------------------------------


async def test_keyset_walk_returns_every_programme_once(connect: Any) -> None:
    entity = programme_entity(page_size=4)
    adapter, statements = connect(entities={"training_program": entity})
    page = await adapter.list(ListQuery("training_program", {}, limit=1000))

    assert ids_of(page.records) == list(range(1, PROGRAMME_COUNT + 1))
    assert not page.truncated
    assert len(statements.sql) == PROGRAMME_COUNT // 4 + 1  # 5 full pages and a short one
    assert all(" > " in where_part(sql) for sql in statements.sql[1:])
    assert all("LIMIT" in sql.upper() for sql in statements.sql)


async def test_composite_keyset_walk_over_shared_instants(connect: Any) -> None:
    adapter, _ = connect(entities={"offer": offer_entity(page_size=2)})
    page = await adapter.list(ListQuery("offer", {}, limit=1000))
    ordered = sorted(offer_rows(), key=lambda r: (r["publie_le"], r["id_offre"]))
    assert ids_of(page.records) == [r["id_offre"] for r in ordered]


async def test_walk_stops_at_the_limit_and_says_truncated(connect: Any) -> None:
    entity = programme_entity(page_size=4)
    adapter, statements = connect(entities={"training_program": entity})
    page = await adapter.list(ListQuery("training_program", {}, limit=6))
    assert ids_of(page.records) == [1, 2, 3, 4, 5, 6]
    assert page.truncated and not page.exhausted
    assert len(statements.sql) == 3  # a page of 4 ids, one of 3 (2 + look-ahead), a count
    assert page.total == PROGRAMME_COUNT and page.total_exact

    exact = await adapter.list(ListQuery("training_program", {}, limit=PROGRAMME_COUNT))
    assert len(exact.records) == PROGRAMME_COUNT and not exact.truncated


async def test_max_items_caps_the_walk(connect: Any) -> None:
    adapter, _ = connect(max_items=3)
    page = await adapter.list(ListQuery("offer", {}, limit=100))
    assert len(page.records) == 3 and page.truncated


async def _set_titles_null(database: Database, ids: list[int]) -> None:
    engine = create_async_engine(database.dsn)
    try:
        async with engine.begin() as connection:
            if database.schema is not None:
                connection = await connection.execution_options(
                    schema_translate_map={None: database.schema}
                )
            await connection.execute(
                programmes.update().where(programmes.c.id_prog.in_(ids)).values(titre=None)
            )
    finally:
        await engine.dispose()


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
async def test_an_ordered_walk_of_grouped_records_puts_nulls_last(
    connect: Any, database: Database, descending: bool
) -> None:
    untitled = [5, 9, 17]
    await _set_titles_null(database, untitled)
    adapter, statements = connect(entities={"training_program": programme_entity(page_size=4)})
    order = SortOrder("title", descending=descending)
    assert order.token in adapter.orders("training_program")

    walked: list[Any] = []
    resume = None
    while True:
        page = await adapter.list(ListQuery("training_program", {}, 4, order=order, resume=resume))
        walked += page.records
        if page.exhausted:
            break
        resume = page.end

    titled = sorted(
        (r for r in programme_rows() if r["id_prog"] not in untitled),
        key=lambda r: r["titre"],
        reverse=descending,
    )
    assert ids_of(walked) == [r["id_prog"] for r in titled] + untitled  # NULLs last, by id
    sessions = {r["id_prog"]: 0 for r in programme_rows()}
    for row in session_rows():
        sessions[row["id_prog"]] += 1
    # one record never spans two pages: each carries all its sessions
    assert [len(r.fields["sessions"]) for r in walked] == [sessions[i] for i in ids_of(walked)]
    assert "NULLS LAST" in statements.sql[0].upper()


async def test_orders_are_the_fields_read_as_is_from_one_main_table_column(connect: Any) -> None:
    adapter, _ = connect()
    # `id` is an int column read as the common str id: it does not sort like it; the grouped
    # entity offers main-table columns only, the offers' `romeCodes` is a list
    assert adapter.orders("training_program") == {
        token
        for name in (
            "title",
            "catalogueKey",
            "certification.rncp",
            "certification.level",
            "responsible.uai",
            "location.inseeCode",
            "location.latitude",
            "location.longitude",
        )
        for token in (name, f"-{name}")
    }
    assert adapter.orders("offer") == {"title", "-title", "publishedAt", "-publishedAt"}


# -- mapping: dates, codes, grouped sessions ----------------------------------------------------


async def test_sessions_are_folded_into_their_programme(connect: Any) -> None:
    adapter, _ = connect()
    page = await adapter.list(ListQuery("training_program", {}, limit=100))
    by_id = {int(r.fields["id"]): r for r in page.records}
    assert len(by_id) == PROGRAMME_COUNT

    three = by_id[3]  # 3 % 4 == 3 sessions
    assert three.fields["sessions"] == [
        {
            "start": "2025-09-01",
            "end": "2027-08-02",
            "capacity": 12,
            "enrolled": 5,
            "recruitmentOpen": True,
        },
        {
            "start": "2026-09-01",
            "end": "2028-08-01",
            "capacity": 13,
            "enrolled": 6,
            "recruitmentOpen": False,
        },
        {
            "start": "2027-09-01",
            "end": "2029-08-01",
            "capacity": 14,
            "enrolled": 7,
            "recruitmentOpen": True,
        },
    ]
    assert by_id[4].fields["sessions"] == []  # a left join without sessions adds none
    assert sum(len(r.fields["sessions"]) for r in page.records) == len(session_rows())


async def test_codes_and_provenance_are_mapped(connect: Any) -> None:
    adapter, _ = connect()
    page = await adapter.list(ListQuery("training_program", {"communes": ["74010"]}, 100))
    record = page.records[0]
    assert record.fields["id"] == "1"
    assert record.fields["catalogueKey"] == "CAT-001"
    assert record.fields["certification"] == {"rncp": "RNCP35316", "level": 4}
    assert record.fields["responsible"] == {"uai": "0741451A"}
    # completed from the reference communes by the filter test, as the gateway would
    assert record.fields["location"] == {
        "inseeCode": "74010",
        "latitude": 45.8992,
        "longitude": 6.1294,
        "city": "Annecy",
        "postalCode": "74000",
    }
    assert record.owner.partner == "cfa-test" and record.owner.partner_id == "1"

    offers = await adapter.list(ListQuery("offer", {}, limit=1))
    assert offers.records[0].fields["publishedAt"] == "2025-03-01T08:00:00Z"
    assert offers.records[0].fields["romeCodes"] == ["M1805"]


# -- look-up ------------------------------------------------------------------------------------


async def test_lookup_by_id_is_one_statement_per_chunk(connect: Any) -> None:
    adapter, statements = connect()
    asked = ["2", "7", "23", "abc"] + [str(n) for n in range(1000, 1000 + 2 * LOOKUP_CHUNK)]
    found = await adapter.lookup("training_program", "id", asked)

    assert sorted(found) == ["2", "23", "7"]
    assert [int(r.fields["id"]) for r in found["7"]] == [7]
    assert len(found["7"][0].fields["sessions"]) == 3
    assert len(statements.sql) == 3  # 1003 convertible values: chunks of 500, 500, 3
    assert all(" IN " in where_part(sql).upper() for sql in statements.sql)
    assert not any("abc" in str(p) for p in statements.parameters)  # not an int: never sent


async def test_lookup_by_catalogue_key(connect: Any) -> None:
    adapter, statements = connect()
    found = await adapter.lookup("training_program", "catalogueKey", ["CAT-005", "CAT-999"])
    assert list(found) == ["CAT-005"]
    assert found["CAT-005"][0].fields["title"] == "Programme 5"
    assert len(statements.sql) == 1 and "code" in where_part(statements.sql[0])
    assert adapter.lookup_keys("training_program") == {"id", "catalogueKey"}


# -- hostile values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        "x' OR '1'='1",
        "RNCP36629'; DROP TABLE programmes; --",
        'RNCP36629") OR 1=1 --',
    ],
)
async def test_sql_injection_in_a_filter_value_is_inert(
    connect: Any, database: Database, hostile: str
) -> None:
    adapter, statements = connect()
    page = await adapter.list(ListQuery("training_program", {"rncp": [hostile]}, limit=100))
    communes = await adapter.list(ListQuery("training_program", {"departements": [hostile]}, 100))
    found = await adapter.lookup("training_program", "catalogueKey", [hostile])

    assert page.records == [] and communes.records == [] and found == {}
    assert not any(hostile in sql for sql in statements.sql)
    still = await adapter.list(ListQuery("training_program", {}, limit=100))
    assert len(still.records) == PROGRAMME_COUNT  # the table is still there, whole


@pytest.mark.parametrize("wildcard", ["%", "_", "7%", "\\"])
async def test_like_wildcards_in_a_value_are_literal(connect: Any, wildcard: str) -> None:
    # Unescaped, each of these would match every commune ("7%": every Savoie one).
    adapter, _ = connect()
    page = await adapter.list(ListQuery("training_program", {"departements": [wildcard]}, 100))
    assert page.records == []


# -- failures -----------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unreachable_dsn(database: Database, tmp_path: Any) -> Iterator[str]:
    if database.backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}"
    else:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/test"


async def test_unreachable_database_is_source_unavailable(
    unreachable_dsn: str, connect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DSN_ENV, unreachable_dsn)
    adapter, _ = connect()
    with pytest.raises(SourceUnavailable) as caught:
        await adapter.list(ListQuery("training_program", {"rncp": ["RNCP36629"]}, 10))
    assert caught.value.partner == "cfa-test" and caught.value.retryable
    assert "RNCP36629" not in str(caught.value) and "127.0.0.1" not in str(caught.value)
    with pytest.raises(SourceUnavailable):
        await adapter.probe()


async def test_missing_table_or_column_is_source_bad_response(connect: Any) -> None:
    adapter, _ = connect(entities={"training_program": programme_entity(table="formations")})
    with pytest.raises(SourceBadResponse) as caught:
        await adapter.list(ListQuery("training_program", {"rncp": ["RNCP36629"]}, 10))
    assert "RNCP36629" not in str(caught.value)

    broken = programme_entity()
    broken["fields"]["title"] = "p.libelle"
    adapter, _ = connect(entities={"training_program": broken})
    with pytest.raises(SourceBadResponse):
        await adapter.lookup("training_program", "id", ["1"])
    await adapter.probe()  # the database itself answers


async def test_unset_dsn_variable_is_source_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DSN_ENV, raising=False)
    block = {"kind": "sql", "dsn": {"env": DSN_ENV}, "entities": {"offer": offer_entity()}}
    adapter = SqlAdapter("cfa-test", SqlPartner.model_validate(block))
    with pytest.raises(SourceUnavailable) as caught:
        await adapter.probe()
    assert DSN_ENV in str(caught.value)  # the variable's name, never its value
    await adapter.aclose()


async def test_probe_answers(connect: Any) -> None:
    adapter, statements = connect()
    await adapter.probe()
    assert len(statements.sql) == 1 and statements.sql[0].upper().startswith("SELECT")


async def test_registry_builds_the_sql_kind(database: Database) -> None:
    adapter = build_adapter("cfa-test", database.config())
    try:
        assert isinstance(adapter, SqlAdapter)
        assert adapter.entities() == {"training_program", "offer"}
        page = await adapter.list(ListQuery("offer", {"romeCodes": ["F1703"]}, 100))
        assert {r.fields["romeCodes"][0] for r in page.records} == {"F1703"}
    finally:
        await adapter.aclose()


async def test_the_partner_database_is_unchanged_by_reads(connect: Any, database: Database) -> None:
    adapter, _ = connect()
    await adapter.list(ListQuery("training_program", {"rncp": ["x'; DELETE FROM sessions; --"]}, 5))
    engine = create_async_engine(database.dsn)
    try:
        async with engine.connect() as connection:
            if database.schema is not None:
                connection = await connection.execution_options(
                    schema_translate_map={None: database.schema}
                )
            count = await connection.scalar(select(func.count()).select_from(sessions))
    finally:
        await engine.dispose()
    assert count == len(session_rows())


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"table": "programmes; DROP TABLE x"},
        {"table": "a.b.c"},
        {"alias": "p q"},
        {"id": "id_prog"},  # not `alias.column`
        {"id": "z.id_prog"},  # unknown alias
        {"joins": [{"table": "sessions", "alias": "s", "on": "s.id_prog = p.id_prog OR 1=1"}]},
        {"filters": {"rncp": {"column": "p.rncp)--", "op": "in"}}},
        {"filters": {"notAFilter": {"column": "p.rncp"}}},
        {"filters": {"near": {"op": "near", "latitude": "p.lat"}}},
        {"lookups": {"siret": "p.code"}},
        {"group_by_id": False},  # rows_into without grouping
        {"rows_into": "p"},  # collides with an alias
    ],
)
def test_config_rejects_bad_identifiers_and_shapes(change: dict[str, Any]) -> None:
    block = {"kind": "sql", "dsn": {"env": DSN_ENV}, "entities": {}}
    block["entities"] = {"training_program": programme_entity(**change)}
    with pytest.raises(ValueError):
        SqlPartner.model_validate(block)


def test_public_api() -> None:
    import adapters.sql

    assert adapters.sql.__all__ == ["KIND", "LOOKUP_CHUNK", "SqlAdapter", "factory"]


# -- a call cut by the gateway's deadline -------------------------------------------------------


@pytest.fixture
async def slow_postgres(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """A schema whose one view takes 3 s to answer (PostgreSQL only: SQLite cannot sleep)."""
    dsn = asyncpg_url(postgres_url())
    schema = f"hub_test_slow_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv(DSN_ENV, dsn)
    engine = create_async_engine(dsn)
    try:
        async with engine.begin() as connection:
            await connection.execute(CreateSchema(schema))
            # SQLAlchemy has no CREATE VIEW construct; `schema` is this test's own name.
            await connection.exec_driver_sql(
                f"CREATE VIEW {schema}.lente AS SELECT 1 AS id, 'x' AS titre FROM pg_sleep(3)"  # noqa: S608
            )
        await engine.dispose()  # the test's adapter holds the only connection it needs
        yield schema
    finally:
        await engine.dispose()
        await _drop_schema(dsn, schema)


@pytest.mark.postgres
async def test_a_cancelled_call_gives_its_connection_back(slow_postgres: str) -> None:
    block = {
        "kind": "sql",
        "dsn": {"env": DSN_ENV},
        "db_schema": slow_postgres,
        "pool_size": 1,  # the only connection: the next call needs it back
        "entities": {
            "offer": {"table": "lente", "alias": "l", "id": "l.id", "fields": {"title": "l.titre"}}
        },
    }
    adapter = SqlAdapter("cfa-test", SqlPartner.model_validate(block))
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):  # what the gateway does with `deadline_s`
                await adapter.list(ListQuery("offer", {}, limit=1))
        await adapter.probe()
    finally:
        await adapter.aclose()
