"""The certs JSON API (mounted at /api/certs).

Public (no login): POST /verify checks a certificate's signed JSON and answers why it fails;
GET /verify/{number}/{token} is the QR code's check; GET /seals lists every seal's public key
for offline verification; GET /types the certificate types. With a login or token: the
caller's certificates (/certificates), one certificate's signed document, issue (staff of the
issuing department) and revoke. Errors in the platform's one shape (yiwang.api)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yiwang.certs import documents, selectors, services
from yiwang.certs.models import Certificate
from yiwang.core.access import user_roles
from yiwang.core.errors import FieldErrors, NotFound
from yiwang.core.models import Department, Role

router = Router(tags=["certs"])

MAX_PAGE_SIZE = 200
READ_PURPOSE = "certs: the issuing department reads a certificate (API)"


# --- shapes -----------------------------------------------------------------------------------------


class DocumentIn(Schema):
    """A certificate as downloaded: `payload` as the exact signed JSON text (or as an object,
    re-serialised canonically) and `signature` (r||s in hex)."""

    payload: dict[str, Any] | str | None = None
    signature: str = ""


class ReasonOut(Schema):
    code: str
    message: str
    path: str


class CertificateSummaryOut(Schema):
    number: str
    type_code: str
    type_name: str
    holder_name: str
    holder: str
    department: str
    department_name: str
    status: str
    issued_at: datetime.datetime
    valid_to: datetime.date | None


class VerificationOut(Schema):
    outcome: str  # valid, tampered, wrong_seal, unknown, revoked, superseded, expired, not_yet_valid
    valid: bool
    signature_valid: bool
    reasons: list[ReasonOut]
    seal: str | None
    certificate: CertificateSummaryOut | None


class CertificateOut(CertificateSummaryOut):
    fields: dict[str, Any]
    source: str
    verify_url: str
    document: dict[str, Any]


class SealOut(Schema):
    key_id: str
    department: str
    department_name: str
    public_key: str
    created_at: datetime.datetime
    superseded_at: datetime.datetime | None


class FieldOut(Schema):
    key: str
    label: str
    label_en: str
    required: bool
    public: bool


class TypeOut(Schema):
    code: str
    name: str
    department: str
    holder_kind: str
    validity_days: int | None
    fields: list[FieldOut]


class IssueIn(Schema):
    type_code: str
    holder: str
    fields: dict[str, Any]
    holder_name: str = ""
    department: str = ""  # a branch's code; the type's department when empty
    source: str = ""


class RevokeIn(Schema):
    reason: str


# --- helpers ----------------------------------------------------------------------------------------


def _summary(certificate: Certificate, *, public: bool) -> dict[str, Any]:
    holder = (
        selectors.holder_public(certificate)
        if public
        else {"name": certificate.holder_name, "id": certificate.holder}
    )
    return {
        "number": certificate.number,
        "type_code": certificate.certificate_type.code,
        "type_name": certificate.certificate_type.name,
        "holder_name": holder["name"],
        "holder": holder["id"],
        "department": certificate.department.code,
        "department_name": certificate.department.name,
        "status": certificate.status,
        "issued_at": certificate.issued_at,
        "valid_to": certificate.valid_to,
    }


def _verification(result: selectors.Verification) -> dict[str, Any]:
    return {
        "outcome": result.outcome,
        "valid": result.ok,
        "signature_valid": result.signature_valid,
        "reasons": [{"code": r.code, "message": r.message, "path": r.path} for r in result.reasons],
        "seal": result.seal.key_id if result.seal else None,
        "certificate": _summary(result.certificate, public=True) if result.certificate else None,
    }


def _detail(request, certificate: Certificate) -> dict[str, Any]:
    from yiwang.certs.views import verify_url

    return {
        **_summary(certificate, public=False),
        "fields": certificate.fields,
        "source": certificate.source,
        "verify_url": verify_url(request, certificate),
        "document": documents.document_of(certificate),
    }


# --- anyone -------------------------------------------------------------------------------------------


@router.post("/verify", response=VerificationOut, auth=None)
def verify_document(request, payload: DocumentIn):
    """Check a certificate's signed JSON: `outcome` is valid, or the first of wrong_seal,
    tampered, unknown, revoked, superseded, expired; `reasons` names each problem (a tampered
    field by its path, e.g. fields.hospital)."""
    document = {"payload": payload.payload, "signature": payload.signature}
    try:
        return _verification(selectors.document_verify(document=document))
    except FieldErrors as errors:
        # The body parameter is itself called "payload" (yiwang.api drops that first step).
        raise FieldErrors([(("payload", *path), message) for path, message in errors.errors]) from None


@router.get("/verify/{number}/{token}", response=VerificationOut, auth=None)
def verify_stored(request, number: str, token: str):
    """The check behind a certificate's QR code (the holder masked)."""
    certificate = selectors.certificate_by_token(number=number, token=token)
    return _verification(selectors.certificate_verify(certificate=certificate))


