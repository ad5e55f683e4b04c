"""The questions the certs engine answers: which certificates a holder has (so no one is asked
for a paper the platform already holds: 无证办理), who may see a certificate, and whether a
certificate — stored, or uploaded as signed JSON — is genuine, current and unaltered."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.certs import crypto, documents
from yiwang.certs.models import Certificate, CertificateStatus, CertificateType, HolderKind, Seal
from yiwang.core.access import user_roles
from yiwang.core.errors import FieldErrors, NotFound
from yiwang.core.masking import mask_id_number
from yiwang.core.models import Role
from yiwang.registry.models import Enterprise, Person

# Staff roles that see the certificates their own department (or its branches) issued.
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_HANDLER, Role.WINDOW_CLERK})


def _base() -> QuerySet[Certificate]:
    return Certificate.objects.select_related("certificate_type", "department", "seal")


# --- holders ------------------------------------------------------------------------------------


def certificates_of(
    *, holder: str, type_code: str | None = None, on: datetime.date | None = None
) -> QuerySet[Certificate]:
    """The holder's (ID number or USCC) certificates that are valid on `on` (today): not
    revoked or superseded, not expired. The services app asks this before it asks an applicant
    for a material."""
    on = on or timezone.localdate()
    queryset = (
        _base()
        .filter(
            holder=(holder or "").strip().upper(),
            status=CertificateStatus.VALID,
            valid_from__lte=on,
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    )
    if type_code:
        queryset = queryset.filter(certificate_type__code=type_code)
    return queryset


def certificate_held(*, holder: str, type_code: str, on: datetime.date | None = None) -> Certificate | None:
    """The newest valid certificate of this type the holder has, or None."""
    return certificates_of(holder=holder, type_code=type_code, on=on).first()


def holders_of_user(user: Any) -> list[str]:
    """The holder identifiers a user may act for: their own ID number and the USCCs of the
    enterprises they are an agent of."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    holders = list(Person.objects.filter(user=user).values_list("id_number", flat=True))
    holders += list(Enterprise.objects.filter(agents__user=user).values_list("uscc", flat=True))
    return holders


def certificates_of_user(*, user: Any) -> QuerySet[Certificate]:
    """Every certificate (valid or not) held by the user or by an enterprise they act for."""
    return _base().filter(holder__in=holders_of_user(user))


def certificates_of_department(*, user: Any) -> QuerySet[Certificate]:
    """The certificates issued by the departments (and their branches) where the user works;
    every certificate for an administrator."""
    roles = user_roles(user)
    if Role.ADMIN in roles:
        return _base()
    departments = list(
        user.roles.filter(role__in=DEPARTMENT_ROLES, department__isnull=False).values_list(
            "department_id", flat=True
        )
    )
    return _base().filter(Q(department_id__in=departments) | Q(department__parent_id__in=departments))


def access_certificate(*, user: Any, number: str) -> Certificate:
    """The certificate if the user may see it whole: its holder, an agent of the holding
    enterprise, staff of the issuing department, an administrator. NotFound otherwise, the same
    as for a number that does not exist."""
    certificate = _base().filter(number=number).first()
    if certificate is None or user is None or not getattr(user, "is_authenticated", False):
        raise NotFound(_("No such certificate."))
    if certificate.holder in holders_of_user(user):
        return certificate
    if certificates_of_department(user=user).filter(pk=certificate.pk).exists():
        return certificate
    raise NotFound(_("No such certificate."))


def access_certificate_revoke(*, user: Any, certificate: Certificate) -> bool:
    """Staff of the issuing department (department handlers) and administrators may revoke."""
    roles = user_roles(user)
    if Role.ADMIN in roles:
        return True
    if Role.DEPARTMENT_HANDLER not in roles:
        return False
    departments = set(user.roles.filter(role=Role.DEPARTMENT_HANDLER).values_list("department_id", flat=True))
    return certificate.department_id in departments or certificate.department.parent_id in departments


def certificate_by_token(*, number: str, token: str) -> Certificate:
    """The certificate the public verification URL names (number and the token printed in its
    QR code); NotFound when either is wrong."""
    certificate = _base().filter(number=number, token=token).first()
    if certificate is None:
        raise NotFound(_("No such certificate."))
    return certificate


