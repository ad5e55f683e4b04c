"""What the certs engine does: create (and rotate) a department's e-seal, define certificate
types, issue a signed certificate and revoke one. Each function checks its input first and
writes in one transaction with its audit entry.

Applications (services, …) call `certificate_issue` when a matter ends with a licence or a
certificate; they never sign anything themselves."""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.certs import crypto, documents
from yiwang.certs.models import (
    Certificate,
    CertificateStatus,
    CertificateType,
    HolderKind,
    NumberSequence,
    Seal,
)
from yiwang.core.audit import audit_record
from yiwang.core.db import counter_next, unit_of_work
from yiwang.core.errors import Conflict, ErrorCollector, FieldErrors, NotFound
from yiwang.core.ids import IdentifierError, resident_id_parse, uscc_validate
from yiwang.core.masking import mask_id_number
from yiwang.core.models import Department
from yiwang.registry.models import Enterprise, Person

SCALAR_TYPES = (str, int, bool, type(None))
# The words under the star of every seal: part of the signed artefact, so never translated.
DEFAULT_CAPTION = "电子证照专用章"
FIELD_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor[:128]
    if getattr(actor, "is_authenticated", False):
        return actor.get_username()[:128]
    return "anonymous"


# --- seals --------------------------------------------------------------------------------------


def seal_create(*, department: Department, actor: Any, text: str = "", caption: str = "") -> Seal:
    """A new SM2 key pair for `department`, its private key encrypted at rest, and the text of
    its visible seal (the department's name unless given). The department's current seal, if
    any, is superseded: it signs nothing more, and what it signed stays verifiable."""
    text = (text or department.name).strip()
    caption = (caption or DEFAULT_CAPTION).strip()
    errors = ErrorCollector()
    if not 2 <= len(text) <= 64:
        errors.add("text", _("The seal text must be 2 to 64 characters long."))
    if len(caption) > 32:
        errors.add("caption", _("The seal caption must be at most 32 characters long."))
    errors.raise_if_any()
    private_key, public_key = crypto.key_pair_generate()
    now = timezone.now()
    with transaction.atomic():
        previous = list(
            Seal.objects.select_for_update().filter(department=department, superseded_at__isnull=True)
        )
        Seal.objects.filter(pk__in=[seal.pk for seal in previous]).update(superseded_at=now)
        try:
            with transaction.atomic():
                seal = Seal.objects.create(
                    department=department,
                    key_id=crypto.key_fingerprint(public_key),
                    public_key=public_key,
                    private_key_encrypted=crypto.private_key_encrypt(private_key),
                    text=text,
                    caption=caption,
                    created_at=now,
                    created_by=actor_label(actor),
                )
        except IntegrityError:
            raise Conflict(_("Another seal was created for this department at the same time.")) from None
        audit_record(
            actor=actor,
            action="certs.seal_create",
            target=seal,
            after={
                "department": department.code,
                "key_id": seal.key_id,
                "superseded": [old.key_id for old in previous],
            },
        )
    return seal


def seal_active(*, department: Department) -> Seal | None:
    return Seal.objects.filter(department=department, superseded_at__isnull=True).first()


# --- certificate types ---------------------------------------------------------------------------


def _fields_definition_check(definition: Any, errors: ErrorCollector) -> list[dict]:
    if not isinstance(definition, list) or not definition:
        errors.add("fields", _("List at least one field."))
        return []
    cleaned: list[dict] = []
    seen: set[str] = set()
    for index, item in enumerate(definition):
        if not isinstance(item, dict):
            errors.add(("fields", index), _("Each field is an object with a key and a label."))
            continue
        key = str(item.get("key", ""))
        if not key or not set(key) <= FIELD_KEY_CHARS or not key[0].isalpha():
            errors.add(("fields", index, "key"), _("A field key is lower-case letters, digits and _."))
        elif key in seen:
            errors.add(("fields", index, "key"), _("The key %(key)s is used twice.") % {"key": key})
        seen.add(key)
        if not str(item.get("label", "")).strip():
            errors.add(("fields", index, "label"), _("Give the field a label."))
        cleaned.append(
            {
                "key": key,
                "label": str(item.get("label", "")).strip(),
                "label_en": str(item.get("label_en", "")).strip(),
                "required": bool(item.get("required", True)),
                "public": bool(item.get("public", False)),
            }
        )
    return cleaned


