"""A canary planted in the ERPs' personal data (a candidate's last name, e-mail and a follow-up
summary) reaches the principal who may read it, and nothing else: no log line at DEBUG, no key
or value of the in-process or the Redis cache tier, no metric (TEST-PLAN "Personal data")."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from demo import people
from demo.cfa_erp import seed_demo_databases
from demo.identity_provider import DemoIdentityProvider
from gateway.settings import Settings
from resolvers.ids import global_id
from store.migrate import upgrade_url
from tests.gateway.hubkit import Hub, start_hub
from tests.gateway.logkit import json_lines, json_logging
from tests.services import redis_url

CANARY = "Kanaripers0nal"
DOSSIER = """query Dossier($id: ID!) { dossier(candidate: $id) {
  candidate { lastName email } followUps { summary } applications { status } } }"""
LISTS = """query Lists { applications(first: 100) {
  edges { node { candidate { lastName email } } } } }"""


@pytest.fixture(params=["memory", "redis"])
async def hub(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[tuple[Hub, DemoIdentityProvider, str | None]]:
    monkeypatch.setenv("HUB_DEMO_CANARY", CANARY)
    for name, dsn in (await seed_demo_databases(tmp_path / "erp", None)).items():
        monkeypatch.setenv(name, dsn)
    provider = DemoIdentityProvider(tmp_path / "idp")
    options = provider.settings()
    await asyncio.to_thread(upgrade_url, options["database_url"])
    redis_db = None
    if request.param == "redis":
        redis_db = re.sub(r"/\d*$", "", redis_url()) + "/14"
        redis.Redis.from_url(redis_db).flushdb()  # db 14 is this test's alone
    settings = Settings(
        development=False, cache_url=redis_db or "memory://", cache_namespace="pcanary", **options
    )
    started = await start_hub(
        monkeypatch, partners=("cfa-btp", "cfa-hotellerie", "sirene"), settings=settings
    )
    yield started, provider, redis_db
    await started.aclose()
    if redis_db is not None:
        redis.Redis.from_url(redis_db).flushdb()


async def test_the_canary_reaches_its_reader_and_nowhere_else(
    hub: tuple[Hub, DemoIdentityProvider, str | None], capfd: pytest.CaptureFixture[str]
) -> None:
    started, provider, redis_db = hub
    token = provider.credentials()["TRAINING_CENTRE"]["token"]
    headers = {"Authorization": f"Bearer {token}"}
    carrier = global_id("candidate", "cfa-btp", str(people.CANARY_CANDIDATES["cfa-btp"]))
    with json_logging("DEBUG"):
        answers = []
        for body in (
            {"query": DOSSIER, "variables": {"id": carrier}},
            {"query": LISTS},
            {"query": "{ offers(first: 3) { edges { node { title } } } }"},  # cached, public
        ):
            response = await started.client.post("/graphql", json=body, headers=headers)
            answers.append(response.text)
        metrics = (await started.client.get("/metrics")).text
    logs = capfd.readouterr().err

    assert CANARY in answers[0], "the canary was planted and its reader sees it"
    assert json_lines(logs) is not None  # every line JSON
    assert CANARY.lower() not in logs.lower(), "a canary in a log line"
    assert CANARY.lower() not in metrics.lower(), "a canary in /metrics"
    cache = started.app.state.cache
    local = "\n".join(f"{k} {entry.payload!r}" for k, entry in cache._local.items())
    assert CANARY.lower() not in local.lower(), "a canary in the in-process cache"
    if redis_db is not None:
        client = redis.Redis.from_url(redis_db)
        stored = "\n".join(f"{k!r} {client.get(k)!r}" for k in client.scan_iter(count=1000))
        assert CANARY.lower() not in stored.lower(), "a canary in Redis"
