"""The audit trail as GraphQL: every event for ADMIN, and a candidate's right of access.

Events name records by keyed hashes and actors by role, organisation and a hashed subject:
reading the trail reveals who read a file, never what was in it (store/audit.py).
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from identity.principal import Role
from resolvers.candidate import own_candidate
from resolvers.cost import about
from resolvers.errors import BadUserInput
from resolvers.personal import principal_of
from store.audit import (
    Action,
    AuditEvent,
    AuditFilter,
    AuditLog,
    AuditUnavailable,
    InvalidAuditEvent,
    InvalidCursor,
)
from store.audit import AuditPage as EventsPage


@strawberry.type(description="AuditEntry — one read or write of personal data (no values).")
class AuditEntry:
    at: datetime = strawberry.field(description="When.")
    client_id: str = strawberry.field(description="The API client or token that acted.")
    role: str = strawberry.field(description="Its role.")
    organisation: str = strawberry.field(description="Its organisation (UAI, SIRET, OPCO).")
    subject_ref: str = strawberry.field(description="Its subject, as a keyed hash.")
    operation: str = strawberry.field(description="The GraphQL operation's name.")
    action: str = strawberry.field(description="READ, WRITE or COUNT.")
    entity: str = strawberry.field(description="What kind of record.")
    record_refs: list[str] = strawberry.field(description="The records, as keyed hashes.")
    outcome: str = strawberry.field(description="OK, DENIED_AS_MISSING, FAILED, ...")
    detail: str | None = strawberry.field(
        description="What an aggregate read (COUNT) asked: indicator, grid, period; no value."
    )

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEntry:
        return cls(
            at=event.at,
            client_id=event.client_id,
            role=event.role,
            organisation=event.organisation,
            subject_ref=event.subject_ref,
            operation=event.operation,
            action=str(event.action),
            entity=event.entity,
            record_refs=list(event.record_refs),
            outcome=str(event.outcome),
            detail=event.detail,
        )


@strawberry.type(description="AccessEntry — someone read or changed your file.")
class AccessEntry:
    at: datetime = strawberry.field(description="When.")
    role: str = strawberry.field(description="Who: their role.")
    organisation: str = strawberry.field(description="Who: their organisation.")
    operation: str = strawberry.field(description="The operation's name.")
    action: str = strawberry.field(description="READ, WRITE or COUNT.")


@strawberry.type(description="A page of audit events, newest first.")
class AuditPage:
    events: list[AuditEntry] = strawberry.field(
        description="The events of this page.", directives=[about(50)]
    )
    next_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type(description="A page of your access log, newest first.")
class AccessPage:
    entries: list[AccessEntry] = strawberry.field(
        description="Who accessed your file.", directives=[about(50)]
    )
    next_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.input(description="AuditEventFilter — which events.")
class AuditEventFilter:
    since: datetime | None = strawberry.field(default=None, description="At or after.")
    until: datetime | None = strawberry.field(default=None, description="Before.")
    role: str | None = strawberry.field(default=None, description="The actor's role.")
    organisation: str | None = strawberry.field(default=None, description="The actor's org.")
    operation: str | None = strawberry.field(default=None, description="The operation name.")
    write: bool | None = strawberry.field(default=None, description="Writes only (or reads).")
    record_ref: str | None = strawberry.field(default=None, description="One record's ref.")


async def audit_events(
    info: Info, filter: AuditEventFilter | None, first: int, after: str | None
) -> AuditPage:
    principal = principal_of(info)
    if principal is None or principal.role is not Role.ADMIN:
        raise GraphQLError("the audit trail is for ADMIN", extensions={"code": "FORBIDDEN"})
    wanted = AuditFilter()
    if filter is not None:
        wanted = AuditFilter(
            since=filter.since,
            until=filter.until,
            role=filter.role,
            organisation=filter.organisation,
            operation=filter.operation,
            action=None
            if filter.write is None
            else (Action.WRITE if filter.write else Action.READ),
            record_ref=filter.record_ref,
        )
    page = await _page(info, wanted, first, after)
    return AuditPage(events=[AuditEntry.of(e) for e in page.events], next_cursor=page.next_cursor)


async def my_access_log(info: Info, first: int, after: str | None) -> AccessPage:
    principal = principal_of(info)
    if principal is None or principal.role is not Role.CANDIDATE:
        raise GraphQLError("your access log is for CANDIDATE", extensions={"code": "FORBIDDEN"})
    mine = await own_candidate(info)
    if mine is None:
        return AccessPage(entries=[], next_cursor=None)
    audit = info.context.audit
    if audit is None:
        raise _unavailable()
    reference = audit.pseudonym(mine.owner.partner, "candidate", mine.owner.partner_id)
    page = await _page(info, AuditFilter(record_ref=reference), first, after)
    return AccessPage(
        entries=[
            AccessEntry(
                at=e.at,
                role=e.role,
                organisation=e.organisation,
                operation=e.operation,
                action=str(e.action),
            )
            for e in page.events
        ],
        next_cursor=page.next_cursor,
    )


async def _page(info: Info, wanted: AuditFilter, first: int, after: str | None) -> EventsPage:
    audit: AuditLog | None = info.context.audit
    if audit is None:
        raise _unavailable()
    try:
        return await audit.page(wanted, first, after)
    except InvalidCursor:
        raise BadUserInput("after", "not a cursor of this list") from None
    except InvalidAuditEvent as error:
        raise BadUserInput("filter", str(error)) from None
    except AuditUnavailable:
        raise _unavailable() from None


def _unavailable() -> GraphQLError:
    return GraphQLError(
        "the audit trail does not answer; retry later", extensions={"code": "AUDIT_UNAVAILABLE"}
    )
