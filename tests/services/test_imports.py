"""The matter catalog import: the real 广安区 list imports cleanly and idempotently; bad rows
are named by row and column; all-or-nothing writes nothing; keep-good-rows keeps the good."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from tests.shared_data import shared_file
from yiwang.core.errors import FieldErrors
from yiwang.core.models import AuditEntry, Department
from yiwang.services.imports import ALL_OR_NOTHING, KEEP_GOOD_ROWS, matters_import
from yiwang.services.models import Material, Matter, MatterType

HEADER = "code,name,type,department,legal_limit_days,promised_limit_days,visits,fee,keywords,materials\n"


def _import(text: str, mode: str = ALL_OR_NOTHING, name: str = "matters.csv", **kwargs):
    return matters_import(actor="system:test", name=name, content=text.encode(), mode=mode, **kwargs)


def _guangan() -> bytes:
    try:
        return shared_file("service-matters-guangan.csv").read_bytes()
    except FileNotFoundError as missing:
        pytest.skip(str(missing))


def test_the_real_guangan_catalog_imports_cleanly_and_twice_changes_nothing(city):
    content = _guangan()
    default = Department.objects.get(code="ZWFW")
    report = matters_import(
        actor="system:test", name="service-matters-guangan.csv", content=content, default_department=default
    )
    assert report.applied and report.errors == []
    assert report.rows == 1135 and report.created == 1135 and report.rejected == 0
    # 区委办 and 区委统战部 are party bodies the city has no department for: said, not hidden.
    assert {w["message"].split("”")[0].lstrip("“") for w in report.warnings} == {"区委办", "区委统战部"}
    assert Matter.objects.count() == 1135
    matter = Matter.objects.get(code="511A0138000000-511602000000-000-115113010833722043-1-00")
    assert matter.name == "适龄儿童、少年因身体状况需要延缓入学或者休学审批"
    assert matter.type == MatterType.LICENSING
    assert matter.department.code == "JY"  # 区教科体局
    assert matter.source_department == "区教科体局"
    assert matter.name_initials.startswith("slet")
    assert Matter.objects.get(code__startswith="511A0045100002").division_code == ""  # row without area_code
    assert Matter.objects.filter(department__code="RS").count() == 144
    again = matters_import(
        actor="system:test", name="service-matters-guangan.csv", content=content, default_department=default
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1135)
    assert Matter.objects.count() == 1135


def test_without_a_default_department_the_unmatched_rows_are_errors_and_nothing_is_written(city):
    report = matters_import(actor="system:test", name="g.csv", content=_guangan())
    assert not report.applied
    assert len(report.errors) == 6
    assert report.errors[0]["column"] == "department" and report.errors[0]["row"] == 449
    assert Matter.objects.count() == 0


def test_each_bad_cell_is_named_by_row_and_column(city):
    text = HEADER + (
        "A1,居民身份证申领,20,公安局,20,5,0,0,身份证,居民户口簿（必要，关键）\n"
        ",没有编码的事项,1,GA,,,,,,\n"
        "A3,类型不对,99,GA,,,,,,\n"
        "A4,部门不对,1,火星局,,,,,,\n"
        "A5,时限不对,1,GA,5,10,1,,,\n"
        "A6,费用不对,1,GA,,,x,1.234,,材料（什么标志）\n"
        "A1,重复编码,1,GA,,,,,,\n"
    )
    report = _import(text)
    assert not report.applied
    found = {(e["row"], e["column"]) for e in report.errors}
    assert found == {
        (3, "code"),
        (4, "type"),
        (5, "department"),
        (6, "promised_limit_days"),
        (7, "visits"),
        (7, "fee"),
        (7, "materials"),
        (8, "code"),
    }
    duplicate = next(e for e in report.errors if e["row"] == 8)
    assert "row 2" in duplicate["message"]
    assert Matter.objects.count() == 0


def test_keep_good_rows_writes_the_good_ones_and_a_change_updates_without_duplicating(city):
    text = HEADER + (
        "A1,居民身份证申领,20,GA,20,5,0,不收费,身份证 证件,居民户口簿（必要，关键）；照片（必要）；电子证照件（电子证照:ga.persons）\n"
        "A2,坏行,xx,GA,,,,,,\n"
    )
    report = _import(text, KEEP_GOOD_ROWS)
    assert report.applied and report.created == 1 and report.rejected == 1
    matter = Matter.objects.get(code="A1")
    assert (matter.legal_limit_days, matter.promised_limit_days, matter.visits, matter.fee_fen) == (
        20,
        5,
        0,
        0,
    )
    materials = list(matter.materials.values_list("name", "required", "is_key", "source", "resource_code"))
    assert materials == [
        ("居民户口簿", True, True, "upload", ""),
        ("照片", True, False, "upload", ""),
        ("电子证照件", False, False, "e_certificate", "ga.persons"),
    ]
    assert matter.form_fields.exists()  # the standard form of its applicant kind
    changed = HEADER + "A1,居民身份证申领（首次）,20,GA,20,3,0,12.50,,照片（必要）\n"
    report = _import(changed)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    matter.refresh_from_db()
    assert (
        matter.name == "居民身份证申领（首次）" and matter.promised_limit_days == 3 and matter.fee_fen == 1250
    )
    assert list(matter.materials.values_list("name", flat=True)) == ["照片"]
    assert Matter.objects.count() == 1 and Material.objects.filter(matter=matter).count() == 1
    assert AuditEntry.objects.filter(action="services.matters_import").count() == 2


def test_excel_with_chinese_headers(city):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["事项编码", "事项名称", "事项类型", "实施主体", "承诺办结时限", "关键词"])
    sheet.append(["X1", "不动产登记（首次登记）", "行政确认", "萍乡市不动产登记中心", 5, "房产证"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = matters_import(actor="system:test", name="catalog.xlsx", content=buffer.getvalue())
    assert report.applied and report.created == 1
    matter = Matter.objects.get(code="X1")
    assert matter.type == MatterType.CONFIRMATION and matter.department.code == "BDCDJ"
    assert matter.name_initials == "bdcdjscdj"


def test_files_that_cannot_be_read_are_refused(city):
    with pytest.raises(FieldErrors) as wrong_type:
        matters_import(actor="system:test", name="catalog.txt", content=b"code,name")
    assert wrong_type.value.errors[0][0] == ("file",)
    with pytest.raises(FieldErrors) as missing:
        _import("code,name\nA1,x\n")
    assert "type" in missing.value.errors[0][1]
    with pytest.raises(FieldErrors):
        matters_import(actor="system:test", name="catalog.xlsx", content=b"not a workbook")


def test_the_command_reports_and_refuses_a_bad_file(city, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "A1,居民身份证申领,20,GA,20,5,0,0,,\n", encoding="utf-8")
    call_command("services", "import", "--file", str(good))
    assert "created=1" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "A2,坏行,xx,GA,,,,,,\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("services", "import", "--file", str(bad))
    assert "error row 2 column type" in capsys.readouterr().out
