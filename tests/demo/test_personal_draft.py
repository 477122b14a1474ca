"""demo/partners.personal.toml.draft parses, and its value maps say what the partners store."""

from __future__ import annotations

import tomllib
from pathlib import Path

from demo.lifecycle import ERP_STATUS, FOLLOW_UP_NATURE, HUB3E_STATUSES

DRAFT = Path(__file__).resolve().parents[2] / "demo" / "partners.personal.toml.draft"


def test_the_draft_parses_and_maps_every_partner_value() -> None:
    partners = tomllib.loads(DRAFT.read_text(encoding="utf-8"))["partners"]
    erp = partners["cfa-btp"]["entities"]
    status = erp["application"]["fields"]["status"]["values"]
    assert status == {label: common for common, label in ERP_STATUS.items()}
    assert erp["application"]["filters"]["status"]["values"] == ERP_STATUS
    natures = erp["follow_up"]["fields"]["kind"]["values"]
    assert natures == {label: kind for kind, label in FOLLOW_UP_NATURE.items()}
    hub3e = partners["hub3e"]["entities"]["application"]["fields"]["status"]["values"]
    assert set(hub3e) == set(HUB3E_STATUSES)
    contract = partners["akto-contrats"]["entities"]["contract"]["fields"]["status"]["values"]
    assert set(contract) == {"transmis", "déposé", "en cours", "rompu", "annulé", "terminé"}
