"""Who may see which personal record, and which of its fields: the role table, in one place.

COMMON-SYNTAX "Who may see what" as rules the hub applies **before any partner is called**:

- **Row rules** are filters of the common syntax (``trainingCentre``, ``candidateId``,
  ``employerSiret``, ``opco``, ``visibility``, ``apprenticeIne``), so a partner able to apply
  them does, and the hub applies the rest (the list path tests every filter on every record).
  :func:`scope` gives them for a principal and an entity, or ``None`` when the role sees no
  record of that entity at all (then no partner is asked, and the answer is empty);
  :func:`within` narrows a client's own filters to them.
- :func:`permits` tests one record against the same rules after it is read — a partner that
  ignored a filter, or a look-up by id, must not leak a record — and a record it refuses is
  answered exactly like a missing one.
- **Field rules**: :func:`hidden` names the fields a role never receives (an employer gets no
  birth date and no follow-up); the resolvers leave them null.

Anonymous requests and roles without personal rows (OBSERVATORY, ADMIN) get ``None`` for
every entity: no partner holding personal data is called for them. A CANDIDATE's ``subject``
is its id at the centre named by its ``organisation``; its contracts are found by the INE of
that file (``facts.ine``), which the resolvers read from the owner first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.predicates import FILTER_PREDICATES
from identity.principal import Principal, Role

__all__ = ["NO_FACTS", "Facts", "hidden", "may_count", "permits", "scope", "within"]

SHARED_WITH_PARTIES = "CONTRACT_PARTIES"


@dataclass(frozen=True, slots=True)
class Facts:
    """What the hub learnt of the principal from the owner of its file (a CANDIDATE's INE)."""

    ine: str | None = None


NO_FACTS = Facts()


def scope(
    principal: Principal | None, entity: str, facts: Facts = NO_FACTS
) -> dict[str, Any] | None:
    """The filters every record of ``entity`` shown to ``principal`` matches, or ``None``: the
    role sees none (no partner is to be called)."""
    if principal is None:
        return None
    org, subject = principal.organisation, principal.subject
    role = principal.role
    if role is Role.TRAINING_CENTRE:
        return {"trainingCentre": [org]}
    if role is Role.CANDIDATE:
        own = {"trainingCentre": [org]}
        if entity == "candidate":
            return {**own, "ids": [subject]}
        if entity == "application":
            return {**own, "candidateId": [subject]}
        if entity == "follow_up":
            return {**own, "candidateId": [subject], "visibility": [SHARED_WITH_PARTIES]}
        if entity == "contract":
            return {"apprenticeIne": [facts.ine]} if facts.ine else None
        return None
    if role is Role.EMPLOYER:
        if entity in ("application", "contract"):
            return {"employerSiret": [org]}
        return None  # its candidates only through the applications addressed to it
    if role is Role.OPCO:
        return {"opco": org} if entity == "contract" else None
    return None  # OBSERVATORY, ADMIN: aggregates and the audit trail, never a person


def may_count(principal: Principal | None, personal: bool) -> bool:
    """Whether ``principal`` may have counts of an entity (never its records).

    Counts of a personal entity are the OBSERVATORY's only: :func:`scope` gives it no row, and
    the counting path (:mod:`sources.counting`) is a separate one that returns counts alone,
    reading each owner's records, where it must read them, only to count them. Counts of a
    public entity (offers, programmes) are anybody's, anonymous included.
    """
    if not personal:
        return True
    return principal is not None and principal.role is Role.OBSERVATORY


def within(client: Mapping[str, Any], rules: Mapping[str, Any]) -> dict[str, Any] | None:
    """The client's filters narrowed to the rules (a list filter keeps the values in both),
    or ``None`` when nothing can match both."""
    narrowed = dict(client)
    for name, allowed in rules.items():
        asked: Any = client.get(name)
        if asked in (None, [], ""):
            narrowed[name] = allowed
        elif isinstance(allowed, list):
            kept = [v for v in asked if v in allowed]
            if not kept:
                return None
            narrowed[name] = kept
        elif asked != allowed:
            return None
    return narrowed


def permits(
    principal: Principal | None, entity: str, fields: Mapping[str, Any], facts: Facts = NO_FACTS
) -> bool:
    """Whether a record read from a partner may be shown to ``principal``."""
    rules = scope(principal, entity, facts)
    if rules is None:
        return False
    predicates = FILTER_PREDICATES[entity]
    record = dict(fields)
    return all(predicates[name](value)(record) for name, value in rules.items())


_HIDDEN: dict[tuple[Role, str], frozenset[str]] = {
    (Role.EMPLOYER, "candidate"): frozenset({"birthDate", "ine", "followUps", "highestDiploma"}),
    (Role.EMPLOYER, "contract"): frozenset({"apprentice.birthDate", "apprentice.ine"}),
    (Role.EMPLOYER, "application"): frozenset({"followUps"}),
    (Role.OPCO, "contract"): frozenset({"apprentice.email"}),
    (Role.CANDIDATE, "candidate"): frozenset({"ine"}),
}


def hidden(principal: Principal | None, entity: str) -> frozenset[str]:
    """Fields of ``entity`` the principal's role never receives (dotted for nested ones)."""
    if principal is None:
        return frozenset()
    return _HIDDEN.get((principal.role, entity), frozenset())
