"""How the ``/observatory`` page draws published cells: values in French, bars to scale, suppressed
cells as a hatched mark with their reason (never a bar of some length), the map's points and
outlines, and the CSV of the same rows.

The tables are built here, as the engine returns them (:class:`sources.indicators.
IndicatorTable`), so that every kind of cell — published, PRIMARY, SECONDARY, RATE_DENOMINATOR,
a margin — is drawn whatever the demo's data happen to publish today.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import math
import re
import tomllib
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from starlette.requests import Request

from gateway.observatory_charts import _core, _hull, bar_chart, commune_map
from gateway.observatory_page import Access, PageQuery, Panel, draw_chart, render_page
from gateway.observatory_view import csv_lines, reason_labels, rows_of, value_text
from observatory import DisclosureRules, Reason
from observatory.indicators import INDICATORS, Dimension, IndicatorCode
from sources.indicators import IndicatorCell, IndicatorRequest, IndicatorTable, MonthRange
from sources.registry import PartnerFailure

MONTHS = MonthRange.of("2026-01", "2026-06")
REASONS = reason_labels(DisclosureRules())
D = Dimension.DEPARTEMENT


def placement_by_departement() -> IndicatorTable:
    cells = (
        IndicatorCell(((D, "*"),), 0.5, 60, 120, None),
        IndicatorCell(((D, "73"),), 0.45, 45, 100, None),
        IndicatorCell(((D, "74"),), None, None, None, Reason.PRIMARY),
        IndicatorCell(((D, "UNKNOWN"),), None, None, 12, Reason.RATE_DENOMINATOR),
    )
    request = IndicatorRequest(IndicatorCode.PLACEMENT_RATE, (D,), MONTHS)
    failure = PartnerFailure("akto-contrats", "SOURCE_TIMEOUT", "no answer within 2 s")
    return IndicatorTable(
        request, (D,), cells, ("cfa-btp", "hub3e"), (failure,), "2026-07-01T08:00:00Z", False
    )


def test_values_read_in_french_with_their_unit() -> None:
    assert value_text(INDICATORS[IndicatorCode.PLACEMENT_RATE], 0.4521) == "45,2 %"
    tension = INDICATORS[IndicatorCode.TENSION_RATIO]
    assert value_text(tension, 1.349) == "1,35 postes par candidat"
    assert value_text(INDICATORS[IndicatorCode.OFFERS_ACTIVE], 1456) == "1\u202f456 offres"
    assert value_text(INDICATORS[IndicatorCode.TIME_TO_PLACEMENT], 38.0) == "38 jours"
    assert value_text(tension, None) == "—"


def test_a_suppressed_cell_is_a_hatched_mark_with_its_reason_not_a_bar() -> None:
    table = placement_by_departement()
    rows = rows_of(table)
    assert [row.margin for row in rows] == [False, False, False, True]  # leaves, then totals
    values = {row.key: row.value * 100 for row in rows if row.value is not None}
    chart = bar_chart("c", "Taux", rows, values, REASONS, "%")
    drawn = {bar.row.key: bar for bar in chart.bars}
    assert set(drawn) == {
        "PLACEMENT_RATE|DEPARTEMENT=73",
        "PLACEMENT_RATE|DEPARTEMENT=74",
        "PLACEMENT_RATE|DEPARTEMENT=UNKNOWN",
    }
    published = drawn["PLACEMENT_RATE|DEPARTEMENT=73"]
    top = float(chart.ticks[-1].text.replace(",", "."))
    assert top >= 45
    assert math.isclose(published.width, chart.plot_width * 45 / top)
    assert published.text == "45,0 %"
    primary = drawn["PLACEMENT_RATE|DEPARTEMENT=74"]
    assert primary.text == "secret — moins de 11 jeunes"
    small = drawn["PLACEMENT_RATE|DEPARTEMENT=UNKNOWN"]
    assert small.text == "secret — moins de 20"
    assert primary.width == small.width < published.width  # a mark, not a value
    assert "dont 2 cases secrètes" in chart.description
    assert chart.ticks[0].text == "0"


def test_ticks_are_round_and_reach_past_the_largest_bar() -> None:
    table = placement_by_departement()
    rows = rows_of(table)
    values = {rows[0].key: 915.0}
    chart = bar_chart("c", "t", rows, values, REASONS, "postes")
    assert [t.text for t in chart.ticks] == ["0", "200", "400", "600", "800", "1000"]


def test_the_csv_holds_each_row_with_its_reason_and_its_sources() -> None:
    table = placement_by_departement()
    text = csv_lines([(table, rows_of(table))])
    lines = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(lines[0]) == [
        "indicator",
        "DEPARTEMENT",
        "value",
        "numerator",
        "denominator",
        "suppressed",
        "partners",
        "computed_at",
    ]
    by_place = {line["DEPARTEMENT"]: line for line in lines}
    assert by_place["73"]["value"] == "0.45" and by_place["73"]["numerator"] == "45"
    assert by_place["74"]["value"] == "" and by_place["74"]["suppressed"] == "PRIMARY"
    assert by_place["UNKNOWN"]["suppressed"] == "RATE_DENOMINATOR"
    assert by_place["*"]["partners"] == "cfa-btp;hub3e"
    assert {line["computed_at"] for line in lines} == {"2026-07-01T08:00:00Z"}


class _Marks(HTMLParser):
    """The page's suppressed marks: hatched bars, rows marked secret, the legend's reasons."""

    def __init__(self) -> None:
        super().__init__()
        self.hatched: list[str] = []
        self.secret_rows: list[str] = []
        self._row: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "rect" and (found.get("fill") or "").endswith("-hatch)"):
            self.hatched.append(found.get("class") or "")
        if tag == "tr" and found.get("data-suppressed"):
            self._row = found["data-suppressed"]
        if tag == "td" and found.get("class") == "secret" and self._row is not None:
            self.secret_rows.append(self._row)
            self._row = None


def test_the_page_marks_suppressed_cells_with_a_hatch_a_text_and_a_legend() -> None:
    table = placement_by_departement()
    panel = Panel("1", table.indicator, (D,), table, rows_of(table))
    draw_chart(panel, REASONS)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/observatory",
        "headers": [],
        "query_string": b"",
        "root_path": "",
    }
    query = PageQuery(IndicatorCode.PLACEMENT_RATE, (D,), (), MONTHS)
    response = render_page(
        Request(scope),
        200,
        reasons=REASONS,
        query=query,
        params={},
        access=Access(None, False),
        panels=[panel],
    )
    html = bytes(response.body).decode()
    marks = _Marks()
    marks.feed(html)
    assert marks.hatched.count("secret") == 2  # the two suppressed bars, hatched
    assert sorted(marks.secret_rows) == ["PRIMARY", "RATE_DENOMINATOR"]
    assert html.count('<td class="secret"><span class="mark">secret</span>') == 2
    assert "(moins de 11 jeunes)" in html and "(moins de 20)" in html
    for reason, said in REASONS.items():  # the legend says why, for every reason
        assert f"<dt><code>{reason}</code></dt><dd>{said}" in html
    assert "protège une autre case" in html
    # The partial answer is said on the page and under the chart.
    assert "Réponse partielle" in html and "<code>akto-contrats</code>" in html
    assert re.search(r"Sources : cfa-btp, hub3e · calculé le 2026-07-01T08:00:00Z", html)


def test_the_map_places_communes_and_outlines_each_departement() -> None:
    c = Dimension.COMMUNE
    code = IndicatorCode.POSITIONS_OPEN
    months = MonthRange.last_twelve(date(2026, 7, 1))
    communes = IndicatorTable(
        IndicatorRequest(code, (c,), months),
        (c,),
        (
            IndicatorCell(((c, "73065"),), 100, 100, None, None),  # Chambéry
            IndicatorCell(((c, "74010"),), 25, 25, None, None),  # Annecy
            IndicatorCell(((c, "73008"),), None, None, None, Reason.SECONDARY),
        ),
        ("francetravail",),
        (),
        "2026-07-01T08:00:00Z",
        False,
    )
    departements = IndicatorTable(
        IndicatorRequest(code, (D,), months),
        (D,),
        (
            IndicatorCell(((D, "73"),), 541, 541, None, None),
            IndicatorCell(((D, "74"),), 915, 915, None, None),
        ),
        ("francetravail",),
        (),
        "2026-07-01T08:00:00Z",
        False,
    )
    commune_rows, departement_rows = rows_of(communes), rows_of(departements)
    values = {
        r.key: float(r.value) for r in [*commune_rows, *departement_rows] if r.value is not None
    }
    drawn = commune_map("map", "Postes", ("73", "74"), commune_rows, departement_rows, values)
    counted = {d.label.split(" — ")[0]: d for d in drawn.dots if d.counted}
    assert set(counted) == {"73065", "74010", "73008"}
    assert counted["73065"].r > counted["74010"].r  # area follows the value
    assert math.isclose((counted["73065"].r - 1.8) ** 2 / (counted["74010"].r - 1.8) ** 2, 100 / 25)
    assert counted["73008"].suppressed and counted["73008"].text == "secret"
    assert counted["74010"].y < counted["73065"].y  # Annecy is north of Chambéry
    assert len(drawn.dots) == 552  # every commune of 73 and 74, counted or not
    outlines = {o.code: o for o in drawn.outlines}
    assert outlines["73"].label == "73 — Savoie" and outlines["74"].text == "915 postes"
    assert outlines["74"].fill != outlines["73"].fill  # the higher, the darker


def test_an_outlier_does_not_stretch_a_departements_outline() -> None:
    square = [(float(x), float(y)) for x in range(10) for y in range(10)]
    far = (100.0, 100.0)  # a namesake's coordinates, elsewhere in France
    assert far not in _hull(_core([*square, far]))
    assert set(_hull(square)) == {(0.0, 0.0), (9.0, 0.0), (9.0, 9.0), (0.0, 9.0)}
    # Without outliers, the core keeps nearly every point: an outline close to the cloud's.
    assert len(_core(square)) >= 0.9 * len(square)


def test_the_pages_templates_and_stylesheet_ship_in_a_non_editable_install() -> None:
    """Every file of the page's folders is matched by the package data a wheel takes
    (``pip install .`` and the image install the wheel, not the checkout)."""
    root = Path(__file__).resolve().parents[2]
    declared = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = declared["tool"]["setuptools"]["package-data"]["gateway"]
    files = [
        path.relative_to(root / "gateway").as_posix()
        for folder in ("templates/observatory", "static/observatory")
        for path in (root / "gateway" / folder).iterdir()
    ]
    assert "templates/observatory/page.html" in files
    assert "static/observatory/observatory.css" in files
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
