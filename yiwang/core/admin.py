"""Django admin for reference data. Every save and delete here is audited like any service."""

from __future__ import annotations

import datetime

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from yiwang.core import calendar
from yiwang.core.audit import audit_record
from yiwang.core.models import (
    ApiToken,
    AuditEntry,
    CalendarOverride,
    Department,
    Division,
    RoleAssignment,
    User,
)


def _snapshot(obj, exclude: tuple[str, ...] = ()) -> dict:
    return model_to_dict(obj, exclude=["password", *exclude])


class AuditedAdmin(admin.ModelAdmin):
    """Writes an audit entry in the same transaction as the admin's save or delete."""

    audit_exclude: tuple[str, ...] = ()

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = None
            if change:
                previous = type(obj).objects.filter(pk=obj.pk).first()
                before = _snapshot(previous, self.audit_exclude) if previous else None
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=f"{obj._meta.model_name}.{'change' if change else 'create'}",
                target=obj,
                before=before,
                after=_snapshot(obj, self.audit_exclude),
                purpose="admin",
            )

    def _audit_delete(self, request, obj) -> None:
        audit_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.delete",
            target=obj,
            before=_snapshot(obj, self.audit_exclude),
            purpose="admin",
        )

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._audit_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._audit_delete(request, obj)
            super().delete_queryset(request, queryset)


@admin.register(Division)
class DivisionAdmin(AuditedAdmin):
    list_display = ("code", "name", "level", "parent", "is_urban", "is_synthetic")
    list_filter = ("level", "is_urban", "is_synthetic")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ("code", "name", "short_name", "kind", "division", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "short_name")
    raw_id_fields = ("division", "parent")


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ("department", "division")


@admin.register(User)
class YiwangUserAdmin(AuditedAdmin, UserAdmin):
    audit_exclude = ("last_login",)
    list_display = ("username", "display_name", "is_active", "is_superuser")
    search_fields = ("username", "display_name")
    fieldsets = UserAdmin.fieldsets + (
        (_("Yiwang"), {"fields": ("display_name", "phone", "prefers_large_type")}),
    )
    inlines = [RoleAssignmentInline]

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            if formset.model is RoleAssignment and formset.has_changed():
                audit_record(
                    actor=request.user,
                    action="user.roles_change",
                    target=form.instance,
                    after={"roles": list(form.instance.roles.values_list("role", flat=True))},
                    purpose="admin",
                )


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(AuditedAdmin):
    list_display = ("date", "is_working_day", "note")
    date_hierarchy = "date"

    def changelist_view(self, request, extra_context=None):
        coverage = calendar.calendar_coverage()
        this_year = datetime.date.today().year
        for year in calendar.uncovered_years([this_year, this_year + 1]):
            messages.warning(
                request,
                _(
                    "The installed chinese-calendar %(version)s has the State Council holiday notices "
                    "for %(first)s–%(last)s only. For %(year)s the platform counts weekends only: "
                    "enter that year's holidays and adjusted working days here as overrides, or "
                    "upgrade the package when the notice is published."
                )
                % {
                    "version": coverage.package_version,
                    "first": coverage.first_year,
                    "last": coverage.last_year,
                    "year": year,
                },
            )
        return super().changelist_view(request, extra_context)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked")
    readonly_fields = ("user", "name", "prefix", "token_hash", "created_at", "expires_at", "last_used_at")

    def has_add_permission(self, request):
        return False  # tokens are created with `yiwang token create` so the plain token is shown once


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("sequence", "at", "actor_label", "action", "object_type", "object_id", "purpose")
    list_filter = ("action",)
    search_fields = ("actor_label", "object_id", "action")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
