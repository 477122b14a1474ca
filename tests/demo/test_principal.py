"""The partners' check of the hub's signed principal assertion (demo/principal.py)."""

from __future__ import annotations

import time

import pytest

from demo.principal import AssertionVerifier, Principal
from tests.demo.assertions import Signer, bad_assertions


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


def test_a_valid_assertion_gives_the_principal(signer: Signer) -> None:
    verifier = AssertionVerifier(signer.jwks, audience="akto")
    token = signer.token("akto", "TRAINING_CENTRE", "0732727T", "staff-7")
    assert verifier.verify(token) == Principal("TRAINING_CENTRE", "0732727T", "staff-7")


def test_iat_and_exp_have_five_seconds_of_leeway(signer: Signer) -> None:
    verifier = AssertionVerifier(signer.jwks, audience="akto")
    now = int(time.time())
    just_expired = signer.token("akto", "OPCO", "AKTO", iat=now - 62, exp=now - 2)
    assert verifier.verify(just_expired) == Principal("OPCO", "AKTO", "user-1")
    long_expired = signer.token("akto", "OPCO", "AKTO", iat=now - 70, exp=now - 10)
    assert verifier.verify(long_expired) is None


@pytest.mark.parametrize("case", sorted(bad_assertions(Signer(), "akto", "OPCO", "AKTO")), ids=str)
def test_every_bad_assertion_is_refused(signer: Signer, case: str) -> None:
    verifier = AssertionVerifier(signer.jwks, audience="akto")
    assert verifier.verify(signer.token("akto", "OPCO", "AKTO")) is not None
    assert verifier.verify(bad_assertions(signer, "akto", "OPCO", "AKTO")[case]) is None


def test_no_assertion_is_refused(signer: Signer) -> None:
    verifier = AssertionVerifier(signer.jwks, audience="hub3e")
    assert verifier.verify(None) is None
    assert verifier.verify("") is None


def test_keys_other_than_p256_es256_are_never_used(signer: Signer) -> None:
    hmac_key = {"kty": "oct", "k": "c2VjcmV0", "kid": signer.kid, "alg": "HS256"}
    verifier = AssertionVerifier({"keys": [hmac_key]}, audience="akto")
    assert verifier.verify(signer.token("akto", "OPCO", "AKTO")) is None
