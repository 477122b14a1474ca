"""Counts pushed down to Hub3E's and AKTO's statistics endpoints equal the same counts made in
memory from their lists (issue 9, items 2 and 8); the endpoints answer an OBSERVATORY
principal with counts and nobody else; Hub3E's declared parameter counts each application once.

The apps are the demo's, over ``httpx.ASGITransport``; expectations come from what they hold.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from adapters import acting
from adapters.counting import DIMENSIONS, CountQuery, CountRow, Period, count_in_memory
from adapters.errors import PrincipalRefused
from adapters.partners_file import parse_partners
from adapters.rest import RestAdapter
from adapters.rest_config import RestPartner
from adapters.types import ListQuery
from demo import akto, hub3e
from demo.data import dataset
from demo.person_seeds import PersonalDataset
from demo.personal import build_personal_dataset
from demo.record_keys import secret
from identity.assertions import AssertionSigner, write_new_key
from identity.principal import Principal, Role

PARTNERS_FILE = Path(__file__).resolve().parents[2] / "demo" / "partners.toml"
OBSERVATORY = Principal(Role.OBSERVATORY, "", "observatory-analyst-01")
COUNTED = {"hub3e": "application", "akto-contrats": "contract"}

Connect = Callable[..., RestAdapter]
ABSENT = {"departement": "01", "rome_domain": "A11", "level": "8"}
"""Values no demo record has, in the shapes the statistics endpoints check."""


def block(partner: str, **changes: Any) -> RestPartner:
    data = tomllib.loads(PARTNERS_FILE.read_text(encoding="utf-8"))
    raw = data["partners"][partner]
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    parsed = parse_partners({"version": 1, "partners": {partner: raw}}).partners[partner]
    assert isinstance(parsed, RestPartner)
    return parsed


def without_params(config: RestPartner, entity: str) -> RestPartner:
    """The block whose statistics are asked with no static parameter (every placement)."""
    spec = config.entities[entity]
    assert spec.aggregates is not None
    aggregates = spec.aggregates.model_copy(update={"params": {}})
    entities = {**config.entities, entity: spec.model_copy(update={"aggregates": aggregates})}
    return config.model_copy(update={"entities": entities})


@pytest.fixture
async def connect(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Connect]:
    monkeypatch.setenv("HUB_HUB3E_API_KEY", hub3e.API_KEY)
    made: list[RestAdapter] = []

    def make(partner: str, app: Starlette, config: RestPartner) -> RestAdapter:
        adapter = RestAdapter(partner, config, httpx.ASGITransport(app=app))
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.aclose()


@pytest.fixture
def observing() -> Iterator[None]:
    with acting.scoped(OBSERVATORY, None):
        yield


def apps(jwks: dict[str, Any] | None = None) -> dict[str, Starlette]:
    return {
        "hub3e": hub3e.create_app(assertion_jwks=jwks),
        "akto-contrats": akto.create_app(assertion_jwks=jwks),
    }


async def in_memory(adapter: RestAdapter, query: CountQuery) -> list[CountRow]:
    return await count_in_memory(adapter.partner, query, adapter.list, secret())


def dimensions_of(adapter: RestAdapter, entity: str) -> list[str]:
    """The declared dimensions a list can be counted by too (not a related record's)."""
    aggregates = adapter.rest.entities[entity].aggregates
    assert aggregates is not None
    return [name for name in aggregates.dimensions if not DIMENSIONS[entity][name].pushed_only]


@st.composite
def queries(draw: st.DrawFn, adapter: RestAdapter, entity: str, seen: list[CountRow]) -> CountQuery:
    names = dimensions_of(adapter, entity)
    aggregates = adapter.rest.entities[entity].aggregates
    assert aggregates is not None
    filterable = [n for n in names if aggregates.dimensions[n].param is not None]
    dimensions = draw(st.lists(st.sampled_from(names), unique=True, max_size=3))
    filters: dict[str, tuple[str, ...]] = {}
    for name in draw(st.lists(st.sampled_from(filterable), unique=True, max_size=2)):
        held = sorted({row.key[names.index(name)] or "" for row in seen} - {""})
        # An absent value of a well-formed shape, which the owners accept.
        absent = ABSENT.get(name, "0000000A")
        filters[name] = tuple(draw(st.lists(st.sampled_from([*held, absent]), min_size=1)))
    period = None
    if draw(st.booleans()):
        start = date(2024, 6, 1) + timedelta(days=draw(st.integers(0, 700)))
        period = Period(start, start + timedelta(days=draw(st.integers(1, 400))))
    return CountQuery(entity, tuple(dimensions), filters, period)


_SEEN: dict[str, list[CountRow]] = {}
"""Each partner's finest in-memory count, where filters draw their values from: once per
partner (its data is fixed), keyed by its name — not by an object's id, which a later
object may reuse once the first is collected."""


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(data=st.data())
@pytest.mark.parametrize("partner", sorted(COUNTED))
async def test_statistics_equal_in_memory_counts(
    connect: Connect, observing: None, partner: str, data: st.DataObject
) -> None:
    entity = COUNTED[partner]
    config = without_params(block(partner, principal=None), entity)
    adapter = connect(partner, apps()[partner], config)
    everything = CountQuery(entity, tuple(dimensions_of(adapter, entity)))
    if partner not in _SEEN:
        _SEEN[partner] = await in_memory(adapter, everything)
    seen = _SEEN[partner]
    assert sum(row.count for row in seen) > 20
    query = data.draw(queries(adapter, entity, seen))
    assert adapter.counts(query)
    pushed = await adapter.count(query)
    assert pushed == await in_memory(adapter, query)


async def test_many_owner_values_of_one_status_are_one_cell(
    connect: Connect, observing: None
) -> None:
    """AKTO's transmis, déposé and en cours are all ACTIVE: their rows add up, and a filter on
    ACTIVE sends the three of them."""
    adapter = connect(
        "akto-contrats", apps()["akto-contrats"], block("akto-contrats", principal=None)
    )
    by_status = await adapter.count(CountQuery("contract", ("status",)))
    statuses = [row.key[0] for row in by_status]
    assert len(statuses) == len(set(statuses)) and "ACTIVE" in statuses
    active = await adapter.count(CountQuery("contract", (), {"status": ("ACTIVE",)}))
    assert [row.count for row in active] == [
        row.count for row in by_status if row.key == ("ACTIVE",)
    ]


async def test_hub3e_counts_the_placements_no_centre_counts(
    connect: Connect, observing: None
) -> None:
    """The demo file asks Hub3E without the placements that mirror a centre's application."""
    app = apps()["hub3e"]
    adapter = connect("hub3e", app, block("hub3e", principal=None))
    placements = app.state.people.placements.values()
    mirrored = [p for p in placements if p.mirrors is not None]
    assert mirrored and len(mirrored) < len(placements)
    counted = await adapter.count(CountQuery("application", ()))
    assert [row.count for row in counted] == [len(placements) - len(mirrored)]
    every = await in_memory(adapter, CountQuery("application", ()))
    assert [row.count for row in every] == [len(placements)]


@pytest.fixture
def signer(tmp_path: Path) -> AssertionSigner:
    path = tmp_path / "assertion.pem"
    write_new_key(path)
    return AssertionSigner.from_pem_file(path)


@pytest.mark.parametrize("partner", sorted(COUNTED))
async def test_the_statistics_answer_the_observatory_only(
    connect: Connect, signer: AssertionSigner, partner: str
) -> None:
    entity = COUNTED[partner]
    checking = connect(partner, apps(signer.jwks())[partner], block(partner))
    open_app = connect(partner, apps()[partner], block(partner, principal=None))
    query = CountQuery(entity, ("status", "month"))
    with acting.scoped(OBSERVATORY, None):
        expected = await open_app.count(query)
    with acting.scoped(OBSERVATORY, signer):
        assert await checking.count(query) == expected
        # The OBSERVATORY principal gets no person from the same owner's list.
        assert (await checking.list(ListQuery(entity, {}, 50))).records == []
    centre = Principal(Role.TRAINING_CENTRE, "0732727T", "centre-user")
    with acting.scoped(centre, signer), pytest.raises(PrincipalRefused):
        await checking.count(query)


# -- dimensions read from related records: pushed down only, checked against the demo data ----


@pytest.fixture(scope="module")
def people() -> PersonalDataset:
    return build_personal_dataset(dataset())  # what the demo's Hub3E and AKTO serve


def placement_cells(people: PersonalDataset) -> Counter[tuple[str, str, str]]:
    """Hub3E's placements that mirror no centre's application (what the demo file asks for),
    by the file's home département and the mission's ROME domain and level."""
    files = {file.id: file for file in people.hub3e_candidates}
    return Counter(
        (
            people.persons[files[p.candidate_id].person_key].commune_insee[:2],
            p.mission.rome_code[:3],
            str(p.mission.level),
        )
        for p in people.hub3e_placements
        if p.application is None
    )


def contract_cells(people: PersonalDataset) -> Counter[tuple[str, str, str, str]]:
    """AKTO's contracts by the employer's département, the certification's ROME domain and
    level, and the OPCO."""
    data = dataset()
    cells: Counter[tuple[str, str, str, str]] = Counter()
    for contract in people.contracts:
        employer = data.employer_by_siret(contract.employer_siret)
        assert employer is not None
        program = contract.program
        key = (employer.address.insee_code[:2], program.rome_codes[0][:3], str(program.level))
        cells[(*key, contract.opco)] += 1
    return cells


async def test_hub3e_related_dimensions_equal_the_demo_data(
    connect: Connect, observing: None, people: PersonalDataset
) -> None:
    adapter = connect("hub3e", apps()["hub3e"], block("hub3e", principal=None))
    query = CountQuery("application", ("departement", "rome_domain", "level"))
    assert adapter.counts(query)
    pushed = {row.key: row.count for row in await adapter.count(query)}
    expected = placement_cells(people)
    assert pushed == expected
    assert len({key[0] for key in expected}) == 2 and len({key[1] for key in expected}) > 2
    domain = Counter(key[1] for key in expected.elements()).most_common(1)[0][0]
    filtered = CountQuery("application", ("level",), {"rome_domain": (domain, "A11")})
    assert {row.key[0]: row.count for row in await adapter.count(filtered)} == Counter(
        key[2] for key in expected.elements() if key[1] == domain
    )


async def test_akto_related_dimensions_equal_the_demo_data(
    connect: Connect, observing: None, people: PersonalDataset
) -> None:
    adapter = connect(
        "akto-contrats", apps()["akto-contrats"], block("akto-contrats", principal=None)
    )
    query = CountQuery("contract", ("departement", "rome_domain", "level", "opco"))
    pushed = {row.key: row.count for row in await adapter.count(query)}
    expected = contract_cells(people)
    assert pushed == expected
    assert len({key[0] for key in expected}) == 2 and len({key[3] for key in expected}) > 1
    filtered = CountQuery("contract", ("rome_domain",), {"departement": ("74",)})
    assert {row.key[0]: row.count for row in await adapter.count(filtered)} == Counter(
        key[1] for key in expected.elements() if key[0] == "74"
    )


async def test_a_count_of_placed_applications_asks_hub3e_nothing(
    connect: Connect, observing: None
) -> None:
    """Hub3E's steps stop at HIRED: no status of its strict map reads PLACED, so a count of
    PLACED applications is empty there without a call, even by a dimension it does not have
    (days_to_placement); without that filter, it cannot answer it."""
    app = apps()["hub3e"]
    adapter = connect("hub3e", app, block("hub3e", principal=None))
    placed = CountQuery("application", ("days_to_placement",), {"status": ("PLACED",)})
    assert adapter.counts(placed)
    assert await adapter.count(placed) == []
    assert app.state.calls["statistiques_placements"] == 0
    assert not adapter.counts(CountQuery("application", ("days_to_placement",)))
    await adapter.count(CountQuery("application", ("status",)))
    assert app.state.calls["statistiques_placements"] == 1  # where a call would be seen
