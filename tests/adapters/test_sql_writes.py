"""SQL writes against the two demo ERPs, seeded for real (SQLite files, and PostgreSQL schemas
of their own when the server answers), through the write blocks of demo/partners.toml.

What must hold: a submit is one application row and its first history row, in one
transaction, read back through the adapter's own list; a failing statement rolls back the
ones before it; a transition changes the status and adds history, and changes nothing when
its row does not exist; a value without a partner code is refused before any SQL; values are
bound, never spliced into the SQL; the hub finds what it created by its client reference.
"""

from __future__ import annotations

import copy
import tomllib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import column, event, func, select, table
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.schema import DropSchema

from adapters.errors import WriteRejected
from adapters.partners_file import parse_partners
from adapters.sql import SqlAdapter
from adapters.sql_config import SqlPartner
from adapters.types import ListQuery, Record
from adapters.writes import Writer
from demo.cfa_erp import BTP, DSN_ENV, HOTELLERIE, seed_cfa_btp, seed_cfa_hotellerie
from tests.adapters.demo_erps import PARTNERS_FILE, asyncpg_url
from tests.services import postgres_url

INJECTION = "'; DROP TABLE candidatures; --"


def erp_blocks(change: Callable[[dict[str, Any]], None] | None = None) -> dict[str, SqlPartner]:
    """The ERP blocks of the demo partners file, after ``change`` edits their TOML data."""
    data = tomllib.loads(PARTNERS_FILE.read_text(encoding="utf-8"))
    mine = {name: copy.deepcopy(data["partners"][name]) for name in (BTP, HOTELLERIE)}
    for block in mine.values():
        if change is not None:
            change(block)
    parsed = parse_partners({"version": 1, "partners": mine}, str(PARTNERS_FILE))
    blocks = {}
    for name, block in parsed.partners.items():
        assert isinstance(block, SqlPartner)
        blocks[name] = block
    return blocks


@dataclass
class Erp:
    name: str
    dsn: str
    schema: str | None
    make: Callable[[SqlPartner], SqlAdapter]
    adapter: SqlAdapter

    async def count(self, name: str, reference: str | None = None) -> int:
        """Rows of table ``name`` (with that ``reference_client``), seen from outside the
        adapter, on a connection of its own."""
        engine = create_async_engine(self.dsn)
        statement = select(func.count()).select_from(table(name, schema=self.schema))
        if reference is not None:
            statement = statement.where(column("reference_client") == reference)
        try:
            async with engine.connect() as connection:
                return int((await connection.execute(statement)).scalar_one())
        finally:
            await engine.dispose()


async def _drop(dsn: str, schema: str) -> None:
    engine = create_async_engine(dsn)
    try:
        async with engine.begin() as connection:
            await connection.execute(DropSchema(schema, cascade=True, if_exists=True))
    finally:
        await engine.dispose()


@pytest.fixture(
    params=[
        pytest.param(("sqlite", BTP), id="sqlite-btp"),
        pytest.param(("sqlite", HOTELLERIE), id="sqlite-hotellerie"),
        pytest.param(
            ("postgres", HOTELLERIE), id="postgres-hotellerie", marks=pytest.mark.postgres
        ),
    ]
)
async def erp(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Erp]:
    backend, name = request.param
    schema: str | None = None
    if backend == "sqlite":
        dsn = f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
    else:
        dsn = asyncpg_url(postgres_url())
        schema = f"hub_test_writes_{uuid.uuid4().hex[:8]}"
    seed = seed_cfa_btp if name == BTP else seed_cfa_hotellerie
    monkeypatch.setenv(DSN_ENV[name], dsn)
    made: list[SqlAdapter] = []

    def make(block: SqlPartner) -> SqlAdapter:
        if schema is not None:
            block = block.model_copy(update={"db_schema": schema})
        adapter = SqlAdapter(name, block)
        made.append(adapter)
        return adapter

    try:
        await seed(dsn, schema)
        yield Erp(name, dsn, schema, make, make(erp_blocks()[name]))
    finally:
        for adapter in made:
            await adapter.aclose()
        if schema is not None:
            await _drop(dsn, schema)