def seals_list() -> QuerySet[Seal]:
    """Every seal with its public key, the superseded ones too (they still verify)."""
    return Seal.objects.select_related("department").order_by("department__code", "-created_at")


def certificate_types_list() -> QuerySet[CertificateType]:
    return CertificateType.objects.select_related("department").filter(is_active=True)


# --- masking for the public --------------------------------------------------------------------


def mask_name(name: str) -> str:
    """张伟 → 张*, 欧阳娜娜 → 欧**娜."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def holder_public(certificate: Certificate) -> dict[str, str]:
    """The holder as the public verification page shows it: a person's name and ID number
    masked; an enterprise's name and USCC are public (企业信用信息公示)."""
    if certificate.holder_kind == HolderKind.PERSON:
        return {"name": mask_name(certificate.holder_name), "id": mask_id_number(certificate.holder)}
    return {"name": certificate.holder_name, "id": certificate.holder}


def fields_labelled(certificate: Certificate, *, public_only: bool = False) -> list[dict[str, Any]]:
    """The certificate's fields with their labels, in the type's order; on the public page the
    fields not marked public are hidden."""
    rows = []
    for item in certificate.certificate_type.fields:
        value = (certificate.fields or {}).get(item["key"])
        if value in (None, ""):
            continue
        hidden = public_only and not item.get("public")
        rows.append(
            {
                "key": item["key"],
                "label": item["label"],
                "label_en": item.get("label_en", ""),
                "value": "***" if hidden else value,
                "hidden": hidden,
            }
        )
    return rows


# --- verification -------------------------------------------------------------------------------

VALID = "valid"
TAMPERED = "tampered"
WRONG_SEAL = "wrong_seal"
UNKNOWN = "unknown"
REVOKED = "revoked"
SUPERSEDED = "superseded"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
# The first reason found in this order is the verdict.
SEVERITY = [WRONG_SEAL, TAMPERED, UNKNOWN, REVOKED, SUPERSEDED, EXPIRED, NOT_YET_VALID]


@dataclass
class Reason:
    code: str
    message: str
    path: str = ""


@dataclass
class Verification:
    reasons: list[Reason] = field(default_factory=list)
    certificate: Certificate | None = None
    seal: Seal | None = None
    signature_valid: bool = False

    @property
    def outcome(self) -> str:
        codes = {reason.code for reason in self.reasons}
        return next((code for code in SEVERITY if code in codes), VALID)

    @property
    def ok(self) -> bool:
        return not self.reasons


def _status_reasons(certificate: Certificate, on: datetime.date) -> list[Reason]:
    reasons = []
    if certificate.status == CertificateStatus.REVOKED:
        reasons.append(
            Reason(
                REVOKED,
                _("Revoked on %(date)s: %(reason)s")
                % {
                    "date": timezone.localdate(certificate.revoked_at).isoformat()
                    if certificate.revoked_at
                    else "",
                    "reason": certificate.revoked_reason,
                },
            )
        )
    elif certificate.status == CertificateStatus.SUPERSEDED:
        newer = certificate.superseded_by.number if certificate.superseded_by_id else ""
        reasons.append(
            Reason(SUPERSEDED, _("Replaced by a newer certificate %(number)s.") % {"number": newer})
        )
    if certificate.valid_to and certificate.valid_to < on:
        reasons.append(
            Reason(EXPIRED, _("Expired on %(date)s.") % {"date": certificate.valid_to.isoformat()})
        )
    if certificate.valid_from > on:
        reasons.append(
            Reason(
                NOT_YET_VALID, _("Valid only from %(date)s.") % {"date": certificate.valid_from.isoformat()}
            )
        )
    return reasons


def _tampered_reasons(paths: list[str]) -> list[Reason]:
    return [
        Reason(TAMPERED, _("%(path)s differs from the certificate as issued.") % {"path": path}, path)
        for path in paths
    ]


