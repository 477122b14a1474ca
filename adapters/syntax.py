"""The common syntax as adapters see it: each entity's fields, their types, and the filters.

This is the contract a partner mapping targets. ``check-config`` rejects a target field not
listed here; the mapping engine coerces each value to the type listed here, and a value that
cannot be coerced makes the record a ``SOURCE_BAD_RESPONSE``.

Types: ``str``, ``int``, ``float``, ``bool``, ``date`` (ISO day), ``datetime`` (UTC instant),
``[T]`` a list of T, and ``{...}`` a nested object whose fields are listed with a dotted path.
Enumerated fields list their closed set of values.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.types import DataClass, SortOrder


@dataclass(frozen=True, slots=True)
class FieldType:
    scalar: str  # str | int | float | bool | date | datetime | object
    is_list: bool = False
    choices: frozenset[str] | None = None


def _t(spec: str, choices: str | None = None) -> FieldType:
    is_list = spec.startswith("[")
    scalar = spec.strip("[]")
    return FieldType(scalar, is_list, frozenset(choices.split()) if choices else None)


CONTRACT_KINDS = "APPRENTICESHIP PROFESSIONALISATION"
OFFER_STATUSES = "ACTIVE FILLED CANCELLED PENDING"
REMOTE_MODES = "ONSITE HYBRID REMOTE"
ORGANISATION_ROLES = (
    "EMPLOYER TRAINING_RESPONSIBLE TRAINING_PROVIDER OPCO PUBLIC_EMPLOYMENT_SERVICE "
    "EDUCATION_AUTHORITY"
)
OPCOS = (
    "AFDAS AKTO ATLAS CONSTRUCTYS OPCOMMERCE OCAPIAT OPCO2I OPCO_EP OPCO_MOBILITES OPCO_SANTE "
    "UNIFORMATION"
)

_ADDRESS = {
    "label": _t("str"),
    "postalCode": _t("str"),
    "inseeCode": _t("str"),
    "city": _t("str"),
    "latitude": _t("float"),
    "longitude": _t("float"),
}


def _nested(prefix: str, fields: dict[str, FieldType]) -> dict[str, FieldType]:
    return {f"{prefix}.{name}": kind for name, kind in fields.items()}


# The personal half (COMMON-SYNTAX "Personal half"): read live from their owners, PERSONAL.
APPLICATION_STATUSES = (
    "DRAFT SUBMITTED UNDER_REVIEW ADMITTED PROPOSED_TO_EMPLOYER INTERVIEW EMPLOYER_AGREED "
    "CONTRACT_DRAFTED CONTRACT_SIGNED CONTRACT_DEPOSITED PLACED "
    "REJECTED_BY_CFA REJECTED_BY_EMPLOYER WITHDRAWN ABANDONED"
)
ACTOR_ROLES = "CANDIDATE TRAINING_CENTRE EMPLOYER OPCO"
CONTRACT_STATUSES = "ACTIVE BROKEN CANCELLED COMPLETED"
FUNDING_DECISIONS = "PENDING ACCEPTED REFUSED"
FOLLOW_UP_KINDS = (
    "FOLLOW_UP_INTERVIEW COMPANY_VISIT TRIAL_PERIOD_REVIEW ABSENCE_ALERT DIFFICULTY_ALERT "
    "MEDIATION RUPTURE EXAM END_OF_TRAINING"
)
FOLLOW_UP_VISIBILITIES = "TRAINING_CENTRE_ONLY CONTRACT_PARTIES"

_CENTRE_REF = {"uai": _t("str"), "siret": _t("str"), "name": _t("str")}
"""The training centre a personal record belongs to: what the row rules of the policy read."""

_ORGANISATION_REF = {
    "siret": _t("str"),
    "uai": _t("str"),
    "name": _t("str"),
    **_nested("address", _ADDRESS),
}

ENTITIES: dict[str, dict[str, FieldType]] = {
    "offer": {
        "id": _t("str"),
        "title": _t("str"),
        "description": _t("str"),
        "romeCodes": _t("[str]"),
        "occupations": _t("[object]"),
        "occupations.romeCode": _t("str"),
        "occupations.label": _t("str"),
        "contractKinds": _t("[str]", CONTRACT_KINDS),
        "targetLevel": _t("int"),
        "startDate": _t("date"),
        "durationMonths": _t("int"),
        "positions": _t("int"),
        "status": _t("str", OFFER_STATUSES),
        "publishedAt": _t("datetime"),
        "expiresAt": _t("datetime"),
        **_nested("location", _ADDRESS),
        **_nested("employer", _ORGANISATION_REF),
        "remote": _t("str", REMOTE_MODES),
        "applyUrl": _t("str"),
        "accessibleToDisabledWorkers": _t("bool"),
    },
    "training_program": {
        "id": _t("str"),
        "catalogueKey": _t("str"),
        "title": _t("str"),
        "description": _t("str"),
        "certification.rncp": _t("str"),
        "certification.cfd": _t("str"),
        "certification.title": _t("str"),
        "certification.level": _t("int"),
        "certification.romeCodes": _t("[str]"),
        **_nested("responsible", _ORGANISATION_REF),
        **_nested("provider", _ORGANISATION_REF),
        **_nested("location", _ADDRESS),
        "contractKinds": _t("[str]", CONTRACT_KINDS),
        "durationMonths": _t("int"),
        "fullyRemote": _t("bool"),
        "sessions": _t("[object]"),
        "sessions.start": _t("date"),
        "sessions.end": _t("date"),
        "sessions.capacity": _t("int"),
        "sessions.enrolled": _t("int"),
        "sessions.recruitmentOpen": _t("bool"),
        "romeCodes": _t("[str]"),
        "fundingLevels": _t("[object]"),
        "fundingLevels.opco": _t("str", OPCOS),
        "fundingLevels.amount": _t("float"),
        "fundingLevels.validFrom": _t("date"),
    },
    "organisation": {
        "id": _t("str"),
        "siret": _t("str"),
        "siren": _t("str"),
        "uai": _t("str"),
        "name": _t("str"),
        "tradeName": _t("str"),
        "naf.code": _t("str"),
        "naf.label": _t("str"),
        **_nested("address", _ADDRESS),
        "opco": _t("str", OPCOS),
        "idcc": _t("str"),
        "roles": _t("[str]", ORGANISATION_ROLES),
        "qualiopi": _t("bool"),
        "active": _t("bool"),
        "kind": _t("str"),
    },
}

ENTITIES.update(
    {
        "candidate": {
            "id": _t("str"),
            "ine": _t("str"),  # the national student number: a matching key, never a filter in URLs
            "firstName": _t("str"),
            "lastName": _t("str"),
            "birthDate": _t("date"),
            "email": _t("str"),
            "phone": _t("str"),
            "commune.inseeCode": _t("str"),
            "highestDiploma": _t("str"),
            "targetRomeCodes": _t("[str]"),
            **_nested("trainingCentre", _CENTRE_REF),
        },
        "application": {
            "id": _t("str"),
            "candidate.id": _t("str"),
            "trainingProgram.id": _t("str"),
            "session": _t("date"),
            "offer.id": _t("str"),
            "employer.siret": _t("str"),
            "employer.name": _t("str"),
            "channel": _t("str"),
            "status": _t("str", APPLICATION_STATUSES),
            "reason": _t("str"),
            "createdAt": _t("datetime"),
            "updatedAt": _t("datetime"),
            "history": _t("[object]"),
            "history.status": _t("str", APPLICATION_STATUSES),
            "history.at": _t("datetime"),
            "history.actorRole": _t("str", ACTOR_ROLES),
            "history.reason": _t("str"),
            "clientReference": _t("str"),
            **_nested("trainingCentre", _CENTRE_REF),
        },
        "contract": {
            "id": _t("str"),
            "decaNumber": _t("str"),
            "kind": _t("str", CONTRACT_KINDS),
            "apprentice.ine": _t("str"),
            "apprentice.firstName": _t("str"),
            "apprentice.lastName": _t("str"),
            "apprentice.birthDate": _t("date"),
            "apprentice.email": _t("str"),
            "employer.siret": _t("str"),
            "employer.name": _t("str"),
            "employer.idcc": _t("str"),
            **_nested("trainingCentre", _CENTRE_REF),
            "certification.cfd": _t("str"),
            "certification.rncp": _t("str"),
            "certification.title": _t("str"),
            "signedAt": _t("date"),
            "startDate": _t("date"),
            "endDate": _t("date"),
            "status": _t("str", CONTRACT_STATUSES),
            "rupture.date": _t("date"),
            "rupture.cause": _t("str"),
            "funding.opco": _t("str", OPCOS),
            "funding.decision": _t("str", FUNDING_DECISIONS),
            "funding.decidedAt": _t("date"),
        },
        "follow_up": {
            "id": _t("str"),
            "candidate.id": _t("str"),
            "kind": _t("str", FOLLOW_UP_KINDS),
            "date": _t("date"),
            "author.organisation": _t("str"),
            "author.role": _t("str", ACTOR_ROLES),
            "summary": _t("str"),
            "visibility": _t("str", FOLLOW_UP_VISIBILITIES),
            "clientReference": _t("str"),
            **_nested("trainingCentre", _CENTRE_REF),
        },
    }
)

PERSONAL_ENTITIES = ("candidate", "application", "contract", "follow_up")

DATA_CLASSES: dict[str, DataClass] = {
    "offer": DataClass.PUBLIC,
    "training_program": DataClass.PUBLIC,
    "organisation": DataClass.PUBLIC,
    **dict.fromkeys(PERSONAL_ENTITIES, DataClass.PERSONAL),
}

FILTERS: dict[str, dict[str, FieldType]] = {
    "offer": {
        "romeCodes": _t("[str]"),
        "departements": _t("[str]"),
        "communes": _t("[str]"),
        "contractKinds": _t("[str]", CONTRACT_KINDS),
        "levels": _t("[int]"),
        "near": _t("object"),
        "publishedSince": _t("datetime"),
        "opco": _t("str", OPCOS),
        "employerSiret": _t("[str]"),
    },
    "training_program": {
        "romeCodes": _t("[str]"),
        "departements": _t("[str]"),
        "communes": _t("[str]"),
        "levels": _t("[int]"),
        "near": _t("object"),
        "rncp": _t("[str]"),
        "responsibleUai": _t("[str]"),
        "responsibleSiret": _t("[str]"),
        "cfd": _t("[str]"),
    },
    "organisation": {},
    # The policy's row rules are filters too (sources/policy.py), so an owner can apply them.
    "candidate": {"trainingCentre": _t("[str]"), "ids": _t("[str]")},
    "application": {
        "trainingCentre": _t("[str]"),
        "candidateId": _t("[str]"),
        "employerSiret": _t("[str]"),
        "status": _t("[str]", APPLICATION_STATUSES),
    },
    "contract": {
        "trainingCentre": _t("[str]"),
        "employerSiret": _t("[str]"),
        "opco": _t("str", OPCOS),
        "apprenticeIne": _t("[str]"),
        "status": _t("[str]", CONTRACT_STATUSES),
    },
    "follow_up": {
        "trainingCentre": _t("[str]"),
        "candidateId": _t("[str]"),
        "visibility": _t("[str]", FOLLOW_UP_VISIBILITIES),
    },
}
"""Filters the gateway understands, per entity; a partner may push any of them down."""

LIST_ORDERS: dict[str, SortOrder] = {
    "offer": SortOrder("publishedAt", descending=True),
    "training_program": SortOrder("title"),
    "organisation": SortOrder("name"),
    "candidate": SortOrder("lastName"),
    "application": SortOrder("updatedAt", descending=True),
    "contract": SortOrder("startDate", descending=True),
    "follow_up": SortOrder("date", descending=True),
}
"""The order of a list merged from several partners (a single partner's list keeps its own).

Partners that can give this order are read page by page and merged (k-way); the others are read
in full, bounded by their ``max_items``, and sorted by the gateway.
"""

LOOKUP_KEYS: dict[str, tuple[str, ...]] = {
    "offer": ("id",),
    "training_program": ("id", "catalogueKey", "rncp"),
    "organisation": ("id", "siret", "siren", "uai"),
    "candidate": ("id", "ine"),
    "application": ("id", "clientReference"),
    "contract": ("id", "decaNumber"),
    "follow_up": ("id", "clientReference"),
}
"""Keys a record may be looked up by; ``id`` is always the partner's own id.

A key names the field of the same name, except those in :data:`LOOKUP_KEY_PATHS` (``rncp``
reads ``certification.rncp``: funding levels are known per certification, so an OPCO's feed is
looked up by RNCP).
"""

LOOKUP_KEY_PATHS: dict[str, str] = {"rncp": "certification.rncp"}
"""The field a look-up key reads, where it is not the field of the same name."""


def lookup_key_path(key: str) -> str:
    return LOOKUP_KEY_PATHS.get(key, key)
