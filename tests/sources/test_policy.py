"""The role table of COMMON-SYNTAX as rules (sources/policy.py), without any partner."""

from __future__ import annotations

import pytest

from identity.principal import Principal, Role
from sources import policy
from sources.policy import Facts

CENTRE = Principal(Role.TRAINING_CENTRE, "0732727T", "staff")
OTHER = Principal(Role.TRAINING_CENTRE, "0742182V", "staff")
EMPLOYER = Principal(Role.EMPLOYER, "46235976100717", "boss")
OPCO = Principal(Role.OPCO, "AKTO", "agent")
CANDIDATE = Principal(Role.CANDIDATE, "0732727T", "1")

APPLICATION = {
    "candidate": {"id": "1"},
    "employer": {"siret": "46235976100717"},
    "trainingCentre": {"uai": "0732727T", "siret": "72854562500093"},
}


@pytest.mark.parametrize(
    "principal",
    [None, Principal(Role.OBSERVATORY, "", "o"), Principal(Role.ADMIN, "", "a")],
)
@pytest.mark.parametrize("entity", ["candidate", "application", "contract", "follow_up"])
def test_no_personal_row_for_anonymous_observatory_or_admin(
    principal: Principal | None, entity: str
) -> None:
    assert policy.scope(principal, entity) is None
    assert not policy.permits(principal, entity, APPLICATION)


def test_row_rules_follow_the_role_table() -> None:
    assert policy.permits(CENTRE, "application", APPLICATION)
    assert not policy.permits(OTHER, "application", APPLICATION)
    assert policy.permits(EMPLOYER, "application", APPLICATION)
    assert not policy.permits(EMPLOYER, "follow_up", APPLICATION)
    assert policy.scope(EMPLOYER, "candidate") is None  # only through an application
    assert policy.permits(CANDIDATE, "application", APPLICATION)
    assert not policy.permits(CANDIDATE, "application", {**APPLICATION, "candidate": {"id": "2"}})
    assert policy.scope(OPCO, "application") is None
    assert policy.scope(OPCO, "contract") == {"opco": "AKTO"}


def test_a_candidate_reads_only_follow_up_shared_with_the_parties() -> None:
    event = {"candidate": {"id": "1"}, "trainingCentre": {"uai": "0732727T"}}
    assert policy.permits(CANDIDATE, "follow_up", {**event, "visibility": "CONTRACT_PARTIES"})
    assert not policy.permits(
        CANDIDATE, "follow_up", {**event, "visibility": "TRAINING_CENTRE_ONLY"}
    )


def test_a_candidate_finds_contracts_only_by_the_ine_of_their_file() -> None:
    assert policy.scope(CANDIDATE, "contract") is None  # not known yet: nothing asked
    facts = Facts(ine="584117802ZR")
    assert policy.scope(CANDIDATE, "contract", facts) == {"apprenticeIne": ["584117802ZR"]}
    assert policy.permits(CANDIDATE, "contract", {"apprentice": {"ine": "584117802ZR"}}, facts)
    assert not policy.permits(CANDIDATE, "contract", {"apprentice": {"ine": "X"}}, facts)


def test_a_client_filter_is_narrowed_to_the_rules_never_widened() -> None:
    rules = {"trainingCentre": ["0732727T"]}
    assert policy.within({}, rules) == rules
    assert policy.within({"trainingCentre": ["0732727T", "0742182V"]}, rules) == rules
    assert policy.within({"trainingCentre": ["0742182V"]}, rules) is None
    assert policy.within({"status": ["PLACED"]}, rules) == {**rules, "status": ["PLACED"]}
    assert policy.within({"opco": "ATLAS"}, {"opco": "AKTO"}) is None


def test_an_employer_never_receives_a_birth_date() -> None:
    assert "birthDate" in policy.hidden(EMPLOYER, "candidate")
    assert "apprentice.birthDate" in policy.hidden(EMPLOYER, "contract")
    assert policy.hidden(CENTRE, "candidate") == frozenset()
