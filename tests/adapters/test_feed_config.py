"""Feed partner blocks: what the config accepts, what it refuses, and with which message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from adapters import syntax
from adapters.errors import ConfigError
from adapters.feed import FeedAdapter
from adapters.feed_config import CsvFeedPartner, XmlFeedPartner
from adapters.partners_file import load_partners, parse_partners
from adapters.registry import build_adapter, kinds
from adapters.types import DataClass
from tests.adapters.feed_partners import company_entity, feed_partner, lheo_entity

PARTNERS_FILE = Path(__file__).parents[2] / "demo" / "partners.toml"


def xml(**block: Any) -> dict[str, Any]:
    return feed_partner("xml_feed", {"training_program": lheo_entity(**block)})


def csv(**block: Any) -> dict[str, Any]:
    return feed_partner("csv_feed", {"organisation": company_entity(**block)})


def refused(model: type[XmlFeedPartner | CsvFeedPartner], raw: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(raw)
    return str(caught.value)


def test_a_feed_may_not_carry_personal_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(syntax.DATA_CLASSES, "organisation", DataClass.PERSONAL)
    assert "PERSONAL" in refused(CsvFeedPartner, csv())
    with pytest.raises(ConfigError) as caught:
        parse_partners({"version": 1, "partners": {"opco": csv()}})
    ((where, message, _),) = caught.value.problems
    assert where.startswith("partners.opco.entities") and "PUBLIC" in message


def test_an_unknown_entity_is_refused() -> None:
    raw = feed_partner("csv_feed", {"unicorn": company_entity()})
    assert "unknown entity" in refused(CsvFeedPartner, raw)


def test_lookup_keys_must_exist_and_be_mapped() -> None:
    assert "not a look-up key" in refused(CsvFeedPartner, csv(lookups=["email"]))
    assert "needs the mapped field" in refused(CsvFeedPartner, csv(lookups=["uai"]))


def test_lookup_keys_default_to_the_mapped_ones() -> None:
    config = XmlFeedPartner.model_validate(xml())
    assert config.entities["training_program"].lookup_keys("training_program") == [
        "id",
        "catalogueKey",
        "rncp",
    ]
    organisations = CsvFeedPartner.model_validate(csv())
    assert organisations.entities["organisation"].lookup_keys("organisation") == ["id", "siren"]


def test_the_stale_window_must_cover_the_refresh_interval() -> None:
    raw = xml()
    raw.update(refresh_s=600, max_stale_s=60)
    assert "max_stale_s" in refused(XmlFeedPartner, raw)
    raw = xml(refresh_s=900)  # an entity's own interval counts too
    assert "max_stale_s" in refused(XmlFeedPartner, raw)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"encoding": "latin-42"}, "unknown encoding"),
        ({"delimiter": ";;"}, "at most 1 character"),
        ({"header": False}, "needs `columns`"),
        ({"path": "exports/x.csv"}, "should match pattern"),
        ({"separator": ";"}, "Extra inputs are not permitted"),
    ],
)
def test_csv_conventions_are_checked(block: dict[str, Any], message: str) -> None:
    assert message in refused(CsvFeedPartner, csv(**block))


@pytest.mark.parametrize("record", ["offres.formation", "{ns}formation", "@numero", ""])
def test_the_record_is_a_local_element_name(record: str) -> None:
    assert "local element name" in refused(XmlFeedPartner, xml(record=record))


def test_both_kinds_are_registered_and_built_from_their_blocks() -> None:
    assert {"xml_feed", "csv_feed"} <= set(kinds())
    for raw in (xml(), csv()):
        config = kinds()[raw["kind"]].config.model_validate(raw)
        adapter = build_adapter(
            "partner", config, httpx.MockTransport(lambda r: httpx.Response(500))
        )
        assert isinstance(adapter, FeedAdapter)
        assert adapter.entities() == frozenset(raw["entities"])


def test_the_demo_partners_file_validates_with_both_feeds() -> None:
    partners = load_partners(PARTNERS_FILE).partners
    carif, akto = partners["carif"], partners["akto"]
    assert isinstance(carif, XmlFeedPartner) and isinstance(akto, CsvFeedPartner)
    assert carif.base_url.endswith(":8104") and akto.base_url.endswith(":8106")
    assert set(akto.entities) == {"organisation", "training_program"}
