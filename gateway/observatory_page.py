"""The ``/observatory`` page: the observatory's dashboard of the pilot territory, for a browser.

``GET /observatory`` renders, server-side (Starlette's Jinja2 templates, ``gateway/templates``),
the published cells of :mod:`sources.indicators` as bar charts and a map drawn in SVG
(:mod:`gateway.observatory_charts`), each with its data table; ``GET /observatory/cells.csv``
with the same parameters downloads the cells of those tables (:func:`gateway.observatory_view.
csv_lines`). The filters are a plain GET form (``indicator``, ``group_by``, ``departement``,
``from``, ``to``); with no indicator the page is the dashboard (:data:`DASHBOARD`), with one
it is that indicator by the breakdown chosen among its tables of the grid.

**Access** is /graphql's: a request's ``Authorization`` header gives its principal. A browser
cannot set that header on a link, so ``POST /observatory/access`` takes an access key or token
from a small form and keeps it in an ``HttpOnly``, ``SameSite=Strict`` cookie scoped to
``/observatory`` (``Secure`` outside development), which the page reads as if it were the
header; the credential never goes into a URL. Anonymous visitors see the indicators that count
no person and a message for the others; a refused credential is a 401 page. Every table is
read through :func:`gateway.observatory.read_table`: acting as the principal, and a read of an
indicator counting people (the page's or its CSV's) is a COUNT audit event, or not served.

**Bad input** (an unknown indicator, a month not written YYYY-MM, a breakdown the grid does not
offer) is a 400 page that says what to change, before anything is counted. A partner that fails
makes a partial answer, shown as such next to the chart it concerns. The page references no
URL but its own (its stylesheet is served from the package under ``/observatory/static``) and
runs no script: its Content-Security-Policy says so.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final, Literal

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from gateway.authentication import Identity
from gateway.observatory import read_table
from gateway.observatory_charts import BarChart, Map, bar_chart, commune_map
from gateway.observatory_view import (
    DIMENSION_LABELS,
    Row,
    csv_lines,
    grouping_label,
    indicator_title,
    node_label,
    plain_number,
    reason_labels,
    rows_of,
    scaled,
)
from gateway.settings import Settings
from identity.errors import IdentityUnavailable, Unauthenticated
from identity.principal import Principal
from observatory import Reason
from observatory.indicators import (
    INDICATORS,
    Dimension,
    Indicator,
    IndicatorCode,
    allowed_groupings,
)
from reference import territory
from sources.counting import CountRefused
from sources.indicators import (
    PILOT_DEPARTEMENTS,
    IndicatorError,
    IndicatorRequest,
    Indicators,
    IndicatorTable,
    MonthRange,
)
from store.audit import AuditUnavailable

__all__ = [
    "COOKIE",
    "DASHBOARD",
    "PATH",
    "ObservatoryPage",
    "PageQuery",
    "Panel",
    "draw_chart",
    "parse_query",
    "render_page",
    "routes",
]

PATH: Final = "/observatory"
COOKIE: Final = "hub_observatory"
ASSETS_PATH: Final = f"{PATH}/static"
OPERATION: Final = "observatoryPage"  # the audit trail's operation: a GraphQL-style name
MAX_FORM_BYTES: Final = 16 * 1024  # a token and a few filters

# The dashboard's charts: tension by domain and département, fill rate by centre, placement,
# rupture and time to placement by département, and what employers offer.
DASHBOARD: Final[tuple[tuple[IndicatorCode, tuple[Dimension, ...]], ...]] = (
    (IndicatorCode.TENSION_RATIO, (Dimension.DEPARTEMENT, Dimension.ROME_DOMAIN)),
    (IndicatorCode.FILL_RATE, (Dimension.TRAINING_CENTRE,)),
    (IndicatorCode.PLACEMENT_RATE, (Dimension.DEPARTEMENT,)),
    (IndicatorCode.RUPTURE_RATE, (Dimension.DEPARTEMENT,)),
    (IndicatorCode.TIME_TO_PLACEMENT, (Dimension.DEPARTEMENT,)),
    (IndicatorCode.POSITIONS_OPEN, (Dimension.ROME_DOMAIN,)),
    (IndicatorCode.OFFERS_ACTIVE, (Dimension.DEPARTEMENT,)),
)
# The breakdown an indicator opens with when none is chosen: its first in this order.
_PREFERRED: Final = (
    (Dimension.DEPARTEMENT, Dimension.ROME_DOMAIN),
    (Dimension.TRAINING_CENTRE,),
    (Dimension.DEPARTEMENT,),
)
_TOTAL_PARAM: Final = "TOTAL"

# No script at all; the stylesheet is the page's own; forms post to the page only.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

log = logging.getLogger("alternance_hub.observatory")

_templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.PackageLoader("gateway", "templates"),
        autoescape=jinja2.select_autoescape(("html",)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)


class BadQuery(ValueError):
    """A filter the page cannot use; its message says what to change (no value echoed)."""


# -- the filters ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageQuery:
    """What the filters ask for: one indicator by one breakdown (``code`` None: the
    dashboard), for some départements (empty: both), over whole months."""

    code: IndicatorCode | None
    group_by: tuple[Dimension, ...]
    departements: tuple[str, ...]
    months: MonthRange

    def params(self) -> dict[str, str]:
        """The query string of this view (the CSV link, the form's return address)."""
        out = {"from": f"{self.months.first:%Y-%m}", "to": f"{self.months.last:%Y-%m}"}
        if self.code is not None:
            out["indicator"] = self.code
            out["group_by"] = ",".join(d.name for d in self.group_by) or _TOTAL_PARAM
        if self.departements:
            out["departement"] = ",".join(self.departements)
        return out


def default_grouping(code: IndicatorCode) -> tuple[Dimension, ...]:
    offered = allowed_groupings(code)
    for grouping in _PREFERRED:
        if grouping in offered:
            return grouping
    return next((g for g in offered if g), ())


def _grouping(text: str) -> tuple[Dimension, ...]:
    if text == _TOTAL_PARAM:
        return ()
    try:
        return tuple(Dimension[name] for name in text.split(","))
    except KeyError:
        raise BadQuery(
            "une ventilation se choisit dans la liste (codes DEPARTEMENT, ...)"
        ) from None


def parse_query(params: Mapping[str, str], today: date) -> PageQuery:
    """The filters of a request, checked; raises :class:`BadQuery` or :class:`IndicatorError`.

    ``shown`` is the indicator the form was drawn for: when the indicator changed, the
    breakdown chosen for the previous one is dropped for the new one's default."""
    code: IndicatorCode | None = None
    wanted = params.get("indicator", "").strip()
    if wanted:
        try:
            code = IndicatorCode(wanted)
        except ValueError:
            raise BadQuery("indicateur inconnu : choisissez-en un dans la liste") from None
    departements: tuple[str, ...] = ()
    place = params.get("departement", "").strip()
    if place:
        departements = tuple(sorted(set(place.split(","))))
        if not set(departements) <= set(PILOT_DEPARTEMENTS):
            raise BadQuery(
                "l'observatoire couvre les départements 73 (Savoie) et 74 (Haute-Savoie)"
            )
    default = MonthRange.last_twelve(today)
    first = params.get("from", "").strip() or f"{default.first:%Y-%m}"
    last = params.get("to", "").strip() or f"{default.last:%Y-%m}"
    months = MonthRange.of(first, last)  # IndicatorError: a month is written YYYY-MM...
    chosen = params.get("group_by", "").strip()
    if code is None:
        if chosen:
            raise BadQuery("une ventilation s'applique à un indicateur : choisissez-en un")
        return PageQuery(None, (), departements, months)
    shown = params.get("shown", "").strip()
    if not chosen or (shown and shown != code):
        group_by = default_grouping(code)
        if departements and Dimension.DEPARTEMENT not in group_by:
            offered = [g for g in allowed_groupings(code) if Dimension.DEPARTEMENT in g]
            group_by = offered[0] if offered else group_by
    else:
        group_by = _grouping(chosen)
    query = PageQuery(code, group_by, departements, months)
    IndicatorRequest(code, group_by, months, departements).table_grouping()  # offered?
    return query


# -- reading the tables --------------------------------------------------------------------------


@dataclass
class Panel:
    """One chart of the page and its table, or why it has none."""

    ident: str
    indicator: Indicator
    grouping: tuple[Dimension, ...]
    table: IndicatorTable | None = None
    rows: list[Row] = field(default_factory=list)
    chart: BarChart | None = None
    notice: str | None = None
    notice_kind: Literal["access", "unavailable", "territory", ""] = ""

    @property
    def title(self) -> str:
        return indicator_title(self.indicator)

    @property
    def grouping_label(self) -> str:
        return grouping_label(self.table.grouping if self.table else self.grouping)

    @property
    def columns(self) -> list[str]:
        grouping = self.table.grouping if self.table else self.grouping
        return [DIMENSION_LABELS[d] for d in grouping]


@dataclass(frozen=True, slots=True)
class Reader:
    """Who the page's reads act for, and the gateway state they read through
    (:func:`gateway.observatory.read_table`: scoped to the principal, audited, fail closed)."""

    state: Any
    principal: Principal | None

    async def table(self, request: IndicatorRequest) -> IndicatorTable:
        return await read_table(self.state, self.principal, request, operation=OPERATION)


def _access_notice(indicator: Indicator, principal: Principal | None) -> str:
    if principal is None:
        return (
            f"{indicator.label} compte des jeunes : réservé aux analystes de l'observatoire. "
            "Saisissez votre clé d'accès (formulaire « Accès ») pour le voir."
        )
    return (
        f"{indicator.label} compte des jeunes : votre accès ne le permet pas "
        "(il faut celui de l'observatoire)."
    )


async def _panel(
    reader: Reader,
    ident: str,
    code: IndicatorCode,
    group_by: tuple[Dimension, ...],
    query: PageQuery,
    *,
    strict: bool,
) -> Panel:
    """A panel of the page. ``strict`` (the indicator the filters chose): a breakdown the grid
    does not offer is the request's error; on the dashboard it is a notice."""
    indicator = INDICATORS[code]
    panel = Panel(ident, indicator, group_by)
    request = IndicatorRequest(code, group_by, query.months, query.departements)
    try:
        request.table_grouping()
    except IndicatorError:
        if strict:
            raise
        panel.notice_kind = "territory"
        panel.notice = "Pas de ventilation par département : choisissez tout le territoire."
        return panel
    try:
        table = await reader.table(request)
    except CountRefused:
        panel.notice_kind, panel.notice = "access", _access_notice(indicator, reader.principal)
        return panel
    except AuditUnavailable:
        log.error("audit trail unavailable: an observatory table was withheld")
        panel.notice_kind = "unavailable"
        panel.notice = "Le journal d'audit ne peut pas être écrit : réessayez plus tard."
        return panel
    except IndicatorError:
        raise
    except ValueError as error:
        # The owners cannot count this measure by these dimensions (yet), or the gateway is
        # not configured to: said on the panel, not hidden.
        log.warning("indicator not counted", extra={"indicator": str(code)})
        panel.notice_kind = "unavailable"
        panel.notice = f"Cet indicateur ne peut pas être compté pour l'instant ({error})."
        return panel
    panel.table = table
    panel.rows = rows_of(table)
    return panel


def _values(indicator: Indicator, rows: Sequence[Row]) -> dict[str, float]:
    return {
        row.key: scaled(indicator, row.value)
        for row in rows
        if row.value is not None and row.suppressed is None
    }


def draw_chart(panel: Panel, reasons: Mapping[Any, str]) -> None:
    """Lay out the panel's bar chart from its rows (none when it has no leaf to draw)."""
    if panel.table is None or not any(not row.margin for row in panel.rows):
        return
    unit = panel.indicator.unit_label
    panel.chart = bar_chart(
        f"chart-{panel.ident}",
        f"{panel.title}, par {panel.grouping_label.lower()}",
        panel.rows,
        _values(panel.indicator, panel.rows),
        reasons,
        unit,
    )


@dataclass
class MapView:
    """The map and the two tables it draws: communes, départements."""

    drawing: Map | None
    communes: Panel
    departements: Panel


async def _map(reader: Reader, query: PageQuery) -> MapView:
    # Offers and positions are counts of positions, anybody's: the map is always shown. The
    # commune table is the grid's (COMMUNE,), kept to the départements asked for here, by the
    # reference territory: a territory never makes a new table.
    code = IndicatorCode.OFFERS_ACTIVE if query.code is IndicatorCode.OFFERS_ACTIVE else None
    code = code or IndicatorCode.POSITIONS_OPEN
    everywhere = PageQuery(code, (), (), query.months)
    communes, departements = await asyncio.gather(
        _panel(reader, "map-communes", code, (Dimension.COMMUNE,), everywhere, strict=False),
        _panel(
            reader, "map-departements", code, (Dimension.DEPARTEMENT,), everywhere, strict=False
        ),
    )
    places = query.departements or PILOT_DEPARTEMENTS
    for panel, dimension in ((communes, Dimension.COMMUNE), (departements, Dimension.DEPARTEMENT)):
        if panel.table is None:
            continue
        # Filtered to some départements, a total of the pilot territory is not theirs.
        kept = [
            cell
            for cell in panel.table.cells
            if not query.departements or _departement_of(dimension, cell.at(dimension)) in places
        ]
        panel.rows = rows_of(panel.table, kept)
    drawing = None
    if communes.table is not None and departements.table is not None:
        indicator = INDICATORS[code]
        drawing = commune_map(
            "map",
            f"{indicator_title(indicator)} par commune et par département",
            places,
            communes.rows,
            departements.rows,
            _values(indicator, [*communes.rows, *departements.rows]),
        )
    return MapView(drawing, communes, departements)


def _departement_of(dimension: Dimension, node: str) -> str:
    if dimension is Dimension.DEPARTEMENT:
        return node
    found = territory.commune(node)
    return found.departement if found else ""


async def _panels(reader: Reader, query: PageQuery) -> list[Panel]:
    wanted = list(DASHBOARD) if query.code is None else [(query.code, query.group_by)]
    return list(
        await asyncio.gather(
            *(
                _panel(reader, str(i), code, group_by, query, strict=query.code is not None)
                for i, (code, group_by) in enumerate(wanted, 1)
            )
        )
    )


# -- access --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Access:
    principal: Principal | None
    via_cookie: bool
    refused: Literal["", "invalid", "unavailable"] = ""


async def _access(request: Request, identity: Identity) -> Access:
    """The principal of the request's ``Authorization`` header, else of the page's cookie."""
    header = request.headers.get("authorization")
    cookie = request.cookies.get(COOKIE)
    credential = header if header is not None else (f"Bearer {cookie}" if cookie else None)
    try:
        principal = await identity.authenticator.authenticate(credential)
    except Unauthenticated as error:
        log.info("observatory credential refused", extra={"check": error.check})
        return Access(None, header is None, "invalid")
    except IdentityUnavailable as error:
        log.warning("observatory credential not checked", extra={"check": error.check})
        return Access(None, header is None, "unavailable")
    return Access(principal, header is None and cookie is not None)


# -- responses -----------------------------------------------------------------------------------


def _headers() -> dict[str, str]:
    return {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "cache-control": "no-store",  # an analyst's cells are theirs, not a shared cache's
        # same-origin, not no-referrer: with no-referrer a form post's Origin is "null".
        "referrer-policy": "same-origin",
        "x-content-type-options": "nosniff",
    }


def _form_options(query: PageQuery | None) -> dict[str, Any]:
    code = query.code if query is not None else None
    groupings = allowed_groupings(code) if code is not None else []
    return {
        "indicators": [(c.value, indicator_title(INDICATORS[c])) for c in IndicatorCode],
        "groupings": [
            (",".join(d.name for d in g) or _TOTAL_PARAM, grouping_label(g)) for g in groupings
        ],
        "departements": [(d, node_label(Dimension.DEPARTEMENT, d)) for d in PILOT_DEPARTEMENTS],
    }


def render_page(
    request: Request,
    status: int,
    *,
    reasons: Mapping[Reason, str],
    query: PageQuery | None,
    params: Mapping[str, str],
    access: Access,
    panels: Sequence[Panel] = (),
    map_view: MapView | None = None,
    message: str | None = None,
) -> Response:
    """The page (or its error page, with ``message``) for what was read."""
    root = request.scope.get("root_path", "")
    base = f"{root}{PATH}"
    shown = query.params() if query is not None else {}
    context = {
        "base": base,
        "assets": f"{root}{ASSETS_PATH}",
        "query": query,
        "params": params,
        "form": _form_options(query),
        "access": access,
        "panels": panels,
        "map": map_view,
        "message": message,
        "reasons": reasons,
        "csv_href": f"{base}/cells.csv?{urllib.parse.urlencode(shown)}" if query else "",
        "return_to": urllib.parse.urlencode(shown),
        "plain": plain_number,
        "failures": _failures([*panels, *_map_panels(map_view)]),
    }
    response = _templates.TemplateResponse(
        request, "observatory/page.html", context, status_code=status, headers=_headers()
    )
    if access.refused == "invalid" and access.via_cookie:
        _forget(response, request)
    return response


@dataclass
class _View:
    """One request's read of the page: what was shown, or why not. ``message``: a refused
    credential or a bad filter (nothing read); ``refusal``: the indicator chosen needs a
    credential this one is not (the page still shows the rest, its CSV is refused)."""

    access: Access
    params: dict[str, str]
    query: PageQuery | None = None
    panels: list[Panel] = field(default_factory=list)
    map_view: MapView | None = None
    status: int = 200
    message: str | None = None
    refusal: str | None = None


class ObservatoryPage:
    """The page's endpoints over one gateway's indicators and identity."""

    def __init__(self, indicators: Indicators, identity: Identity, settings: Settings) -> None:
        self.identity = identity
        self.settings = settings
        self.reasons = reason_labels(indicators.rules)

    def render(self, request: Request, status: int, **parts: Any) -> Response:
        return render_page(request, status, reasons=self.reasons, **parts)

    async def _read(self, request: Request) -> _View:
        """What the page and its CSV both show: the access, the filters checked, then every
        panel and the map read; or the refusal or bad filter that stopped it."""
        access = await _access(request, self.identity)
        params = dict(request.query_params)
        if access.refused:
            status, text = _refusal(access)
            return _View(access, params, status=status, message=text)
        try:
            query = parse_query(params, datetime.now(UTC).date())
        except (BadQuery, IndicatorError) as error:
            return _View(access, params, status=400, message=_bad(error))
        reader = Reader(request.app.state, access.principal)
        try:
            panels, map_view = await asyncio.gather(_panels(reader, query), _map(reader, query))
        except IndicatorError as error:
            return _View(access, params, query, status=400, message=_bad(error))
        view = _View(access, params, query, panels, map_view)
        if query.code is not None and panels[0].notice_kind == "access":
            view.status, view.refusal = 403, panels[0].notice or ""
        return view

    async def page(self, request: Request) -> Response:
        view = await self._read(request)
        if view.message is not None:
            return self.render(
                request,
                view.status,
                query=view.query,
                params=view.params,
                access=view.access,
                message=view.message,
            )
        for panel in view.panels:
            draw_chart(panel, self.reasons)
        return self.render(
            request,
            view.status,
            query=view.query,
            params=view.params,
            access=view.access,
            panels=view.panels,
            map_view=view.map_view,
        )

    async def cells_csv(self, request: Request) -> Response:
        view = await self._read(request)
        if view.message is not None:
            return _text(view.status, view.message)
        if view.refusal is not None:
            return _text(view.status, view.refusal)
        assert view.query is not None  # read whole: its filters were checked
        shown = [
            (p.table, p.rows)
            for p in [*view.panels, *_map_panels(view.map_view)]
            if p.table is not None
        ]
        months = view.query.months
        name = f"observatoire-{months.first:%Y-%m}-{months.last:%Y-%m}.csv"
        return Response(
            csv_lines(shown),
            media_type="text/csv; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="{name}"',
                "cache-control": "no-store",
                "x-content-type-options": "nosniff",
            },
        )

    async def enter(self, request: Request) -> Response:
        """The access form: keeps the credential in the page's cookie, or forgets it."""
        if not _same_origin(request):
            return _text(403, "ce formulaire s'envoie depuis la page de l'observatoire")
        if request.headers.get("content-type", "").split(";")[0].strip() != (
            "application/x-www-form-urlencoded"
        ):
            return _text(415, "le formulaire s'envoie en application/x-www-form-urlencoded")
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return _text(413, "formulaire trop long")
        try:
            form = dict(urllib.parse.parse_qsl(body.decode("utf-8"), max_num_fields=8))
        except (UnicodeDecodeError, ValueError):
            return _text(400, "formulaire illisible")
        back = _return_address(request, form.get("return", ""))
        if form.get("action") == "forget":
            response: Response = RedirectResponse(back, 303)
            _forget(response, request)
            return response
        token = form.get("token", "").strip()
        if not token or any(c.isspace() for c in token):
            access = Access(None, False, "invalid")
            return self.render(
                request,
                400,
                query=None,
                params={},
                access=access,
                message="Saisissez une clé d'accès ou un jeton, sans espace.",
            )
        try:
            principal = await self.identity.authenticator.authenticate(f"Bearer {token}")
        except Unauthenticated as error:
            log.info("observatory credential refused", extra={"check": error.check})
            access = Access(None, False, "invalid")
            status, text = _refusal(access)
            return self.render(request, status, query=None, params={}, access=access, message=text)
        except IdentityUnavailable:
            access = Access(None, False, "unavailable")
            status, text = _refusal(access)
            return self.render(request, status, query=None, params={}, access=access, message=text)
        response = RedirectResponse(back, 303)
        response.set_cookie(
            COOKIE,
            token,
            path=_cookie_path(request),
            httponly=True,
            samesite="strict",
            secure=not self.settings.development,
        )
        log.info(
            "observatory access kept", extra={"role": str(principal.role) if principal else ""}
        )
        return response


