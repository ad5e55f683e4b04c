"""The pages: the public catalog and guide, applying with pre-filled fields, my applications,
the department's list and handling page, and the catalog import page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import PASSWORD
from yiwang.services.models import Application


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_catalog_search_by_pinyin_initials_and_filters(client, world):
    page = client.get(reverse("services:index"), {"q": "gyjsyd"})
    assert page.status_code == 200
    assert "国有建设用地使用权及房屋所有权转移登记" in page.content.decode()
    assert "居住证申领" not in page.content.decode()
    by_department = client.get(reverse("services:index"), {"department": "GA"}).content.decode()
    assert "居住证申领" in by_department and "食品经营许可" not in by_department
    by_type = client.get(reverse("services:index"), {"type": "1"}).content.decode()
    assert "食品经营许可（新办）" in by_type and "居住证申领" not in by_type


def test_the_guide_shows_limits_materials_and_the_autofill_potential(client, world):
    page = client.get(reverse("services:guide", args=[world.subsidy.code])).content.decode()
    assert "经济困难的高龄老年人津贴" in page
    assert 'id="fillable-percent">90%' in page
    assert "居民身份证" in page and "其他相关证明材料" in page
    assert client.get(reverse("services:guide", args=["NO-SUCH"])).status_code == 404


def test_apply_shows_prefilled_fields_and_submits(client, granted):
    world = granted
    _login(client, world.citizen)
    url = reverse("services:apply", args=[world.subsidy.code])
    page = client.get(url).content.decode()
    assert 'id="autofill-percent">90%' in page
    assert world.person.phone in page  # the applicant's own data, pre-filled
    assert 'id="field-name" data-prefilled="1"' in page
    refused = client.post(url, {"submission_key": "abc", "f_phone": world.person.phone})
    assert refused.status_code == 422
    assert 'class="field field-invalid" id="field-reason"' in refused.content.decode()
    done = client.post(url, {"submission_key": "abc", "f_phone": "13700000000", "f_reason": "申请高龄津贴"})
    application = Application.objects.get()
    assert done.status_code == 302 and done.url == reverse(
        "services:application", args=[application.case.reference]
    )
    assert application.values["phone"] == "13700000000"
    mine = client.get(reverse("services:mine")).content.decode()
    assert application.case.reference in mine and "经济困难的高龄老年人津贴" in mine
    detail = client.get(done.url).content.decode()
    assert f'id="reference">{application.case.reference}' in detail


def test_an_upload_through_the_page(client, granted):
    world = granted
    _login(client, world.citizen)
    photo = world.photo_matter.materials.get(name="近期免冠照片")
    url = reverse("services:apply", args=[world.photo_matter.code])
    bad = client.post(
        url,
        {"submission_key": "u1", "f_reason": "居住证", f"m_{photo.pk}": SimpleUploadedFile("a.exe", b"MZ")},
    )
    assert bad.status_code == 422 and f'id="material-{photo.pk}"' in bad.content.decode()
    good = client.post(
        url,
        {
            "submission_key": "u1",
            "f_reason": "居住证",
            f"m_{photo.pk}": SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n123"),
        },
    )
    assert good.status_code == 302
    application = Application.objects.get()
    handler_client = client.__class__()
    # 公安局's handler would see it; 民政局's may not, and the file is not served to them.
    _login(handler_client, world.handler)
    item = application.materials.exclude(file="").get()
    assert (
        handler_client.get(reverse("services:material_file", args=[application.pk, item.pk])).status_code
        == 404
    )


def test_a_login_without_a_person_is_told_why(client, granted):
    _login(client, granted.handler)
    page = client.get(reverse("services:apply", args=[granted.subsidy.code]))
    assert page.status_code == 403 and 'id="refusal"' in page.content.decode()


def test_the_department_accepts_and_approves_from_its_pages(client, granted):
    world = granted
    _login(client, world.citizen)
    client.post(
        reverse("services:apply", args=[world.subsidy.code]), {"submission_key": "h", "f_reason": "申请"}
    )
    application = Application.objects.get()
    staff = client.__class__()
    _login(staff, world.handler)
    listing = staff.get(reverse("services:handling")).content.decode()
    assert application.case.reference in listing
    page = staff.get(reverse("services:handle", args=[application.pk])).content.decode()
    assert world.person.id_number in page  # a handler's work needs the ID number (audited)
    staff.post(
        reverse("services:act", args=[application.pk]), {"transition": "accept", "expected_version": 1}
    )
    staff.post(
        reverse("services:act", args=[application.pk]), {"transition": "approve", "expected_version": 2}
    )
    application.case.refresh_from_db()
    assert application.case.state == "approved"
    outsider = client.__class__()
    _login(outsider, world.outsider)
    assert outsider.get(reverse("services:handle", args=[application.pk])).status_code == 404
    rated = client.post(reverse("services:rate", args=[application.case.reference]), {"rating": "5"})
    assert rated.status_code == 302
    application.refresh_from_db()
    assert application.rating == 5


@pytest.mark.parametrize("who, status", [("steward", 200), ("citizen", 403)])
def test_the_import_page_is_for_data_stewards(client, world, who, status):
    _login(client, getattr(world, who))
    assert client.get(reverse("services:import")).status_code == status


def test_the_import_page_reports_rows_and_columns(client, world):
    _login(client, world.steward)
    content = "code,name,type,department\nP1,新事项,20,GA\nP2,坏事项,99,GA\n".encode()
    page = client.post(
        reverse("services:import"),
        {"file": SimpleUploadedFile("m.csv", content), "mode": "keep_good_rows", "default_department": ""},
    )
    text = page.content.decode()
    assert page.status_code == 200 and 'id="import-errors"' in text
    assert '<td class="num">3</td><td class="mono">type</td>' in text
    wrong = client.post(reverse("services:import"), {"file": SimpleUploadedFile("m.txt", b"x")})
    assert wrong.status_code == 422
