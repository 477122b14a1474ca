"""The observatory package's public names: the contract its callers build on."""

from __future__ import annotations

import observatory


def test_public_api_is_stable() -> None:
    assert len(set(observatory.__all__)) == len(observatory.__all__)
    assert set(observatory.__all__) == {
        "TOTAL",
        "Coordinates",
        "Count",
        "CountTable",
        "DisclosureRules",
        "Hierarchy",
        "PTable",
        "PublishedCount",
        "PublishedRate",
        "PublishedRateTable",
        "PublishedTable",
        "Reason",
        "Unit",
        "cell_key",
        "count_records",
        "publish",
        "publish_rate",
        "record_key",
    }
    for name in observatory.__all__:
        assert hasattr(observatory, name), name


def test_the_default_rules_are_the_hubs() -> None:
    rules = observatory.DisclosureRules()
    assert (rules.threshold, rules.rate_min_denominator) == (11, 20)
    assert rules.perturb
