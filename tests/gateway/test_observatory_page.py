"""``GET /observatory`` and its CSV over HTTP (issue 9, item 6): the gateway with every demo
partner and the demo's identity provider, in-process (tests/gateway/observatorykit.py).

What is asserted comes from the page's own tables and the engine's published cells: the charts
draw the cells of the tables, the CSV holds the same cells, a filter changes them, bad input is
a 400 before any partner is asked, a failing partner is a partial answer said as such, and the
credential is honoured from a header or from the page's cookie, never from a URL.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters import acting
from observatory.indicators import Dimension, IndicatorCode
from sources.indicators import IndicatorRequest, MonthRange
from tests.gateway.observatorykit import (
    ObservatoryHub,
    csv_rows,
    observatory_hub,
    outside_urls,
    same_key,
    table_rows,
)


@pytest.fixture
async def gateway(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[ObservatoryHub]:
    found = await observatory_hub(monkeypatch, tmp_path)
    yield found
    await found.aclose()


def bars(html: str) -> set[str]:
    """The cells the bar charts draw, by key."""
    return set(re.findall(r'<g class="bar[^"]*" data-key="([^"]+)"', html))


async def test_the_dashboard_draws_public_indicators_and_says_which_need_the_key(
    gateway: ObservatoryHub,
) -> None:
    response = await gateway.hub.client.get("/observatory")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="fr">' in html
    assert "<title>Observatoire de l'alternance" in html
    # Charts drawn server-side: SVG with their title and description, for every public panel.
    assert html.count('<svg role="img"') >= 3
    assert html.count("<desc id=") == html.count('<svg role="img"')
    assert "Postes ouverts (POSITIONS_OPEN)" in html
    assert "Taux de placement (PLACEMENT_RATE)" in html
    drawn = bars(html)
    assert any(key.startswith("POSITIONS_OPEN|ROME_DOMAIN=") for key in drawn)
    # The anonymous visitor is told what needs the observatory's key, not shown a count of it.
    assert "Taux de placement compte des jeunes : réservé aux analystes" in html
    assert not any(row.key.startswith("PLACEMENT_RATE") for row in table_rows(html))
    # No script, nothing from elsewhere: the page works offline.
    assert "<script" not in html
    assert outside_urls(html) == []
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert response.headers["cache-control"] == "no-store"
    style = await gateway.hub.client.get("/observatory/static/observatory.css")
    assert style.status_code == 200 and ":focus-visible" in style.text


async def test_each_bar_is_a_row_of_its_table_with_the_engines_value(
    gateway: ObservatoryHub,
) -> None:
    response = await gateway.hub.client.get(
        "/observatory", params={"indicator": "POSITIONS_OPEN", "group_by": "DEPARTEMENT"}
    )
    assert response.status_code == 200
    rows = {row.key: row for row in table_rows(response.text)}
    months = MonthRange.last_twelve(datetime.now(UTC).date())
    with acting.scoped(None, None):
        table = await gateway.hub.app.state.indicators.table(
            IndicatorRequest(IndicatorCode.POSITIONS_OPEN, (Dimension.DEPARTEMENT,), months)
        )
    for cell in table.cells:
        row = rows[f"POSITIONS_OPEN|DEPARTEMENT={cell.at(Dimension.DEPARTEMENT)}"]
        assert row.value == str(cell.value)
    assert rows["POSITIONS_OPEN|DEPARTEMENT=73"].text.startswith("73 — Savoie")
    assert "POSITIONS_OPEN|DEPARTEMENT=73" in bars(response.text)
    assert "POSITIONS_OPEN|DEPARTEMENT=*" not in bars(response.text)  # the total: table only


async def test_a_filter_changes_the_charts(gateway: ObservatoryHub) -> None:
    client = gateway.hub.client
    by_place = await client.get(
        "/observatory", params={"indicator": "POSITIONS_OPEN", "group_by": "DEPARTEMENT"}
    )
    by_domain = await client.get(
        "/observatory", params={"indicator": "POSITIONS_OPEN", "group_by": "ROME_DOMAIN"}
    )
    assert bars(by_place.text) == {"POSITIONS_OPEN|DEPARTEMENT=73", "POSITIONS_OPEN|DEPARTEMENT=74"}
    assert bars(by_domain.text) and all("ROME_DOMAIN=" in key for key in bars(by_domain.text))

    savoie = await client.get(
        "/observatory",
        params={"indicator": "POSITIONS_OPEN", "group_by": "ROME_DOMAIN", "departement": "73"},
    )
    assert savoie.status_code == 200
    drawn = bars(savoie.text)
    assert drawn and all("DEPARTEMENT=73|" in key for key in drawn)
    # The map keeps to Savoie too: its commune rows are all of 73.
    communes = [row for row in table_rows(savoie.text) if "COMMUNE=" in row.key]
    assert communes and all(row.key.split("COMMUNE=")[1].startswith("73") for row in communes)
    assert 'data-departement="74"' not in savoie.text

    # The breakdown chosen for another indicator is dropped for the new one's default.
    changed = await client.get(
        "/observatory",
        params={"indicator": "OFFERS_ACTIVE", "group_by": "MONTH", "shown": "OFFERS_ACTIVE"},
    )
    months = bars(changed.text)
    assert months and all("|MONTH=" in key for key in months)
    other = await client.get(
        "/observatory",
        params={"indicator": "TRAINING_CAPACITY", "group_by": "MONTH", "shown": "OFFERS_ACTIVE"},
    )
    assert other.status_code == 200
    assert not any("MONTH=" in key for key in bars(other.text))


async def test_the_csv_holds_the_cells_of_the_pages_tables(gateway: ObservatoryHub) -> None:
    client = gateway.hub.client
    for params in (
        {},
        {"indicator": "OFFERS_ACTIVE", "group_by": "DEPARTEMENT,ROME_DOMAIN"},
        {"indicator": "POSITIONS_OPEN", "group_by": "ROME_DOMAIN", "departement": "74"},
    ):
        page = await client.get("/observatory", params=params)
        download = await client.get("/observatory/cells.csv", params=params)
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/csv")
        assert download.headers["content-disposition"].startswith("attachment; filename=")
        shown = {
            (same_key(r.key), r.value, r.numerator, r.denominator, r.suppressed)
            for r in table_rows(page.text)
        }
        listed = [
            (same_key(r.key), r.value, r.numerator, r.denominator, r.suppressed)
            for r in csv_rows(download.text)
        ]
        assert shown and len(listed) == len(set(listed)) == len(shown)
        assert set(listed) == shown
    header = download.text.splitlines()[0].split(",")
    assert header[0] == "indicator" and header[-6:] == [
        "value",
        "numerator",
        "denominator",
        "suppressed",
        "partners",
        "computed_at",
    ]
    # The page links to the CSV of what it shows, with the same filters.
    link = re.search(r'class="download" href="([^"]+)"', page.text)
    assert link is not None
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link[1].replace("&amp;", "&")).query))
    assert query["indicator"] == "POSITIONS_OPEN" and query["departement"] == "74"


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"indicator": "NOT_AN_INDICATOR"}, "indicateur inconnu"),
        ({"from": "2026-13"}, "a month is written YYYY-MM"),
        ({"from": "2026-06", "to": "2026-01"}, "not before its first"),
        ({"indicator": "TENSION_RATIO", "group_by": "LEVEL"}, "is not offered by LEVEL"),
        ({"indicator": "OFFERS_ACTIVE", "group_by": "NOWHERE"}, "une ventilation"),
        ({"departement": "38"}, "départements 73 (Savoie) et 74"),
        ({"group_by": "DEPARTEMENT"}, "choisissez-en un"),
    ],
)
async def test_bad_input_is_a_400_page_and_nothing_is_counted(
    gateway: ObservatoryHub, params: dict[str, str], said: str
) -> None:
    before = gateway.hub.all_calls()
    response = await gateway.hub.client.get("/observatory", params=params)
    assert response.status_code == 400
    assert said in response.text
    assert 'role="alert"' in response.text and '<svg role="img"' not in response.text
    message = response.text.split('role="alert"')[1].split("</div>")[0]
    for free_text in ("NOT_AN_INDICATOR", "2026-13", "NOWHERE", "38"):  # never echoed
        assert free_text not in message
    download = await gateway.hub.client.get("/observatory/cells.csv", params=params)
    assert download.status_code == 400 and said in download.text
    assert gateway.hub.all_calls() == before


async def test_a_failing_partner_is_a_partial_answer_marked_on_the_page(
    gateway: ObservatoryHub,
) -> None:
    gateway.hub.faults["francetravail"].set("unavailable")
    response = await gateway.hub.client.get(
        "/observatory", params={"indicator": "POSITIONS_OPEN", "group_by": "DEPARTEMENT"}
    )
    assert response.status_code == 200
    html = response.text
    assert "Réponse partielle" in html
    assert "<code>francetravail</code>" in html
    assert bars(html)  # what the other partners published is still drawn
    sources = re.findall(r'<p class="sources">Sources : ([^·]+)·', html)
    assert sources and all("francetravail" not in s for s in sources)


async def test_anonymous_visitors_are_told_what_needs_the_key(gateway: ObservatoryHub) -> None:
    client = gateway.hub.client
    response = await client.get("/observatory", params={"indicator": "PLACEMENT_RATE"})
    assert response.status_code == 403
    assert "réservé aux analystes de l&#39;observatoire" in response.text
    assert 'name="token" type="password"' in response.text
    download = await client.get("/observatory/cells.csv", params={"indicator": "PLACEMENT_RATE"})
    assert download.status_code == 403


async def test_a_refused_credential_is_a_401_with_a_clear_message(
    gateway: ObservatoryHub,
) -> None:
    client = gateway.hub.client
    response = await client.get("/observatory", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert "Clé d&#39;accès refusée" in response.text
    assert "not-a-token" not in response.text
    download = await client.get(
        "/observatory/cells.csv", headers={"Authorization": "Bearer not-a-token"}
    )
    assert download.status_code == 401


async def test_the_access_form_keeps_the_key_in_a_strict_cookie_of_the_page(
    gateway: ObservatoryHub,
) -> None:
    client = gateway.hub.client
    token = gateway.token("OBSERVATORY")
    back = "indicator=POSITIONS_OPEN&group_by=DEPARTEMENT&next=//evil.example"
    entered = await client.post(
        "/observatory/access",
        data={"token": token, "return": back},
        headers={"origin": "http://hub.test"},
    )
    assert entered.status_code == 303
    location = entered.headers["location"]
    assert location == "/observatory?indicator=POSITIONS_OPEN&group_by=DEPARTEMENT"
    assert token not in location
    cookie = entered.headers["set-cookie"]
    assert cookie.startswith(f"hub_observatory={token};")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/observatory"} <= attributes
    assert "secure" not in attributes  # development: the demo is plain http on 127.0.0.1

    page = await client.get(location)
    assert page.status_code == 200
    assert "le rôle <strong>OBSERVATORY</strong>" in page.text
    assert token not in page.text
    dashboard = await client.get("/observatory")
    assert "réservé aux analystes" not in dashboard.text

    forgotten = await client.post("/observatory/access", data={"action": "forget", "return": ""})
    assert forgotten.status_code == 303
    assert 'hub_observatory=""' in forgotten.headers["set-cookie"]
    assert "réservé aux analystes" in (await client.get("/observatory")).text


async def test_the_access_form_refuses_a_bad_key_and_a_cross_site_post(
    gateway: ObservatoryHub,
) -> None:
    client = gateway.hub.client
    refused = await client.post("/observatory/access", data={"token": "not-a-token"})
    assert refused.status_code == 401
    assert "Clé d&#39;accès refusée" in refused.text and "set-cookie" not in refused.headers
    planted = await client.post(
        "/observatory/access",
        data={"token": gateway.token("OBSERVATORY")},
        headers={"origin": "http://elsewhere.example"},
    )
    assert planted.status_code == 403 and "set-cookie" not in planted.headers
    # A key kept earlier that is no longer valid: said, and forgotten.
    client.cookies.set("hub_observatory", "expired-token", path="/observatory")
    stale = await client.get("/observatory")
    assert stale.status_code == 401
    assert "la clé enregistrée sur cette page n&#39;est pas valable" in stale.text
    assert 'hub_observatory=""' in stale.headers["set-cookie"]


async def test_in_production_the_page_stays_on_and_the_cookie_is_secure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Production is given the record-key secret (without it the engine counts nothing).
    found = await observatory_hub(
        monkeypatch, tmp_path, development=False, observatory_key_secret="k" * 32
    )
    try:
        client = found.hub.client
        page = await client.get("/observatory")
        assert page.status_code == 200 and bars(page.text)
        assert (await client.get("/graphql")).status_code == 405  # no GraphiQL there
        entered = await client.post(
            "/observatory/access", data={"token": found.token("OBSERVATORY")}
        )
        assert entered.status_code == 303
        assert "secure" in {p.strip().lower() for p in entered.headers["set-cookie"].split(";")}
    finally:
        await found.aclose()


async def test_the_observatorys_key_shows_cells_of_people_with_their_secrets_marked(
    gateway: ObservatoryHub,
) -> None:
    client = gateway.hub.client
    headers = gateway.bearer("OBSERVATORY")
    response = await client.get("/observatory", headers=headers)
    assert response.status_code == 200
    html = response.text
    assert "réservé aux analystes" not in html
    rows = table_rows(html)
    people = [row for row in rows if row.key.startswith(("TENSION_RATIO", "PLACEMENT_RATE"))]
    assert people, "the dashboard shows the indicators that count people"
    secret = [row for row in rows if row.suppressed]
    assert secret, "the demo's data leave some cells under the thresholds"
    assert {row.suppressed for row in secret} <= {"PRIMARY", "SECONDARY", "RATE_DENOMINATOR"}
    for row in secret:  # no value, and the reason said in words on the row
        assert row.value == ""
        assert "secret" in row.text and "(" in row.text
    said = {
        "PRIMARY": "moins de 11 jeunes",
        "SECONDARY": "protège une autre case",
        "RATE_DENOMINATOR": "moins de 20",
    }
    for row in secret:
        assert said[row.suppressed] in row.text
    # Each suppressed leaf is drawn hatched, never as a bar of some length.
    hatched = re.findall(
        r'<g class="bar suppressed" data-key="([^"]+)">.*?fill="url\(#chart-[^"]+-hatch\)"',
        html,
        re.S,
    )
    leaves = {row.key for row in secret if "=*" not in row.key}
    assert leaves and set(hatched) == leaves & bars(html)
    # The CSV of the same view: the same cells, the same secrets.
    download = await client.get("/observatory/cells.csv", headers=headers)
    listed = {(same_key(r.key), r.value, r.suppressed) for r in csv_rows(download.text)}
    assert listed == {(same_key(r.key), r.value, r.suppressed) for r in rows}


async def test_each_read_of_an_indicator_of_people_is_an_audit_event_without_values(
    gateway: ObservatoryHub,
) -> None:
    response = await gateway.hub.client.get(
        "/observatory",
        params={"indicator": "PLACEMENT_RATE", "group_by": "DEPARTEMENT"},
        headers=gateway.bearer("OBSERVATORY"),
    )
    assert response.status_code == 200
    values = {row.value for row in table_rows(response.text) if row.value}
    events = (await gateway.hub.app.state.stores.audit.page()).events
    counts = [e for e in events if e.action == "COUNT"]
    assert [e.operation for e in counts] == ["observatoryPage"]
    (event,) = counts
    assert event.role == "OBSERVATORY" and event.entity == "indicator"
    assert event.detail is not None and event.detail.startswith("PLACEMENT_RATE by=departement")
    assert not any(value in event.detail for value in values if len(value) > 2)
    # The map's offers and positions count no person: no event of them.
    assert all("POSITIONS_OPEN" not in (e.detail or "") for e in events)
