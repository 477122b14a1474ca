"""The ``/observatory`` page in a real headless Chromium: what a decision maker opens.

The gateway runs every demo partner and the demo's identity provider
(tests/gateway/observatorykit.py) on a real loopback port; the page is driven over DevTools:
its charts render as SVG with no console error and nothing loaded from elsewhere, the filters
are reached with the keyboard and change the charts, suppressed cells are marked, the CSV the
page links to holds the cells its tables show (fetched by the page itself, with its cookie),
and the access key typed into the form is kept where no script and no URL can read it.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.browser.devtools import Page, headless_chromium
from tests.browser.loopback import served_on_loopback
from tests.gateway.observatorykit import ObservatoryHub, csv_rows, observatory_hub, same_key


@dataclass
class Served:
    url: str
    gateway: ObservatoryHub


@pytest.fixture
async def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Served]:
    gateway = await observatory_hub(monkeypatch, tmp_path / "hub")
    try:
        async with served_on_loopback(gateway.hub.app) as url:
            yield Served(url, gateway)
    finally:
        await gateway.aclose()


def js(value: object) -> str:
    return orjson.dumps(value).decode()


async def open_page(page: Page, url: str) -> None:
    await page.evaluate("window.loaded = false")
    await page.send("Page.navigate", url=url)
    await page.wait_for("window.loaded !== false && document.readyState === 'complete'")


async def drawn_bars(page: Page) -> list[str]:
    keys: list[str] = await page.evaluate(
        "Array.from(document.querySelectorAll('svg[data-chart] g.bar')).map(g => g.dataset.key)"
    )
    return keys


async def shown_rows(page: Page) -> set[tuple[str, ...]]:
    """Every row of the page's tables, read from the DOM."""
    rows: list[list[str]] = await page.evaluate(
        "Array.from(document.querySelectorAll('table.cells tr[data-key]')).map(tr => ["
        "tr.dataset.key, tr.dataset.value, tr.dataset.numerator, tr.dataset.denominator,"
        " tr.dataset.suppressed])"
    )
    return {(same_key(r[0]), *r[1:]) for r in rows}


async def downloaded_rows(page: Page) -> tuple[set[tuple[str, ...]], int, dict[str, Any]]:
    """The CSV the page links to, fetched by the page (its cookie goes with it)."""
    answer: dict[str, Any] = await page.evaluate(
        "fetch(document.querySelector('a.download').href, {credentials: 'same-origin'})"
        ".then(async r => ({status: r.status, text: await r.text(),"
        " disposition: r.headers.get('content-disposition')}))"
    )
    rows = [
        (same_key(r.key), r.value, r.numerator, r.denominator, r.suppressed)
        for r in csv_rows(answer["text"])
    ]
    return set(rows), len(rows), answer


async def press(page: Page, key: str, code: int) -> None:
    """A key pressed and released; Enter carries its character, which activates a button or
    submits a form as a real key press does."""
    text = {"Enter": "\r"}.get(key)
    down: dict[str, Any] = {"text": text} if text else {}
    await page.send(
        "Input.dispatchKeyEvent",
        type="keyDown",
        key=key,
        code=key,
        windowsVirtualKeyCode=code,
        **down,
    )
    await page.send(
        "Input.dispatchKeyEvent", type="keyUp", key=key, code=key, windowsVirtualKeyCode=code
    )


def console_errors(page: Page) -> list[Any]:
    errors: list[Any] = [
        e["args"] for e in page.of("Runtime.consoleAPICalled") if e["type"] in ("error", "assert")
    ]
    errors += [e["exceptionDetails"] for e in page.of("Runtime.exceptionThrown")]
    errors += [e["entry"] for e in page.of("Log.entryAdded") if e["entry"]["level"] == "error"]
    return errors


def requested_urls(page: Page) -> list[str]:
    return [event["request"]["url"] for event in page.of("Network.requestWillBeSent")]


