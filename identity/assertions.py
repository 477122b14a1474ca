"""The hub's signed principal assertion: the ``X-Hub-Principal`` header of a partner call.

A compact JWS, ES256 (P-256), ``kid`` in its header, claims ``iss`` ("alternance-hub"), ``aud``
(the partner's name in the partners file), ``sub``, ``role``, ``org`` ("" for roles without
one), ``iat``, ``exp`` (``iat`` + 60 s) and a random ``jti``. A partner checks it with the
public key the gateway publishes at ``/.well-known/hub-assertion-jwks.json``
(:meth:`AssertionSigner.jwks`), so an owner can enforce its own rules on who the hub acts for.

The signing key is a PEM file (``HUB_ASSERTION_KEY_FILE``); :func:`write_new_key` makes one (the
demo does at each start). Its ``kid`` is the key's RFC 7638 thumbprint, so the same key always
has the same ``kid`` on every replica.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from identity.principal import Principal

__all__ = [
    "ASSERTION_ALGORITHM",
    "ASSERTION_HEADER",
    "ASSERTION_ISSUER",
    "ASSERTION_TTL_S",
    "STANDARD_CLAIMS",
    "AssertionSigner",
    "write_new_key",
]

ASSERTION_HEADER = "X-Hub-Principal"
ASSERTION_ISSUER = "alternance-hub"
ASSERTION_ALGORITHM = "ES256"
ASSERTION_TTL_S = 60
STANDARD_CLAIMS = frozenset({"iss", "aud", "sub", "role", "org", "iat", "exp", "jti", "nbf"})
"""Claims the contract defines: what the hub vouches for beyond them never replaces them."""


class AssertionSigner:
    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise ValueError("the assertion key must be an EC key on P-256 (ES256)")
        self._key = private_key
        public = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
        self._public_jwk = {k: public[k] for k in ("kty", "crv", "x", "y")}
        self.kid = _thumbprint(self._public_jwk)

    @classmethod
    def from_pem_file(cls, path: Path) -> AssertionSigner:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the assertion key must be an EC private key (PEM)")
        return cls(key)

    def sign(
        self,
        principal: Principal,
        partner: str,
        now: float | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> str:
        """The assertion that the hub calls ``partner`` on behalf of ``principal``.

        ``extra``: claims the hub vouches for besides the principal (``ine``: the apprentice a
        CANDIDATE principal was matched to); a standard claim there is ignored, never used.
        """
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            name: value for name, value in (extra or {}).items() if name not in STANDARD_CLAIMS
        }
        claims |= {
            "iss": ASSERTION_ISSUER,
            "aud": partner,
            "sub": principal.subject or principal.client_id or principal.token_id or "",
            "role": str(principal.role),
            "org": principal.organisation,
            "iat": issued,
            "exp": issued + ASSERTION_TTL_S,
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode(
            claims, self._key, algorithm=ASSERTION_ALGORITHM, headers={"kid": self.kid}
        )

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public key set partners verify assertions with."""
        return {
            "keys": [
                {**self._public_jwk, "kid": self.kid, "alg": ASSERTION_ALGORITHM, "use": "sig"}
            ]
        }


def _thumbprint(jwk: dict[str, str]) -> str:
    canonical = orjson.dumps(jwk, option=orjson.OPT_SORT_KEYS)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def write_new_key(path: Path) -> None:
    """A new P-256 private key at ``path`` (PEM, readable by its owner only)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
