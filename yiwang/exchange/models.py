"""The data sharing and exchange hub: the catalog, records pushed by departments, access
requests and grants, and the evidence of every read.

A resource either holds its own records (pushed by the owning department's system) or is
*backed* by a registry table (persons, households, enterprises, properties): the registry stays
the one copy, and the exchange only decides who may read which field and keeps the evidence.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.core.models import Department


class UpdateFrequency(models.TextChoices):
    REALTIME = "realtime", _("Real time")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class SubjectType(models.TextChoices):
    PERSON = "person", _("Person")
    HOUSEHOLD = "household", pgettext_lazy("subject type", "Household")
    ENTERPRISE = "enterprise", _("Enterprise")
    PROPERTY = "property", _("Property")
    EVENT = "event", _("Event")
    NONE = "none", _("None")


class SharingClass(models.TextChoices):
    # Contexts: "Open"/"Closed" mean other things elsewhere (a case is closed, a hall is open).
    OPEN = "open", pgettext_lazy("sharing class", "Open")
    CONDITIONAL = "conditional", pgettext_lazy("sharing class", "Conditional")
    CLOSED = "closed", pgettext_lazy("sharing class", "Closed")


class FieldType(models.TextChoices):
    STRING = "string", _("Text")
    INTEGER = "integer", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes / no")


class Backing(models.TextChoices):
    RECORDS = "", _("Records pushed by the department")
    PERSON = "person", _("Registry: persons")
    HOUSEHOLD = "household", _("Registry: households")
    ENTERPRISE = "enterprise", _("Registry: enterprises")
    PROPERTY = "property", _("Registry: properties")
    HOUSEHOLD_MEMBER = "household_member", _("Registry: household members")
    PROPERTY_OWNER = "property_owner", _("Registry: property owners")


class Resource(models.Model):
    """One entry of the catalog (政务数据资源目录), with DCAT-like metadata."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=128)
    description = models.TextField(_("description"), blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="exchange_resources", verbose_name=_("department")
    )
    source_system = models.CharField(_("source system"), max_length=128, blank=True)
    update_frequency = models.CharField(
        _("update frequency"), max_length=16, choices=UpdateFrequency.choices, default="daily"
    )
    subject_type = models.CharField(_("subject type"), max_length=16, choices=SubjectType.choices)
    publisher = models.CharField(_("publisher"), max_length=128, blank=True)
    contact = models.CharField(_("contact"), max_length=128, blank=True)
    theme = models.CharField(_("theme"), max_length=64, blank=True)
    access_rights = models.CharField(_("access rights"), max_length=255, blank=True)
    provenance = models.CharField(_("provenance"), max_length=255, blank=True)
    key_field = models.CharField(_("record key field"), max_length=64)
    subject_field = models.CharField(_("subject field"), max_length=64, blank=True)
    backing = models.CharField(_("backed by"), max_length=16, choices=Backing.choices, blank=True, default="")
    record_count = models.PositiveIntegerField(_("records"), default=0)
    published_at = models.DateTimeField(_("published at"))
    last_updated_at = models.DateTimeField(_("last updated at"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("data resource")
        verbose_name_plural = _("data resources")

    def __str__(self) -> str:
        return f"{self.title} ({self.code})"


class ResourceField(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(_("name"), max_length=64)
    label = models.CharField(_("label"), max_length=64, blank=True)
    type = models.CharField(_("type"), max_length=16, choices=FieldType.choices, default="string")
    description = models.CharField(_("description"), max_length=255, blank=True)
    sharing_class = models.CharField(_("sharing class"), max_length=16, choices=SharingClass.choices)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["resource", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["resource", "name"], name="exchange_field_unique")]

    def __str__(self) -> str:
        return f"{self.resource_id}.{self.name}"


class IngestBatch(models.Model):
    """One push of records: its digest (the same batch twice is recognised), mode and report."""

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("All or nothing")
        KEEP_GOOD_ROWS = "keep_good_rows", _("Keep good rows")

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="batches")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    digest = models.CharField(max_length=64, db_index=True)
    source = models.CharField(_("source"), max_length=255, blank=True)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    applied = models.BooleanField(_("applied"), default=False)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"batch {self.pk} of {self.resource_id}"


class Record(models.Model):
    """One record of a resource, upserted by key. `digest` is the hash of its canonical data,
    so an unchanged row is recognised without decoding the JSON."""

    # No index of their own: (resource, key) leads the unique index; batches are not looked up
    # by record. Fewer indexes, faster ingest.
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="records", db_index=False)
    key = models.CharField(max_length=128)
    subject_key = models.CharField(max_length=64, blank=True)
    data = models.JSONField()
    digest = models.CharField(max_length=32)
    batch = models.ForeignKey(
        IngestBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["resource", "key"], name="exchange_record_key")]
        indexes = [models.Index(fields=["resource", "subject_key", "key"], name="exchange_record_subject")]

    def __str__(self) -> str:
        return f"{self.resource_id}:{self.key}"


