"""The verbs of one-network services: write the catalog, fill a form from shared data, submit an
application (a case of the matter's department), withdraw it, rate it. Each one transaction and
one audit entry."""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.services import case_open, case_transition_system
from yiwang.cases.types import Limit
from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, ErrorCollector, FieldErrors, Forbidden, NotFound
from yiwang.core.masking import mask_id_number
from yiwang.services import cases as states
from yiwang.services.forms_data import FieldSpec, MaterialSpec, applicant_kind_guess, default_form
from yiwang.services.models import (
    ApplicantKind,
    Application,
    ApplicationMaterial,
    FieldKind,
    FormField,
    Material,
    Matter,
    Rating,
)
from yiwang.services.search import keyword_list, pinyin_of, search_index_clear

# --------------------------------------------------------------------------- the catalog


def matter_search_columns(name: str, keywords: str) -> dict[str, str]:
    """The pinyin columns stored with a matter so that search needs no conversion."""
    full, initials = pinyin_of(name)
    keyword_initials = " ".join(pinyin_of(word)[1] for word in keyword_list(keywords))
    return {
        "name_pinyin": full[:600],
        "name_initials": initials[:200],
        "keywords_initials": keyword_initials[:255],
    }


def _form_rows(matter: Matter, fields: tuple[FieldSpec, ...]) -> list[FormField]:
    return [
        FormField(matter=matter, position=position, **spec._asdict()) for position, spec in enumerate(fields)
    ]


def _material_rows(matter: Matter, materials: tuple[MaterialSpec, ...] | list[dict]) -> list[Material]:
    rows = []
    for position, spec in enumerate(materials):
        values = spec._asdict() if isinstance(spec, MaterialSpec) else dict(spec)
        values["position"] = values.get("position", position)
        rows.append(Material(matter=matter, **values))
    return rows


def matters_write(
    *,
    rows: list[dict[str, Any]],
    forms: dict[str, tuple[tuple[FieldSpec, ...], tuple[MaterialSpec, ...]]] | None = None,
) -> tuple[int, int, int]:
    """Create or update matters by code (inside the caller's transaction). Each row: "fields"
    (Matter columns), "materials" (list of dicts), "has_materials" (replace the materials only
    if the source gives them) and "digest" (unchanged rows are skipped). A new matter without
    a form gets the standard form of its applicant kind (forms_data), or `forms[code]`.
    Returns (created, updated, unchanged)."""
    forms = forms or {}
    codes = [row["fields"]["code"] for row in rows]
    existing: dict[str, tuple[int, str]] = {}
    for start in range(0, len(codes), 500):
        for pk, code, digest in Matter.objects.filter(code__in=codes[start : start + 500]).values_list(
            "pk", "code", "digest"
        ):
            existing[code] = (pk, digest)
    created = updated = unchanged = 0
    new: list[Matter] = []
    new_rows: list[dict[str, Any]] = []
    changed: list[tuple[Matter, dict[str, Any]]] = []
    for row in rows:
        values = dict(row["fields"])
        if not values.get("applicant_kind"):
            values["applicant_kind"] = applicant_kind_guess(values["name"])
        values.update(matter_search_columns(values["name"], values.get("keywords", "")))
        values["digest"] = row["digest"]
        found = existing.get(values["code"])
        if found is None:
            new.append(Matter(**values))
            new_rows.append(row)
        elif found[1] == row["digest"]:
            unchanged += 1
        else:
            matter = Matter(pk=found[0], **values)
            changed.append((matter, row))
    if new:
        Matter.objects.bulk_create(new, batch_size=500)
        # Primary keys of the new rows (SQLite and PostgreSQL both return them, but look them up
        # by code to be safe on any backend).
        ids = dict(Matter.objects.filter(code__in=[m.code for m in new]).values_list("code", "pk"))
        fields_out: list[FormField] = []
        materials_out: list[Material] = []
        for matter, row in zip(new, new_rows, strict=True):
            matter.pk = ids[matter.code]
            form_fields, form_materials = forms.get(matter.code) or default_form(matter.applicant_kind)
            fields_out += _form_rows(matter, form_fields)
            if row.get("has_materials") or row.get("materials"):
                materials_out += _material_rows(matter, row["materials"])
            else:
                materials_out += _material_rows(matter, form_materials)
        FormField.objects.bulk_create(fields_out, batch_size=1000)
        Material.objects.bulk_create(materials_out, batch_size=1000)
        created = len(new)
    for matter, row in changed:
        columns = [name for name in row["fields"] if name != "code"] + [
            "applicant_kind",
            "name_pinyin",
            "name_initials",
            "keywords_initials",
            "digest",
            "updated_at",
        ]
        matter.updated_at = timezone.now()
        matter.save(update_fields=sorted(set(columns)))
        if row.get("has_materials"):
            Material.objects.filter(matter=matter).delete()
            Material.objects.bulk_create(_material_rows(matter, row["materials"]))
        if matter.code in forms:
            FormField.objects.filter(matter=matter).delete()
            FormField.objects.bulk_create(_form_rows(matter, forms[matter.code][0]))
        updated += 1
    if created or updated:
        transaction.on_commit(search_index_clear)
    return created, updated, unchanged


