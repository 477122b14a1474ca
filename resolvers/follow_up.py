"""FollowUpEvent — suivi: the personalised follow-up of an apprentice by the training centre."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from adapters.types import DataClass, Record
from resolvers.common import Provenance, as_date, text
from resolvers.cost import about
from resolvers.data_classes import holds
from resolvers.enums import ActorRole, FollowUpKind, FollowUpVisibility, member
from resolvers.ids import global_id
from resolvers.listing import Listed
from resolvers.node import Node
from resolvers.pagination import PageInfo
from resolvers.personal import visible


@strawberry.type(description="Who wrote a follow-up event.")
class FollowUpAuthor:
    organisation: str | None = strawberry.field(description="UAI or SIRET of the author's body.")
    role: ActorRole | None = strawberry.field(description="The author's role.")


@holds(DataClass.PERSONAL)
@strawberry.type(
    description=(
        "FollowUpEvent — événement de suivi: an interview, a company visit, an alert... "
        "Owned by the training centre; TRAINING_CENTRE_ONLY events stay with the centre."
    )
)
class FollowUpEvent(Node):
    kind: FollowUpKind | None = strawberry.field(description="Nature of the event.")
    date: date | None = strawberry.field(description="When it happened.")
    author: FollowUpAuthor | None = strawberry.field(description="Who recorded it.")
    summary: str | None = strawberry.field(description="What was noted (compte rendu).")
    visibility: FollowUpVisibility | None = strawberry.field(description="Who may read it.")
    provenance: list[Provenance] = strawberry.field(
        description="The owner of this event.", directives=[about(1)]
    )
    record: strawberry.Private[Record]

    @classmethod
    def from_record(cls, info: Info, record: Record) -> FollowUpEvent:
        f = visible(info, "follow_up", record.fields)
        author = f.get("author") if isinstance(f.get("author"), dict) else None
        owner = record.owner
        return cls(
            id=strawberry.ID(global_id("follow_up", owner.partner, owner.partner_id)),
            kind=member(FollowUpKind, f.get("kind")),  # type: ignore[arg-type]
            date=as_date(f.get("date")),
            author=FollowUpAuthor(
                organisation=text(author, "organisation"),
                role=member(ActorRole, author.get("role")),  # type: ignore[arg-type]
            )
            if author
            else None,
            summary=text(f, "summary"),
            visibility=member(FollowUpVisibility, f.get("visibility")),  # type: ignore[arg-type]
            provenance=Provenance.of(record.provenance),
            record=record,
        )


@strawberry.type(description="A follow-up event and its cursor.")
class FollowUpEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this event.")
    node: FollowUpEvent = strawberry.field(description="The event.")


@strawberry.type(description="A page of follow-up events (Relay connection).")
class FollowUpConnection:
    edges: list[FollowUpEdge] = strawberry.field(description="Events of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page is.")
    total_count: int | None = strawberry.field(description="Events you may see, when known.")


def follow_up_connection(info: Info, listed: Listed) -> FollowUpConnection:
    return FollowUpConnection(
        edges=[
            FollowUpEdge(cursor=c, node=FollowUpEvent.from_record(info, r)) for c, r in listed.items
        ],
        page_info=listed.page_info,
        total_count=listed.total_count,
    )
