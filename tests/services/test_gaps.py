"""Tolerated gaps (容缺受理) and pledges (告知承诺制): accepted at submission with the deadline in
working days across the National Day holiday (and its 调休 Saturday), a key material refused,
pledges only where the catalog allows them, supplying later, reminders once, revocation after
the due date (not before, and never for an application that ended), a pledge found false
revoking, a pledge not verified in time left to the department, and the pages and the API."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from tests.factories import PASSWORD
from yiwang.cases.models import Notice
from yiwang.core.errors import Conflict, FieldErrors, Forbidden, NotFound
from yiwang.core.models import AuditEntry, Department
from yiwang.services import cases as states
from yiwang.services.forms_data import PERSON_FIELDS, PERSON_MATERIALS, REASON, MaterialSpec
from yiwang.services.gaps import gap_due_on, gap_supply, gap_verify, gaps_sweep, gaps_to_watch
from yiwang.services.models import (
    Application,
    ApplicationGap,
    ApplicationMaterial,
    GapKind,
    GapStatus,
    Material,
    Matter,
)
from yiwang.services.services import application_submit, application_withdraw, matters_write

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SUBMITTED = datetime.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)  # the eve of National Day
DUE = datetime.date(2026, 10, 13)


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


def pdf(name: str = "lease.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def gap_matter(granted) -> Matter:
    """A 民政局 matter with three materials to upload: a lease that may be supplied later, a key
    income certificate that may not, and a no-criminal-record certificate a pledge may replace."""
    materials = [
        *(spec._asdict() for spec in PERSON_MATERIALS),
        MaterialSpec("房屋租赁合同", True, False, "upload")._asdict(),
        MaterialSpec("收入证明", True, True, "upload")._asdict(),
        MaterialSpec("无犯罪记录证明", True, False, "upload")._asdict() | {"pledge_allowed": True},
    ]
    matters_write(
        rows=[
            {
                "fields": {
                    "code": "T-GAP-1",
                    "name": "公共租赁住房资格申请",
                    "type": 5,
                    "department_id": Department.objects.get(code="MZ").pk,
                    "applicant_kind": "person",
                    "legal_limit_days": 20,
                    "promised_limit_days": 10,
                    "gap_supply_days": 5,
                },
                "materials": [values | {"position": i} for i, values in enumerate(materials)],
                "has_materials": True,
                "digest": "T-GAP-1",
            }
        ],
        forms={"T-GAP-1": ((*PERSON_FIELDS, REASON), ())},
    )
    granted.citizen.phone = "13800138000"
    granted.citizen.save(update_fields=["phone"])
    return Matter.objects.get(code="T-GAP-1")


def material(matter: Matter, name: str) -> Material:
    return matter.materials.get(name=name)


def submit(world, matter, *, key="g1", now=SUBMITTED, uploads=None, tolerate=None, pledges=None):
    income = material(matter, "收入证明")
    return application_submit(
        matter=matter,
        actor=world.citizen,
        values={"reason": "申请公租房"},
        uploads={income.pk: pdf("income.pdf")} if uploads is None else uploads,
        submission_key=key,
        now=now,
        tolerate=tolerate,
        pledges=pledges,
    )


def tolerated(world, matter, **kwargs) -> Application:
    """Only the lease is missing (to be supplied later)."""
    uploads = {
        material(matter, "收入证明").pk: pdf("income.pdf"),
        material(matter, "无犯罪记录证明").pk: pdf(),
    }
    return submit(world, matter, uploads=uploads, tolerate={material(matter, "房屋租赁合同").pk}, **kwargs)


def with_lease_and_pledge(world, matter, **kwargs) -> Application:
    lease = material(matter, "房屋租赁合同")
    record = material(matter, "无犯罪记录证明")
    return submit(world, matter, tolerate={lease.pk}, pledges={record.pk: "本人承诺无犯罪记录。"}, **kwargs)


def client_for(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


# --------------------------------------------------------------------------- at submission


def test_tolerated_material_accepted_with_the_deadline_across_national_day(granted, gap_matter):
    application = with_lease_and_pledge(granted, gap_matter)
    gaps = {gap.material.name: gap for gap in application.gaps.select_related("material")}
    assert set(gaps) == {"房屋租赁合同", "无犯罪记录证明"}
    lease, pledge = gaps["房屋租赁合同"], gaps["无犯罪记录证明"]
    assert lease.kind == GapKind.TOLERATED and lease.status == GapStatus.OPEN
    assert pledge.kind == GapKind.PLEDGE and pledge.pledge_text == "本人承诺无犯罪记录。"
    # 5 working days after Wed 30 September 2026: 1-7 October is the National Day holiday,
    # Thu 8, Fri 9, Sat 10 (a 调休 working Saturday), Mon 12, Tue 13.
    assert lease.due_on == pledge.due_on == DUE
    assert chinese_calendar.is_holiday(datetime.date(2026, 10, 1))
    assert chinese_calendar.is_workday(datetime.date(2026, 10, 10))
    assert datetime.date(2026, 10, 10).weekday() == 5
    working = chinese_calendar.get_workdays(datetime.date(2026, 10, 1), DUE)
    assert len(working) == 5 and working[-1] == DUE and datetime.date(2026, 10, 10) in working
    assert gap_due_on(matter=gap_matter, submitted=datetime.date(2026, 9, 30)) == DUE
    # Only the uploaded material and the fetched ones are materials of the application.
    assert {m.material.name for m in application.materials.select_related("material")} == {
        "居民身份证",
        "居民户口簿",
        "收入证明",
    }
    entry = AuditEntry.objects.filter(action="services.application_submit").get()
    assert entry.after["gaps"] == {str(lease.material_id): "tolerated", str(pledge.material_id): "pledge"}


def test_a_key_material_cannot_be_tolerated(granted, gap_matter):
    income = material(gap_matter, "收入证明")
    with pytest.raises(FieldErrors) as refused:
        submit(granted, gap_matter, uploads={}, tolerate={income.pk, material(gap_matter, "房屋租赁合同").pk})
    errors = dict(refused.value.errors)
    assert (
        errors[("materials", str(income.pk))] == "“收入证明” is a key material and cannot be supplied later."
    )
    assert ("materials", str(material(gap_matter, "房屋租赁合同").pk)) not in errors
    assert not Application.objects.exists() and not ApplicationGap.objects.exists()


def test_a_key_material_cannot_be_tolerated_through_the_api(granted, gap_matter):
    income = material(gap_matter, "收入证明")
    lease = material(gap_matter, "房屋租赁合同")
    record = material(gap_matter, "无犯罪记录证明")
    citizen = client_for(granted.citizen)
    guide = {
        row["name"]: row
        for row in citizen.get(f"/api/services/matters/{gap_matter.code}").json()["materials"]
    }
    assert (guide["房屋租赁合同"]["tolerable"], guide["房屋租赁合同"]["pledge_allowed"]) == (True, False)
    assert (guide["收入证明"]["tolerable"], guide["收入证明"]["pledge_allowed"]) == (False, False)
    assert guide["无犯罪记录证明"]["pledge_allowed"] is True and guide["居民身份证"]["tolerable"] is False
    answer = citizen.post(
        "/api/services/applications",
        {
            "matter": gap_matter.code,
            "values": {"reason": "申请公租房"},
            "submission_key": "api-gap-1",
            "tolerate": [income.pk, lease.pk],
            "pledges": {str(record.pk): "本人承诺无犯罪记录。"},
        },
        content_type="application/json",
    )
    assert answer.status_code == 422
    fields = answer.json()["error"]["fields"]
    assert [field["path"] for field in fields] == [f"body.materials.{income.pk}"]
    assert fields[0]["message"] == "“收入证明”是关键材料，关键材料不能容缺。"  # the API speaks Chinese
    assert not Application.objects.exists()
    # Without the key material in the list the matter still needs its upload: the page or the
    # window takes it; tolerating the others is accepted.
    accepted = citizen.post(
        "/api/services/applications",
        {
            "matter": gap_matter.code,
            "values": {"reason": "申请公租房"},
            "submission_key": "api-gap-2",
            "tolerate": [lease.pk],
            "pledges": {str(record.pk): "本人承诺无犯罪记录。"},
        },
        content_type="application/json",
    )
    assert accepted.status_code == 422
    assert [field["path"] for field in accepted.json()["error"]["fields"]] == [f"body.materials.{income.pk}"]


def test_a_pledge_needs_pledge_allowed_and_a_text(granted, gap_matter):
    lease = material(gap_matter, "房屋租赁合同")
    record = material(gap_matter, "无犯罪记录证明")
    with pytest.raises(FieldErrors) as refused:
        submit(granted, gap_matter, pledges={lease.pk: "本人承诺", record.pk: "  "})
    errors = dict(refused.value.errors)
    assert errors[("materials", str(lease.pk))] == "“房屋租赁合同” cannot be replaced by a pledge."
    assert errors[("materials", str(record.pk))] == "Write the pledge for “无犯罪记录证明”."
    with pytest.raises(FieldErrors) as fetched:
        submit(granted, gap_matter, tolerate={material(gap_matter, "居民身份证").pk})
    assert "not asked of the applicant" in fetched.value.errors[0][1]
    assert not Application.objects.exists()


def test_an_upload_wins_over_a_request_to_tolerate(granted, gap_matter):
    lease = material(gap_matter, "房屋租赁合同")
    record = material(gap_matter, "无犯罪记录证明")
    income = material(gap_matter, "收入证明")
    application = submit(
        granted,
        gap_matter,
        uploads={income.pk: pdf(), lease.pk: pdf(), record.pk: pdf()},
        tolerate={lease.pk},
    )
    assert not application.gaps.exists()


# --------------------------------------------------------------------------- supplying later


def test_supply_closes_the_gap(granted, gap_matter):
    application = tolerated(granted, gap_matter)
    gap = application.gaps.get()
    with pytest.raises(FieldErrors) as bad:
        gap_supply(
            gap=gap, actor=granted.citizen, upload=SimpleUploadedFile("lease.pdf", b"MZ\x90\x00"), now=at(DUE)
        )
    assert bad.value.errors[0][0] == ("file",)
    with pytest.raises(NotFound):  # someone else's
        gap_supply(gap=gap, actor=granted.agent, upload=pdf(), now=at(DUE))
    supplied = gap_supply(gap=gap, actor=granted.citizen, upload=pdf(), now=at(DUE, 17))
    assert supplied.status == GapStatus.SUPPLIED and supplied.closed_by == granted.citizen
    item = ApplicationMaterial.objects.get(application=application, material=gap.material)
    assert supplied.supplied == item and item.content_type == "application/pdf" and item.size == len(PDF)
    assert AuditEntry.objects.filter(action="services.gap_supply", object_id=str(gap.pk)).count() == 1
    with pytest.raises(Conflict):
        gap_supply(gap=supplied, actor=granted.citizen, upload=pdf(), now=at(DUE, 18))
    # The sweep after the due date leaves it alone.
    assert gaps_sweep(now=at(DUE + datetime.timedelta(days=1))).revoked == []
    application.case.refresh_from_db()
    assert application.case.state == states.SUBMITTED


def test_supply_on_the_page_and_through_the_api(granted, gap_matter):
    application = with_lease_and_pledge(granted, gap_matter, now=None)
    lease = application.gaps.get(kind=GapKind.TOLERATED)
    reference = application.case.reference
    citizen = client_for(granted.citizen)
    page = citizen.get(f"/services/applications/{reference}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f'id="gap-{lease.pk}"' in text and f"/gaps/{lease.pk}/supply/" in text
    # someone else cannot reach it
    assert (
        client_for(granted.agent)
        .post(f"/services/applications/{reference}/gaps/{lease.pk}/supply/", {"file": pdf()})
        .status_code
        == 404
    )
    listed = citizen.get(f"/api/services/applications/{reference}/gaps").json()
    assert {row["kind"] for row in listed} == {"tolerated", "pledge"}
    bad = citizen.post(
        f"/api/services/applications/{reference}/gaps/{lease.pk}/supply",
        {"file": SimpleUploadedFile("lease.png", b"not a png at all")},
    )
    assert bad.status_code == 422
    answer = citizen.post(f"/services/applications/{reference}/gaps/{lease.pk}/supply/", {"file": pdf()})
    assert answer.status_code == 302
    lease.refresh_from_db()
    assert lease.status == GapStatus.SUPPLIED
    pledge = application.gaps.get(kind=GapKind.PLEDGE)
    refused = citizen.post(f"/api/services/applications/{reference}/gaps/{pledge.pk}/supply", {"file": pdf()})
    assert refused.status_code == 409


# --------------------------------------------------------------------------- the sweep


def test_reminders_two_working_days_before_and_on_the_due_date_once(granted, gap_matter):
    application = tolerated(granted, gap_matter)
    gap = application.gaps.get()
    assert gaps_sweep(now=at(datetime.date(2026, 10, 9))).reminded == []  # 3 working days before
    # Two working days before Tue 13 October is the 调休 Saturday, 10 October.
    first = gaps_sweep(now=at(datetime.date(2026, 10, 10)))
    assert first.reminded == [gap.pk]
    assert gaps_sweep(now=at(datetime.date(2026, 10, 10), 15)).reminded == []
    assert gaps_sweep(now=at(datetime.date(2026, 10, 12))).reminded == []
    notices = Notice.objects.filter(ref=application.case.reference)
    assert notices.count() == 1
    reminder = notices.get()
    assert reminder.key == f"services.gap:{gap.pk}:remind:before" and reminder.address == "13800138000"
    assert "房屋租赁合同" in reminder.subject and "2026-10-13" in reminder.subject
    on_the_day = gaps_sweep(now=at(DUE))
    assert on_the_day.reminded == [gap.pk] and on_the_day.revoked == []
    assert gaps_sweep(now=at(DUE, 16)).reminded == []
    assert notices.count() == 2
    gap.refresh_from_db()
    assert gap.reminded_at == at(DUE) and gap.status == GapStatus.OPEN


def test_revoked_after_the_due_date_with_a_notice_not_before(granted, gap_matter):
    application = tolerated(granted, gap_matter)
    gap = application.gaps.get()
    case = application.case
    assert gaps_sweep(now=at(DUE, 23)).revoked == []
    case.refresh_from_db()
    assert case.state == states.SUBMITTED
    result = gaps_sweep(now=at(DUE + datetime.timedelta(days=1), 1))
    assert result.revoked == [gap.pk]
    case.refresh_from_db()
    gap.refresh_from_db()
    assert case.state == states.REVOKED
    assert gap.status == GapStatus.REVOKED and gap.closed_at is not None
    last = case.events.order_by("-at", "-id").first()
    assert last.transition == "revoke" and "房屋租赁合同" in last.note and "2026-10-13" in last.note
    notice = Notice.objects.get(key=f"services.gap:{gap.pk}:revoked")
    assert notice.user == granted.citizen and "房屋租赁合同" in notice.body and "2026-10-13" in notice.body
    assert AuditEntry.objects.filter(action="services.gap_revoke").count() == 1
    # The applicant can no longer supply it.
    with pytest.raises(Conflict):
        gap_supply(gap=gap, actor=granted.citizen, upload=pdf(), now=at(DUE + datetime.timedelta(days=1)))


def test_the_sweep_is_idempotent_and_resumable(granted, gap_matter):
    first = tolerated(granted, gap_matter, key="a")
    second = tolerated(granted, gap_matter, key="b", now=SUBMITTED + datetime.timedelta(minutes=5))
    later = at(DUE + datetime.timedelta(days=2))
    # A run that stopped after the first gap: the second run finishes the rest only.
    ApplicationGap.objects.filter(application=second).update(due_on=DUE + datetime.timedelta(days=30))
    assert len(gaps_sweep(now=later).revoked) == 1
    ApplicationGap.objects.filter(application=second).update(due_on=DUE)
    result = gaps_sweep(now=later)
    assert result.revoked == [second.gaps.get().pk]
    notices = Notice.objects.count()
    entries = AuditEntry.objects.count()
    again = gaps_sweep(now=later)
    assert again.revoked == again.reminded == again.closed == []
    assert Notice.objects.count() == notices and AuditEntry.objects.count() == entries
    for application in (first, second):
        application.case.refresh_from_db()
        assert application.case.state == states.REVOKED


def test_the_gaps_of_an_ended_application_are_closed_never_revoked(granted, gap_matter):
    application = with_lease_and_pledge(granted, gap_matter)
    application_withdraw(application=application, actor=granted.citizen)
    for gap in application.gaps.all():
        assert gap.status == GapStatus.OPEN and gap.closed_at is not None and "ended" in gap.note
    # Closed by the sweep too, should the move have happened without the effect.
    ApplicationGap.objects.filter(application=application).update(closed_at=None, note="")
    result = gaps_sweep(now=at(DUE + datetime.timedelta(days=3)))
    assert result.revoked == [] and len(result.closed) == 2
    application.case.refresh_from_db()
    assert application.case.state == states.WITHDRAWN
    assert not ApplicationGap.objects.filter(closed_at__isnull=True).exists()
    assert not Notice.objects.filter(key__contains="revoked").exists()


def test_a_pledge_not_verified_in_time_is_not_revoked_but_listed_red(granted, gap_matter):
    record = material(gap_matter, "无犯罪记录证明")
    uploads = {material(gap_matter, "收入证明").pk: pdf(), material(gap_matter, "房屋租赁合同").pk: pdf()}
    application = submit(
        granted, gap_matter, uploads=uploads, pledges={record.pk: "本人承诺无犯罪记录。"}, now=None
    )
    gap = application.gaps.get()
    ApplicationGap.objects.filter(pk=gap.pk).update(due_on=datetime.date(2020, 1, 6))
    result = gaps_sweep()
    assert result.revoked == [] and result.pledges_overdue == [gap.pk] and result.reminded == []
    application.case.refresh_from_db()
    assert application.case.state == states.SUBMITTED
    assert list(gaps_to_watch(user=granted.handler)) == [gap]
    assert list(gaps_to_watch(user=granted.outsider)) == []
    page = client_for(granted.handler).get("/services/gaps/")
    assert page.status_code == 200
    assert f'data-gap="{gap.pk}" data-overdue="1" class="overdue"' in page.content.decode()
    assert client_for(granted.citizen).get("/services/gaps/").status_code in (302, 403)


# --------------------------------------------------------------------------- verifying pledges


def test_a_pledge_verified_true(granted, gap_matter):
    application = with_lease_and_pledge(granted, gap_matter)
    pledge = application.gaps.get(kind=GapKind.PLEDGE)
    with pytest.raises(Forbidden):
        gap_verify(gap=pledge, actor=granted.outsider, true=True)
    with pytest.raises(Conflict):
        gap_verify(gap=application.gaps.get(kind=GapKind.TOLERATED), actor=granted.handler, true=True)
    verified = gap_verify(gap=pledge, actor=granted.handler, true=True)
    assert verified.status == GapStatus.VERIFIED and verified.closed_by == granted.handler
    application.case.refresh_from_db()
    assert application.case.state == states.SUBMITTED
    assert AuditEntry.objects.filter(action="services.gap_verify").count() == 1


def test_a_false_pledge_revokes_the_application(granted, gap_matter):
    application = with_lease_and_pledge(granted, gap_matter, now=None)
    pledge = application.gaps.get(kind=GapKind.PLEDGE)
    lease = application.gaps.get(kind=GapKind.TOLERATED)
    with pytest.raises(FieldErrors) as no_note:
        gap_verify(gap=pledge, actor=granted.handler, true=False)
    assert no_note.value.errors[0][0] == ("note",)
    false = gap_verify(gap=pledge, actor=granted.handler, true=False, note="公安机关查询有犯罪记录")
    assert false.status == GapStatus.FALSE_PLEDGE and false.note == "公安机关查询有犯罪记录"
    application.case.refresh_from_db()
    assert application.case.state == states.REVOKED
    assert "公安机关查询有犯罪记录" in application.case.events.order_by("-id").first().note
    notice = Notice.objects.get(key=f"services.gap:{pledge.pk}:false_pledge")
    assert notice.user == granted.citizen and "无犯罪记录证明" in notice.body
    # The tolerated material is no longer awaited: closed with the application, not revoked.
    lease.refresh_from_db()
    assert lease.status == GapStatus.OPEN and lease.closed_at is not None


def test_verify_on_the_handling_page_and_through_the_api(granted, gap_matter):
    first = with_lease_and_pledge(granted, gap_matter, key="p1", now=None)
    second = with_lease_and_pledge(granted, gap_matter, key="p2", now=None)
    handler = client_for(granted.handler)
    page = handler.get(f"/services/handling/{first.pk}/")
    pledge = first.gaps.get(kind=GapKind.PLEDGE)
    assert page.status_code == 200 and f"/gaps/{pledge.pk}/verify/" in page.content.decode()
    outsider = client_for(granted.outsider)
    assert (
        outsider.post(
            f"/services/handling/{first.pk}/gaps/{pledge.pk}/verify/", {"verdict": "true"}
        ).status_code
        == 404
    )
    answer = handler.post(f"/services/handling/{first.pk}/gaps/{pledge.pk}/verify/", {"verdict": "true"})
    assert answer.status_code == 302
    pledge.refresh_from_db()
    assert pledge.status == GapStatus.VERIFIED
    listed = handler.get("/api/services/gaps").json()
    assert {row["reference"] for row in listed} == {first.case.reference, second.case.reference}
    other = second.gaps.get(kind=GapKind.PLEDGE)
    assert (
        outsider.post(
            f"/api/services/gaps/{other.pk}/verify",
            {"true": False, "note": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )
    no_note = handler.post(
        f"/api/services/gaps/{other.pk}/verify", {"true": False}, content_type="application/json"
    )
    assert no_note.status_code == 422
    false = handler.post(
        f"/api/services/gaps/{other.pk}/verify",
        {"true": False, "note": "承诺内容与事实不符"},
        content_type="application/json",
    )
    assert false.status_code == 200 and false.json()["status"] == "false_pledge"
    second.case.refresh_from_db()
    assert second.case.state == states.REVOKED


# --------------------------------------------------------------------------- the apply page


def test_the_apply_page_offers_to_supply_later_or_pledge(granted, gap_matter):
    citizen = client_for(granted.citizen)
    lease = material(gap_matter, "房屋租赁合同")
    income = material(gap_matter, "收入证明")
    record = material(gap_matter, "无犯罪记录证明")
    page = citizen.get(f"/services/matters/{gap_matter.code}/apply/")
    text = page.content.decode()
    assert f'name="how_{lease.pk}" value="tolerate"' in text
    assert f'name="how_{income.pk}"' not in text  # a key material: upload only
    assert (
        f'name="how_{record.pk}" value="pledge"' in text
        and f'name="how_{record.pk}" value="tolerate"' in text
    )
    assert "无犯罪记录证明" in text and f'id="pledge-text-{record.pk}"' in text
    answer = citizen.post(
        f"/services/matters/{gap_matter.code}/apply/",
        {
            "submission_key": "page-1",
            "f_reason": "申请公租房",
            f"m_{income.pk}": pdf("income.pdf"),
            f"how_{lease.pk}": "tolerate",
            f"how_{record.pk}": "pledge",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    application = Application.objects.get()
    gaps = {gap.kind: gap for gap in application.gaps.all()}
    assert gaps[GapKind.TOLERATED].material == lease
    assert gaps[GapKind.PLEDGE].material == record and "无犯罪记录证明" in gaps[GapKind.PLEDGE].pledge_text


def test_the_window_accepts_with_a_tolerated_material_and_a_pledge(granted, gap_matter):
    """一窗受理 with 容缺 and 告知承诺: the clerk's form offers the same choices as the applicant's,
    and the application accepted at the window awaits the lease and verifies the pledge."""
    clerk = client_for(granted.clerk)
    lease = material(gap_matter, "房屋租赁合同")
    income = material(gap_matter, "收入证明")
    record = material(gap_matter, "无犯罪记录证明")
    assert clerk.post("/services/window/", {"subject_key": granted.person.id_number}).status_code == 302
    url = f"/services/window/matters/{gap_matter.code}/apply/"
    form = clerk.get(url).content.decode()
    assert f'name="how_{lease.pk}" value="tolerate"' in form and f'name="how_{income.pk}"' not in form
    key_refused = clerk.post(
        url, {"submission_key": "w-gap", "f_reason": "窗口代办公租房", f"how_{income.pk}": "tolerate"}
    )
    assert key_refused.status_code == 422 and not Application.objects.exists()
    sent = clerk.post(
        url,
        {
            "submission_key": "w-gap",
            "f_reason": "窗口代办公租房",
            f"m_{income.pk}": pdf("income.pdf"),
            f"how_{lease.pk}": "tolerate",
            f"how_{record.pk}": "pledge",
        },
    )
    application = Application.objects.get()
    assert sent.status_code == 302, sent.content.decode()[:2000]
    assert application.window_clerk == granted.clerk and application.case.state == states.REVIEWING
    assert {gap.kind: gap.material for gap in application.gaps.all()} == {
        GapKind.TOLERATED: lease,
        GapKind.PLEDGE: record,
    }


def test_the_sweep_command(granted, gap_matter):
    tolerated(granted, gap_matter)
    from io import StringIO

    out = StringIO()
    call_command("services_gap_sweep", "--now", "2026-10-14T09:00", stdout=out)
    assert out.getvalue().strip() == "reminded=0 revoked=1 closed=0 pledges_overdue=0"


# --------------------------------------------------------------------------- in the browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_apply_with_a_gap_supply_it_and_verify_the_pledge_in_the_browser(
    page_factory, live_server, granted, gap_matter, screenshot_dir, tmp_path
):
    base = live_server.url
    lease = material(gap_matter, "房屋租赁合同")
    income = material(gap_matter, "收入证明")
    record = material(gap_matter, "无犯罪记录证明")
    file = tmp_path / "income.pdf"
    file.write_bytes(PDF)
    phone = page_factory(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(f"{base}/login/?next=/services/matters/{gap_matter.code}/apply/")
    phone.get_by_label("用户名").fill(granted.citizen.username)
    phone.get_by_label("密码").fill(PASSWORD)
    phone.locator("main").get_by_role("button", name="登录").click()
    phone.wait_for_url(f"{base}/services/matters/{gap_matter.code}/apply/")
    assert "容缺后补（5个工作日内补交）" in phone.locator(f"#gap-choice-{lease.pk}").inner_text()
    assert phone.locator(f"#gap-choice-{income.pk}").count() == 0  # key material
    assert "以告知承诺代替" in phone.locator(f"#gap-choice-{record.pk}").inner_text()
    assert "本人承诺符合“无犯罪记录证明”" in phone.locator(f"#pledge-text-{record.pk}").inner_text()
    phone.locator(f"#m_{income.pk}").set_input_files(str(file))
    phone.locator(f'input[name="how_{lease.pk}"][value="tolerate"]').check()
    phone.locator(f'input[name="how_{record.pk}"][value="pledge"]').check()
    phone.get_by_label("申请事项说明").fill("申请公共租赁住房")
    phone.locator(f"#material-{record.pk}").screenshot(path=str(screenshot_dir / "gaps-apply-choice.png"))
    phone.screenshot(path=str(screenshot_dir / "gaps-apply-phone.png"), full_page=True)
    phone.get_by_role("button", name="提交申请").click()
    phone.wait_for_url(f"{base}/services/applications/**")
    application = Application.objects.get()
    lease_gap = application.gaps.get(kind=GapKind.TOLERATED)
    pledge_gap = application.gaps.get(kind=GapKind.PLEDGE)
    assert "容缺后补" in phone.locator(f"#gap-{lease_gap.pk}").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.screenshot(path=str(screenshot_dir / "gaps-application-phone.png"), full_page=True)
    phone.locator(f"#gap-file-{lease_gap.pk}").set_input_files(str(file))
    phone.locator(f"#gap-{lease_gap.pk}").get_by_role("button", name="补交", exact=True).click()
    phone.wait_for_load_state()
    assert "已补交" in phone.locator(f"#gap-{lease_gap.pk}").inner_text()
    phone.screenshot(path=str(screenshot_dir / "gaps-supplied-phone.png"), full_page=True)

    desk = page_factory()
    desk.goto(f"{base}/login/?next=/services/gaps/")
    desk.get_by_label("用户名").fill(granted.handler.username)
    desk.get_by_label("密码").fill(PASSWORD)
    desk.locator("main").get_by_role("button", name="登录").click()
    desk.wait_for_url(f"{base}/services/gaps/")
    assert "待核查承诺" in desk.locator(f'tr[data-gap="{pledge_gap.pk}"]').inner_text()
    desk.screenshot(path=str(screenshot_dir / "gaps-list-desktop.png"), full_page=True)
    desk.locator(f'tr[data-gap="{pledge_gap.pk}"] a').click()
    desk.wait_for_load_state()
    desk.locator(f"#gap-note-{pledge_gap.pk}").fill("经公安机关核查，承诺属实")
    desk.get_by_role("button", name="承诺属实", exact=True).click()
    desk.wait_for_load_state()
    assert "承诺属实" in desk.locator(f"#gap-{pledge_gap.pk}").inner_text()
    desk.screenshot(path=str(screenshot_dir / "gaps-handle-desktop.png"), full_page=True)
    pledge_gap.refresh_from_db()
    assert pledge_gap.status == GapStatus.VERIFIED


def test_an_approved_application_is_revoked_too_when_the_material_never_comes(granted, gap_matter):
    from yiwang.cases.services import case_transition

    application = tolerated(granted, gap_matter, now=None)
    case = application.case
    case_transition(case=case, transition="accept", actor=granted.handler, expected_version=case.version)
    case.refresh_from_db()
    case_transition(case=case, transition="approve", actor=granted.handler, expected_version=case.version)
    gap = application.gaps.get()
    ApplicationGap.objects.filter(pk=gap.pk).update(due_on=datetime.date(2020, 1, 6))
    assert gaps_sweep().revoked == [gap.pk]
    case.refresh_from_db()
    assert case.state == states.REVOKED


def test_the_demo_seed_is_idempotent(granted):
    from io import StringIO

    first, second = StringIO(), StringIO()
    call_command("services_gaps_seed", stdout=first)
    assert "1 created" in first.getvalue()
    matter = Matter.objects.get(code="YW-ZJ-GAP-001")
    materials = {m.name: m for m in matter.materials.all()}
    assert materials["房屋租赁合同"].may_be_tolerated and not materials["收入证明"].may_be_tolerated
    assert materials["无犯罪记录证明"].pledge_allowed and matter.department.code == "ZJ"
    entries = AuditEntry.objects.count()
    call_command("services_gaps_seed", stdout=second)
    assert "0 created, 0 updated, 1 unchanged; 0 sharing grants made" in second.getvalue()
    assert AuditEntry.objects.count() == entries