async def some_application(adapter: SqlAdapter) -> Record:
    page = await adapter.list(ListQuery("application", {}, 1))
    return page.records[0]


async def submit_values(adapter: SqlAdapter) -> dict[str, Any]:
    """A submit for a seeded candidate and programme, with a session of that programme."""
    seeded = (await some_application(adapter)).fields
    return {
        "candidateId": seeded["candidate"]["id"],
        "trainingProgramId": seeded["trainingProgram"]["id"],
        "session": "2027-09-06",
        "offerId": None,
        "employerSiret": None,
        "channel": "hub",
        "status": "SUBMITTED",
        "actorRole": "CANDIDATE",
    }


def reference() -> str:
    return f"hub-{uuid.uuid4().hex}"


async def by_reference(adapter: SqlAdapter, entity: str, ref: str) -> list[Record]:
    found = await adapter.lookup(entity, "clientReference", [ref])
    return found.get(ref, [])


def statements_on(adapter: SqlAdapter) -> list[str]:
    """Every SQL statement the adapter's engine sends from now on."""
    sent: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        sent.append(statement)

    event.listen(adapter.engine().sync_engine, "before_cursor_execute", seen)
    return sent


async def test_the_erps_declare_their_writes(erp: Erp) -> None:
    assert isinstance(erp.adapter, Writer)
    assert erp.adapter.writes("application") == {"submit", "transition"}
    assert erp.adapter.writes("follow_up") == {"record"}
    assert erp.adapter.writes("candidate") == frozenset()


async def test_a_submit_is_one_application_with_its_first_history_row(erp: Erp) -> None:
    values = await submit_values(erp.adapter)
    ref = reference()
    applications = await erp.count("candidatures")
    history = await erp.count("historique_candidature")

    written = await erp.adapter.write("application", "submit", values, ref)

    assert await erp.count("candidatures") == applications + 1
    assert await erp.count("historique_candidature") == history + 1
    page = await erp.adapter.list(
        ListQuery("application", {"candidateId": [values["candidateId"]]}, 500)
    )
    mine = [r for r in page.records if r.fields["id"] == written.partner_id]
    assert len(mine) == 1
    fields = mine[0].fields
    assert fields["status"] == "SUBMITTED"
    assert fields["clientReference"] == ref
    assert fields["session"] == "2027-09-06"
    assert fields["trainingProgram"]["id"] == values["trainingProgramId"]
    assert [(h["status"], h["actorRole"]) for h in fields["history"]] == [
        ("SUBMITTED", "CANDIDATE")
    ]
    assert fields["createdAt"] == fields["history"][0]["at"]


async def test_a_failing_second_statement_rolls_the_first_back(erp: Erp) -> None:
    def break_history(block: dict[str, Any]) -> None:
        # The history row without its actor: NOT NULL refuses it, after the application row.
        submit = block["entities"]["application"]["writes"]["submit"]
        del submit["insert"][1]["values"]["role_acteur"]

    adapter = erp.make(erp_blocks(break_history)[erp.name])
    values = await submit_values(adapter)
    ref = reference()
    applications = await erp.count("candidatures")

    with pytest.raises(WriteRejected):
        await adapter.write("application", "submit", values, ref)

    assert await erp.count("candidatures") == applications
    assert await erp.count("candidatures", ref) == 0
    assert await adapter.find_by_reference("application", ref) is None


