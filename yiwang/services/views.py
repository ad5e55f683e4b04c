"""Pages of one-network services: the public catalog and guides, applying online with the form
filled from shared data, "my applications" with status and rating, the departments' list of
applications to handle, and the catalog import for data stewards. Thin: selectors read,
services write, and the services' FieldErrors land beside the fields they name."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.cases import selectors as case_selectors
from yiwang.cases.services import case_transition
from yiwang.core.access import access_role, access_staff
from yiwang.core.errors import DomainError, FieldErrors, Forbidden, NotFound
from yiwang.core.models import Department, Role
from yiwang.core.services import personal_data_present
from yiwang.services import cases as states
from yiwang.services import gaps, selectors, services
from yiwang.services.bundles import bundle_rows_of, bundles_active
from yiwang.services.imports import ALL_OR_NOTHING, KEEP_GOOD_ROWS, matters_import
from yiwang.services.models import FieldKind, MaterialSource, MatterType, Rating
from yiwang.services.window import application_tracking as window_tracking
from yiwang.services.window import window_submissions_today

PAGE_SIZE = 20
PURPOSE_HANDLING = "services: handling the application"
PURPOSE_APPLICANT = "services: the applicant's own application"


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not access_staff(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _error_text(error: DomainError) -> str:
    if isinstance(error, FieldErrors):
        return "；".join(message for _path, message in error.errors)
    return error.message


# --------------------------------------------------------------------------- the catalog


def index(request):
    """The public catalog: search by name, pinyin initials or keyword; filter by department and
    type."""
    query = request.GET.get("q", "").strip()[:100]
    department = request.GET.get("department", "")
    type_text = request.GET.get("type", "")
    matter_type = int(type_text) if type_text.isdigit() and int(type_text) in MatterType.values else None
    try:
        page_number = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page_number = 1
    result = selectors.matter_search(
        query=query,
        department_code=department,
        type=matter_type,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    pages = max((result.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    potential = selectors.catalog_autofill_share()
    return render(
        request,
        "services/index.html",
        {
            "query": query,
            "department": department,
            "matter_type": matter_type,
            "departments": selectors.catalog_departments(),
            "types": MatterType.choices,
            "matters": result.matters,
            "total": result.total,
            "page": page_number,
            "pages": pages,
            "previous_page": page_number - 1 if page_number > 1 else None,
            "next_page": page_number + 1 if page_number < pages else None,
            "catalog_share_percent": round(100 * potential) if potential is not None else None,
            "bundles": bundles_active(),  # 一件事 (services/bundles.py)
        },
    )


def guide(request, code: str):
    """A matter's guide (办事指南)."""
    try:
        matter = selectors.matter_get(code=code)
    except NotFound:
        raise Http404 from None
    fillable, fields = selectors.matter_autofill_potential(matter=matter)
    materials = list(matter.materials.all())
    return render(
        request,
        "services/guide.html",
        {
            "matter": matter,
            "materials": materials,
            "uploads": [material for material in materials if not material.fetched],
            "fetched": [material for material in materials if material.fetched],
            "fillable": fillable,
            "fields": fields,
            "fillable_percent": round(100 * fillable / fields) if fields else 0,
            "fee_yuan": f"{matter.fee_fen // 100}.{matter.fee_fen % 100:02d}",
        },
    )


# --------------------------------------------------------------------------- applying


def _form_rows(filled: services.FilledForm, sent: dict[str, str] | None, errors: dict[str, list[str]]):
    rows = []
    for form_field in filled.fields:
        prefilled = form_field.name in filled.values
        value = filled.values.get(form_field.name, "")
        if sent is not None and (form_field.editable or not prefilled):
            value = sent.get(form_field.name, value)
        choices = []
        for choice in form_field.choice_list():
            stored, _sep, label = choice.partition("=")
            choices.append((stored, label or stored))
        rows.append(
            {
                "field": form_field,
                "value": value,
                "prefilled": prefilled,
                "locked": prefilled and not form_field.editable,
                "source": filled.sources.get(form_field.name, ""),
                "choices": choices,
                "input_type": {FieldKind.DATE: "date", FieldKind.PHONE: "tel", FieldKind.NUMBER: "text"}.get(
                    form_field.kind, "text"
                ),
                "errors": errors.get(form_field.name, []),
            }
        )
    return rows


@login_required
def apply(request, code: str):
    """The application form of a matter, filled from shared data for the logged-in applicant."""
    try:
        matter = selectors.matter_get(code=code)
    except NotFound:
        raise Http404 from None
    try:
        applicant = services.applicant_of(user=request.user, matter=matter)
    except Forbidden as refusal:
        return render(
            request, "services/apply_refused.html", {"matter": matter, "reason": refusal.message}, status=403
        )
    post = form_post(request, matter=matter)
    if post.application is not None:
        messages.success(
            request,
            _("Application %(reference)s submitted to %(department)s.")
            % {"reference": post.application.case.reference, "department": matter.department.name},
        )
        return redirect("services:application", reference=post.application.case.reference)
    context = form_context(request, matter=matter, applicant=applicant, post=post)
    return render(request, "services/apply.html", context, status=422 if context["has_errors"] else 200)


