"""The JWT battery (TEST-PLAN "Identity and access"): every bad token is refused alike, and the
algorithms are never taken from the token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from identity.errors import INVALID, Unauthenticated
from identity.jwks import JwksKeys
from identity.principal import Principal, Role
from identity.tokens import JwtRules, JwtVerifier
from tests.identity.keys import AUDIENCE, ISSUER, SigningKey, write_jwks

RULES = JwtRules(("RS256", "ES256"), AUDIENCE, ISSUER, leeway_s=30)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rsa_key() -> SigningKey:
    return SigningKey.rsa("rsa-1")


@pytest.fixture
def ec_key() -> SigningKey:
    return SigningKey.ec("ec-1")


@pytest.fixture
def jwks_file(tmp_path: Path, rsa_key: SigningKey, ec_key: SigningKey) -> Path:
    return write_jwks(tmp_path / "jwks.json", rsa_key, ec_key)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys(jwks_file: Path, clock: Clock) -> JwksKeys:
    return JwksKeys(file=jwks_file, min_refresh_interval_s=30, clock=clock)


@pytest.fixture
def verifier(keys: JwksKeys) -> JwtVerifier:
    return JwtVerifier(keys, RULES)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _handmade(header: dict[str, object], claims: dict[str, object], sign: bytes | None) -> str:
    """A token written by hand (PyJWT refuses to write the forgeries)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(sign, signing_input.encode(), hashlib.sha256).digest() if sign else b""
    return f"{signing_input}.{_b64(signature)}"


def _claims() -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "hub_role": "ADMIN",
        "iat": now,
        "exp": now + 600,
    }


async def _refused(verifier: JwtVerifier, token: str) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as refused:
        await verifier.verify(token)
    assert refused.value.reason == INVALID  # what the client sees: alike for every check
    return refused.value


@pytest.mark.parametrize("key_name", ["rsa_key", "ec_key"])
async def test_a_good_token_gives_its_principal(
    verifier: JwtVerifier, key_name: str, request: pytest.FixtureRequest
) -> None:
    key: SigningKey = request.getfixturevalue(key_name)
    principal = await verifier.verify(key.token())
    assert principal == Principal(Role.TRAINING_CENTRE, "0732727T", "user-1", token_id="token-1")


async def test_an_expired_token_is_refused(verifier: JwtVerifier, rsa_key: SigningKey) -> None:
    past = int(time.time()) - 3600
    refused = await _refused(verifier, rsa_key.token(iat=past, exp=past + 600))
    assert refused.check == "jwt_expired"


async def test_the_leeway_forgives_a_little_clock_skew(
    verifier: JwtVerifier, rsa_key: SigningKey
) -> None:
    now = int(time.time())
    principal = await verifier.verify(rsa_key.token(iat=now - 600, exp=now - 10))
    assert principal.role is Role.TRAINING_CENTRE


@pytest.mark.parametrize("claim", ["nbf", "iat"])
async def test_a_token_not_yet_valid_is_refused(
    verifier: JwtVerifier, rsa_key: SigningKey, claim: str
) -> None:
    later = int(time.time()) + 3600
    refused = await _refused(verifier, rsa_key.token(**{claim: later, "exp": later + 600}))
    assert refused.check == "jwt_not_yet_valid"


async def test_a_wrong_audience_is_refused(verifier: JwtVerifier, ec_key: SigningKey) -> None:
    refused = await _refused(verifier, ec_key.token(aud="another-api"))
    assert refused.check == "jwt_audience"


async def test_a_wrong_issuer_is_refused(verifier: JwtVerifier, ec_key: SigningKey) -> None:
    refused = await _refused(verifier, ec_key.token(iss="https://idp.elsewhere"))
    assert refused.check == "jwt_issuer"


@pytest.mark.parametrize("claim", ["exp", "iat", "aud", "iss"])
async def test_a_token_missing_a_required_claim_is_refused(
    verifier: JwtVerifier, ec_key: SigningKey, claim: str
) -> None:
    await _refused(verifier, ec_key.token(**{claim: None}))


