"""A gateway over every demo partner and the demo's identity provider, for the observatory page:
offers and positions from the public partners, people's counts from the ERPs (seeded into
SQLite), Hub3E and AKTO checking the hub's signed principal, and the page's HTML read back.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from demo.cfa_erp import seed_demo_databases
from demo.identity_provider import DemoIdentityProvider
from gateway.settings import Settings
from store.migrate import upgrade_url
from tests.gateway.hubkit import ALL_PARTNERS, Hub, start_hub
from tests.gateway.personalkit import checking_apps

OBSERVATORY_PARTNERS = (*ALL_PARTNERS, "akto-contrats")


@dataclass
class ObservatoryHub:
    hub: Hub
    provider: DemoIdentityProvider

    def token(self, role: str) -> str:
        return self.provider.credentials()[role]["token"]

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role)}"}

    async def aclose(self) -> None:
        await self.hub.aclose()


async def observatory_hub(
    monkeypatch: pytest.MonkeyPatch, folder: Path, **settings: Any
) -> ObservatoryHub:
    provider = DemoIdentityProvider(folder / "idp")
    for name, dsn in (await seed_demo_databases(folder / "erp", None)).items():
        monkeypatch.setenv(name, dsn)
    options = {"development": True, **provider.settings(), **settings}
    await asyncio.to_thread(upgrade_url, options["database_url"])
    hub = await start_hub(
        monkeypatch,
        partners=OBSERVATORY_PARTNERS,
        settings=Settings(**options),
        apps=checking_apps(provider),
    )
    return ObservatoryHub(hub, provider)


@dataclass(frozen=True)
class ShownRow:
    """A row of one of the page's tables, as its data attributes hold it."""

    key: str
    value: str
    numerator: str
    denominator: str
    suppressed: str
    text: str  # what the reader sees in the row


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[ShownRow] = []
        self._open: dict[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "tr" and "data-key" in found:
            self._open, self._text = found, []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._open is not None:
            a = self._open
            self.rows.append(
                ShownRow(
                    a["data-key"],
                    a["data-value"],
                    a["data-numerator"],
                    a["data-denominator"],
                    a["data-suppressed"],
                    " ".join(" ".join(self._text).split()),
                )
            )
            self._open = None


def same_key(key: str) -> str:
    """A cell's key with its dimensions in one order, whichever order wrote them."""
    code, *parts = key.split("|")
    return "|".join([code, *sorted(parts)])


def table_rows(html: str) -> list[ShownRow]:
    """Every row of every data table of the page."""
    parser = _Rows()
    parser.feed(html)
    return parser.rows


def csv_rows(text: str) -> list[ShownRow]:
    """The CSV's lines as the page's rows (same key: ``CODE|DIMENSION=node|...``)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fixed = {"indicator", "value", "numerator", "denominator", "suppressed", "partners"}
    fixed |= {"computed_at"}
    rows = []
    for line in reader:
        dimensions = [(k, v) for k, v in line.items() if k not in fixed and v != ""]
        key = "|".join([line["indicator"], *(f"{k}={v}" for k, v in dimensions)])
        rows.append(
            ShownRow(
                key,
                line["value"],
                line["numerator"],
                line["denominator"],
                line["suppressed"],
                "",
            )
        )
    return rows


def outside_urls(html: str) -> list[str]:
    """Every absolute http(s) URL in the page, and every src/href that is not the page's own
    (a path, a fragment, a data: URL)."""
    found = re.findall(r"https?://[^\s\"'<>]+", html)
    for value in re.findall(r"(?:src|href)=\"([^\"]*)\"", html):
        if not (value.startswith(("/", "#", "data:", "?")) or value == ""):
            found.append(value)
    return found