# --------------------------------------------------------------------------- applicants


@dataclass(frozen=True)
class Applicant:
    """Who applies: a citizen (their person record) or an enterprise agent (the enterprise)."""

    kind: str  # ApplicantKind.PERSON / ENTERPRISE
    subject_key: str  # ID number or USCC
    name: str
    user: Any


def applicant_of(*, user: Any, matter: Matter | None = None) -> Applicant:
    """The applicant a logged-in user is for this matter; Forbidden with the reason otherwise."""
    from yiwang.registry.models import Person
    from yiwang.registry.selectors import enterprises_of_agent

    if user is None or not getattr(user, "is_authenticated", False):
        raise Forbidden(_("Log in to apply."))
    wants = matter.applicant_kind if matter is not None else ApplicantKind.BOTH
    if wants in (ApplicantKind.ENTERPRISE, ApplicantKind.BOTH):
        enterprise = enterprises_of_agent(user=user).order_by("id").first()
        if enterprise is not None:
            return Applicant(ApplicantKind.ENTERPRISE, enterprise.uscc, enterprise.name, user)
    if wants in (ApplicantKind.PERSON, ApplicantKind.BOTH):
        person = Person.objects.filter(user=user).first()
        if person is not None:
            return Applicant(ApplicantKind.PERSON, person.id_number, person.name, user)
    if wants == ApplicantKind.ENTERPRISE:
        raise Forbidden(_("This matter is for enterprises: log in as an agent of an enterprise."))
    raise Forbidden(_("Your login is not linked to a registered person; ask a window clerk to link it."))


# --------------------------------------------------------------------------- auto-fill (智填)

AUTOFILL_PURPOSE = "一网通办：为申请人预填“%s”申请表"


@dataclass
class FilledForm:
    """A matter's form for one applicant: the values the platform filled, by field name, and
    which exchange field filled each."""

    fields: list[FormField]
    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.fields)

    @property
    def filled(self) -> int:
        return len(self.sources)

    @property
    def share(self) -> float:
        return self.filled / self.total if self.total else 0.0


