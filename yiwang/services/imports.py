"""Import of a matter catalog (事项目录) from CSV or Excel, with a validation report.

Columns are found by their English name or their Chinese label (the national catalog's own
column names, e.g. the 广安区 list: department, main_item, item_name, item_code, task_type,
dept_code, area_code). Required: matter code, name, type and department; the rest is optional:

    code             item_code · 事项编码 · 实施编码
    name             item_name · 事项名称
    type             task_type · 事项类型   (1 行政许可 … 10 其他行政权力, 20 公共服务; code or label)
    department       department · 实施主体 · 部门   (a department code, name or short name; a
                     foreign catalog's name like 区人社局 is matched by its words)
    department_code  dept_code · 部门编码   (used only if it is one of the city's department codes)
    main_item        main_item · 主项名称
    division_code    area_code · 区划代码
    applicant_kind   服务对象           (自然人 / 法人 / 自然人,法人)
    legal_limit_days     法定办结时限   (working days)
    promised_limit_days  承诺办结时限   (working days)
    visits           跑动次数
    fee              收费标准           (yuan, e.g. 80 or 80.50; 不收费 or empty = free)
    legal_basis      设定依据
    conditions       受理条件
    keywords         关键词             (separated by spaces, commas or 、)
    materials        申请材料           (separated by ； or new lines; each a name with flags in
                     parentheses: 必要 = required, 关键 = key (never tolerated), 电子证照 / 共享 =
                     the platform fetches it, with the resource code after a colon, e.g.
                     "居民身份证（必要，关键，电子证照:ga.persons）；其他证明材料")

Every problem is reported with its row (as a spreadsheet numbers it: the header is row 1) and
column (as the file names it). Mode all-or-nothing writes nothing if any row is bad;
keep-good-rows writes the good rows and reports the bad ones. Importing the same file twice
changes nothing: matters are matched by code and an unchanged row is recognised by its digest;
a changed row updates its matter (and replaces its materials), never duplicates it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.errors import FieldErrors
from yiwang.core.models import Department
from yiwang.services.models import ApplicantKind, MatterType

ALL_OR_NOTHING = "all_or_nothing"
KEEP_GOOD_ROWS = "keep_good_rows"
MODES = (ALL_OR_NOTHING, KEEP_GOOD_ROWS)

COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "item_code", "事项编码", "实施编码"),
    "name": ("name", "item_name", "事项名称"),
    "type": ("type", "task_type", "事项类型"),
    "department": ("department", "实施主体", "部门", "责任部门"),
    "department_code": ("department_code", "dept_code", "部门编码"),
    "main_item": ("main_item", "主项名称"),
    "division_code": ("division_code", "area_code", "区划代码"),
    "applicant_kind": ("applicant_kind", "服务对象"),
    "legal_limit_days": ("legal_limit_days", "法定办结时限"),
    "promised_limit_days": ("promised_limit_days", "承诺办结时限"),
    "visits": ("visits", "跑动次数"),
    "fee": ("fee", "收费标准"),
    "legal_basis": ("legal_basis", "设定依据"),
    "conditions": ("conditions", "受理条件"),
    "keywords": ("keywords", "关键词"),
    "materials": ("materials", "申请材料"),
}
REQUIRED = ("code", "name", "type")

TYPE_LABELS = {
    "行政许可": 1,
    "行政处罚": 2,
    "行政强制": 3,
    "行政征收": 4,
    "行政给付": 5,
    "行政检查": 6,
    "行政确认": 7,
    "行政奖励": 8,
    "行政裁决": 9,
    "其他行政权力": 10,
    "其他权力": 10,
    "公共服务": 20,
}
APPLICANT_WORDS = {
    "自然人": ApplicantKind.PERSON,
    "个人": ApplicantKind.PERSON,
    "person": ApplicantKind.PERSON,
    "法人": ApplicantKind.ENTERPRISE,
    "企业": ApplicantKind.ENTERPRISE,
    "enterprise": ApplicantKind.ENTERPRISE,
    "自然人,法人": ApplicantKind.BOTH,
    "自然人、法人": ApplicantKind.BOTH,
    "both": ApplicantKind.BOTH,
}
FREE_WORDS = ("", "不收费", "免费", "无", "0")

# Words in a department's name → the city's department (a foreign or older catalog names its
# departments its own way: 区人社局, 区市监局 …). Longer, more specific words first.
DEPARTMENT_WORDS: tuple[tuple[str, str], ...] = (
    ("行政审批", "XZSP"),
    ("交警", "GAJJ"),
    ("公安", "GA"),
    ("人社", "RS"),
    ("人力资源", "RS"),
    ("交通运输", "JTYS"),
    ("税务", "SW"),
    ("住建", "ZJ"),
    ("住房和城乡建设", "ZJ"),
    ("不动产", "BDCDJ"),
    ("自然资源", "ZRZY"),
    ("医疗保障", "YB"),
    ("医保", "YB"),
    ("文广", "WGLT"),
    ("文化", "WGLT"),
    ("教科体", "JY"),
    ("教育", "JY"),
    ("体育", "TY"),
    ("农业农村", "NY"),
    ("司法", "SF"),
    ("卫健", "WJ"),
    ("卫生健康", "WJ"),
    ("民政", "MZ"),
    ("市监", "SCJG"),
    ("市场监", "SCJG"),
    ("林业", "LY"),
    ("生态环境", "STHJ"),
    ("残联", "CL"),
    ("残疾人", "CL"),
    ("水务", "SL"),
    ("水利", "SL"),
    ("应急", "YJGL"),
    ("政府办", "DB"),
    ("烟草", "YC"),
    ("气象", "QX"),
    ("退役军人", "TYJR"),
    ("财政", "CZ"),
    ("综合执法", "CG"),
    ("城市管理", "CG"),
    ("城管", "CG"),
    ("发改", "FG"),
    ("发展和改革", "FG"),
    ("公管办", "ZWFW"),
    ("政务服务", "ZWFW"),
    ("商务", "SW2"),
    ("经信", "GXJ"),
    ("工信", "GXJ"),
    ("消防", "XFJY"),
    ("统计", "TJ"),
    ("公积金", "ZFGJJ"),
    ("人防", "RF"),
    ("审计", "SJ"),
    ("国资", "GZW"),
    ("信访", "XF"),
    ("乡村振兴", "XCZX"),
)

MATERIAL_SPLIT = re.compile(r"[；;\n]+")
MATERIAL_FLAGS = re.compile(r"^(?P<name>.+?)\s*[（(](?P<flags>[^（）()]*)[)）]\s*$")
FLAG_SPLIT = re.compile(r"[，,、\s]+")


@dataclass
class ImportReport:
    mode: str
    applied: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "column": column, "message": message})

    def as_dict(self) -> dict[str, Any]:
        if not self.applied:
            outcome = _("Nothing was written: the file has errors and the mode is all-or-nothing.")
        elif self.errors:
            outcome = _("The good rows were written; the rows with errors were skipped.")
        else:
            outcome = _("Every row was written.")
        return {
            "mode": self.mode,
            "applied": self.applied,
            "outcome": outcome,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def _column_map(header: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in header:
                found[name] = alias
                break
    missing = [f"{COLUMNS[name][0]} / {COLUMNS[name][2]}" for name in REQUIRED if name not in found]
    if "department" not in found and "department_code" not in found:
        missing.append(f"{COLUMNS['department'][0]} / {COLUMNS['department'][2]}")
    if missing:
        raise FieldErrors.single(
            "file", _("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)}
        )
    return found


class _Departments:
    """Resolves a department column to one of the city's departments."""

    def __init__(self, default: Department | None):
        self.default = default
        self.by_code: dict[str, Department] = {}
        self.by_name: dict[str, Department] = {}
        for department in Department.objects.all():
            self.by_code[department.code] = department
            self.by_name.setdefault(department.name, department)
            self.by_name.setdefault(department.short_name, department)
        self.cache: dict[tuple[str, str], Department | None] = {}

    def resolve(self, name: str, code: str) -> Department | None:
        key = (name, code)
        if key not in self.cache:
            self.cache[key] = self._resolve(name, code)
        return self.cache[key]

    def _resolve(self, name: str, code: str) -> Department | None:
        if code in self.by_code:
            return self.by_code[code]
        if name in self.by_code:
            return self.by_code[name]
        if name in self.by_name:
            return self.by_name[name]
        for word, department_code in DEPARTMENT_WORDS:
            if word in name and department_code in self.by_code:
                return self.by_code[department_code]
        return None


