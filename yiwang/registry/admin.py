"""Registry in the admin: lists show masked personal fields; opening a person is an unmasked
read and is audited."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yiwang.core.admin import AuditedAdmin
from yiwang.core.audit import audit_record
from yiwang.core.errors import FieldErrors
from yiwang.core.masking import mask_id_number
from yiwang.registry.models import Enterprise, Household, HouseholdMember, Person, Property, PropertyOwner
from yiwang.registry.services import person_validate


class PersonAdminForm(forms.ModelForm):
    """The admin obeys the registry's rules: ID number valid, birth date and sex derived from it."""

    class Meta:
        model = Person
        fields = ("id_number", "name", "ethnicity", "phone", "address", "division", "death_date", "user")

    def clean(self):
        data = super().clean()
        raw = {**data, "division": data["division"].code if data.get("division") else None}
        try:
            derived = person_validate(raw, existing=self.instance if self.instance.pk else None)
        except FieldErrors as errors:
            for path, message in errors.errors:
                field = path[-1] if path[-1] in self.fields else None
                self.add_error(field, message)
            return data
        for field in ("id_number", "birth_date", "sex", "birthplace_code"):
            setattr(self.instance, field, derived[field])
        data["id_number"] = derived["id_number"]
        return data


@admin.register(Person)
class PersonAdmin(AuditedAdmin):
    form = PersonAdminForm
    list_display = ("name", "masked_id_number", "sex", "birth_date", "division")
    search_fields = ("=id_number", "name")
    raw_id_fields = ("division", "user")
    readonly_fields = ("birth_date", "sex", "birthplace_code")

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj):
        return mask_id_number(obj.id_number)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            audit_record(
                actor=request.user,
                action="personal_data.read_unmasked",
                object_type="registry.person",
                object_id=object_id,
                after={"fields": ["id_number", "phone", "address"]},
                purpose="admin edit",
            )
        return super().change_view(request, object_id, form_url, extra_context)


class HouseholdMemberInline(admin.TabularInline):
    model = HouseholdMember
    raw_id_fields = ("person",)
    extra = 0


@admin.register(Household)
class HouseholdAdmin(AuditedAdmin):
    list_display = ("number", "kind", "division", "is_rural")
    search_fields = ("=number",)
    raw_id_fields = ("head", "division")
    inlines = [HouseholdMemberInline]


@admin.register(Enterprise)
class EnterpriseAdmin(AuditedAdmin):
    list_display = ("name", "uscc", "industry_name", "employee_count", "division", "status")
    list_filter = ("status",)
    search_fields = ("=uscc", "name")
    raw_id_fields = ("division", "legal_representative")


class PropertyOwnerInline(admin.TabularInline):
    model = PropertyOwner
    raw_id_fields = ("person", "enterprise")
    extra = 0


@admin.register(Property)
class PropertyAdmin(AuditedAdmin):
    list_display = ("unit_number", "use", "area", "division", "registered_on")
    list_filter = ("use",)
    search_fields = ("=unit_number", "certificate_number")
    raw_id_fields = ("division",)
    inlines = [PropertyOwnerInline]
