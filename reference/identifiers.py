"""Validate and normalise the national identifiers and codes of the common syntax.

Each function takes what a client or a partner sent and returns the normalised value, or raises
``InvalidIdentifier``. Rules shared by all of them:

- surrounding whitespace is ignored; SIRET and SIREN also drop the spaces and dots inside them
  (``732 829 320 00074``);
- letters are accepted in either case and returned in upper case (``0731549m`` -> ``0731549M``,
  ``f1201`` -> ``F1201``, ``rncp36629`` -> ``RNCP36629``): partners disagree on case, and no code
  here distinguishes two values by case alone;
- only ASCII digits and letters count: other scripts' digits and look-alike letters are refused;
- the error names the kind of code and the rule broken, never the value, which may identify a
  person.

The form is checked, and check characters where the code has one (SIRET, SIREN, UAI); whether
the code exists is a question for the code lists (``reference.codes``, ``reference.territory``).
"""

from __future__ import annotations

import re

from stdnum.exceptions import ValidationError
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from reference.codes import LEVELS, OPCOS

__all__ = [
    "InvalidIdentifier",
    "cfd",
    "departement",
    "insee_commune",
    "level",
    "level_from_legacy",
    "naf",
    "opco",
    "rncp",
    "rome",
    "siren",
    "siret",
    "uai",
]


class InvalidIdentifier(ValueError):
    """A code that breaks its rule. ``kind`` names the code (``SIRET``), ``reason`` the rule."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"invalid {kind}: {reason}")
        self.kind = kind
        self.reason = reason


_CODE_FLAGS = re.ASCII | re.IGNORECASE

_UAI = re.compile(r"[0-9]{7}[A-Z]", _CODE_FLAGS)
_UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_ROME = re.compile(r"[A-Z][0-9]{4}", _CODE_FLAGS)
_RNCP = re.compile(r"(?:RNCP)?([0-9]{3,5})", _CODE_FLAGS)
_CFD = re.compile(r"[A-Z0-9]{3}[0-9]{3}[A-Z0-9]{2}", _CODE_FLAGS)
_NAF = re.compile(r"([0-9]{2})\.?([0-9]{2})([A-Z])", _CODE_FLAGS)

# COG départements: 01..95 except 20 (Corsica is 2A and 2B since 1976), and the five overseas
# départements 971..974 and 976 (975, Saint-Pierre-et-Miquelon, has been a collectivité since 1985).
_METROPOLITAN_DEPARTEMENT = r"(?:0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5])"
_OVERSEAS_DEPARTEMENT = r"(?:97[1-46])"
_DEPARTEMENT = re.compile(f"{_METROPOLITAN_DEPARTEMENT}|{_OVERSEAS_DEPARTEMENT}", _CODE_FLAGS)
# A commune's code starts with its département's: two characters then three digits in metropolitan
# France, three then two overseas.
_INSEE_COMMUNE = re.compile(
    f"{_METROPOLITAN_DEPARTEMENT}[0-9]{{3}}|{_OVERSEAS_DEPARTEMENT}[0-9]{{2}}", _CODE_FLAGS
)

# Levels of the 1969 nomenclature, as the 2019 decree maps them (old I covered both 7 and 8).
_ROMAN_LEVELS = {"V": 3, "IV": 4, "III": 5, "II": 6, "I": 7}
# LHEO 2.3 writes European level n as code 10 + n (11..18).
_LHEO_LEVEL_OFFSET = 10


def _text(kind: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(kind, "expected text")
    return value.strip()


def _without_separators(kind: str, value: object) -> str:
    return "".join(_text(kind, value).split()).replace(".", "")


def siret(value: str) -> str:
    """A SIRET (establishment): 14 digits, Luhn check, or La Poste's digit-sum rule."""
    number = _without_separators("SIRET", value)
    if not (len(number) == 14 and number.isascii() and number.isdigit()):
        raise InvalidIdentifier("SIRET", "expected 14 digits")
    try:
        return str(stdnum_siret.validate(number))
    except ValidationError:
        raise InvalidIdentifier("SIRET", "check digit does not match") from None


def siren(value: str) -> str:
    """A SIREN (legal unit): 9 digits with a Luhn check."""
    number = _without_separators("SIREN", value)
    if not (len(number) == 9 and number.isascii() and number.isdigit()):
        raise InvalidIdentifier("SIREN", "expected 9 digits")
    try:
        return str(stdnum_siren.validate(number))
    except ValidationError:
        raise InvalidIdentifier("SIREN", "check digit does not match") from None


