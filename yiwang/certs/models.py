"""E-seals (电子印章), certificate types as data and the e-certificates (电子证照) issued under them.

A certificate's `payload` is the exact canonical JSON that was signed; the other columns are
its searchable copy. Verification rebuilds the payload from the columns and checks both the
stored digest and the SM2 signature, so a row edited behind the platform's back shows as
tampered."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.core.models import Department


class Seal(models.Model):
    """电子印章: a department's SM2 key pair and the text of its visible seal. One active seal per
    department; a new one supersedes it, and certificates signed with the old one stay
    verifiable with its public key."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="seals", verbose_name=_("department")
    )
    key_id = models.CharField(_("key fingerprint"), max_length=16, unique=True)
    public_key = models.CharField(_("public key"), max_length=128)
    private_key_encrypted = models.TextField(_("encrypted private key"))
    text = models.CharField(_("seal text"), max_length=64)
    caption = models.CharField(_("seal caption"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created"))
    created_by = models.CharField(_("created by"), max_length=128)
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True)

    class Meta:
        ordering = ["department__code", "-created_at"]
        verbose_name = _("e-seal")
        verbose_name_plural = _("e-seals")
        constraints = [
            models.UniqueConstraint(
                fields=["department"],
                condition=models.Q(superseded_at__isnull=True),
                name="certs_seal_one_active_per_department",
            )
        ]

    def __str__(self) -> str:
        return f"{self.text} ({self.key_id})"

    @property
    def is_active(self) -> bool:
        return self.superseded_at is None


class HolderKind(models.TextChoices):
    PERSON = "person", _("Person")
    ENTERPRISE = "enterprise", _("Enterprise")


class CertificateType(models.Model):
    """A kind of certificate (营业执照, 不动产权证书 …), as data: who issues it, to whom, which
    fields it carries and for how long it is valid.

    `fields` is a list of {"key": "name", "label": "姓名", "label_en": "Name",
    "required": true}; the certificate's own fields are a JSON object with those keys."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=128, blank=True)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="certificate_types",
        verbose_name=_("issuing department"),
    )
    holder_kind = models.CharField(_("holder kind"), max_length=16, choices=HolderKind.choices)
    fields = models.JSONField(_("fields"), default=list)
    validity_days = models.PositiveIntegerField(
        _("validity in days"), null=True, blank=True, help_text=_("Empty: valid without a time limit.")
    )
    # Issuing a new certificate of this type to the same holder supersedes the valid one.
    one_per_holder = models.BooleanField(_("one valid per holder"), default=True)
    legal_basis = models.CharField(_("legal basis"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("certificate type")
        verbose_name_plural = _("certificate types")

    def __str__(self) -> str:
        return self.name


class CertificateStatus(models.TextChoices):
    VALID = "valid", pgettext_lazy("certificate", "Valid")
    REVOKED = "revoked", pgettext_lazy("certificate", "Revoked")
    SUPERSEDED = "superseded", pgettext_lazy("certificate", "Superseded")


class NumberSequence(models.Model):
    """The last number given to a certificate type in a year (incremented by an UPDATE that
    takes the row's lock first, so concurrent issues never share a number)."""

    certificate_type = models.ForeignKey(CertificateType, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["certificate_type", "year"], name="certs_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.certificate_type_id}/{self.year}: {self.last}"


class Certificate(models.Model):
    """电子证照: one signed certificate."""

    number = models.CharField(_("certificate number"), max_length=40, unique=True)
    certificate_type = models.ForeignKey(
        CertificateType, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("type")
    )
    holder_kind = models.CharField(_("holder kind"), max_length=16, choices=HolderKind.choices)
    holder = models.CharField(_("holder"), max_length=18, db_index=True, help_text=_("ID number or USCC."))
    holder_name = models.CharField(_("holder name"), max_length=128)
    fields = models.JSONField(_("fields"), default=dict)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("issuing department"),
    )
    seal = models.ForeignKey(
        Seal, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("seal")
    )
    issued_at = models.DateTimeField(_("issued"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=CertificateStatus.choices, default=CertificateStatus.VALID
    )
    payload = models.TextField(_("signed payload"))
    digest = models.CharField(_("SM3 digest"), max_length=64)
    signature = models.CharField(_("SM2 signature"), max_length=128)
    # The secret part of the public verification URL (printed as the QR code).
    token = models.CharField(max_length=24, unique=True)
    source = models.CharField(_("source"), max_length=128, blank=True)
    issued_by = models.CharField(_("issued by"), max_length=128)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_reason = models.CharField(_("reason for revocation"), max_length=255, blank=True)
    revoked_by = models.CharField(_("revoked by"), max_length=128, blank=True)
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("superseded by"),
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("e-certificate")
        verbose_name_plural = _("e-certificates")
        indexes = [models.Index(fields=["holder", "status"], name="certs_holder_status")]

    def __str__(self) -> str:
        return f"{self.certificate_type.name} {self.number}"
