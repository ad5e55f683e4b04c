"""Pages of the certs engine (mounted at /certs/): the public verification page a QR code leads
to and the public check of an uploaded certificate; the holder's "my certificates" and the
certificate page to show or print; the issuing department's list with revocation; the seals
and their public keys. Thin: selectors read, services write."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.certs import documents, selectors, services
from yiwang.certs.drawing import qr_svg, seal_svg
from yiwang.certs.models import Certificate, CertificateStatus
from yiwang.core.access import user_roles
from yiwang.core.errors import DomainError, FieldErrors, NotFound
from yiwang.core.models import Role

LIST_LIMIT = 200
MAX_UPLOAD_BYTES = 256 * 1024
PURPOSE_STAFF_READ = "certs: the issuing department reads a certificate"
STAFF_ROLES = frozenset({Role.DEPARTMENT_HANDLER, Role.WINDOW_CLERK, Role.ADMIN})


def verify_url(request, certificate: Certificate) -> str:
    return request.build_absolute_uri(
        reverse("certs:verify", kwargs={"number": certificate.number, "token": certificate.token})
    )


def _outcome_text(outcome: str) -> str:
    return {
        selectors.VALID: _("Genuine and valid"),
        selectors.TAMPERED: _("Altered: this is not the certificate as issued"),
        selectors.WRONG_SEAL: _("Not sealed by the issuing department"),
        selectors.UNKNOWN: _("Not issued on this platform"),
        selectors.REVOKED: _("Revoked"),
        selectors.SUPERSEDED: _("Replaced by a newer certificate"),
        selectors.EXPIRED: _("Expired"),
        selectors.NOT_YET_VALID: _("Not yet valid"),
    }[outcome]


def index(request):
    """Holders go to their certificates, the issuing departments to theirs; anyone else to the
    check of an uploaded certificate."""
    roles = user_roles(request.user)
    if roles & STAFF_ROLES:
        return redirect("certs:issued")
    if roles & {Role.CITIZEN, Role.ENTERPRISE_AGENT}:
        return redirect("certs:mine")
    return redirect("certs:check")


# --- anyone ---------------------------------------------------------------------------------------


def verify(request, number: str, token: str):
    """The page a certificate's QR code opens: genuine or not, revoked or not, who issued it,
    with the holder masked. No login."""
    try:
        certificate = selectors.certificate_by_token(number=number, token=token)
    except NotFound:
        raise Http404 from None
    verification = selectors.certificate_verify(certificate=certificate)
    context = {
        "certificate": certificate,
        "verification": verification,
        "outcome_text": _outcome_text(verification.outcome),
        "holder": selectors.holder_public(certificate),
        "fields": selectors.fields_labelled(certificate, public_only=True),
        "seal_svg": seal_svg(certificate.seal, size=120),
    }
    return render(request, "certs/verify.html", context)


def check(request):
    """Check a certificate's signed JSON (uploaded as a file or pasted): says why it fails."""
    verification = None
    error = ""
    text = ""
    if request.method == "POST":
        upload = request.FILES.get("document")
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                error = _("The file is larger than 256 KB: a certificate's JSON is much smaller.")
            else:
                text = upload.read().decode("utf-8", errors="replace")
        else:
            text = request.POST.get("text", "")
        if not error:
            try:
                verification = selectors.document_verify(document=json.loads(text))
            except ValueError:
                error = _("This is not JSON: upload the certificate's .json file as downloaded.")
            except FieldErrors as errors:
                error = "；".join(message for _path, message in errors.errors)
    context = {"verification": verification, "error": error, "text": text[:4000]}
    if verification is not None:
        context["outcome_text"] = _outcome_text(verification.outcome)
        if verification.certificate is not None:
            context["holder"] = selectors.holder_public(verification.certificate)
    return render(request, "certs/check.html", context, status=422 if error else 200)


