"""The data of no-application benefits (免申即享), after OpenG2P's programme / cycle /
entitlement / disbursement:

- Policy: a benefit the city pays without an application, tied to its rule (a rule file in
  yiwang/benefits/rules/) and to the department that pays it;
- Run: one pass of a policy for a period (2026 年度, 2026-11, or "once" for one-off benefits),
  with the rule version it used, its totals and its four-eyes approval;
- Entitlement: one beneficiary found by a run, with the amount;
- Payment: the ledger, unique on (policy, period, beneficiary): whatever reruns, crashes or
  concurrent runs happen, a beneficiary is paid at most once per policy and period;
- Notice: the message each paid beneficiary finds under "my benefits";
- Decline: a beneficiary's "I do not want this benefit" (no further payments);
- Objection: a beneficiary's objection, handled as a case (yiwang.benefits.cases).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.cases.models import Case
from yiwang.core.models import Department
from yiwang.rules.models import RuleVersion


class SubjectType(models.TextChoices):
    PERSON = "person", _("Person")
    ENTERPRISE = "enterprise", _("Enterprise")


class PeriodKind(models.TextChoices):
    YEAR = "year", pgettext_lazy("benefit period", "Yearly")
    MONTH = "month", pgettext_lazy("benefit period", "Monthly")
    ONCE = "once", pgettext_lazy("benefit period", "One-off")


class Policy(models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)  # the rule's code
    title = models.CharField(_("title"), max_length=128)
    summary = models.TextField(_("summary"), blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="benefit_policies")
    subject_type = models.CharField(_("beneficiary type"), max_length=16, choices=SubjectType.choices)
    period_kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    # The rule's amount divided by this (rounding down) is the amount in fen: 100 when the
    # rule multiplies fen by a rate in percent.
    amount_divisor = models.PositiveIntegerField(default=1)
    rule_file = models.CharField(max_length=128)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("benefit policy")
        verbose_name_plural = _("benefit policies")

    def __str__(self) -> str:
        return self.title


class RunState(models.TextChoices):
    COMPUTING = "computing", pgettext_lazy("benefit run", "Finding the eligible")
    REVIEW = "review", pgettext_lazy("benefit run", "Awaiting approval")
    PAYING = "paying", pgettext_lazy("benefit run", "Paying")
    PAID = "paid", pgettext_lazy("benefit run", "Paid")
    REJECTED = "rejected", pgettext_lazy("benefit run", "Rejected")


class Run(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="runs")
    period = models.CharField(_("period"), max_length=16)  # 2026, 2026-11 or once
    evaluated_on = models.DateField(_("evaluated on"))
    rule_version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=12, choices=RunState.choices, default=RunState.COMPUTING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    computed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=255, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    eligible_count = models.PositiveIntegerField(default=0)
    total_fen = models.BigIntegerField(default=0)
    paid_count = models.PositiveIntegerField(default=0)
    paid_fen = models.BigIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)  # already paid by another run, or declined
    # Payment resumes after the last entitlement id written (a crash loses at most one chunk,
    # which rolled back whole).
    paid_through = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["policy", "period"])]

    def __str__(self) -> str:
        return f"{self.policy.code} {self.period} #{self.pk}"


class EntitlementStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("entitlement", "Pending")
    PAID = "paid", pgettext_lazy("entitlement", "Paid")
    SKIPPED = "skipped", pgettext_lazy("entitlement", "Already paid or declined")


class Entitlement(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="entitlements")
    beneficiary = models.CharField(max_length=18)  # ID number or USCC
    division_code = models.CharField(max_length=12, blank=True)
    amount_fen = models.BigIntegerField()
    status = models.CharField(
        max_length=8, choices=EntitlementStatus.choices, default=EntitlementStatus.PENDING
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "beneficiary"], name="benefits_entitlement_once")
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.beneficiary} {self.amount_fen}"


class PaymentOrigin(models.TextChoices):
    PLATFORM = "platform", _("Found by the platform (no application)")
    OBJECTION = "objection", _("Paid after an objection")


class Payment(models.Model):
    """The ledger: one row per (policy, period, beneficiary), ever."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="payments")
    period = models.CharField(max_length=16)
    beneficiary = models.CharField(max_length=18)
    division_code = models.CharField(max_length=12, blank=True)
    amount_fen = models.BigIntegerField()
    run = models.ForeignKey(Run, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    origin = models.CharField(max_length=12, choices=PaymentOrigin.choices, default=PaymentOrigin.PLATFORM)
    paid_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "period", "beneficiary"], name="benefits_paid_once")
        ]
        indexes = [models.Index(fields=["beneficiary"]), models.Index(fields=["run"])]

    def __str__(self) -> str:
        return f"{self.policy_id} {self.period} {self.beneficiary} {self.amount_fen}"


class Notice(models.Model):
    """What a paid beneficiary is told (shown under "my benefits", with the explanation)."""

    payment = models.OneToOneField(Payment, on_delete=models.CASCADE, related_name="notice")
    beneficiary = models.CharField(max_length=18, db_index=True)
    message = models.CharField(max_length=255)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.message


class Decline(models.Model):
    """A beneficiary declined a policy: no further payments of it."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="declines")
    beneficiary = models.CharField(max_length=18)
    declined_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declined_at = models.DateTimeField()
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "beneficiary"], name="benefits_decline_once")
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} {self.beneficiary}"


class Objection(models.Model):
    """A beneficiary's objection ("I should have been paid", "the amount is wrong"): a case of
    type benefits.objection handled by the policy's department."""

    case = models.OneToOneField(
        Case, on_delete=models.PROTECT, primary_key=True, related_name="benefit_objection"
    )
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="objections")
    period = models.CharField(max_length=16)
    beneficiary = models.CharField(max_length=18, db_index=True)
    text = models.TextField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"{self.case_id} {self.beneficiary}"
