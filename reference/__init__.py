"""Reference data and rules every layer may use: identifiers, code lists, territory, geography.

The lowest layer of the hub: it imports nothing from the rest of it. Data files are read once,
on first use.
"""

from reference.codes import (
    LEVELS,
    OPCOS,
    naf_codes,
    naf_label,
    rome_codes,
    rome_domain,
    rome_label,
)
from reference.geo import communes_near, distance_km, nearest_commune
from reference.identifiers import InvalidIdentifier
from reference.territory import (
    COMMUNES_PROVENANCE,
    Commune,
    Departement,
    commune,
    communes,
    communes_by_postal_code,
    communes_in,
    departement,
    departements,
)

__all__ = [
    "COMMUNES_PROVENANCE",
    "LEVELS",
    "OPCOS",
    "Commune",
    "Departement",
    "InvalidIdentifier",
    "commune",
    "communes",
    "communes_by_postal_code",
    "communes_in",
    "communes_near",
    "departement",
    "departements",
    "distance_km",
    "naf_codes",
    "naf_label",
    "nearest_commune",
    "rome_codes",
    "rome_domain",
    "rome_label",
]
