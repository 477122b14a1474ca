"""Dossier — the reference document of one apprentice's path, assembled live from every owner.

The file's holder (a centre's ERP) gives the candidate; the same person known to another owner
(the recruitment tool) is found by the keys the partners declare for it — the INE, else the
e-mail and birth date together — among that owner's candidates of the same centre, and appears
once, with one provenance entry per owner. Applications come from every owner of the person,
contracts from the OPCO by the INE, follow-up from the holder; the timeline orders them all.
Nothing of it is kept: each query reads the owners again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

import strawberry
from strawberry.types import Info

from adapters.types import DataClass, Record
from resolvers.application import Application
from resolvers.candidate import Candidate
from resolvers.contract import Contract
from resolvers.cost import about
from resolvers.data_classes import holds
from resolvers.follow_up import FollowUpEvent
from resolvers.ids import GlobalId
from resolvers.personal import Facts, personal_page, personal_record

DOSSIER_PAGE = 100
"""The most records of each kind one dossier shows (an apprentice has a handful)."""

_MATCH_KEYS = (("ine",), ("email", "birthDate"))
"""How two owners' records are the same person, strongest first."""


@strawberry.type(description="TimelineEntry — one dated step of the apprentice's path.")
class TimelineEntry:
    at: datetime = strawberry.field(description="When (a date's midnight UTC if only a day).")
    event: str = strawberry.field(
        description="What: APPLICATION_<status>, CONTRACT_SIGNED, CONTRACT_STARTED, "
        "CONTRACT_BROKEN, CONTRACT_ENDED or FOLLOW_UP_<kind>."
    )
    ref: strawberry.ID = strawberry.field(description="The id of the record it comes from.")


@holds(DataClass.PERSONAL)
@strawberry.type(
    description=(
        "Dossier — the reference document of one apprentice's path, from creating the file "
        "to placing the young person, assembled live from every owner (never stored)."
    )
)
class Dossier:
    candidate: Candidate = strawberry.field(description="The person, once, from every owner.")
    applications: list[Application] = strawberry.field(
        description="Applications, all owners.", directives=[about(3)]
    )
    contracts: list[Contract] = strawberry.field(
        description="Contracts, by the file's INE.", directives=[about(1)]
    )
    follow_ups: list[FollowUpEvent] = strawberry.field(
        description="Follow-up you may read.", directives=[about(5)]
    )
    timeline: list[TimelineEntry] = strawberry.field(
        description="Every dated step, oldest first.", directives=[about(20)]
    )


async def dossier_of(info: Info, gid: GlobalId) -> Dossier | None:
    if gid.entity != "candidate":
        return None
    holder = await personal_record(info, gid)
    if holder is None:
        return None
    twins = await _same_person_elsewhere(info, holder)
    person = replace(
        holder, provenance=[*holder.provenance, *(p for t in twins for p in t.provenance)]
    )
    applications: list[Record] = []
    for record in (holder, *twins):
        listed = await personal_page(
            info,
            "application",
            {"candidateId": [record.owner.partner_id]},
            DOSSIER_PAGE,
            None,
            partners=[record.owner.partner],
            whole=True,
        )
        applications.extend(r for _, r in listed.items)
    follow_ups = await personal_page(
        info,
        "follow_up",
        {"candidateId": [holder.owner.partner_id]},
        DOSSIER_PAGE,
        None,
        partners=[holder.owner.partner],
        whole=True,
    )
    ine = holder.fields.get("ine")
    contracts: list[Record] = []
    if isinstance(ine, str) and ine:
        listed = await personal_page(
            info,
            "contract",
            {"apprenticeIne": [ine]},
            DOSSIER_PAGE,
            None,
            Facts(ine=ine),
            whole=True,
        )
        contracts = [r for _, r in listed.items]
    shown_applications = [Application.from_record(info, r) for r in applications]
    shown_contracts = [Contract.from_record(info, r) for r in contracts]
    shown_follow_ups = [FollowUpEvent.from_record(info, r) for _, r in follow_ups.items]
    return Dossier(
        candidate=Candidate.from_record(info, person),
        applications=shown_applications,
        contracts=shown_contracts,
        follow_ups=shown_follow_ups,
        timeline=_timeline(shown_applications, shown_contracts, shown_follow_ups),
    )


async def _same_person_elsewhere(info: Info, holder: Record) -> list[Record]:
    """The holder's person as the other owners of candidates know them (same centre)."""
    centre = holder.fields.get("trainingCentre") or {}
    keys = [v for v in (centre.get("uai"), centre.get("siret")) if isinstance(v, str) and v]
    others = [
        s.partner
        for s in info.context.registry.listing_providers("candidate")
        if s.partner != holder.owner.partner
    ]
    if not keys or not others:
        return []
    listed = await personal_page(
        info, "candidate", {"trainingCentre": keys}, DOSSIER_PAGE, None, partners=others, whole=True
    )
    return [r for _, r in listed.items if _same_person(holder.fields, r.fields)]


def _same_person(a: dict[str, Any], b: dict[str, Any]) -> bool:
    for keys in _MATCH_KEYS:
        left = [_key(a.get(k)) for k in keys]
        right = [_key(b.get(k)) for k in keys]
        if all(left) and all(right):
            return left == right  # the strongest key both know decides
    return False


def _key(value: Any) -> str | None:
    return value.strip().casefold() if isinstance(value, str) and value.strip() else None


def _timeline(
    applications: list[Application], contracts: list[Contract], follow_ups: list[FollowUpEvent]
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for application in applications:
        for step in application.history:
            if step.at is not None and step.status is not None:
                entries.append(
                    TimelineEntry(
                        at=step.at, event=f"APPLICATION_{step.status.name}", ref=application.id
                    )
                )
    for contract in contracts:
        for day, what in (
            (contract.signed_at, "CONTRACT_SIGNED"),
            (contract.start_date, "CONTRACT_STARTED"),
            (contract.rupture.date if contract.rupture else None, "CONTRACT_BROKEN"),
            (
                contract.end_date
                if contract.status and contract.status.name == "COMPLETED"
                else None,
                "CONTRACT_ENDED",
            ),
        ):
            if day is not None:
                entries.append(TimelineEntry(at=_midnight(day), event=what, ref=contract.id))
    for follow_up in follow_ups:
        if follow_up.date is not None and follow_up.kind is not None:
            entries.append(
                TimelineEntry(
                    at=_midnight(follow_up.date),
                    event=f"FOLLOW_UP_{follow_up.kind.name}",
                    ref=follow_up.id,
                )
            )
    return sorted(entries, key=lambda e: e.at)


def _midnight(day: Any) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


__all__ = ["DOSSIER_PAGE", "Dossier", "TimelineEntry", "dossier_of"]
