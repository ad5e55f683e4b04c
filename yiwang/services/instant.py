"""Instant approval (秒批) by the rules engine, and the e-certificate issued when an application is
approved.

- 秒批: a matter whose `instant_rule` names a published rule (yiwang/services/rules/*.yaml, loaded
  with rules.services.rule_file_load) is checked right after submission: the rule is explained
  for the applicant (a person's ID number or an enterprise's USCC), reading shared data through
  the exchange under the matter's department's grants. Every condition met → the case takes
  `instant_approve` with no human step (and the certificate is issued by the effect below);
  a condition not met, or data that cannot be read → the application waits for a handler,
  with the explanation on the handling page (`Application.instant` = "fallback").
- E-certificates: when an application whose matter has a `certificate_type` is approved (by a
  handler or by 秒批), the certificate is issued in the same transaction, its fields taken from
  the application's values (filled from shared data) by CERTIFICATE_FIELDS; a required field the
  application cannot give refuses the approval, naming the field. Revoking the application
  revokes its certificate with the same reason.
- 无证办理: a material that is an e-certificate (source e_certificate, resource_code = a
  certificate type) is never asked for; `certificates_missing` says, at submission, which ones
  the applicant does not actually hold.
"""

from __future__ import annotations

import datetime
import decimal
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.errors import DomainError, FieldErrors, NotFound
from yiwang.core.masking import mask_id_number
from yiwang.services import cases as states
from yiwang.services.effects import effect_register
from yiwang.services.models import ApplicantKind, Application, Material, MaterialSource, Matter

RULES_DIR = Path(__file__).resolve().parent / "rules"
INSTANT_ACTOR = "system:services-instant"
INSTANT_PURPOSE = "一网通办秒批：核验“%s”申请条件"
INSTANT_APPROVED = "approved"
INSTANT_FALLBACK = "fallback"
GRANT_PURPOSE = "一网通办秒批：按规则自动核验申请条件"
GRANT_BASIS = "《国务院办公厅关于加快推进政务服务标准化规范化便利化的指导意见》（国办发〔2022〕5号）"

# --------------------------------------------------------------------------- rule files


def instant_rules_load(*, names: list[str] | None = None) -> dict[str, Any]:
    """Load (idempotently) the instant-approval rules shipped in yiwang/services/rules/*.yaml
    (or only the files named). A file whose resources are not published on this platform yet
    is skipped with the reason. Returns {"loaded": {code: version number}, "skipped": {file:
    reason}}."""
    from yiwang.rules.services import rule_file_load

    loaded: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for path in sorted(RULES_DIR.glob("*.yaml")):
        if names is not None and path.name not in names and path.stem not in names:
            continue
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            version = rule_file_load(raw=raw, source=f"services/rules/{path.name}")
        except FieldErrors as error:
            skipped[path.name] = "; ".join(message for _path, message in error.errors)
            continue
        loaded[version.rule.code] = version.number
    return {"loaded": loaded, "skipped": skipped}


def instant_grants_ensure(*, actor: Any, matters: Any = None) -> int:
    """Ask for, and approve as the chief data officer `actor`, the conditional fields the
    instant rule of each rules-approvable matter reads (for its department, a year), where no
    live grant covers them yet. Returns the number of grants made."""
    from yiwang.rules.definition import definition_parse
    from yiwang.rules.services import rule_fields_read, rule_in_force
    from yiwang.services.services import grants_missing_make

    queryset = Matter.objects.exclude(instant_rule="") if matters is None else matters
    wanted: dict[tuple[Any, str], set[str]] = {}
    for matter in queryset.select_related("department"):
        try:
            version = rule_in_force(code=matter.instant_rule)
        except NotFound:
            continue
        for resource_code, names in rule_fields_read(definition_parse(version.definition)).items():
            wanted.setdefault((matter.department, resource_code), set()).update(names)
    return grants_missing_make(actor=actor, wanted=wanted, purpose=GRANT_PURPOSE, legal_basis=GRANT_BASIS)