@pytest.mark.browser
async def test_charts_render_a_filter_changes_them_and_the_csv_matches(
    served: Served, tmp_path: Path
) -> None:
    async with headless_chromium(tmp_path) as page:
        await open_page(
            page, f"{served.url}/observatory?indicator=POSITIONS_OPEN&group_by=DEPARTEMENT"
        )
        # The chart: an SVG with its title and description, one bar per département.
        assert sorted(await drawn_bars(page)) == [
            "POSITIONS_OPEN|DEPARTEMENT=73",
            "POSITIONS_OPEN|DEPARTEMENT=74",
        ]
        described = await page.evaluate(
            "Array.from(document.querySelectorAll('svg[data-chart]')).every(s =>"
            " s.querySelector('title') && s.querySelector('desc')"
            " && s.getAttribute('aria-labelledby'))"
        )
        assert described
        width = await page.evaluate(
            "document.querySelector('svg[data-chart] g.bar rect').getBBox().width"
        )
        assert width > 10  # drawn, not an empty element
        assert await page.evaluate("document.querySelectorAll('svg[data-chart=map] circle').length")

        # The filters with the keyboard: the breakdown follows the indicator, focus is seen.
        await page.evaluate("document.getElementById('f-indicator').focus()")
        await press(page, "Tab", 9)
        assert await page.evaluate("document.activeElement.id") == "f-group-by"
        outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
        await page.evaluate(
            "document.getElementById('f-group-by').value = 'ROME_DOMAIN';"
            " document.querySelector('.filters form button').focus()"
        )
        await page.evaluate("window.loaded = false")
        await press(page, "Enter", 13)
        await page.wait_for("window.loaded !== false && document.readyState === 'complete'")
        assert "group_by=ROME_DOMAIN" in await page.evaluate("location.search")
        by_domain = await drawn_bars(page)
        assert len(by_domain) > 2 and all("ROME_DOMAIN=" in key for key in by_domain)

        # The CSV the page links to: the cells of its tables, no more, no fewer.
        shown = await shown_rows(page)
        listed, count, answer = await downloaded_rows(page)
        assert answer["status"] == 200
        assert answer["disposition"].startswith("attachment; filename=")
        assert shown and count == len(shown) and listed == shown

        legend = await page.evaluate("document.querySelector('section.legend').innerText")
        assert "moins de 11 jeunes" in legend and "protège une autre case" in legend
        await page.screenshot(tmp_path / "observatory.png")  # to look at when this fails

    assert not console_errors(page), [orjson.dumps(e).decode() for e in console_errors(page)]
    urls = requested_urls(page)
    hosts = {urllib.parse.urlsplit(u).hostname for u in urls if not u.startswith("data:")}
    assert hosts == {"127.0.0.1"}, urls
    assert any(u.endswith("/observatory/static/observatory.css") for u in urls)
    assert not page.of("Network.loadingFailed")


@pytest.mark.browser
async def test_the_access_key_opens_what_counts_people_and_no_script_can_read_it(
    served: Served, tmp_path: Path
) -> None:
    token = served.gateway.token("OBSERVATORY")
    async with headless_chromium(tmp_path) as page:
        await open_page(page, f"{served.url}/observatory")
        before = await page.evaluate("document.body.innerText")
        assert "réservé aux analystes" in before

        await page.evaluate("document.getElementById('f-token').focus()")
        await page.send("Input.insertText", text=token)
        await page.evaluate("window.loaded = false")
        await press(page, "Enter", 13)
        await page.wait_for("window.loaded !== false && document.readyState === 'complete'")
        after = await page.evaluate("document.body.innerText")
        assert "OBSERVATORY" in after and "réservé aux analystes" not in after
        # HttpOnly: no script reads it; never in a URL the page went to or asked for.
        assert token not in await page.evaluate("document.cookie")
        assert token not in await page.evaluate("location.href")
        assert not any(token in url for url in requested_urls(page))

        # Cells of people now, some suppressed: each hatched in its chart, marked in words in
        # its table, and the legend says why.
        secrets = await page.evaluate(
            "Array.from(document.querySelectorAll('tr[data-suppressed]'))"
            ".filter(tr => tr.dataset.suppressed).map(tr => ["
            " tr.dataset.key, tr.querySelector('td.secret .mark')?.textContent,"
            " tr.querySelector('td.secret .why')?.textContent])"
        )
        assert secrets and all(mark == "secret" and why for _, mark, why in secrets)
        hatched = await page.evaluate(
            "Array.from(document.querySelectorAll('svg[data-chart] g.bar.suppressed'))"
            ".filter(g => g.querySelector('rect').getAttribute('fill').endsWith('-hatch)')"
            " && g.textContent.includes('secret')).map(g => g.dataset.key)"
        )
        assert hatched and set(hatched) <= {key for key, _, _ in secrets}
        pattern = await page.evaluate(
            "(() => { const r = document.querySelector('svg[data-chart] g.bar.suppressed rect');"
            " const id = r.getAttribute('fill').slice(5, -1);"
            " return document.getElementById(id).tagName; })()"
        )
        assert pattern == "pattern"
        await page.screenshot(tmp_path / "observatory-analyst.png")  # to look at when it fails

        # The CSV, fetched with the page's cookie, holds what the tables show.
        shown = await shown_rows(page)
        listed, count, answer = await downloaded_rows(page)
        assert answer["status"] == 200
        assert shown and count == len(shown) and listed == shown

        # Forgetting the key: anonymous again.
        await page.evaluate("window.loaded = false")
        await page.evaluate("document.querySelector('.access form button').click()")
        await page.wait_for("window.loaded !== false && document.readyState === 'complete'")
        assert "réservé aux analystes" in await page.evaluate("document.body.innerText")

    assert not console_errors(page), [orjson.dumps(e).decode() for e in console_errors(page)]
    cookies = [
        header
        for event in page.of("Network.responseReceivedExtraInfo")
        for name, header in event.get("headers", {}).items()
        if name.lower() == "set-cookie"
    ]
    assert cookies and all(
        "httponly" in c.lower() and "samesite=strict" in c.lower() for c in cookies
    )
