"""What the ``/observatory`` page shows of an indicator table: French labels, formatted values,
table rows and the CSV of the same cells.

Pure presentation of published cells (:class:`sources.indicators.IndicatorTable`): nothing here
counts, reads a partner or knows a request. A row of the page's table and a line of its CSV come
from the same cell by the same function (:func:`rows_of`, :func:`csv_lines`), so the download is
what the page shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from observatory import TOTAL, DisclosureRules, Reason
from observatory.indicators import Dimension, Indicator, IndicatorCode, Kind
from reference import codes, territory
from sources.indicators import UNKNOWN, IndicatorCell, IndicatorTable

__all__ = [
    "CSV_COLUMNS",
    "DIMENSION_LABELS",
    "Row",
    "csv_lines",
    "dimension_columns",
    "grouping_label",
    "indicator_title",
    "node_label",
    "plain_number",
    "reason_labels",
    "rows_of",
    "scaled",
    "value_text",
]

DIMENSION_LABELS: dict[Dimension, str] = {
    Dimension.DEPARTEMENT: "Département",
    Dimension.COMMUNE: "Commune",
    Dimension.ROME_DOMAIN: "Domaine professionnel (ROME)",
    Dimension.LEVEL: "Niveau de diplôme",
    Dimension.OPCO: "OPCO",
    Dimension.TRAINING_CENTRE: "Centre de formation (UAI)",
    Dimension.MONTH: "Mois",
    Dimension.STATUS: "Étape de la candidature",
}

_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def indicator_title(indicator: Indicator) -> str:
    """The French label with the English code: ``Taux de placement (PLACEMENT_RATE)``."""
    return f"{indicator.label} ({indicator.code})"


def grouping_label(grouping: Sequence[Dimension]) -> str:
    if not grouping:
        return "Ensemble du territoire (TOTAL)"
    return " × ".join(f"{DIMENSION_LABELS[d]} ({d.name})" for d in grouping)


def reason_labels(rules: DisclosureRules) -> dict[Reason, str]:
    """Why a cell is not shown, in the page's words (the thresholds are the gateway's)."""
    return {
        Reason.PRIMARY: f"moins de {rules.threshold} jeunes",
        Reason.SECONDARY: "protège une autre case",
        Reason.RATE_DENOMINATOR: f"moins de {rules.rate_min_denominator}",
    }


def _domain_label(node: str) -> str:
    # The grid's domain is the letter and two digits of a ROME code; the reference data labels
    # the letter's grand domain (every fiche of a letter shares it).
    for code in sorted(codes.rome_codes()):
        if code.startswith(node[:1]):
            return f"{node} — {codes.rome_domain(code)}"
    return node


def node_label(dimension: Dimension, node: str) -> str:
    """A node as a reader knows it: ``73 — Savoie``, ``73065 — Chambéry``, ``juillet 2026``."""
    if node == TOTAL:
        return "Ensemble"
    if node == UNKNOWN:
        return "Non renseigné"
    if dimension is Dimension.DEPARTEMENT:
        found = territory.departement(node)
        return f"{node} — {found.name}" if found else node
    if dimension is Dimension.COMMUNE:
        commune = territory.commune(node)
        return f"{node} — {commune.name}" if commune else node
    if dimension is Dimension.ROME_DOMAIN:
        return _domain_label(node)
    if dimension is Dimension.LEVEL and node.isdigit():
        return codes.LEVELS.get(int(node), node)
    if dimension is Dimension.OPCO:
        return codes.OPCOS.get(node, node).split(" — ")[0]
    if dimension is Dimension.MONTH:
        try:
            month = date.fromisoformat(f"{node}-01")
        except ValueError:
            return node
        return f"{_MONTHS[month.month - 1]} {month.year}"
    return node


def scaled(indicator: Indicator, value: float) -> float:
    """The value in the unit shown: a rate in % is a share times 100."""
    return value * 100 if indicator.kind is Kind.RATE and indicator.unit_label == "%" else value


def _french(number: float, decimals: int) -> str:
    text = f"{number:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def value_text(indicator: Indicator, value: float | None) -> str:
    """``45,2 %``, ``1,35 postes par candidat``, ``38 jours``, ``1 456 postes``."""
    if value is None:
        return "—"
    shown = scaled(indicator, value)
    if indicator.kind is Kind.RATE:
        if indicator.unit_label == "%":
            return f"{_french(shown, 1)} %"
        return f"{_french(shown, 2)} {indicator.unit_label}"
    if indicator.kind is Kind.MEDIAN:
        return f"{_french(shown, 0)} {indicator.unit_label}"
    return f"{_french(shown, 0)} {indicator.unit_label}"


def plain_number(value: float | None) -> str:
    """A number as the CSV and the page's data attributes hold it: ``12``, ``0.4521``, empty."""
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


@dataclass(frozen=True, slots=True)
class Row:
    """One cell of a table as the page shows it."""

    indicator: IndicatorCode
    nodes: tuple[tuple[Dimension, str], ...]
    labels: tuple[str, ...]
    value: float | None
    value_text: str
    numerator: float | None
    denominator: float | None
    suppressed: Reason | None
    margin: bool  # a total of some dimension ("Ensemble")

    @property
    def key(self) -> str:
        """What identifies the cell in the page and in the CSV: ``CODE|dimension=node|...``."""
        return "|".join([self.indicator, *(f"{d.name}={node}" for d, node in self.nodes)])


def _row(indicator: Indicator, cell: IndicatorCell) -> Row:
    return Row(
        indicator.code,
        cell.coordinates,
        tuple(node_label(d, node) for d, node in cell.coordinates),
        cell.value,
        value_text(indicator, cell.value),
        cell.numerator,
        cell.denominator,
        cell.suppressed,
        any(node == TOTAL for _, node in cell.coordinates),
    )


def rows_of(table: IndicatorTable, cells: Iterable[IndicatorCell] | None = None) -> list[Row]:
    """The table's rows: its cells (or the ``cells`` of it shown), leaves first, then margins."""
    shown = table.cells if cells is None else tuple(cells)
    rows = [_row(table.indicator, cell) for cell in shown]
    return sorted(rows, key=lambda row: row.margin)


CSV_COLUMNS = ("value", "numerator", "denominator", "suppressed", "partners", "computed_at")


def dimension_columns(tables: Iterable[IndicatorTable]) -> list[Dimension]:
    """The dimensions any of the tables shows, in the grid's order: the CSV's middle columns."""
    found = {d for table in tables for d in table.grouping}
    return [d for d in Dimension if d in found]


def csv_lines(shown: Sequence[tuple[IndicatorTable, Sequence[Row]]]) -> str:
    """The CSV of the rows shown: ``indicator``, one column per dimension (empty where a table
    does not have it, ``*`` for its total), then :data:`CSV_COLUMNS`."""
    dimensions = dimension_columns(table for table, _ in shown)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["indicator", *(d.name for d in dimensions), *CSV_COLUMNS])
    for table, rows in shown:
        partners = ";".join(table.partners)
        for row in rows:
            nodes = dict(row.nodes)
            writer.writerow(
                [
                    row.indicator,
                    *(nodes.get(d, "") for d in dimensions),
                    plain_number(row.value),
                    plain_number(row.numerator),
                    plain_number(row.denominator),
                    row.suppressed or "",
                    partners,
                    table.computed_at,
                ]
            )
    return out.getvalue()
