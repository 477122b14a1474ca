"""/metrics counts the records mapped, and the records dropped by the field that failed; the
client's error names that field, never a value."""

from __future__ import annotations

import copy
import re

import pytest

from tests.gateway.hubkit import demo_partner_blocks, start_hub


def _counter(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    match = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_records_mapped_and_dropped_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    # francetravail's positions read from the title: every offer of that partner is dropped
    # (when positions are asked for: fields nobody selected are not mapped at all).
    entities = copy.deepcopy(
        demo_partner_blocks(["francetravail"])["partners"]["francetravail"]["entities"]
    )
    entities["offer"]["fields"]["positions"] = "intitule"
    hub = await start_hub(
        monkeypatch,
        partners=["francetravail", "apprentissage", "sirene"],
        overrides={"francetravail": {"entities": entities}},
    )
    try:
        before = (await hub.client.get("/metrics")).text
        answer = await hub.query(
            '{ offers(filter: {departements: ["74"]}, first: 5) '
            "{ totalCount edges { node { title positions } } } }"
        )
        after = (await hub.client.get("/metrics")).text
    finally:
        await hub.aclose()

    def grown(name: str, **labels: str) -> float:
        return _counter(after, name, **labels) - _counter(before, name, **labels)

    assert grown("hub_records_mapped_total", partner="apprentissage", entity="offer") > 0
    dropped = grown(
        "hub_records_dropped_total", partner="francetravail", entity="offer", field="positions"
    )
    assert dropped > 0
    [error] = [e for e in answer["errors"] if "francetravail" in e["message"]]
    assert "positions (path `intitule`): expected an integer" in error["message"]
    assert error["extensions"]["field"] == "positions"
    assert error["extensions"]["code"] == "SOURCE_BAD_RESPONSE"


async def test_fields_nobody_selected_are_not_mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same broken positions mapping: a page that does not ask for positions never reads it.
    entities = copy.deepcopy(
        demo_partner_blocks(["francetravail"])["partners"]["francetravail"]["entities"]
    )
    entities["offer"]["fields"]["positions"] = "intitule"
    hub = await start_hub(
        monkeypatch,
        partners=["francetravail"],
        overrides={"francetravail": {"entities": entities}},
    )
    try:
        answer = await hub.query("{ offers(first: 5) { edges { node { title } } } }")
    finally:
        await hub.aclose()

    assert "errors" not in answer, answer.get("errors")
    assert len(answer["data"]["offers"]["edges"]) == 5
