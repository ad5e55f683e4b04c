"""One-network services (一网通办): the matter catalog with its guide, the form of each matter as
data, and the applications citizens and enterprises submit (each one a case of the cases
engine, handled by the matter's department).

A bundle (一件事) is one submission (BundleApplication, whose case is the parent) that becomes
applications in several departments (their cases are its children), released in the order of the
bundle's steps (a DAG: a step starts when every step it depends on is approved).

A tolerated gap (容缺) or a pledge (告知承诺) is an ApplicationGap: a material accepted missing, with
a deadline in working days to supply it (or to verify the pledge).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.core.models import Department


class MatterType(models.IntegerChoices):
    """事项类型, coded as the national government-service platform codes them."""

    LICENSING = 1, _("Administrative licensing")  # 行政许可
    PENALTY = 2, _("Administrative penalty")  # 行政处罚
    COMPULSION = 3, _("Administrative compulsion")  # 行政强制
    LEVY = 4, _("Administrative levy")  # 行政征收
    PAYMENT = 5, _("Administrative payment")  # 行政给付
    INSPECTION = 6, _("Administrative inspection")  # 行政检查
    CONFIRMATION = 7, _("Administrative confirmation")  # 行政确认
    REWARD = 8, _("Administrative reward")  # 行政奖励
    ADJUDICATION = 9, _("Administrative adjudication")  # 行政裁决
    OTHER_POWER = 10, _("Other administrative power")  # 其他行政权力
    PUBLIC_SERVICE = 20, _("Public service")  # 公共服务


class ApplicantKind(models.TextChoices):
    PERSON = "person", _("Natural person")
    ENTERPRISE = "enterprise", _("Legal person")
    BOTH = "both", _("Natural or legal person")


class Matter(models.Model):
    """政务服务事项: one service item with its guide (办事指南)."""

    code = models.CharField(_("matter code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    main_item = models.CharField(_("main item"), max_length=200, blank=True)
    type = models.PositiveSmallIntegerField(_("matter type"), choices=MatterType.choices)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="matters", verbose_name=_("responsible department")
    )
    # As the source file named them (a foreign catalog names its own departments and divisions).
    source_department = models.CharField(_("department as in the source"), max_length=128, blank=True)
    division_code = models.CharField(_("division code"), max_length=12, blank=True)
    applicant_kind = models.CharField(
        _("who may apply"), max_length=16, choices=ApplicantKind.choices, default=ApplicantKind.PERSON
    )
    legal_limit_days = models.PositiveSmallIntegerField(
        _("legal time limit (working days)"), null=True, blank=True
    )
    promised_limit_days = models.PositiveSmallIntegerField(
        _("promised time limit (working days)"), null=True, blank=True
    )
    visits = models.PositiveSmallIntegerField(
        _("visits needed"), default=0, help_text=_("跑动次数: 0 = fully online.")
    )
    online = models.BooleanField(_("can be applied for online"), default=True)
    fee_fen = models.PositiveIntegerField(_("fee (fen)"), default=0)
    fee_note = models.CharField(_("fee basis"), max_length=255, blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    conditions = models.TextField(_("conditions"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=255, blank=True)
    # Stored at import so that search needs no conversion: full pinyin and initials of the name.
    name_pinyin = models.CharField(max_length=600, blank=True, editable=False)
    name_initials = models.CharField(max_length=200, blank=True, editable=False)
    keywords_initials = models.CharField(max_length=255, blank=True, editable=False)
    # 秒批: the code of the rule (rules engine) that approves a submission with no human step.
    instant_rule = models.CharField(
        _("instant-approval rule"),
        max_length=64,
        blank=True,
        help_text=_("A rule code: a submission that meets it is approved at once (秒批)."),
    )
    # The e-certificate type (certs) issued when an application is approved.
    certificate_type = models.CharField(_("certificate issued"), max_length=32, blank=True)
    gap_supply_days = models.PositiveSmallIntegerField(
        _("days to supply a tolerated material"),
        default=5,
        help_text=_("Working days to supply a material accepted missing, or to verify a pledge."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The digest of the imported row: re-importing an unchanged row is recognised and skipped.
    digest = models.CharField(max_length=32, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("matter")
        verbose_name_plural = _("matters")
        indexes = [models.Index(fields=["department", "type"])]

    def __str__(self) -> str:
        return self.name

    @property
    def time_limit_days(self) -> int | None:
        """The limit the department works to: the promised one, else the legal one."""
        return self.promised_limit_days or self.legal_limit_days


class MaterialSource(models.TextChoices):
    UPLOAD = "upload", _("Provided by the applicant")
    E_CERTIFICATE = "e_certificate", _("E-certificate the platform holds")
    EXCHANGE = "exchange", _("Shared data the platform reads")


class Material(models.Model):
    """申请材料: one material of a matter. A key material (关键材料) can never be missing; a
    non-key one may be tolerated (容缺). A material the platform can fetch (an e-certificate or
    an exchange resource) is never asked of the applicant (无证办理)."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="materials")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("name"), max_length=200)
    required = models.BooleanField(_("required"), default=True)
    is_key = models.BooleanField(_("key material"), default=False)
    source = models.CharField(
        _("source"), max_length=16, choices=MaterialSource.choices, default=MaterialSource.UPLOAD
    )
    resource_code = models.CharField(
        _("resource or certificate type"), max_length=64, blank=True, help_text=_("e.g. ga.persons")
    )
    # 告知承诺制: the applicant may sign a pledge instead of providing this material.
    pledge_allowed = models.BooleanField(_("a pledge may replace it"), default=False)

    class Meta:
        ordering = ["matter", "position", "id"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self) -> str:
        return self.name

    @property
    def may_be_tolerated(self) -> bool:
        return self.required and not self.is_key

    @property
    def fetched(self) -> bool:
        return self.source != MaterialSource.UPLOAD


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    TEXTAREA = "textarea", _("Long text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    PHONE = "phone", _("Phone")


class FormField(models.Model):
    """One field of a matter's application form. `resource_code`.`resource_field` names the
    exchange field that fills it for the applicant (read by the applicant's ID number or USCC,
    or by the value of the form field `subject_from`, e.g. a property's unit number)."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="form_fields")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.SlugField(_("name"), max_length=64)
    label = models.CharField(_("label"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=FieldKind.choices, default=FieldKind.TEXT)
    required = models.BooleanField(_("required"), default=True)
    choices = models.CharField(_("choices"), max_length=255, blank=True, help_text=_("separated by |"))
    resource_code = models.CharField(_("exchange resource"), max_length=64, blank=True)
    resource_field = models.CharField(_("exchange field"), max_length=64, blank=True)
    subject_from = models.CharField(_("subject from field"), max_length=64, blank=True)
    editable = models.BooleanField(_("editable when filled"), default=True)

    class Meta:
        ordering = ["matter", "position", "id"]
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        constraints = [models.UniqueConstraint(fields=["matter", "name"], name="services_form_field_unique")]

    def __str__(self) -> str:
        return f"{self.matter_id}.{self.name}"

    @property
    def has_source(self) -> bool:
        return bool(self.resource_code and self.resource_field)

    def choice_list(self) -> list[str]:
        return [choice.strip() for choice in self.choices.split("|") if choice.strip()]


class Rating(models.IntegerChoices):
    """好差评: five grades, as the national evaluation system has them."""

    VERY_SATISFIED = 5, pgettext_lazy("rating", "Very satisfied")
    SATISFIED = 4, pgettext_lazy("rating", "Satisfied")
    BASICALLY_SATISFIED = 3, pgettext_lazy("rating", "Basically satisfied")
    DISSATISFIED = 2, pgettext_lazy("rating", "Dissatisfied")
    VERY_DISSATISFIED = 1, pgettext_lazy("rating", "Very dissatisfied")


class Application(models.Model):
    """申请 / 办件: one request for a matter. Its workflow is the case (same primary key)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, primary_key=True, related_name="application"
    )
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_applications"
    )
    applicant_kind = models.CharField(max_length=16, choices=ApplicantKind.choices)
    # The applicant's ID number or USCC (personal data: shown masked).
    subject_key = models.CharField(max_length=64, blank=True)
    applicant_name = models.CharField(_("applicant"), max_length=128)
    values = models.JSONField(_("form values"), default=dict)
    # Field name → exchange field that filled it, for the fields the platform filled.
    prefilled = models.JSONField(default=dict, blank=True)
    fields_total = models.PositiveSmallIntegerField(default=0)
    fields_prefilled = models.PositiveSmallIntegerField(default=0)
    # A token of the form page: the same form sent twice makes one application.
    submission_key = models.CharField(max_length=64)
    # The bundle (一件事) submission this application is a step of, and the step's code.
    bundle = models.ForeignKey(
        "BundleApplication", on_delete=models.PROTECT, null=True, blank=True, related_name="steps"
    )
    bundle_step = models.CharField(max_length=32, blank=True)
    # 一窗受理: the window clerk who submitted it on the applicant's behalf.
    window_clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # 秒批: "approved" (no human step) or "fallback" (a check failed; `instant_explanation` says
    # which, for the handler); empty when the matter is not rules-approvable.
    instant = models.CharField(max_length=16, blank=True)
    instant_explanation = models.JSONField(default=dict, blank=True)
    # The e-certificate issued on approval.
    certificate_number = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("submitted"))
    rating = models.PositiveSmallIntegerField(_("rating"), choices=Rating.choices, null=True, blank=True)
    rating_reasons = models.CharField(_("reasons"), max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    # 差评: the case in which the department answers a bad rating.
    rating_case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="rated_application"
    )

    class Meta:
        ordering = ["-submitted_at", "-case_id"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            models.UniqueConstraint(fields=["applicant", "submission_key"], name="services_submission_once")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.matter_id}"

    @property
    def prefilled_share(self) -> float:
        return self.fields_prefilled / self.fields_total if self.fields_total else 0.0


