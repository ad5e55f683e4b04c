"""The web shell's pages: home, login, workbenches and "see the city". Thin: every read is a
selector, every permission an access_* question."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from yiwang.core.access import access_registry_write, access_role, access_staff
from yiwang.core.errors import FieldErrors, NotFound
from yiwang.core.models import Role
from yiwang.registry import selectors as registry
from yiwang.registry import services as registry_services
from yiwang.registry.models import Sex
from yiwang.web.forms import PersonRegisterForm
from yiwang.web.preferences import LARGE_TYPE_COOKIE, LARGE_TYPE_MAX_AGE, large_type_enabled
from yiwang.web.selectors import role_assignments_get, user_role_codes
from yiwang.web.workbenches import workbench_get

PAGE_SIZE = 50
SEARCH_MAX_LENGTH = 64

# Purposes recorded in the audit log when a page shows personal data unmasked.
PURPOSE_PERSON_LIST = "registry browse: person list"
PURPOSE_PERSON_DETAIL = "registry browse: person detail"
PURPOSE_HOUSEHOLD_DETAIL = "registry browse: household detail"

FIGURES = [
    ("counties", _("Counties and districts")),
    ("towns", _("Towns and subdistricts")),
    ("villages", _("Villages and communities")),
    ("departments", _("Departments")),
    ("persons", _("Persons")),
    ("households", pgettext_lazy("city figure", "Households")),
    ("enterprises", _("Enterprises")),
    ("properties", _("Properties")),
]


def home(request):
    figures = registry.city_figures()
    return render(
        request,
        "web/home.html",
        {"figures": [{"key": key, "label": label, "value": figures.get(key, 0)} for key, label in FIGURES]},
    )


login = auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True)
logout = auth_views.LogoutView.as_view()


@login_required
def workbench(request):
    """Send the user to their workbench; with several roles, let them pick one."""
    codes = user_role_codes(user=request.user)
    if len(codes) == 1:
        return redirect("web:workbench_role", role=codes[0])
    return render(request, "web/workbench_pick.html", {"roles": [Role(code) for code in codes]})


@login_required
def workbench_role(request, role: str):
    if role not in Role.values:
        raise Http404
    if not access_role(request.user, role):
        raise PermissionDenied
    enterprises = registry.enterprises_of_agent(user=request.user) if role == Role.ENTERPRISE_AGENT else None
    return render(
        request,
        "web/workbench.html",
        {
            "role": Role(role),
            "workbench": workbench_get(role),
            "assignments": role_assignments_get(user=request.user, role=role),
            "enterprises": enterprises,
        },
    )


def _safe_next(request, fallback: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
def large_type(request):
    """Switch large type (适老化) on or off: `large_type` = "1"/"0", or absent to toggle."""
    wanted = request.POST.get("large_type")
    enabled = (wanted == "1") if wanted in ("0", "1") else not large_type_enabled(request)
    response = HttpResponseRedirect(_safe_next(request))
    response.set_cookie(
        LARGE_TYPE_COOKIE, "1" if enabled else "0", max_age=LARGE_TYPE_MAX_AGE, samesite="Lax", httponly=True
    )
    return response


# --- See the city (staff only) ---------------------------------------------------------------


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not access_staff(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _search(request) -> tuple[str, str | None, list]:
    """The search text and the county filter of a list page (an unknown county is ignored)."""
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    counties = list(registry.division_children(code=settings.YIWANG_CITY_CODE))
    county = request.GET.get("division") or None
    if county not in {division.code for division in counties}:
        county = None
    return query, county, counties


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@staff_required
def city(request):
    return redirect("web:divisions")


@staff_required
def divisions(request):
    try:
        root = registry.division_overview(root_code=settings.YIWANG_CITY_CODE)
    except NotFound:
        root = None
    return render(request, "web/city/divisions.html", {"root": root})


@staff_required
def departments(request):
    return render(request, "web/city/departments.html", {"groups": registry.department_groups()})


@staff_required
def persons(request):
    query, county, counties = _search(request)
    page = _page(request, registry.person_list(query=query, division_code=county))
    people = list(page.object_list)
    shown = registry.person_present_many(persons=people, viewer=request.user, purpose=PURPOSE_PERSON_LIST)
    rows = [
        row | {"pk": person.pk, "sex_label": Sex(person.sex).label}
        for person, row in zip(people, shown, strict=True)
    ]
    return render(
        request,
        "web/city/persons.html",
        {
            "page": page,
            "rows": rows,
            "query": query,
            "county": county,
            "counties": counties,
            "can_register": access_registry_write(request.user, "person"),
        },
    )


def _members_present(request, household, purpose: str, known: dict | None = None) -> list[dict]:
    members = list(registry.household_members(household=household))
    others = [m.person for m in members if not (known and m.person_id == known["pk"])]
    shown_others = iter(registry.person_present_many(persons=others, viewer=request.user, purpose=purpose))
    rows = []
    for member in members:
        shown = known if known and member.person_id == known["pk"] else next(shown_others)
        rows.append(shown | {"pk": member.person_id, "relation": member.get_relation_display()})
    return rows


def person_register(request):
    """The integrated window (or 公安) registers a person: same service and rules as the API."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not access_registry_write(request.user, "person"):
        raise PermissionDenied
    form = PersonRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if value not in (None, "")}
        try:
            person = registry_services.person_create(actor=request.user, data=data)
        except FieldErrors as errors:
            for path, message in errors.errors:
                form.add_error(path[-1] if path and path[-1] in form.fields else None, message)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": person.name})
            return redirect("web:person_detail", person_id=person.pk)
    return render(request, "web/city/person_register.html", {"form": form})


@staff_required
def person_detail(request, person_id: int):
    try:
        person = registry.person_get_by_id(person_id=person_id)
    except NotFound:
        raise Http404 from None
    shown = registry.person_present(person=person, viewer=request.user, purpose=PURPOSE_PERSON_DETAIL)
    shown |= {"pk": person.pk, "sex_label": Sex(person.sex).label, "death_date": person.death_date}
    membership = registry.person_membership(person=person)
    members = (
        _members_present(request, membership.household, PURPOSE_PERSON_DETAIL, known=shown)
        if membership
        else []
    )
    return render(
        request,
        "web/city/person_detail.html",
        {"person": shown, "membership": membership, "members": members},
    )


def _registry_list(request, selector, template: str):
    """A searchable, county-filtered, paginated registry list (rows without personal fields)."""
    query, county, counties = _search(request)
    page = _page(request, selector(query=query, division_code=county))
    return render(request, template, {"page": page, "query": query, "county": county, "counties": counties})


@staff_required
def households(request):
    return _registry_list(request, registry.household_list, "web/city/households.html")


@staff_required
def household_detail(request, household_id: int):
    try:
        household = registry.household_get_by_id(household_id=household_id)
    except NotFound:
        raise Http404 from None
    members = _members_present(request, household, PURPOSE_HOUSEHOLD_DETAIL)
    return render(request, "web/city/household_detail.html", {"household": household, "members": members})


@staff_required
def enterprises(request):
    return _registry_list(request, registry.enterprise_list, "web/city/enterprises.html")


@staff_required
def properties(request):
    return _registry_list(request, registry.property_search, "web/city/properties.html")
