"""The signed principal assertion: ES256, kid, the contract's claims, verifiable with the
published JWKS alone."""

from __future__ import annotations

import os
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from identity.assertions import ASSERTION_TTL_S, AssertionSigner, write_new_key
from identity.principal import Principal, Role


@pytest.fixture
def signer(tmp_path: Path) -> AssertionSigner:
    path = tmp_path / "assertion.pem"
    write_new_key(path)
    return AssertionSigner.from_pem_file(path)


def _verify(signer: AssertionSigner, token: str, audience: str) -> dict[str, object]:
    """What a partner does: its own name as audience, ES256 only, 5 s of leeway."""
    keys = jwt.PyJWKSet.from_dict(signer.jwks())
    key = next(k for k in keys.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    return jwt.decode(
        token,
        key,
        algorithms=["ES256"],
        audience=audience,
        issuer="alternance-hub",
        leeway=5,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )


def test_an_assertion_round_trips_with_the_published_jwks(signer: AssertionSigner) -> None:
    principal = Principal(Role.TRAINING_CENTRE, "0732727T", "staff-cfa-btp-01")
    token = signer.sign(principal, "cfa-btp")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["kid"] == signer.kid
    claims = _verify(signer, token, "cfa-btp")
    assert {k: claims[k] for k in ("iss", "aud", "sub", "role", "org")} == {
        "iss": "alternance-hub",
        "aud": "cfa-btp",
        "sub": "staff-cfa-btp-01",
        "role": "TRAINING_CENTRE",
        "org": "0732727T",
    }
    assert claims["exp"] == claims["iat"] + ASSERTION_TTL_S  # type: ignore[operator]
    assert signer.sign(principal, "cfa-btp").split(".")[1] != token.split(".")[1]  # a new jti
    with pytest.raises(jwt.InvalidAudienceError):
        _verify(signer, token, "hub3e")  # meant for another partner


def test_roles_without_an_organisation_say_an_empty_one(signer: AssertionSigner) -> None:
    claims = _verify(
        signer, signer.sign(Principal(Role.ADMIN, "", "", client_id="cli_9"), "akto"), "akto"
    )
    assert claims["org"] == "" and claims["sub"] == "cli_9"


def test_an_old_assertion_is_refused_by_the_partner(signer: AssertionSigner) -> None:
    token = signer.sign(Principal(Role.OPCO, "AKTO", "agent"), "akto", now=time.time() - 120)
    with pytest.raises(jwt.ExpiredSignatureError):
        _verify(signer, token, "akto")


def test_the_jwks_is_the_contracts_and_its_kid_is_stable(
    signer: AssertionSigner, tmp_path: Path
) -> None:
    (key,) = signer.jwks()["keys"]
    assert set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in key  # the public half only
    write_new_key(tmp_path / "again.pem")
    assert AssertionSigner.from_pem_file(tmp_path / "again.pem").kid != signer.kid
    path = tmp_path / "assertion.pem"
    assert AssertionSigner.from_pem_file(path).kid == signer.kid
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_keys_other_than_p256_are_refused(tmp_path: Path) -> None:
    for private in (
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec.generate_private_key(ec.SECP384R1()),
    ):
        path = tmp_path / "other.pem"
        path.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        with pytest.raises(ValueError):
            AssertionSigner.from_pem_file(path)


def test_vouched_claims_travel_but_never_replace_the_standard_ones(
    signer: AssertionSigner,
) -> None:
    principal = Principal(Role.CANDIDATE, "0732727T", "1")
    token = signer.sign(
        principal, "akto-contrats", extra={"ine": "1234567890A", "sub": "someone", "aud": "x"}
    )
    claims = _verify(signer, token, "akto-contrats")
    assert claims["ine"] == "1234567890A"
    assert (claims["sub"], claims["aud"]) == ("1", "akto-contrats")
    assert "ine" not in _verify(signer, signer.sign(principal, "akto-contrats"), "akto-contrats")