@dataclass
class FormPost:
    """What became of a posted application form: the application, or the errors sorted by
    where they are shown (beside a field, beside a material, above the form)."""

    sent: dict[str, str] | None = None
    application: Any = None
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    material_errors: dict[str, list[str]] = field(default_factory=dict)
    other_errors: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.field_errors or self.material_errors or self.other_errors)


def form_post(request, *, matter, on_behalf_of=None) -> FormPost:
    """Submit a matter's posted form (fields `f_<name>`, uploads `m_<material id>`, the
    tolerate/pledge choices `how_<material id>`) as the logged-in user, or by a window clerk
    `on_behalf_of` an applicant. A GET gives an empty FormPost."""
    post = FormPost()
    if request.method != "POST":
        return post
    post.sent = {key[2:]: value for key, value in request.POST.items() if key.startswith("f_")}
    uploads = {
        int(key[2:]): upload
        for key, upload in request.FILES.items()
        if key.startswith("m_") and key[2:].isdigit()
    }
    tolerate, pledges = gaps.gap_choices_from_form(data=request.POST, materials=list(matter.materials.all()))
    extra = {"on_behalf_of": on_behalf_of} if on_behalf_of is not None else {}
    try:
        post.application = services.application_submit(
            matter=matter,
            actor=request.user,
            values=post.sent,
            uploads=uploads,
            submission_key=request.POST.get("submission_key", ""),
            tolerate=tolerate,
            pledges=pledges,
            **extra,
        )
    except FieldErrors as error:
        for path, message in error.errors:
            if len(path) >= 2 and path[0] == "values":
                post.field_errors.setdefault(str(path[1]), []).append(message)
            elif len(path) >= 2 and path[0] == "materials":
                post.material_errors.setdefault(str(path[1]), []).append(message)
            else:
                post.other_errors.append(message)
    except DomainError as error:
        post.other_errors.append(error.message)
    return post


def form_context(request, *, matter, applicant, post: FormPost) -> dict[str, Any]:
    """The context of an application form (apply.html, window_apply.html): the fields filled
    from shared data for `applicant` as the logged-in user, the materials to upload with their
    tolerate/pledge options, the errors of `post`."""
    filled = services.form_autofill(matter=matter, applicant=applicant, actor=request.user)
    materials = list(matter.materials.all())
    return {
        "matter": matter,
        "applicant": applicant,
        "rows": _form_rows(filled, post.sent, post.field_errors),
        "filled": filled,
        "filled_percent": round(100 * filled.share),
        "uploads": [
            {
                "material": material,
                "errors": post.material_errors.get(str(material.pk), []),
                **gaps.gap_option(
                    material=material, matter=matter, data=request.POST if post.sent is not None else None
                ),
            }
            for material in materials
            if material.source == MaterialSource.UPLOAD
        ],
        "fetched": [material for material in materials if material.fetched],
        "other_errors": post.other_errors,
        "submission_key": request.POST.get("submission_key") or uuid.uuid4().hex,
        "has_errors": post.has_errors,
    }


@login_required
def mine(request):
    rows = [
        {
            "application": application,
            "state_label": case_selectors.case_state_label(application.case),
            "rateable": selectors.application_is_rateable(application),
        }
        # A bundle's steps are listed with their bundle (bundle_mine.html), not again here.
        for application in selectors.applications_of(user=request.user).filter(bundle__isnull=True)[:200]
    ]
    return render(
        request, "services/mine.html", {"rows": rows, "bundle_rows": bundle_rows_of(user=request.user)}
    )


def _values_shown(application, viewer, purpose: str) -> list[tuple[str, str, str]]:
    """(label, value, source) of each field of the application, personal fields masked unless
    the viewer's role needs them (unmasked reads audited)."""
    shown = personal_data_present(
        viewer=viewer,
        values=application.values,
        purpose=purpose,
        object_type="services.application",
        object_id=application.pk,
        subject_user_id=application.applicant_id,
    )
    labels = {f.name: f.label for f in application.matter.form_fields.all()}
    return [
        (labels.get(name, name), shown.get(name, ""), application.prefilled.get(name, ""))
        for name in labels
        if name in application.values
    ]


@login_required
def application(request, reference: str):
    """The applicant's page of one application: every step with its time, the deadline, what
    was sent, and the rating once it is decided."""
    try:
        found = selectors.application_for_applicant(reference=reference, user=request.user)
    except NotFound:
        raise Http404 from None
    return render(
        request,
        "services/application.html",
        {
            "application": found,
            "case": found.case,
            "state_label": case_selectors.case_state_label(found.case),
            "timeline": case_selectors.case_timeline(case=found.case),
            "values": _values_shown(found, request.user, PURPOSE_APPLICANT),
            "materials": list(found.materials.select_related("material")),
            "rateable": selectors.application_is_rateable(found),
            "withdrawable": found.case.state in (states.SUBMITTED, states.CORRECTION),
            "ratings": Rating.choices,
            "gaps": gaps.gaps_of(application=found),
            # Notices sent, each step's deadline, the answer to a bad rating (services/window.py).
            **window_tracking(application=found),
        },
    )