def _display(form_field: FormField, value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if form_field.kind == FieldKind.CHOICE:
        for choice in form_field.choice_list():
            stored, _sep, label = choice.partition("=")
            if text == stored:
                return stored
    return text


def form_autofill(*, matter: Matter, applicant: Applicant, actor: Any) -> FilledForm:
    """Fill every field of the matter's form that the exchange can supply for this applicant,
    reading as the matter's department, with the purpose recorded on each read. A field the
    department may not read (no grant, a closed field) is left for the applicant; nothing is
    refused. Fields read by another field's value (`subject_from`) are filled after it. The
    evidence rows of the reads are appended together, once all are made (EvidenceBatch); if
    the catalog or a grant changed meanwhile, the form is filled again."""
    from yiwang.exchange.evidence import StaleCatalog
    from yiwang.exchange.selectors import READ_ATTEMPTS, EvidenceBatch, exchange_cache_clear

    fields = list(matter.form_fields.all())
    for _attempt in range(READ_ATTEMPTS):
        batch = EvidenceBatch()
        filled = _autofill(matter=matter, fields=fields, applicant=applicant, actor=actor, batch=batch)
        try:
            batch.record()
        except StaleCatalog:
            exchange_cache_clear()
            continue
        return filled
    raise Conflict(_("The catalog is changing; read again."))


def _autofill(
    *, matter: Matter, fields: list[FormField], applicant: Applicant, actor: Any, batch: Any
) -> FilledForm:
    from yiwang.exchange.selectors import exchange_read, resource_readable

    filled = FilledForm(fields=fields)
    consumer = matter.department
    purpose = AUTOFILL_PURPOSE % matter.name
    pending = [f for f in fields if f.has_source]
    for _round in range(3):  # subject_from chains are one or two deep
        groups: dict[tuple[str, str], list[FormField]] = {}
        later = []
        for form_field in pending:
            if form_field.subject_from:
                subject = filled.values.get(form_field.subject_from, "")
                if form_field.subject_from not in filled.values:
                    later.append(form_field)
                    continue
            else:
                subject = applicant.subject_key
            if subject:
                groups.setdefault((form_field.resource_code, subject), []).append(form_field)
        for (resource_code, subject), group in groups.items():
            found = resource_readable(consumer=consumer, code=resource_code)
            if found is None:
                continue
            resource, _classes, readable = found
            if not form_field_fits(resource.subject_type, applicant, group[0]):
                continue
            wanted = sorted({f.resource_field for f in group if f.resource_field in readable})
            if not wanted:
                continue
            try:
                result = exchange_read(
                    consumer=consumer,
                    resource_code=resource_code,
                    purpose=purpose,
                    subject=subject,
                    fields=wanted,
                    actor=actor,
                    page_size=1,
                    batch=batch,
                )
            except (Forbidden, NotFound, FieldErrors):
                continue
            if not result.rows:
                continue
            row = result.rows[0]
            for form_field in group:
                value = row.get(form_field.resource_field)
                if form_field.resource_field in wanted and value not in (None, ""):
                    filled.values[form_field.name] = _display(form_field, value)
                    filled.sources[form_field.name] = f"{resource_code}.{form_field.resource_field}"
        if not later or len(later) == len(pending):
            break
        pending = later
    return filled


def form_field_fits(subject_type: str, applicant: Applicant, form_field: FormField) -> bool:
    """A resource read by the applicant's own key must be about that kind of applicant."""
    if form_field.subject_from:
        return True
    if applicant.kind == ApplicantKind.ENTERPRISE:
        return subject_type == "enterprise"
    return subject_type == "person"


# --------------------------------------------------------------------------- submission

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
}
PHONE = re.compile(r"^[0-9\-+ ]{7,20}$")
MAX_VALUE = 2000


def upload_check(upload: Any) -> tuple[str, str]:
    """(extension, content type) of an acceptable upload; FieldErrors-ready message otherwise.
    The file's first bytes must be those of its type: a renamed executable is refused."""
    name = (getattr(upload, "name", "") or "").lower()
    extension = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if extension not in UPLOAD_TYPES:
        raise ValueError(_("Upload a PDF, JPEG or PNG file."))
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValueError(_("The file is larger than 10 MB."))
    content_type, magics = UPLOAD_TYPES[extension]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in magics):
        raise ValueError(_("The file's content is not a %(kind)s file.") % {"kind": extension[1:].upper()})
    return extension, content_type


def _check_value(form_field: FormField, value: str) -> str | None:
    """None if the value fits the field, else the message."""
    if len(value) > MAX_VALUE:
        return _("At most %(count)s characters.") % {"count": MAX_VALUE}
    if form_field.kind == FieldKind.NUMBER:
        try:
            float(value)
        except ValueError:
            return _("Enter a number.")
    elif form_field.kind == FieldKind.DATE:
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            return _("Enter a date as YYYY-MM-DD.")
    elif form_field.kind == FieldKind.PHONE:
        if not PHONE.match(value):
            return _("Enter a phone number.")
    elif form_field.kind == FieldKind.CHOICE:
        allowed = [choice.partition("=")[0] for choice in form_field.choice_list()]
        if allowed and value not in allowed:
            return _("Choose one of the options.")
    return None