def _map_panels(map_view: MapView | None) -> list[Panel]:
    return [] if map_view is None else [map_view.communes, map_view.departements]


def _failures(panels: Sequence[Panel]) -> list[tuple[str, str, str]]:
    seen: dict[tuple[str, str, str], None] = {}
    for panel in panels:
        if panel.table is not None:
            for failure in panel.table.failures:
                seen[(failure.partner, failure.code, failure.message)] = None
    return list(seen)


def _refusal(access: Access) -> tuple[int, str]:
    if access.refused == "unavailable":
        return 503, "La clé n'a pas pu être vérifiée pour l'instant : réessayez dans un moment."
    where = "enregistrée sur cette page" if access.via_cookie else "envoyée (Authorization)"
    return (
        401,
        f"Clé d'accès refusée : la clé {where} n'est pas valable (expirée, révoquée ou mal "
        "copiée). Saisissez-en une autre, ou continuez sans clé pour les indicateurs publics.",
    )


def _bad(error: Exception) -> str:
    return f"Filtre impossible : {error}."


def _text(status: int, text: str) -> Response:
    return Response(
        text + "\n",
        status,
        media_type="text/plain; charset=utf-8",
        headers={"cache-control": "no-store", "x-content-type-options": "nosniff"},
    )


def _cookie_path(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}{PATH}"