class RecordHistory(models.Model):
    """A change of a record by a batch: before and after. (A creation is the record's first
    batch; its history starts with the first change.)"""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="history")
    batch = models.ForeignKey(IngestBatch, on_delete=models.CASCADE, related_name="+")
    before = models.JSONField()
    after = models.JSONField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"change of {self.record_id} by batch {self.batch_id}"


class AccessRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="access_requests")
    consumer = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="exchange_requests")
    fields = models.JSONField(_("fields"))
    purpose = models.CharField(_("purpose"), max_length=255)
    legal_basis = models.CharField(_("legal basis"), max_length=255)
    duration_days = models.PositiveIntegerField(_("duration (days)"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default="pending")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"request {self.pk} ({self.state})"


class Grant(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="grants")
    consumer = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="exchange_grants")
    fields = models.JSONField(_("fields"))
    purpose = models.CharField(_("purpose"), max_length=255, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"))
    request = models.OneToOneField(
        AccessRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="grant"
    )
    expired = models.BooleanField(default=False)

    class Meta:
        ordering = ["-valid_from"]
        indexes = [models.Index(fields=["consumer", "resource", "valid_to"], name="exchange_grant_live")]

    def __str__(self) -> str:
        return f"grant {self.pk} to {self.consumer_id}"


class ExchangeRead(models.Model):
    """Evidence of one read: who, why, what, and the hashes of the request and the response.
    The rows form a hash chain: `hash` = HMAC-SM3(key, `previous_hash` || the row's columns),
    `previous_hash` being the hash of the row before it (`sequence` - 1), so a changed, removed
    or inserted row is detectable. (Rows written before the chain have sequence 0 and are
    sealed alone.)"""

    at = models.DateTimeField(db_index=True)
    # One index only (time): every read writes a row, and each index is one more page per read.
    consumer = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+", db_index=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="reads", db_index=False)
    purpose = models.CharField(max_length=255)
    fields = models.JSONField()
    subject = models.CharField(max_length=64, blank=True)
    request = models.JSONField()
    request_hash = models.CharField(max_length=64)
    response_hash = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)
    # No index: the chain is walked in id order, which is the order of the links (rows are
    # inserted under the head's lock).
    sequence = models.PositiveBigIntegerField(default=0)
    previous_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"read {self.pk} by {self.consumer_id}"


class EvidenceHead(models.Model):
    """The head of the evidence chain (one row, id 1): the last sequence and hash. Locking it
    orders the evidence rows; it also carries `catalog_version`, a random token that every
    change of the catalog or the grants replaces, so the readers' cached resources and grants
    are checked under the same lock that orders the evidence."""

    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    catalog_version = models.CharField(max_length=32, blank=True, default="")

    def __str__(self) -> str:
        return f"evidence head #{self.sequence}"
