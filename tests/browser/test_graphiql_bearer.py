"""The personal walkthrough in GraphiQL with a bearer token, in a real headless Chromium.

What a partner developer does with the demo's printed credentials: open the Headers tab, paste
``{"Authorization": "Bearer <token>"}``, run a query. A centre's staff see their applications;
the other centre's token sees none of them, and asking for one by id answers exactly as for an
id that does not exist; no header is the public-only answer; and the token is never kept by
the browser. The gateway runs the personal half (both ERPs, Hub3E, AKTO, the demo's identity
provider: tests/gateway/personalkit.py) on a real loopback port; the page is driven with
mouse clicks, key presses and pastes over DevTools (tests/browser/graphiql_ui.py).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from demo.identity_provider import DemoIdentityProvider
from resolvers.ids import decode_global_id, global_id
from tests.browser import graphiql_ui as ui
from tests.browser.devtools import Page, headless_chromium
from tests.browser.loopback import served_on_loopback
from tests.gateway.hubkit import Hub
from tests.gateway.personalkit import ask, personal_hub

APPLICATIONS = """{
  applications(first: 5) {
    totalCount
    edges {
      node { id status candidate { lastName } provenance { partner } }
    }
  }
}"""
CENTRE_ERP, OTHER_CENTRE_ERP = "cfa-btp", "cfa-hotellerie"


@dataclass
class PersonalGateway:
    url: str
    hub: Hub
    provider: DemoIdentityProvider

    def token(self, role: str) -> str:
        return self.provider.credentials()[role]["token"]


@pytest.fixture
async def gateway(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[PersonalGateway]:
    provider = DemoIdentityProvider(tmp_path / "idp")
    hub = await personal_hub(monkeypatch, tmp_path, provider)
    try:
        async with served_on_loopback(hub.app) as url:
            yield PersonalGateway(url, hub, provider)
    finally:
        await hub.aclose()


def bearer(token: str) -> str:
    """The headers text the README tells a developer to paste."""
    return '{"Authorization": "Bearer ' + token + '"}'


async def open_graphiql(page: Page, url: str) -> None:
    await page.send("Page.navigate", url=f"{url}/graphql")
    # The schema loaded (the example query is preloaded), so the page is ready to be used.
    await page.wait_for(f"{ui.QUERY_EDITOR} && {ui.QUERY_EDITOR}.CodeMirror.getValue()")
    await page.wait_for(f"!!document.querySelector({orjson.dumps(ui.HEADERS_TAB).decode()})")


def authorization(request: dict[str, Any]) -> str | None:
    headers = {name.lower(): value for name, value in request["headers"].items()}
    return headers.get("authorization")


@pytest.mark.browser
async def test_a_centre_sees_its_applications_and_the_other_centre_none_of_them(
    gateway: PersonalGateway, tmp_path: Path
) -> None:
    centre, other = gateway.token("TRAINING_CENTRE"), gateway.token("TRAINING_CENTRE_OTHER")
    async with headless_chromium(tmp_path) as page:
        await open_graphiql(page, gateway.url)
        await ui.paste_query(page, APPLICATIONS)

        # The centre's staff: its own applications, the ones its token gets from the API.
        await ui.set_headers(page, bearer(centre))
        shown = await ui.run(page)
        # The header's start in view, for the shot: "Authorization", not the token's tail.
        await ui.click(page, ui.SHOWN_TOOL_EDITOR)
        await ui.press(page, "Home", "Home", 36)
        await page.screenshot(tmp_path / "graphiql-bearer.png")  # to look at when this fails
        answer = orjson.loads(shown)
        assert "errors" not in answer, answer["errors"]
        listed = answer["data"]["applications"]
        assert len(listed["edges"]) == 5 and listed["totalCount"] >= 5
        expected = await ask(gateway.hub, gateway.provider, "TRAINING_CENTRE", APPLICATIONS)
        assert answer["data"] == expected["data"]
        partners = {p["partner"] for e in listed["edges"] for p in e["node"]["provenance"]}
        assert CENTRE_ERP in partners and OTHER_CENTRE_ERP not in partners
        centre_ids = {edge["node"]["id"] for edge in listed["edges"]}

        # The other centre, same query: its own applications, none of the first centre's.
        await ui.set_headers(page, bearer(other))
        shown = await ui.run(page)
        answer = orjson.loads(shown)
        assert "errors" not in answer, answer["errors"]
        others = {edge["node"]["id"] for edge in answer["data"]["applications"]["edges"]}
        assert others and not others & centre_ids
        assert CENTRE_ERP not in shown

        # Asking for one of them by id: the answer an id that exists nowhere gets.
        seen_id = min(i for i in centre_ids if decode_global_id(i).partner == CENTRE_ERP)
        seen = decode_global_id(seen_id)
        unknown_id = global_id(seen.entity, seen.partner, "999999")
        answers = []
        for ident in (seen_id, unknown_id):
            await ui.paste_query(page, f'{{ node(id: "{ident}") {{ id }} }}')
            shown = await ui.run(page)
            answers.append(orjson.loads(shown))
        assert answers[0] == answers[1]
        assert answers[0]["data"] == {"node": None} and "errors" not in answers[0]

        # No header: the public-only answer, an empty list and no error.
        await ui.paste_query(page, APPLICATIONS)
        await ui.set_headers(page, "")
        shown = await ui.run(page)
        answer = orjson.loads(shown)
        assert answer["data"] == {"applications": {"totalCount": 0, "edges": []}}
        assert "errors" not in answer

        # A token that is no credential: the gateway's refusal, shown, not a blank pane.
        await ui.set_headers(page, bearer("not-a-token"))
        shown = await ui.run(page)
        (error,) = orjson.loads(shown)["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"

    # The browser sent each header as pasted, and nothing left 127.0.0.1.
    sent = [authorization(event["request"]) for event in ui.query_posts(page)]
    assert sent == [
        f"Bearer {centre}",
        f"Bearer {other}",
        f"Bearer {other}",
        f"Bearer {other}",
        None,
        "Bearer not-a-token",
    ]
    urls = [event["request"]["url"] for event in page.of("Network.requestWillBeSent")]
    hosts = {urllib.parse.urlsplit(url).hostname for url in urls if not url.startswith("data:")}
    assert hosts == {"127.0.0.1"}, urls


async def browser_storage(page: Page) -> str:
    """Everything the page keeps in the browser's storage, as one text."""
    stored: str = await page.evaluate(
        "JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage),"
        " document.cookie])"
    )
    return stored