def _forget(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path=_cookie_path(request), httponly=True, samesite="strict")


def _same_origin(request: Request) -> bool:
    """A cross-site form cannot plant a credential (login CSRF): the browser's Origin and
    Sec-Fetch-Site, when sent, must be the page's own."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


_FILTERS: Final = ("indicator", "group_by", "departement", "from", "to")


def _return_address(request: Request, wanted: str) -> str:
    """Back to the page with its filters; only the filters' names are kept (never an address
    of the form's choosing)."""
    kept = {k: v for k, v in urllib.parse.parse_qsl(wanted) if k in _FILTERS}
    tail = f"?{urllib.parse.urlencode(kept)}" if kept else ""
    return f"{_cookie_path(request)}{tail}"


def routes(indicators: Indicators, identity: Identity, settings: Settings) -> list[BaseRoute]:
    """The page, its CSV, its access form and its stylesheet (on in every setting: the page is
    for decision makers; what counts people needs the credential all the same). Tables are
    read through the app's state (``indicators``, ``identity``, ``stores``)."""
    page = ObservatoryPage(indicators, identity, settings)
    return [
        Route(PATH, page.page, methods=["GET"]),
        Route(f"{PATH}/cells.csv", page.cells_csv, methods=["GET"]),
        Route(f"{PATH}/access", page.enter, methods=["POST"]),
        Mount(
            ASSETS_PATH,
            app=StaticFiles(packages=[("gateway", "static/observatory")]),
            name="observatory-static",
        ),
    ]
