"""The certs engine in the admin: read only. Seals are made by `seal_create` (certs_seed),
types by `certificate_type_save`, certificates by `certificate_issue` / `certificate_revoke`:
each checks its input, signs and audits, which an admin form would not."""

from __future__ import annotations

from django.contrib import admin

from yiwang.cases.admin import ReadOnlyAdmin
from yiwang.certs.models import Certificate, CertificateType, Seal


@admin.register(Seal)
class SealAdmin(ReadOnlyAdmin):
    list_display = ("key_id", "department", "text", "created_at", "superseded_at")
    list_filter = ("department",)
    exclude = ("private_key_encrypted",)


@admin.register(CertificateType)
class CertificateTypeAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "department", "holder_kind", "validity_days", "is_active")
    search_fields = ("code", "name")


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ("number", "certificate_type", "department", "issued_at", "status")
    list_filter = ("status", "certificate_type")
    search_fields = ("number",)
    exclude = (
        "holder",
        "holder_name",
        "fields",
        "payload",
    )  # personal data: on the certificate page, audited
