"""E-certificates of applications: issued when approved, with a required field the application
does not give the approval is refused naming it; revoked with the application; 无证办理: an
e-certificate material is never asked for, and an applicant who does not hold it is told which
one and what to do."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from yiwang.cases.services import case_transition, case_transition_system
from yiwang.certs.models import Certificate, CertificateStatus
from yiwang.certs.seed import certs_seed
from yiwang.certs.selectors import certificate_held, certificate_verify
from yiwang.certs.services import certificate_issue
from yiwang.core.errors import FieldErrors
from yiwang.core.models import Department, Role
from yiwang.services import cases as states
from yiwang.services.instant import (
    INSTANT_FALLBACK,
    PROPERTY_USES,
    certificates_missing,
    instant_grants_ensure,
    instant_rules_load,
)
from yiwang.services.instant_seed import _types_ensure
from yiwang.services.models import ApplicationMaterial, Material, MaterialSource
from yiwang.services.services import application_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def certified(granted):
    """The demo certificate types and seals, 不动产登记中心's handler, and the transfer matter
    issuing a 不动产权证书 (BDCQZS) on approval."""
    certs_seed(samples=False)
    _types_ensure()
    granted.transfer.certificate_type = "BDCQZS"
    granted.transfer.save()
    granted.bdc_handler = UserFactory(
        username="bdc-handler",
        role=Role.DEPARTMENT_HANDLER,
        role__department=Department.objects.get(code="BDCDJ"),
    )
    return granted


def _submit(world, matter, key="k1", **values):
    values.setdefault("reason", "办理不动产登记")
    return application_submit(matter=matter, actor=world.citizen, values=values, submission_key=key)


def _approve(handler, application):
    case = application.case
    case = case_transition(case=case, transition="accept", actor=handler, expected_version=case.version)
    return case_transition(case=case, transition="approve", actor=handler, expected_version=case.version)


def test_approval_issues_the_certificate_and_revocation_revokes_it(certified, client):
    application = _submit(certified, certified.transfer)
    assert application.certificate_number == ""
    _approve(certified.bdc_handler, application)
    application.refresh_from_db()
    certificate = Certificate.objects.get(number=application.certificate_number)
    assert certificate.certificate_type.code == "BDCQZS"
    assert certificate.department.code == "BDCDJ"
    assert certificate.fields == {
        "unit_number": certified.flat.unit_number,
        "address": certified.flat.address,
        "use": PROPERTY_USES[certified.flat.use],  # the registry's code as the certificate prints it
        "area": application.values["property_area"],
        "right_kind": "市场化商品房",
    }
    assert certificate_verify(certificate=certificate).ok
    assert certificate_held(holder=certified.person.id_number, type_code="BDCQZS") == certificate
    # The applicant's page links the certificate's page, which the holder may open.
    client.force_login(certified.citizen)
    html = client.get(f"/services/applications/{application.case.reference}/").content.decode()
    assert f'href="/certs/c/{certificate.number}/"' in html
    assert client.get(f"/certs/c/{certificate.number}/").status_code == 200
    # A false pledge found later revokes the application, and its certificate with the same reason.
    case = application.case
    case.refresh_from_db()
    case_transition_system(
        case=case,
        transition="revoke",
        actor="system:services-gaps",
        expected_version=case.version,
        note="告知承诺不实：核查发现申请人提交的承诺与事实不符",
    )
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.revoked_reason == "告知承诺不实：核查发现申请人提交的承诺与事实不符"
    verification = certificate_verify(certificate=certificate)
    assert not verification.ok and verification.outcome == "revoked"
    assert certificate_held(holder=certified.person.id_number, type_code="BDCQZS") is None


def test_a_required_certificate_field_the_application_lacks_refuses_the_approval(certified):
    certified.transfer.certificate_type = "SPFBA"  # 商品房买卖合同备案证明 needs a price and a seller
    certified.transfer.save()
    application = _submit(certified, certified.transfer)
    with pytest.raises(FieldErrors) as refused:
        _approve(certified.bdc_handler, application)
    fields = dict(refused.value.errors)
    assert set(fields) == {("certificate", "price"), ("certificate", "seller")}
    assert "成交价格（元）" in fields[("certificate", "price")]
    application.refresh_from_db()
    assert application.case.state == states.REVIEWING  # nothing half-written
    assert application.certificate_number == "" and not Certificate.objects.exists()


def test_instant_approval_refused_by_the_certificate_falls_back_with_the_reason(certified):
    instant_rules_load(names=["property_record.yaml"])
    instant_grants_ensure(actor=certified.cdo)
    certified.transfer.instant_rule = "services.property_record"
    certified.transfer.certificate_type = "SPFBA"
    certified.transfer.save()
    application = _submit(certified, certified.transfer)
    application.refresh_from_db()
    assert application.instant == INSTANT_FALLBACK and application.case.state == states.SUBMITTED
    assert application.instant_explanation["eligible"] is True
    assert "成交价格（元）" in application.instant_explanation["error"]


def test_an_e_certificate_material_is_never_asked_but_must_be_held(certified, client):
    title = Material.objects.create(
        matter=certified.transfer,
        name="不动产权证书",
        required=True,
        is_key=True,
        source=MaterialSource.E_CERTIFICATE,
        resource_code="BDCQZS",
    )
    # Not held: the submission is refused naming the material and what to do.
    with pytest.raises(FieldErrors) as refused:
        _submit(certified, certified.transfer)
    message = dict(refused.value.errors)[("materials", str(title.pk))]
    assert message == (
        "The platform found no valid 不动产权证书 of yours (material “不动产权证书”): apply for the 不动产权证书 first."
    )
    # Held: accepted, the material recorded as fetched from the certificate library.
    certificate_issue(
        type_code="BDCQZS",
        holder=certified.person.id_number,
        fields={
            "unit_number": certified.flat.unit_number,
            "address": certified.flat.address,
            "use": "住宅",
            "area": "89.50",
            "right_kind": "市场化商品房",
        },
        actor="system:test",
    )
    application = _submit(certified, certified.transfer, key="k2")
    assert ApplicationMaterial.objects.get(application=application, material=title).fetched_from == "BDCQZS"
    # The apply page has no upload for it: the platform holds it.
    client.force_login(certified.citizen)
    page = client.get(f"/services/matters/{certified.transfer.code}/apply/").content.decode()
    assert f'name="m_{title.pk}"' not in page


def test_the_chinese_message_names_the_certificate(certified):
    from django.utils import translation

    title = Material.objects.create(
        matter=certified.transfer,
        name="不动产权证书",
        source=MaterialSource.E_CERTIFICATE,
        resource_code="BDCQZS",
    )
    with translation.override("zh-hans"):
        [(material, message)] = certificates_missing(
            matter=certified.transfer, holder=certified.person.id_number
        )
    assert material == title
    assert message.startswith("平台未查到您的有效不动产权证书") and "请先办理不动产权证书" in message


def test_a_bundle_step_is_not_asked_for_the_certificate_an_earlier_step_issues(certified):
    from yiwang.services.models import Bundle, BundleStep

    Material.objects.create(
        matter=certified.transfer, name="完税证明", source=MaterialSource.E_CERTIFICATE, resource_code="WSZM"
    )
    tax = certified.subsidy
    tax.certificate_type = "WSZM"
    tax.save()
    bundle = Bundle.objects.create(code="transfer", name="不动产转移登记")
    BundleStep.objects.create(bundle=bundle, code="tax", name="缴税", matter=tax)
    BundleStep.objects.create(
        bundle=bundle, code="register", name="登记", matter=certified.transfer, depends_on=["tax"]
    )
    holder = certified.person.id_number
    assert [m.name for m, _message in certificates_missing(matter=certified.transfer, holder=holder)] == [
        "完税证明"
    ]
    assert certificates_missing(matter=certified.transfer, holder=holder, bundle=bundle) == []
