"""The observatory as GraphQL: ``indicators`` (published cells) and ``indicatorCatalogue``.

Every cell comes from :mod:`sources.indicators`, after disclosure control: a suppressed cell
has no value and says why. A read of an indicator derived from personal data is an audit event
(``COUNT``: the indicator, its grid and its period, never a value), written by the gateway
before the answer leaves (:class:`~resolvers.context.PersonalRead`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from adapters.types import DataClass
from observatory.indicators import (
    INDICATORS,
    Indicator,
    allowed_groupings,
)
from observatory.indicators import Dimension as DimensionCode
from observatory.indicators import IndicatorCode as Code
from observatory.indicators import Kind as KindCode
from resolvers.context import PersonalRead
from resolvers.cost import about
from resolvers.data_classes import holds
from resolvers.errors import BadUserInput
from sources.counting import CountRefused
from sources.indicators import (
    IndicatorError,
    IndicatorRequest,
    IndicatorTable,
    MonthRange,
)

# The observatory's own enums, registered with Strawberry as they are (one definition each).
strawberry.enum(Code, name="IndicatorCode", description="An indicator of the observatory.")
strawberry.enum(
    DimensionCode,
    name="Dimension",
    description="What a cell is broken down by (the grid offers fixed tables).",
)
strawberry.enum(KindCode, name="IndicatorKind", description="COUNT, RATE or MEDIAN.")

DIMENSION_MEANINGS: Final = {
    DimensionCode.DEPARTEMENT: "INSEE code: of the young person's home, the employer's "
    "establishment (contracts), or where an offer or a programme is.",
    DimensionCode.COMMUNE: "INSEE code; offers, positions and places only (people: too few a "
    "commune).",
    DimensionCode.ROME_DOMAIN: "The letter and two digits of the (first) ROME code: G16 is "
    "catering.",
    DimensionCode.LEVEL: "The diploma level aimed at, 3 (CAP) to 7 (master).",
    DimensionCode.OPCO: "The skills operator funding the contract.",
    DimensionCode.TRAINING_CENTRE: "UAI of the training centre.",
    DimensionCode.MONTH: "YYYY-MM of the indicator's date.",
    DimensionCode.STATUS: "An application's step today (APPLICATIONS only).",
}


def _describe_values(enum_cls: type, descriptions: Mapping[Any, str]) -> None:
    """Give each value of an enum registered with Strawberry its description in the schema
    (what GraphiQL's documentation shows): the observatory's enums are its own, defined once
    in ``observatory.indicators``, so their descriptions are set here rather than there."""
    for value in getattr(enum_cls, "__strawberry_definition__").values:  # noqa: B009
        value.description = descriptions[enum_cls(value.value)]


_describe_values(Code, {code: f"{i.label}: {i.description}" for code, i in INDICATORS.items()})
_describe_values(DimensionCode, DIMENSION_MEANINGS)
IndicatorCode = Code
Dimension = DimensionCode


@strawberry.enum(description="Why a cell is not published.")
class SuppressionReason(enum.Enum):
    PRIMARY = "PRIMARY"  # it counts 1 to threshold-1 young people
    SECONDARY = "SECONDARY"  # it would let a PRIMARY cell be recomputed from its margins
    RATE_DENOMINATOR = "RATE_DENOMINATOR"  # a rate or median over too few people


MAX_CODES = len(Code)
FORBIDDEN = "FORBIDDEN"


@strawberry.input(description="Where: départements of the pilot territory (73, 74).")
class TerritoryInput:
    departements: list[str] = strawberry.field(
        default_factory=list,
        description="INSEE codes; cells of these départements only (adds DEPARTEMENT to the "
        "grouping, which must then be a table of the grid).",
    )


@strawberry.input(description="Whole months, both included, written YYYY-MM.")
class MonthPeriodInput:
    from_: str = strawberry.field(name="from", description="First month, YYYY-MM.")
    to: str = strawberry.field(description="Last month, YYYY-MM (included).")


@strawberry.type(description="An indicator's definition: what it counts and how it is shown.")
class IndicatorDefinition:
    code: IndicatorCode = strawberry.field(description="Its code.")
    label: str = strawberry.field(description="French label, as the page shows it.")
    kind: KindCode = strawberry.field(description="A count, a rate or a median.")
    unit: str = strawberry.field(description="What the value is in (offres, %, jours...).")
    description: str = strawberry.field(description="What it counts, and how it is published.")
    counts_people: bool = strawberry.field(
        description="Derived from personal data: disclosure control applies, and reading it "
        "needs the OBSERVATORY credential."
    )
    dimensions: list[Dimension] = strawberry.field(description="What it can be broken down by.")
    groupings: list[list[Dimension]] = strawberry.field(
        description="The tables of the grid this indicator is offered by (`[]`: the total)."
    )

    @classmethod
    def of(cls, indicator: Indicator) -> IndicatorDefinition:
        return cls(
            code=indicator.code,
            label=indicator.label,
            kind=indicator.kind,
            unit=indicator.unit_label,
            description=indicator.description,
            counts_people=indicator.counts_people,
            dimensions=[d for d in DimensionCode if d in indicator.dimensions],
            groupings=[list(g) for g in allowed_groupings(indicator.code)],
        )


@strawberry.type(description="A cell's node on one dimension; `*` is the dimension's total.")
class CellCoordinate:
    dimension: Dimension = strawberry.field(description="The dimension.")
    value: str = strawberry.field(description="Its node: a code, `*` (total) or UNKNOWN.")


@strawberry.type(description="One published cell.")
class IndicatorCell:
    coordinates: list[CellCoordinate] = strawberry.field(
        description="Its node on each dimension of the table.", directives=[about(2)]
    )
    value: float | None = strawberry.field(
        description="The indicator (a count, a rate as a fraction, a median in days); null "
        "when suppressed."
    )
    numerator: float | None = strawberry.field(description="The published count it is from.")
    denominator: float | None = strawberry.field(description="A rate's published denominator.")
    suppressed: bool = strawberry.field(description="Whether the value is withheld.")
    reason: SuppressionReason | None = strawberry.field(description="Why it is suppressed.")


@strawberry.type(description="A month range.")
class MonthPeriod:
    from_: str = strawberry.field(name="from", description="First month, YYYY-MM.")
    to: str = strawberry.field(description="Last month, YYYY-MM (included).")


@holds(DataClass.AGGREGATE)
@strawberry.type(description="One table of one indicator, after disclosure control.")
class IndicatorResult:
    code: IndicatorCode = strawberry.field(description="The indicator.")
    definition: IndicatorDefinition = strawberry.field(description="Its definition.")
    group_by: list[Dimension] = strawberry.field(
        description="The table's dimensions, in the grid's order."
    )
    period: MonthPeriod = strawberry.field(description="The months counted.")
    departements: list[str] = strawberry.field(
        description="The départements asked for ([]: the pilot territory)."
    )
    cells: list[IndicatorCell] = strawberry.field(
        description="Every cell of the table, margins (`*`) included.", directives=[about(50)]
    )
    partners: list[str] = strawberry.field(description="The owners it was counted from.")
    computed_at: datetime = strawberry.field(description="When the oldest count used was made.")
    from_cache: bool = strawberry.field(description="Served from the AGGREGATE cache.")

    @classmethod
    def of(cls, table: IndicatorTable) -> IndicatorResult:
        request = table.request
        return cls(
            code=request.code,
            definition=IndicatorDefinition.of(table.indicator),
            group_by=list(table.grouping),
            period=MonthPeriod(
                from_=f"{request.months.first:%Y-%m}", to=f"{request.months.last:%Y-%m}"
            ),
            departements=list(request.departements),
            cells=[
                IndicatorCell(
                    coordinates=[CellCoordinate(dimension=d, value=v) for d, v in c.coordinates],
                    value=c.value,
                    numerator=c.numerator,
                    denominator=c.denominator,
                    suppressed=c.suppressed is not None,
                    reason=SuppressionReason(c.suppressed.value) if c.suppressed else None,
                )
                for c in table.cells
            ],
            partners=list(table.partners),
            computed_at=datetime.fromisoformat(table.computed_at.replace("Z", "+00:00")),
            from_cache=table.from_cache,
        )


def audit_detail(request: IndicatorRequest, grouping: tuple[DimensionCode, ...]) -> str:
    """What the audit trail keeps of a read: codes and months, never a value."""
    by = ",".join(d.value for d in grouping) or "total"
    where = ",".join(request.departements) or "pilot"
    return f"{request.code} by={by} period={request.months} departements={where}"


def _months(period: MonthPeriodInput | None, today: date) -> MonthRange:
    if period is None:
        return MonthRange.last_twelve(today)
    return MonthRange.of(period.from_, period.to)


async def resolve_indicators(
    info: Info,
    codes: list[Code],
    group_by: list[DimensionCode],
    territory: TerritoryInput | None,
    period: MonthPeriodInput | None,
) -> list[IndicatorResult]:
    context = info.context
    indicators = context.indicators
    if indicators is None:
        raise GraphQLError("the observatory is not configured", extensions={"code": "UNAVAILABLE"})
    if not codes or len(set(codes)) != len(codes) or len(codes) > MAX_CODES:
        raise BadUserInput("codes", "name each indicator once, at least one")
    try:
        months = _months(period, datetime.now(UTC).date())
        requests = [
            IndicatorRequest(
                code,
                tuple(group_by),
                months,
                tuple(sorted(set(territory.departements))) if territory else (),
            )
            for code in codes
        ]
        groupings = [request.table_grouping() for request in requests]
    except IndicatorError as error:
        argument = "period" if "month" in str(error) else "groupBy"
        raise BadUserInput(argument, str(error)) from None
    results = []
    for request, grouping in zip(requests, groupings, strict=True):
        try:
            table = await indicators.table(request)
        except CountRefused as refused:
            raise GraphQLError(str(refused), extensions={"code": FORBIDDEN}) from None
        context.record_failures(table.failures)
        if table.indicator.counts_people:
            context.personal_reads.append(
                PersonalRead("COUNT", "indicator", (), detail=audit_detail(request, grouping))
            )
        results.append(IndicatorResult.of(table))
    return results


def indicator_catalogue() -> list[IndicatorDefinition]:
    return [IndicatorDefinition.of(indicator) for indicator in INDICATORS.values()]


__all__ = [
    "MAX_CODES",
    "Dimension",
    "IndicatorCode",
    "IndicatorDefinition",
    "IndicatorResult",
    "MonthPeriodInput",
    "TerritoryInput",
    "indicator_catalogue",
    "resolve_indicators",
]
