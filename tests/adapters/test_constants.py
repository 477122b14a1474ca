"""A filter on fields a mapping holds constant is decided without the partner."""

from __future__ import annotations

from adapters.config import EntityMapping
from adapters.constants import constant_fields, rules_out

ERP = EntityMapping.model_validate(
    {
        "id": "a.id",
        "fields": {
            "status": "a.statut",
            "candidate.id": "a.candidat_id",
            "trainingCentre.uai": {"const": "0742182V"},
            "trainingCentre.siret": {"const": "94832095700905"},
        },
    }
)


def test_the_constants_form_one_record() -> None:
    constants, varying = constant_fields(ERP)
    assert constants == {"trainingCentre": {"uai": "0742182V", "siret": "94832095700905"}}
    assert varying == {"status", "candidate"}


def test_another_centre_s_filter_rules_the_partner_out_its_own_does_not() -> None:
    assert rules_out("application", ERP, {"trainingCentre": ["0732727T"]})
    assert not rules_out("application", ERP, {"trainingCentre": ["0742182V"]})
    assert not rules_out("application", ERP, {"trainingCentre": ["94832095700905"]})


def test_filters_on_fields_that_vary_are_left_to_the_partner() -> None:
    assert not rules_out("application", ERP, {"candidateId": ["1"], "status": ["PLACED"]})
    assert not rules_out("application", ERP, {})
