"""防止返贫监测: warnings (from the departments' screening rules and from reports), the
verification case each becomes, monitored households with their risk types, one-to-one
cadre, assistance measures and reviews, and the log of screening runs.

A warning is unique per (household, source, period): however often a screening reruns for the
same period, a household is warned once. A household is monitored at most once at a time
(a partial unique constraint on the households not yet cleared)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.cases.models import Case
from yiwang.core.models import Division
from yiwang.registry.models import Household


class Source(models.TextChoices):
    MEDICAL = "medical", _("Medical insurance: high self-paid costs")
    DISASTER = "disaster", _("Emergency management: disaster")
    ACCIDENT = "accident", _("Traffic police: traffic accident")
    VILLAGE_REPORT = "village_report", _("Village cadre's report")
    SELF_REPORT = "self_report", _("Household's own application")


# The screening rules, by source (rule files in yiwang/relapse/rules/).
RULE_SOURCES = {
    "relapse.medical": Source.MEDICAL,
    "relapse.disaster": Source.DISASTER,
    "relapse.accident": Source.ACCIDENT,
}


class RiskType(models.TextChoices):
    ILLNESS = "illness", _("Illness (因病)")
    DISASTER = "disaster", _("Disaster (因灾)")
    ACCIDENT = "accident", _("Accident (因意外事故)")
    EDUCATION = "education", _("Schooling costs (因学)")
    DISABILITY = "disability", _("Disability (因残)")
    UNEMPLOYMENT = "unemployment", _("Unemployment (因失业)")
    INDUSTRY = "industry", _("Failed business (因产业失败)")
    OTHER = "other", pgettext_lazy("risk type", "Other")


class MeasureKind(models.TextChoices):
    INDUSTRY = "industry", _("Industry support")
    EMPLOYMENT = "employment", _("Employment support")
    EDUCATION = "education", _("Education aid")
    MEDICAL = "medical", _("Medical aid")
    HOUSING = "housing", _("Housing safety")
    DRINKING_WATER = "drinking_water", _("Drinking water safety")
    SUBSISTENCE = "subsistence", _("Minimum living allowance (低保)")
    EXTREME_POVERTY = "extreme_poverty", _("Support for the extremely poor (特困)")
    DISABILITY = "disability", _("Disability subsidies")
    INSURANCE = "insurance", _("Insurance")


class ScreeningRun(models.Model):
    """One run of a screening rule: by schedule, on ingest of a feed batch, or on demand.
    A scheduled run carries its slot (e.g. "relapse.medical@2026-11"), unique, so a slot runs
    once however many workers schedule it."""

    rule_code = models.CharField(_("rule"), max_length=64)
    rule_version = models.PositiveIntegerField(_("rule version"), default=0)
    on = models.DateField(_("evaluated on"))
    period = models.CharField(_("period"), max_length=16)
    trigger = models.CharField(_("trigger"), max_length=16)  # schedule, ingest, demand
    slot = models.CharField(max_length=96, null=True, blank=True, unique=True)
    subjects = models.PositiveIntegerField(_("households screened"), null=True, blank=True)
    flagged = models.PositiveIntegerField(_("households flagged"), default=0)
    created = models.PositiveIntegerField(_("warnings created"), default=0)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    actor_label = models.CharField(_("actor"), max_length=128, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("screening run")
        verbose_name_plural = _("screening runs")

    def __str__(self) -> str:
        return f"{self.rule_code} {self.period} ({self.trigger})"


class FeedMark(models.Model):
    """How far the real-time sweep of a feed has got: the last ingest batch screened."""

    resource_code = models.CharField(max_length=64, unique=True)
    last_batch_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.resource_code} @ {self.last_batch_id}"


class Warning(models.Model):
    class State(models.TextChoices):
        VERIFYING = "verifying", _("Being verified")
        CONFIRMED = "confirmed", _("Confirmed: monitored")
        DISMISSED = "dismissed", _("Dismissed")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="relapse_warnings")
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    period = models.CharField(_("period"), max_length=16)
    town = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("town"))
    raised_on = models.DateField(_("raised on"))
    raised_at = models.DateTimeField(_("raised at"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.VERIFYING)
    rule_code = models.CharField(_("rule"), max_length=64, blank=True)
    rule_version = models.PositiveIntegerField(default=0)
    run = models.ForeignKey(ScreeningRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # What the rule found, condition by condition: [{id, label, value, op, compared_with, passed}]
    findings = models.JSONField(_("findings"), default=list, blank=True)
    # A report's own words and who made it (village cadre or the household).
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reporter_name = models.CharField(_("reported by"), max_length=64, blank=True)
    reporter_phone = models.CharField(_("phone"), max_length=20, blank=True)
    description = models.TextField(_("situation"), blank=True)
    risk_types = models.JSONField(_("risk types"), default=list, blank=True)
    case = models.OneToOneField(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        constraints = [
            models.UniqueConstraint(
                fields=["household", "source", "period"], name="relapse_warning_once_per_period"
            )
        ]
        indexes = [models.Index(fields=["town", "state"]), models.Index(fields=["source", "period"])]

    def __str__(self) -> str:
        return f"{self.household_id} {self.source} {self.period}"


class MonitoredHousehold(models.Model):
    """监测户: confirmed at risk, followed with a one-to-one cadre until the risk is cleared."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="relapse_monitoring")
    town = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("town"))
    risk_types = models.JSONField(_("risk types"), default=list)
    # Members as read through the exchange (ga.household_members + ga.persons) when confirmed.
    members = models.JSONField(_("members"), default=list, blank=True)
    member_count = models.PositiveSmallIntegerField(_("members"), default=0)
    cadre = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("one-to-one cadre"),
    )
    confirmed_on = models.DateField(_("monitored since"))
    next_review_on = models.DateField(_("next review"))
    cleared_on = models.DateField(_("risk cleared on"), null=True, blank=True)
    cleared_reason = models.TextField(_("why the risk is cleared"), blank=True)

    class Meta:
        ordering = ["-confirmed_on", "-id"]
        verbose_name = _("monitored household")
        verbose_name_plural = _("monitored households")
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(cleared_on__isnull=True), name="relapse_monitored_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} since {self.confirmed_on}"

    @property
    def is_active(self) -> bool:
        return self.cleared_on is None


class Measure(models.Model):
    """帮扶措施: what was done for a monitored household, when, and how much (fen)."""

    monitored = models.ForeignKey(MonitoredHousehold, on_delete=models.CASCADE, related_name="measures")
    kind = models.CharField(_("kind"), max_length=16, choices=MeasureKind.choices)
    description = models.CharField(_("what was done"), max_length=255)
    started_on = models.DateField(_("date"))
    amount_fen = models.BigIntegerField(_("amount (fen)"), default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["started_on", "id"]
        verbose_name = _("assistance measure")
        verbose_name_plural = _("assistance measures")

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_fen}"


class Review(models.Model):
    """A periodic review (回访) of a monitored household: is the risk still there?"""

    monitored = models.ForeignKey(MonitoredHousehold, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField(_("reviewed on"))
    risk_remains = models.BooleanField(_("risk remains"))
    note = models.TextField(_("note"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["reviewed_on", "id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self) -> str:
        return f"{self.monitored_id} {self.reviewed_on}"
