"""The observatory's indicators and its grid: each defined once, here.

An indicator is a count (or a sum) of one entity of the common syntax, or a ratio of two, or a
median; :data:`INDICATORS` holds each with its French label, its unit and its description (shown
in GraphiQL, on the page and in an extract's metadata). Only the cross-tabulations of
:data:`GRID` are offered: an analyst chooses among tables declared in advance, never a free
``GROUP BY``, so that disclosure control (:mod:`observatory.disclosure`) sees every table that
can be published and its margins, and differencing between allowed queries stays bounded.

A measure names what the counting path (``sources.counting``) asks each owner for: an entity,
the common-syntax conditions its records meet, and what is added up (records, or a numeric
field). Dimensions are the names the owners' ``aggregates`` blocks group by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from observatory.cells import Unit
from reference.lifecycle import MAIN_PATH

__all__ = [
    "GRID",
    "INDICATORS",
    "Dimension",
    "Indicator",
    "IndicatorCode",
    "Kind",
    "Measure",
    "allowed_groupings",
]


class Dimension(StrEnum):
    """What a cell is broken down by; the value is the name owners group by
    (``adapters.counting.DIMENSIONS``)."""

    DEPARTEMENT = "departement"  # 73, 74 (INSEE), from a commune's code
    COMMUNE = "commune"  # INSEE code; published only where the threshold holds
    ROME_DOMAIN = "rome_domain"  # the letter and two digits of a ROME code (G16: hotel, catering)
    LEVEL = "level"  # the diploma level aimed at (3: CAP ... 7: master)
    OPCO = "opco"  # the skills operator funding the contract
    TRAINING_CENTRE = "training_centre"  # UAI of the centre
    MONTH = "month"  # YYYY-MM of the indicator's date
    STATUS = "status"  # an application's lifecycle step (APPLICATIONS only)


class IndicatorCode(StrEnum):
    OFFERS_ACTIVE = "OFFERS_ACTIVE"
    POSITIONS_OPEN = "POSITIONS_OPEN"
    TRAINING_CAPACITY = "TRAINING_CAPACITY"
    FILL_RATE = "FILL_RATE"
    APPLICATIONS = "APPLICATIONS"
    CANDIDATES_SEEKING = "CANDIDATES_SEEKING"
    TENSION_RATIO = "TENSION_RATIO"
    PLACEMENT_RATE = "PLACEMENT_RATE"
    TIME_TO_PLACEMENT = "TIME_TO_PLACEMENT"
    RUPTURE_RATE = "RUPTURE_RATE"
    ABANDON_RATE = "ABANDON_RATE"


class Kind(StrEnum):
    COUNT = "COUNT"  # a number of records (or a sum of a field)
    RATE = "RATE"  # numerator / denominator, published with both
    MEDIAN = "MEDIAN"  # the median of a duration over the records counted


@dataclass(frozen=True, slots=True)
class Measure:
    """What the owners count: records of ``entity`` meeting ``where`` (common-syntax field ->
    accepted values), dated by ``dated_by`` for the period, adding up ``sums`` (None: records)."""

    entity: str
    unit: Unit
    dated_by: str | None
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sums: str | None = None


@dataclass(frozen=True, slots=True)
class Indicator:
    code: IndicatorCode
    label: str  # French, as shown on the page
    kind: Kind
    description: str
    numerator: Measure
    denominator: Measure | None = None
    unit_label: str = ""
    dimensions: frozenset[Dimension] = field(default_factory=frozenset)
    # A rate whose denominator holds more than its numerator can count: (a dimension, a
    # measure) keeps the denominator to the nodes of that dimension the measure counts any
    # record at (the training places of the centres whose applications are counted).
    denominator_within: tuple[Dimension, Measure] | None = None

    def __post_init__(self) -> None:
        if self.denominator_within is not None and (
            self.denominator is None or self.denominator.unit is not Unit.POSITIONS
        ):
            # Kept to some nodes, its margins are re-added: exact only for positions.
            raise ValueError("only a denominator of positions is kept within a measure's nodes")

    @property
    def counts_people(self) -> bool:
        """Whether disclosure control applies (any of its counts is of young people)."""
        measures = (self.numerator, self.denominator)
        return any(m is not None and m.unit is Unit.PERSONS for m in measures)


# Submitted, not yet a signed contract nor an exit: the young person is still seeking.
_OPEN_STEPS: Final = MAIN_PATH[MAIN_PATH.index("SUBMITTED") : MAIN_PATH.index("CONTRACT_SIGNED")]
_PLACE = (Dimension.DEPARTEMENT, Dimension.COMMUNE)
# Counts of people are not broken down by commune: the demo's 2,300 candidates live in 381
# communes, so four commune cells in five would count 1 to 10 and be suppressed, and the exact
# suppression of communes x domains alone takes 50 s (README, "The grid").
_ACTIVE_OFFERS = Measure("offer", Unit.POSITIONS, "publishedAt", (("status", ("ACTIVE",)),))
_OPEN_POSITIONS = Measure(
    "offer", Unit.POSITIONS, "publishedAt", (("status", ("ACTIVE",)),), sums="positions"
)
_CAPACITY = Measure("training_program", Unit.POSITIONS, "sessions.start", sums="sessions.capacity")
_APPLICATIONS = Measure("application", Unit.PERSONS, "createdAt")
_SEEKING = Measure("application", Unit.PERSONS, "createdAt", (("status", _OPEN_STEPS),))
_PLACED = Measure("application", Unit.PERSONS, "createdAt", (("status", ("PLACED",)),))
# The apprentices of the sessions starting in the period, whenever they applied: what a
# session's places are filled with (dated by creation, the autumn cohort's applications of
# the spring would fill the winter sessions' places).
_PLACED_BY_SESSION = Measure("application", Unit.PERSONS, "session", (("status", ("PLACED",)),))
_ABANDONED = Measure("application", Unit.PERSONS, "createdAt", (("status", ("ABANDONED",)),))
_CONTRACTS = Measure("contract", Unit.PERSONS, "startDate")
_BROKEN = Measure("contract", Unit.PERSONS, "startDate", (("status", ("BROKEN",)),))

_COMMON = frozenset({*_PLACE, Dimension.ROME_DOMAIN, Dimension.LEVEL, Dimension.MONTH})
_PEOPLE = _COMMON - {Dimension.COMMUNE}

INDICATORS: Final[dict[IndicatorCode, Indicator]] = {
    i.code: i
    for i in (
        Indicator(
            IndicatorCode.OFFERS_ACTIVE,
            "Offres actives",
            Kind.COUNT,
            "Offers of alternance published in the period and still active, from every "
            "publisher. Counts offers, not people: published as counted.",
            _ACTIVE_OFFERS,
            unit_label="offres",
            dimensions=_COMMON,
        ),
        Indicator(
            IndicatorCode.POSITIONS_OPEN,
            "Postes ouverts",
            Kind.COUNT,
            "Positions of the active offers (an offer may open several). Published as counted.",
            _OPEN_POSITIONS,
            unit_label="postes",
            dimensions=_COMMON,
        ),
        Indicator(
            IndicatorCode.TRAINING_CAPACITY,
            "Places de formation",
            Kind.COUNT,
            "Training places of the sessions starting in the period. Published as counted.",
            _CAPACITY,
            unit_label="places",
            dimensions=_COMMON | {Dimension.TRAINING_CENTRE},
        ),
        Indicator(
            IndicatorCode.FILL_RATE,
            "Taux de remplissage",
            Kind.RATE,
            "Apprentices placed on the sessions starting in the period / their places, of "
            "the centres whose applications the hub counts (a centre no owner counts "
            "applications of has no fill rate, rather than 0 %). Published when there are at "
            "least 20 places.",
            _PLACED_BY_SESSION,
            _CAPACITY,
            unit_label="%",
            # By centre only: an apprentice's département is where they live, a place's where
            # it is taught; a rate of the one over the other would mean neither.
            dimensions=frozenset({Dimension.TRAINING_CENTRE}),
            denominator_within=(Dimension.TRAINING_CENTRE, _APPLICATIONS),
        ),
        Indicator(
            IndicatorCode.APPLICATIONS,
            "Candidatures",
            Kind.COUNT,
            "Applications submitted in the period, by their step today. Counts young people: "
            "1 to 10 is suppressed, with enough neighbours to stop recomputing it.",
            _APPLICATIONS,
            unit_label="candidatures",
            dimensions=_PEOPLE | {Dimension.STATUS, Dimension.TRAINING_CENTRE},
        ),
        Indicator(
            IndicatorCode.CANDIDATES_SEEKING,
            "Candidats en recherche",
            Kind.COUNT,
            "Applications of the period still open (submitted, not yet a signed contract nor "
            "an exit): young people looking for an employer or a place.",
            _SEEKING,
            unit_label="candidats",
            dimensions=_PEOPLE,
        ),
        Indicator(
            IndicatorCode.TENSION_RATIO,
            "Tension",
            Kind.RATE,
            "Open positions / candidates seeking, by occupation domain and département: above "
            "1, employers look for more apprentices than apply. Published when at least 20 "
            "candidates seek.",
            _OPEN_POSITIONS,
            _SEEKING,
            unit_label="postes par candidat",
            dimensions=frozenset({Dimension.DEPARTEMENT, Dimension.ROME_DOMAIN}),
        ),
        Indicator(
            IndicatorCode.PLACEMENT_RATE,
            "Taux de placement",
            Kind.RATE,
            "Applications of the period that ended placed / applications of the period.",
            _PLACED,
            _APPLICATIONS,
            unit_label="%",
            dimensions=_PEOPLE | {Dimension.TRAINING_CENTRE},
        ),
        Indicator(
            IndicatorCode.TIME_TO_PLACEMENT,
            "Délai de placement",
            Kind.MEDIAN,
            "Median days from submission to placement of the applications of the period that "
            "were placed. Published when at least 20 were.",
            _PLACED,
            unit_label="jours",
            dimensions=frozenset({Dimension.DEPARTEMENT, Dimension.ROME_DOMAIN}),
        ),
        Indicator(
            IndicatorCode.RUPTURE_RATE,
            "Taux de rupture",
            Kind.RATE,
            "Contracts started in the period and broken since / contracts started (the OPCO's "
            "contracts).",
            _BROKEN,
            _CONTRACTS,
            unit_label="%",
            dimensions=frozenset(
                {Dimension.DEPARTEMENT, Dimension.ROME_DOMAIN, Dimension.OPCO, Dimension.MONTH}
            ),
        ),
        Indicator(
            IndicatorCode.ABANDON_RATE,
            "Taux d'abandon",
            Kind.RATE,
            "Applications of the period abandoned (the young person stopped answering) / "
            "applications of the period.",
            _ABANDONED,
            _APPLICATIONS,
            unit_label="%",
            dimensions=_PEOPLE | {Dimension.TRAINING_CENTRE},
        ),
    )
}

GRID: Final[tuple[tuple[Dimension, ...], ...]] = (
    (),
    (Dimension.DEPARTEMENT,),
    (Dimension.COMMUNE,),
    (Dimension.ROME_DOMAIN,),
    (Dimension.LEVEL,),
    (Dimension.OPCO,),
    (Dimension.TRAINING_CENTRE,),
    (Dimension.MONTH,),
    (Dimension.STATUS,),
    (Dimension.DEPARTEMENT, Dimension.ROME_DOMAIN),
    (Dimension.DEPARTEMENT, Dimension.LEVEL),
    (Dimension.DEPARTEMENT, Dimension.MONTH),
    (Dimension.DEPARTEMENT, Dimension.OPCO),
    (Dimension.DEPARTEMENT, Dimension.STATUS),
    (Dimension.COMMUNE, Dimension.ROME_DOMAIN),
    (Dimension.ROME_DOMAIN, Dimension.LEVEL),
    (Dimension.TRAINING_CENTRE, Dimension.STATUS),
    # Occupation domain x level within a département: what a territory asks of the domain x
    # level table (a territory adds the département). Its margins are the three pairs above.
    (Dimension.DEPARTEMENT, Dimension.ROME_DOMAIN, Dimension.LEVEL),
)
"""The cross-tabulations offered, each with its margins (the shorter groupings it contains).
A commune is in a table only with at most one other dimension: finer, nearly every cell would
be suppressed."""


def allowed_groupings(code: IndicatorCode) -> list[tuple[Dimension, ...]]:
    """The tables of the grid an indicator can be asked for (its dimensions only)."""
    dimensions = INDICATORS[code].dimensions
    return [g for g in GRID if set(g) <= dimensions]
