"""Training programmes, organisations and the territory through the gateway."""

from __future__ import annotations

from demo.data import dataset
from tests.gateway.hubkit import Hub

PROGRAMS = """query($filter: TrainingFilter, $first: Int!, $after: String) {
  trainingPrograms(filter: $filter, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id title certification { rncp level }
      location { inseeCode }
      sessions { start end capacity recruitmentOpen }
      responsible { name uai siret roles }
      provenance { partner partnerId }
    } } } }"""


async def test_training_programmes_in_haute_savoie_with_their_sessions(hub: Hub) -> None:
    nodes, after = [], None
    for _ in range(50):
        answer = await hub.query(
            PROGRAMS, {"filter": {"departements": ["74"]}, "first": 40, "after": after}
        )
        assert "errors" not in answer, answer.get("errors")
        connection = answer["data"]["trainingPrograms"]
        nodes.extend(edge["node"] for edge in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    expected = [
        p
        for p in dataset().programs
        if p.address.insee_code.startswith("74") and "apprentissage" in p.publishers
    ]
    assert len(nodes) == len(expected)
    assert all(n["location"]["inseeCode"].startswith("74") for n in nodes)
    assert all(n["sessions"] for n in nodes)
    by_key = {p.publishers["apprentissage"]: p for p in expected}
    for node in nodes:
        seed = by_key[node["provenance"][0]["partnerId"]]
        assert node["certification"]["rncp"] == seed.rncp
        assert node["responsible"]["uai"] == seed.responsible.uai
        assert "TRAINING_RESPONSIBLE" in node["responsible"]["roles"]
        assert [s["capacity"] for s in node["sessions"]] == [s.capacity for s in seed.sessions]


async def test_an_organisation_by_siret_comes_from_the_directory(hub: Hub) -> None:
    employer = dataset().employers[0]
    answer = await hub.query(
        "query($s: String!) { organisation(siret: $s) { siret siren name naf { code } "
        "address { postalCode inseeCode } provenance { partner } } }",
        {"s": employer.siret},
    )
    found = answer["data"]["organisation"]
    assert found["siret"] == employer.siret
    assert found["siren"] == employer.siren
    assert found["naf"]["code"] == employer.naf_code
    assert found["address"]["inseeCode"] == employer.address.insee_code
    assert "sirene" in {p["partner"] for p in found["provenance"]}


async def test_an_organisation_by_uai_is_a_training_centre(hub: Hub) -> None:
    centre = dataset().centres[0]
    answer = await hub.query(
        "query($u: String!) { organisation(uai: $u) { uai siret name } }", {"u": centre.uai}
    )
    assert answer["data"]["organisation"]["uai"] == centre.uai
    assert answer["data"]["organisation"]["siret"] == centre.siret


async def test_an_unknown_valid_siret_is_null_without_error(hub: Hub) -> None:
    answer = await hub.query('{ organisation(siret: "73282932000074") { name } }')
    assert answer["data"] == {"organisation": None} and "errors" not in answer


async def test_communes_and_departements_come_from_the_reference_territory(hub: Hub) -> None:
    before = hub.all_calls()
    answer = await hub.query(
        '{ commune(inseeCode: "73065") { name postalCodes centre { latitude } '
        "departement { code name region { code } academie { code name } } } }"
    )
    commune = answer["data"]["commune"]
    assert commune["name"] == "Chambéry"
    assert "73000" in commune["postalCodes"]
    assert commune["departement"]["region"]["code"] == "84"
    assert commune["departement"]["academie"] == {"code": "08", "name": "Grenoble"}
    assert hub.all_calls() == before


async def test_a_certification_by_rncp(hub: Hub) -> None:
    program = next(p for p in dataset().programs if "apprentissage" in p.publishers)
    answer = await hub.query(
        "query($r: String!) { certification(rncp: $r) { rncp cfd level } }", {"r": program.rncp}
    )
    assert answer["data"]["certification"]["rncp"] == program.rncp
    assert answer["data"]["certification"]["level"] == program.level


async def test_an_employer_lists_its_own_offers(hub: Hub) -> None:
    seed = next(s for s in dataset().offers if "apprentissage" in s.publishers)
    answer = await hub.query(
        "query($s: String!) { organisation(siret: $s) { offers(first: 100) { totalCount "
        "edges { node { employer { siret } } } } } }",
        {"s": seed.employer_siret},
    )
    offers = answer["data"]["organisation"]["offers"]
    expected = {
        s.key
        for s in dataset().offers
        if s.employer_siret == seed.employer_siret
        and set(s.publishers) & {"francetravail", "apprentissage"}
    }
    assert offers["totalCount"] == len(expected) >= 1
    assert {e["node"]["employer"]["siret"] for e in offers["edges"]} == {seed.employer_siret}
