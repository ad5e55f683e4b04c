"""Applying online: the form filled from shared data (auto-fill share on a known matter), what
the applicant may and may not change, uploads checked by content and size, one application per
submission, the department's handling in working days, and the rating."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.cases.models import Case
from yiwang.cases.services import case_transition
from yiwang.core.calendar import add_working_days
from yiwang.core.errors import Conflict, FieldErrors, Forbidden, NotFound
from yiwang.core.models import AuditEntry
from yiwang.exchange.models import ExchangeRead
from yiwang.services import cases as states
from yiwang.services import selectors
from yiwang.services.models import Application, ApplicationMaterial, Rating
from yiwang.services.services import (
    applicant_of,
    application_rate,
    application_submit,
    application_withdraw,
    form_autofill,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _fill(world, matter, user=None):
    user = user or world.citizen
    return form_autofill(matter=matter, applicant=applicant_of(user=user, matter=matter), actor=user)


def _submit(world, matter, key="k1", user=None, **values):
    values.setdefault("reason", "申请高龄津贴")
    return application_submit(matter=matter, actor=user or world.citizen, values=values, submission_key=key)


def test_autofill_share_on_a_known_matter_without_and_with_grants(world):
    # 民政局 reads the population base of 公安局: open fields only, until it holds a grant.
    before = _fill(world, world.subsidy)
    assert before.total == 10
    assert set(before.values) == {"name", "sex", "ethnicity", "division_code", "household_number"}
    assert before.values["name"] == "李秀英" and before.values["sex"] == "F"
    assert before.values["household_number"] == world.household.number
    assert before.share == 0.5
    from yiwang.services.services import autofill_grants_ensure

    assert autofill_grants_ensure(actor=world.cdo) >= 1
    after = _fill(world, world.subsidy)
    assert after.filled == 9 and after.share == 0.9  # all but the applicant's own reason
    assert after.values["id_number"] == world.person.id_number
    assert after.values["phone"] == world.person.phone
    assert after.sources["birth_date"] == "ga.persons.birth_date"
    # Every read was served as 民政局, with the purpose naming the matter.
    reads = ExchangeRead.objects.filter(consumer__code="MZ")
    assert reads.exists() and all("经济困难的高龄老年人津贴" in read.purpose for read in reads)


def test_autofill_reads_again_when_the_catalog_changed_before_its_evidence_was_recorded(world, monkeypatch):
    from yiwang.exchange.evidence import catalog_version_bump
    from yiwang.exchange.selectors import EvidenceBatch

    real, records = EvidenceBatch.record, []

    def record(batch):
        records.append(len(batch.reads))
        if len(records) == 1:
            catalog_version_bump()  # a grant changed after the reads, before their evidence
        return real(batch)

    monkeypatch.setattr(EvidenceBatch, "record", record)
    filled = _fill(world, world.subsidy)
    assert filled.values["name"] == "李秀英"
    assert len(records) == 2 and records[0] == records[1] > 0  # read twice, recorded once
    assert ExchangeRead.objects.filter(consumer__code="MZ").count() == records[1]


def test_the_owner_reads_everything_and_a_property_is_followed_by_its_unit_number(world):
    filled = _fill(world, world.transfer)  # 不动产登记中心 owns the property registers
    assert filled.values["unit_number"] == world.flat.unit_number
    assert filled.values["property_address"] == world.flat.address
    assert filled.values["certificate_number"] == world.flat.certificate_number
    assert filled.sources["property_area"] == "bdcdj.properties.area"


def test_an_enterprise_agent_gets_the_enterprise_filled_and_a_citizen_is_refused(world):
    filled = _fill(world, world.licence, user=world.agent)
    assert filled.values["uscc"] == world.enterprise.uscc
    assert filled.values["enterprise_name"] == world.enterprise.name
    assert filled.share == 0.9
    with pytest.raises(Forbidden):
        applicant_of(user=world.citizen, matter=world.licence)


def test_submission_opens_a_case_of_the_department_with_the_promised_limit(granted):
    world = granted
    application = _submit(world, world.subsidy, name="别人的名字", phone="13900000000")
    case = application.case
    assert case.type_code == states.APPLICATION and case.state == states.SUBMITTED
    assert case.department.code == "MZ" and case.reference.startswith("BJ")
    opened = case.opened_at.astimezone(case.case_deadline.tzinfo)
    assert case.case_deadline.date() == add_working_days(opened.date(), 5)
    # Name comes from the register and cannot be changed; the phone may be.
    assert application.values["name"] == "李秀英"
    assert application.values["phone"] == "13900000000"
    assert application.values["id_number"] == world.person.id_number
    assert (application.fields_prefilled, application.fields_total) == (9, 10)
    assert set(application.prefilled) == set(application.values) - {"reason"}
    # The e-certificate and the household register were fetched, not asked for.
    fetched = ApplicationMaterial.objects.filter(application=application)
    assert set(fetched.values_list("fetched_from", flat=True)) == {"ga.persons", "ga.household_members"}
    assert AuditEntry.objects.filter(
        action="services.application_submit", object_id=str(application.pk)
    ).exists()


def test_the_same_form_sent_twice_makes_one_application(granted):
    first = _submit(granted, granted.subsidy, key="same")
    second = _submit(granted, granted.subsidy, key="same")
    assert first.pk == second.pk
    assert Application.objects.count() == 1 and Case.objects.filter(type_code=states.APPLICATION).count() == 1


def test_bad_values_are_named_and_nothing_is_written(granted):
    with pytest.raises(FieldErrors) as refused:
        application_submit(
            matter=granted.subsidy,
            actor=granted.citizen,
            values={"phone": "not a phone", "colour": "red"},
            submission_key="bad",
        )
    paths = {path for path, _message in refused.value.errors}
    assert paths == {("values", "reason"), ("values", "phone"), ("values", "colour")}
    assert not Application.objects.exists() and not Case.objects.exists()


def test_uploads_are_checked_by_type_content_and_size(granted):
    world = granted
    matter = world.photo_matter
    photo = matter.materials.get(name="近期免冠照片")
    fetched = matter.materials.get(name="居民身份证")

    def attempt(uploads):
        return application_submit(
            matter=matter,
            actor=world.citizen,
            values={"reason": "办理居住证"},
            uploads=uploads,
            submission_key="u",
        )

    with pytest.raises(FieldErrors) as missing:
        attempt({})
    assert missing.value.errors == [(("materials", str(photo.pk)), "Upload “近期免冠照片”.")]
    cases = {
        "photo.exe": (b"MZ\x90\x00", "Upload a PDF, JPEG or PNG file."),
        "photo.pdf": (b"MZ\x90\x00 not a pdf", "The file's content is not a PDF file."),
        "big.png": (PNG + b"\x00" * (10 * 1024 * 1024), "The file is larger than 10 MB."),
    }
    for name, (content, message) in cases.items():
        with pytest.raises(FieldErrors) as refused:
            attempt({photo.pk: SimpleUploadedFile(name, content)})
        assert refused.value.errors[0][1].endswith(message), name
    with pytest.raises(FieldErrors) as not_asked:
        attempt({photo.pk: SimpleUploadedFile("p.png", PNG), fetched.pk: SimpleUploadedFile("id.pdf", PDF)})
    assert not_asked.value.errors[0][0] == ("materials", str(fetched.pk))
    assert not Application.objects.exists()
    application = attempt({photo.pk: SimpleUploadedFile("照片.png", PNG, content_type="image/png")})
    stored = application.materials.get(material=photo)
    assert stored.content_type == "image/png" and stored.size == len(PNG) and len(stored.sha256) == 64


def test_the_department_handles_it_and_the_applicant_rates_it_once(granted):
    world = granted
    application = _submit(world, world.subsidy)
    with pytest.raises(NotFound):
        selectors.application_for_staff(case_id=application.pk, user=world.outsider)
    assert application in selectors.applications_to_handle(user=world.handler)
    assert application in selectors.applications_to_handle(user=world.clerk)  # waits for acceptance
    assert application not in selectors.applications_to_handle(user=world.outsider)
    with pytest.raises(Conflict):
        application_rate(application=application, actor=world.citizen, rating=Rating.VERY_SATISFIED)
    case = case_transition(case=application.case, transition="accept", actor=world.clerk, expected_version=1)
    assert application not in selectors.applications_to_handle(user=world.clerk)
    case = case_transition(
        case=case, transition="approve", actor=world.handler, expected_version=case.version
    )
    assert case.state == states.APPROVED and case.closed_at is not None
    application.refresh_from_db()
    with pytest.raises(NotFound):
        application_rate(application=application, actor=world.agent, rating=Rating.SATISFIED)
    with pytest.raises(FieldErrors) as no_reason:
        application_rate(application=application, actor=world.citizen, rating=Rating.VERY_DISSATISFIED)
    assert no_reason.value.errors[0][0] == ("reasons",)
    rated = application_rate(application=application, actor=world.citizen, rating=Rating.VERY_SATISFIED)
    assert rated.rating == 5 and rated.rated_at is not None
    with pytest.raises(Conflict):
        application_rate(application=application, actor=world.citizen, rating=Rating.SATISFIED)
    assert selectors.rating_summary()["satisfied_share"] == 1.0


def test_withdraw_only_before_review_and_only_by_the_applicant(granted):
    world = granted
    application = _submit(world, world.subsidy)
    with pytest.raises(NotFound):
        application_withdraw(application=application, actor=world.agent)
    application_withdraw(application=application, actor=world.citizen)
    application.case.refresh_from_db()
    assert application.case.state == states.WITHDRAWN
    with pytest.raises(Conflict):
        application_withdraw(application=application, actor=world.citizen)


def test_the_review_deadline_turns_red_after_the_promised_working_days(granted):
    from yiwang.cases.services import case_sla_sweep

    world = granted
    application = _submit(world, world.subsidy)
    case_transition(case=application.case, transition="accept", actor=world.handler, expected_version=1)
    late = application.case.case_deadline + datetime.timedelta(hours=1)
    case_sla_sweep(now=late)
    application.case.refresh_from_db()
    assert application.case.sla_status == "red"
