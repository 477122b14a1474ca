"""The GraphQL enums of the personal half list exactly the adapters' closed code lists."""

from __future__ import annotations

import enum

import pytest

from adapters import syntax
from resolvers import enums


@pytest.mark.parametrize(
    ("graphql_enum", "codes"),
    [
        (enums.ApplicationStatus, syntax.APPLICATION_STATUSES),
        (enums.ActorRole, syntax.ACTOR_ROLES),
        (enums.ContractStatus, syntax.CONTRACT_STATUSES),
        (enums.FundingDecision, syntax.FUNDING_DECISIONS),
        (enums.FollowUpKind, syntax.FOLLOW_UP_KINDS),
        (enums.FollowUpVisibility, syntax.FOLLOW_UP_VISIBILITIES),
        (enums.ContractKind, syntax.CONTRACT_KINDS),
    ],
)
def test_a_graphql_enum_and_its_code_list_agree(graphql_enum: type[enum.Enum], codes: str) -> None:
    assert [m.value for m in graphql_enum] == codes.split()
