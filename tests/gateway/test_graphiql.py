"""GraphiQL's page and assets are the gateway's own: nothing from a CDN, files as published.

The page in a real browser is tested in ``tests/browser/``; these tests need none.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import pytest

from gateway import graphiql
from gateway.settings import Settings
from tests.gateway.hubkit import Hub, start_hub

ASSETS = resources.files("gateway") / "static" / "graphiql"
_SUM_ROW = re.compile(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", re.MULTILINE)


def test_each_vendored_file_is_the_published_one_with_its_licence() -> None:
    provenance = (ASSETS / "PROVENANCE.md").read_text(encoding="utf-8")
    sums = dict(_SUM_ROW.findall(provenance))
    assert set(sums) == {
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    }
    for name, expected in sums.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == expected, name
    for licence in ("LICENSE.graphiql", "LICENSE.react"):
        assert "MIT License" in (ASSETS / licence).read_text(encoding="utf-8")


async def test_the_page_loads_only_the_gateways_assets(hub: Hub) -> None:
    response = await hub.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert sources and all(s.startswith(graphiql.ASSETS_PATH) or s == "data:," for s in sources)
    assert "unpkg" not in response.text and "https://" not in response.text
    for source in sources:
        if source.startswith(graphiql.ASSETS_PATH):
            asset = await hub.client.get(source)
            assert asset.status_code == 200 and asset.content, source


def test_the_example_query_cannot_close_its_script_element() -> None:
    page = graphiql.page(
        example_query='# </script><script>alert("x")</script>\n{ partners { id } }'
    )
    assert page.count("</script>") == 5  # the config block and the four scripts, no more
    assert "alert" in page


async def test_production_settings_serve_no_assets(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = await start_hub(monkeypatch, settings=Settings(development=False))
    try:
        asset = await hub.client.get(f"{graphiql.ASSETS_PATH}/graphiql.min.js")
        assert asset.status_code == 404
    finally:
        await hub.aclose()