def _int(value: str, row: int, column: str, report: ImportReport, *, high: int = 3650) -> int | None:
    if value == "":
        return None
    try:
        number = int(Decimal(value))
        if Decimal(value) != number:
            raise ValueError
    except (InvalidOperation, ValueError):
        report.error(row, column, _("Not a whole number: “%(value)s”.") % {"value": value})
        return None
    if not 0 <= number <= high:
        report.error(row, column, _("Must be between 0 and %(high)s.") % {"high": high})
        return None
    return number


def _fee(value: str, row: int, column: str, report: ImportReport) -> tuple[int, str]:
    if value in FREE_WORDS:
        return 0, ""
    text = value.replace("元", "").replace("¥", "").replace(",", "").strip()
    try:
        yuan = Decimal(text)
    except InvalidOperation:
        # A fee described in words (按标准收取 …) is kept as its basis, amount unknown.
        return 0, value[:255]
    fen = yuan * 100
    if yuan < 0 or fen != fen.to_integral_value():
        report.error(row, column, _("A fee is yuan with at most two decimals, not negative."))
        return 0, ""
    return int(fen), ""


def materials_parse(text: str, row: int, column: str, report: ImportReport) -> list[dict[str, Any]]:
    """The materials column as a list of material dicts (see the module docstring)."""
    materials = []
    for position, item in enumerate(part.strip() for part in MATERIAL_SPLIT.split(text or "")):
        if not item:
            continue
        material = {
            "position": position,
            "name": item,
            "required": False,
            "is_key": False,
            "source": "upload",
            "resource_code": "",
        }
        match = MATERIAL_FLAGS.match(item)
        if match:
            material["name"] = match.group("name").strip()
            for flag in (flag for flag in FLAG_SPLIT.split(match.group("flags")) if flag):
                word, _colon, resource = flag.replace("：", ":").partition(":")
                if word in ("必要", "必须", "必需"):
                    material["required"] = True
                elif word == "关键":
                    material["required"] = material["is_key"] = True
                elif word in ("可容缺", "非必要", "选填"):
                    pass
                elif word in ("电子证照", "共享"):
                    material["source"] = "e_certificate" if word == "电子证照" else "exchange"
                    material["resource_code"] = resource.strip()[:64]
                else:
                    report.error(
                        row,
                        column,
                        _("Material “%(name)s”: unknown flag “%(flag)s” (use 必要, 关键, 电子证照 or 共享).")
                        % {"name": material["name"], "flag": flag},
                    )
        if len(material["name"]) > 200:
            report.error(row, column, _("A material's name is at most 200 characters."))
        materials.append(material)
    return materials


