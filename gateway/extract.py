"""``alternance-hub extract``: the whole grid of the observatory for a period, as files.

Every indicator by every table of the grid it is offered by
(:func:`observatory.indicators.allowed_groupings`) is read through the one path every reader
takes, :meth:`sources.indicators.Indicators.table` (passed in as ``read``): disclosure control,
the AGGREGATE cache and the counting where the data lives are the engine's, so an extract holds
exactly the cells the ``indicators`` query and the page would show, and nothing else. What it
writes under ``--out``::

    cells.csv, cells.parquet   one row per published cell (gateway.extract_files)
    metadata.json              the indicators' definitions, the grid and each table's sources,
                               failures and computed-at, the disclosure rules, the hub's version

**Resumable.** Each finished table is written at once, atomically, under ``.extract/`` with a
manifest naming what the extract is (:class:`ExtractIdentity`: the period, the partners file's
digest, the disclosure rules, a digest of the record-key secret, the grid) and which tables are
done. Run the same command again after an interruption and the done tables are skipped;
anything else (another period, partners file or rule) is refused, saying which differs, unless
``restart``. The three files are assembled from the table files at the end. A table the
engine could not compute is written nowhere and retried by the next run; once every table is
computed, ``.extract/`` is removed, so the next run counts afresh.

A resumed extract's tables may come from counts made at different times: each table's
``computed_at`` is in the metadata. Within one run, the tables of a measure come from one count
(the engine's AGGREGATE cache), so a cell shared by two tables has one fate in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

import orjson

from gateway.extract_files import (
    ParquetUnavailable,
    Row,
    grouping_name,
    rows_of,
    write_atomically,
    write_csv,
    write_parquet,
)
from gateway.extract_progress import Progress, TableDone
from observatory import DisclosureRules
from observatory.indicators import INDICATORS, Dimension, IndicatorCode, allowed_groupings
from sources.counting import CountRefused
from sources.indicators import (
    PILOT_DEPARTEMENTS,
    IndicatorError,
    IndicatorRequest,
    IndicatorTable,
    MonthRange,
)

__all__ = [
    "FORMAT",
    "STATE_FOLDER",
    "ExtractError",
    "ExtractIdentity",
    "ExtractMismatch",
    "ExtractOutcome",
    "GridTable",
    "ReadTable",
    "run_extract",
    "whole_grid",
]

FORMAT: Final = 1
STATE_FOLDER: Final = ".extract"
CELLS_CSV: Final = "cells.csv"
CELLS_PARQUET: Final = "cells.parquet"
METADATA: Final = "metadata.json"

ReadTable = Callable[[IndicatorRequest], Awaitable[IndicatorTable]]


class ExtractError(Exception):
    """An extract that cannot run (an output folder it cannot write): the message says why."""


class ExtractMismatch(ExtractError):
    """``--out`` holds an unfinished extract of something else (another period, file, rule)."""


@dataclass(frozen=True, slots=True, order=True)
class GridTable:
    """One table of the extract: an indicator by one grouping of the grid."""

    code: IndicatorCode
    grouping: tuple[Dimension, ...]

    @property
    def name(self) -> str:
        return f"{self.code} by {grouping_name(self.grouping)}"

    @property
    def file_name(self) -> str:
        return f"{self.code}__{grouping_name(self.grouping)}.json"


def whole_grid(codes: Iterable[IndicatorCode] | None = None) -> tuple[GridTable, ...]:
    """Every indicator (or ``codes``) by every table of the grid offered for it."""
    chosen = list(INDICATORS) if codes is None else list(codes)
    return tuple(
        GridTable(code, grouping) for code in chosen for grouping in allowed_groupings(code)
    )


def rules_of(rules: DisclosureRules) -> dict[str, Any]:
    """The disclosure rules applied, as the metadata and the manifest state them."""
    return {
        "threshold": rules.threshold,
        "suppressed_counts_of_people": f"1..{rules.threshold - 1}",
        "rate_min_denominator": rules.rate_min_denominator,
        "secondary_suppression": {
            "protection_level": rules.protection_level,
            "method": "exact: HiGHS integer programmes over each table and its margins "
            "(observatory.suppression), the tables of a measure published together",
        },
        "perturbation": {
            "method": "cell-key perturbation (ONS), the same records always give the same noise",
            "enabled": rules.perturb,
            "noise_weights": [list(weight) for weight in rules.noise_weights],
        },
        "counts_of_positions": "published as counted (offers, positions, training places)",
    }


@dataclass(frozen=True, slots=True)
class ExtractIdentity:
    """What makes two runs the same extract: a run resumes only an extract equal to its own.
    The partners' data is not in it: a resumed extract's tables may be of counts made at
    different times (each table's ``computed_at`` says when)."""

    period: str
    partners_sha256: str
    rules: dict[str, Any]
    key_digest: str  # of the record-key secret: another secret perturbs cells otherwise
    grid: tuple[str, ...]
    hub_version: str  # another release may count or publish otherwise

    @classmethod
    def of(
        cls,
        months: MonthRange,
        partners_file: bytes,
        rules: DisclosureRules,
        key_secret: bytes,
        grid: Sequence[GridTable],
        hub_version: str,
    ) -> ExtractIdentity:
        key = hashlib.sha256(b"alternance-hub extract\x00" + key_secret).hexdigest()[:16]
        return cls(
            str(months),
            hashlib.sha256(partners_file).hexdigest(),
            rules_of(rules),
            key,
            tuple(t.name for t in grid),
            hub_version,
        )

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "grid": list(self.grid)}

    def differences(self, other: dict[str, Any]) -> list[str]:
        """What ``other`` (a manifest's identity) says differently, in words."""
        mine = self.as_json()
        words = {
            "period": "period",
            "partners_sha256": "partners file",
            "rules": "set of disclosure rules",
            "key_digest": "record-key secret",
            "grid": "grid",
            "hub_version": "version of the hub",
        }
        return [word for key, word in words.items() if other.get(key) != mine[key]]


