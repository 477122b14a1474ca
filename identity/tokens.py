"""JWT bearer tokens of front-end apps, checked against the identity provider's JWKS.

The algorithms are the configuration's (``HUB_JWT_ALGORITHMS``, default ``RS256,ES256``), never
the token's: a token naming another (``none``, ``HS256``...) is refused before any key is looked
at. Audience (``HUB_JWT_AUDIENCE``) and issuer (``HUB_JWT_ISSUER``) must match; ``exp`` and
``iat`` are required, ``exp``, ``nbf`` and ``iat`` checked with ``HUB_JWT_LEEWAY_S`` of leeway.

The principal is read from these claims:

- ``hub_role``: one of the roles (``TRAINING_CENTRE``...);
- ``hub_org``: the organisation (UAI/SIRET, SIRET, OPCO code), absent or "" for the other roles;
- ``sub``: the subject (for CANDIDATE, the candidate id at its owner);
- ``jti``: kept as the principal's token id, for the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jwt

from identity.errors import Unauthenticated
from identity.jwks import JwksKeys
from identity.principal import InvalidPrincipal, Principal, new_principal

__all__ = [
    "CLAIM_ORGANISATION",
    "CLAIM_ROLE",
    "CLAIM_SUBJECT",
    "SUPPORTED_ALGORITHMS",
    "JwtRules",
    "JwtVerifier",
]

CLAIM_ROLE = "hub_role"
CLAIM_ORGANISATION = "hub_org"
CLAIM_SUBJECT = "sub"
# Asymmetric algorithms only: the gateway holds no secret shared with the identity provider.
SUPPORTED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


@dataclass(frozen=True, slots=True)
class JwtRules:
    algorithms: tuple[str, ...]
    audience: str
    issuer: str
    leeway_s: float = 30.0

    def __post_init__(self) -> None:
        unsupported = set(self.algorithms) - SUPPORTED_ALGORITHMS
        if unsupported or not self.algorithms:
            raise ValueError(
                "HUB_JWT_ALGORITHMS takes asymmetric algorithms only: "
                + ", ".join(sorted(SUPPORTED_ALGORITHMS))
            )


class JwtVerifier:
    def __init__(self, keys: JwksKeys, rules: JwtRules) -> None:
        self._keys = keys
        self._rules = rules

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("jwt_form") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in self._rules.algorithms:
            raise Unauthenticated("jwt_algorithm")
        if not isinstance(kid, str):
            raise Unauthenticated("jwt_kid")
        key = await self._keys.key(kid)
        if key is None:
            raise Unauthenticated("jwt_kid")
        if key.algorithm_name != algorithm:
            raise Unauthenticated("jwt_algorithm")  # an RSA key's kid on an ES256 token
        claims = self._decode(token, key, [algorithm])
        try:
            return new_principal(
                str(claims.get(CLAIM_ROLE) or ""),
                _text(claims.get(CLAIM_ORGANISATION)),
                _text(claims.get(CLAIM_SUBJECT)),
                token_id=_text(claims.get("jti")) or None,
            )
        except InvalidPrincipal:
            raise Unauthenticated("jwt_principal") from None

    def _decode(self, token: str, key: jwt.PyJWK, algorithms: Sequence[str]) -> dict[str, object]:
        try:
            claims: dict[str, object] = jwt.decode(
                token,
                key,
                algorithms=list(algorithms),
                audience=self._rules.audience,
                issuer=self._rules.issuer,
                leeway=self._rules.leeway_s,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("jwt_expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("jwt_not_yet_valid") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("jwt_audience") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("jwt_issuer") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("jwt_signature") from None
        except jwt.PyJWTError:
            raise Unauthenticated("jwt_claims") from None
        return claims


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
