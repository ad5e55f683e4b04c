"""Core reference data: divisions, departments, staff and roles, calendar overrides, audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.IntegerChoices):
    CITY = 1, _("City")
    COUNTY = 2, _("County")
    TOWN = 3, _("Town")
    VILLAGE = 4, _("Village")


class Division(models.Model):
    """行政区划. Codes follow the statistical division codes (GB/T 2260 for the first six
    digits): city 4 digits (3603), county 6 (360302), town 9 (360302001), village 12. A place
    outside the city (`is_outside_city`) is a county's 6-digit code at the top level."""

    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.PositiveSmallIntegerField(_("level"), choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    # Village level: urban community (社区) or rural village (村).
    is_urban = models.BooleanField(_("urban"), default=False)
    is_synthetic = models.BooleanField(
        _("synthetic"), default=False, help_text=_("Generated for the demo city, not an official code.")
    )
    # A county elsewhere in China (its real GB/T 2260 code) that is the 户籍 of people living
    # here on a residence permit (随迁子女 and their parents). Held at the top level with no
    # parent, so whatever walks the city's counties, towns and villages never meets it.
    is_outside_city = models.BooleanField(_("outside the city"), default=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("division")
        verbose_name_plural = _("divisions")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class DepartmentKind(models.TextChoices):
    BUREAU = "bureau", _("Bureau")
    CENTRE = "centre", _("Service centre")
    TOWN_OFFICE = "town_office", _("Town government")
    OTHER = "other", _("Other")


class Department(models.Model):
    """委办局: a government department at a given division (city or county level)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=128)
    short_name = models.CharField(_("short name"), max_length=32)
    name_en = models.CharField(_("English name"), max_length=128, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DepartmentKind.choices, default="bureau")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="departments")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    ENTERPRISE_AGENT = "enterprise_agent", _("Enterprise agent")
    WINDOW_CLERK = "window_clerk", _("Window clerk")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")
    HOTLINE_OPERATOR = "hotline_operator", _("Hotline operator")
    DISPATCHER = "dispatcher", _("Dispatcher")
    SUPERVISOR = "supervisor", _("Supervisor")
    DATA_STEWARD = "data_steward", _("Data steward")
    CITY_LEADER = "city_leader", _("City leader")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    """A person who logs in: a citizen, an enterprise agent or a member of staff."""

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    prefers_large_type = models.BooleanField(_("large type"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class RoleAssignment(models.Model):
    """A role held by a user, scoped to a department and/or a division (None = city-wide)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="role_assignments"
    )
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, null=True, blank=True, related_name="role_assignments"
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "department", "division"],
                name="core_roleassignment_unique",
            )
        ]

    def __str__(self) -> str:
        scope = self.department or self.division or _("city-wide")
        return f"{self.user} · {self.get_role_display()} · {scope}"


class ApiToken(models.Model):
    """A bearer token for a system calling the API. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=64)
    prefix = models.CharField(max_length=8, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class CalendarOverride(models.Model):
    """An admin's correction of the working-day calendar for one date (e.g. a year whose
    State Council notice is newer than the installed chinese-calendar package)."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=128, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.date} {'workday' if self.is_working_day else 'holiday'}"


class AuditEntry(models.Model):
    """One append-only, hash-chained entry: hash = H(previous hash + canonical fields)."""

    # Sequence and hashes are set when the entry is sealed into the chain, just before its
    # transaction commits (core/audit.py): a committed entry always has them.
    sequence = models.BigIntegerField(_("sequence"), unique=True, null=True)
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=128)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    purpose = models.CharField(_("purpose"), max_length=255, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    previous_hash = models.CharField(max_length=64, blank=True)
    # NULL, not "", until sealed: several unsealed entries of one transaction may not share a hash.
    hash = models.CharField(max_length=64, unique=True, null=True)  # noqa: DJ001

    class Meta:
        ordering = ["sequence"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"


class AuditHead(models.Model):
    """The single row that serialises appends to the chain (locked with select_for_update)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.sequence}"
