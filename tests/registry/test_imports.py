"""Person imports: the report names row and column, nothing is half-written, re-import is a no-op."""

import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from yiwang.core.ids import resident_id_build
from yiwang.core.models import AuditEntry, Division, Role
from yiwang.core.services import user_create
from yiwang.registry.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def village():
    root = Division.objects.create(code="3603", name="萍乡市", level=1)
    county = Division.objects.create(code="360321", name="莲花县", level=2, parent=root)
    town = Division.objects.create(code="360321100", name="琴亭镇", level=3, parent=county)
    return Division.objects.create(code="360321100201", name="花塘村", level=4, parent=town)


@pytest.fixture
def clerk():
    user_create(actor=None, username="clerk", password="pw-import-1", roles=[(Role.WINDOW_CLERK, None, None)])
    client = Client()
    client.login(username="clerk", password="pw-import-1")
    return client


def _id(n, sex="M", year=1970):
    return resident_id_build("360321", datetime.date(year, 1 + n % 12, 1 + n % 28), n, sex)


def _csv(rows, encoding="utf-8-sig"):
    lines = ["身份证号,姓名,行政区划代码,性别,联系电话"] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_written(clerk, village):
    content = _csv(
        [
            (_id(1), "李国强", village.code, "男", "13907990001"),
            (
                _id(2)[:-1] + ("0" if _id(2)[-1] != "0" else "1"),
                "李国华",
                village.code,
                "男",
                "",
            ),  # check digit
            (_id(3), "李秀英", "360321999999", "女", ""),  # unknown division, and sex wrong for a male number
            (_id(1), "李国强", village.code, "男", ""),  # duplicate of row 2
        ]
    )
    response = clerk.post(
        "/api/registry/imports/persons", {"file": SimpleUploadedFile("persons.csv", content, "text/csv")}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    paths = [f["path"] for f in error["fields"]]
    assert paths == ["rows.3.身份证号", "rows.4.性别", "rows.4.行政区划代码", "rows.5.身份证号"]
    assert "nothing was imported" in error["message"]
    assert Person.objects.count() == 0
    assert not AuditEntry.objects.filter(action="person.import").exists()


def test_good_file_imports_and_reimport_changes_nothing(clerk, village):
    content = _csv([(_id(n, "F" if n % 2 else "M"), f"居民{n}", village.code, "", "") for n in range(1, 21)])
    upload = lambda: SimpleUploadedFile("persons.csv", content, "text/csv")  # noqa: E731
    first = clerk.post("/api/registry/imports/persons", {"file": upload()})
    assert first.status_code == 200, first.content
    assert first.json()["created"] == 20
    assert Person.objects.count() == 20
    second = clerk.post("/api/registry/imports/persons", {"file": upload()})
    assert second.json() | {} == {"ok": True, "rows": 20, "created": 0, "updated": 0, "unchanged": 20}
    assert AuditEntry.objects.filter(action="person.import").count() == 1


def test_gb18030_csv_and_xlsx_are_read(village):
    rows = [(_id(7), "王小红", village.code, "", "")]
    from yiwang.registry.imports import person_import, table_read

    assert table_read(name="a.csv", content=_csv(rows, "gb18030"))[0]["姓名"] == "王小红"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id_number", "name", "division"])
    sheet.append([_id(8), "张伟", village.code])
    buffer = io.BytesIO()
    book.save(buffer)
    report = person_import(actor="test", rows=table_read(name="p.xlsx", content=buffer.getvalue()))
    assert report.ok and report.created == 1
    assert Person.objects.get().name == "张伟"


def test_missing_column_is_named(village):
    from yiwang.core.errors import FieldErrors
    from yiwang.registry.imports import person_import, table_read

    rows = table_read(name="x.csv", content="姓名,行政区划代码\n张三,360321100201\n".encode())
    with pytest.raises(FieldErrors) as error:
        person_import(actor="test", rows=rows)
    assert "身份证号" in error.value.errors[0][1]


def test_command_line_import_reports_row_and_column(tmp_path, village, capsys):
    path = tmp_path / "p.csv"
    path.write_bytes(_csv([(_id(9), "", village.code, "", "")]))
    with pytest.raises(CommandError):
        call_command("registry_import", "persons", "--file", str(path))
    assert "row 2, column 姓名" in capsys.readouterr().err
    assert Person.objects.count() == 0
