"""``check-config`` on real mistakes made in a copy of demo/partners.toml: each is reported at
the line where it was made; and the JSON Schema of the partners file."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.config_check import Problem, check_file, format_problems, partners_json_schema
from adapters.mapping import Mapper, now_instant
from adapters.partners_file import load_partners
from adapters.registry import kinds
from adapters.rest_config import RestPartner
from demo import academie
from demo.run import partners_file

DEMO = partners_file().read_text(encoding="utf-8")
ENV_NAMES = sorted(set(re.findall(r'env = "([A-Z0-9_]+)"', DEMO)))


@pytest.fixture(autouse=True)
def secrets_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every secret the demo file names is set: only the mistakes under test are problems."""
    for name in ENV_NAMES:
        monkeypatch.setenv(name, "test-value")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "partners.toml"
    path.write_text(text, encoding="utf-8")
    return path


def make_mistake(old: str, new: str, text: str = DEMO) -> tuple[str, int]:
    """``text`` with ``old`` (written once) replaced by ``new``, and the line of the change."""
    assert text.count(old) == 1, f"{old!r} must be written once in the demo file"
    at = text.index(old)
    return text.replace(old, new), text.count("\n", 0, at) + 1


def demo_block(partner: str) -> str:
    """The text of one partner's block in the demo file, up to the next separator comment."""
    start = DEMO.index(f"[partners.{partner}]")
    end = DEMO.find("\n# ----", start)
    return DEMO[start : None if end < 0 else end]


def only(problems: list[Problem], location: str) -> Problem:
    found = [p for p in problems if p.location == location]
    assert len(found) == 1, format_problems(problems)
    return found[0]


def test_the_demo_file_is_clean(tmp_path: Path) -> None:
    assert check_file(write(tmp_path, DEMO)) == []


def test_a_misspelt_key(tmp_path: Path) -> None:
    text, line = make_mistake(
        'base_url = "http://127.0.0.1:8105"', 'base_ulr = "http://127.0.0.1:8105"'
    )

    problems = check_file(write(tmp_path, text))

    typo = only(problems, "partners.hub3e.base_ulr")
    assert typo.line == line
    assert typo.column == 1
    assert "remove it, or check its spelling" in typo.hint
    missing = only(problems, "partners.hub3e.base_url")  # reported where it must be added
    assert missing.line == DEMO.split("\n").index("[partners.hub3e]") + 1


def test_a_misspelt_key_inside_an_inline_table(tmp_path: Path) -> None:
    text, line = make_mistake('offset_param = "offset"', 'ofset_param = "offset"')

    problems = check_file(write(tmp_path, text))

    typo = only(problems, "partners.hub3e.entities.offer.pagination.ofset_param")
    assert typo.line == line
    assert typo.column is not None
    assert text.split("\n")[line - 1][typo.column - 1 :].startswith("ofset_param")


def test_a_field_the_common_syntax_does_not_have(tmp_path: Path) -> None:
    text, line = make_mistake('title = "libelle"', 'titel = "libelle"')

    problems = check_file(write(tmp_path, text))

    assert [p.line for p in problems] == [line]
    assert problems[0].location == "partners.hub3e.entities.offer.fields.titel"
    assert problems[0].message == "not a field of the common syntax"


def test_an_unknown_entity(tmp_path: Path) -> None:
    text, line = make_mistake(
        "[partners.hub3e.entities.offer]\n", "[partners.hub3e.entities.offre]\n"
    )
    text = text.replace(
        "[partners.hub3e.entities.offer.fields]", "[partners.hub3e.entities.offre.fields]"
    )

    problems = check_file(write(tmp_path, text))

    problem = only(problems, "partners.hub3e.entities.offre")
    assert problem.line == line
    assert problem.message == "unknown entity"


def test_a_value_outside_the_enumeration_in_a_value_map(tmp_path: Path) -> None:
    text, line = make_mistake('POURVUE = "FILLED"', 'POURVUE = "FILED"')

    problems = check_file(write(tmp_path, text))

    problem = only(problems, "partners.hub3e.entities.offer.fields.status.values.POURVUE")
    assert problem.line == line
    assert "'FILED' is not an allowed value of status" in problem.message
    assert "FILLED" in problem.hint
    assert text.split("\n")[line - 1][(problem.column or 0) - 1 :].startswith("POURVUE")