def upload_path(instance: ApplicationMaterial, filename: str) -> str:
    return f"services/{instance.application_id}/{instance.material_id}-{filename}"


class ApplicationMaterial(models.Model):
    """A material of one application: uploaded by the applicant, or fetched by the platform
    (then `file` is empty and `fetched_from` says where from)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=upload_path, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    fetched_from = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["application", "material__position"]
        constraints = [
            models.UniqueConstraint(fields=["application", "material"], name="services_material_once")
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.material_id}"


class GapKind(models.TextChoices):
    TOLERATED = "tolerated", _("Tolerated, to be supplied")  # 容缺后补
    PLEDGE = "pledge", _("Replaced by a pledge")  # 告知承诺


class GapStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SUPPLIED = "supplied", _("Supplied")
    VERIFIED = "verified", _("Pledge verified true")
    FALSE_PLEDGE = "false_pledge", _("Pledge found false")
    REVOKED = "revoked", _("Not supplied in time: revoked")


class ApplicationGap(models.Model):
    """A material an application was accepted without: tolerated (容缺, to be supplied by
    `due_on`) or replaced by the applicant's pledge (告知承诺, to be verified by `due_on`)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="gaps")
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=GapKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=GapStatus.choices, default=GapStatus.OPEN)
    pledge_text = models.TextField(_("pledge"), blank=True)
    due_on = models.DateField(_("due on"))
    reminded_at = models.DateTimeField(null=True, blank=True)
    supplied = models.ForeignKey(
        ApplicationMaterial, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("tolerated material")
        verbose_name_plural = _("tolerated materials")
        constraints = [models.UniqueConstraint(fields=["application", "material"], name="services_gap_once")]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.material_id} ({self.kind})"


