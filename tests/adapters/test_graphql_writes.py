"""GraphQL writes: a training centre's own GraphQL tool (tests/adapters/graphql_owner.py)
written through its partners-file block, parsed by the real parser.

What must hold: a submit returns the owner's id and a transition changes the application,
each sent once with the signed principal; an input the owner refuses is WriteRejected with
nothing applied; an owner that commits and then stalls past the write budget, or commits and
then fails, gives OutcomeUnknown and the hub finds what it created by its client reference;
a mutation the owner cannot run (a request error) is not an unknown outcome; a block that
cannot work is a check-config error at its line.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters import acting
from adapters.config_check import Problem, check_file, format_problems, partners_json_schema
from adapters.errors import (
    OutcomeUnknown,
    PrincipalRefused,
    SourceBadResponse,
    SourceUnavailable,
    WriteRejected,
)
from adapters.graphql import GraphqlAdapter, GraphqlPartner
from adapters.partners_file import parse_partners
from adapters.writes import Writer
from identity.assertions import AssertionSigner, write_new_key
from identity.principal import Principal, Role
from tests.adapters.graphql_owner import CENTRE_UAI, PARTNER_BLOCK, GraphqlOwner, partners_data

CENTRE = Principal(Role.TRAINING_CENTRE, CENTRE_UAI, "staff-1")
SUBMIT = {
    "candidateId": "D-1",
    "trainingProgramId": "FORM-0003",
    "channel": "portail",
    "status": "SUBMITTED",
    "actorRole": "TRAINING_CENTRE",
}


def _signer() -> AssertionSigner:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "key.pem"
        write_new_key(path)
        return AssertionSigner.from_pem_file(path)


SIGNER = _signer()


Connect = Callable[..., GraphqlAdapter]


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """``connect(app, data=None)``: the cfa-gql adapter over ``app``, from the block's data."""
    made: list[GraphqlAdapter] = []

    def make(app: Any, data: dict[str, Any] | None = None) -> GraphqlAdapter:
        config = parse_partners(data or partners_data()).partners["cfa-gql"]
        assert isinstance(config, GraphqlPartner)
        adapter = GraphqlAdapter("cfa-gql", config, httpx.ASGITransport(app=app))
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.aclose()


@pytest.fixture(autouse=True)
def for_a_centre() -> Iterator[None]:
    """Every call acts for a training centre, as the hub's writes always do."""
    with acting.scoped(CENTRE, SIGNER):
        yield


# -- the owner, behaving -------------------------------------------------------------------


async def test_a_submit_returns_the_owners_id_and_is_found_by_its_reference(
    connect: Connect,
) -> None:
    owner = GraphqlOwner()
    adapter = connect(owner.app())
    assert isinstance(adapter, Writer)
    assert adapter.writes("application") == {"submit", "transition"}

    written = await adapter.write("application", "submit", SUBMIT, "hub-ref-1")

    assert written.partner_id == "CAND-0001"
    (made,) = owner.applications.values()
    assert (made.dossier, made.formation, made.etat.value) == ("D-1", "FORM-0003", "DEPOSEE")
    assert made.reference_client == "hub-ref-1"
    (sent,) = owner.mutations
    assert sent.variables["entree"]["canal"] == "portail"  # dotted names fill the input object
    assert sent.principal is not None
    claims = jwt.decode(
        sent.principal,
        jwt.PyJWKSet.from_dict(SIGNER.jwks()).keys[0],
        algorithms=["ES256"],
        audience="cfa-gql",
    )
    assert (claims["role"], claims["org"], claims["sub"]) == (
        "TRAINING_CENTRE",
        CENTRE_UAI,
        "staff-1",
    )
    assert await adapter.find_by_reference("application", "hub-ref-1") == "CAND-0001"
    assert await adapter.find_by_reference("application", "hub-ref-unknown") is None
    (record,) = (await adapter.lookup("application", "id", ["CAND-0001"]))["CAND-0001"]
    assert record.fields["status"] == "SUBMITTED"
    assert record.fields["clientReference"] == "hub-ref-1"


async def test_a_transition_changes_the_application_at_its_owner(connect: Connect) -> None:
    owner = GraphqlOwner()
    adapter = connect(owner.app())
    created = await adapter.write("application", "submit", SUBMIT, "hub-ref-2")
    move = {"id": created.partner_id, "status": "INTERVIEW", "reason": "rdv le 12"}

    written = await adapter.write("application", "transition", move, "hub-ref-3")

    assert written.partner_id == created.partner_id
    held = owner.applications[created.partner_id]
    assert (held.etat.value, held.motif) == ("ENTRETIEN", "rdv le 12")
    assert owner.mutations[-1].variables == {
        "numero": created.partner_id,
        "etat": "ENTRETIEN",
        "motif": "rdv le 12",
    }


