"""The questions of one-network services: search the catalog, read a guide, list a person's
applications and a department's, and who may see which application."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, F, FloatField, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from yiwang.cases.access import access_case_view
from yiwang.core.errors import NotFound
from yiwang.core.models import Department
from yiwang.services import cases as states
from yiwang.services.models import Application, FormField, Matter
from yiwang.services.search import matter_search_ids

# --------------------------------------------------------------------------- catalog


@dataclass
class SearchPage:
    matters: list[Matter]
    total: int


def matter_search(
    *, query: str = "", department_code: str = "", type: int | None = None, limit: int = 30, offset: int = 0
) -> SearchPage:
    """Matters matching `query` (name, pinyin initials or full pinyin, keywords), best first,
    within a department (and its branches) and type if given."""
    department_ids = None
    if department_code:
        department_ids = set(
            Department.objects.filter(Q(code=department_code) | Q(parent__code=department_code)).values_list(
                "pk", flat=True
            )
        )
    hits = matter_search_ids(query=query, department_ids=department_ids, type=type, limit=0)
    page = [hit.pk for hit in hits[offset : offset + limit]]
    found = Matter.objects.select_related("department").in_bulk(page)
    return SearchPage(matters=[found[pk] for pk in page if pk in found], total=len(hits))


def matter_get(*, code: str) -> Matter:
    matter = Matter.objects.select_related("department").filter(code=code, is_active=True).first()
    if matter is None:
        raise NotFound(_("No such matter."))
    return matter


def catalog_departments() -> list[Department]:
    """Departments with matters of their own (city level), for the catalog's filter."""
    return list(
        Department.objects.filter(matters__is_active=True, division__level=1)
        .annotate(matter_count=Count("matters"))
        .order_by("code")
    )


def matter_autofill_potential(*, matter: Matter) -> tuple[int, int]:
    """(fields the platform can fill from shared data, fields in all) of a matter's form."""
    fields = list(matter.form_fields.values_list("resource_code", flat=True))
    return sum(1 for code in fields if code), len(fields)


def catalog_autofill_share() -> float | None:
    """The share of all form fields in the catalog that shared data can fill (None if no form)."""
    total = FormField.objects.count()
    if not total:
        return None
    return FormField.objects.exclude(resource_code="").count() / total


def catalog_autofill_potential() -> dict[str, Any]:
    """Over the whole catalog: the share of form fields with a shared-data source, overall and
    the mean of the per-matter shares."""
    total = FormField.objects.count()
    sourced = FormField.objects.exclude(resource_code="").count()
    per_matter = (
        Matter.objects.filter(is_active=True)
        .annotate(
            fields=Count("form_fields"),
            sourced=Count("form_fields", filter=~Q(form_fields__resource_code="")),
        )
        .filter(fields__gt=0)
        .annotate(share=Cast(F("sourced"), FloatField()) / Cast(F("fields"), FloatField()))
        .aggregate(mean=Avg("share"), matters=Count("pk"))
    )
    return {
        "fields": total,
        "sourced": sourced,
        "share": sourced / total if total else 0.0,
        "mean_matter_share": per_matter["mean"] or 0.0,
        "matters": per_matter["matters"],
    }


# --------------------------------------------------------------------------- applications


def applications_of(*, user: Any) -> QuerySet[Application]:
    """The applications a user submitted, newest first."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Application.objects.none()
    return Application.objects.filter(applicant=user).select_related("case", "matter", "matter__department")


def application_for_applicant(*, reference: str, user: Any) -> Application:
    """The user's own application; NotFound for anyone else's (same answer as a missing one)."""
    application = applications_of(user=user).filter(case__reference=reference).first()
    if application is None:
        raise NotFound(_("Not found."))
    return application


def application_for_staff(*, case_id: int, user: Any) -> Application:
    """An application a member of staff may see (the cases engine decides, as for any case)."""
    application = (
        Application.objects.select_related("case", "matter", "matter__department", "case__department")
        .filter(pk=case_id)
        .first()
    )
    if application is None or not access_case_view(user, application.case):
        raise NotFound(_("Not found."))
    return application


def applications_to_handle(*, user: Any, state: str = "") -> QuerySet[Application]:
    """Open applications the user may act on: their departments' (handlers) or every
    department's waiting for acceptance (window clerks), oldest deadline first."""
    from yiwang.cases.selectors import case_queue
    from yiwang.core.access import access_role
    from yiwang.core.models import Role

    cases = case_queue(user=user, state=state).filter(type_code=states.APPLICATION)
    condition = Q(case__in=cases)
    if access_role(user, Role.WINDOW_CLERK) and state in ("", states.SUBMITTED):
        condition |= Q(case__type_code=states.APPLICATION, case__state=states.SUBMITTED)
    return (
        Application.objects.filter(condition)
        .distinct()
        .select_related("case", "matter", "case__department")
        .order_by(F("case__case_deadline").asc(nulls_last=True), "case__opened_at")
    )


def application_is_rateable(application: Application) -> bool:
    return application.rating is None and application.case.state in states.RATEABLE_STATES


def rating_summary(*, department: Department | None = None) -> dict[str, Any]:
    """Ratings received (好差评), overall or for one department: count per grade and the share
    of 满意 (the top two grades)."""
    queryset = Application.objects.filter(rating__isnull=False)
    if department is not None:
        queryset = queryset.filter(matter__department=department)
    rows = dict(queryset.values_list("rating").annotate(count=Count("pk")).values_list("rating", "count"))
    total = sum(rows.values())
    satisfied = rows.get(5, 0) + rows.get(4, 0)
    return {"by_rating": rows, "total": total, "satisfied_share": satisfied / total if total else None}


def autofill_share_measured() -> dict[str, Any]:
    """Over the submitted applications: fields the platform filled / fields in all."""
    figures = Application.objects.aggregate(filled=Sum("fields_prefilled"), total=Sum("fields_total"))
    filled, total = figures["filled"] or 0, figures["total"] or 0
    return {"filled": filled, "total": total, "share": filled / total if total else None}