def application_submit(
    *,
    matter: Matter,
    actor: Any,
    values: dict[str, Any],
    uploads: dict[int, Any] | None = None,
    submission_key: str,
    now: datetime.datetime | None = None,
    tolerate: set[int] | None = None,
    pledges: dict[int, str] | None = None,
    bundle: Any = None,
    bundle_step: str = "",
    on_behalf_of: Applicant | None = None,
) -> Application:
    """Submit an application for `matter` as the logged-in applicant. The form is filled again
    from shared data: a pre-filled field that is not editable keeps the value the platform read,
    whatever was sent. Materials the platform fetches are recorded, never asked for; each
    required upload is checked (type by content, size). Opens a case of the matter's department
    with the matter's time limit in working days. The same `submission_key` twice (a double
    click, a resent form) returns the first application."""
    # 一窗受理: a window clerk (actor) submits for `on_behalf_of` (services/window.py): the
    # application is the applicant's login's, the clerk is recorded and accepts it at once.
    if not matter.is_active or (not matter.online and on_behalf_of is None):
        raise NotFound(_("This matter cannot be applied for online."))
    if on_behalf_of is not None:
        from yiwang.services.window import window_accept, window_applicant_check

        owner = window_applicant_check(actor=actor, applicant=on_behalf_of, matter=matter)
        applicant = on_behalf_of
    else:
        applicant = applicant_of(user=actor, matter=matter)
        owner = actor
    key = (submission_key or "").strip()[:64]
    if not key:
        raise FieldErrors.single("submission_key", _("The form has no submission key; reload it."))
    existing = Application.objects.filter(applicant=owner, submission_key=key).select_related("case").first()
    if existing is not None:
        return existing
    uploads = uploads or {}
    filled = form_autofill(matter=matter, applicant=applicant, actor=actor)
    errors = ErrorCollector()
    clean: dict[str, str] = {}
    for form_field in filled.fields:
        sent = values.get(form_field.name)
        value = "" if sent is None else str(sent).strip()
        if form_field.name in filled.values and (not form_field.editable or not value):
            value = filled.values[form_field.name]
        if not value:
            if form_field.required:
                errors.add(
                    ("values", form_field.name), _("%(label)s is required.") % {"label": form_field.label}
                )
            continue
        problem = _check_value(form_field, value)
        if problem:
            errors.add(("values", form_field.name), f"{form_field.label}: {problem}")
            continue
        clean[form_field.name] = value
    unknown = sorted(set(values) - {f.name for f in filled.fields})
    for name in unknown:
        errors.add(("values", name), _("Not a field of this form."))
    materials = list(matter.materials.all())
    checked_uploads: dict[int, tuple[Any, str]] = {}
    by_id = {material.pk: material for material in materials}
    for material_id in uploads:
        if material_id not in by_id or by_id[material_id].fetched:
            errors.add(("materials", str(material_id)), _("This material is not asked of the applicant."))
    # 容缺 and 告知承诺: materials the applicant asks to supply later or replaces by a pledge.
    from yiwang.services.gaps import gap_requests_check, gaps_open

    gap_requests = gap_requests_check(
        materials=materials, uploads=uploads, tolerate=tolerate, pledges=pledges, errors=errors
    )
    for material in materials:
        if material.fetched:
            continue
        upload = uploads.get(material.pk)
        if upload is None:
            if material.required and material.pk not in gap_requests:
                errors.add(
                    ("materials", str(material.pk)),
                    _("Upload “%(name)s”.") % {"name": material.name},
                )
            continue
        try:
            _extension, content_type = upload_check(upload)
        except ValueError as problem:
            errors.add(("materials", str(material.pk)), f"{material.name}: {problem}")
            continue
        checked_uploads[material.pk] = (upload, content_type)
    # 无证办理: an e-certificate material is never asked for, but the applicant must hold it.
    from yiwang.services.instant import certificates_missing

    for material, message in certificates_missing(
        matter=matter, holder=applicant.subject_key, bundle=bundle, materials=materials
    ):
        errors.add(("materials", str(material.pk)), message)
    errors.raise_if_any()
    now = now or timezone.now()
    limit_days = matter.time_limit_days
    try:
        with transaction.atomic():
            case = case_open(
                case_type=states.APPLICATION,
                title=f"{matter.name}（{applicant.name}）",
                department=matter.department,
                actor=actor,
                subject_type=applicant.kind,
                subject_key=applicant.subject_key,
                data={"matter": matter.code},
                case_limit=Limit(limit_days, "days") if limit_days else None,
                parent=bundle.case if bundle is not None else None,  # a step of a bundle (一件事)
                now=now,
            )
            application = Application.objects.create(
                case=case,
                matter=matter,
                applicant=owner,
                window_clerk=actor if on_behalf_of is not None else None,
                applicant_kind=applicant.kind,
                subject_key=applicant.subject_key,
                applicant_name=applicant.name,
                values=clean,
                prefilled={name: source for name, source in filled.sources.items() if name in clean},
                fields_total=filled.total,
                fields_prefilled=filled.filled,
                submission_key=key,
                submitted_at=now,
                bundle=bundle,
                bundle_step=bundle_step,
            )
            ApplicationMaterial.objects.bulk_create(
                ApplicationMaterial(
                    application=application,
                    material=material,
                    fetched_from=material.resource_code or material.source,
                )
                for material in materials
                if material.fetched
            )
            for material in materials:
                if material.pk in checked_uploads:
                    upload, content_type = checked_uploads[material.pk]
                    digest = hashlib.sha256()
                    for chunk in upload.chunks():
                        digest.update(chunk)
                    upload.seek(0)
                    ApplicationMaterial.objects.create(
                        application=application,
                        material=material,
                        file=upload,
                        original_name=upload.name[:200],
                        content_type=content_type,
                        size=upload.size,
                        sha256=digest.hexdigest(),
                    )
            gaps = gaps_open(application=application, requested=gap_requests, now=now)
            audit_record(
                actor=actor,
                action="services.application_submit",
                target=application,
                after={
                    "reference": case.reference,
                    "matter": matter.code,
                    "applicant": mask_id_number(applicant.subject_key),
                    "fields_prefilled": filled.filled,
                    "fields_total": filled.total,
                    "uploads": len(checked_uploads),
                    "gaps": {str(gap.material_id): gap.kind for gap in gaps},
                },
            )
            if on_behalf_of is not None:
                window_accept(application=application, clerk=actor)
    except IntegrityError:
        existing = (
            Application.objects.filter(applicant=owner, submission_key=key).select_related("case").first()
        )
        if existing is None:
            raise
        return existing
    if matter.instant_rule:  # 秒批: the rules engine decides now, after the submission is written
        from yiwang.services.instant import application_instant_decide

        application = application_instant_decide(application=application)
    return application