def test_a_missing_environment_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_ACADEMIE_TOKEN")
    line = DEMO[: DEMO.index('{ env = "HUB_ACADEMIE_TOKEN" }')].count("\n") + 1

    problems = check_file(write(tmp_path, DEMO))

    assert len(problems) == 1
    assert problems[0].location == "partners.academie.auth.token.env"
    assert problems[0].line == line
    assert problems[0].message == "environment variable HUB_ACADEMIE_TOKEN is not set"


def test_a_wrong_auth_type(tmp_path: Path) -> None:
    text, line = make_mistake(
        'type = "api_key", header = "X-Hub3e-Key"', 'type = "apikey", header = "X-Hub3e-Key"'
    )

    problems = check_file(write(tmp_path, text))

    problem = only(problems, "partners.hub3e.auth.type")
    assert problem.line == line
    assert "'api_key'" in problem.hint and "'bearer'" in problem.hint


def test_an_unknown_kind(tmp_path: Path) -> None:
    text, line = make_mistake('kind = "graphql"', 'kind = "grapql"')

    problems = check_file(write(tmp_path, text))

    problem = only(problems, "partners.academie.kind")
    assert problem.line == line
    assert problem.message == "unknown kind 'grapql'"
    assert "graphql" in problem.hint


def test_a_path_that_cannot_be_read(tmp_path: Path) -> None:
    text, line = make_mistake('"location.city" = "ville"', '"location.city" = "ville..nom"')

    problems = check_file(write(tmp_path, text))

    problem = only(problems, "partners.hub3e.entities.offer.fields.location.city")
    assert problem.line == line
    assert problem.message == "'ville..nom' is not a valid path"


def test_a_graphql_syntax_error_points_inside_the_query(tmp_path: Path) -> None:
    text, line = make_mistake(
        "query EtablissementsParUai($uais: [String!]!) {",
        "query EtablissementsParUai($uais: [String!]!) {{",
    )

    problems = check_file(write(tmp_path, text))

    problem = only(problems, "partners.academie.entities.organisation.lookups.uai.query")
    assert "GraphQL syntax error" in problem.message
    assert problem.line == line
    assert problem.hint


def test_a_graphql_variable_the_query_does_not_declare(tmp_path: Path) -> None:
    text, line = make_mistake(
        'variable = "uais"\nitems = "etablissements.nodes"\nmax_size = 100\n'
        "query = '''\nquery EtablissementsParId",
        'variable = "uai"\nitems = "etablissements.nodes"\nmax_size = 100\n'
        "query = '''\nquery EtablissementsParId",
    )

    problems = check_file(write(tmp_path, text))

    problem = only(problems, "partners.academie.entities.organisation.lookups.id.variable")
    assert problem.line == line
    assert problem.message == "the query declares no variable $uai"


def test_invalid_toml_is_reported_at_its_line(tmp_path: Path) -> None:
    text, line = make_mistake('positions = "nb_postes"', 'positions = "nb_postes')

    problems = check_file(write(tmp_path, text))

    assert len(problems) == 1
    assert problems[0].line == line
    assert problems[0].message.startswith("not valid TOML")


def test_several_mistakes_are_all_reported_in_line_order(tmp_path: Path) -> None:
    text, first = make_mistake('title = "libelle"', 'titel = "libelle"')
    text, second = make_mistake('kind = "graphql"', 'kind = "grapql"', text)

    problems = check_file(write(tmp_path, text))

    assert [p.line for p in problems] == [first, second]


def test_the_report_format(tmp_path: Path) -> None:
    text, line = make_mistake('kind = "graphql"', 'kind = "grapql"')
    path = write(tmp_path, text)

    report = format_problems(check_file(path))

    assert report == (
        f"{path}:{line}:1: partners.academie.kind: unknown kind 'grapql' "
        f"(hint: one of: {', '.join(kinds())})"
    )


# -- probing partners ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving_academie() -> Iterator[int]:
    """The real register on a loopback port, in a thread (check_file runs its own loop)."""
    with serving(academie.create_app()) as port:
        yield port