# --------------------------------------------------------------------------- explanations as data


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def explanation_data(explanation: Any) -> dict[str, Any]:
    """A rules Explanation as JSON for `Application.instant_explanation`."""
    return {
        "code": explanation.code,
        "title": explanation.title,
        "subject": explanation.subject,
        "eligible": bool(explanation.eligible),
        "amount": int(explanation.amount or 0),
        "on": explanation.on.isoformat() if explanation.on else None,
        "conditions": [
            {
                "id": condition.id,
                "label": condition.label,
                "basis": condition.basis,
                "value": _plain(condition.value),
                "op": condition.op,
                "compared_with": _plain(condition.compared_with),
                "passed": bool(condition.passed),
                "unit": condition.unit,
            }
            for condition in explanation.conditions
        ],
    }


def explanation_of(application: Application) -> Any:
    """The stored explanation as a rules Explanation (for rules/explanation.html), or None when
    there is none or the rule could not be run (then `instant_explanation["error"]` says why)."""
    from yiwang.rules.services import ConditionResult, Explanation

    data = application.instant_explanation or {}
    if not data.get("conditions"):
        return None
    on = data.get("on")
    return Explanation(
        subject=str(data.get("subject", "")),
        eligible=bool(data.get("eligible")),
        amount=int(data.get("amount") or 0),
        conditions=[ConditionResult(**condition) for condition in data["conditions"]],
        code=data.get("code", ""),
        title=data.get("title", ""),
        on=datetime.date.fromisoformat(on) if on else None,
    )


# --------------------------------------------------------------------------- 秒批


def _fallback(application: Application, *, data: dict[str, Any], actor: Any) -> Application:
    """Leave the application to a handler, with the explanation (inside the caller's
    transaction)."""
    Application.objects.filter(pk=application.pk).update(instant=INSTANT_FALLBACK, instant_explanation=data)
    audit_record(
        actor=actor,
        action="services.instant_fallback",
        target=application,
        after={
            "rule": data.get("code", application.matter.instant_rule),
            "failed": [c["id"] for c in data.get("conditions", []) if not c["passed"]],
            "error": data.get("error", ""),
        },
    )
    application.instant = INSTANT_FALLBACK
    application.instant_explanation = data
    return application


def _decide(application: Application, *, explanations: list[Any], actor: Any) -> Application | None:
    """Approve at once or leave to a handler (inside the caller's transaction). None when
    approved (the caller reads the application again)."""
    from yiwang.cases.services import case_transition_system

    matter, case = application.matter, application.case
    if not explanations:
        message = _("The rule found no record of the applicant in the shared data.")
        return _fallback(application, data={"code": matter.instant_rule, "error": message}, actor=actor)
    data = explanation_data(explanations[0])
    if not data["eligible"]:
        return _fallback(application, data=data, actor=actor)
    try:
        with transaction.atomic():  # a savepoint: a refused approval leaves the rest
            Application.objects.filter(pk=application.pk).update(
                instant=INSTANT_APPROVED, instant_explanation=data
            )
            case_transition_system(
                case=case,
                transition="instant_approve",
                actor=actor,
                expected_version=case.version,
                note=_("Approved at once: every condition of rule %(rule)s is met.")
                % {"rule": data["title"]},
            )
    except DomainError as error:
        case.refresh_from_db()
        return _fallback(application, data={**data, "error": error.message}, actor=actor)
    return None


