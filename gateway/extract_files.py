"""The files of an extract: one row per published cell, written as CSV and Parquet.

A row is an aggregate cell only — which indicator, which table of the grid, the cell's node on
each dimension, its published value, numerator, denominator and suppression reason, and the
period — never a record. Every dimension of :class:`~observatory.indicators.Dimension` is a
column: the table's dimensions hold a node (``*``: the margin, ``UNKNOWN``: no value at the
owner), the others are empty (the table is not broken down by them).

Files are written whole or not at all (:func:`write_atomically`: a temporary file beside the
target, flushed, then renamed over it), so an interrupted extract never leaves half a file
that a re-run would take for a finished one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

from observatory.indicators import Dimension
from sources.indicators import IndicatorCell, IndicatorTable

__all__ = [
    "COLUMNS",
    "DIMENSION_COLUMNS",
    "PARQUET_HINT",
    "ParquetUnavailable",
    "grouping_name",
    "rows_of",
    "write_atomically",
    "write_csv",
    "write_parquet",
]

DIMENSIONS: Final = tuple(Dimension)
DIMENSION_COLUMNS: Final = tuple(d.value for d in DIMENSIONS)
COLUMNS: Final = (
    "period",
    "indicator",
    "grouping",
    *DIMENSION_COLUMNS,
    "value",
    "numerator",
    "denominator",
    "suppressed",
)
PARQUET_HINT: Final = (
    "the Parquet file needs pyarrow: pip install 'alternance-hub[extract]' "
    "(in a checkout: .venv/bin/pip install -e '.[extract]'); cells.csv holds the same cells"
)

Row = dict[str, Any]


class ParquetUnavailable(RuntimeError):
    """pyarrow is not installed: the CSV is written, the Parquet file is not."""


def grouping_name(grouping: Sequence[Dimension]) -> str:
    """``departement+rome_domain`` (no comma: the CSV field needs no quotes); the
    indicator's total is ``total``."""
    return "+".join(d.value for d in grouping) or "total"


def _row(period: str, table: IndicatorTable, cell: IndicatorCell) -> Row:
    nodes = dict(cell.coordinates)
    row: Row = {"period": period, "indicator": str(table.request.code)}
    row["grouping"] = grouping_name(table.grouping)
    for dimension in DIMENSIONS:  # a tuple: iterating the enum costs more than the row
        row[dimension.value] = nodes.get(dimension)
    row["value"] = cell.value
    row["numerator"] = cell.numerator
    row["denominator"] = cell.denominator
    row["suppressed"] = None if cell.suppressed is None else str(cell.suppressed)
    return row


def rows_of(table: IndicatorTable) -> list[Row]:
    """The table's published cells as rows (the period as the request wrote it)."""
    period = str(table.request.months)
    return [_row(period, table, cell) for cell in table.cells]


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """``write`` into a temporary file of ``path``'s folder, then rename it to ``path``."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # mkstemp's file is its owner's only; published aggregates get the usual mode.
        os.fchmod(descriptor, 0o666 & ~_umask())
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    return str(value)


def write_csv(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    """UTF-8, a header line, ``,`` separated; an empty field is no value."""

    def write(file: IO[bytes]) -> None:
        text = io.TextIOWrapper(file, encoding="utf-8", newline="")
        out = csv.writer(text, lineterminator="\n")
        out.writerow(COLUMNS)
        for row in rows:
            out.writerow([_csv_text(row[column]) for column in COLUMNS])
        text.flush()
        text.detach()

    write_atomically(path, write)


def write_parquet(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """The same columns, typed: text, and float64 for value, numerator and denominator."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ModuleNotFoundError:
        raise ParquetUnavailable(PARQUET_HINT) from None
    numbers = {"value", "numerator", "denominator"}
    schema = pa.schema([(c, pa.float64() if c in numbers else pa.string()) for c in COLUMNS])
    columns = {c: [row[c] for row in rows] for c in COLUMNS}
    table = pa.Table.from_pydict(columns, schema=schema)

    def write(file: IO[bytes]) -> None:
        pq.write_table(table, file, compression="zstd")

    write_atomically(path, write)
