from django.contrib import admin

from yiwang.cases.admin import ReadOnlyAdmin
from yiwang.core.admin import AuditedAdmin
from yiwang.services.models import Application, FormField, Material, Matter


class MaterialInline(admin.TabularInline):
    model = Material
    extra = 0
    fields = ("position", "name", "required", "is_key", "source", "resource_code")


class FormFieldInline(admin.TabularInline):
    model = FormField
    extra = 0
    fields = (
        "position",
        "name",
        "label",
        "kind",
        "required",
        "choices",
        "resource_code",
        "resource_field",
        "subject_from",
        "editable",
    )


@admin.register(Matter)
class MatterAdmin(AuditedAdmin):
    list_display = ("code", "name", "type", "department", "promised_limit_days", "visits", "is_active")
    list_filter = ("type", "applicant_kind", "visits", "is_active", "department")
    search_fields = ("code", "name", "name_initials", "keywords")
    list_select_related = ("department",)
    inlines = [MaterialInline, FormFieldInline]

    def save_model(self, request, obj, form, change):
        from yiwang.services.search import search_index_clear
        from yiwang.services.services import matter_search_columns

        for name, value in matter_search_columns(obj.name, obj.keywords).items():
            setattr(obj, name, value)
        super().save_model(request, obj, form, change)
        search_index_clear()


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    """Applications change only through their case and the services."""

    list_display = ("case", "matter", "applicant_name", "submitted_at", "rating")
    list_filter = ("rating",)
    search_fields = ("case__reference",)