def application_withdraw(*, application: Application, actor: Any) -> Application:
    """The applicant withdraws an application not yet accepted (or awaiting corrections)."""
    if application.applicant_id != getattr(actor, "pk", None):
        raise NotFound(_("Not found."))
    case = application.case
    if case.state not in (states.SUBMITTED, states.CORRECTION):
        raise Conflict(_("Only an application not yet under review can be withdrawn."))
    case_transition_system(
        case=case,
        transition="withdraw",
        actor=actor,
        expected_version=case.version,
        note=_("Withdrawn by the applicant."),
    )
    application.case.refresh_from_db()
    return application


def application_rate(*, application: Application, actor: Any, rating: int, reasons: str = "") -> Application:
    """好差评: the applicant rates the service once it has ended with a decision. Once only."""
    if application.applicant_id != getattr(actor, "pk", None):
        raise NotFound(_("Not found."))
    if application.case.state not in states.RATEABLE_STATES:
        raise Conflict(_("You can rate an application once it has been decided."))
    if rating not in Rating.values:
        raise FieldErrors.single("rating", _("Choose a rating from very satisfied to very dissatisfied."))
    reasons = (reasons or "").strip()
    if rating <= Rating.DISSATISFIED and not reasons:
        raise FieldErrors.single("reasons", _("Say what went wrong, so the department can answer."))
    now = timezone.now()
    with transaction.atomic():
        changed = Application.objects.filter(pk=application.pk, rating__isnull=True).update(
            rating=rating, rating_reasons=reasons[:500], rated_at=now
        )
        if changed != 1:
            raise Conflict(_("This application has already been rated."))
        application.refresh_from_db()
        audit_record(
            actor=actor,
            action="services.application_rate",
            target=application,
            after={"rating": rating, "reasons": reasons[:500]},
        )
        if rating <= Rating.DISSATISFIED:  # 差评: a case for the department to answer
            from yiwang.services.window import rating_followup_open

            rating_followup_open(application=application, actor=actor, now=now)
    return application