def _digest(values: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(values, ensure_ascii=False, sort_keys=True, default=str).encode()
    ).hexdigest()[:32]


def _validate_row(
    number: int, row: dict[str, str], columns: dict[str, str], departments: _Departments, report: ImportReport
) -> dict[str, Any] | None:
    errors_before = len(report.errors)

    def cell(name: str) -> str:
        header = columns.get(name)
        return (row.get(header) or "").strip() if header else ""

    def column(name: str) -> str:
        return columns.get(name, COLUMNS[name][0])

    code = cell("code")
    name = cell("name")
    if not code:
        report.error(number, column("code"), _("The matter code is required."))
    elif len(code) > 64:
        report.error(number, column("code"), _("A matter code is at most 64 characters."))
    if not name:
        report.error(number, column("name"), _("The matter name is required."))
    elif len(name) > 200:
        report.error(number, column("name"), _("A matter name is at most 200 characters."))
    type_text = cell("type")
    matter_type = None
    if type_text.isdigit() and int(type_text) in MatterType.values:
        matter_type = int(type_text)
    elif type_text in TYPE_LABELS:
        matter_type = TYPE_LABELS[type_text]
    else:
        report.error(
            number,
            column("type"),
            _("Unknown matter type “%(value)s” (a code such as 1 or 20, or a label such as 行政许可).")
            % {"value": type_text},
        )
    department_name = cell("department")
    department = departments.resolve(department_name, cell("department_code"))
    if department is None:
        if departments.default is None:
            report.error(
                number,
                column("department") if "department" in columns else column("department_code"),
                _("No department of the city matches “%(value)s”.")
                % {"value": department_name or cell("department_code")},
            )
        else:
            department = departments.default
            report.warnings.append(
                {
                    "row": number,
                    "column": column("department"),
                    "message": _("“%(value)s” matches no department: given to %(default)s.")
                    % {"value": department_name, "default": departments.default.name},
                }
            )
    kind_text = cell("applicant_kind")
    applicant_kind = ""
    if kind_text:
        applicant_kind = APPLICANT_WORDS.get(kind_text.replace(" ", ""), "")
        if not applicant_kind:
            report.error(
                number,
                column("applicant_kind"),
                _("Unknown applicant kind “%(value)s” (自然人 or 法人).") % {"value": kind_text},
            )
    legal = _int(cell("legal_limit_days"), number, column("legal_limit_days"), report)
    promised = _int(cell("promised_limit_days"), number, column("promised_limit_days"), report)
    if legal is not None and promised is not None and promised > legal:
        report.error(
            number,
            column("promised_limit_days"),
            _("The promised time limit (%(promised)s) exceeds the legal one (%(legal)s).")
            % {"promised": promised, "legal": legal},
        )
    visits = _int(cell("visits"), number, column("visits"), report, high=9)
    fee_fen, fee_note = _fee(cell("fee"), number, column("fee"), report)
    materials = materials_parse(cell("materials"), number, column("materials"), report)
    if len(cell("division_code")) > 12:
        report.error(number, column("division_code"), _("A division code is at most 12 digits."))
    if len(report.errors) > errors_before:
        return None
    fields = {
        "code": code,
        "name": name,
        "type": matter_type,
        "department_id": department.pk,
        "source_department": department_name[:128],
        "main_item": "" if cell("main_item") == "未分类" else cell("main_item")[:200],
        "division_code": cell("division_code"),
        "applicant_kind": applicant_kind,
        "legal_limit_days": legal,
        "promised_limit_days": promised,
        "visits": visits if visits is not None else 0,
        "fee_fen": fee_fen,
        "fee_note": fee_note,
        "legal_basis": cell("legal_basis"),
        "conditions": cell("conditions"),
        "keywords": cell("keywords")[:255],
    }
    return {"fields": fields, "materials": materials, "has_materials": "materials" in columns}


