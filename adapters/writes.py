"""Writes declared in the partners file: the actions, the value forms, and the adapter API.

A partner that owns applications or follow-up events declares, per entity, how each action
is written to it (``[partners.<id>.entities.<entity>.writes.<action>]``): SQL statements for
the ``sql`` kind (:mod:`adapters.sql_writes`), an HTTP request for the ``rest`` kind
(:mod:`adapters.rest_writes`). No partner-specific Python: every name and code is in the file.

Actions and the common-syntax values the hub passes (:data:`WRITE_ACTIONS`):

- ``application.submit``: create an application (the hub passes ``status = SUBMITTED``);
- ``application.transition``: change an application's status and add a history row;
- ``follow_up.record``: create a follow-up event.

A value in a write block is one of:

- ``"candidateId"``: a value of the action, as the hub passed it (absent: null);
- ``"now"``: the instant of the write (UTC); ``"clientReference"``: the reference the hub
  sends so that it can find what was created after an unknown outcome;
- ``"returned.<column>"`` (SQL): what an earlier statement's ``returning`` gave;
- ``{ const = "..." }``: a constant;
- ``{ from = "status", values = { SUBMITTED = "soumise" } }``: the partner's own code for a
  common value; a value with no code here is refused before anything is sent.

The API (:class:`Writer`)::

    if "submit" in adapter.writes("application"):
        written = await adapter.write("application", "submit", values, client_reference)
        written.partner_id            # the owner's id of what was created
    await adapter.find_by_reference("application", client_reference)  # -> id or None

Errors: :class:`~adapters.errors.WriteRejected` (refused, nothing applied: the client's
problem), a plain :class:`~adapters.errors.SourceError` (failed before anything was sent),
:class:`~adapters.errors.OutcomeUnknown` (sent, no answer: may have been applied). A write is
never retried by the adapter nor by the HTTP seam.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import ConfigDict, Field

from adapters.config import Strict
from adapters.errors import WriteRejected

_SUBMIT = frozenset(
    {
        "candidateId",
        "trainingProgramId",
        "session",
        "offerId",
        "employerSiret",
        "channel",
        "status",
        "actorRole",
    }
)
_TRANSITION = frozenset({"id", "status", "reason", "actorRole"})
_RECORD = frozenset(
    {
        "candidateId",
        "kind",
        "date",
        "authorOrganisation",
        "authorRole",
        "summary",
        "visibility",
    }
)

WRITE_ACTIONS: dict[str, dict[str, frozenset[str]]] = {
    "application": {"submit": _SUBMIT, "transition": _TRANSITION},
    "follow_up": {"record": _RECORD},
}
"""Entity -> action -> the common-syntax values the hub passes to it."""

CREATING = frozenset({"submit", "record"})
"""Actions that create a record (the written id is the partner's new id); the others change
the record named by the ``id`` value."""

NOW = "now"
CLIENT_REFERENCE = "clientReference"
RETURNED = "returned."

Scalar = str | int | float | bool


class ConstValue(Strict):
    """``{ const = "soumise" }``: the same value for every write."""

    const: Scalar


class MappedValue(Strict):
    """``{ from = "status", values = { SUBMITTED = "soumise" } }``: the partner's code."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from", description="the action's value this code is for")
    values: dict[str, Scalar] = Field(description="common value -> the partner's own code")


WriteValue = str | ConstValue | MappedValue
"""A value name (``"candidateId"``, ``"now"``, ``"clientReference"``, ``"returned.id"``), a
constant, or a code looked up from a value."""


@dataclass(frozen=True, slots=True)
class Written:
    """What a write did at its owner: the owner's id of the record created or changed."""

    partner_id: str


@runtime_checkable
class Writer(Protocol):
    """An adapter that writes (the SQL and REST kinds): see the module docstring."""

    partner: str

    def writes(self, entity: str) -> frozenset[str]:
        """The actions this partner declares for ``entity`` (empty when none)."""
        ...

    async def write(
        self, entity: str, action: str, values: Mapping[str, Any], client_reference: str
    ) -> Written: ...

    async def find_by_reference(self, entity: str, client_reference: str) -> str | None:
        """The owner's id of what the hub created under ``client_reference``, or None."""
        ...


def value_problems(
    entity: str, action: str, value: WriteValue, returned: frozenset[str] = frozenset()
) -> str | None:
    """Why ``value`` cannot be used in a write of ``entity.action`` (None when it can);
    ``returned`` holds the columns earlier statements return (SQL only)."""
    names = WRITE_ACTIONS.get(entity, {}).get(action, frozenset())
    if isinstance(value, ConstValue):
        return None
    if isinstance(value, MappedValue):
        if value.source not in names:
            return f"`from = {value.source!r}` is not a value of {entity}.{action}"
        return None
    if value in (NOW, CLIENT_REFERENCE) or value in names:
        return None
    if value.startswith(RETURNED):
        column = value[len(RETURNED) :]
        if column in returned:
            return None
        return f"{value!r}: no earlier statement returns `{column}`"
    return f"{value!r} is not a value of {entity}.{action}"


def value_hint(entity: str, action: str, sql: bool) -> str:
    names = sorted(WRITE_ACTIONS.get(entity, {}).get(action, frozenset()))
    forms = ["now", "clientReference", *(["returned.<column>"] if sql else [])]
    return (
        f"one of: {', '.join(names + forms)}; or {{ const = ... }}; "
        "or { from = <value>, values = { COMMON = code } }"
    )


def action_problem(entity: str, action: str) -> str | None:
    actions = WRITE_ACTIONS.get(entity)
    if actions is None:
        return f"{entity} is not written through the hub"
    if action not in actions:
        return f"`{action}` is not an action of {entity} (known: {', '.join(sorted(actions))})"
    return None


class Deferred:
    """A value known only inside the transaction: ``returned.<column>``."""

    __slots__ = ("column",)

    def __init__(self, column: str) -> None:
        self.column = column


@dataclass(slots=True)
class WriteInput:
    """One write's inputs, checked against its action before any value is resolved."""

    partner: str
    entity: str
    action: str
    values: Mapping[str, Any]
    client_reference: str
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __post_init__(self) -> None:
        names = WRITE_ACTIONS.get(self.entity, {}).get(self.action)
        if names is None:
            raise ValueError(f"{self.entity}.{self.action} is not a write action")
        unknown = sorted(set(self.values) - names)
        if unknown:
            raise ValueError(f"{self.entity}.{self.action} takes no {', '.join(unknown)}")
        if not self.client_reference:
            raise ValueError("a write needs a client reference")

    def resolve(self, value: WriteValue) -> Any:
        """The value to send; a :class:`Deferred` for ``returned.<column>``."""
        if isinstance(value, ConstValue):
            return value.const
        if isinstance(value, MappedValue):
            given = self.values.get(value.source)
            if given is None:
                return None
            code = value.values.get(str(given))
            if code is None:
                # The value stays out of the message: it came from a client.
                raise WriteRejected(
                    self.partner, f"{value.source}: a value this partner has no code for"
                )
            return code
        if value == NOW:
            return self.now
        if value == CLIENT_REFERENCE:
            return self.client_reference
        if value.startswith(RETURNED):
            return Deferred(value[len(RETURNED) :])
        return self.values.get(value)

    @property
    def target_id(self) -> str:
        """The owner's id a transition changes."""
        target = self.values.get("id")
        if target is None or str(target) == "":
            raise WriteRejected(self.partner, "no id to change", not_found=True)
        return str(target)


def declared_writes(entities: Mapping[str, Any], entity: str) -> frozenset[str]:
    """The actions an entity block declares (``writes`` of a REST or SQL entity spec)."""
    spec = entities.get(entity)
    return frozenset() if spec is None else frozenset(spec.writes)


def declared_write(partner: str, entities: Mapping[str, Any], entity: str, action: str) -> Any:
    """The write block of ``entity.action``; ValueError when the partner declares none."""
    spec = entities.get(entity)
    if spec is None or action not in spec.writes:
        raise ValueError(f"{partner} declares no {entity}.{action} write")
    return spec.writes[action]


SpecT = TypeVar("SpecT")


class DeclaredWrites(Generic[SpecT]):
    """What the writers of every kind share: the partner's write blocks, per entity and action
    (``SpecT``: the kind's block model), and one write's checked inputs."""

    def __init__(self, partner: str, entities: Mapping[str, Any]) -> None:
        self.partner = partner
        self._entities = entities

    def writes(self, entity: str) -> frozenset[str]:
        return declared_writes(self._entities, entity)

    def spec(self, entity: str, action: str) -> SpecT:
        found: SpecT = declared_write(self.partner, self._entities, entity, action)
        return found

    def inputs(
        self, entity: str, action: str, values: Mapping[str, Any], client_reference: str
    ) -> tuple[SpecT, WriteInput, str | None]:
        """The block, the checked inputs and, for a change (not a creation), the owner's id
        of the record changed."""
        spec = self.spec(entity, action)  # first: an undeclared action is the caller's bug
        given = WriteInput(self.partner, entity, action, values, client_reference)
        target = None if action in CREATING else given.target_id
        return spec, given, target