def certificate_type_save(
    *,
    code: str,
    name: str,
    department: Department,
    holder_kind: str,
    fields: list[dict],
    actor: Any,
    name_en: str = "",
    validity_days: int | None = None,
    one_per_holder: bool = True,
    legal_basis: str = "",
) -> CertificateType:
    """Create a certificate type, or update the one with this code. Each field is
    {"key", "label", "label_en", "required" (default true), "public" (shown on the public
    verification page; default false)}."""
    errors = ErrorCollector()
    code = (code or "").strip().upper()
    if not code or len(code) > 32 or not code.replace("_", "").isalnum() or not code.isascii():
        errors.add("code", _("The code is 1 to 32 letters, digits or _."))
    if not (name or "").strip():
        errors.add("name", _("Give the certificate type a name."))
    if holder_kind not in HolderKind.values:
        errors.add("holder_kind", _("The holder is a person or an enterprise."))
    if validity_days is not None and validity_days <= 0:
        errors.add("validity_days", _("The validity is a positive number of days, or empty."))
    cleaned = _fields_definition_check(fields, errors)
    errors.raise_if_any()
    with transaction.atomic():
        certificate_type, created = CertificateType.objects.update_or_create(
            code=code,
            defaults={
                "name": name.strip(),
                "name_en": name_en,
                "department": department,
                "holder_kind": holder_kind,
                "fields": cleaned,
                "validity_days": validity_days,
                "one_per_holder": one_per_holder,
                "legal_basis": legal_basis,
                "is_active": True,
            },
        )
        audit_record(
            actor=actor,
            action="certs.certificate_type_create" if created else "certs.certificate_type_update",
            target=certificate_type,
            after={"code": code, "department": department.code, "fields": [f["key"] for f in cleaned]},
        )
    return certificate_type


# --- issue and revoke -----------------------------------------------------------------------------


def _holder_check(kind: str, holder: str, holder_name: str, errors: ErrorCollector) -> tuple[str, str]:
    """The holder's identifier compacted and their name (from the registry unless given)."""
    holder = (holder or "").strip().upper()
    try:
        holder = resident_id_parse(holder).number if kind == HolderKind.PERSON else uscc_validate(holder)
    except IdentifierError as error:
        errors.add("holder", error.message)
        return holder, holder_name
    if not holder_name:
        if kind == HolderKind.PERSON:
            holder_name = Person.objects.filter(id_number=holder).values_list("name", flat=True).first() or ""
        else:
            holder_name = Enterprise.objects.filter(uscc=holder).values_list("name", flat=True).first() or ""
        if not holder_name:
            errors.add("holder_name", _("The holder is not in the registry: give the holder's name."))
    return holder, holder_name.strip()


def _fields_check(certificate_type: CertificateType, fields: Any, errors: ErrorCollector) -> dict:
    if not isinstance(fields, dict):
        errors.add("fields", _("The fields are an object of field keys and values."))
        return {}
    known = {item["key"]: item for item in certificate_type.fields}
    cleaned: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in known:
            errors.add(
                ("fields", str(key)),
                _("%(type)s has no field %(key)s.") % {"type": certificate_type.name, "key": key},
            )
        elif not isinstance(value, SCALAR_TYPES) or isinstance(value, float):
            errors.add(("fields", key), _("A field value is text, a whole number, true/false or empty."))
        else:
            cleaned[key] = value.strip() if isinstance(value, str) else value
    for key, item in known.items():
        if item.get("required", True) and cleaned.get(key) in (None, ""):
            errors.add(("fields", key), _("%(label)s is required.") % {"label": item["label"]})
    return cleaned


def _number_next(certificate_type: CertificateType, year: int) -> str:
    """The next number of this type in this year: CODE-YYYY-NNNNNN. The UPDATE takes the row's
    write lock before the value is read back, so two issues never get the same number."""
    last = counter_next(NumberSequence, {"certificate_type_id": certificate_type.pk, "year": year})
    return f"{certificate_type.code}-{year}-{last:06d}"


