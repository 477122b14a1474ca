"""Counts pushed down to a GraphQL owner's own aggregate query equal the same counts made in
memory from its list (issue 9, item 2); the query is sent with variables only and the signed
principal, answered to an OBSERVATORY principal only; a row that is not a count is a bad
answer that quotes nothing of it; a mistaken ``aggregates`` block is found at its line.

The owner is the test GraphQL owner of applications (tests/adapters/graphql_owner.py) over
``httpx.ASGITransport``; expectations come from what it holds.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters import acting
from adapters.config_check import Problem, check_file, format_problems
from adapters.counting import Counter, CountQuery, CountRow, Period, count_in_memory
from adapters.errors import PrincipalRefused, SourceBadResponse, SourceError
from adapters.graphql import GraphqlAdapter, GraphqlPartner
from adapters.partners_file import parse_partners
from demo.record_keys import secret
from identity.assertions import AssertionSigner, write_new_key
from identity.principal import Principal, Role
from tests.adapters.graphql_owner import CENTRE_UAI, PARTNER_BLOCK, GraphqlOwner, partners_data

OBSERVATORY = Principal(Role.OBSERVATORY, "", "observatory-analyst-01")
CENTRE = Principal(Role.TRAINING_CENTRE, CENTRE_UAI, "staff-1")
SEEDED = 80
LIST = """query Toutes {
  toutesCandidatures { numero dossier formation etat referenceClient motif uai creeeLe }
}"""


def _signer() -> AssertionSigner:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "key.pem"
        write_new_key(path)
        return AssertionSigner.from_pem_file(path)


SIGNER = _signer()

Connect = Callable[..., GraphqlAdapter]


def listing_data() -> dict[str, Any]:
    """The owner's block with a list of every application, so that it can be counted in
    memory too (the aggregates are still declared: the in-memory path is called directly)."""
    data = partners_data()
    data["partners"]["cfa-gql"]["entities"]["application"]["list"] = {
        "query": LIST,
        "items": "toutesCandidatures",
    }
    return data


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """``connect(app, data=None)``: the cfa-gql adapter over ``app``, from the block's data."""
    made: list[GraphqlAdapter] = []

    def make(app: Any, data: dict[str, Any] | None = None) -> GraphqlAdapter:
        config = parse_partners(data or listing_data()).partners["cfa-gql"]
        assert isinstance(config, GraphqlPartner)
        adapter = GraphqlAdapter("cfa-gql", config, httpx.ASGITransport(app=app))
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.aclose()


@pytest.fixture
def observing() -> Iterator[None]:
    with acting.scoped(OBSERVATORY, SIGNER):
        yield


def seeded_owner() -> GraphqlOwner:
    owner = GraphqlOwner(assertion_jwks=SIGNER.jwks())
    owner.seed(SEEDED)
    return owner


async def in_memory(adapter: GraphqlAdapter, query: CountQuery) -> list[CountRow]:
    return await count_in_memory(adapter.partner, query, adapter.list, secret())


QUERIES = [
    CountQuery("application", ("status", "month")),
    CountQuery("application", ("month", "status", "training_centre")),
    CountQuery("application", ()),
    CountQuery("application", ("status",), {"status": ("SUBMITTED", "INTERVIEW")}),
    CountQuery("application", ("month",), {"training_centre": (CENTRE_UAI,)}),
    CountQuery("application", ("status",), {"training_centre": ("0000000A",)}),
    CountQuery(
        "application",
        ("status", "month"),
        {"status": ("WITHDRAWN", "UNDER_REVIEW")},
        Period(date(2025, 4, 1), date(2026, 1, 1)),
    ),
    CountQuery(
        "application", ("training_centre",), period=Period(date(2025, 9, 1), date(2025, 9, 20))
    ),
]


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
async def test_the_aggregates_equal_the_in_memory_count(
    connect: Connect, observing: None, query: CountQuery
) -> None:
    owner = seeded_owner()
    adapter = connect(owner.app())
    assert isinstance(adapter, Counter) and adapter.counts(query)
    pushed = await adapter.count(query)
    (sent,) = owner.requests
    assert await in_memory(adapter, query) == pushed
    # The document is the operator's: the values travel in the variables only.
    aggregates = adapter.graphql.entities["application"].aggregates
    assert aggregates is not None and sent.query == aggregates.query
    assert sent.principal is not None