@pytest.mark.browser
async def test_a_pasted_token_is_never_kept_by_the_browser(
    gateway: PersonalGateway, tmp_path: Path
) -> None:
    """The query a developer wrote survives a reload; the token and the personal answer do
    not, and GraphiQL offers no setting that would keep the token."""
    token = gateway.token("TRAINING_CENTRE")
    async with headless_chromium(tmp_path) as page:
        await open_graphiql(page, gateway.url)
        await ui.set_headers(page, bearer(token))
        await ui.paste_query(page, APPLICATIONS)
        # GraphiQL writes an edit to the storage 500 ms after it, in the order of the edits:
        # once the query pasted after the token is there, the token would be too.
        await page.wait_for(
            "localStorage.getItem('graphiql:query') === "
            + orjson.dumps(APPLICATIONS).decode()
            + " && (localStorage.getItem('graphiql:tabState') || '')"
            + ".includes('applications(first: 5)')"
        )
        answer = orjson.loads(await ui.run(page))
        names = {
            e["node"]["candidate"]["lastName"] for e in answer["data"]["applications"]["edges"]
        }
        assert names

        stored = await browser_storage(page)
        assert token not in stored and "Bearer" not in stored
        assert not {name for name in names if name in stored}, "the personal answer was kept"
        # The history still keeps the run (its query), only without the headers it was sent with.
        history = orjson.loads(await page.evaluate("localStorage.getItem('graphiql:queries')"))
        assert [entry["query"] for entry in history["queries"]] == [APPLICATIONS]
        assert all("headers" not in entry for entry in history["queries"])

        await ui.click(page, "[aria-label='Open settings dialog']")
        settings = await page.wait_for(
            "document.querySelector('.graphiql-dialog')"
            " && document.querySelector('.graphiql-dialog').innerText"
        )
        assert "Theme" in settings and "Persist headers" not in settings
        await ui.press(page, "Escape", "Escape", 27)
        assert await page.wait_for("!document.querySelector('.graphiql-dialog')")

        await page.evaluate("window.beforeReload = true")
        await page.send("Page.reload")
        await page.wait_for(
            f"!window.beforeReload && {ui.QUERY_EDITOR}"
            f" && {ui.QUERY_EDITOR}.CodeMirror.getValue().includes('applications')"
        )
        await ui.open_headers_panel(page)
        assert await ui.editor_value(page, ui.SHOWN_TOOL_EDITOR) == ""
        answer = orjson.loads(await ui.run(page))
        assert answer["data"] == {"applications": {"totalCount": 0, "edges": []}}
        assert token not in await browser_storage(page)

    sent = [authorization(event["request"]) for event in ui.query_posts(page)]
    assert sent == [f"Bearer {token}", None]