def application_instant_decide(
    *, application: Application, actor: Any = INSTANT_ACTOR, on: datetime.date | None = None
) -> Application:
    """秒批: explain the matter's instant rule for the applicant, reading shared data as the
    matter's department (its grants, the purpose recorded with each read). Every condition met
    → `instant_approve` (the certificate is issued in the same transaction) and `instant` =
    "approved"; otherwise, or if the data cannot be read or the approval is refused, the
    application stays for a human with `instant` = "fallback" and the explanation (or the
    error) in `instant_explanation`. The shared data are read and the read's evidence appended
    first; then one transaction writes the decision and its effects. Only a submitted
    application of a rules-approvable matter is decided; anything else is returned unchanged."""
    from yiwang.rules.services import definition_of, rule_explain_read, rule_in_force

    matter = application.matter
    if not matter.instant_rule or application.instant or application.case.state != states.SUBMITTED:
        return application
    on = on or timezone.localdate()
    # The rule is read before the write transaction opens (a refused read is audited by the
    # rules engine in its own transaction, as before): the transaction — SQLite's write lock,
    # the heads of the evidence chain and of the audit log — holds only the writes.
    try:
        version = rule_in_force(code=matter.instant_rule)
        explanations, read = rule_explain_read(
            definition_of(version),
            subjects=[application.subject_key],
            on=on,
            consumer=matter.department,
            purpose=INSTANT_PURPOSE % matter.name,
            actor=actor,
            version=version,
        )
    except DomainError as error:  # a refused read is audited by the exchange, kept with this
        with transaction.atomic():
            return _fallback(
                application, data={"code": matter.instant_rule, "error": error.message}, actor=actor
            )
    # The read's evidence, in a transaction of its own as every exchange read's is: it is kept
    # whatever becomes of the decision, and the decision's transaction never holds the
    # evidence chain's head (on PostgreSQL a lock every reader waits for).
    read.evidence_record()
    with transaction.atomic():
        decided = _decide(application, explanations=explanations, actor=actor)
        if decided is not None:
            return decided
    application.refresh_from_db()
    return application


# --------------------------------------------------------------------------- 无证办理


def certificates_missing(
    *, matter: Matter, holder: str, bundle: Any = None, materials: list[Material] | None = None
) -> list[tuple[Material, str]]:
    """The materials of `matter` that are e-certificates (source e_certificate whose
    resource_code is a certificate type) the holder does not hold valid today, each with the
    message to show. When the application is a step of a bundle (一件事), a certificate issued
    by an earlier step of the same bundle is not asked for either: that step's approval issues
    it (the check would otherwise run before the certificate exists). `materials`: the
    matter's materials when the caller has them already."""
    from yiwang.certs.models import CertificateType
    from yiwang.certs.selectors import certificate_held

    materials = [
        material
        for material in (matter.materials.all() if materials is None else materials)
        if material.source == MaterialSource.E_CERTIFICATE and material.resource_code
    ]
    if not materials:
        return []
    types = {
        item.code: item
        for item in CertificateType.objects.filter(
            code__in={m.resource_code for m in materials}, is_active=True
        )
    }
    produced: set[str] = set()
    if bundle is not None:
        bundle_definition = getattr(bundle, "bundle", bundle)
        steps = getattr(bundle_definition, "steps", None)
        if steps is not None:
            produced = set(steps.values_list("matter__certificate_type", flat=True))
    missing = []
    for material in materials:
        certificate_type = types.get(material.resource_code)
        if certificate_type is None or material.resource_code in produced:
            continue  # an exchange resource (read, not held), or made by an earlier step
        if certificate_held(holder=holder, type_code=certificate_type.code) is None:
            missing.append(
                (
                    material,
                    _(
                        "The platform found no valid %(certificate)s of yours (material “%(material)s”): "
                        "apply for the %(certificate)s first."
                    )
                    % {"certificate": certificate_type.name, "material": material.name},
                )
            )
    return missing


# --------------------------------------------------------------------------- certificates on approval