async def test_the_counts_are_meaningful(connect: Connect, observing: None) -> None:
    """The owner's states become common ones, its months spread, each application counted
    once, with its record key."""
    owner = seeded_owner()
    adapter = connect(owner.app())
    rows = await adapter.count(CountQuery("application", ("status", "month")))
    assert sum(row.count for row in rows) == SEEDED
    assert {row.key[0] for row in rows} == {"SUBMITTED", "UNDER_REVIEW", "INTERVIEW", "WITHDRAWN"}
    months = {row.key[1] for row in rows}
    assert len(months) > 20
    assert all(row.key_sum is not None for row in rows)
    (sent,) = owner.requests
    assert sent.variables == {"par": ["ETAT", "MOIS"]}

    filtered = CountQuery(
        "application",
        ("month",),
        {"status": ("SUBMITTED",)},
        Period(date(2025, 3, 1), date(2025, 6, 1)),
    )
    held = [
        a
        for a in owner.applications.values()
        if a.etat.value == "DEPOSEE" and "2025-03-01" <= a.creee_le[:10] < "2025-06-01"
    ]
    assert held
    assert sum(row.count for row in await adapter.count(filtered)) == len(held)
    assert owner.requests[-1].variables == {
        "par": ["MOIS"],
        "etats": ["DEPOSEE"],
        "depuis": "2025-03-01",
        "avant": "2025-06-01",
    }


async def test_a_status_the_owner_cannot_hold_is_an_empty_count_without_a_call(
    connect: Connect, observing: None
) -> None:
    owner = seeded_owner()
    adapter = connect(owner.app())
    query = CountQuery("application", ("month",), {"status": ("PLACED",)})
    assert adapter.counts(query)
    assert await adapter.count(query) == []
    assert owner.requests == []


async def test_what_the_aggregates_do_not_answer_is_counted_elsewhere(connect: Connect) -> None:
    adapter = connect(seeded_owner().app())
    assert not adapter.counts(CountQuery("application", ("channel",)))
    assert not adapter.counts(CountQuery("application", ("status",), {"channel": ("portail",)}))
    assert not adapter.counts(CountQuery("application", ("rome_domain",)))
    by_session = CountQuery(
        "application", (), period=Period(date(2025, 1, 1), date(2026, 1, 1)), period_field="session"
    )
    assert not adapter.counts(by_session)
    assert not adapter.counts(CountQuery("candidate", ("commune",)))


async def test_another_principal_is_refused_by_the_owner(connect: Connect) -> None:
    owner = seeded_owner()
    adapter = connect(owner.app())
    query = CountQuery("application", ("status",))
    with acting.scoped(CENTRE, SIGNER), pytest.raises(SourceError) as refused:
        await adapter.count(query)
    # Its FORBIDDEN error is what HTTP 403 to the signed principal says: not the owner's failure
    assert isinstance(refused.value, PrincipalRefused)
    assert refused.value.partner_fault is False
    assert "observatoire" not in str(refused.value)  # the owner's text is not repeated
    with acting.scoped(OBSERVATORY, SIGNER):
        assert sum(row.count for row in await adapter.count(query)) == SEEDED


# -- malformed answers -----------------------------------------------------------------------


def canned(rows: Any) -> Starlette:
    """A GraphQL endpoint answering every question with ``rows`` as the aggregate rows."""

    async def endpoint(request: Request) -> Response:
        return JSONResponse({"data": {"statistiquesCandidatures": {"groupes": rows}}})

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


BAD_ROWS = {
    "negative count": [{"etat": "DEPOSEE", "effectif": -3, "sommeCles": 7}],
    "text count": [{"etat": "DEPOSEE", "effectif": "12", "sommeCles": 7}],
    "key sum out of the key space": [{"etat": "DEPOSEE", "effectif": 2, "sommeCles": 1 << 40}],
    "negative key sum": [{"etat": "DEPOSEE", "effectif": 2, "sommeCles": -1}],
    "missing group": [{"effectif": 2, "sommeCles": 7}],
    "unknown state": [{"etat": "ARCHIVEE_7731", "effectif": 2, "sommeCles": 7}],
    "rows not a list": {"etat": "DEPOSEE"},
    "row not an object": ["DEPOSEE"],
}


@pytest.mark.parametrize("rows", BAD_ROWS.values(), ids=list(BAD_ROWS))
async def test_a_malformed_row_is_a_bad_answer_quoting_nothing(
    connect: Connect, observing: None, rows: Any
) -> None:
    adapter = connect(canned(rows))
    with pytest.raises(SourceBadResponse) as bad:
        await adapter.count(CountQuery("application", ("status",)))
    assert bad.value.code == "SOURCE_BAD_RESPONSE"
    for value in ("-3", "12", str(1 << 40), "ARCHIVEE_7731"):
        assert value not in str(bad.value)


