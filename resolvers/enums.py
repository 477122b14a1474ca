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
