"""``alternance-hub extract`` (issue 9, items 7 and 9): the whole grid as files, resumable.

The extract runs in-process over a gateway wired to every simulated partner of the demo's
partners file (``httpx.ASGITransport``; both ERPs seeded into SQLite; Hub3E and AKTO checking
the hub's signed principal), with an audit trail in SQLite. Expectations come from the engine
itself (``Indicators.table``) and from the disclosure rules, never from the extract's output.
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from adapters import acting
from demo import akto, hub3e
from demo.cfa_erp import seed_demo_databases
from demo.run import partners_file
from gateway.cli import main
from gateway.extract import STATE_FOLDER, ExtractMismatch, GridTable, whole_grid
from gateway.extract_cli import extract_detail, extract_with_app
from gateway.extract_files import COLUMNS, DIMENSION_COLUMNS, write_parquet
from gateway.extract_progress import Progress, TableDone
from gateway.settings import Settings
from identity.assertions import AssertionSigner, write_new_key
from identity.principal import Principal, Role
from observatory.cells import Unit
from observatory.indicators import INDICATORS, IndicatorCode, Kind
from sources.indicators import IndicatorRequest, MonthRange
from store.audit import Action, AuditFilter, AuditUnavailable
from store.database import create_engine
from store.migrate import upgrade
from tests.gateway.hubkit import Hub, start_hub

PERIOD = MonthRange.parse("2025-09..2026-08")
ANALYST = Principal(Role.OBSERVATORY, "", "extract-test")
PEPPER = "a-test-pepper-of-at-least-32-characters"
AUDIT_KEY = "a-test-audit-key-of-at-least-32-characters"
OFFERS = whole_grid([IndicatorCode.OFFERS_ACTIVE, IndicatorCode.POSITIONS_OPEN])
NUMBERS = ("value", "numerator", "denominator")


class _Interrupted(Exception):
    """What a test raises from ``after_table`` to stop a run, as a kill would."""


async def _observatory_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, audit: bool = True, **settings_: Any
) -> Hub:
    for name, dsn in (await seed_demo_databases(tmp_path / "erp", None)).items():
        monkeypatch.setenv(name, dsn)
    key = tmp_path / "assertion.pem"
    write_new_key(key)
    jwks = AssertionSigner.from_pem_file(key).jwks()
    database = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    engine = create_engine(database)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    stores: dict[str, Any] = {"audit_key": AUDIT_KEY, "api_key_pepper": PEPPER} if audit else {}
    settings = Settings(
        development=True, assertion_key_file=key, database_url=database, **stores, **settings_
    )
    names = list(tomllib.loads(partners_file().read_text(encoding="utf-8"))["partners"])
    apps = {
        "hub3e": hub3e.create_app(assertion_jwks=jwks),
        "akto": akto.create_app(assertion_jwks=jwks),
    }
    return await start_hub(monkeypatch, names, settings=settings, apps=apps)


@pytest.fixture
async def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hub]:
    found = await _observatory_hub(tmp_path, monkeypatch)
    yield found
    await found.aclose()


async def _extract(hub: Hub, out: Path, **options: Any) -> Any:
    return await extract_with_app(
        hub.app,
        ANALYST,
        options.pop("months", PERIOD),
        out,
        partners_file().read_bytes(),
        stderr=io.StringIO(),
        **options,
    )


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    typed = []
    for row in rows:
        assert tuple(row) == COLUMNS
        typed.append(
            {
                column: (None if text == "" else float(text) if column in NUMBERS else text)
                for column, text in row.items()
            }
        )
    return typed


def _parquet_rows(path: Path) -> list[dict[str, Any]]:
    return list(pq.read_table(path).to_pylist())


def _metadata(out: Path) -> dict[str, Any]:
    found: dict[str, Any] = orjson.loads((out / "metadata.json").read_bytes())
    return found


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["indicator"], row["grouping"], *(row[c] for c in DIMENSION_COLUMNS))


async def test_the_whole_grid_is_the_engines_cells_in_csv_and_parquet(
    hub: Hub, tmp_path: Path
) -> None:
    out = tmp_path / "extracts"
    outcome = await _extract(hub, out)
    grid = whole_grid()
    assert outcome.tables == len(grid) == outcome.computed + len(outcome.failed)
    csv_rows = _csv_rows(out / "cells.csv")
    assert csv_rows == _parquet_rows(out / "cells.parquet")
    assert csv_rows, "the offers at least are counted"

    metadata = _metadata(out)
    by_table: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in csv_rows:
        assert row["period"] == str(PERIOD)
        by_table.setdefault((row["indicator"], row["grouping"]), []).append(row)
    entries = {(e["indicator"], "+".join(e["grouping"]) or "total"): e for e in metadata["tables"]}
    assert len(entries) == len(grid)
    for table in grid:
        name = "+".join(d.value for d in table.grouping) or "total"
        entry = entries[(str(table.code), name)]
        rows = by_table.get((str(table.code), name), [])
        if entry["status"] == "not_computed":
            assert entry["error"] and rows == []  # said why, and no cell of it is published
            continue
        # The engine's answer for the same table, cell by cell (from its cache: the same count).
        with acting.scoped(ANALYST, hub.app.state.identity.assertions):
            answer = await hub.app.state.indicators.table(
                IndicatorRequest(table.code, table.grouping, PERIOD)
            )
        expected = {
            tuple(dict(cell.coordinates).get(d) for d in answer.grouping): cell
            for cell in answer.cells
        }
        assert len(rows) == len(expected) == entry["cells"]
        for row in rows:
            cell = expected[tuple(row[d.value] for d in answer.grouping)]
            assert row["value"] == cell.value and row["numerator"] == cell.numerator
            assert row["denominator"] == cell.denominator
            assert row["suppressed"] == (None if cell.suppressed is None else str(cell.suppressed))
            others = set(DIMENSION_COLUMNS) - {d.value for d in answer.grouping}
            assert all(row[c] is None for c in others)
        assert entry["partners"] == list(answer.partners)
        assert entry["status"] == ("partial" if answer.failures else "complete")
    assert (out / STATE_FOLDER).exists() == bool(outcome.failed)


async def test_no_published_cell_counts_1_to_10_young_people(hub: Hub, tmp_path: Path) -> None:
    out = tmp_path / "extracts"
    await _extract(hub, out)
    threshold = Settings().observatory_threshold
    people = {str(c) for c, i in INDICATORS.items() if i.counts_people}
    checked = 0
    for row in _csv_rows(out / "cells.csv"):
        if row["indicator"] not in people:
            continue
        indicator = INDICATORS[IndicatorCode(row["indicator"])]
        # The counts of young people in the row (TENSION_RATIO's numerator is positions,
        # FILL_RATE's denominator places: published as counted).
        counts = []
        if indicator.numerator.unit is Unit.PERSONS:
            counts.append(row["numerator"])
            if indicator.kind is Kind.COUNT:
                counts.append(row["value"])
        if indicator.denominator is not None and indicator.denominator.unit is Unit.PERSONS:
            counts.append(row["denominator"])
        for count in counts:
            assert count is None or not 1 <= count < threshold, row
        if row["suppressed"] is not None:
            assert row["value"] is None, row
        checked += 1
    # Every published cell of people was looked at; the tables of people the engine could
    # not compute (owners that do not count by those dimensions yet) say why.
    entries = [e for e in _metadata(out)["tables"] if e["indicator"] in people]
    assert checked == sum(e.get("cells", 0) for e in entries) > 0
    assert all(e["error"] for e in entries if e["status"] == "not_computed")


async def test_the_metadata_says_what_the_cells_are_and_how_they_were_protected(
    hub: Hub, tmp_path: Path
) -> None:
    out = tmp_path / "extracts"
    await _extract(hub, out, grid=OFFERS)
    metadata = _metadata(out)
    assert metadata["hub"] == {
        "name": "alternance-hub",
        "version": importlib.metadata.version("alternance-hub"),
    }
    assert [i["code"] for i in metadata["indicators"]] == [str(c) for c in INDICATORS]
    for described in metadata["indicators"]:
        indicator = INDICATORS[IndicatorCode(described["code"])]
        assert described["label"] == indicator.label
        assert described["kind"] == str(indicator.kind)
        assert described["unit"] == indicator.unit_label
        assert described["description"] == indicator.description
        assert described["dimensions"] == sorted(d.value for d in indicator.dimensions)
    rules = hub.app.state.indicators.rules
    disclosure = metadata["disclosure"]
    assert disclosure["threshold"] == rules.threshold == 11
    assert disclosure["rate_min_denominator"] == rules.rate_min_denominator == 20
    assert disclosure["secondary_suppression"]["protection_level"] == rules.protection_level
    assert disclosure["perturbation"]["enabled"] is rules.perturb
    assert metadata["period"] == {
        "from": "2025-09",
        "to": "2026-08",
        "months": 12,
        "text": "2025-09..2026-08",
    }
    assert metadata["computed_at"].endswith("Z")
    assert len(metadata["tables"]) == len(OFFERS)
    counted = metadata["sources"]["partners_counted_from"]
    assert {"francetravail", "alpes-emploi", "jobs-montagne"} <= set(counted)
    for failure in metadata["sources"]["failures"]:
        assert failure["partner"] and failure["code"] and failure["tables"] >= 1
    assert metadata["complete"] == (not metadata["sources"]["failures"])
    assert metadata["files"]["cells.csv"]["rows"] == len(_csv_rows(out / "cells.csv"))


async def test_an_interrupted_extract_resumes_and_gives_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = (*OFFERS, *whole_grid([IndicatorCode.APPLICATIONS])[:3])
    hub = await _observatory_hub(tmp_path / "a", monkeypatch)
    try:
        whole = await _extract(hub, tmp_path / "whole", grid=grid)
    finally:
        await hub.aclose()

    # A new gateway each run, as a new process would be: nothing of the first run's cache.
    out = tmp_path / "interrupted"
    seen: list[GridTable] = []

    def stop_after_seven(table: GridTable) -> None:
        seen.append(table)
        if len(seen) == 7:
            raise _Interrupted

    hub = await _observatory_hub(tmp_path / "b", monkeypatch)
    try:
        with pytest.raises(_Interrupted):
            await _extract(hub, out, grid=grid, after_table=stop_after_seven)
    finally:
        await hub.aclose()
    manifest = orjson.loads((out / STATE_FOLDER / "manifest.json").read_bytes())
    assert sorted(manifest["done"]) == sorted(t.name for t in seen)
    assert not (out / "cells.csv").exists()  # nothing assembled from half an extract

    hub = await _observatory_hub(tmp_path / "c", monkeypatch)
    try:
        resumed = await _extract(hub, out, grid=grid)
    finally:
        await hub.aclose()
    assert resumed.skipped == 7
    assert resumed.computed == whole.computed - 7
    assert resumed.failed == whole.failed
    assert (out / "cells.csv").read_bytes() == (tmp_path / "whole" / "cells.csv").read_bytes()
    assert _parquet_rows(out / "cells.parquet") == _parquet_rows(
        tmp_path / "whole" / "cells.parquet"
    )

    def comparable(metadata: dict[str, Any]) -> dict[str, Any]:
        del metadata["computed_at"]
        for entry in metadata["tables"]:
            entry.pop("computed_at", None)
            entry.pop("from_cache", None)
        return metadata

    assert comparable(_metadata(out)) == comparable(_metadata(tmp_path / "whole"))


async def test_without_the_gateways_cache_each_measure_is_still_counted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = await _observatory_hub(tmp_path / "off", monkeypatch, cache_enabled=False)
    try:
        assert hub.app.state.indicators.cache is None
        await _extract(hub, tmp_path / "off-out", grid=OFFERS)
    finally:
        await hub.aclose()
    hub = await _observatory_hub(tmp_path / "on", monkeypatch)
    try:
        await _extract(hub, tmp_path / "on-out", grid=OFFERS)
    finally:
        await hub.aclose()
    off = tmp_path / "off-out"
    assert (off / "cells.csv").read_bytes() == (tmp_path / "on-out" / "cells.csv").read_bytes()
    # Counted for each indicator's first table, the others its margins from the extract's cache.
    counted = [
        (e["indicator"], e["grouping"]) for e in _metadata(off)["tables"] if not e["from_cache"]
    ]
    assert counted == [("OFFERS_ACTIVE", []), ("POSITIONS_OPEN", [])]


async def test_another_period_does_not_resume_an_unfinished_extract(
    hub: Hub, tmp_path: Path
) -> None:
    out = tmp_path / "extracts"

    def stop(table: GridTable) -> None:
        raise _Interrupted

    with pytest.raises(_Interrupted):
        await _extract(hub, out, grid=OFFERS, after_table=stop)
    other = MonthRange.parse("2026-01..2026-06")
    with pytest.raises(ExtractMismatch, match="of another period:") as refused:
        await _extract(hub, out, grid=OFFERS, months=other)
    assert "--restart" in str(refused.value)
    restarted = await _extract(hub, out, grid=OFFERS, months=other, restart=True)
    assert restarted.skipped == 0 and restarted.computed == len(OFFERS)
    assert {row["period"] for row in _csv_rows(out / "cells.csv")} == {"2026-01..2026-06"}


async def test_each_extract_is_one_audit_event_of_its_grid_and_period(
    hub: Hub, tmp_path: Path
) -> None:
    grid = (*OFFERS[:2], *whole_grid([IndicatorCode.APPLICATIONS])[:2])
    await _extract(hub, tmp_path / "extracts", grid=grid)
    page = await hub.app.state.stores.audit.page(AuditFilter(operation="extract"))
    extract_events = [e for e in page.events if e.detail and e.detail.startswith("extract ")]
    assert len(extract_events) == 1
    (event,) = extract_events
    assert event.action is Action.COUNT and event.role == "OBSERVATORY"
    assert event.detail == extract_detail(grid, PERIOD)
    assert event.detail == (
        "extract grid=OFFERS_ACTIVE,APPLICATIONS tables=4 period=2025-09..2026-08 "
        "departements=pilot"
    )
    assert event.subject_ref and "extract-test" not in event.subject_ref
    # And each table of people read is its own COUNT event (gateway.observatory.read_table).
    tables = sorted(e.detail or "" for e in page.events if e not in extract_events)
    assert tables == [
        "APPLICATIONS by=departement period=2025-09..2026-08 departements=pilot",
        "APPLICATIONS by=total period=2025-09..2026-08 departements=pilot",
    ]
    assert extract_detail(whole_grid(), PERIOD).startswith("extract grid=whole tables=")


async def test_without_an_audit_trail_no_partner_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = await _observatory_hub(tmp_path, monkeypatch, audit=False)
    try:
        with pytest.raises(AuditUnavailable, match="HUB_AUDIT_KEY"):
            await _extract(hub, tmp_path / "extracts")
        assert sum(hub.all_calls().values()) == 0
        assert not (tmp_path / "extracts").exists()
        # Offers count no one: they are extracted without it.
        outcome = await _extract(hub, tmp_path / "offers", grid=OFFERS)
        assert outcome.computed == len(OFFERS)
    finally:
        await hub.aclose()


# -- the command's errors and the files' details, without partners ------------------------------


def test_a_bad_period_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["extract", "--demo", "--period", "2026-13..2026-06", "--out", str(tmp_path)])
    assert code == 2
    assert "--period: a month is written YYYY-MM" in capsys.readouterr().err


def test_an_unreadable_partners_file_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUB_PARTNERS_FILE", raising=False)
    missing = tmp_path / "nowhere.toml"
    assert main(["extract", "--config", str(missing), "--out", str(tmp_path / "o")]) == 1
    assert f"cannot read {missing}" in capsys.readouterr().err
    assert main(["extract", "--out", str(tmp_path / "o")]) == 2
    assert "give --config FILE, --demo" in capsys.readouterr().err
    assert main(["extract", "--demo", "--config", str(missing), "--out", str(tmp_path)]) == 2


def test_a_partner_credential_not_set_is_said_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}")
    monkeypatch.delenv("HUB_FRANCETRAVAIL_CLIENT_ID", raising=False)
    config = str(partners_file())
    assert main(["extract", "--config", config, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "environment variable HUB_FRANCETRAVAIL_CLIENT_ID is not set" in err
    assert "partners.toml:12:" in err
    assert not (tmp_path / "o").exists()


async def test_an_output_that_is_not_a_folder_is_said(hub: Hub, tmp_path: Path) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    from gateway.extract import ExtractError

    with pytest.raises(ExtractError, match="is not a folder"):
        await _extract(hub, taken, grid=OFFERS)


def test_without_pyarrow_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.extract_files import ParquetUnavailable

    monkeypatch.setitem(__import__("sys").modules, "pyarrow", None)
    with pytest.raises(ParquetUnavailable, match=r"alternance-hub\[extract\]"):
        write_parquet(tmp_path / "cells.parquet", [])
    assert not (tmp_path / "cells.parquet").exists()


def test_the_progress_is_a_bar_on_a_terminal_and_a_line_per_table_elsewhere() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    plain = io.StringIO()
    progress = Progress.on(plain, 3)
    progress.finished(TableDone("A by total", 1, 0, 0, 0.5), {"p"}, 4)
    progress.finished(TableDone("A by departement", 3, 1, 1, 0.1), {"p", "q"}, 6)
    progress.finished(TableDone("B by total", 0, 0, 0, 0.0, error="ValueError: x"), set(), 6)
    lines = plain.getvalue().splitlines()
    assert lines == [
        "extract: 1/3 A by total: 1 cells (0 suppressed), 0.50 s",
        "extract: 2/3 A by departement: 3 cells (1 suppressed), 1 partner failed, 0.10 s",
        "extract: 3/3 B by total: NOT COMPUTED: ValueError: x",
    ]
    terminal = Terminal()
    bar = Progress.on(terminal, 2)
    bar.starting("A by total")
    bar.finished(TableDone("A by total", 5, 0, 0, 2.0), {"p"}, 3)
    assert bar.time_left() == pytest.approx(2.0)
    drawn = terminal.getvalue()
    assert drawn.startswith("\r") and "1/2 tables" in drawn and "0:02 left" in drawn
    assert "3 calls" in drawn and "1 partners asked" in drawn and "\n" not in drawn
    bar.close()
    assert terminal.getvalue().endswith("\n")


def test_the_csv_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    from gateway.extract_files import write_csv

    target = tmp_path / "cells.csv"
    target.write_text("the earlier extract\n")

    def rows() -> Any:
        yield dict.fromkeys(COLUMNS)
        raise _Interrupted

    with pytest.raises(_Interrupted):
        write_csv(target, rows())
    assert target.read_text() == "the earlier extract\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cells.csv"]  # no temporary file left


def test_the_grid_is_every_indicator_by_every_allowed_table() -> None:
    from observatory.indicators import allowed_groupings

    grid = whole_grid()
    assert len(set(grid)) == len(grid)
    assert {(t.code, t.grouping) for t in grid} == {
        (code, grouping) for code in INDICATORS for grouping in allowed_groupings(code)
    }