async def test_a_bad_signature_is_refused(verifier: JwtVerifier, rsa_key: SigningKey) -> None:
    stranger = SigningKey.rsa(rsa_key.kid)  # another key claiming the provider's kid
    refused = await _refused(verifier, stranger.token())
    assert refused.check == "jwt_signature"
    header, _, signature = rsa_key.token().split(".")
    tampered = _b64(json.dumps({**_claims(), "hub_role": "ADMIN"}).encode())
    assert (await _refused(verifier, f"{header}.{tampered}.{signature}")).check == "jwt_signature"


async def test_alg_none_is_refused(verifier: JwtVerifier, rsa_key: SigningKey) -> None:
    for alg in ("none", "None", "NONE"):
        token = _handmade({"alg": alg, "typ": "JWT", "kid": rsa_key.kid}, _claims(), None)
        assert (await _refused(verifier, token)).check == "jwt_algorithm"


async def test_hs256_signed_with_the_public_key_is_refused(
    verifier: JwtVerifier, rsa_key: SigningKey
) -> None:
    public_pem = rsa_key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = _handmade({"alg": "HS256", "typ": "JWT", "kid": rsa_key.kid}, _claims(), public_pem)
    assert (await _refused(verifier, token)).check == "jwt_algorithm"
    # Even a configuration naming HS256 cannot be written: symmetric algorithms are refused.
    with pytest.raises(ValueError, match="asymmetric"):
        JwtRules(("HS256",), AUDIENCE, ISSUER)


async def test_a_kid_of_another_algorithm_is_refused(
    verifier: JwtVerifier, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    """An ES256 token naming the RSA key's kid: the key's algorithm decides, not the token's."""
    mixed = SigningKey("rsa-1", "ES256", ec_key.private)
    assert (await _refused(verifier, mixed.token())).check == "jwt_algorithm"


async def test_an_unknown_kid_is_refused_after_one_refresh(
    verifier: JwtVerifier, keys: JwksKeys, clock: Clock
) -> None:
    stranger = SigningKey.ec("not-published")
    await _refused(verifier, SigningKey.ec("ec-1").token())  # a first read: wrong key
    assert keys.reads == 1
    assert (await _refused(verifier, stranger.token())).check == "jwt_kid"
    assert keys.reads == 1, "within the refresh interval: no new read"
    clock.now += 31
    assert (await _refused(verifier, stranger.token())).check == "jwt_kid"
    assert keys.reads == 2, "one refresh for the unknown kid"
    await _refused(verifier, stranger.token())
    assert keys.reads == 2, "and no more until the interval passed again"


async def test_a_rotated_key_is_found_by_the_refresh(
    jwks_file: Path, keys: JwksKeys, verifier: JwtVerifier, rsa_key: SigningKey, clock: Clock
) -> None:
    assert (await verifier.verify(rsa_key.token())).role is Role.TRAINING_CENTRE
    rotated = SigningKey.ec("ec-2")
    write_jwks(jwks_file, rsa_key, rotated)
    clock.now += 31
    assert (await verifier.verify(rotated.token())).subject == "user-1"
    assert keys.reads == 2


@pytest.mark.parametrize(
    "claims",
    [
        {"hub_role": None},
        {"hub_role": "SUPERUSER"},
        {"hub_role": "EMPLOYER", "hub_org": "12345678901234"},  # not a valid SIRET
        {"hub_role": "CANDIDATE", "hub_org": None, "sub": None},  # a candidate is someone
        {"hub_role": "ADMIN", "hub_org": "0732727T"},  # no organisation for an admin
    ],
)
async def test_a_token_giving_no_valid_principal_is_refused(
    verifier: JwtVerifier, ec_key: SigningKey, claims: dict[str, object]
) -> None:
    assert (await _refused(verifier, ec_key.token(**claims))).check == "jwt_principal"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "e30.e30.", "ahk_not_a_jwt"])
async def test_garbage_is_refused(verifier: JwtVerifier, garbage: str) -> None:
    await _refused(verifier, garbage)
