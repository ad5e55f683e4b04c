"""The cases engine's data: cases, their timeline, co-handling departments, the escalation
log that keeps the SLA sweep idempotent, and the database-backed task queue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models import Department, Division


class SlaStatus(models.TextChoices):
    GREEN = "green", _("On time")
    YELLOW = "yellow", _("Near the deadline")
    RED = "red", _("Overdue")


class CaseCounter(models.Model):
    """The last reference number given in a year (2026-000123)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Case(models.Model):
    """One piece of work someone must do by a deadline. `type_code` names a registered case
    type (yiwang.cases.types); the application keeps its own data in `data` or in its own
    models pointing here, and says what the case is about with `subject_type`/`subject_key`."""

    type_code = models.CharField(_("case type"), max_length=64, db_index=True)
    reference = models.CharField(_("reference number"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    state = models.CharField(_("state"), max_length=32, db_index=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="cases", verbose_name=_("department")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )
    division = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("division"),
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    subject_type = models.CharField(_("subject type"), max_length=64, blank=True)
    subject_key = models.CharField(_("subject"), max_length=64, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    opened_at = models.DateTimeField(_("opened"))
    state_entered_at = models.DateTimeField(_("state entered"))
    state_warn_at = models.DateTimeField(null=True, blank=True)
    state_deadline = models.DateTimeField(_("state deadline"), null=True, blank=True)
    case_warn_at = models.DateTimeField(null=True, blank=True)
    case_deadline = models.DateTimeField(_("case deadline"), null=True, blank=True)
    sla_status = models.CharField(
        _("time limit"), max_length=8, choices=SlaStatus.choices, default=SlaStatus.GREEN, db_index=True
    )
    version = models.PositiveIntegerField(default=1)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["department", "state"]),
            models.Index(fields=["subject_type", "subject_key"]),
            models.Index(fields=["closed_at", "sla_status"]),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def attachment_path(instance: CaseEvent, filename: str) -> str:
    return f"cases/{instance.case.reference}/{filename}"


class CaseEvent(models.Model):
    """One line of a case's timeline: opened, a transition, an assignment, an attachment,
    a warning or an escalation."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=128)
    kind = models.CharField(_("kind"), max_length=32)
    transition = models.CharField(_("transition"), max_length=64, blank=True)
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32, blank=True)
    note = models.TextField(_("note"), blank=True)
    attachment = models.FileField(_("attachment"), upload_to=attachment_path, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.transition}"


class CaseParticipant(models.Model):
    """A department asked to co-handle a case (协办)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32, default="co_handler")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "department"], name="cases_participant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} + {self.department_id}"


class EscalationLog(models.Model):
    """An escalation rule that fired for one stay of a case in a state: the unique constraint
    makes the sweep idempotent (two sweeps, or two workers, fire it once)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="escalations")
    rule = models.CharField(max_length=64)
    state = models.CharField(max_length=32)
    state_entered_at = models.DateTimeField()
    fired_at = models.DateTimeField()
    notify_role = models.CharField(max_length=32, blank=True)
    transition = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "rule", "state", "state_entered_at"], name="cases_escalation_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.rule}"


class Notification(models.Model):
    """A message to the holders of a role (in a department), shown on their workbench. Until
    core has an outbox this is the engine's own inbox."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    role = models.CharField(max_length=32)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    message = models.CharField(max_length=255)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.message


class TaskState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Task(models.Model):
    """One unit of background work. Workers claim it with a compare-and-set UPDATE."""

    name = models.CharField(max_length=128)
    args = models.JSONField(default=dict, blank=True)
    run_at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=8, choices=TaskState.choices, default=TaskState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    locked_by = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    # A periodic run ("cases.sla_sweep@2026-10-09T10:05") is enqueued once, whoever schedules it.
    unique_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "run_at"])]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} {self.state}"


class NoticeChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class NoticeState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notice(models.Model):
    """One message to one person (SMS or e-mail) in the outbox: written in the transaction of the
    change it tells about, delivered after commit by the backend the settings name (console or
    file by default; a city plugs in its SMS gateway). `ref` ties it to what it is about
    (e.g. a case reference) and, with `key`, makes sending the same notice twice a no-op."""

    channel = models.CharField(max_length=8, choices=NoticeChannel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    address = models.CharField(_("phone or e-mail"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    ref = models.CharField(max_length=64, blank=True, db_index=True)
    key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    state = models.CharField(max_length=8, choices=NoticeState.choices, default=NoticeState.QUEUED)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def __str__(self) -> str:
        return f"{self.channel} {self.ref}: {self.subject}"