def matters_import(
    *,
    actor: Any,
    name: str,
    content: bytes,
    mode: str = ALL_OR_NOTHING,
    default_department: Department | None = None,
) -> ImportReport:
    """Import a catalog file (.csv or .xlsx). Returns the report; raises FieldErrors only when
    the file itself cannot be read (format, encoding, missing columns)."""
    from yiwang.exchange.services import rows_read
    from yiwang.services.services import matters_write

    if mode not in MODES:
        raise FieldErrors.single("mode", _("Choose all_or_nothing or keep_good_rows."))
    if not name.lower().endswith((".csv", ".xlsx")):
        raise FieldErrors.single("file", _("Upload a .csv or .xlsx file."))
    rows = rows_read(name=name, content=content)
    report = ImportReport(mode=mode, rows=len(rows))
    if not rows:
        raise FieldErrors.single("file", _("The file has no rows."))
    header = [key for key in rows[0][1] or {}]
    columns = _column_map(header)
    departments = _Departments(default_department)
    good: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, row in rows:
        checked = _validate_row(number, row or {}, columns, departments, report)
        if checked is None:
            report.rejected += 1
            continue
        code = checked["fields"]["code"]
        if code in seen:
            report.error(
                number,
                columns["code"],
                _("The matter code %(code)s is also on row %(row)s.") % {"code": code, "row": seen[code]},
            )
            report.rejected += 1
            continue
        seen[code] = number
        checked["digest"] = _digest({"fields": checked["fields"], "materials": checked["materials"]})
        good.append(checked)
    if report.errors and mode == ALL_OR_NOTHING:
        return report
    with transaction.atomic():
        created, updated, unchanged = matters_write(rows=good)
        report.created, report.updated, report.unchanged = created, updated, unchanged
        report.applied = True
        audit_record(
            actor=actor,
            action="services.matters_import",
            object_type="services.matter",
            after={
                "source": name[:200],
                "mode": mode,
                "rows": report.rows,
                "created": created,
                "updated": updated,
                "unchanged": unchanged,
                "rejected": report.rejected,
            },
        )
    return report