def certificate_verify(*, certificate: Certificate, on: datetime.date | None = None) -> Verification:
    """Check a stored certificate: its payload's SM3 digest and SM2 signature under its seal,
    its columns against the signed payload (an edit behind the platform's back shows as
    tampered, naming the field), and its status and validity on `on` (today)."""
    on = on or timezone.localdate()
    result = Verification(certificate=certificate, seal=certificate.seal)
    message = certificate.payload.encode()
    if crypto.sm3_hex(message) != certificate.digest:
        result.reasons.append(Reason(TAMPERED, _("The signed content does not match its SM3 digest.")))
    result.signature_valid = crypto.signature_verify(
        public_key=certificate.seal.public_key, message=message, signature=certificate.signature
    )
    if not result.signature_valid:
        result.reasons.append(Reason(TAMPERED, _("The SM2 signature does not match the signed content.")))
    try:
        payload = json.loads(certificate.payload)
    except ValueError:
        payload = {}
    result.reasons += _tampered_reasons(
        documents.paths_differing(documents.row_values(certificate), documents.payload_values(payload))
    )
    result.reasons += _status_reasons(certificate, on)
    return result


def _document_parse(document: Any) -> tuple[dict[str, Any], str, str]:
    """(payload as a dict, payload as the exact signed text, signature) or FieldErrors."""
    if not isinstance(document, dict):
        raise FieldErrors.single(
            "document", _("Send the certificate's JSON: an object with payload and signature.")
        )
    raw = document.get("payload")
    if isinstance(raw, str):
        try:
            payload = json.loads(raw)
        except ValueError:
            raise FieldErrors.single("payload", _("The payload is not valid JSON.")) from None
        text = raw
    elif isinstance(raw, dict):
        payload, text = raw, documents.canonical(raw)
    else:
        raise FieldErrors.single("payload", _("The payload is missing: give it as JSON text or an object."))
    if not isinstance(payload, dict) or not isinstance(payload.get("number"), str):
        raise FieldErrors.single("payload", _("The payload has no certificate number."))
    signature = document.get("signature")
    if not isinstance(signature, str) or not signature:
        raise FieldErrors.single("signature", _("The signature is missing."))
    return payload, text, signature.strip().lower()


def document_verify(*, document: Any, on: datetime.date | None = None) -> Verification:
    """Check a certificate someone presents as signed JSON ({"payload": …, "signature": …}, as
    downloaded from the platform): the seal it names exists and belongs to the issuing
    department it names (else wrong_seal); the signature matches (else tampered, naming the
    fields that differ from the certificate as issued); the number is in the register (else
    unknown); then revoked / superseded / expired. Malformed input raises FieldErrors."""
    on = on or timezone.localdate()
    payload, text, signature = _document_parse(document)
    result = Verification()
    issuer = payload.get("issuer") if isinstance(payload.get("issuer"), dict) else {}
    seal = Seal.objects.select_related("department").filter(key_id=str(issuer.get("seal") or "")).first()
    certificate = _base().filter(number=payload["number"]).first()
    result.certificate = certificate
    result.seal = seal
    if seal is None:
        result.reasons.append(
            Reason(
                WRONG_SEAL,
                _("The seal %(seal)s is not a seal of this platform.") % {"seal": issuer.get("seal") or "?"},
                "issuer.seal",
            )
        )
    elif seal.department.code != issuer.get("department"):
        result.reasons.append(
            Reason(
                WRONG_SEAL,
                _("The seal %(seal)s belongs to %(owner)s, not to the issuer the certificate names.")
                % {"seal": seal.key_id, "owner": seal.department.name},
                "issuer.seal",
            )
        )
    elif certificate is not None and certificate.seal_id != seal.pk:
        result.reasons.append(
            Reason(WRONG_SEAL, _("The certificate was not sealed with the seal it names."), "issuer.seal")
        )
    if seal is not None:
        result.signature_valid = crypto.signature_verify(
            public_key=seal.public_key, message=text.encode(), signature=signature
        )
    if certificate is not None:
        try:
            issued = json.loads(certificate.payload)
        except ValueError:
            issued = {}
        differing = documents.paths_differing(
            documents.payload_values(issued), documents.payload_values(payload)
        )
        result.reasons += _tampered_reasons(differing)
        if not differing and seal is not None and not result.signature_valid:
            result.reasons.append(
                Reason(TAMPERED, _("The signature does not match the content."), "signature")
            )
    elif seal is not None and not result.signature_valid:
        result.reasons.append(Reason(TAMPERED, _("The signature does not match the content."), "signature"))
    if certificate is None:
        result.reasons.append(
            Reason(
                UNKNOWN,
                _("No certificate %(number)s was issued on this platform.") % {"number": payload["number"]},
                "number",
            )
        )
    else:
        result.reasons += _status_reasons(certificate, on)
    return result