@dataclass
class ExtractOutcome:
    """What a run did: the tables done (now and before), those that failed, the files."""

    tables: int
    computed: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)  # computed, with an owner missing
    files: list[Path] = field(default_factory=list)
    parquet_missing: str | None = None  # why cells.parquet was not written

    @property
    def complete(self) -> bool:
        return not self.failed and not self.partial and self.parquet_missing is None


# -- the state folder ----------------------------------------------------------------------------


def _dump(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def _write_json(path: Path, value: object) -> None:
    payload = _dump(value)

    def write(file: IO[bytes]) -> None:
        file.write(payload)

    write_atomically(path, write)


class _State:
    """``OUT/.extract/``: the manifest and one file per finished table."""

    def __init__(self, out: Path, identity: ExtractIdentity) -> None:
        self.folder = out / STATE_FOLDER
        self.tables = self.folder / "tables"
        self.manifest = self.folder / "manifest.json"
        self.identity = identity
        self.done: dict[str, str] = {}  # table name -> its file's name

    def open(self, *, restart: bool) -> None:
        """Resume the extract found here, or start one; :class:`ExtractMismatch` when it is
        another extract's and ``restart`` is not given."""
        if restart and self.folder.exists():
            shutil.rmtree(self.folder)
        found = self._read_manifest()
        if found is not None:
            differs = self.identity.differences(found.get("identity", {}))
            if differs:
                raise ExtractMismatch(
                    f"{self.folder.parent} holds an unfinished extract of another "
                    f"{' and another '.join(differs)}: run that extract again to finish it, "
                    "give another --out, or --restart to discard it"
                )
            self.done = {
                name: file
                for name, file in dict(found.get("done", {})).items()
                if (self.tables / file).is_file()
            }
        self.tables.mkdir(parents=True, exist_ok=True)
        for stale in self.tables.glob(".*"):  # temporary files of a run killed mid-write
            stale.unlink(missing_ok=True)
        self._write_manifest()

    def _read_manifest(self) -> dict[str, Any] | None:
        try:
            raw = orjson.loads(self.manifest.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, orjson.JSONDecodeError):
            raise ExtractMismatch(
                f"{self.manifest} is not an extract's manifest: --restart discards it"
            ) from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ExtractMismatch(
                f"{self.manifest} is of another version of the extract: --restart discards it"
            )
        return raw

    def _write_manifest(self) -> None:
        _write_json(
            self.manifest,
            {"format": FORMAT, "identity": self.identity.as_json(), "done": self.done},
        )

    def record(self, table: GridTable, payload: dict[str, Any]) -> None:
        """The table's file first, then the manifest naming it: a crash between the two
        leaves a file the manifest does not name, computed again by the next run."""
        _write_json(self.tables / table.file_name, payload)
        self.done[table.name] = table.file_name
        self._write_manifest()

    def load(self, table: GridTable) -> dict[str, Any]:
        loaded: dict[str, Any] = orjson.loads((self.tables / self.done[table.name]).read_bytes())
        return loaded

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _open_state(out: Path, identity: ExtractIdentity, restart: bool) -> _State:
    try:
        out.mkdir(parents=True, exist_ok=True)
        state = _State(out, identity)
        state.open(restart=restart)
    except PermissionError:
        raise ExtractError(f"{out} is not writable") from None
    except (FileExistsError, NotADirectoryError):
        raise ExtractError(f"{out} is not a folder") from None
    return state


# -- one table -----------------------------------------------------------------------------------


def _safe_error(error: Exception) -> str:
    """Why a table was not computed, for the metadata and stderr: the engine's own refusals
    say what of the grid or the configuration is missing; anything else by its type only."""
    if isinstance(error, IndicatorError | CountRefused | ValueError | LookupError):
        return f"{type(error).__name__}: {error}"[:300]
    return type(error).__name__


def _payload(table: IndicatorTable, seconds: float) -> dict[str, Any]:
    rows = rows_of(table)
    return {
        "indicator": str(table.request.code),
        "grouping": [d.value for d in table.grouping],
        "rows": rows,
        "cells": len(rows),
        "suppressed": sum(row["suppressed"] is not None for row in rows),
        "partners": list(table.partners),
        "failures": [
            {"partner": f.partner, "code": f.code, "message": f.message} for f in table.failures
        ],
        "computed_at": table.computed_at,
        "from_cache": table.from_cache,
        "seconds": round(seconds, 3),
    }


# -- the run -------------------------------------------------------------------------------------


async def run_extract(
    read: ReadTable,
    months: MonthRange,
    out: Path,
    identity: ExtractIdentity,
    grid: Sequence[GridTable],
    *,
    progress: Progress,
    metadata: Callable[[], dict[str, Any]],
    calls: Callable[[], int] = lambda: 0,
    restart: bool = False,
    after_table: Callable[[GridTable], None] | None = None,
) -> ExtractOutcome:
    """Compute the tables of ``grid`` not done yet, then assemble the files under ``out``.

    ``metadata()`` gives what the metadata file says besides the tables (the hub, the
    indicators, the rules); ``calls()`` the partner calls made so far (for the progress);
    ``after_table`` is called after each table is kept (tests interrupt a run with it).
    """
    # The files are written from a thread: the partner calls of the next table share the loop.
    state = await asyncio.to_thread(_open_state, out, identity, restart)
    outcome = ExtractOutcome(len(grid))
    errors: dict[str, str] = {}
    for table in grid:
        progress.starting(table.name)
        if table.name in state.done:
            kept = await asyncio.to_thread(state.load, table)
            outcome.skipped += 1
            progress.finished(
                TableDone(table.name, kept["cells"], kept["suppressed"], 0, 0.0, skipped=True),
                set(kept["partners"]),
                calls(),
            )
            continue
        began = time.monotonic()
        try:
            answer = await read(IndicatorRequest(table.code, table.grouping, months))
        except (IndicatorError, CountRefused, ValueError, LookupError) as error:
            errors[table.name] = _safe_error(error)
            outcome.failed.append(table.name)
            progress.finished(
                TableDone(table.name, 0, 0, 0, time.monotonic() - began, error=errors[table.name]),
                set(),
                calls(),
            )
            continue
        seconds = time.monotonic() - began
        payload = _payload(answer, seconds)
        await asyncio.to_thread(state.record, table, payload)
        outcome.computed += 1
        progress.finished(
            TableDone(
                table.name, payload["cells"], payload["suppressed"], len(answer.failures), seconds
            ),
            set(answer.partners) | {f.partner for f in answer.failures},
            calls(),
        )
        if after_table is not None:
            after_table(table)
    progress.close()
    await asyncio.to_thread(_assemble, state, grid, months, errors, metadata(), outcome)
    if not outcome.failed:
        await asyncio.to_thread(state.remove)
    return outcome


def _table_entry(
    table: GridTable, kept: dict[str, Any] | None, error: str | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "indicator": str(table.code),
        "grouping": [d.value for d in table.grouping],
    }
    if kept is None:
        return {**entry, "status": "not_computed", "error": error}
    status = "partial" if kept["failures"] else "complete"
    fields = ("cells", "suppressed", "partners", "failures", "computed_at", "from_cache")
    return {**entry, "status": status, **{k: kept[k] for k in fields}}


def _sources(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    partners = sorted({p for e in entries for p in e.get("partners", ())})
    failures: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in entries:
        for f in entry.get("failures", ()):
            found = failures.setdefault((f["partner"], f["code"]), {**f, "tables": 0})
            found["tables"] += 1
    return {"partners_counted_from": partners, "failures": list(failures.values())}


def _assemble(
    state: _State,
    grid: Sequence[GridTable],
    months: MonthRange,
    errors: dict[str, str],
    described: dict[str, Any],
    outcome: ExtractOutcome,
) -> None:
    """cells.csv, cells.parquet and metadata.json, from the kept tables, in the grid's order."""
    rows: list[Row] = []
    entries = []
    for table in grid:
        kept = state.load(table) if table.name in state.done else None
        entries.append(_table_entry(table, kept, errors.get(table.name)))
        if kept is not None:
            rows.extend(kept["rows"])
            if kept["failures"]:
                outcome.partial.append(table.name)
    out = state.folder.parent
    write_csv(out / CELLS_CSV, rows)
    outcome.files.append(out / CELLS_CSV)
    try:
        write_parquet(out / CELLS_PARQUET, rows)
        outcome.files.append(out / CELLS_PARQUET)
    except ParquetUnavailable as missing:
        outcome.parquet_missing = str(missing)
        with contextlib.suppress(FileNotFoundError):
            (out / CELLS_PARQUET).unlink()  # an earlier extract's would not match the CSV
    computed = [t for t in grid if t.name in state.done]
    metadata = {
        **described,
        "computed_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "period": {
            "from": f"{months.first:%Y-%m}",
            "to": f"{months.last:%Y-%m}",
            "months": months.months,
            "text": str(months),
        },
        "territory": {"departements": list(PILOT_DEPARTEMENTS)},
        "complete": len(computed) == len(grid) and not outcome.partial,
        "tables": entries,
        "sources": _sources(entries),
        "files": {
            CELLS_CSV: {"rows": len(rows)},
            CELLS_PARQUET: (
                {"rows": len(rows)}
                if outcome.parquet_missing is None
                else {"missing": outcome.parquet_missing}
            ),
        },
    }
    _write_json(out / METADATA, metadata)
    outcome.files.append(out / METADATA)