async def test_rows_on_one_common_key_are_added_up(connect: Connect, observing: None) -> None:
    data = listing_data()
    status = data["partners"]["cfa-gql"]["entities"]["application"]["fields"]["status"]
    status["values"]["EN_PAUSE"] = "UNDER_REVIEW"  # two owner states, one common value
    adapter = connect(
        canned(
            [
                {"etat": "EN_ETUDE", "effectif": 2, "sommeCles": (1 << 32) - 1},
                {"etat": "EN_PAUSE", "effectif": 3, "sommeCles": 5},
                {"etat": "DEPOSEE", "effectif": 0, "sommeCles": 0},
            ]
        ),
        data,
    )
    rows = await adapter.count(CountQuery("application", ("status",)))
    assert rows == [CountRow(("UNDER_REVIEW",), 5, None, 4)]


# -- check-config --------------------------------------------------------------------------

AGGREGATES = "partners.cfa-gql.entities.application.aggregates"
TABLE = f"[{AGGREGATES}]"
QUERY = 'query = """\nquery Statistiques('


def mistaken(tmp_path: Path, old: str, new: str, at: str | None) -> tuple[list[Problem], int]:
    """The owner's block with ``old`` mistaken into ``new``, checked as a partners file; and
    the line of ``at`` in it (None: of the mistake)."""
    text = "version = 1\n" + PARTNER_BLOCK
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    marker = new if at is None else at
    line = text.count("\n", 0, text.index(marker)) + 1
    path = tmp_path / "partners.toml"
    path.write_text(text, encoding="utf-8")
    return check_file(path), line


def only(problems: list[Problem], location: str) -> Problem:
    found = [p for p in problems if p.location == location]
    assert len(found) == 1, format_problems(problems)
    return found[0]


def test_the_owners_block_is_clean(tmp_path: Path) -> None:
    problems, _ = mistaken(tmp_path, TABLE, TABLE, None)
    assert problems == [], format_problems(problems)


MISTAKES = {
    "unknown dimension": (
        'dimensions.month = { group = "MOIS", at = "mois" }',
        'dimensions.mois = { group = "MOIS", at = "mois" }',
        None,
        "dimensions.mois",
        "not a dimension",
    ),
    "unmapped field": (
        'dimensions.month = { group = "MOIS", at = "mois" }',
        'dimensions.channel = { group = "MOIS", at = "mois" }',
        None,
        "dimensions.channel",
        "does not map",
    ),
    "undeclared filter variable": (
        'dimensions.status = { group = "ETAT", at = "etat", variable = "etats" }',
        'dimensions.status = { group = "ETAT", at = "etat", variable = "statuts" }',
        None,
        "dimensions.status.variable",
        "declares no variable $statuts",
    ),
    "undeclared period variable": (
        'period = { from_variable = "depuis", to_variable = "avant" }',
        'period = { from_variable = "depuis", to_variable = "jusqua" }',
        None,
        "period.to_variable",
        "declares no variable $jusqua",
    ),
    "group variable not a list": (
        'group_variable = "par"',
        'group_variable = "depuis"',
        None,
        "group_variable",
        "must be a list",
    ),
    "bad path": ('count = "effectif"', 'count = "effectif[["', None, "count", "not a valid path"),
    "no count": ('count = "effectif"\n', "", TABLE, "count", "Field required"),
    "required variable never filled": (
        "$depuis: String, $avant: String\n)",
        "$depuis: String!, $avant: String\n)",
        QUERY,
        "query",
        "$depuis is never filled",
    ),
    "query not parsing": (
        "  ) { groupes { etat",
        "  ) { groupes { etat ]",
        None,
        "query",
        "GraphQL syntax error",
    ),
}


@pytest.mark.parametrize(
    ("old", "new", "at", "location", "said"), MISTAKES.values(), ids=list(MISTAKES)
)
def test_a_mistaken_aggregates_block_is_found_at_its_line(
    tmp_path: Path, old: str, new: str, at: str | None, location: str, said: str
) -> None:
    problems, line = mistaken(tmp_path, old, new, at)
    problem = only(problems, f"{AGGREGATES}.{location}")
    assert said in problem.message, problem.message
    assert problem.line == line, format_problems(problems)
