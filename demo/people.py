"""The fixed ids of the demo's personal half, for the demo credentials and the hub's tests.

The walkthrough follows one apprentice, known to three owners:

- at **cfa-btp** (BTP CFA Savoie, UAI ``0732727T``, SIRET ``72854562500093``) candidate ``1``,
  with an INE, two applications: ``1`` (programme ``FORM-0003``, proposed through Hub3E
  mission ``M-32245``) PLACED at the walkthrough employer, and ``2`` WITHDRAWN; three
  follow-up events (a trial-period review and a company visit shared with the contract's
  parties, an interview for the centre only);
- at **hub3e**, file ``CAN-994530`` of the same person with the same INE;
- at **akto**, contract ``074202608000031`` (running, funded by AKTO, decision ACCORDE).

The walkthrough **employer**, SIRET ``46235976100717`` (a hotel of Haute-Savoie, AKTO), has
applications and contracts at both centres. The **other centre** is cfa-hotellerie (CFA
Hôtellerie-Restauration de Haute-Savoie, UAI ``0742182V``, SIRET ``94832095700905``); its
candidate ``1`` is one centre A must not see. The OPCO credential's ``org`` is ``AKTO``.

A **CANDIDATE** principal's ``sub`` is the candidate id at its owner (``"1"`` at cfa-btp);
Hub3E also accepts its own file id or the INE, AKTO the INE only (see demo.akto_contracts).

``CANARY_CANDIDATES`` carry the canary (demo.personal) when ``HUB_DEMO_CANARY`` is set.
tests/demo/test_people.py checks every value here against the generated data.
"""

from __future__ import annotations

from typing import Final

BTP_UAI: Final = "0732727T"
BTP_SIRET: Final = "72854562500093"
HOTELLERIE_UAI: Final = "0742182V"
HOTELLERIE_SIRET: Final = "94832095700905"

WALKTHROUGH_ERP: Final = "cfa-btp"
WALKTHROUGH_CANDIDATE_ID: Final = 1
WALKTHROUGH_APPLICATION_ID: Final = 1
WALKTHROUGH_WITHDRAWN_APPLICATION_ID: Final = 2
WALKTHROUGH_PROGRAM_ID: Final = "FORM-0003"
WALKTHROUGH_MISSION_ID: Final = "M-32245"
WALKTHROUGH_HUB3E_ID: Final = "CAN-994530"
WALKTHROUGH_DECA_NUMBER: Final = "074202608000031"
WALKTHROUGH_EMPLOYER_SIRET: Final = "46235976100717"

OTHER_CENTRE_ERP: Final = "cfa-hotellerie"
OTHER_CENTRE_CANDIDATE_ID: Final = 1
OPCO_CODE: Final = "AKTO"

CANARY_CANDIDATES: Final = {"cfa-btp": 2, "cfa-hotellerie": 3}
"""ERP -> the candidate id whose last name, e-mail and one follow-up summary carry the canary
(the same person's Hub3E file and AKTO contract carry it too)."""

__all__ = [
    "BTP_SIRET",
    "BTP_UAI",
    "CANARY_CANDIDATES",
    "HOTELLERIE_SIRET",
    "HOTELLERIE_UAI",
    "OPCO_CODE",
    "OTHER_CENTRE_CANDIDATE_ID",
    "OTHER_CENTRE_ERP",
    "WALKTHROUGH_APPLICATION_ID",
    "WALKTHROUGH_CANDIDATE_ID",
    "WALKTHROUGH_DECA_NUMBER",
    "WALKTHROUGH_EMPLOYER_SIRET",
    "WALKTHROUGH_ERP",
    "WALKTHROUGH_HUB3E_ID",
    "WALKTHROUGH_MISSION_ID",
    "WALKTHROUGH_PROGRAM_ID",
    "WALKTHROUGH_WITHDRAWN_APPLICATION_ID",
]
