"""A test signer of principal assertions: the hub's side of the contract, as a partner sees it.

``Signer()`` holds a fresh P-256 key; ``signer.jwks`` is what the partner is given;
``signer.token(aud, role, org, sub)`` a valid assertion, and ``forged(...)`` the classic
bad ones (``alg: none``, HS256 keyed with the public key), built by hand since no library
will sign them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from demo.principal import ISSUER


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Signer:
    def __init__(self, kid: str = "hub-test-1") -> None:
        self.kid = kid
        self.key = ec.generate_private_key(ec.SECP256R1())
        public = ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.jwks: dict[str, Any] = {"keys": [{**public, "kid": kid, "alg": "ES256", "use": "sig"}]}
        self.public_pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def claims(
        self, aud: str, role: str, org: str = "", sub: str = "user-1", **overrides: Any
    ) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": aud,
            "sub": sub,
            "role": role,
            "org": org,
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return claims

    def token(
        self, aud: str, role: str, org: str = "", sub: str = "user-1", **overrides: Any
    ) -> str:
        return self.sign(self.claims(aud, role, org, sub, **overrides))

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": kid or self.kid})

    def headers(self, aud: str, role: str, org: str = "", sub: str = "user-1") -> dict[str, str]:
        return {"X-Hub-Principal": self.token(aud, role, org, sub)}

    def forged(self, kind: str, claims: dict[str, Any]) -> str:
        body = _b64(json.dumps(claims).encode())
        if kind == "none":
            header = _b64(json.dumps({"alg": "none", "kid": self.kid, "typ": "JWT"}).encode())
            return f"{header}.{body}."
        if kind == "hs256-public-key":
            header = _b64(json.dumps({"alg": "HS256", "kid": self.kid, "typ": "JWT"}).encode())
            mac = hmac.new(self.public_pem, f"{header}.{body}".encode(), hashlib.sha256)
            return f"{header}.{body}.{_b64(mac.digest())}"
        if kind == "bad-signature":
            token = self.sign(claims)
            head, payload, signature = token.split(".")
            flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
            return f"{head}.{payload}.{flipped}"
        if kind == "other-key":
            return Signer(self.kid).sign(claims)  # same kid, another private key
        raise ValueError(kind)


def bad_assertions(signer: Signer, aud: str, role: str, org: str = "") -> dict[str, str]:
    """Assertions a partner must refuse, by what is wrong with them."""
    good = signer.claims(aud, role, org)
    now = int(time.time())
    return {
        "wrong audience": signer.sign({**good, "aud": "somebody-else"}),
        "wrong issuer": signer.sign({**good, "iss": "not-the-hub"}),
        "expired": signer.sign({**good, "iat": now - 200, "exp": now - 100}),
        "lifetime over 60 s": signer.sign({**good, "exp": now + 3600}),
        "unknown kid": signer.sign(good, kid="unknown-kid"),
        "unknown role": signer.sign({**good, "role": "SUPERUSER"}),
        "no jti": signer.sign({k: v for k, v in good.items() if k != "jti"}),
        "alg none": signer.forged("none", good),
        "HS256 with the public key": signer.forged("hs256-public-key", good),
        "bad signature": signer.forged("bad-signature", good),
        "signed by another key": signer.forged("other-key", good),
        "not a JWT": "not.a.jwt",
    }
