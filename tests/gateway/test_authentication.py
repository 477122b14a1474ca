"""Authentication at the edge, against the demo's own identity provider and a real (SQLite)
gateway database: who `me` says, 401s without details, forged headers ignored, API keys added
and revoked by the commands, authenticated answers never shared through the response cache."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from demo.identity_provider import DemoIdentityProvider
from demo.personas import personas
from gateway.cli import main
from gateway.settings import Settings
from store.migrate import upgrade_url
from tests.gateway.hubkit import Hub, start_hub
from tests.gateway.logkit import json_logging

ME = "{ me { role organisation subject } }"
PUBLIC = '{ commune(inseeCode: "73065") { name } }'


@pytest.fixture
def provider(tmp_path: Path) -> DemoIdentityProvider:
    return DemoIdentityProvider(tmp_path)


@pytest.fixture
async def hub(
    monkeypatch: pytest.MonkeyPatch, provider: DemoIdentityProvider
) -> AsyncIterator[Hub]:
    options = provider.settings()
    await asyncio.to_thread(upgrade_url, options["database_url"])
    # The commands (clients add/revoke) read the same settings from the environment.
    monkeypatch.setenv("HUB_DATABASE_URL", options["database_url"])
    monkeypatch.setenv("HUB_API_KEY_PEPPER", options["api_key_pepper"])
    settings = Settings(development=True, api_key_cache_ttl_s=0, **options)
    started = await start_hub(monkeypatch, settings=settings)
    yield started
    await started.aclose()


async def _post(hub: Hub, query: str, headers: dict[str, str] | None = None) -> Any:
    return await hub.client.post("/graphql", json={"query": query}, headers=headers or {})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_anonymous_is_no_one(hub: Hub) -> None:
    answer = await hub.query(ME)
    assert answer["data"] == {"me": None}


@pytest.mark.parametrize("persona", personas(), ids=lambda p: p.name)
async def test_each_demo_credential_says_who_it_is(
    hub: Hub, provider: DemoIdentityProvider, persona: Any
) -> None:
    token = provider.credentials()[persona.name]["token"]
    response = await _post(hub, ME, _bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"] == {
        "role": str(persona.role),
        "organisation": persona.organisation or None,
        "subject": persona.subject,
    }


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("Bearer not-a-token", "INVALID_CREDENTIAL"),
        ("Bearer ahk_0123456789abcdef_" + "A" * 43, "INVALID_CREDENTIAL"),
        ("Basic dXNlcjpwYXNz", "MALFORMED_CREDENTIAL"),
        ("Bearer", "MALFORMED_CREDENTIAL"),
        ("", "MALFORMED_CREDENTIAL"),
    ],
)
async def test_a_refused_credential_is_a_401_in_the_graphql_shape(
    hub: Hub, authorization: str, reason: str
) -> None:
    response = await _post(hub, ME, {"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": reason}
    credential = authorization.partition(" ")[2]
    assert not credential or credential not in response.text


async def test_every_bad_token_gets_the_same_answer(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    """Expired, wrong audience, bad signature: the client cannot tell which check failed."""
    good = provider.credentials()["ADMIN"]["token"]
    expired = provider.credentials(now=0)["ADMIN"]["token"]
    header, claims, signature = good.split(".")
    forged = f"{header}.{claims}.{signature[:-4]}AAAA"
    other_audience = jwt.encode(
        {**jwt.decode(good, options={"verify_signature": False}), "aud": "other"},
        provider._key,
        algorithm="ES256",
        headers={"kid": provider.kid},
    )
    bodies = set()
    for token in (expired, forged, other_audience):
        response = await _post(hub, ME, _bearer(token))
        assert response.status_code == 401
        bodies.add(response.content)
    assert len(bodies) == 1


async def test_forged_identity_headers_are_ignored(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    forged = {
        "X-Role": "ADMIN",
        "X-Organisation": "0742182V",
        "X-Org": "0742182V",
        "X-User-Id": "hub-admin-01",
        "X-Hub-Principal": provider.credentials()["ADMIN"]["token"],
        "X-Forwarded-User": "admin",
    }
    anonymous = await _post(hub, ME, forged)
    assert anonymous.json()["data"] == {"me": None}
    candidate = provider.credentials()["CANDIDATE"]["token"]
    as_candidate = await _post(hub, ME, {**forged, **_bearer(candidate)})
    assert as_candidate.json()["data"]["me"] == {
        "role": "CANDIDATE",
        "organisation": "0732727T",
        "subject": "1",
    }


async def test_authenticated_answers_never_share_the_response_cache(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    centre = _bearer(provider.credentials()["TRAINING_CENTRE"]["token"])
    other = _bearer(provider.credentials()["TRAINING_CENTRE_OTHER"]["token"])
    stats = hub.app.state.responses.stats

    first = await _post(hub, PUBLIC, centre)
    assert first.json()["extensions"]["cacheHit"] is False
    assert stats.stored == 0, "an authenticated answer is not kept"
    anonymous = await _post(hub, PUBLIC)
    assert anonymous.json()["extensions"]["cacheHit"] is False, "none kept for anonymous either"
    again = await _post(hub, PUBLIC)
    assert again.json()["extensions"]["cacheHit"] is True  # anonymous answers are kept
    for headers in (centre, other):
        response = await _post(hub, PUBLIC, headers)
        assert response.json()["extensions"]["cacheHit"] is False
        assert response.json()["data"] == again.json()["data"]
    assert stats.hits == 1


async def test_me_is_never_kept_in_the_response_cache(hub: Hub) -> None:
    await hub.query(ME)
    second = await hub.query(ME)
    assert second["extensions"]["cacheHit"] is False


async def test_an_api_key_added_by_the_command_works_until_revoked(
    hub: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    # The commands run their own event loop: in a thread, as from another shell.
    assert (
        await asyncio.to_thread(
            main,
            [
                "clients",
                "add",
                "--name",
                "BTP CFA staff app",
                "--role",
                "TRAINING_CENTRE",
                "--organisation",
                "0732727T",
                "--subject",
                "staff-app",
            ],
        )
        == 0
    )
    printed = capsys.readouterr().out
    key = next(word for word in printed.split() if word.startswith("ahk_"))
    client_id = printed.split()[1]
    response = await _post(hub, ME, _bearer(key))
    assert response.json()["data"]["me"] == {
        "role": "TRAINING_CENTRE",
        "organisation": "0732727T",
        "subject": "staff-app",
    }
    assert await asyncio.to_thread(main, ["clients", "revoke", client_id]) == 0
    refused = await _post(hub, ME, _bearer(key))
    assert refused.status_code == 401  # HUB_API_KEY_CACHE_TTL_S=0 here: at once


async def test_no_credential_reaches_a_log_line(
    hub: Hub, provider: DemoIdentityProvider, capfd: pytest.CaptureFixture[str]
) -> None:
    token = provider.credentials()["EMPLOYER"]["token"]
    bad = "Bearer qxcanary-token-4711"
    with json_logging("DEBUG"):
        assert (await _post(hub, ME, _bearer(token))).status_code == 200
        assert (await _post(hub, ME, {"Authorization": bad})).status_code == 401
    logs = capfd.readouterr().err
    assert "credential refused" in logs
    assert token not in logs and token.split(".")[2] not in logs
    assert "qxcanary-token-4711" not in logs


async def test_an_unreadable_gateway_database_is_a_503(
    monkeypatch: pytest.MonkeyPatch, provider: DemoIdentityProvider, tmp_path: Path
) -> None:
    options = {**provider.settings(), "database_url": f"sqlite:///{tmp_path}/unmigrated.sqlite3"}
    hub = await start_hub(monkeypatch, settings=Settings(development=True, **options))
    try:
        response = await _post(hub, ME, _bearer("ahk_0123456789abcdef_" + "A" * 43))
        assert response.status_code == 503
        assert response.json()["errors"][0]["extensions"]["code"] == "IDENTITY_UNAVAILABLE"
        assert (await _post(hub, ME)).status_code == 200  # anonymous reads go on
    finally:
        await hub.aclose()


async def test_the_assertion_jwks_is_published(hub: Hub) -> None:
    response = await hub.client.get("/.well-known/hub-assertion-jwks.json")
    assert response.status_code == 200
    (key,) = response.json()["keys"]
    signer = hub.app.state.identity.assertions
    assert key["kid"] == signer.kid and key["crv"] == "P-256" and "d" not in key
    persona = personas()[1]
    from identity.principal import Principal

    token = signer.sign(Principal(persona.role, persona.organisation, persona.subject), "cfa-btp")
    public = jwt.PyJWK.from_dict(key)
    claims = jwt.decode(token, public, algorithms=["ES256"], audience="cfa-btp")
    assert claims["org"] == persona.organisation