@contextlib.contextmanager
def serving(app: Any) -> Iterator[int]:
    """``app`` on a loopback port, in a thread."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    try:
        for _ in range(500):  # bounded: at most 5 s
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def test_probe_names_the_partner_that_does_not_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_ACADEMIE_TOKEN", academie.TOKEN)
    closed = _free_port()  # nothing listens there
    blocks = f"version = 1\n{demo_block('hub3e')}\n{demo_block('academie')}"
    with serving_academie() as port:
        text = blocks.replace("http://127.0.0.1:8105", f"http://127.0.0.1:{closed}")
        text = text.replace("http://127.0.0.1:8107", f"http://127.0.0.1:{port}")
        path = write(tmp_path, text)

        problems = check_file(path, probe=True, probe_timeout_s=2.0)
        unprobed = check_file(path)

    assert unprobed == []
    assert len(problems) == 1, format_problems(problems)
    assert problems[0].location == "partners.hub3e.base_url"
    assert problems[0].message.startswith("unreachable: SOURCE_UNAVAILABLE")
    assert problems[0].line == text.split("\n").index(f'base_url = "http://127.0.0.1:{closed}"') + 1


# -- JSON Schema ---------------------------------------------------------------------------------


def test_the_schema_accepts_the_demo_file() -> None:
    schema = partners_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)

    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(tomllib.loads(DEMO)))

    assert errors == []


def test_the_schema_is_discriminated_by_kind_over_every_kind() -> None:
    partner = partners_json_schema()["properties"]["partners"]["additionalProperties"]

    assert partner["discriminator"]["propertyName"] == "kind"
    assert set(partner["discriminator"]["mapping"]) == set(kinds())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('base_url = "http://127.0.0.1:8105"', 'base_ulr = "http://127.0.0.1:8105"'),
        ('type = "api_key", header = "X-Hub3e-Key"', 'type = "apikey", header = "X-Hub3e-Key"'),
        ('kind = "graphql"', 'kind = "grapql"'),
        ('page_size = 100, total = "total"', 'page_size = "cent", total = "total"'),
    ],
)
def test_the_schema_refuses_the_mistakes_an_editor_should_underline(old: str, new: str) -> None:
    text, _ = make_mistake(old, new)
    validator = jsonschema.Draft202012Validator(partners_json_schema())

    assert not validator.is_valid(tomllib.loads(text))


# -- what serve refuses, check-config reports first; every problem in one run ------------------


def test_a_lookup_by_a_key_the_mapping_does_not_read(tmp_path: Path) -> None:
    """`lookups.uai` without `fields.uai` used to pass check-config and crash serve."""
    text, line = make_mistake(
        'lookups.id = { path = "/api/v2/missions/{value}" }',
        'lookups.uai = { path = "/api/v2/missions/{value}" }',
    )

    problems = check_file(write(tmp_path, text))

    problem = only(problems, "partners.hub3e.entities.offer.lookups.uai")
    assert problem.line == line
    assert problem.message == "uai is not a field of offer"


def test_a_get_batch_without_param(tmp_path: Path) -> None:
    old = 'lookups.id = { path = "/api/v2/missions/{value}" }'
    text, line = make_mistake(
        old, old[:-2] + ', batch = { path = "/api/v2/missions", method = "GET" } }'
    )

    problems = check_file(write(tmp_path, text))

    problem = only(problems, "partners.hub3e.entities.offer.lookups.id.batch")
    assert problem.line == line
    assert problem.message == "a GET batch needs `param`"


def test_an_unknown_key_hides_no_other_problem(tmp_path: Path) -> None:
    text, typo = make_mistake(
        'base_url = "http://127.0.0.1:8105"', 'base_url = "http://127.0.0.1:8105"\nbase_ulr = 1'
    )
    text, field = make_mistake('title = "libelle"', 'titel = "libelle"', text)
    old = 'lookups.id = { path = "/api/v2/missions/{value}" }'
    text, lookup = make_mistake(old, 'lookups.id = { path = "/api/v2/missions" }', text)

    problems = check_file(write(tmp_path, text))

    assert [(p.line, p.location.rsplit(".", 1)[-1]) for p in problems] == [
        (typo + 1, "base_ulr"),
        (lookup, "path"),
        (field, "titel"),
    ]
    assert all(p.column is not None for p in problems)


def test_every_problem_is_reported_with_its_column(tmp_path: Path) -> None:
    text, line = make_mistake('title = "libelle"', 'title = "libelle..x"')
    path = write(tmp_path, text)

    report = format_problems(check_file(path))

    assert report.startswith(f"{path}:{line}:1: partners.hub3e.entities.offer.fields.title:")


# -- the four attempts of issue 6 at a programme's single session -------------------------------

PROGRAMME_BLOCK = """version = 1

