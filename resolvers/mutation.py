"""Mutations of the personal half: routed to the owner, each under an idempotency key.

``submitApplication`` goes to the owner of the candidate's file, ``transitionApplication`` to
the owner of the application, ``recordFollowUp`` to the owner of the candidate's file; the hub
writes nothing of them itself. Each takes an ``idempotencyKey``: the gateway database keeps,
per client, a keyed hash of the key, a hash of the payload and the id of the result — never
the payload (store/idempotency.py). The same key and payload give the first result without a
second partner call; the same key with another payload is ``BAD_USER_INPUT``.

A write whose outcome is unknown (the partner may have committed, then the answer was lost) is
never sent blindly again: the answer is ``OUTCOME_UNKNOWN``, and a retry with the same key asks
the owner for what it holds under the reference the hub sent with the first attempt. When the
idempotency store is down, mutations fail closed (``IDEMPOTENCY_UNAVAILABLE``); reads go on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date
from typing import Any

import orjson
import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from adapters.errors import SourceError, SourceRejected, SourceTimeout
from adapters.types import Record
from adapters.writes import Writer
from identity.principal import Principal, Role
from reference import identifiers, lifecycle
from resolvers import validation as check
from resolvers.application import Application
from resolvers.context import PersonalRead
from resolvers.enums import ApplicationStatus, FollowUpKind, FollowUpVisibility
from resolvers.errors import BadUserInput
from resolvers.follow_up import FollowUpEvent
from resolvers.ids import GlobalId, decode_global_id, global_id
from resolvers.personal import personal_record, principal_of
from sources import budget
from store.idempotency import (
    Conflict,
    IdempotencyUnavailable,
    InProgress,
    InvalidIdempotencyKey,
    Replay,
    Unknown,
)

MAX_TEXT_LENGTH = 2_000
WAIT_FOR_FIRST_S = 2.0
"""How long a call waits for the first call with its key to finish before IN_PROGRESS."""

# Who may move an application where (the owner's own rules apply on top).
_TRANSITIONS_BY_ROLE: dict[Role, frozenset[str] | None] = {
    Role.TRAINING_CENTRE: None,  # any edge of the lifecycle
    Role.EMPLOYER: frozenset({"INTERVIEW", "EMPLOYER_AGREED", "REJECTED_BY_EMPLOYER"}),
    Role.CANDIDATE: frozenset({"WITHDRAWN"}),
}


@strawberry.input(description="A new application (candidature), sent to the file's holder.")
class ApplicationInput:
    candidate_id: strawberry.ID = strawberry.field(description="The candidate (hub id).")
    training_program_id: strawberry.ID = strawberry.field(
        description="The programme (hub id of a programme of the same centre)."
    )
    session: date | None = strawberry.field(default=None, description="The cohort's start.")
    employer_siret: str | None = strawberry.field(
        default=None, description="The employer it is addressed to, if any."
    )
    channel: str | None = strawberry.field(default=None, description="How it arrived.")


@strawberry.input(description="A follow-up event to record at the centre holding the file.")
class FollowUpInput:
    candidate_id: strawberry.ID = strawberry.field(description="The apprentice (hub id).")
    kind: FollowUpKind = strawberry.field(description="Nature of the event.")
    date: date = strawberry.field(description="When it happened.")
    summary: str = strawberry.field(description="What was noted.")
    visibility: FollowUpVisibility = strawberry.field(description="Who may read it.")


class MutationError(GraphQLError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


async def submit_application(
    info: Info, input: ApplicationInput, idempotency_key: str
) -> Application:
    principal = _acting(info, {Role.CANDIDATE, Role.TRAINING_CENTRE})
    candidate_gid = _id(input.candidate_id, "input.candidateId", "candidate")
    program_gid = decode_global_id(str(input.training_program_id), "input.trainingProgramId")
    if program_gid.entity != "training_program" or program_gid.partner != candidate_gid.partner:
        raise BadUserInput(
            "input.trainingProgramId", "a programme of the centre holding the candidate's file"
        )
    siret = (
        check.one("input.employerSiret", input.employer_siret, identifiers.siret)
        if input.employer_siret
        else None
    )
    candidate = await _visible(info, candidate_gid, "input.candidateId")
    values = {
        "candidateId": candidate.owner.partner_id,
        "trainingProgramId": program_gid.partner_id,
        "session": input.session.isoformat() if input.session else None,
        "employerSiret": siret,
        "channel": _text("input.channel", input.channel, 100),
        "status": "SUBMITTED",
        "actorRole": principal.role.value,
    }
    record = await _write(
        info, candidate_gid.partner, "application", "submit", values, idempotency_key
    )
    return Application.from_record(info, record)


async def transition_application(
    info: Info, id: strawberry.ID, to: ApplicationStatus, reason: str | None, idempotency_key: str
) -> Application:
    principal = _acting(info, set(_TRANSITIONS_BY_ROLE))
    gid = _id(id, "id", "application")
    current = await _visible(info, gid, "id")
    allowed = _TRANSITIONS_BY_ROLE[principal.role]
    if allowed is not None and to.value not in allowed:
        raise BadUserInput("to", f"role {principal.role.value} cannot move an application there")

    def in_the_lifecycle() -> None:
        # Checked for a first call only: a retry finds the application already moved, and
        # must get the first result, not "cannot move to where it is".
        status = current.fields.get("status")
        if not isinstance(status, str) or not lifecycle.allows(status, to.value):
            raise BadUserInput("to", f"an application at {status} cannot move to {to.value}")

    values = {
        "id": gid.partner_id,
        "status": to.value,
        "reason": _text("reason", reason, 200),
        "actorRole": principal.role.value,
    }

    def already_there() -> str | None:
        # An unknown outcome of a transition is settled by the application's state, read from
        # its owner at the start of this retry: at the target, it landed. Owners need not keep
        # a transition's reference for this (most keep only the creation's).
        return gid.partner_id if current.fields.get("status") == to.value else None

    record = await _write(
        info,
        gid.partner,
        "application",
        "transition",
        values,
        idempotency_key,
        first_call_check=in_the_lifecycle,
        landed=already_there,
    )
    return Application.from_record(info, record)


async def record_follow_up(info: Info, input: FollowUpInput, idempotency_key: str) -> FollowUpEvent:
    principal = _acting(info, {Role.TRAINING_CENTRE})
    candidate_gid = _id(input.candidate_id, "input.candidateId", "candidate")
    await _visible(info, candidate_gid, "input.candidateId")
    values = {
        "candidateId": candidate_gid.partner_id,
        "kind": input.kind.value,
        "date": input.date.isoformat(),
        "authorOrganisation": principal.organisation,
        "authorRole": principal.role.value,
        "summary": _text("input.summary", input.summary, MAX_TEXT_LENGTH),
        "visibility": input.visibility.value,
    }
    record = await _write(
        info, candidate_gid.partner, "follow_up", "record", values, idempotency_key
    )
    return FollowUpEvent.from_record(info, record)


# -- the shared path ---------------------------------------------------------------------------


def _acting(info: Info, roles: set[Role]) -> Principal:
    principal = principal_of(info)
    if principal is None or principal.role not in roles:
        # Not "forbidden": a mutation the role cannot make is one it cannot see.
        raise MutationError("this operation needs a credential of another role", "FORBIDDEN")
    return principal


def _id(value: strawberry.ID, argument: str, entity: str) -> GlobalId:
    gid = decode_global_id(str(value), argument)
    if gid.entity != entity:
        raise BadUserInput(argument, f"not an id of a {entity}")
    return gid


async def _visible(info: Info, gid: GlobalId, argument: str) -> Record:
    """The record the mutation is about, if the principal may see it: else it does not exist."""
    found = await personal_record(info, gid)
    if found is None:
        raise BadUserInput(argument, "no such record")
    return found


def _text(argument: str, value: str | None, most: int) -> str | None:
    if value is None:
        return None
    if len(value) > most:
        raise BadUserInput(argument, f"at most {most} characters")
    return value


async def _write(
    info: Info,
    partner: str,
    entity: str,
    action: str,
    values: dict[str, Any],
    key: str,
    first_call_check: Callable[[], None] | None = None,
    landed: Callable[[], str | None] | None = None,
) -> Record:
    """Run the write once per idempotency key, and return the owner's record of its result.

    ``first_call_check`` raises when a first call must not be written (a replay skips it);
    ``landed`` settles an unknown outcome from what the owner holds now (the owner's id of the
    result, or None: it did not land); without it, the owner is asked for the client
    reference the hub sent (``find_by_reference``)."""
    context = info.context
    source = context.registry.source(partner)
    if source is None or not isinstance(source.adapter, Writer):
        raise BadUserInput("id", "its owner takes no writes through the hub")
    writer = source.adapter
    if action not in writer.writes(entity):
        raise BadUserInput("id", "its owner takes no such write through the hub")
    store = context.idempotency
    if store is None:
        raise MutationError(
            "mutations are unavailable: no idempotency store", "IDEMPOTENCY_UNAVAILABLE"
        )
    principal = principal_of(info)
    # A key is its client's: an API client's id, or the principal itself for a person's tokens
    # (a retry under a refreshed token is the same person's retry).
    client = (principal.client_id or principal.scope) if principal else ""
    payload = orjson.dumps(
        {"partner": partner, "entity": entity, "action": action, "values": values},
        option=orjson.OPT_SORT_KEYS,
    )
    operation = f"{entity}.{action}"
    try:
        claim = await store.begin(client, key, operation, payload)
        if isinstance(claim, InProgress):  # another call with this key is at the owner now
            claim = await store.wait(client, key, operation, payload, WAIT_FOR_FIRST_S)
        if isinstance(claim, Unknown):
            if landed is not None:
                found = landed()
            else:
                found = await source.call(
                    lambda: writer.find_by_reference(entity, claim.client_reference)
                )
            if found is not None:  # the first attempt did commit: its result, no second write
                result = global_id(entity, partner, found)
                await store.complete(claim, result)
                return await _result(info, decode_global_id(result), entity)
            # The owner holds nothing under that reference: the first attempt never landed.
            await store.abandon(claim)
            claim = await store.begin(client, key, operation, payload)
    except InvalidIdempotencyKey as error:
        raise BadUserInput("idempotencyKey", str(error)) from None
    except IdempotencyUnavailable:
        raise MutationError(
            "mutations are unavailable: the idempotency store does not answer",
            "IDEMPOTENCY_UNAVAILABLE",
        ) from None
    if isinstance(claim, Conflict):
        raise BadUserInput("idempotencyKey", "already used with another payload")
    if isinstance(claim, InProgress | Unknown):
        raise MutationError("the first call with this key is still running", "IN_PROGRESS")
    if isinstance(claim, Replay):
        return await _result(info, decode_global_id(claim.result_ref), entity)
    if first_call_check is not None:
        try:
            first_call_check()
        except BadUserInput:
            await store.abandon(claim)
            raise
    try:
        written = await source.call(
            lambda: writer.write(entity, action, values, claim.client_reference)
        )
    except SourceRejected as refused:
        await store.abandon(claim)
        raise BadUserInput("input", f"{partner} refused it: {refused.message}") from None
    except SourceTimeout:
        await store.mark_unknown(claim)
        raise MutationError(
            f"{partner} did not answer in time: the outcome is unknown; retry with the same "
            "idempotency key to learn it",
            "OUTCOME_UNKNOWN",
        ) from None
    except SourceError as error:
        if error.code == "OUTCOME_UNKNOWN":
            await store.mark_unknown(claim)
        else:
            await store.abandon(claim)
        raise MutationError(f"{partner}: {error.message}", error.code) from None
    result = global_id(entity, partner, written.partner_id)
    await store.complete(claim, result)
    context.personal_reads.append(
        PersonalRead("WRITE", entity, ((partner, entity, written.partner_id),))
    )
    return await _result(info, decode_global_id(result), entity)


async def _result(info: Info, gid: GlobalId, entity: str) -> Record:
    """The owner's record of a write's result, read again (never a copy the hub kept)."""
    loader = info.context.loader(entity, "id", None, gid.partner)
    with contextlib.suppress(KeyError):  # read before in this request: read it again
        loader.clear(gid.partner_id)
    # The request's memo holds the owner's answer from before the write: a memo of its own.
    with budget.scoped(budget.RequestCalls(limit=1)):
        found: Record | None = await loader.load(gid.partner_id)
    if found is None:
        raise MutationError("written, but the owner does not show it yet", "OUTCOME_UNKNOWN")
    return found


@strawberry.type(description="Mutation — routed to the owner; each takes an idempotency key.")
class Mutation:
    @strawberry.mutation(
        description=(
            "Submit an application to the centre holding the candidate's file (CANDIDATE for "
            "themselves, TRAINING_CENTRE for its candidates). A retry with the same key and "
            "input returns the first result; the same key with another input is an error."
        )
    )
    async def submit_application(
        self, info: Info, input: ApplicationInput, idempotency_key: str
    ) -> Application:
        return await submit_application(info, input, idempotency_key)

    @strawberry.mutation(
        description=(
            "Move an application along its lifecycle (an edge of the graph, else "
            "BAD_USER_INPUT and nothing changes), at its owner."
        )
    )
    async def transition_application(
        self,
        info: Info,
        id: strawberry.ID,
        to: ApplicationStatus,
        idempotency_key: str,
        reason: str | None = None,
    ) -> Application:
        return await transition_application(info, id, to, reason, idempotency_key)

    @strawberry.mutation(
        description="Record a follow-up event at the centre holding the file (TRAINING_CENTRE)."
    )
    async def record_follow_up(
        self, info: Info, input: FollowUpInput, idempotency_key: str
    ) -> FollowUpEvent:
        return await record_follow_up(info, input, idempotency_key)
