"""The principal: role + organisation + subject, as a credential (API key or JWT) gives it.

A request without a credential has no principal (``None``): anonymous. A principal is built
only through :func:`new_principal`, which checks that the organisation is the kind of code its
role names (a UAI or SIRET for a training centre, a SIRET for an employer, an OPCO code for an
OPCO, none otherwise). Errors name the rule broken, never the value.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from reference import identifiers

__all__ = ["InvalidPrincipal", "Principal", "Role", "checked_organisation", "new_principal"]


class Role(StrEnum):
    """The roles of COMMON-SYNTAX.md ("Who may see what")."""

    CANDIDATE = "CANDIDATE"
    TRAINING_CENTRE = "TRAINING_CENTRE"
    EMPLOYER = "EMPLOYER"
    OPCO = "OPCO"
    OBSERVATORY = "OBSERVATORY"
    ADMIN = "ADMIN"


class InvalidPrincipal(ValueError):
    """A role, organisation or subject that cannot make a principal."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for. ``client_id`` (an API client) or ``token_id`` (a JWT's ``jti``)
    say which credential, for the audit trail."""

    role: Role
    organisation: str = ""
    subject: str = ""
    client_id: str | None = None
    token_id: str | None = None

    @property
    def scope(self) -> str:
        """A cache scope naming this principal's rights and nothing readable about it."""
        who = f"{self.role}\x1f{self.organisation}\x1f{self.subject}".encode()
        return "principal:" + hashlib.sha256(who).hexdigest()[:32]


_ORGANISATION_RULE = {
    # A candidate's file is held by one training centre: its id means something only there.
    Role.CANDIDATE: "the UAI or SIRET of the training centre holding the file",
    Role.TRAINING_CENTRE: "a UAI or a SIRET",
    Role.EMPLOYER: "a SIRET",
    Role.OPCO: "an OPCO code",
}


def checked_organisation(role: Role, organisation: str | None) -> str:
    """The normalised organisation of ``role``, or :class:`InvalidPrincipal`."""
    text = (organisation or "").strip()
    rule = _ORGANISATION_RULE.get(role)
    if rule is None:
        if text:
            raise InvalidPrincipal(f"role {role} takes no organisation")
        return ""
    if not text:
        raise InvalidPrincipal(f"role {role} needs an organisation: {rule}")
    checks = {
        Role.CANDIDATE: (identifiers.uai, identifiers.siret),
        Role.TRAINING_CENTRE: (identifiers.uai, identifiers.siret),
        Role.EMPLOYER: (identifiers.siret,),
        Role.OPCO: (identifiers.opco,),
    }[role]
    for check in checks:
        try:
            return check(text)
        except identifiers.InvalidIdentifier:
            continue
    raise InvalidPrincipal(f"the organisation of role {role} must be {rule}")


def new_principal(
    role: str,
    organisation: str | None = None,
    subject: str | None = None,
    client_id: str | None = None,
    token_id: str | None = None,
) -> Principal:
    """A checked principal; :class:`InvalidPrincipal` says which rule a value breaks."""
    try:
        known = Role(role)
    except ValueError:
        raise InvalidPrincipal("unknown role; expected one of " + ", ".join(Role)) from None
    subject = (subject or "").strip()
    if known is Role.CANDIDATE and not subject:
        raise InvalidPrincipal("role CANDIDATE needs a subject: the candidate id at its owner")
    if len(subject) > 200:
        raise InvalidPrincipal("a subject is at most 200 characters")
    return Principal(known, checked_organisation(known, organisation), subject, client_id, token_id)
