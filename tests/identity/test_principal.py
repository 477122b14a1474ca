"""A principal's organisation is the kind of code its role names; errors name the rule only."""

from __future__ import annotations

import pytest

from identity.principal import InvalidPrincipal, Principal, Role, new_principal


@pytest.mark.parametrize(
    ("role", "organisation", "normalised"),
    [
        ("TRAINING_CENTRE", "0732727t", "0732727T"),  # a UAI
        ("TRAINING_CENTRE", "728 545 625 00093", "72854562500093"),  # or a SIRET
        ("EMPLOYER", "75448271900293", "75448271900293"),
        ("OPCO", "akto", "AKTO"),
        ("OBSERVATORY", None, ""),
        ("ADMIN", "", ""),
    ],
)
def test_organisations_are_checked_and_normalised(
    role: str, organisation: str | None, normalised: str
) -> None:
    assert new_principal(role, organisation, "someone").organisation == normalised


@pytest.mark.parametrize(
    ("role", "organisation", "subject"),
    [
        ("ROOT", None, "qx-subj"),
        ("TRAINING_CENTRE", None, "qx-subj"),
        ("TRAINING_CENTRE", "0732727A", "qx-subj"),  # wrong UAI check letter
        ("EMPLOYER", "0732727T", "qx-subj"),  # a UAI is not a SIRET
        ("EMPLOYER", "75448271900294", "qx-subj"),  # Luhn
        ("OPCO", "NOPE", "qx-subj"),
        ("ADMIN", "AKTO", "qx-subj"),
        ("CANDIDATE", "0732727T", ""),
        ("CANDIDATE", "0732727T", "x" * 201),
        ("CANDIDATE", None, "1"),  # an id at which centre?
    ],
)
def test_a_principal_breaking_a_rule_is_refused_without_its_value(
    role: str, organisation: str | None, subject: str
) -> None:
    with pytest.raises(InvalidPrincipal) as refused:
        new_principal(role, organisation, subject)
    message = str(refused.value)
    assert organisation is None or organisation not in message
    assert not subject or subject not in message


def test_scopes_differ_per_principal_and_hide_who() -> None:
    a = Principal(Role.TRAINING_CENTRE, "0732727T", "staff-1")
    b = Principal(Role.TRAINING_CENTRE, "0742182V", "staff-1")
    assert (
        a.scope != b.scope
        and a.scope == Principal(Role.TRAINING_CENTRE, "0732727T", "staff-1").scope
    )
    assert "0732727T" not in a.scope and "staff-1" not in a.scope
