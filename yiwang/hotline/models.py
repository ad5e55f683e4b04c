"""The hotline's data. A ticket (诉求/工单) is a case of type `hotline.ticket` (yiwang.cases)
plus what only the hotline knows: the citizen's words, who called, where, the routing
suggestion, the reply and the rating. The configuration the hotline centre edits in the
admin — time limits per ticket kind, categories, and which department handles a category in
which division — is rows here, not code."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.cases.models import Case
from yiwang.core.models import Department, Division


class TicketKind(models.TextChoices):
    CONSULTATION = "consultation", pgettext_lazy("ticket kind", "Consultation")
    HELP = "help", pgettext_lazy("ticket kind", "Request for help")
    COMPLAINT = "complaint", pgettext_lazy("ticket kind", "Complaint")
    REPORT = "report", pgettext_lazy("ticket kind", "Report")
    SUGGESTION = "suggestion", pgettext_lazy("ticket kind", "Suggestion")
    PRAISE = "praise", pgettext_lazy("ticket kind", "Praise")


class Channel(models.TextChoices):
    WEB = "web", pgettext_lazy("ticket channel", "Web form")
    PHONE = "phone", pgettext_lazy("ticket channel", "Phone call")
    API = "api", pgettext_lazy("ticket channel", "API")
    OPEN311 = "open311", pgettext_lazy("ticket channel", "Open311")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", pgettext_lazy("rating", "Satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", pgettext_lazy("rating", "Basically satisfied")
    UNSATISFIED = "unsatisfied", pgettext_lazy("rating", "Unsatisfied")


class LimitUnit(models.TextChoices):
    DAYS = "days", _("working days")
    HOURS = "hours", _("working hours")


class KindLimit(models.Model):
    """The time limit of a ticket kind, from intake to the reply (咨询 1 working day …)."""

    kind = models.CharField(_("ticket kind"), max_length=16, choices=TicketKind.choices, primary_key=True)
    amount = models.DecimalField(_("time limit"), max_digits=5, decimal_places=1)
    unit = models.CharField(_("unit"), max_length=8, choices=LimitUnit.choices, default=LimitUnit.DAYS)

    class Meta:
        verbose_name = _("time limit of a ticket kind")
        verbose_name_plural = _("time limits of ticket kinds")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.amount} {self.get_unit_display()}"


class Category(models.Model):
    """A routing category (城乡建设, 交通运输 …). `name` is the label the classifier is trained
    on; `code` is the Open311 service code."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64, unique=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    keywords = models.CharField(_("keywords"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Category × division → department. A ticket placed in a village looks for a rule of its
    village, then its town, county and city; the most local rule wins. A rule without a
    division is the city-wide default."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="rules", verbose_name=_("category")
    )
    division = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("division"),
        help_text=_("Empty: the whole city."),
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.UniqueConstraint(fields=["category", "division"], name="hotline_rule_unique"),
            models.UniqueConstraint(
                fields=["category"], condition=models.Q(division=None), name="hotline_rule_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} × {self.division or _('city')} → {self.department}"


class Ticket(models.Model):
    """One citizen request. Its state, department, deadlines and timeline are the case's."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, primary_key=True, related_name="ticket")
    kind = models.CharField(_("ticket kind"), max_length=16, choices=TicketKind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    text = models.TextField(_("request"))
    caller_name = models.CharField(_("caller"), max_length=64, blank=True)
    caller_phone = models.CharField(_("phone"), max_length=20)
    address = models.CharField(_("address"), max_length=200)
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("place")
    )
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hotline_tickets",
        verbose_name=_("citizen"),
    )
    received_at = models.DateTimeField(_("received"), db_index=True)
    # What routing proposed (kept even when a dispatcher chose otherwise).
    suggested_category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    suggested_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    auto_dispatched = models.BooleanField(_("dispatched automatically"), default=False)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("category"),
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    reply = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    reply_late = models.BooleanField(default=False)
    rating = models.CharField(_("rating"), max_length=24, choices=Rating.choices, blank=True)
    rating_note = models.CharField(_("rating note"), max_length=255, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    # Given to the citizen and to Open311 clients to follow the ticket without logging in.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        ordering = ["-received_at", "-case_id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["division", "received_at"]),
            models.Index(fields=["caller_phone", "received_at"]),
        ]

    def __str__(self) -> str:
        return self.case.reference
