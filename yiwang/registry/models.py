"""The base registry: persons (人口库), households, enterprises (法人库), properties.

Derivations of one row (birth date and sex from the ID number) are checked by the services in
registry.services; the models only hold the data.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models import Division


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Person(models.Model):
    id_number = models.CharField(_("ID number"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=32)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    # First six digits of the ID number: the county where the number was issued.
    birthplace_code = models.CharField(_("birthplace code"), max_length=6)
    ethnicity = models.CharField(_("ethnicity"), max_length=16, default="汉族")
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="persons", verbose_name=_("division")
    )
    death_date = models.DateField(_("death date"), null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="person"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    class Kind(models.TextChoices):
        FAMILY = "family", _("Family household")
        COLLECTIVE = "collective", _("Collective household")

    number = models.CharField(_("household number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default="family")
    head = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="headed_households"
    )
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="households")
    address = models.CharField(_("address"), max_length=255, blank=True)
    is_rural = models.BooleanField(_("rural"), default=False)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.number


class Relation(models.TextChoices):
    """Relation to the head of household (GB/T 4761 family relation codes)."""

    HEAD = "02", _("Head of household")
    SPOUSE = "10", _("Spouse")
    SON = "20", _("Son")
    DAUGHTER = "30", _("Daughter")
    GRANDCHILD = "40", _("Grandchild")
    PARENT = "50", _("Parent")
    GRANDPARENT = "60", _("Grandparent")
    SIBLING = "70", _("Sibling")
    OTHER = "99", _("Other")


class HouseholdMember(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="membership")
    relation = models.CharField(_("relation to head"), max_length=2, choices=Relation.choices)

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")

    def __str__(self) -> str:
        return f"{self.household_id}:{self.person_id} ({self.relation})"


class Enterprise(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Limited company")
        INDIVIDUAL = "individual", _("Individual business")
        COOPERATIVE = "cooperative", _("Farmers' cooperative")

    class Status(models.TextChoices):
        ACTIVE = "active", _("In business")
        REVOKED = "revoked", _("Licence revoked")
        CANCELLED = "cancelled", _("Deregistered")

    uscc = models.CharField(_("USCC"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, default=Kind.COMPANY)
    legal_representative = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="represented_enterprises"
    )
    legal_representative_name = models.CharField(_("legal representative"), max_length=32)
    # GB/T 4754-2017 industry classification
    industry_code = models.CharField(_("industry code"), max_length=5)
    industry_name = models.CharField(_("industry"), max_length=64)
    registered_capital = models.DecimalField(
        _("registered capital (10k yuan)"), max_digits=14, decimal_places=2
    )
    employee_count = models.PositiveIntegerField(_("employees"), default=0)
    land_area_mu = models.DecimalField(_("land area (mu)"), max_digits=10, decimal_places=2, default=0)
    established_on = models.DateField(_("established on"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default="active")
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="enterprises")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")

    def __str__(self) -> str:
        return self.name


class EnterpriseAgent(models.Model):
    """A user authorised to act for an enterprise (经办人)."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="agents")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enterprise_agencies"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enterprise", "user"], name="registry_agent_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.enterprise_id}"


class Property(models.Model):
    """不动产: one real-estate unit with its 28-character unit number (不动产单元号)."""

    class Use(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        COMMERCIAL = "commercial", _("Commercial")
        OFFICE = "office", _("Office")
        INDUSTRIAL = "industrial", _("Industrial")
        RURAL_HOMESTEAD = "homestead", _("Rural homestead")

    unit_number = models.CharField(_("property unit number"), max_length=28, unique=True)
    certificate_number = models.CharField(_("certificate number"), max_length=64, blank=True)
    use = models.CharField(_("use"), max_length=16, choices=Use.choices)
    area = models.DecimalField(_("area (m²)"), max_digits=10, decimal_places=2)
    address = models.CharField(_("address"), max_length=255)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="properties")
    registered_on = models.DateField(_("registered on"))

    class Meta:
        verbose_name = _("property")
        verbose_name_plural = _("properties")

    def __str__(self) -> str:
        return self.unit_number


class PropertyOwner(models.Model):
    """An owner's share of a property: a person or an enterprise (exactly one)."""

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="owners")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="property_shares"
    )
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, null=True, blank=True, related_name="property_shares"
    )
    share = models.DecimalField(_("share"), max_digits=5, decimal_places=4, default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(person__isnull=False, enterprise__isnull=True)
                    | models.Q(person__isnull=True, enterprise__isnull=False)
                ),
                name="registry_propertyowner_one_owner",
            )
        ]

    def __str__(self) -> str:
        owner = f"person {self.person_id}" if self.person_id else f"enterprise {self.enterprise_id}"
        return f"{self.property_id}: {owner} × {self.share}"
