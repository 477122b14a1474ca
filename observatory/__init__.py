"""Disclosure control of the observatory's aggregate cells: what may be published of a count.

The one entry point is :func:`publish` (and :func:`publish_rate` for rates): the observatory's
resolvers and extractor hand it the merged, true counts of a table of the grid, and cache, show
or extract only what it returns. See :mod:`observatory.disclosure` for the contract and
README.md, "Disclosure control", for the rules and what they guarantee.

Pure computation: no I/O, no clock, no randomness but the records' keyed hashes, so the same
table always gives the same published table. It imports nothing of the gateway's layers.
"""

from observatory.cells import (
    TOTAL,
    Coordinates,
    Count,
    CountTable,
    Hierarchy,
    Unit,
    count_records,
)
from observatory.disclosure import (
    DisclosureRules,
    PublishedCount,
    PublishedRate,
    PublishedRateTable,
    PublishedTable,
    publish,
    publish_rate,
)
from observatory.perturbation import PTable, cell_key, record_key
from observatory.suppression import Reason

__all__ = [
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
]