@login_required
@require_POST
def rate(request, reference: str):
    try:
        found = selectors.application_for_applicant(reference=reference, user=request.user)
    except NotFound:
        raise Http404 from None
    try:
        rating = int(request.POST.get("rating", "0"))
    except ValueError:
        rating = 0
    try:
        services.application_rate(
            application=found, actor=request.user, rating=rating, reasons=request.POST.get("reasons", "")
        )
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Thank you for your rating."))
    return redirect("services:application", reference=reference)


@login_required
@require_POST
def withdraw(request, reference: str):
    try:
        found = selectors.application_for_applicant(reference=reference, user=request.user)
    except NotFound:
        raise Http404 from None
    try:
        services.application_withdraw(application=found, actor=request.user)
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("The application was withdrawn."))
    return redirect("services:application", reference=reference)


# --------------------------------------------------------------------------- departments


@staff_required
def handling(request):
    state = request.GET.get("state", "")
    if state not in states.OPEN_STATES:
        state = ""
    applications = selectors.applications_to_handle(user=request.user, state=state)
    page = Paginator(applications, 50).get_page(request.GET.get("page"))
    rows = [
        {"application": item, "state_label": case_selectors.case_state_label(item.case)}
        for item in page.object_list
    ]
    state_choices = [(code, states.APPLICATION_TYPE.state(code).label) for code in states.OPEN_STATES]
    return render(
        request,
        "services/handling.html",
        {
            "rows": rows,
            "page": page,
            "state": state,
            "state_choices": state_choices,
            # 一窗受理: what this window clerk accepted today (empty for anyone else).
            "window_today": window_submissions_today(clerk=request.user)[:50],
        },
    )


@staff_required
def handle(request, case_id: int):
    try:
        found = selectors.application_for_staff(case_id=case_id, user=request.user)
    except NotFound:
        raise Http404 from None
    return render(
        request,
        "services/handle.html",
        {
            "application": found,
            "case": found.case,
            "state_label": case_selectors.case_state_label(found.case),
            "timeline": case_selectors.case_timeline(case=found.case),
            "values": _values_shown(found, request.user, PURPOSE_HANDLING),
            "materials": list(found.materials.select_related("material")),
            "transitions": case_selectors.case_transitions_available(case=found.case, user=request.user),
            "gaps": gaps.gaps_of(application=found),
            "may_verify": gaps.access_gap_verify(request.user, found),
        },
    )


@staff_required
@require_POST
def act(request, case_id: int):
    try:
        found = selectors.application_for_staff(case_id=case_id, user=request.user)
    except NotFound:
        raise Http404 from None
    try:
        expected = int(request.POST.get("expected_version", ""))
    except ValueError:
        expected = -1
    try:
        case_transition(
            case=found.case,
            transition=request.POST.get("transition", ""),
            actor=request.user,
            expected_version=expected,
            note=request.POST.get("note", ""),
        )
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Done."))
    return redirect("services:handle", case_id=case_id)


@staff_required
def material_file(request, case_id: int, material_id: int):
    """An uploaded material, to those who may see the application (never served from
    MEDIA_URL: it may hold personal data). Always as a download, never rendered inline."""
    try:
        found = selectors.application_for_staff(case_id=case_id, user=request.user)
    except NotFound:
        raise Http404 from None
    item = found.materials.filter(pk=material_id).exclude(file="").first()
    if item is None:
        raise Http404
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.original_name or "material")


# --------------------------------------------------------------------------- import


def _may_import(user) -> bool:
    return access_role(user, Role.DATA_STEWARD) or access_role(user, Role.ADMIN)


@login_required
def import_catalog(request):
    """Data stewards and administrators load a catalog file and read the report."""
    if not _may_import(request.user):
        raise PermissionDenied
    report = None
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        mode = request.POST.get("mode", ALL_OR_NOTHING)
        default = Department.objects.filter(code=request.POST.get("default_department", "")).first()
        if upload is None:
            error = _("Choose a .csv or .xlsx file.")
        elif upload.size > 20 * 1024 * 1024:
            error = _("The file is larger than 20 MB.")
        else:
            try:
                report = matters_import(
                    actor=request.user,
                    name=upload.name,
                    content=upload.read(),
                    mode=mode if mode in (ALL_OR_NOTHING, KEEP_GOOD_ROWS) else ALL_OR_NOTHING,
                    default_department=default,
                ).as_dict()
            except FieldErrors as problem:
                error = _error_text(problem)
    return render(
        request,
        "services/import.html",
        {
            "report": report,
            "error": error,
            "departments": Department.objects.filter(division__level=1).order_by("code"),
            "modes": ((ALL_OR_NOTHING, _("All or nothing")), (KEEP_GOOD_ROWS, _("Keep good rows"))),
        },
        status=422 if error else 200,
    )
