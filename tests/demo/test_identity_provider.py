"""The demo's identity provider: real JWTs, one per role, that the gateway's own verifier
accepts with the JWKS the provider wrote."""

from __future__ import annotations

from pathlib import Path

import jwt

from demo import people
from demo.data import dataset
from demo.identity_provider import (
    DEMO_AUDIENCE,
    DEMO_ISSUER,
    TOKEN_LIFETIME_S,
    DemoIdentityProvider,
)
from identity.jwks import JwksKeys
from identity.tokens import JwtRules, JwtVerifier

ROLES = {
    "CANDIDATE",
    "TRAINING_CENTRE",
    "TRAINING_CENTRE_OTHER",
    "EMPLOYER",
    "OPCO",
    "OBSERVATORY",
    "ADMIN",
}


async def test_every_credential_verifies_as_its_persona(tmp_path: Path) -> None:
    provider = DemoIdentityProvider(tmp_path)
    verifier = JwtVerifier(
        JwksKeys(file=provider.jwks_file), JwtRules(("RS256", "ES256"), DEMO_AUDIENCE, DEMO_ISSUER)
    )
    credentials = provider.credentials()
    assert set(credentials) == ROLES
    for name, credential in credentials.items():
        principal = await verifier.verify(credential["token"])
        assert principal.organisation == credential["organisation"]
        assert principal.subject == credential["subject"]
        assert name.startswith(principal.role)
        claims = jwt.decode(credential["token"], options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == TOKEN_LIFETIME_S


def test_the_organisations_are_the_demo_datasets(tmp_path: Path) -> None:
    credentials = DemoIdentityProvider(tmp_path).credentials()
    data = dataset()
    assert credentials["TRAINING_CENTRE"]["organisation"] == data.centre_with_erp("cfa-btp").uai
    other = data.centre_with_erp("cfa-hotellerie").uai
    assert credentials["TRAINING_CENTRE_OTHER"]["organisation"] == other
    employer = data.employer_by_siret(credentials["EMPLOYER"]["organisation"])
    assert employer is not None and employer.opco == credentials["OPCO"]["organisation"] == "AKTO"
    assert credentials["CANDIDATE"]["subject"] == str(people.WALKTHROUGH_CANDIDATE_ID)
    assert credentials["CANDIDATE"]["organisation"] == people.BTP_UAI


def test_each_start_has_its_own_key(tmp_path: Path) -> None:
    first = DemoIdentityProvider(tmp_path / "a")
    second = DemoIdentityProvider(tmp_path / "b")
    assert first.jwks_file.read_bytes() != second.jwks_file.read_bytes()
    assert first.settings()["api_key_pepper"] != second.settings()["api_key_pepper"]
