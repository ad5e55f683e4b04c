"""Masking (脱敏) of personal data: ID numbers, phones, addresses.

Pages, API responses, logs and exports show masked values unless the viewer's role needs the
value (core.access.access_personal_field); each unmasked read is audited by the caller through
`personal_fields_reveal`.
"""

from __future__ import annotations

import logging
import re

ID_NUMBER_PATTERN = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[\dXx])(?![0-9A-Za-z])")
PHONE_PATTERN = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
# The address is kept down to the town (乡/镇/街道) and the rest hidden. The town is looked for
# after the county (县/区/旗), else after the city (市): "萍乡市" itself ends in 乡 + 市.
ADDRESS_COUNTY_END = re.compile(r"[县区旗]")
ADDRESS_CITY_END = re.compile(r"市")
ADDRESS_TOWN_END = re.compile(r"街道|镇|乡")


def mask_id_number(value: str) -> str:
    """360302199001011234 → 3603**********1234"""
    if not value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678; landlines keep the area code and the last two digits."""
    if not value:
        return value
    digits = value.strip()
    if len(digits) == 11 and digits.isdigit() and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:4] + "*" * (len(digits) - 6) + digits[-2:]


def mask_address(value: str) -> str:
    """江西省萍乡市安源区八一街道跃进路12号3栋201 → 江西省萍乡市安源区八一街道****"""
    if not value:
        return value
    upper = ADDRESS_COUNTY_END.search(value) or ADDRESS_CITY_END.search(value)
    town = ADDRESS_TOWN_END.search(value, upper.end() if upper else 0)
    kept = value[: town.end()] if town else value[: upper.end() if upper else min(6, len(value) // 2)]
    return kept + "****"


def mask_birth_date(value) -> str:
    """1988-06-01 → 1988-**-** (the year stays: age groups are needed widely; the full date
    would give away eight of the ten digits a masked ID number hides)."""
    if not value:
        return value
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text[:4] + "-**-**"


MASKERS = {
    "id_number": mask_id_number,
    "birth_date": mask_birth_date,
    "phone": mask_phone,
    "address": mask_address,
}


def mask_values(values: dict, *, revealed: frozenset[str] | set[str] = frozenset()) -> dict:
    """A copy of `values` with every personal field masked except those in `revealed`."""
    shown = dict(values)
    for field, masker in MASKERS.items():
        if field not in revealed and shown.get(field):
            shown[field] = masker(shown[field])
    return shown


def mask_text(text: str) -> str:
    """Mask every ID number and mobile number inside free text (logs, exports)."""
    text = ID_NUMBER_PATTERN.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)
    return PHONE_PATTERN.sub(lambda m: m.group(1) + "****" + m.group(2), text)


class MaskingLogFilter(logging.Filter):
    """Masks ID numbers and phones in every log record before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is the logger's problem, not ours
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
