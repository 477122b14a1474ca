"""The ``graphql`` adapter against the real academie register (strawberry, in-process)."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.errors import SourceBadResponse, SourceUnavailable
from adapters.graphql import GraphqlAdapter, GraphqlPartner
from adapters.partners_file import parse_partners
from adapters.registry import build_adapter
from adapters.types import ListQuery
from demo.academie import create_app
from demo.seeds import Address, TrainingCentre

TOKEN = "test-academie-token"

CENTRES = [
    TrainingCentre(
        uai=uai,
        siret=siret,
        name=name,
        address=Address(label, postal, insee, city, lat, lon),
        kind=kind,
        qualiopi=True,
    )
    for uai, siret, name, kind, label, postal, insee, city, lat, lon in [
        (
            "0731549M",
            "19730000100014",
            "Lycée professionnel Louis Armand",
            "Lycée professionnel",
            "321 rue du Grand Champ",
            "73000",
            "73065",
            "Chambéry",
            45.57,
            5.92,
        ),
        (
            "0741451A",
            "78430000200021",
            "CFA BTP Haute-Savoie",
            "CFA",
            "12 avenue de Genève",
            "74000",
            "74010",
            "Annecy",
            45.90,
            6.13,
        ),
        (
            "0730001B",
            "78430000300011",
            "CFA des métiers de Savoie",
            "CFA",
            "4 rue Métropole",
            "73100",
            "73008",
            "Aix-les-Bains",
            45.69,
            5.91,
        ),
        (
            "0740002D",
            "19740000400017",
            "Université Savoie Mont Blanc",
            "Université",
            "27 rue Marcoz",
            "74940",
            "74011",
            "Annecy-le-Vieux",
            45.91,
            6.16,
        ),
        (
            "0730003C",
            "78430000500019",
            "CFA d'entreprise Alpes Industrie",
            "CFA d'entreprise",
            "1 rue de l'Industrie",
            "73200",
            "73011",
            "Albertville",
            45.67,
            6.39,
        ),
    ]
]

ORGANISATION_FIELDS = """
[partners.academie.entities.organisation]
id = "uai"
fields.uai = "uai"
fields.siret = "siret"
fields.name = "appellationOfficielle"
fields.kind = "nature"
fields.roles = { path = "fonctions", strict_values = true, values = { RESPONSABLE = "TRAINING_RESPONSIBLE", FORMATEUR = "TRAINING_PROVIDER" } }
fields."address.label" = "adresse.ligne"
fields."address.postalCode" = "adresse.codePostal"
fields."address.city" = "adresse.commune"
fields."address.inseeCode" = "adresse.codeInsee"
fields."address.latitude" = "latitude"
fields."address.longitude" = "longitude"
"""  # noqa: E501

NODE = (
    "uai siret appellationOfficielle nature fonctions latitude longitude "
    "adresse { ligne codePostal commune codeInsee }"
)

CURSOR_LIST = f'''
[partners.academie.entities.organisation.list]
items = "etablissements.nodes"
total = "etablissements.totalCount"
pagination = {{ style = "cursor", page_size = 2, end_cursor = "etablissements.pageInfo.endCursor", has_next_page = "etablissements.pageInfo.hasNextPage" }}
query = """
query Etablissements($first: Int, $after: String) {{
  etablissements(first: $first, after: $after) {{
    totalCount
    pageInfo {{ endCursor hasNextPage }}
    nodes {{ ...Etab }}
  }}
}}
fragment Etab on Etablissement {{ {NODE} }}
"""
'''  # noqa: E501

UAI_LOOKUP = f'''
[partners.academie.entities.organisation.lookups.uai]
variable = "uais"
items = "etablissements.nodes"
max_size = MAX_SIZE
query = """
query ParUai($uais: [String!]!) {{
  etablissements(uais: $uais, first: 500) {{ nodes {{ {NODE} }} }}
}}
"""
'''


def partner_block(
    *sections: str,
    max_size: int = 100,
    token_env: str = "HUB_TEST_ACADEMIE",  # noqa: S107
) -> str:
    head = f'''
[partners.academie]
kind = "graphql"
base_url = "http://academie.test"
auth = {{ type = "bearer", token = {{ env = "{token_env}" }} }}
retry = {{ enabled = false }}
'''
    return head + "".join(sections).replace("MAX_SIZE", str(max_size))


def config_of(text: str) -> GraphqlPartner:
    partners = parse_partners(tomllib.loads(text)).partners
    config = partners["academie"]
    assert isinstance(config, GraphqlPartner)
    return config


@pytest.fixture
def academie() -> Starlette:
    return create_app(centres=CENTRES, token=TOKEN)


Connect = Callable[[Starlette, str], GraphqlAdapter]


@pytest.fixture
async def connect(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Connect]:
    monkeypatch.setenv("HUB_TEST_ACADEMIE", TOKEN)
    made: list[GraphqlAdapter] = []

    def make(app: Starlette, text: str) -> GraphqlAdapter:
        adapter = build_adapter("academie", config_of(text), httpx.ASGITransport(app=app))
        assert isinstance(adapter, GraphqlAdapter)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.aclose()


# -- look-ups ------------------------------------------------------------------------------------


async def test_many_uais_are_looked_up_in_one_request(
    academie: Starlette, connect: Connect
) -> None:
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, UAI_LOOKUP))
    assert not adapter.listable("organisation")  # looked up only: it completes organisations
    assert adapter.lookup_keys("organisation") == {"uai"}
    wanted = ["0741451A", "0731549M", "0730003C", "0999999W"]  # the last one is not registered

    found = await adapter.lookup("organisation", "uai", wanted)

    assert academie.state.calls["graphql"] == 1
    assert sorted(found) == ["0730003C", "0731549M", "0741451A"]
    lycee = found["0731549M"][0]
    assert lycee.fields["name"] == "Lycée professionnel Louis Armand"
    assert lycee.fields["kind"] == "Lycée professionnel"
    assert lycee.fields["roles"] == ["TRAINING_PROVIDER"]
    assert found["0741451A"][0].fields["roles"] == ["TRAINING_RESPONSIBLE", "TRAINING_PROVIDER"]
    assert lycee.fields["address"] == {
        "label": "321 rue du Grand Champ",
        "postalCode": "73000",
        "city": "Chambéry",
        "inseeCode": "73065",
        "latitude": 45.57,
        "longitude": 5.92,
    }
    assert lycee.owner.partner == "academie"
    assert lycee.owner.partner_id == "0731549M"


async def test_a_long_list_of_keys_is_cut_at_max_size(
    academie: Starlette, connect: Connect
) -> None:
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, UAI_LOOKUP, max_size=2))
    wanted = [c.uai for c in CENTRES]

    found = await adapter.lookup("organisation", "uai", [*wanted, wanted[0]])

    assert academie.state.calls["graphql"] == 3  # 5 distinct values by 2
    assert sorted(found) == sorted(wanted)


async def test_no_value_no_request(academie: Starlette, connect: Connect) -> None:
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, UAI_LOOKUP))

    assert await adapter.lookup("organisation", "uai", []) == {}
    assert academie.state.calls["graphql"] == 0


async def test_id_without_an_id_look_up_walks_the_list(
    academie: Starlette, connect: Connect
) -> None:
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, CURSOR_LIST, UAI_LOOKUP))
    assert adapter.lookup_keys("organisation") == {"id", "uai"}
    assert adapter.listable("organisation")

    found = await adapter.lookup("organisation", "id", ["0740002D"])

    assert [r.fields["name"] for r in found["0740002D"]] == ["Université Savoie Mont Blanc"]


# -- lists ---------------------------------------------------------------------------------------


async def test_cursor_pages_are_walked_to_the_end(academie: Starlette, connect: Connect) -> None:
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, CURSOR_LIST))

    page = await adapter.list(ListQuery("organisation", {}, limit=50))

    assert academie.state.calls["graphql"] == 3  # 5 records by pages of 2
    assert [r.fields["uai"] for r in page.records] == sorted(c.uai for c in CENTRES)
    assert page.total == 5
    assert not page.truncated


async def test_cursor_walk_stops_at_the_limit(academie: Starlette, connect: Connect) -> None:
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, CURSOR_LIST))

    page = await adapter.list(ListQuery("organisation", {}, limit=3))

    assert len(page.records) == 3
    assert page.truncated
    assert academie.state.calls["graphql"] == 2


OFFSET_LIST = f'''
[partners.academie.entities.organisation.list]
items = "etablissements.nodes"
variables = {{ nature = "CFA" }}
pagination = {{ style = "offset", page_size = 1, limit_variable = "first" }}
query = """
query Cfa($nature: String, $first: Int, $offset: Int) {{
  etablissements(nature: $nature, first: $first, offset: $offset) {{ nodes {{ {NODE} }} }}
}}
"""
'''


async def test_an_offset_list_resumes_at_its_offset(academie: Starlette, connect: Connect) -> None:
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, OFFSET_LIST))

    first = await adapter.list(ListQuery("organisation", {}, limit=1))
    second = await adapter.list(ListQuery("organisation", {}, limit=1, resume=first.end))
    last = await adapter.list(ListQuery("organisation", {}, limit=1, resume=second.end))

    assert (first.positions, first.end, second.positions) == ([1], 1, [2])
    listed = [r.fields["uai"] for r in [*first.records, *second.records]]
    assert sorted(listed) == ["0730001B", "0741451A"]
    assert not first.exhausted and last.records == [] and last.exhausted
    assert adapter.resumable("organisation")


async def test_a_cursor_list_resumes_inside_a_partner_page(
    academie: Starlette, connect: Connect
) -> None:
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, CURSOR_LIST))
    everything = [c.uai for c in sorted(CENTRES, key=lambda c: c.uai)]

    first = await adapter.list(ListQuery("organisation", {}, limit=3))
    rest = await adapter.list(ListQuery("organisation", {}, limit=50, resume=first.positions[0]))

    # pages of 2: after the first record, the position is the start cursor and a skip of 1
    assert first.positions is not None and first.positions[0] == [None, 1]
    assert [r.fields["uai"] for r in rest.records] == everything[1:]
    assert rest.exhausted


async def test_offset_pages_and_static_variables(academie: Starlette, connect: Connect) -> None:
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, OFFSET_LIST))

    page = await adapter.list(ListQuery("organisation", {}, limit=50))

    assert sorted(r.fields["uai"] for r in page.records) == ["0730001B", "0741451A"]
    assert academie.state.calls["graphql"] == 3  # two full pages of 1, then an empty one


# The register serves establishments, not programmes: this block reads them as training
# programmes only to send a real common filter (`departements`) through a real variable.
PROGRAMS_BY_DEPARTEMENT = f'''
[partners.academie.entities.training_program]
id = "uai"
fields.title = "appellationOfficielle"
fields."location.inseeCode" = "adresse.codeInsee"

[partners.academie.entities.training_program.list]
items = "etablissements.nodes"
filters = {{ departements = "departement" }}
query = """
query ($departement: String) {{
  etablissements(departement: $departement, first: 500) {{ nodes {{ {NODE} }} }}
}}
"""
'''


async def test_a_filter_reaches_its_variable(academie: Starlette, connect: Connect) -> None:
    adapter = connect(academie, partner_block(PROGRAMS_BY_DEPARTEMENT))
    assert adapter.pushed_filters("training_program") == {"departements"}

    savoie = await adapter.list(ListQuery("training_program", {"departements": ["73"]}, 50))
    both = await adapter.list(ListQuery("training_program", {"departements": ["73", "74"]}, 50))

    assert {r.fields["location"]["inseeCode"][:2] for r in savoie.records} == {"73"}
    assert len(savoie.records) == 3
    # `$departement` takes one value: with two, nothing is pushed and the gateway filters
    assert len(both.records) == 5


# -- failures ------------------------------------------------------------------------------------


async def test_graphql_errors_are_a_bad_response_that_quotes_nothing(
    academie: Starlette, connect: Connect
) -> None:
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, UAI_LOOKUP))

    with pytest.raises(SourceBadResponse) as caught:
        await adapter.lookup("organisation", "uai", ["0731549M", "not-an-uai"])

    assert caught.value.code == "SOURCE_BAD_RESPONSE"
    assert caught.value.partner == "academie"
    assert "1 error" in str(caught.value)
    assert "not-an-uai" not in str(caught.value)
    assert "invalide" not in str(caught.value)  # the partner's own words stay out


async def test_a_query_the_partner_refuses_is_a_bad_response(
    academie: Starlette, connect: Connect
) -> None:
    renamed = UAI_LOOKUP.replace("appellationOfficielle", "nomOfficiel")
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, renamed))

    with pytest.raises(SourceBadResponse, match=r"GraphQL answer with 1 error"):
        await adapter.lookup("organisation", "uai", ["0731549M"])


async def test_a_refused_token_is_unavailable(connect: Connect) -> None:
    other = create_app(centres=CENTRES, token="another-token")
    adapter = connect(other, partner_block(ORGANISATION_FIELDS, UAI_LOOKUP))

    with pytest.raises(SourceUnavailable, match="credential refused"):
        await adapter.lookup("organisation", "uai", ["0731549M"])
    with pytest.raises(SourceUnavailable):
        await adapter.probe()


async def test_a_caller_refused_in_band_is_what_http_403_says(connect: Connect) -> None:
    """200 with errors all coded FORBIDDEN (how many GraphQL servers refuse): the hub's own
    credential refused, as HTTP 401/403 without a signed principal is, never a bad answer.
    (With the signed principal it is PRINCIPAL_REFUSED: tests/sources/test_counting_graphql.)"""

    async def refusing(request: Request) -> JSONResponse:
        await request.body()
        refused = {"message": "accès refusé", "extensions": {"code": "FORBIDDEN"}}
        return JSONResponse({"data": None, "errors": [refused]})

    partner = Starlette(routes=[Route("/graphql", refusing, methods=["POST"])])
    adapter = connect(partner, partner_block(ORGANISATION_FIELDS, UAI_LOOKUP))

    with pytest.raises(SourceUnavailable, match="GraphQL answer: credential refused") as caught:
        await adapter.lookup("organisation", "uai", ["0731549M"])
    assert "refusé" not in str(caught.value)


async def test_the_bearer_token_is_sent(academie: Starlette, connect: Connect) -> None:
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, UAI_LOOKUP))

    await adapter.probe()

    assert academie.state.calls["graphql"] == 1


def test_a_missing_token_stops_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_TEST_NO_SUCH_TOKEN", raising=False)
    config = config_of(partner_block(ORGANISATION_FIELDS, token_env="HUB_TEST_NO_SUCH_TOKEN"))

    with pytest.raises(LookupError, match="HUB_TEST_NO_SUCH_TOKEN"):
        build_adapter("academie", config)


async def test_records_that_do_not_fit_are_dropped(academie: Starlette, connect: Connect) -> None:
    # `fonctions` is a list: read as a single latitude it cannot fit a number
    broken = ORGANISATION_FIELDS.replace(
        'fields."address.latitude" = "latitude"', 'fields."address.latitude" = "fonctions[0]"'
    )
    adapter = connect(academie, partner_block(broken, UAI_LOOKUP))

    with pytest.raises(SourceBadResponse, match="no organisation record fits"):
        await adapter.lookup("organisation", "uai", ["0731549M", "0741451A"])
    assert adapter.rejected == 2


# -- the demo's own block, over the demo's own register ------------------------------------------


async def test_the_demo_block_enriches_every_centre_in_one_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from demo import academie as register
    from demo.data import dataset
    from demo.run import partners_file

    monkeypatch.setenv("HUB_ACADEMIE_TOKEN", register.TOKEN)
    config = parse_partners(tomllib.loads(partners_file().read_text("utf-8"))).partners["academie"]
    app = register.create_app()
    adapter = build_adapter("academie", config, httpx.ASGITransport(app=app))
    centres = dataset().centres
    try:
        found = await adapter.lookup("organisation", "uai", [c.uai for c in centres])
        by_id = await adapter.lookup("organisation", "id", [centres[0].uai])
    finally:
        await adapter.aclose()

    assert app.state.calls["graphql"] == 2  # 40 centres in one request, then the id look-up
    assert set(found) == {c.uai for c in centres}
    for centre in centres:
        (record,) = found[centre.uai]
        assert record.fields["siret"] == centre.siret
        assert record.fields["kind"] == centre.kind
        assert record.fields["address"]["inseeCode"] == centre.address.insee_code
        assert "TRAINING_PROVIDER" in record.fields["roles"]
    assert [r.fields["uai"] for r in by_id[centres[0].uai]] == [centres[0].uai]


async def test_an_absent_items_path_is_an_empty_page(academie: Starlette, connect: Connect) -> None:
    block = CURSOR_LIST.replace(
        'items = "etablissements.nodes"', 'items = "etablissements.absent"', 1
    )
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, block))

    page = await adapter.list(ListQuery("organisation", {}, limit=50))

    assert page.records == []


async def test_a_next_page_without_a_cursor_is_a_bad_response(
    academie: Starlette, connect: Connect
) -> None:
    block = CURSOR_LIST.replace(
        'end_cursor = "etablissements.pageInfo.endCursor"',
        'end_cursor = "etablissements.pageInfo.absent"',
        1,
    )
    adapter = connect(academie, partner_block(ORGANISATION_FIELDS, block))

    with pytest.raises(SourceBadResponse):
        await adapter.list(ListQuery("organisation", {}, limit=50))
