"""Resident ID numbers (GB 11643, 身份证号) and unified social credit codes (GB 32100, USCC).

Validation is python-stdnum's (`stdnum.cn.ric`, `stdnum.cn.uscc`); this module turns its
exceptions into messages a clerk can act on and derives birth date, sex and birthplace.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum import numdb
from stdnum.cn import ric, uscc


class IdentifierError(ValueError):
    """An invalid identifier; `message` says what is wrong in the user's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: datetime.date
    sex: str  # "M" or "F"
    birthplace_code: str


def _explain(error: Exception, kind: str) -> str:
    if isinstance(error, stdnum_errors.InvalidLength):
        return _("%(kind)s must be 18 characters long.") % {"kind": kind}
    if isinstance(error, stdnum_errors.InvalidChecksum):
        return _("%(kind)s has a wrong check digit.") % {"kind": kind}
    if isinstance(error, stdnum_errors.InvalidFormat):
        return _("%(kind)s contains characters that are not allowed.") % {"kind": kind}
    return _("%(kind)s is not valid.") % {"kind": kind}


def _division_code_known(code: str) -> bool:
    return any("county" in props for _part, props in numdb.get("cn/loc").info(code))


def resident_id_parse(number: str, *, today: datetime.date | None = None) -> ResidentId:
    """Validate an 18-digit resident ID number and derive what it encodes."""
    label = _("ID number")
    raw = ric.compact(number or "")
    if len(raw) == 18 and raw[:17].isdigit():
        try:
            birth_date = ric.get_birth_date(raw)
        except stdnum_errors.ValidationError:
            raise IdentifierError(_("ID number encodes an impossible birth date.")) from None
        if birth_date > (today or datetime.date.today()) or birth_date.year < 1880:
            raise IdentifierError(_("ID number encodes an impossible birth date.")) from None
    try:
        raw = ric.validate(raw)
    except (stdnum_errors.InvalidComponent, KeyError):
        # (stdnum 2.2 raises KeyError when the province is known and the county is not.)
        # stdnum also wants the county code to have existed in the birth year, but codes are
        # given when the number is issued (from 1985 on): 安源区 360302 dates from 1985, yet its
        # residents born in 1950 hold 360302… numbers. Any code stdnum has ever known is accepted.
        if not _division_code_known(raw[:6]):
            raise IdentifierError(_("ID number has an unknown division code.")) from None
    except stdnum_errors.ValidationError as error:
        raise IdentifierError(_explain(error, label)) from None
    return ResidentId(
        number=raw,
        birth_date=ric.get_birth_date(raw),
        sex="M" if int(raw[16]) % 2 else "F",
        birthplace_code=raw[:6],
    )


def resident_id_build(birthplace_code: str, birth_date: datetime.date, sequence: int, sex: str) -> str:
    """Compose a valid ID number (used by the demo generator and factories).
    `sequence` is 0..499; the order digit is odd for men and even for women."""
    order = sequence * 2 + (1 if sex == "M" else 0)
    body = f"{birthplace_code}{birth_date:%Y%m%d}{order:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum drops the last character


def uscc_validate(number: str) -> str:
    """Validate a unified social credit code and return it compacted (upper case)."""
    try:
        return uscc.validate(number or "")
    except stdnum_errors.ValidationError as error:
        raise IdentifierError(_explain(error, _("USCC"))) from None


def uscc_build(division_code: str, organization_code: str, *, authority: str = "9", kind: str = "1") -> str:
    """Compose a valid USCC from a 6-digit division code and a 9-character organisation code."""
    body = f"{authority}{kind}{division_code}{organization_code}"
    return body + uscc.calc_check_digit(body)