# -- the owner, refusing -------------------------------------------------------------------


async def test_a_refused_input_is_rejected_and_nothing_is_applied(connect: Connect) -> None:
    owner = GraphqlOwner()
    adapter = connect(owner.app())

    with pytest.raises(WriteRejected) as refused:
        await adapter.write("application", "submit", {**SUBMIT, "candidateId": "D-9"}, "r-4")

    assert not refused.value.not_found
    assert refused.value.partner_fault is False  # the client's problem: not for the breaker
    assert "BAD_USER_INPUT" in refused.value.message
    assert "inconnu" not in str(refused.value)  # the owner's text may quote what was sent
    assert owner.applications == {}
    assert len(owner.mutations) == 1
    assert await adapter.find_by_reference("application", "r-4") is None


async def test_a_transition_of_an_unknown_application_is_not_found(connect: Connect) -> None:
    owner = GraphqlOwner()
    adapter = connect(owner.app())
    move = {"id": "CAND-0404", "status": "WITHDRAWN"}

    with pytest.raises(WriteRejected) as refused:
        await adapter.write("application", "transition", move, "r-5")

    assert refused.value.not_found


async def test_a_move_the_owners_rules_refuse_is_rejected_not_missing(connect: Connect) -> None:
    owner = GraphqlOwner()
    adapter = connect(owner.app())
    created = await adapter.write("application", "submit", SUBMIT, "r-6")
    await adapter.write(
        "application", "transition", {"id": created.partner_id, "status": "WITHDRAWN"}, "r-7"
    )

    with pytest.raises(WriteRejected) as refused:
        await adapter.write(
            "application", "transition", {"id": created.partner_id, "status": "INTERVIEW"}, "r-8"
        )

    assert not refused.value.not_found
    assert owner.applications[created.partner_id].etat.value == "RETIREE"


def _user_errors_block() -> dict[str, Any]:
    """The submit written through the owner's userErrors-style mutation instead."""
    data = partners_data()
    submit = data["partners"]["cfa-gql"]["entities"]["application"]["writes"]["submit"]
    submit["mutation"] = """mutation Proposer($entree: DepotEntree!) {
      proposerCandidature(entree: $entree) { candidature { numero } erreurs { champ } } }"""
    submit["created_id"] = "proposerCandidature.candidature.numero"
    submit["user_errors"] = "proposerCandidature.erreurs"
    return data


async def test_refusals_in_the_payload_are_rejections(connect: Connect) -> None:
    owner = GraphqlOwner()
    adapter = connect(owner.app(), _user_errors_block())

    with pytest.raises(WriteRejected):
        await adapter.write("application", "submit", {**SUBMIT, "candidateId": "D-9"}, "r-9")
    written = await adapter.write("application", "submit", SUBMIT, "r-10")

    assert written.partner_id == "CAND-0001"
    assert list(owner.applications) == ["CAND-0001"]


async def test_a_value_without_an_owner_code_is_refused_before_sending(
    connect: Connect,
) -> None:
    owner = GraphqlOwner()
    adapter = connect(owner.app())

    with pytest.raises(WriteRejected):
        await adapter.write("application", "submit", {**SUBMIT, "status": "PLACED"}, "r-11")

    assert owner.requests == []


async def test_a_mutation_the_owner_cannot_run_is_not_an_unknown_outcome(
    connect: Connect,
) -> None:
    data = partners_data()
    submit = data["partners"]["cfa-gql"]["entities"]["application"]["writes"]["submit"]
    submit["mutation"] = submit["mutation"].replace("deposerCandidature", "deposerDossier")
    submit["created_id"] = "deposerDossier.numero"
    owner = GraphqlOwner()
    adapter = connect(owner.app(), data)

    with pytest.raises(SourceBadResponse) as refused:
        await adapter.write("application", "submit", SUBMIT, "r-12")

    # A validation error (data null, no path): refused before running, so not applied.
    assert type(refused.value) is SourceBadResponse
    assert owner.applications == {}


# -- the owner, committing and then failing ------------------------------------------------


async def test_an_owner_that_commits_and_then_stalls_gives_an_unknown_outcome(
    connect: Connect,
) -> None:
    owner = GraphqlOwner(stall_after_commit_s=60)
    adapter = connect(owner.app(), partners_data(deadline_s=0.5))

    with pytest.raises(OutcomeUnknown) as unknown:
        await adapter.write("application", "submit", SUBMIT, "hub-ref-13")

    assert unknown.value.code == "OUTCOME_UNKNOWN"
    assert len(owner.mutations) == 1  # sent once: never retried, though retries are enabled
    # The reconciliation the hub does on a retry with the same key: ask by the reference.
    assert await adapter.find_by_reference("application", "hub-ref-13") == "CAND-0001"
    assert len(owner.mutations) == 1


