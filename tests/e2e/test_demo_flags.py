"""`alternance-hub demo --production --config mine.toml`: a partner developer's first try of
their own partner, next to the demo's, behind a gateway in production settings."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from demo import jobs_montagne
from demo.run import partners_file
from tests.e2e.demo_process import DemoProcess, start_demo

MINE = "ma-plateforme"


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # a thread of the test process: signals stay pytest's


@pytest.fixture(scope="module")
def my_partner() -> Iterator[int]:
    """The partner developer's own system: here, a copy of a simulated job board."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(jobs_montagne.create_app(), log_level="warning", lifespan="off")
    server = _Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive()
            threading.Event().wait(0.02)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _my_partners_file(directory: Path, port: int) -> Path:
    """Their partners file: the demo's jobs-montagne block, under their own id and address."""
    text = partners_file().read_text(encoding="utf-8")
    block = re.search(r"^\[partners\.jobs-montagne\]$.*?(?=^# -{20,})", text, re.M | re.S)
    assert block is not None
    mine = block.group(0).replace("jobs-montagne", MINE)
    mine = mine.replace("http://127.0.0.1:8109", f"http://127.0.0.1:{port}")
    path = directory / "mine.toml"
    path.write_text(mine, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def production_demo(
    my_partner: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoProcess]:
    folder = tmp_path_factory.mktemp("mine")
    mine = _my_partners_file(folder, my_partner)
    credentials = folder / "credentials.json"
    demo = start_demo(
        ["--production", "--config", str(mine), "--credentials-out", str(credentials)]
    )
    demo.credentials_file = credentials  # type: ignore[attr-defined]
    try:
        yield demo
    finally:
        demo.process.terminate()
        demo.wait(20)
        demo.kill()


def _post(demo: DemoProcess, query: str) -> Any:
    answer = httpx.post(f"{demo.url}/graphql", json={"query": query}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_users_partner_answers_next_to_the_demos(production_demo: DemoProcess) -> None:
    assert "your partners, from " in production_demo.output and MINE in production_demo.output
    ids = {p["id"] for p in _post(production_demo, "{ partners { id } }")["data"]["partners"]}
    assert MINE in ids and {"francetravail", "jobs-montagne"} <= ids
    offers = _post(
        production_demo,
        f'{{ offers(filter: {{sources: ["{MINE}"]}}, first: 3) {{'
        " edges { node { title provenance { partner } } } } }",
    )["data"]["offers"]["edges"]
    assert offers and all(o["node"]["provenance"][0]["partner"] == MINE for o in offers)


def test_production_settings_are_said_and_applied(production_demo: DemoProcess) -> None:
    assert "Production settings" in production_demo.output
    page = httpx.get(f"{production_demo.url}/graphql", headers={"accept": "text/html"})
    assert page.status_code in (400, 404, 405)
    assert httpx.get(f"{production_demo.url}/graphql/static/graphiql.min.js").status_code == 404
    get = httpx.get(f"{production_demo.url}/graphql", params={"query": "{ partners { id } }"})
    assert get.status_code in (400, 404, 405)
    introspection = httpx.post(
        f"{production_demo.url}/graphql", json={"query": "{ __schema { types { name } } }"}
    )
    assert introspection.status_code == 400  # refused at validation: no data
    assert introspection.json()["errors"] and introspection.json().get("data") is None


def test_the_observatory_page_stays_on_in_production(production_demo: DemoProcess) -> None:
    """For decision makers: said by the demo, served, and its stylesheet with it."""
    assert f"{production_demo.url}/observatory" in production_demo.output
    page = httpx.get(f"{production_demo.url}/observatory", timeout=30)
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    style = httpx.get(f"{production_demo.url}/observatory/static/observatory.css")
    assert style.status_code == 200


def test_a_faulty_user_file_is_refused_with_the_check_config_report(tmp_path: Path) -> None:
    broken = tmp_path / "mine.toml"
    broken.write_text('[partners.x]\nkind = "soap"\n', encoding="utf-8")
    demo = start_demo(["--config", str(broken)], until=None)
    try:
        assert demo.wait(30) == 1, demo.output
        assert f"{broken}:2:" in demo.output and "soap" in demo.output
    finally:
        demo.kill()


def test_a_user_partner_may_not_take_a_demo_partners_id(tmp_path: Path) -> None:
    taken = tmp_path / "mine.toml"
    text = partners_file().read_text(encoding="utf-8")
    block = re.search(r"^\[partners\.jobs-montagne\]$.*?(?=^# -{20,})", text, re.M | re.S)
    assert block is not None
    taken.write_text(block.group(0), encoding="utf-8")
    demo = start_demo(["--config", str(taken)], until=None)
    try:
        assert demo.wait(30) == 1, demo.output
        assert "partner ids the demo already uses: jobs-montagne" in demo.output
    finally:
        demo.kill()


def test_the_credentials_file_holds_one_working_token_per_role(
    production_demo: DemoProcess,
) -> None:
    path: Path = production_demo.credentials_file  # type: ignore[attr-defined]
    credentials = json.loads(path.read_text(encoding="utf-8"))
    assert set(credentials) >= {
        "CANDIDATE",
        "TRAINING_CENTRE",
        "TRAINING_CENTRE_OTHER",
        "EMPLOYER",
        "OPCO",
        "OBSERVATORY",
        "ADMIN",
    }
    assert path.stat().st_mode & 0o777 == 0o600
    for role, credential in credentials.items():
        answer = httpx.post(
            f"{production_demo.url}/graphql",
            json={"query": "{ me { role organisation subject } }"},
            headers={"Authorization": f"Bearer {credential['token']}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        me = answer.json()["data"]["me"]
        assert role.startswith(me["role"]) and me["subject"] == credential["subject"]
        assert (me["organisation"] or "") == credential["organisation"]
    refused = httpx.post(
        f"{production_demo.url}/graphql",
        json={"query": "{ me { role } }"},
        headers={"Authorization": "Bearer nope"},
        timeout=30,
    )
    assert refused.status_code == 401
    jwks = httpx.get(f"{production_demo.url}/.well-known/hub-assertion-jwks.json", timeout=10)
    assert jwks.json()["keys"][0]["alg"] == "ES256"
