"""Who the current request acts for, and the signed assertion its partner calls carry.

The gateway opens :func:`scoped` around each request's execution with the request's principal
and the hub's assertion signer; everything the request runs (resolvers, the source layer, the
adapters, the tasks they start) reads it with :func:`current`. A resolver that matched a
CANDIDATE principal to an apprentice vouches for it around the calls that need it::

    with acting.vouched(ine="1234567890A"):  # the calls inside carry the `ine` claim
        page = await registry.list_page("contract", {}, 20, None)

A call about a PERSONAL entity (:data:`adapters.syntax.DATA_CLASSES`) needs an acting
principal: without one it is refused (:class:`~adapters.errors.PrincipalRequired`) before any
request leaves (:func:`require`). An adapter whose partner declares ``principal = { header =
... }`` makes its personal calls inside :func:`on_behalf`, and :class:`~adapters.http.PartnerHttp`
adds :func:`outbound_headers` to each request: a fresh assertion (``aud`` = the partner's name,
60 s) per HTTP request. The assertion is a credential: it never goes to a log line, a metric, an
error message or a cache key (:meth:`Acting.fingerprint` is what may separate answers instead).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from adapters.config import PrincipalSetting
from adapters.errors import PrincipalRequired
from adapters.syntax import DATA_CLASSES
from adapters.types import DataClass
from identity.assertions import STANDARD_CLAIMS, AssertionSigner
from identity.principal import Principal

__all__ = [
    "Acting",
    "carrying",
    "current",
    "on_behalf",
    "outbound_headers",
    "require",
    "scoped",
    "vouched",
]

_NO_CLAIMS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Acting:
    """The principal a request acts for, the signer vouching for it (None: the gateway has no
    assertion key, so partners that check the principal cannot be called), and the claims
    vouched for besides it."""

    principal: Principal
    signer: AssertionSigner | None
    claims: Mapping[str, str] = field(default_factory=lambda: _NO_CLAIMS)

    def fingerprint(self) -> str:
        """A digest naming the principal and its claims, nothing readable: what separates two
        answers of one partner inside a request (the same call with other vouched claims)."""
        claims = "\x1e".join(f"{k}\x1f{v}" for k, v in sorted(self.claims.items()))
        digest = hashlib.sha256(f"{self.principal.scope}\x1d{claims}".encode()).hexdigest()
        return "acting:" + digest[:32]

    def assertion(self, partner: str) -> str | None:
        """A fresh assertion for a call to ``partner`` (None without a signer)."""
        if self.signer is None:
            return None
        return self.signer.sign(self.principal, partner, extra=self.claims)


_ACTING: ContextVar[Acting | None] = ContextVar("hub_acting", default=None)


@contextlib.contextmanager
def scoped(principal: Principal | None, signer: AssertionSigner | None) -> Iterator[None]:
    """The block (one request) acts for ``principal`` (None: anonymous, acts for no one)."""
    token = _ACTING.set(None if principal is None else Acting(principal, signer))
    try:
        yield
    finally:
        _ACTING.reset(token)


def current() -> Acting | None:
    return _ACTING.get()


@contextlib.contextmanager
def restored(recorded: Acting | None) -> Iterator[None]:
    """The block acts as ``recorded`` did, claims included (a replay of calls recorded during
    a request: the personal benchmark's floor)."""
    token = _ACTING.set(recorded)
    try:
        yield
    finally:
        _ACTING.reset(token)


@contextlib.contextmanager
def vouched(**claims: str) -> Iterator[None]:
    """The calls made inside the block carry ``claims`` too (added to those already vouched).

    A standard claim of the contract (``sub``, ``role``, ``org``...) cannot be vouched: what
    the credential says is never replaced. Outside a scope there is nobody to vouch for.
    """
    reserved = sorted(set(claims) & STANDARD_CLAIMS)
    if reserved:
        raise ValueError("standard claims cannot be vouched: " + ", ".join(reserved))
    if not all(isinstance(value, str) for value in claims.values()):
        raise TypeError("vouched claims are strings")
    acting = _ACTING.get()
    if acting is None:
        raise LookupError("no acting principal to vouch for (acting.scoped)")
    merged = MappingProxyType({**acting.claims, **claims})
    token = _ACTING.set(replace(acting, claims=merged))
    try:
        yield
    finally:
        _ACTING.reset(token)


def require(partner: str, entity: str) -> Acting | None:
    """The acting principal of a call about ``entity`` at ``partner``: None for an entity that
    is not personal; :class:`PrincipalRequired` for a personal one when nobody is acted for."""
    if DATA_CLASSES.get(entity) is not DataClass.PERSONAL:
        return None
    acting = _ACTING.get()
    if acting is None:
        raise PrincipalRequired(partner, "personal data is only read on behalf of a principal")
    return acting


@dataclass(frozen=True, slots=True)
class _Outbound:
    partner: str
    header: str
    acting: Acting


_OUTBOUND: ContextVar[_Outbound | None] = ContextVar("hub_acting_outbound", default=None)


@contextlib.contextmanager
def on_behalf(partner: str, setting: PrincipalSetting | None, entity: str) -> Iterator[None]:
    """The block is one adapter call about ``entity``: refused (:func:`require`) without an
    acting principal when personal; its HTTP requests carry the assertion when the partner
    declares ``setting`` and the entity is personal, and nothing otherwise."""
    acting = require(partner, entity)
    outbound = None
    if acting is not None and setting is not None:
        if acting.signer is None:
            raise PrincipalRequired(
                partner, "no assertion key (HUB_ASSERTION_KEY_FILE) to vouch for the principal"
            )
        outbound = _Outbound(partner, setting.header, acting)
    token = _OUTBOUND.set(outbound)
    try:
        yield
    finally:
        _OUTBOUND.reset(token)


def outbound_headers(partner: str) -> dict[str, str]:
    """The header of the signed principal for one HTTP request to ``partner`` (minted now),
    or nothing when the call in progress carries none."""
    outbound = _OUTBOUND.get()
    if outbound is None or outbound.partner != partner:
        return {}
    token = outbound.acting.assertion(partner)
    return {} if token is None else {outbound.header: token}


def carrying(partner: str) -> str | None:
    """The fingerprint of the principal the call in progress to ``partner`` vouches for
    (None when it carries no assertion): for memo keys, and to tell a refused assertion from
    a refused partner credential."""
    outbound = _OUTBOUND.get()
    if outbound is None or outbound.partner != partner:
        return None
    return outbound.acting.fingerprint()