def seals(request):
    """Every department's seals with their public keys, for verifying offline; administrators
    rotate a department's seal here."""
    rows = [{"seal": seal, "svg": seal_svg(seal, size=72)} for seal in selectors.seals_list()]
    may_rotate = Role.ADMIN in user_roles(request.user)
    return render(request, "certs/seals.html", {"rows": rows, "may_rotate": may_rotate})


@login_required
@require_POST
def seal_rotate(request, key_id: str):
    """A new key pair for the department of this (active) seal; the old one is superseded and
    still verifies what it signed."""
    if Role.ADMIN not in user_roles(request.user):
        raise PermissionDenied
    seal = selectors.seals_list().filter(key_id=key_id, superseded_at__isnull=True).first()
    if seal is None:
        raise Http404
    new = services.seal_create(
        department=seal.department, actor=request.user, text=seal.text, caption=seal.caption
    )
    messages.success(
        request,
        _("%(department)s has a new seal %(new)s; %(old)s is superseded.")
        % {"department": seal.department.name, "new": new.key_id, "old": seal.key_id},
    )
    return redirect("certs:seals")


# --- holders ---------------------------------------------------------------------------------------


@login_required
def mine(request):
    certificates = list(selectors.certificates_of_user(user=request.user)[:LIST_LIMIT])
    return render(request, "certs/mine.html", {"certificates": certificates})


def _certificate_for(request, number: str) -> Certificate:
    try:
        certificate = selectors.access_certificate(user=request.user, number=number)
    except NotFound:
        raise Http404 from None
    if certificate.holder not in selectors.holders_of_user(request.user):
        # Staff of the issuing department read the certificate whole: recorded.
        services.certificate_read_record(
            certificate=certificate, viewer=request.user, purpose=PURPOSE_STAFF_READ
        )
    return certificate


@login_required
def certificate(request, number: str):
    """The certificate to show or print: its fields, the red seal and the QR code."""
    certificate = _certificate_for(request, number)
    url = verify_url(request, certificate)
    verification = selectors.certificate_verify(certificate=certificate)
    context = {
        "certificate": certificate,
        "fields": selectors.fields_labelled(certificate),
        "seal_svg": seal_svg(certificate.seal),
        "qr_svg": qr_svg(url),
        "verify_url": url,
        "verification": verification,
        "outcome_text": _outcome_text(verification.outcome),
        "may_revoke": certificate.status == CertificateStatus.VALID
        and selectors.access_certificate_revoke(user=request.user, certificate=certificate),
    }
    return render(request, "certs/certificate.html", context)


@login_required
def download(request, number: str):
    """The signed certificate as JSON: anyone can check it with the seal's public key."""
    certificate = _certificate_for(request, number)
    response = JsonResponse(
        documents.document_of(certificate), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="{certificate.number}.json"'
    return response


# --- issuing departments -----------------------------------------------------------------------------


@login_required
def issued(request):
    if not user_roles(request.user) & STAFF_ROLES:
        raise PermissionDenied
    queryset = selectors.certificates_of_department(user=request.user)
    query = request.GET.get("q", "").strip()
    if query:
        queryset = queryset.filter(number__icontains=query) | queryset.filter(holder=query.upper())
    return render(request, "certs/issued.html", {"certificates": list(queryset[:LIST_LIMIT]), "query": query})


@login_required
@require_POST
def revoke(request, number: str):
    certificate = _certificate_for(request, number)
    if not selectors.access_certificate_revoke(user=request.user, certificate=certificate):
        raise PermissionDenied
    try:
        services.certificate_revoke(
            certificate=certificate, reason=request.POST.get("reason", ""), actor=request.user
        )
    except DomainError as error:
        messages.error(
            request,
            "；".join(m for _p, m in error.errors) if isinstance(error, FieldErrors) else error.message,
        )
    else:
        messages.success(request, _("Certificate %(number)s is revoked.") % {"number": certificate.number})
    return redirect("certs:certificate", number=certificate.number)
