"""Pages of the services app for tolerated gaps (容缺) and pledges (告知承诺) (added to urls.py's
urlpatterns): the applicant supplies a material on the application's page, a department handler
verifies a pledge on the handling page, and lists what their department awaits."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.core.access import access_role
from yiwang.core.errors import DomainError, NotFound
from yiwang.core.models import Role
from yiwang.services import gaps
from yiwang.services.views import _error_text, staff_required


@login_required
@require_POST
def gap_supply(request, reference: str, gap_id: int):
    """The applicant uploads a material accepted missing."""
    try:
        gap = gaps.gap_for_applicant(reference=reference, gap_id=gap_id, user=request.user)
    except NotFound:
        raise Http404 from None
    try:
        gaps.gap_supply(gap=gap, actor=request.user, upload=request.FILES.get("file"))
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("“%(name)s” was supplied.") % {"name": gap.material.name})
    return redirect("services:application", reference=reference)


@staff_required
@require_POST
def gap_verify(request, case_id: int, gap_id: int):
    """A handler of the department marks a pledge true, or false with a note (revoking)."""
    try:
        gap = gaps.gap_for_staff(gap_id=gap_id, case_id=case_id, user=request.user)
    except NotFound:
        raise Http404 from None
    verdict = request.POST.get("verdict", "")
    if verdict not in ("true", "false"):
        messages.error(request, _("Say whether the pledge is true or false."))
        return redirect("services:handle", case_id=case_id)
    try:
        gaps.gap_verify(
            gap=gap, actor=request.user, true=verdict == "true", note=request.POST.get("note", "")
        )
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        if verdict == "true":
            messages.success(request, _("The pledge was marked true."))
        else:
            messages.success(request, _("The pledge was marked false and the application revoked."))
    return redirect("services:handle", case_id=case_id)


@staff_required
def gap_list(request):
    """Open gaps of the handler's departments: materials awaited and pledges to verify, due
    soonest first, overdue in red."""
    if not access_role(request.user, Role.DEPARTMENT_HANDLER):
        raise PermissionDenied
    today = timezone.localdate()
    page = Paginator(gaps.gaps_to_watch(user=request.user), 50).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for gap in rows:
        gap.overdue = gap.due_on < today
    return render(request, "services/gaps.html", {"rows": rows, "page": page})


urlpatterns = [
    path("gaps/", gap_list, name="gaps"),
    path("applications/<str:reference>/gaps/<int:gap_id>/supply/", gap_supply, name="gap_supply"),
    path("handling/<int:case_id>/gaps/<int:gap_id>/verify/", gap_verify, name="gap_verify"),
]