async def test_a_transition_changes_the_status_and_adds_history(erp: Erp) -> None:
    written = await erp.adapter.write(
        "application", "submit", await submit_values(erp.adapter), reference()
    )
    change = {
        "id": written.partner_id,
        "status": "ADMITTED",
        "reason": "dossier complet",
        "actorRole": "TRAINING_CENTRE",
    }

    again = await erp.adapter.write("application", "transition", change, reference())

    assert again.partner_id == written.partner_id
    found = await erp.adapter.lookup("application", "id", [written.partner_id])
    (record,) = found[written.partner_id]
    assert record.fields["status"] == "ADMITTED"
    assert record.fields["reason"] == "dossier complet"
    steps = sorted(record.fields["history"], key=lambda h: (h["at"], h["status"] != "SUBMITTED"))
    assert [(h["status"], h["actorRole"]) for h in steps] == [
        ("SUBMITTED", "CANDIDATE"),
        ("ADMITTED", "TRAINING_CENTRE"),
    ]


async def test_a_transition_of_a_missing_application_changes_nothing(erp: Erp) -> None:
    history = await erp.count("historique_candidature")
    change = {"id": "987654", "status": "ADMITTED", "reason": None, "actorRole": "TRAINING_CENTRE"}

    with pytest.raises(WriteRejected) as refused:
        await erp.adapter.write("application", "transition", change, reference())

    assert refused.value.not_found
    assert await erp.count("historique_candidature") == history  # the insert was rolled back


async def test_a_value_without_a_partner_code_is_refused_before_any_sql(erp: Erp) -> None:
    values = {**(await submit_values(erp.adapter)), "status": "NOT_A_STATUS"}
    sent = statements_on(erp.adapter)

    with pytest.raises(WriteRejected) as refused:
        await erp.adapter.write("application", "submit", values, reference())

    assert sent == []
    assert "NOT_A_STATUS" not in str(refused.value)  # a client's value stays out of messages


async def test_a_value_its_column_cannot_hold_is_refused_before_any_sql(erp: Erp) -> None:
    values = {**(await submit_values(erp.adapter)), "session": "not a date"}
    sent = statements_on(erp.adapter)

    with pytest.raises(WriteRejected):
        await erp.adapter.write("application", "submit", values, reference())

    assert sent == []


async def test_values_are_bound_never_spliced_into_the_sql(erp: Erp) -> None:
    candidate = (await some_application(erp.adapter)).fields["candidate"]["id"]
    ref = reference()
    event_values = {
        "candidateId": candidate,
        "kind": "COMPANY_VISIT",
        "date": "2027-01-15",
        "authorOrganisation": "0732727T",
        "authorRole": "TRAINING_CENTRE",
        "summary": INJECTION,
        "visibility": "CONTRACT_PARTIES",
    }
    applications = await erp.count("candidatures")

    written = await erp.adapter.write("follow_up", "record", event_values, ref)

    (record,) = await by_reference(erp.adapter, "follow_up", ref)
    assert record.fields["id"] == written.partner_id
    assert record.fields["summary"] == INJECTION
    assert record.fields["kind"] == "COMPANY_VISIT"
    assert record.fields["visibility"] == "CONTRACT_PARTIES"
    assert record.fields["author"] == {"organisation": "0732727T", "role": "TRAINING_CENTRE"}
    assert await erp.count("candidatures") == applications  # the table is still there


async def test_the_hub_finds_what_it_created_by_its_reference(erp: Erp) -> None:
    ref = reference()
    written = await erp.adapter.write(
        "application", "submit", await submit_values(erp.adapter), ref
    )

    assert await erp.adapter.find_by_reference("application", ref) == written.partner_id
    assert await erp.adapter.find_by_reference("application", reference()) is None


async def test_a_reference_used_twice_is_refused_by_the_partner(erp: Erp) -> None:
    values = await submit_values(erp.adapter)
    ref = reference()
    await erp.adapter.write("application", "submit", values, ref)

    with pytest.raises(WriteRejected):
        await erp.adapter.write("application", "submit", values, ref)

    assert await erp.count("candidatures", ref) == 1


async def test_an_action_the_partner_does_not_declare_is_a_programming_error(erp: Erp) -> None:
    with pytest.raises(ValueError, match="declares no"):
        await erp.adapter.write("follow_up", "submit", {}, reference())
    with pytest.raises(ValueError, match="takes no"):
        await erp.adapter.write("application", "submit", {"nope": 1}, reference())