# --------------------------------------------------------------------------- grants for auto-fill

GRANT_PURPOSE = "一网通办申请表单智能预填"
GRANT_BASIS = "《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》（国发〔2018〕27号）"


def autofill_grants_ensure(*, actor: Any, departments: list[Any] | None = None) -> int:
    """Ask for, and approve as the chief data officer `actor`, the conditional fields each
    department's forms fill from (one request per department and resource, for a year), where
    no live grant covers them yet. Returns the number of grants made."""
    from yiwang.core.models import Department

    wanted: dict[tuple[int, str], set[str]] = {}
    queryset = FormField.objects.exclude(resource_code="").values_list(
        "matter__department_id", "resource_code", "resource_field"
    )
    if departments is not None:
        queryset = queryset.filter(matter__department__in=departments)
    for department_id, resource_code, resource_field in queryset.distinct():
        wanted.setdefault((department_id, resource_code), set()).add(resource_field)
    by_id = Department.objects.in_bulk({department_id for department_id, _code in wanted})
    return grants_missing_make(
        actor=actor,
        wanted={(by_id[d], code): names for (d, code), names in wanted.items()},
        purpose=GRANT_PURPOSE,
        legal_basis=GRANT_BASIS,
    )


def grants_missing_make(
    *, actor: Any, wanted: dict[tuple[Any, str], set[str]], purpose: str, legal_basis: str
) -> int:
    """For each (department, resource code) → field names: ask for, and approve as the chief
    data officer `actor`, the conditional ones the department may not read yet (one request
    with `purpose` and `legal_basis`, for a year). Unknown resources are skipped. Returns the
    number of grants made."""
    from yiwang.exchange.models import SharingClass
    from yiwang.exchange.selectors import readable_fields, resource_get
    from yiwang.exchange.services import access_request_decide, access_request_submit

    made = 0
    for (department, resource_code), names in sorted(
        wanted.items(), key=lambda item: (item[0][0].pk, item[0][1])
    ):
        try:
            resource = resource_get(code=resource_code)
        except NotFound:
            continue
        classes = dict(resource.fields.values_list("name", "sharing_class"))
        missing = sorted(
            name
            for name in names - set(readable_fields(consumer=department, resource=resource))
            if classes.get(name) == SharingClass.CONDITIONAL
        )
        if not missing:
            continue
        request = access_request_submit(
            actor=actor,
            consumer=department,
            resource=resource,
            fields=missing,
            purpose=purpose,
            legal_basis=legal_basis,
            duration_days=365,
        )
        access_request_decide(actor=actor, request=request, approve=True)
        made += 1
    return made


# --------------------------------------------------------------------------- measuring auto-fill


def autofill_measure(*, user: Any, matters: Any = None) -> dict[str, Any]:
    """Fill the form of every matter this user may apply for (all active matters unless
    `matters` is given) and count: fields filled from shared data / fields in all, overall and
    as the mean of the per-matter shares. Each fill reads the exchange (with its evidence) like
    the apply page does."""
    queryset = Matter.objects.filter(is_active=True) if matters is None else matters
    filled_total = fields_total = 0
    shares: list[float] = []
    for matter in queryset.select_related("department").prefetch_related("form_fields"):
        try:
            applicant = applicant_of(user=user, matter=matter)
        except Forbidden:
            continue
        filled = form_autofill(matter=matter, applicant=applicant, actor=user)
        filled_total += filled.filled
        fields_total += filled.total
        shares.append(filled.share)
    return {
        "matters": len(shares),
        "filled": filled_total,
        "fields": fields_total,
        "share": filled_total / fields_total if fields_total else 0.0,
        "mean_matter_share": sum(shares) / len(shares) if shares else 0.0,
        "matters_at_least_70": sum(1 for share in shares if share >= 0.7),
    }
