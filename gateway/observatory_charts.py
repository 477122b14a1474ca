"""The ``/observatory`` page's charts, laid out server-side: bars with their axis, and the map.

Only geometry is computed here (where each bar, tick, dot and outline goes); the page's template
draws it as inline SVG. Drawn server-side, a chart needs no script and no charting library: it
works offline, reads in any browser (a screen reader reads its ``<title>``, ``<desc>`` and the
data table next to it), and there is nothing to pin or update. Suppressed cells are drawn as a
hatched placeholder of a fixed width with a text mark, never as a bar of some length: a
suppressed cell has no value to draw.

The map places the communes of 73 and 74 at their reference coordinates (an equirectangular
projection corrected for the latitude, right for a territory 150 km across) and outlines each
département by the convex hull of its communes' points: an approximate outline (the hub ships no
boundaries), said so in the legend.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gateway.observatory_view import Row
from observatory.indicators import Dimension
from reference import territory

__all__ = ["Bar", "BarChart", "Dot", "Map", "Outline", "Tick", "bar_chart", "commune_map"]

# Colours: text and axes on white at 4.5:1 or more; series told apart by colour and by label.
_SERIES = ("#1f4e79", "#9c4a00", "#2e6b30", "#6a2c70", "#5a5a5a")
_LABEL_WIDTH = 260
_PLOT_WIDTH = 380
_VALUE_WIDTH = 230
_ROW = 22
_TOP = 10
_AXIS = 40
_PLACEHOLDER = 36  # the hatched mark of a suppressed cell, px


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True, slots=True)
class Bar:
    y: float
    width: float
    label: str
    text: str  # the value, or the suppression mark
    colour: str
    row: Row


@dataclass(frozen=True, slots=True)
class BarChart:
    ident: str
    title: str
    description: str
    width: int
    height: int
    plot_left: int
    plot_width: int
    axis_y: float
    bar_height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    axis_label: str
    series: tuple[tuple[str, str], ...]  # (label, colour), when bars are coloured by a dimension


def _step(top: float) -> float:
    """A round tick step giving at most six ticks up to ``top``."""
    if top <= 0:
        return 1.0
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _tick_text(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def bar_chart(
    ident: str,
    title: str,
    rows: Sequence[Row],
    values: Mapping[str, float],
    reasons: Mapping[str, str],
    axis_label: str,
) -> BarChart:
    """Horizontal bars of the leaf rows (margins are in the table, not drawn); ``values`` holds
    each drawable row's value in the unit shown, by :attr:`Row.key`. With two dimensions the
    bars are coloured by the first (a légende names them)."""
    leaves = [row for row in rows if not row.margin]
    first_nodes = list(dict.fromkeys(row.nodes[0][1] for row in leaves)) if leaves else []
    coloured = bool(leaves) and len(leaves[0].nodes) > 1
    colours = {node: _SERIES[i % len(_SERIES)] for i, node in enumerate(first_nodes)}
    top = max((values[row.key] for row in leaves if row.key in values), default=0.0)
    step = _step(top)
    scale_top = step * math.ceil(top / step) if top > 0 else step
    bars: list[Bar] = []
    for index, row in enumerate(leaves):
        value = values.get(row.key)
        if row.suppressed is not None:
            width, text = float(_PLACEHOLDER), f"secret — {reasons[row.suppressed]}"
        elif value is None:
            width, text = 0.0, "sans valeur"
        else:
            width, text = _PLOT_WIDTH * value / scale_top, row.value_text
        bars.append(
            Bar(
                _TOP + index * _ROW,
                width,
                " · ".join(row.labels),
                text,
                colours[row.nodes[0][1]] if coloured else _SERIES[0],
                row,
            )
        )
    count = round(scale_top / step)
    ticks = tuple(
        Tick(_LABEL_WIDTH + _PLOT_WIDTH * i / count, _tick_text(step * i)) for i in range(count + 1)
    )
    axis_y = _TOP + len(leaves) * _ROW + 4
    series = (
        tuple((row.labels[0], colours[row.nodes[0][1]]) for row in _first_of_each(leaves))
        if coloured
        else ()
    )
    suppressed = sum(row.suppressed is not None for row in leaves)
    description = (
        f"{len(leaves)} barres, de 0 à {_tick_text(scale_top)} ({axis_label})"
        + (f", dont {suppressed} {_secret_cells(suppressed)} (hachurées)" if suppressed else "")
        + ". Les valeurs sont dans le tableau qui suit."
    )
    return BarChart(
        ident,
        title,
        description,
        _LABEL_WIDTH + _PLOT_WIDTH + _VALUE_WIDTH,
        int(axis_y + _AXIS),
        _LABEL_WIDTH,
        _PLOT_WIDTH,
        axis_y,
        _ROW - 6,
        tuple(bars),
        ticks,
        axis_label,
        series,
    )


def _secret_cells(count: int) -> str:
    return "case secrète" if count == 1 else "cases secrètes"


def _first_of_each(rows: Iterable[Row]) -> list[Row]:
    seen: dict[str, Row] = {}
    for row in rows:
        seen.setdefault(row.nodes[0][1], row)
    return list(seen.values())


# -- the map -------------------------------------------------------------------------------------

_MAP_WIDTH = 560
_MAP_MARGIN = 24
_LOW, _HIGH = (0xEE, 0xF4, 0xFB), (0x8F, 0xB8, 0xDE)  # dark text stays at 7:1 on both


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    r: float
    label: str
    text: str
    suppressed: bool
    counted: bool  # the commune has a cell (else: a grey point, nothing counted there)


@dataclass(frozen=True, slots=True)
class Outline:
    code: str
    label: str
    points: str  # an SVG polygon's points
    fill: str
    text: str
    suppressed: bool
    label_x: float
    label_y: float


@dataclass(frozen=True, slots=True)
class Map:
    ident: str
    title: str
    description: str
    width: int
    height: int
    outlines: tuple[Outline, ...]
    dots: tuple[Dot, ...]


def _hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The convex hull (Andrew's monotone chain), counter-clockwise."""
    ordered = sorted(set(points))
    if len(ordered) <= 2:
        return ordered

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in ordered:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(ordered):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _core(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points without their outliers: the reference coordinates of a few communes are a
    namesake's elsewhere in France, which would stretch a hull across the other département.
    Kept: within 1.1 times the 90th percentile of the distances to the median point."""
    if len(points) < 10:
        return list(points)
    mx = statistics.median(p[0] for p in points)
    my = statistics.median(p[1] for p in points)
    distances = sorted(math.dist(p, (mx, my)) for p in points)
    limit = 1.1 * distances[int(0.9 * (len(distances) - 1))]
    return [p for p in points if math.dist(p, (mx, my)) <= limit]


def _blend(share: float) -> str:
    channels = (round(lo + (hi - lo) * share) for lo, hi in zip(_LOW, _HIGH, strict=True))
    return "#" + "".join(f"{c:02x}" for c in channels)


def commune_map(
    ident: str,
    title: str,
    departements: Sequence[str],
    communes: Sequence[Row],
    by_departement: Sequence[Row],
    values: Mapping[str, float],
) -> Map:
    """The communes of ``departements`` as points, sized by their cell of ``communes`` (area
    proportional to the value), and each département outlined and filled by its cell of
    ``by_departement``; ``values`` holds each drawable row's value by :attr:`Row.key`."""
    places = list(territory.communes_in(departements))
    if not places:
        return Map(ident, title, "", _MAP_WIDTH, 100, (), ())
    lat_mid = math.radians(45.75)
    lons = [c.longitude for c in places]
    lats = [c.latitude for c in places]
    x_span = (max(lons) - min(lons)) * math.cos(lat_mid) or 1.0
    k = (_MAP_WIDTH - 2 * _MAP_MARGIN) / x_span
    height = int((max(lats) - min(lats)) * k + 2 * _MAP_MARGIN)

    def at(lon: float, lat: float) -> tuple[float, float]:
        x = _MAP_MARGIN + (lon - min(lons)) * math.cos(lat_mid) * k
        y = _MAP_MARGIN + (max(lats) - lat) * k
        return round(x, 1), round(y, 1)

    cells = {dict(row.nodes).get(Dimension.COMMUNE, ""): row for row in communes if not row.margin}
    top = max((values[row.key] for row in cells.values() if row.key in values), default=0.0)
    dots = []
    for place in places:
        x, y = at(place.longitude, place.latitude)
        row = cells.get(place.insee_code)
        if row is None:
            dots.append(Dot(x, y, 1.2, f"{place.name}", "aucune offre comptée", False, False))
            continue
        value = values.get(row.key)
        secret = row.suppressed is not None
        radius = 4.0 if secret or not value or top <= 0 else 1.8 + 14 * math.sqrt(value / top)
        text = "secret" if secret else row.value_text
        dots.append(
            Dot(x, y, round(radius, 1), f"{place.insee_code} — {place.name}", text, secret, True)
        )
    dots.sort(key=lambda d: -d.r)  # the big ones under the small ones

    levels = {
        dict(row.nodes).get(Dimension.DEPARTEMENT, ""): row
        for row in by_departement
        if not row.margin
    }
    shown = [values[row.key] for row in levels.values() if row.key in values]
    low, high = (min(shown), max(shown)) if shown else (0.0, 0.0)
    outlines = []
    for code in departements:
        hull = _hull(_core([at(c.longitude, c.latitude) for c in places if c.departement == code]))
        if not hull:
            continue
        row = levels.get(code)
        value = values.get(row.key) if row is not None else None
        secret = row is not None and row.suppressed is not None
        share = 0.5 if high == low else ((value or low) - low) / (high - low)
        found = territory.departement(code)
        cx = sum(p[0] for p in hull) / len(hull)
        cy = sum(p[1] for p in hull) / len(hull)
        outlines.append(
            Outline(
                code,
                f"{code} — {found.name if found else code}",
                " ".join(f"{x},{y}" for x, y in hull),
                _blend(share) if value is not None else "#ffffff",
                "secret" if secret else (row.value_text if row is not None else "—"),
                secret,
                round(cx, 1),
                round(cy, 1),
            )
        )
    counted = sum(d.counted for d in dots)
    description = (
        f"{len(places)} communes en points, dont {counted} avec une valeur (la surface du "
        "point est proportionnelle à la valeur); chaque département est teinté selon sa "
        "valeur, plus foncé pour la plus haute. Les valeurs sont dans les tableaux qui suivent."
    )
    return Map(ident, title, description, _MAP_WIDTH, height, tuple(outlines), tuple(dots))