[partners.lycee]
kind = "rest"
base_url = "http://127.0.0.1:{port}"

[partners.lycee.entities.training_program]
id = "id"
list = {{ path = "/programmes" }}

[partners.lycee.entities.training_program.fields]
title = "intitule"
{sessions}
"""


def programme_file(tmp_path: Path, sessions: str, port: int = 9) -> tuple[Path, int]:
    text = PROGRAMME_BLOCK.format(port=port, sessions=sessions)
    return write(tmp_path, text), text.split("\n").index(sessions.split("\n")[0]) + 1


def test_attempt_a_dotted_name_into_the_sessions_is_refused_with_a_hint(tmp_path: Path) -> None:
    """It passed check-config, then every query failed with `'str' object has no attribute
    'get'`."""
    path, line = programme_file(tmp_path, '"sessions.capacity" = "capacity"')

    [problem] = check_file(path)

    assert (problem.line, problem.column) == (line, 1)
    assert problem.message == "sessions is a list of objects: a dotted name cannot reach inside it"
    assert 'sessions = { each = { capacity = "capacity" } }' in problem.hint


def test_attempt_a_path_without_each_is_refused(tmp_path: Path) -> None:
    """It passed check-config, then serve stopped with a traceback."""
    path, line = programme_file(tmp_path, 'sessions = "capacity"')

    [problem] = check_file(path)

    assert problem.line == line
    assert problem.message == "sessions is a list of objects: it needs an `each` table"


def _flat_programmes() -> Starlette:
    async def programmes(request: Request) -> JSONResponse:
        return JSONResponse(
            [
                {
                    "id": f"P{n}",
                    "intitule": "CAP Cuisine",
                    "capacity": "12",
                    "enrolled": n,
                    "session_start": "2026-09-01",
                }
                for n in range(3)
            ]
        )

    return Starlette(routes=[Route("/programmes", programmes)])


def test_attempt_each_over_a_scalar_is_found_by_the_probe_at_its_line(tmp_path: Path) -> None:
    """It passed check-config, then dropped every record with "no training_program record
    fits the common syntax" and no field named."""
    sessions = 'sessions = { path = "capacity", each = { capacity = "capacity" } }'
    with serving(_flat_programmes()) as port:
        path, line = programme_file(tmp_path, sessions, port)
        assert check_file(path) == []

        [problem] = check_file(path, probe=True, probe_timeout_s=5.0)

    assert problem.location == "partners.lycee.entities.training_program.fields.sessions"
    assert problem.line == line
    assert problem.message.startswith("sessions: expected an object in records of the first page")
    assert "partner path `capacity`" in problem.message


def test_attempt_each_over_the_record_itself_gives_the_session(tmp_path: Path) -> None:
    """A path to a list the record does not have silently emptied the field; `each` without
    `path` builds the session from the record's own fields, and the probe finds no fault."""
    sessions = (
        'sessions = { each = { start = "session_start", capacity = "capacity", '
        'enrolled = "enrolled" } }'
    )
    with serving(_flat_programmes()) as port:
        path, _ = programme_file(tmp_path, sessions, port)

        assert check_file(path, probe=True, probe_timeout_s=5.0) == []

    block = load_partners(path).partners["lycee"]
    assert isinstance(block, RestPartner)
    programmes = Mapper("lycee", "training_program", block.entities["training_program"])
    record = programmes.map({"id": "P1", "capacity": "12", "enrolled": 3}, now_instant())
    assert record.fields["sessions"] == [{"start": None, "capacity": 12, "enrolled": 3}]


def test_the_probe_reports_every_failing_field_at_its_own_line(tmp_path: Path) -> None:
    fields = 'sessions = { each = { capacity = "intitule" } }\ndurationMonths = "session_start"'
    with serving(_flat_programmes()) as port:
        path, first = programme_file(tmp_path, fields, port)

        problems = check_file(path, probe=True, probe_timeout_s=5.0)

    assert [(p.line, p.location.rsplit(".", 1)[-1]) for p in problems] == [
        (first, "capacity"),
        (first + 1, "durationMonths"),
    ]