def certificate_issue(
    *,
    type_code: str,
    holder: str,
    fields: dict[str, Any],
    actor: Any,
    department: Department | None = None,
    source: str = "",
    holder_name: str = "",
    valid_from: datetime.date | None = None,
    valid_to: datetime.date | None = None,
    certificate_type: CertificateType | None = None,
) -> Certificate:
    """Issue a certificate of type `type_code` to `holder` (ID number or USCC), signed with the
    issuing department's active seal. `department` is the type's department (default) or one of
    its branches; `source` says what the certificate came from (e.g. "services:application:42").
    `valid_to` defaults to the type's validity. A valid certificate of the same type held by the
    same holder is superseded when the type allows one per holder. Raises FieldErrors naming
    each bad argument; nothing is written unless everything is. `certificate_type`: the type
    (with its department), when the caller has just read it."""
    errors = ErrorCollector()
    if certificate_type is None or certificate_type.code != type_code:
        certificate_type = CertificateType.objects.select_related("department").filter(code=type_code).first()
    if certificate_type is None or not certificate_type.is_active:
        raise FieldErrors.single(
            "type_code", _("There is no certificate type %(code)s.") % {"code": type_code}
        )
    department = department or certificate_type.department
    if (
        department.pk != certificate_type.department_id
        and department.parent_id != certificate_type.department_id
    ):
        errors.add(
            "department",
            _("%(department)s does not issue %(type)s.")
            % {"department": department.name, "type": certificate_type.name},
        )
    holder, holder_name = _holder_check(certificate_type.holder_kind, holder, holder_name, errors)
    if len(holder_name) > 128:
        errors.add("holder_name", _("The holder's name is at most 128 characters long."))
    cleaned = _fields_check(certificate_type, fields, errors)
    if len(source) > 128:
        errors.add("source", _("The source is at most 128 characters long."))
    seal = seal_active(department=department)
    if seal is None:
        errors.add("department", _("%(department)s has no e-seal yet.") % {"department": department.name})
    now = timezone.now().replace(microsecond=0)
    valid_from = valid_from or timezone.localdate(now)
    if valid_to is None and certificate_type.validity_days:
        valid_to = valid_from + datetime.timedelta(days=certificate_type.validity_days - 1)
    if valid_to is not None and valid_to < valid_from:
        errors.add("valid_to", _("The end of validity is before its start."))
    errors.raise_if_any()
    assert seal is not None
    private_key = crypto.private_key_decrypt(seal.private_key_encrypted)
    # Checked above, only writes below: part of the caller's transaction, without a savepoint.
    with unit_of_work(connection):
        number = _number_next(certificate_type, now.astimezone(timezone.get_current_timezone()).year)
        payload = documents.canonical(
            documents.payload_build(
                number=number,
                type_code=certificate_type.code,
                type_name=certificate_type.name,
                holder_kind=certificate_type.holder_kind,
                holder=holder,
                holder_name=holder_name,
                fields=cleaned,
                department_code=department.code,
                department_name=department.name,
                seal_key_id=seal.key_id,
                issued_at=now,
                valid_from=valid_from,
                valid_to=valid_to,
            )
        )
        message = payload.encode()
        certificate = Certificate.objects.create(
            number=number,
            certificate_type=certificate_type,
            holder_kind=certificate_type.holder_kind,
            holder=holder,
            holder_name=holder_name,
            fields=cleaned,
            department=department,
            seal=seal,
            issued_at=now,
            valid_from=valid_from,
            valid_to=valid_to,
            payload=payload,
            digest=crypto.sm3_hex(message),
            signature=crypto.signature_create(
                private_key=private_key, public_key=seal.public_key, message=message
            ),
            token=secrets.token_urlsafe(12),
            source=source,
            issued_by=actor_label(actor),
        )
        superseded: list[str] = []
        if certificate_type.one_per_holder:
            older = Certificate.objects.filter(
                certificate_type=certificate_type, holder=holder, status=CertificateStatus.VALID
            ).exclude(pk=certificate.pk)
            superseded = list(older.values_list("number", flat=True))
            older.update(status=CertificateStatus.SUPERSEDED, superseded_by=certificate)
        audit_record(
            actor=actor,
            action="certs.certificate_issue",
            target=certificate,
            after={
                "number": number,
                "type": certificate_type.code,
                "holder": mask_id_number(holder)
                if certificate_type.holder_kind == HolderKind.PERSON
                else holder,
                "department": department.code,
                "seal": seal.key_id,
                "digest": certificate.digest,
                "source": source,
                "superseded": superseded,
            },
        )
    return certificate


def certificate_revoke(*, certificate: Certificate, reason: str, actor: Any) -> Certificate:
    """Revoke a valid certificate, with the reason anyone verifying it will read."""
    reason = (reason or "").strip()
    if not reason:
        raise FieldErrors.single("reason", _("Say why the certificate is revoked."))
    if len(reason) > 255:
        raise FieldErrors.single("reason", _("The reason is at most 255 characters long."))
    now = timezone.now()
    with transaction.atomic():
        changed = Certificate.objects.filter(pk=certificate.pk, status=CertificateStatus.VALID).update(
            status=CertificateStatus.REVOKED,
            revoked_at=now,
            revoked_reason=reason,
            revoked_by=actor_label(actor),
        )
        if not changed:
            current = Certificate.objects.filter(pk=certificate.pk).values_list("status", flat=True).first()
            if current is None:
                raise NotFound(_("No such certificate."))
            raise Conflict(
                _("Certificate %(number)s is %(status)s: only a valid certificate can be revoked.")
                % {"number": certificate.number, "status": CertificateStatus(current).label}
            )
        audit_record(
            actor=actor,
            action="certs.certificate_revoke",
            target=certificate,
            before={"status": CertificateStatus.VALID},
            after={"status": CertificateStatus.REVOKED, "reason": reason},
        )
    certificate.refresh_from_db()
    return certificate


def certificate_read_record(*, certificate: Certificate, viewer: Any, purpose: str) -> None:
    """Record that someone other than the holder read a certificate whole (holder and fields
    unmasked): the issuing department's staff on the certificate page or through the API."""
    with transaction.atomic():
        audit_record(
            actor=viewer,
            action="personal_data.read_unmasked",
            target=certificate,
            after={"fields": ["holder", "fields"], "objects": [certificate.number]},
            purpose=purpose,
        )