def uai(value: str) -> str:
    """A UAI (school or training centre): 7 digits and a check letter."""
    code = _text("UAI", value)
    if not _UAI.fullmatch(code):
        raise InvalidIdentifier("UAI", "expected 7 digits followed by a letter")
    code = code.upper()
    if code[7] != _UAI_LETTERS[int(code[:7]) % 23]:
        raise InvalidIdentifier("UAI", "check letter does not match")
    return code


def rome(value: str) -> str:
    """A ROME 4.0 fiche code: a letter and 4 digits (``M1805``)."""
    code = _text("ROME", value)
    if not _ROME.fullmatch(code):
        raise InvalidIdentifier("ROME", "expected a letter followed by 4 digits")
    return code.upper()


def rncp(value: str) -> str:
    """An RNCP fiche: ``RNCP`` and 3 to 5 digits.

    The bare number is accepted too, because LHEO feeds and France compétences exports write
    ``36629`` for ``RNCP36629``.
    """
    match = _RNCP.fullmatch(_text("RNCP", value))
    if not match:
        raise InvalidIdentifier("RNCP", "expected RNCP followed by 3 to 5 digits")
    return f"RNCP{match.group(1)}"


def cfd(value: str) -> str:
    """A code formation diplôme (Éducation nationale): 3 letters or digits, 3 digits, 2 more."""
    code = _text("CFD", value)
    if not _CFD.fullmatch(code):
        raise InvalidIdentifier(
            "CFD", "expected 3 letters or digits, 3 digits, then 2 letters or digits"
        )
    return code.upper()


def naf(value: str) -> str:
    """A NAF rév. 2 sub-class, normalised with its dot: ``6202A`` -> ``62.02A``."""
    match = _NAF.fullmatch(_text("NAF", value))
    if not match:
        raise InvalidIdentifier("NAF", "expected 2 digits, a dot, 2 digits and a letter")
    division, group, letter = match.groups()
    return f"{division}.{group}{letter.upper()}"


def insee_commune(value: str) -> str:
    """An INSEE (COG) commune code: its département's code then the commune's number."""
    code = _text("INSEE commune", value)
    if not _INSEE_COMMUNE.fullmatch(code):
        raise InvalidIdentifier(
            "INSEE commune", "expected 5 characters starting with a département code"
        )
    return code.upper()


def departement(value: str) -> str:
    """A COG département code: ``01``..``95`` (no ``20``), ``2A``, ``2B``, ``971``..``976``."""
    code = _text("département", value)
    if not _DEPARTEMENT.fullmatch(code):
        raise InvalidIdentifier("département", "expected a COG département code")
    return code.upper()


def level(value: int | str) -> int:
    """A European qualification level of the common syntax, 3 to 8, as a number or digits."""
    number = _level_number("level", value)
    if number not in LEVELS:
        raise InvalidIdentifier("level", "expected a European level from 3 to 8")
    return number


def level_from_legacy(value: int | str) -> int:
    """A level in an older notation, as a European level 3 to 8.

    - the 1969 nomenclature's roman numerals: V -> 3, IV -> 4, III -> 5, II -> 6, I -> 7;
    - LHEO 2.3 codes 13..18 -> 3..8 (code 10 + n is European level n). Codes 11 and 12 are
      levels 1 and 2, below any diploma and outside the common syntax: they are refused.

    Arabic digits 3..8 are refused on purpose: old levels were also written 5..1, so ``5``
    alone could mean level 3 or level 5.
    """
    # isascii first: str.upper() turns some other letters into ASCII ones ("ı" -> "I").
    if isinstance(value, str) and value.isascii():
        roman = _ROMAN_LEVELS.get(value.strip().upper())
        if roman is not None:
            return roman
    try:
        european = _level_number("level", value) - _LHEO_LEVEL_OFFSET
    except InvalidIdentifier:
        european = 0
    if european in (1, 2):
        raise InvalidIdentifier("level", "European levels 1 and 2 are below the levels 3 to 8")
    if european not in LEVELS:
        raise InvalidIdentifier("level", "expected a roman level V to I or an LHEO code 13 to 18")
    return european


def _level_number(kind: str, value: object) -> int:
    # bool is an int in Python; True is no level.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _text(kind, value)
    if not (text.isascii() and text.isdigit() and len(text) <= 2):
        raise InvalidIdentifier(kind, "expected a number")
    return int(text)


def opco(value: str) -> str:
    """An OPCO code of the common syntax (``AKTO``, ``OPCO_EP``...)."""
    text = _text("OPCO", value)
    # isascii first: str.upper() turns some other letters into ASCII ones ("ſ" -> "S").
    if not (text.isascii() and text.upper() in OPCOS):
        raise InvalidIdentifier("OPCO", "expected one of " + ", ".join(OPCOS))
    return text.upper()
