"""GraphiQL in a real headless Chromium, offline: the page a partner developer opens first.

The gateway (development settings) runs on a real loopback port (uvicorn in this event loop),
its partners are the demo's own apps in-process; Chromium is driven over the DevTools protocol.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from tests.browser.devtools import Page, headless_chromium
from tests.browser.graphiql_ui import DOC_EXPLORER, QUERY_EDITOR, RESPONSE
from tests.browser.loopback import served_on_loopback
from tests.gateway.hubkit import start_hub


@pytest.fixture
async def gateway_url(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    hub = await start_hub(monkeypatch)
    try:
        async with served_on_loopback(hub.app) as url:
            yield url
    finally:
        await hub.aclose()


async def _click(page: Page, selector: str) -> None:
    clicked = await page.evaluate(
        f"(() => {{ const e = document.querySelector({orjson.dumps(selector).decode()});"
        " if (!e) return false; e.click(); return true; })()"
    )
    assert clicked, f"nothing to click at {selector}"


async def _doc_explorer_text(page: Page, expected: str) -> str:
    text: str = await page.wait_for(
        f"{DOC_EXPLORER} && {DOC_EXPLORER}.innerText.includes({orjson.dumps(expected).decode()})"
        f" && {DOC_EXPLORER}.innerText"
    )
    return text


@pytest.mark.browser
async def test_graphiql_runs_the_example_offline_and_hides_federation_plumbing(
    gateway_url: str, tmp_path: Path
) -> None:
    async with headless_chromium(tmp_path) as page:
        await page.send("Page.navigate", url=f"{gateway_url}/graphql")

        # The editor renders, with the example query preloaded.
        query = await page.wait_for(f"{QUERY_EDITOR} && {QUERY_EDITOR}.CodeMirror.getValue()")
        assert "query OffersNearChambery" in query
        assert await page.evaluate("!!document.querySelector('.graphiql-editor-tool')")

        # Running it shows data in the result pane.
        await _click(page, ".graphiql-execute-button")
        shown = await page.wait_for(
            f"{RESPONSE} && {RESPONSE}.CodeMirror.getValue().includes('\"offers\"')"
            f" && {RESPONSE}.CodeMirror.getValue()"
        )
        offers = orjson.loads(shown)["data"]["offers"]
        assert offers["edges"] and all(edge["node"]["title"] for edge in offers["edges"])

        # The Docs panel lists the hub's types, not the federation plumbing.
        await _click(page, "[aria-label='Show Documentation Explorer']")
        docs = await _doc_explorer_text(page, "All Schema Types")
        listed = set(docs.split())
        assert {"Offer", "TrainingProgram", "Organisation"} <= listed, docs
        assert not {"_Entity", "_Service", "_Any", "_FieldSet"} & listed, docs
        await _click(page, ".graphiql-doc-explorer-root-type a, a.graphiql-doc-explorer-type-name")
        fields = await _doc_explorer_text(page, "trainingPrograms")
        assert "offers" in fields and "_entities" not in fields and "_service" not in fields

        await page.screenshot(tmp_path / "graphiql.png")  # to look at when this test fails

    # Nothing left 127.0.0.1: every script, style and query came from the gateway.
    urls = [event["request"]["url"] for event in page.of("Network.requestWillBeSent")]
    assert any(url.endswith("/graphql/static/graphiql.min.js") for url in urls), urls
    outside = [
        url
        for url in urls
        if not url.startswith("data:") and urllib.parse.urlsplit(url).hostname != "127.0.0.1"
    ]
    assert not outside, outside
    failed = page.of("Network.loadingFailed")
    assert not failed, failed

    # No console error, no uncaught exception, no CSP violation or failed load in the log.
    errors = [
        e["args"] for e in page.of("Runtime.consoleAPICalled") if e["type"] in ("error", "assert")
    ]
    errors += [e["exceptionDetails"] for e in page.of("Runtime.exceptionThrown")]
    errors += [e["entry"] for e in page.of("Log.entryAdded") if e["entry"]["level"] == "error"]
    assert not errors, [orjson.dumps(e).decode() for e in errors]