@router.get("/seals", response=list[SealOut], auth=None)
def seals(request):
    """Every seal's SM2 public key (x||y hex), the superseded ones too."""
    return [
        {
            "key_id": seal.key_id,
            "department": seal.department.code,
            "department_name": seal.department.name,
            "public_key": seal.public_key,
            "created_at": seal.created_at,
            "superseded_at": seal.superseded_at,
        }
        for seal in selectors.seals_list()
    ]


@router.get("/types", response=list[TypeOut], auth=None)
def types(request):
    return [
        {
            "code": item.code,
            "name": item.name,
            "department": item.department.code,
            "holder_kind": item.holder_kind,
            "validity_days": item.validity_days,
            "fields": item.fields,
        }
        for item in selectors.certificate_types_list()
    ]


# --- holders and issuing departments --------------------------------------------------------------------


@router.get("/certificates", response=list[CertificateSummaryOut])
def my_certificates(request, limit: int = 50):
    """The caller's certificates (own, and of the enterprises they act for), latest first."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    return [_summary(c, public=False) for c in selectors.certificates_of_user(user=request.auth)[:limit]]


@router.get("/certificates/{number}", response=CertificateOut)
def certificate_detail(request, number: str):
    """One certificate with its signed document, for its holder or the issuing department."""
    certificate = selectors.access_certificate(user=request.auth, number=number)
    if certificate.holder not in selectors.holders_of_user(request.auth):
        services.certificate_read_record(certificate=certificate, viewer=request.auth, purpose=READ_PURPOSE)
    return _detail(request, certificate)


@router.post("/certificates", response={201: CertificateOut})
def certificate_issue(request, payload: IssueIn):
    """Issue a certificate (department handlers of the issuing department, administrators)."""
    user = request.auth
    department = None
    if payload.department:
        department = Department.objects.filter(code=payload.department).first()
        if department is None:
            raise FieldErrors.single(
                "department", _("There is no department %(code)s.") % {"code": payload.department}
            )
    type_department = (
        selectors.certificate_types_list()
        .filter(code=payload.type_code)
        .values_list("department_id", flat=True)
        .first()
    )
    roles = user_roles(user)
    own = set(user.roles.filter(role=Role.DEPARTMENT_HANDLER).values_list("department_id", flat=True))
    target = department.pk if department else type_department
    if Role.ADMIN not in roles and not (target in own or type_department in own):
        raise NotFound(_("No such certificate type."))
    certificate = services.certificate_issue(
        type_code=payload.type_code,
        holder=payload.holder,
        fields=payload.fields,
        holder_name=payload.holder_name,
        department=department,
        source=payload.source,
        actor=user,
    )
    return Status(201, _detail(request, certificate))


@router.post("/certificates/{number}/revoke", response=CertificateOut)
def certificate_revoke(request, number: str, payload: RevokeIn):
    certificate = selectors.access_certificate(user=request.auth, number=number)
    if not selectors.access_certificate_revoke(user=request.auth, certificate=certificate):
        raise NotFound(_("No such certificate."))
    return _detail(
        request,
        services.certificate_revoke(certificate=certificate, reason=payload.reason, actor=request.auth),
    )
