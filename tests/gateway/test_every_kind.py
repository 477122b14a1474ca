"""Every kind of partner at once, through the gateway: each partner's data merged into the
common syntax with its provenance (issue: every kind of partner system, by configuration)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from demo.cfa_erp import seed_demo_databases
from demo.data import dataset
from tests.gateway.hubkit import ALL_PARTNERS, Hub, start_hub
from tests.services import postgres_url


@pytest.fixture
async def every_partner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Hub]:
    pg = postgres_url().replace("postgresql://", "postgresql+asyncpg://", 1)
    for name, dsn in (await seed_demo_databases(tmp_path, pg)).items():
        monkeypatch.setenv(name, dsn)
    hub = await start_hub(monkeypatch, partners=ALL_PARTNERS)
    yield hub
    await hub.aclose()


PROGRAMS = """query($filter: TrainingFilter, $after: String) {
  trainingPrograms(filter: $filter, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      title certification { rncp }
      sessions { start capacity enrolled }
      fundingLevels { opco amount validFrom }
      provenance { partner partnerId }
    } } } }"""


async def all_programs(hub: Hub, flt: dict[str, object]) -> list[dict[str, object]]:
    nodes: list[dict[str, object]] = []
    after = None
    for _ in range(20):
        answer = await hub.query(PROGRAMS, {"filter": flt, "after": after})
        assert "errors" not in answer, answer.get("errors")
        connection = answer["data"]["trainingPrograms"]
        nodes.extend(e["node"] for e in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("walk did not end")


async def test_a_programme_is_one_record_across_catalogues_erp_and_opco(every_partner: Hub) -> None:
    nodes = await all_programs(every_partner, {"departements": ["73", "74"]})
    expected_programs = [
        p for p in dataset().programs if set(p.publishers) & {"apprentissage", "carif"}
    ]
    assert len(nodes) == len(expected_programs)
    by_partner = {
        (prov["partner"], prov["partnerId"]): node
        for node in nodes
        for prov in node["provenance"]  # type: ignore[attr-defined]
    }
    merged_with_carif = 0
    for seed in expected_programs:
        node = by_partner[("apprentissage", seed.publishers["apprentissage"])]
        partners = {p["partner"] for p in node["provenance"]}  # type: ignore[attr-defined]
        if "carif" in seed.publishers:
            assert "carif" in partners
            merged_with_carif += 1
        for erp in ("cfa-btp", "cfa-hotellerie"):
            if erp in seed.publishers:
                assert erp in partners, (erp, seed.key)
                enrolled = [s["enrolled"] for s in node["sessions"]]  # type: ignore[attr-defined]
                assert enrolled == [s.enrolled for s in seed.sessions]
    assert merged_with_carif > 20


async def test_funding_levels_come_from_the_opco_export(every_partner: Hub) -> None:
    nodes = await all_programs(every_partner, {"departements": ["74"]})
    funded = [n for n in nodes if n["fundingLevels"]]
    assert funded, "akto publishes funding levels for the demo's certifications"
    for node in funded:
        assert "akto" in {p["partner"] for p in node["provenance"]}  # type: ignore[attr-defined]
        for level in node["fundingLevels"]:  # type: ignore[attr-defined]
            assert level["opco"] == "AKTO" and level["amount"] > 0


async def test_hub3e_missions_are_merged_with_the_same_offers_elsewhere(every_partner: Hub) -> None:
    seeds = [s for s in dataset().offers if "hub3e" in s.publishers]
    answer = await every_partner.query(
        "query($f: OfferFilter) { offers(filter: $f, first: 100) { totalCount "
        "edges { node { provenance { partner partnerId } } } } }",
        {"f": {"sources": ["hub3e"]}},
    )
    assert answer["data"]["offers"]["totalCount"] == len(seeds)
    shared = [s for s in seeds if len(set(s.publishers) & {"francetravail", "apprentissage"})]
    seed = shared[0]
    flt = {"communes": [seed.address.insee_code], "romeCodes": [seed.rome_code]}
    answer = await every_partner.query(
        "query($f: OfferFilter) { offers(filter: $f, first: 100) { edges { node { "
        "provenance { partner partnerId } } } } }",
        {"f": flt},
    )
    groups = [
        {(p["partner"], p["partnerId"]) for p in e["node"]["provenance"]}
        for e in answer["data"]["offers"]["edges"]
    ]
    assert {(k, v) for k, v in seed.publishers.items()} in groups


async def test_organisations_are_enriched_by_register_and_opco(every_partner: Hub) -> None:
    centre = dataset().centres[0]
    answer = await every_partner.query(
        "query($u: String!) { organisation(uai: $u) { uai siret kind provenance { partner } } }",
        {"u": centre.uai},
    )
    found = answer["data"]["organisation"]
    assert found["kind"] == centre.kind
    assert "academie" in {p["partner"] for p in found["provenance"]}
    employer = next(e for e in dataset().employers if e.opco == "AKTO")
    answer = await every_partner.query(
        "query($s: String!) { organisation(siret: $s) { opco idcc provenance { partner } } }",
        {"s": employer.siret},
    )
    found = answer["data"]["organisation"]
    assert found["opco"] == "AKTO"
    assert found["idcc"] == employer.idcc
    assert {"sirene", "akto"} <= {p["partner"] for p in found["provenance"]}


async def test_every_partner_is_up(every_partner: Hub) -> None:
    answer = await every_partner.query("{ partners(probe: true) { id kind health } }")
    partners = {p["id"]: (p["kind"], p["health"]) for p in answer["data"]["partners"]}
    assert set(partners) == set(ALL_PARTNERS)
    assert {kind for kind, _ in partners.values()} == {
        "rest",
        "sql",
        "xml_feed",
        "csv_feed",
        "graphql",
    }
    assert {health for _, health in partners.values()} == {"UP"}


async def test_only_the_partners_providing_asked_fields_are_called(every_partner: Hub) -> None:
    document = """query { offers(filter: {sources: ["apprentissage"], departements: ["73"]},
      first: 30) { edges { node { employer { %s } } } } }"""

    async def calls_for(selection: str) -> dict[str, int]:
        before = every_partner.all_calls()
        answer = await every_partner.query(document % selection)
        assert "errors" not in answer, answer.get("errors")
        after = every_partner.all_calls()
        return {name: after[name] - before[name] for name in after if after[name] > before[name]}

    # what the offer itself says about its employer needs no look-up
    assert "sirene" not in await calls_for("name siret")
    # the directory's fields: one batched directory call, nobody else
    assert set(await calls_for("naf { code }")) == {"sirene"}
    # the OPCO's export, found by the SIREN the (now cached) directory answer gave
    assert set(await calls_for("opco idcc")) == {"akto"}


async def test_the_opco_filter_keeps_offers_whose_employer_belongs_to_it(
    every_partner: Hub,
) -> None:
    query = """query($after: String) {
      offers(filter: {departements: ["74"], opco: AKTO}, first: 100, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { title employer { siret opco } } } } }"""
    edges: list[dict[str, Any]] = []
    after = None
    for _ in range(50):  # bounded: the walk ends long before
        answer = await every_partner.query(query, {"after": after})
        assert "errors" not in answer, answer.get("errors")
        connection = answer["data"]["offers"]
        # The partners' totals know nothing of the employers' OPCO: no total, not a wrong one.
        assert connection["totalCount"] is None
        edges.extend(connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    employers = {e.siret: e.opco for e in dataset().employers}
    anonymous = {  # France Travail's anonymous offers (alone there) name no employer to check
        s.key
        for s in dataset().offers
        if set(s.publishers) == {"francetravail"} and int(s.key[-5:]) % 8 == 0
    }
    expected = {
        s.key
        for s in dataset().offers
        if s.address.insee_code.startswith("74")
        and employers.get(s.employer_siret) == "AKTO"
        and set(s.publishers) & {"francetravail", "apprentissage", "hub3e"}
        and s.key not in anonymous
    }
    assert edges and len(edges) == len(expected)
    assert {e["node"]["employer"]["opco"] for e in edges} == {"AKTO"}