class Bundle(models.Model):
    """一件事: several matters of several departments applied for with one submission."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    applicant_kind = models.CharField(
        _("who may apply"), max_length=16, choices=ApplicantKind.choices, default=ApplicantKind.PERSON
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("bundle")
        verbose_name_plural = _("bundles")

    def __str__(self) -> str:
        return self.name


class BundleStep(models.Model):
    """One matter of a bundle; it starts when every step in `depends_on` (step codes) is
    approved; steps with no dependency between them run in parallel."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="steps")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="bundle_steps")
    depends_on = models.JSONField(_("depends on"), default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["bundle", "position", "id"]
        verbose_name = _("bundle step")
        verbose_name_plural = _("bundle steps")
        constraints = [models.UniqueConstraint(fields=["bundle", "code"], name="services_bundle_step_unique")]

    def __str__(self) -> str:
        return f"{self.bundle_id}.{self.code}"


class BundleApplication(models.Model):
    """One submission of a bundle; its case is the parent of the steps' cases."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, primary_key=True, related_name="bundle_application"
    )
    bundle = models.ForeignKey(Bundle, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    applicant_kind = models.CharField(max_length=16, choices=ApplicantKind.choices)
    subject_key = models.CharField(max_length=64, blank=True)
    applicant_name = models.CharField(_("applicant"), max_length=128)
    values = models.JSONField(_("form values"), default=dict)
    submission_key = models.CharField(max_length=64)
    submitted_at = models.DateTimeField(_("submitted"))
    window_clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-submitted_at", "-case_id"]
        verbose_name = _("bundle application")
        verbose_name_plural = _("bundle applications")
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "submission_key"], name="services_bundle_submission_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.bundle_id}"
