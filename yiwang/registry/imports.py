"""Bulk imports into the registry from CSV or Excel, all or nothing.

Every row is checked by the same validation as a single registration; the report names the row
(as a spreadsheet numbers it: the header is row 1) and the column (as the file names it). If
any row is bad nothing is written. Importing the same file again changes nothing: persons are
matched by ID number, unchanged rows are counted and left alone, changed rows are updated.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.errors import FieldErrors
from yiwang.core.masking import mask_id_number
from yiwang.registry.models import Person
from yiwang.registry.services import person_validate

# Column headers accepted for each field: the English field name or the Chinese label.
PERSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "id_number": ("id_number", "身份证号", "公民身份号码"),
    "name": ("name", "姓名"),
    "division": ("division", "行政区划代码", "村社区代码"),
    "birth_date": ("birth_date", "出生日期"),
    "sex": ("sex", "性别"),
    "phone": ("phone", "联系电话", "手机号"),
    "address": ("address", "住址", "地址"),
    "ethnicity": ("ethnicity", "民族"),
}
SEX_WORDS = {"男": "M", "女": "F", "M": "M", "F": "F", "m": "M", "f": "F"}


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
        }


class ImportFileError(FieldErrors):
    """The file itself cannot be read (format, encoding, missing columns)."""


def table_read(*, name: str, content: bytes) -> list[dict[str, str]]:
    """Rows of a .csv (UTF-8, with or without BOM, or GB18030 as Excel in China writes it) or
    .xlsx file, as dicts keyed by the header row."""
    lower = name.lower()
    if lower.endswith(".xlsx"):
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
            raise ImportFileError.single("file", _("This is not a readable .xlsx file.")) from None
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
        return [
            {
                header[i]: ("" if cell is None else str(cell).strip())
                for i, cell in enumerate(row)
                if i < len(header)
            }
            for row in rows
            if any(cell not in (None, "") for cell in row)
        ]
    if not lower.endswith(".csv"):
        raise ImportFileError.single("file", _("Upload a .csv or .xlsx file."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError.single("file", _("The file is neither UTF-8 nor GB18030 text."))
    reader = csv.DictReader(io.StringIO(text))
    return [
        {(key or "").strip(): (value or "").strip() for key, value in row.items()}
        for row in reader
        if any((value or "").strip() for value in row.values())
    ]


def _column_map(
    header: list[str], columns: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> dict[str, str]:
    """field → the header the file uses for it."""
    found = {}
    for field_name, names in columns.items():
        for name in names:
            if name in header:
                found[field_name] = name
                break
    missing = [columns[f][1] if len(columns[f]) > 1 else f for f in required if f not in found]
    if missing:
        raise ImportFileError.single(
            "file", _("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)}
        )
    return found


def person_import(*, actor: Any, rows: list[dict[str, str]], source: str = "") -> ImportReport:
    """Validate every row, then create or update persons in one transaction (or nothing)."""
    report = ImportReport(rows=len(rows))
    if not rows:
        return report
    columns = _column_map(list(rows[0].keys()), PERSON_COLUMNS, ("id_number", "name", "division"))
    existing = {
        p.id_number: p
        for p in Person.objects.filter(
            id_number__in=[(row.get(columns["id_number"]) or "").strip().upper() for row in rows]
        )
    }
    seen: dict[str, int] = {}
    plans: list[tuple[Person | None, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        row_number = index + 2  # the header is row 1
        data = {f: row.get(header, "") for f, header in columns.items()}
        if data.get("sex"):
            data["sex"] = SEX_WORDS.get(data["sex"], data["sex"])
        number = (data.get("id_number") or "").strip().upper()
        if number in seen:
            report.errors.append(
                {
                    "row": row_number,
                    "column": columns["id_number"],
                    "message": _("Same ID number as row %(row)s.") % {"row": seen[number]},
                }
            )
            continue
        seen[number] = row_number
        person = existing.get(number)
        try:
            cleaned = person_validate(data, existing=person)
        except FieldErrors as errors:
            for path, message in errors.errors:
                report.errors.append(
                    {
                        "row": row_number,
                        "column": columns.get(str(path[-1]), str(path[-1])),
                        "message": message,
                    }
                )
            continue
        plans.append((person, cleaned))
    if report.errors:
        return report
    now = timezone.now()
    with transaction.atomic():
        created, updated = [], []
        for person, cleaned in plans:
            if person is None:
                created.append(Person(**cleaned))
                continue
            changes = {k: v for k, v in cleaned.items() if getattr(person, k) != v}
            if not changes:
                report.unchanged += 1
                continue
            for key, value in changes.items():
                setattr(person, key, value)
            person.updated_at = now
            updated.append(person)
        Person.objects.bulk_create(created, batch_size=2000)
        if updated:
            Person.objects.bulk_update(
                updated, ["name", "division", "phone", "address", "ethnicity", "updated_at"], batch_size=2000
            )
        report.created, report.updated = len(created), len(updated)
        if created or updated:
            audit_record(
                actor=actor,
                action="person.import",
                object_type="registry.person",
                after={
                    "source": source,
                    "created": len(created),
                    "updated": [mask_id_number(p.id_number) for p in updated][:1000],
                    "unchanged": report.unchanged,
                },
            )
    return report
