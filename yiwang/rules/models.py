"""Rules and their parameters as data. A parameter (the 15,000-yuan threshold, the minimum age)
has dated values that never overlap; a rule has numbered versions, each a definition (see
yiwang.rules.definition) written by one person and approved by another before it is published."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Parameter(models.Model):
    """A named value a rule compares with or pays. Integer: money in fen, ages in years."""

    code = models.CharField(_("code"), max_length=96, unique=True)
    label = models.CharField(_("label"), max_length=128)
    unit = models.CharField(_("unit"), max_length=16, help_text=_("fen, years, months, count …"))
    basis_document = models.CharField(_("legal basis"), max_length=255)
    basis_article = models.CharField(_("article"), max_length=64, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("rule parameter")
        verbose_name_plural = _("rule parameters")

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class ParameterValue(models.Model):
    """The value from `valid_from` to `valid_to` (inclusive; empty = until further notice)."""

    parameter = models.ForeignKey(Parameter, on_delete=models.PROTECT, related_name="values")
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    value = models.BigIntegerField(_("value"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["parameter", "valid_from"]
        verbose_name = _("parameter value")
        verbose_name_plural = _("parameter values")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="rules_parameter_value_range",
            ),
            models.UniqueConstraint(fields=["parameter", "valid_from"], name="rules_parameter_value_start"),
        ]

    def __str__(self) -> str:
        return f"{self.parameter.code} = {self.value} ({self.valid_from}–{self.valid_to or '…'})"


class RuleKind(models.TextChoices):
    ELIGIBILITY = "eligibility", _("Policy eligibility")
    SCREENING = "screening", _("Screening rule")
    AMOUNT = "amount", _("Amount formula")


class Rule(models.Model):
    code = models.CharField(_("code"), max_length=96, unique=True)
    title = models.CharField(_("title"), max_length=128)
    kind = models.CharField(_("kind"), max_length=16, choices=RuleKind.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = _("rule")
        verbose_name_plural = _("rules")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("rule version", "Draft")
    APPROVED = "approved", pgettext_lazy("rule version", "Approved")
    PUBLISHED = "published", pgettext_lazy("rule version", "Published")
    RETIRED = "retired", pgettext_lazy("rule version", "Retired")


class RuleVersion(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    status = models.CharField(
        _("status"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    note = models.CharField(_("what changed"), max_length=255, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rule", "-number"]
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="rules_version_number"),
            models.UniqueConstraint(
                fields=["rule"], condition=models.Q(status="published"), name="rules_one_published"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule.code} v{self.number} ({self.status})"