# Certificate type → {certificate field: candidates, first non-empty wins}. A candidate is a form
# field of the application (its values were filled from shared data where the exchange had them),
# "@applicant_name", "@subject_key", "@today", "@reference", "@department", "@matter", or
# "=text" (a fixed text). A field not listed is taken from the form field of the same name.
CERTIFICATE_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    # 营业执照
    "YYZZ": {
        "name": ("enterprise_name", "@applicant_name"),
        "kind": ("enterprise_kind", "kind"),
        "legal_representative": ("legal_representative",),
        "registered_capital": ("registered_capital",),
        "established_on": ("established_on", "@today"),
        "address": ("enterprise_address", "address"),
        "business_scope": ("business_scope", "industry"),
    },
    # 公章刻制备案证明
    "GZBA": {
        "name": ("enterprise_name", "@applicant_name"),
        "seals": ("seals", "=单位公章、财务专用章、发票专用章"),
        "engraver": ("engraver",),
    },
    # 税务登记信息确认
    "SWDJ": {
        "name": ("enterprise_name", "@applicant_name"),
        "taxpayer_kind": ("taxpayer_kind", "=小规模纳税人"),
        "tax_office": ("tax_office", "@department"),
    },
    # 单位社会保险登记证明: since 多证合一 the employer's number is its USCC
    "DWSBDJ": {
        "name": ("enterprise_name", "@applicant_name"),
        "insurance_number": ("insurance_number", "@subject_key"),
        "insurances": ("insurances", "=基本养老保险、基本医疗保险、失业保险、工伤保险、生育保险"),
    },
    # 不动产权证书
    "BDCQZS": {
        "unit_number": ("unit_number",),
        "address": ("property_address", "address"),
        "use": ("property_use", "use"),
        "area": ("property_area", "area"),
        "right_kind": ("right_kind", "=市场化商品房"),
        "share": ("share",),
    },
    # 商品房买卖合同备案证明
    "SPFBA": {
        "contract_number": ("contract_number", "@reference"),
        "unit_number": ("unit_number",),
        "price": ("price",),
        "seller": ("seller",),
    },
    # 完税证明
    "WSZM": {
        "tax_kind": ("tax_kind", "=契税"),
        "amount": ("tax_amount", "amount"),
        "unit_number": ("unit_number",),
    },
    # 出生医学证明
    "CSYXZM": {
        "child_name": ("child_name",),
        "child_sex": ("child_sex",),
        "birth_date": ("child_birth_date",),
        "birth_place": ("birth_place",),
        "mother_name": ("mother_name", "@applicant_name"),
        "father_name": ("father_name",),
    },
    # 户口登记证明
    "HKDJ": {
        "name": ("child_name", "name", "@applicant_name"),
        "household_number": ("household_number",),
        "relation": ("relation",),
        "registered_on": ("@today",),
    },
    # 医疗保险参保凭证
    "YBCB": {
        "insurance_kind": ("insurance_kind", "=城乡居民基本医疗保险"),
        "enrolled_on": ("enrolled_on", "@today"),
    },
    # 社会保障卡: the social security number is the ID number
    "SBK": {
        "card_number": ("card_number", "@subject_key"),
        "bank": ("bank",),
    },
    # 不动产登记资料查询结果证明 (instant_seed)
    "BDCCXZM": {
        "unit_number": ("unit_number",),
        "address": ("property_address",),
        "use": ("property_use",),
        "area": ("property_area",),
        "queried_on": ("@today",),
    },
    # 不动产登记信息证明（无房）(instant_seed)
    "WFZM": {
        "name": ("name", "@applicant_name"),
        "result": ("=经查询，申请人在本市不动产登记信息系统中无不动产登记记录",),
        "queried_on": ("@today",),
    },
}


# The registry's codes of a property's use (registry.Property.Use), as a certificate prints them.
PROPERTY_USES = {
    "residential": "住宅",
    "commercial": "商业",
    "office": "办公",
    "industrial": "工业",
    "homestead": "宅基地",
}


