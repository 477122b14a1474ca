"""Application — candidature: one candidate for one training programme, along its lifecycle."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from adapters.types import DataClass, Record
from reference import lifecycle
from resolvers.common import Provenance, as_date, as_instant, text
from resolvers.cost import LOOKUP, about
from resolvers.data_classes import holds
from resolvers.enums import ActorRole, ApplicationStatus, member
from resolvers.ids import global_id
from resolvers.listing import Listed
from resolvers.node import Node
from resolvers.organisation import Organisation, organisation_for
from resolvers.pagination import PageInfo
from resolvers.personal import visible

if TYPE_CHECKING:
    from resolvers.candidate import Candidate
    from resolvers.training import TrainingProgram


@strawberry.type(description="ApplicationEvent — one step of an application's history.")
class ApplicationEvent:
    status: ApplicationStatus | None = strawberry.field(description="The status reached.")
    at: datetime | None = strawberry.field(description="When it was reached.")
    actor_role: ActorRole | None = strawberry.field(description="Who moved it there.")
    reason: str | None = strawberry.field(description="Why (a refusal's or a withdrawal's).")


@holds(DataClass.PERSONAL)
@strawberry.type(
    description=(
        "Application — candidature of one candidate to one training programme, optionally "
        "addressed to an employer, owned by the training centre that holds the file. Its "
        "status follows the lifecycle DRAFT → SUBMITTED → … → PLACED, with side exits."
    )
)
class Application(Node):
    session: date | None = strawberry.field(description="Start of the cohort (rentrée).")
    channel: str | None = strawberry.field(description="How it arrived (canal).")
    status: ApplicationStatus | None = strawberry.field(description="Where it is now.")
    reason: str | None = strawberry.field(description="Why it left the path, if it did.")
    history: list[ApplicationEvent] = strawberry.field(
        description="Every step, oldest first.", directives=[about(6)]
    )
    created_at: datetime | None = strawberry.field(description="Created (créée le).")
    updated_at: datetime | None = strawberry.field(description="Last changed.")
    provenance: list[Provenance] = strawberry.field(
        description="The owner of this application.", directives=[about(1)]
    )
    record: strawberry.Private[Record]

    @strawberry.field(description="The candidate (at the same owner).", directives=[LOOKUP])
    async def candidate(
        self, info: Info
    ) -> Annotated[Candidate, strawberry.lazy("resolvers.candidate")] | None:
        from resolvers.candidate import candidate_of_application

        return await candidate_of_application(info, self.record)

    @strawberry.field(
        description="The training programme, as its owner knows it.", directives=[LOOKUP]
    )
    async def training_program(
        self, info: Info
    ) -> Annotated[TrainingProgram, strawberry.lazy("resolvers.training")] | None:
        from resolvers.training import TrainingProgram

        program = self.record.fields.get("trainingProgram") or {}
        program_id = program.get("id") if isinstance(program, dict) else None
        if not program_id:
            return None
        owner = self.record.owner.partner
        source = info.context.registry.source(owner)
        if source is None or "training_program" not in source.adapter.entities():
            return None
        found = await info.context.loader("training_program", "id", None, owner).load(
            str(program_id)
        )
        return TrainingProgram.from_record(found) if found is not None else None

    @strawberry.field(description="The employer it is addressed to.", directives=[LOOKUP])
    async def employer(self, info: Info) -> Organisation | None:
        return await organisation_for(
            info, self.record.fields.get("employer"), self.record.provenance, "EMPLOYER"
        )

    @classmethod
    def from_record(cls, info: Info, record: Record) -> Application:
        f = visible(info, "application", record.fields)
        owner = record.owner
        return cls(
            id=strawberry.ID(global_id("application", owner.partner, owner.partner_id)),
            session=as_date(f.get("session")),
            channel=text(f, "channel"),
            status=member(ApplicationStatus, f.get("status")),  # type: ignore[arg-type]
            reason=text(f, "reason"),
            history=_history(f.get("history")),
            created_at=as_instant(f.get("createdAt")),
            updated_at=as_instant(f.get("updatedAt")),
            provenance=Provenance.of(record.provenance),
            record=record,
        )


def _history(events: Any) -> list[ApplicationEvent]:
    steps = [
        ApplicationEvent(
            status=member(ApplicationStatus, e.get("status")),  # type: ignore[arg-type]
            at=as_instant(e.get("at")),
            actor_role=member(ActorRole, e.get("actorRole")),  # type: ignore[arg-type]
            reason=e.get("reason"),
        )
        for e in events or []
        if isinstance(e, dict) and e.get("status")
    ]
    # Owners return history rows in no particular order: the path reads oldest first, and
    # steps of the same instant (two changes within an owner's clock tick) in the graph's order.
    return sorted(
        steps,
        key=lambda e: (
            e.at is None,
            e.at or datetime.min.replace(tzinfo=UTC),
            _PATH_ORDER.get(e.status.value if e.status else "", len(_PATH_ORDER)),
        ),
    )


_PATH_ORDER = {status: n for n, status in enumerate(lifecycle.STATUSES)}


@strawberry.input(description="ApplicationFilter — which applications.")
class ApplicationFilter:
    statuses: list[ApplicationStatus] | None = strawberry.field(
        default=None, description="Only applications at one of these steps."
    )


@strawberry.type(description="An application and its cursor.")
class ApplicationEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this application.")
    node: Application = strawberry.field(description="The application.")


@strawberry.type(description="A page of applications (Relay connection).")
class ApplicationConnection:
    edges: list[ApplicationEdge] = strawberry.field(description="Applications of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page is.")
    total_count: int | None = strawberry.field(
        description="Applications you may see that match, when the owners know it."
    )


def application_connection(info: Info, listed: Listed) -> ApplicationConnection:
    return ApplicationConnection(
        edges=[
            ApplicationEdge(cursor=c, node=Application.from_record(info, r))
            for c, r in listed.items
        ],
        page_info=listed.page_info,
        total_count=listed.total_count,
    )