async def test_an_owner_that_commits_and_then_fails_gives_an_unknown_outcome(
    connect: Connect,
) -> None:
    owner = GraphqlOwner(fail_after_commit=True)
    adapter = connect(owner.app())

    with pytest.raises(OutcomeUnknown):
        await adapter.write("application", "submit", SUBMIT, "hub-ref-14")

    # The error carried the field's path: the resolver ran, and it had committed.
    assert len(owner.mutations) == 1
    assert await adapter.find_by_reference("application", "hub-ref-14") == "CAND-0001"


# -- answers of every kind -----------------------------------------------------------------


def canned(status: int, body: Any, content_type: str = "application/json") -> Starlette:
    """A GraphQL endpoint answering every request the same way."""

    async def endpoint(request: Request) -> Response:
        await request.body()
        if isinstance(body, bytes):
            return Response(body, status_code=status, media_type=content_type)
        return JSONResponse(body, status_code=status)

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


def _error(code: str | None = None, path: list[str] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": "la base a dit non"}
    if code is not None:
        error["extensions"] = {"code": code}
    if path is not None:
        error["path"] = path
    return error


RAN = ["deposerCandidature"]


@pytest.mark.parametrize(
    ("status", "body", "raised"),
    [
        # a request error (no data, or null data and no path): nothing ran
        (200, {"errors": [_error()]}, SourceBadResponse),
        (200, {"data": None, "errors": [_error()]}, SourceBadResponse),
        (400, {"errors": [_error("GRAPHQL_VALIDATION_FAILED")]}, SourceBadResponse),
        (400, {"errors": [_error("BAD_USER_INPUT")]}, WriteRejected),
        (422, b"nope", SourceBadResponse),
        # the mutation ran and failed: it may have committed
        (200, {"data": None, "errors": [_error(None, RAN)]}, OutcomeUnknown),
        (200, {"data": {"deposerCandidature": None}, "errors": [_error("X", RAN)]}, OutcomeUnknown),
        (200, {"data": {"deposerCandidature": None}}, OutcomeUnknown),
        (200, {"data": {"deposerCandidature": {"etat": "DEPOSEE"}}}, OutcomeUnknown),  # no id
        (200, b"<html>ok</html>", OutcomeUnknown),
        # ...unless the owner says it refused
        (200, {"data": None, "errors": [_error("BAD_USER_INPUT", RAN)]}, WriteRejected),
        (200, {"data": None, "errors": [_error("NOT_FOUND", RAN)]}, WriteRejected),
        # mixed: one error the owner did not call a refusal
        (
            200,
            {"data": None, "errors": [_error("BAD_USER_INPUT", RAN), _error(None, RAN)]},
            OutcomeUnknown,
        ),
        # the caller refused in band, as HTTP 401/403 would: nothing applied, not the owner's
        # failure (the call carried the signed principal)
        (200, {"data": None, "errors": [_error("FORBIDDEN", RAN)]}, PrincipalRefused),
        (200, {"errors": [_error("UNAUTHENTICATED")]}, PrincipalRefused),
        (
            200,
            {"data": None, "errors": [_error("FORBIDDEN", RAN), _error(None, RAN)]},
            OutcomeUnknown,
        ),
        # statuses
        (500, b"", OutcomeUnknown),
        (502, b"", OutcomeUnknown),
        (503, b"", SourceUnavailable),
        (429, b"", SourceUnavailable),
        (401, b"", PrincipalRefused),  # the call carried the signed principal
        (413, b"", WriteRejected),
    ],
)
async def test_every_answer_is_classified_once(
    connect: Connect, status: int, body: Any, raised: type[Exception]
) -> None:
    adapter = connect(canned(status, body, "text/html"))

    with pytest.raises(raised) as caught:
        await adapter.write("application", "submit", SUBMIT, "r-15")

    assert type(caught.value) is raised
    assert "la base a dit non" not in str(caught.value)


async def test_an_answer_with_the_id_is_written_even_beside_errors(connect: Connect) -> None:
    body = {
        "data": {"deposerCandidature": {"numero": "CAND-7", "etat": None}},
        "errors": [_error("INTERNAL", [*RAN, "etat"])],  # a sibling field failed, not the write
    }
    adapter = connect(canned(200, body))

    written = await adapter.write("application", "submit", SUBMIT, "r-16")

    assert written.partner_id == "CAND-7"


# -- check-config ----------------------------------------------------------------------------


def _file(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """The owner's block with ``old`` (written once) replaced, and the line of the change."""
    text = "version = 1\n" + PARTNER_BLOCK
    assert text.count(old) == 1, old
    line = text.count("\n", 0, text.index(old)) + 1
    path = tmp_path / "partners.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path, line


def only(problems: list[Problem], location: str) -> Problem:
    found = [p for p in problems if p.location == location]
    assert len(found) == 1, format_problems(problems)
    return found[0]


WRITES = "partners.cfa-gql.entities.application.writes"


def test_the_owner_block_is_clean_and_fits_the_schema(tmp_path: Path) -> None:
    path, _ = _file(tmp_path, 'kind = "graphql"', 'kind = "graphql"')
    assert check_file(path) == []
    jsonschema.validate(partners_data(), partners_json_schema())


SUBMIT_TABLE = "[partners.cfa-gql.entities.application.writes.submit]\n"
TRANSITION_MUTATION = 'mutation = """\nmutation Changer('


@pytest.mark.parametrize(
    ("old", "new", "location", "says", "at"),
    [
        (
            '"entree.canal" = "channel"',
            '"entre.canal" = "channel"',
            f"{WRITES}.submit.variables.entre.canal",
            "the mutation declares no variable $entre",
            None,
        ),
        (
            '"entree.canal" = "channel"',
            '"entree.canal" = "canal"',
            f"{WRITES}.submit.variables.entree.canal",
            "'canal' is not a value of application.submit",
            None,
        ),
        (
            'created_id = "deposerCandidature.numero"\n',
            "\n",
            f"{WRITES}.submit",
            "`submit` creates a record: say where `data` holds its id",
            SUBMIT_TABLE,
        ),
        (
            "[partners.cfa-gql.entities.application.lookups.clientReference]",
            "[partners.cfa-gql.entities.application.lookups.candidateId]",
            f"{WRITES}.submit",
            "`submit` needs `lookups.clientReference`",
            SUBMIT_TABLE,
        ),
        (
            '"entree.referenceClient" = "clientReference"',
            '"entree.referenceClient" = { const = "x" }',
            f"{WRITES}.submit.variables",
            "must send the client reference",
            "[partners.cfa-gql.entities.application.writes.submit.variables]",
        ),
        (
            'numero = "id"',
            'numero = { const = "CAND-1" }',
            f"{WRITES}.transition.variables",
            "`transition` changes a record: a variable must carry its id",
            "[partners.cfa-gql.entities.application.writes.transition.variables]",
        ),
        (
            "[partners.cfa-gql.entities.application.writes.transition]",
            "[partners.cfa-gql.entities.application.writes.withdraw]\n"
            'mutation = "mutation W($n: ID!) { retirer(numero: $n) { numero } }"\n'
            'variables = { n = "id" }\n'
            "[partners.cfa-gql.entities.application.writes.transition]",
            f"{WRITES}.withdraw",
            "`withdraw` is not an action of application",
            None,
        ),
        (
            "mutation Changer(",
            "query Changer(",
            f"{WRITES}.transition.mutation",
            "only mutation operations are allowed, found a query",
            'mutation = """\nquery Changer(',
        ),
        (
            "changerEtat(numero: $numero, etat: $etat, motif: $motif) { numero etat }",
            "changerEtat(numero: $numero, etat: $etat, motif: $motif) { numero } autre { x }",
            f"{WRITES}.transition.mutation",
            "a write is one mutation field, found 2 root selections",
            TRANSITION_MUTATION,
        ),
        (
            "mutation Changer($numero: ID!, $etat: Etat!, $motif: String)",
            "mutation Changer($numero: ID!, $etat: Etat!, $motif: String, $qui: ID!)",
            f"{WRITES}.transition.mutation",
            "the required variable $qui is never filled",
            TRANSITION_MUTATION,
        ),
    ],
)
def test_a_write_block_that_cannot_work_is_reported_at_its_line(
    tmp_path: Path, old: str, new: str, location: str, says: str, at: str | None
) -> None:
    """Each at the line of the key it is about: the changed one, or its table's (``at``)."""
    path, line = _file(tmp_path, old, new)
    text = path.read_text(encoding="utf-8")
    if at is not None:
        assert text.count(at) == 1, at
        line = text.count("\n", 0, text.index(at)) + 1

    problem = only(check_file(path), location)

    assert says in problem.message, format_problems([problem])
    assert problem.line == line, format_problems([problem])


def test_a_syntax_error_in_a_mutation_points_inside_it(tmp_path: Path) -> None:
    path, line = _file(
        tmp_path, "deposerCandidature(entree: $entree) { numero etat }", "deposerCandidature("
    )

    problem = only(check_file(path), f"{WRITES}.submit.mutation")

    assert "GraphQL syntax error" in problem.message
    assert "(line 3, column 1 of the mutation)" in problem.message
    assert problem.line == line + 1  # the `}` after the broken line, where the parser stopped
