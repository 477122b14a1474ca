"""CSV feed partners (kind ``csv_feed``): a delimited export fetched over HTTP.

The document is decoded and split into rows as it arrives (an incremental text stream over
the body, :mod:`adapters.streams`), and each row is handed to the mapping as it is read. The
entity's block declares the document's conventions — ``encoding`` (``latin-1`` for many
French exports), ``delimiter`` (``;``), ``decimal_comma`` (``8 500,00``) and ``date_format``
(``%d/%m/%Y``) — and each row becomes one raw record, column name -> text (stripped; an empty
cell is absent). With ``group_by``, the rows sharing a column's value make one raw record
(see :class:`adapters.feed_config.CsvFeedEntity`). Fetching, refresh and the last good copy
are :mod:`adapters.feed`'s.

A document that cannot be decoded with the declared encoding, that breaks the CSV quoting
rules, that repeats a column name or that lacks a column the mapping reads is
``SOURCE_BAD_RESPONSE``; a row with the wrong number of cells is dropped like a record that
does not fit the mapping.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from adapters.errors import SourceBadResponse
from adapters.feed import FeedKind, Parser, RawRecords
from adapters.feed_config import CsvFeedEntity, CsvFeedPartner
from adapters.mapping import as_spec, compile_path

ACCEPT = "text/csv, text/plain;q=0.5"
CONTENT_TYPES = (
    "text/csv",
    "text/plain",
    "application/csv",
    "text/comma-separated-values",
    "application/vnd.ms-excel",  # what many export tools still declare for .csv
    "application/octet-stream",
)


def columns_read(spec: CsvFeedEntity) -> frozenset[str]:
    """The columns the mapping reads at the top of a raw record (group rows excluded)."""
    paths = [spec.id, *(as_spec(m).path for m in spec.fields.values())]
    if spec.group_by:
        paths.append(spec.group_by)
    needed = set()
    for path in paths:
        if path is None:
            continue
        first = compile_path(path)[0]
        if isinstance(first, str) and first != spec.group_into:
            needed.add(first)
    return frozenset(needed)


def _lines(partner: str, body: BinaryIO, encoding: str) -> Iterator[str]:
    """The document's lines, decoded as they are read (a BOM left by a spreadsheet dropped)."""
    try:
        text = io.TextIOWrapper(body, encoding=encoding, newline="")
    except LookupError:
        raise SourceBadResponse(partner, "CSV not in its declared encoding") from None
    try:
        first = text.readline()
        if first:
            yield first.removeprefix("\ufeff")
        yield from text
    except UnicodeDecodeError:
        raise SourceBadResponse(partner, "CSV not in its declared encoding") from None


def csv_parser(partner: str, spec: CsvFeedEntity) -> Parser:
    """The parser of one entity's CSV document (a binary file -> raw records, as read).

    Rows are handed out one by one as the document is read; with ``group_by`` the rows are
    gathered first (a group's rows may lie anywhere in the document)."""
    needed = columns_read(spec)

    def rows(body: BinaryIO) -> Iterator[dict[str, Any]]:
        reader = csv.reader(
            _lines(partner, body, spec.encoding),
            delimiter=spec.delimiter,
            quotechar=spec.quotechar,
            strict=True,
        )
        try:
            header = spec.columns if not spec.header else next(reader, None)
            if header is None:
                return
            names = [name.strip() for name in header]
            if len(set(names)) != len(names):
                raise SourceBadResponse(partner, "CSV header repeats a column name")
            absent = sorted(needed - set(names))
            if absent:
                raise SourceBadResponse(partner, f"CSV lacks the columns {', '.join(absent)}")
            width = len(names)
            for cells in reader:
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue  # a blank line
                if len(cells) != width:
                    yield {}  # counted as rejected: no identifier
                    continue
                yield {
                    name: (cell.strip() or None) for name, cell in zip(names, cells, strict=True)
                }
        except csv.Error:
            raise SourceBadResponse(partner, "malformed CSV document") from None

    def parse(body: BinaryIO) -> Iterator[dict[str, Any]]:
        if spec.group_by:
            return iter(_grouped(list(rows(body)), spec))
        return rows(body)

    return parse


def _grouped(rows: RawRecords, spec: CsvFeedEntity) -> RawRecords:
    assert spec.group_by is not None
    groups: dict[Any, dict[str, Any]] = {}
    loose: RawRecords = []
    for row in rows:
        value = row.get(spec.group_by)
        if value is None:
            loose.append(row)  # no group value: left to be rejected by the mapping, or kept
            continue
        group = groups.get(value)
        if group is None:
            groups[value] = {**row, spec.group_into: [row]}
        else:
            group[spec.group_into].append(row)
    return [*groups.values(), *loose]


FEED = FeedKind("csv_feed", CsvFeedPartner, csv_parser, ACCEPT, CONTENT_TYPES)
create = FEED.create
factory = FEED.factory
KIND = FEED.kind

__all__ = ["ACCEPT", "CONTENT_TYPES", "KIND", "columns_read", "create", "csv_parser", "factory"]
