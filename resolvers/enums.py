"""Closed code lists of the common syntax."""

from __future__ import annotations

import enum

import strawberry


@strawberry.enum(description="ContractKind — nature du contrat en alternance.")
class ContractKind(enum.Enum):
    APPRENTICESHIP = "APPRENTICESHIP"
    PROFESSIONALISATION = "PROFESSIONALISATION"


@strawberry.enum(description="OfferStatus — état de l'offre.")
class OfferStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    PENDING = "PENDING"


@strawberry.enum(description="RemoteMode — télétravail.")
class RemoteMode(enum.Enum):
    ONSITE = "ONSITE"
    HYBRID = "HYBRID"
    REMOTE = "REMOTE"


@strawberry.enum(description="OrganisationRole — rôle d'une organisation dans l'alternance.")
class OrganisationRole(enum.Enum):
    EMPLOYER = "EMPLOYER"
    TRAINING_RESPONSIBLE = "TRAINING_RESPONSIBLE"
    TRAINING_PROVIDER = "TRAINING_PROVIDER"
    OPCO = "OPCO"
    PUBLIC_EMPLOYMENT_SERVICE = "PUBLIC_EMPLOYMENT_SERVICE"
    EDUCATION_AUTHORITY = "EDUCATION_AUTHORITY"


@strawberry.enum(description="Opco — opérateur de compétences.")
class Opco(enum.Enum):
    AFDAS = "AFDAS"
    AKTO = "AKTO"
    ATLAS = "ATLAS"
    CONSTRUCTYS = "CONSTRUCTYS"
    OPCOMMERCE = "OPCOMMERCE"
    OCAPIAT = "OCAPIAT"
    OPCO2I = "OPCO2I"
    OPCO_EP = "OPCO_EP"
    OPCO_MOBILITES = "OPCO_MOBILITES"
    OPCO_SANTE = "OPCO_SANTE"
    UNIFORMATION = "UNIFORMATION"


@strawberry.enum(
    description=(
        "ApplicationStatus — étape de la candidature, de la création du dossier au placement."
    )
)
class ApplicationStatus(enum.Enum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    UNDER_REVIEW = "UNDER_REVIEW"
    ADMITTED = "ADMITTED"
    PROPOSED_TO_EMPLOYER = "PROPOSED_TO_EMPLOYER"
    INTERVIEW = "INTERVIEW"
    EMPLOYER_AGREED = "EMPLOYER_AGREED"
    CONTRACT_DRAFTED = "CONTRACT_DRAFTED"
    CONTRACT_SIGNED = "CONTRACT_SIGNED"
    CONTRACT_DEPOSITED = "CONTRACT_DEPOSITED"
    PLACED = "PLACED"
    REJECTED_BY_CFA = "REJECTED_BY_CFA"
    REJECTED_BY_EMPLOYER = "REJECTED_BY_EMPLOYER"
    WITHDRAWN = "WITHDRAWN"
    ABANDONED = "ABANDONED"


@strawberry.enum(description="ActorRole — who acted (rôle de l'acteur).")
class ActorRole(enum.Enum):
    CANDIDATE = "CANDIDATE"
    TRAINING_CENTRE = "TRAINING_CENTRE"
    EMPLOYER = "EMPLOYER"
    OPCO = "OPCO"


@strawberry.enum(description="ContractStatus — état du contrat.")
class ContractStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    BROKEN = "BROKEN"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


@strawberry.enum(description="FundingDecision — décision de prise en charge par l'OPCO.")
class FundingDecision(enum.Enum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REFUSED = "REFUSED"


@strawberry.enum(description="FollowUpKind — nature de l'événement de suivi.")
class FollowUpKind(enum.Enum):
    FOLLOW_UP_INTERVIEW = "FOLLOW_UP_INTERVIEW"
    COMPANY_VISIT = "COMPANY_VISIT"
    TRIAL_PERIOD_REVIEW = "TRIAL_PERIOD_REVIEW"
    ABSENCE_ALERT = "ABSENCE_ALERT"
    DIFFICULTY_ALERT = "DIFFICULTY_ALERT"
    MEDIATION = "MEDIATION"
    RUPTURE = "RUPTURE"
    EXAM = "EXAM"
    END_OF_TRAINING = "END_OF_TRAINING"


@strawberry.enum(description="FollowUpVisibility — who may read a follow-up event.")
class FollowUpVisibility(enum.Enum):
    TRAINING_CENTRE_ONLY = "TRAINING_CENTRE_ONLY"
    CONTRACT_PARTIES = "CONTRACT_PARTIES"


@strawberry.enum(description="PartnerHealth — état d'une source.")
class PartnerHealth(enum.Enum):
    UP = "UP"
    DOWN = "DOWN"
    CIRCUIT_OPEN = "CIRCUIT_OPEN"
    UNKNOWN = "UNKNOWN"


@strawberry.enum(description="How the hub reads a partner's list of one entity.")
class ListingMode(enum.Enum):
    PAGED = strawberry.enum_value(
        "PAGED", description="About one page per request, resumed where it stopped, merged k-way."
    )
    PAGED_WHEN_ALONE = strawberry.enum_value(
        "PAGED_WHEN_ALONE",
        description=(
            "Paged when it answers alone (its own order); cannot give the hub's order, so read "
            "in full (up to maxItems) when merged with other partners."
        ),
    )
    FULL_READ = strawberry.enum_value(
        "FULL_READ",
        description="No pagination to resume: read in full, up to maxItems, on every request.",
    )
    LOOKUP_ONLY = strawberry.enum_value(
        "LOOKUP_ONLY", description="Never listed: only looked up to complete other records."
    )


E = type[enum.Enum]


def members(enum_type: E, values: list[str] | None) -> list[enum.Enum]:
    """Enum members for stored codes, skipping codes the enum does not know."""
    known = enum_type.__members__
    return [known[v] for v in values or [] if v in known]


def member(enum_type: E, value: str | None) -> enum.Enum | None:
    return enum_type.__members__.get(value) if value else None
