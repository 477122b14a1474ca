"""The one way resolvers read personal records: through the policy, before any partner call.

Every list and look-up of the personal half goes through :func:`personal_page` or
:func:`personal_record`: the principal's row rules (sources/policy.py) narrow the client's
filters before the source layer is asked, a role that sees no record of an entity asks no
partner at all, and each record read is tested again before it is shown. A record the
principal may not see is answered exactly as a missing one: the same null, the same empty
page, after the same partner call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from strawberry.types import Info

from adapters import acting
from adapters.types import Record
from identity.principal import Principal, Role
from resolvers.context import PersonalRead
from resolvers.ids import GlobalId
from resolvers.listing import Listed, list_records
from resolvers.pagination import PageInfo, check_first
from sources import policy
from sources.policy import NO_FACTS, Facts

__all__ = [
    "Facts",
    "note_read",
    "nothing",
    "personal_page",
    "personal_record",
    "principal_of",
    "visible",
]

_NOTHING = PageInfo(
    has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
)


def nothing() -> Listed:
    """The empty page: what a principal who may see nothing of the kind gets."""
    return Listed([], _NOTHING, 0, False)


def principal_of(info: Info) -> Principal | None:
    principal: Principal | None = info.context.principal
    return principal


async def personal_page(
    info: Info,
    entity: str,
    filters: Mapping[str, Any],
    first: int,
    after: str | None,
    facts: Facts = NO_FACTS,
    partners: list[str] | None = None,
    whole: bool = False,
) -> Listed:
    """One page of the personal ``entity`` the principal may see, filtered as the client asks
    (``partners``: at these owners only, e.g. the owner whose ids ``filters`` name; ``whole``:
    every field mapped, for records that are not the current field's edges)."""
    check_first(first, info.context.max_page_size)
    principal = principal_of(info)
    rules = policy.scope(principal, entity, facts)
    narrowed = policy.within(filters, rules) if rules is not None else None
    if narrowed is None:
        return nothing()
    with _vouching(principal, facts):
        listed = await list_records(info, entity, narrowed, first, after, partners, whole)
    listed.items = [
        (cursor, record)
        for cursor, record in listed.items
        if policy.permits(principal, entity, record.fields, facts)
    ]
    note_read(info, entity, [record for _, record in listed.items])
    return listed


async def personal_record(info: Info, gid: GlobalId, facts: Facts = NO_FACTS) -> Record | None:
    """The record of a global id, if the principal may see it (else None, as for a missing one)."""
    principal = principal_of(info)
    if policy.scope(principal, gid.entity, facts) is None:
        return None  # this role sees no record of the kind: nothing to hide, nothing to ask
    context = info.context
    if context.registry.source(gid.partner) is None:
        return None
    record: Record | None = await context.loader(gid.entity, "id", None, gid.partner).load(
        gid.partner_id
    )
    if record is None or not policy.permits(principal, gid.entity, record.fields, facts):
        # Who asked for what they may not see is worth knowing; the answer says nothing.
        info.context.personal_reads.append(
            PersonalRead(
                "READ",
                gid.entity,
                ((gid.partner, gid.entity, gid.partner_id),),
                "DENIED_AS_MISSING",
            )
        )
        return None
    note_read(info, gid.entity, [record])
    return record


def note_read(info: Info, entity: str, records: list[Record]) -> None:
    """One audit note per read that returned personal records (none for an empty page)."""
    if records:
        refs = tuple((r.owner.partner, entity, r.owner.partner_id) for r in records)
        info.context.personal_reads.append(PersonalRead("READ", entity, refs))


def _vouching(principal: Principal | None, facts: Facts) -> contextlib.AbstractContextManager[None]:
    """A candidate's INE, read from the file its centre holds, is vouched for in the calls
    made for them: owners that name apprentices by INE (the OPCO) match them by it."""
    if principal is None or principal.role is not Role.CANDIDATE or not facts.ine:
        return contextlib.nullcontext()
    if acting.current() is None:  # no signer: such owners are not called at all
        return contextlib.nullcontext()
    return acting.vouched(ine=facts.ine)


def visible(info: Info, entity: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The record's fields without those the principal's role never receives."""
    hidden = policy.hidden(principal_of(info), entity)
    if not hidden:
        return dict(fields)
    shown = dict(fields)
    for name in hidden:
        head, _, rest = name.partition(".")
        if not rest:
            shown.pop(head, None)
        elif isinstance(shown.get(head), dict):
            shown[head] = {k: v for k, v in shown[head].items() if k != rest}
    return shown
