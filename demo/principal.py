"""How a simulated partner checks the principal a hub acts for (the signed assertion).

Each call a hub makes on behalf of a principal carries ``X-Hub-Principal: <compact JWS>``,
ES256 only, with ``kid``; claims ``iss`` = ``alternance-hub``, ``aud`` = the partner's name in
the partners file, ``sub``, ``role``, ``org``, ``iat``, ``exp`` (at most 60 s after ``iat``),
``jti``; and what the hub vouches for besides, ``ine`` (the apprentice a CANDIDATE principal
was matched to, by INE). The partner holds the hub's public keys as a JWKS. Usage::

    verifier = AssertionVerifier(jwks, audience="akto")
    principal = verifier.verify(request.headers.get(PRINCIPAL_HEADER))  # None: answer 401

Anything wrong (no header, unknown ``kid``, another algorithm — ``none``, HS256 signed with
the public key —, a bad signature, another audience or issuer, expired, a lifetime over 60 s,
an unknown role) is the same ``None``: the partner says 401 and never why, and logs nothing of
the token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import jwt
from starlette.requests import Request

from demo.http_support import BadRequest

PRINCIPAL_HEADER: Final = "X-Hub-Principal"
ISSUER: Final = "alternance-hub"
ALGORITHM: Final = "ES256"
LEEWAY_S: Final = 5
MAX_LIFETIME_S: Final = 60
ROLES: Final = frozenset(
    {"CANDIDATE", "TRAINING_CENTRE", "EMPLOYER", "OPCO", "OBSERVATORY", "ADMIN"}
)
_REQUIRED: Final = ("iss", "aud", "sub", "iat", "exp", "jti")


@dataclass(frozen=True, slots=True)
class Principal:
    role: str
    org: str
    sub: str
    ine: str | None = None  # vouched by the hub: the apprentice a CANDIDATE was matched to


class AssertionVerifier:
    """Verifies assertions against a fixed JWKS, for one audience (the partner's name)."""

    def __init__(self, jwks: dict[str, Any], audience: str) -> None:
        self.audience = audience
        self._keys: dict[str, jwt.PyJWK] = {}
        for key in jwt.PyJWKSet.from_dict(jwks).keys:
            # An EC P-256 key only: a key of another type must never verify an assertion.
            if key.key_id and key.key_type == "EC" and key.algorithm_name == ALGORITHM:
                self._keys[key.key_id] = key

    def verify(self, token: str | None) -> Principal | None:
        if not token:
            return None
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(str(header.get("kid", "")))
            if key is None or header.get("alg") != ALGORITHM:
                return None
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=ISSUER,
                leeway=LEEWAY_S,
                options={"require": list(_REQUIRED)},
            )
        except jwt.PyJWTError:
            return None
        return _principal(claims)


def principal_of(
    request: Request, verifier: AssertionVerifier | None, refuse: Callable[[], BadRequest]
) -> Principal | None:
    """The verified principal of ``request``; None when the partner checks none (no JWKS
    configured: it answers every row, as before); raises ``refuse()`` (a 401) otherwise."""
    if verifier is None:
        return None
    principal = verifier.verify(request.headers.get(PRINCIPAL_HEADER))
    if principal is None:
        raise refuse()
    return principal


def _principal(claims: dict[str, Any]) -> Principal | None:
    role, org, sub = claims.get("role"), claims.get("org", ""), claims.get("sub")
    iat, exp = claims.get("iat"), claims.get("exp")
    if role not in ROLES or not isinstance(org, str) or not isinstance(sub, str):
        return None
    if not isinstance(iat, int | float) or not isinstance(exp, int | float):
        return None
    if exp - iat > MAX_LIFETIME_S:
        return None
    ine = claims.get("ine")
    return Principal(
        role=str(role), org=org, sub=sub, ine=ine if isinstance(ine, str) and ine else None
    )


__all__ = ["ISSUER", "PRINCIPAL_HEADER", "AssertionVerifier", "Principal", "principal_of"]