def _candidate(application: Application, candidate: str) -> Any:
    if candidate.startswith("="):
        return candidate[1:]
    if candidate.startswith("@"):
        return {
            "@applicant_name": lambda: application.applicant_name,
            "@subject_key": lambda: application.subject_key,
            "@today": lambda: timezone.localdate().isoformat(),
            "@reference": lambda: application.case.reference,
            "@department": lambda: application.matter.department.name,
            "@matter": lambda: application.matter.name,
        }[candidate]()
    return (application.values or {}).get(candidate)


def certificate_fields(*, application: Application, certificate_type: Any) -> dict[str, Any]:
    """The certificate's fields for this application; FieldErrors naming each required field
    the application does not give."""
    mapping = CERTIFICATE_FIELDS.get(certificate_type.code, {})
    fields: dict[str, Any] = {}
    problems = []
    for item in certificate_type.fields:
        key = item["key"]
        value = None
        for candidate in mapping.get(key, (key,)):
            value = _candidate(application, candidate)
            if value not in (None, ""):
                break
        if value not in (None, ""):
            if key == "use":
                value = PROPERTY_USES.get(str(value), value)
            fields[key] = str(value) if not isinstance(value, str | int | bool) else value
        elif item.get("required", True):
            problems.append(
                (
                    ("certificate", key),
                    _(
                        "%(type)s needs “%(label)s” (%(key)s), which this application does not give: "
                        "it cannot be approved until it does."
                    )
                    % {"type": certificate_type.name, "label": item["label"], "key": key},
                )
            )
    if problems:
        raise FieldErrors(problems)
    return fields


def _issuing_department(matter: Matter, certificate_type: Any) -> Any:
    """The matter's department if it may issue this type and has an e-seal (the type's own
    department, or a branch of it with its own seal); else None (the type's department)."""
    from yiwang.certs.services import seal_active

    if matter.department_id == certificate_type.department_id:
        return certificate_type.department
    department = matter.department
    if department.parent_id == certificate_type.department_id and seal_active(department=department):
        return department
    return None


@effect_register
def certificate_on_move(
    *, application: Application, case: Any, transition: str, actor: Any, note: str
) -> None:
    """Issue the matter's certificate when the application is approved (by a handler or by
    秒批); revoke it with the same reason when the application is revoked."""
    from yiwang.certs.models import Certificate, CertificateStatus, CertificateType
    from yiwang.certs.services import certificate_issue, certificate_revoke

    matter = application.matter
    if (
        transition in ("approve", "instant_approve")
        and case.state == states.APPROVED
        and matter.certificate_type
    ):
        certificate_type = (
            CertificateType.objects.select_related("department")
            .filter(code=matter.certificate_type, is_active=True)
            .first()
        )
        if certificate_type is None:
            raise FieldErrors.single(
                "certificate_type",
                _("The matter issues %(code)s, which is not a certificate type of the platform.")
                % {"code": matter.certificate_type},
            )
        fields = certificate_fields(application=application, certificate_type=certificate_type)
        certificate = certificate_issue(
            type_code=certificate_type.code,
            holder=application.subject_key,
            holder_name=application.applicant_name,
            fields=fields,
            actor=actor,
            department=_issuing_department(matter, certificate_type),
            source=f"services:application:{application.pk}",
            certificate_type=certificate_type,
        )
        Application.objects.filter(pk=application.pk).update(certificate_number=certificate.number)
        application.certificate_number = certificate.number
        audit_record(
            actor=actor,
            action="services.certificate_issue",
            target=application,
            after={
                "certificate": certificate.number,
                "holder": mask_id_number(application.subject_key)
                if application.applicant_kind == ApplicantKind.PERSON
                else application.subject_key,
            },
        )
    elif transition == "revoke" and application.certificate_number:
        certificate = Certificate.objects.filter(
            number=application.certificate_number, status=CertificateStatus.VALID
        ).first()
        if certificate is not None:
            certificate_revoke(
                certificate=certificate,
                reason=(note or _("The application was revoked."))[:255],
                actor=actor,
            )
