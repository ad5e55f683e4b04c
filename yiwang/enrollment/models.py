"""The enrollment app's data (智慧入学).

The education bureau configures a season (year, key dates, lottery seed and tie-break
order), its schools (primary, junior middle or nine-year 九年一贯制, public or private, town,
place on the map, seats per entry grade: GradeCapacity), catchments (学区: villages/communities, and single property units, that belong to a
school), and the places of villages on the map (for distances). Parents register children
(Registration: the facts fetched through the exchange, the priority class the rules gave,
the ranked choices). An allocation run (AllocationRun) holds one placement per registration;
exactly one run per season is in force. An appeal is a case of type `enrollment.appeal`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.cases.models import Case
from yiwang.core.models import Department, Division
from yiwang.registry.models import Person


class Level(models.TextChoices):
    PRIMARY = "primary", pgettext_lazy("school level", "Primary school")
    JUNIOR = "junior", pgettext_lazy("school level", "Junior middle school")


class SchoolLevel(models.TextChoices):
    """What a school is: a nine-year school (九年一贯制) enrolls both entry grades."""

    PRIMARY = "primary", pgettext_lazy("school level", "Primary school")
    JUNIOR = "junior", pgettext_lazy("school level", "Junior middle school")
    NINE_YEAR = "nine_year", pgettext_lazy("school level", "Nine-year school")


# The entry levels (grades 1 and 7) each kind of school enrolls into.
SCHOOL_ENTRY_LEVELS = {
    SchoolLevel.PRIMARY: (Level.PRIMARY,),
    SchoolLevel.JUNIOR: (Level.JUNIOR,),
    SchoolLevel.NINE_YEAR: (Level.PRIMARY, Level.JUNIOR),
}

# The grade a level enrolls into, and the age a child has on 31 August of the season's year.
ENTRY_GRADE = {Level.PRIMARY: 1, Level.JUNIOR: 7}
ENTRY_AGE = {Level.PRIMARY: (6, 7), Level.JUNIOR: (11, 13)}
ENTRY_GRADE_LABEL = {Level.PRIMARY: _("Grade 1"), Level.JUNIOR: _("Grade 7")}


class TieBreak(models.TextChoices):
    PROPERTY_DATE = "property_date", _("Property registration date, earlier first")
    DISTANCE = "distance", _("Distance from home, nearer first")
    LOTTERY = "lottery", _("Published lottery")


class Season(models.Model):
    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    title = models.CharField(_("title"), max_length=120)
    registration_opens = models.DateField(_("registration opens"))
    registration_closes = models.DateField(_("registration closes"))
    allocation_on = models.DateField(_("allocation date"))
    results_on = models.DateField(_("results published"))
    lottery_seed = models.CharField(
        _("lottery seed"),
        max_length=64,
        help_text=_("Published before the allocation; with it anyone can recompute the lottery order."),
    )
    # Within a priority class: the tie-breaks in this order, the lottery always last.
    tie_breaks = models.JSONField(_("tie-breaks"), default=list)
    max_choices = models.PositiveSmallIntegerField(_("choices a parent may rank"), default=5)
    appeal_days = models.PositiveSmallIntegerField(_("working days to decide an appeal"), default=5)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("enrollment season")
        verbose_name_plural = _("enrollment seasons")

    def __str__(self) -> str:
        return self.title


class School(models.Model):
    class Kind(models.TextChoices):
        PUBLIC = "public", pgettext_lazy("school", "Public")
        PRIVATE = "private", pgettext_lazy("school", "Private")

    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="schools")
    code = models.CharField(_("school code"), max_length=20)
    name = models.CharField(_("name"), max_length=80)
    level = models.CharField(_("level"), max_length=10, choices=SchoolLevel.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.PUBLIC)
    town = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("town"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    longitude = models.FloatField(_("longitude"))
    latitude = models.FloatField(_("latitude"))
    is_open = models.BooleanField(_("enrolling this season"), default=True)
    # The school's own office, whose staff read its roster (optional).
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["season", "level", "code"]
        constraints = [models.UniqueConstraint(fields=["season", "code"], name="enrollment_school_code")]
        verbose_name = _("school")
        verbose_name_plural = _("schools")

    def __str__(self) -> str:
        return self.name

    @property
    def entry_levels(self) -> tuple[str, ...]:
        return SCHOOL_ENTRY_LEVELS[SchoolLevel(self.level)]

    def capacity_at(self, level: str) -> GradeCapacity | None:
        """The school's seats in the entry grade of `level` (prefetch `capacities`)."""
        return next((row for row in self.capacities.all() if row.level == level), None)

    def seats_at(self, level: str) -> int:
        """Seats in that entry grade, appeals' added seats included (0 when it does not enroll it)."""
        row = self.capacity_at(level)
        return row.seats + row.added_seats if row else 0


class GradeCapacity(models.Model):
    """A school's seats in one entry grade (一年级 for primary, 七年级 for junior middle): a
    nine-year school has two rows, each allocated on its own."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="capacities")
    level = models.CharField(_("entry grade"), max_length=8, choices=Level.choices)
    seats = models.PositiveIntegerField(_("seats in the entry grade"))
    added_seats = models.PositiveIntegerField(
        _("seats added on appeal"), default=0, help_text=_("Seats the bureau added for upheld appeals.")
    )

    class Meta:
        ordering = ["school", "level"]
        constraints = [models.UniqueConstraint(fields=["school", "level"], name="enrollment_capacity_grade")]
        verbose_name = _("seats of an entry grade")
        verbose_name_plural = _("seats of entry grades")

    def __str__(self) -> str:
        return f"{self.school_id} grade {self.grade}: {self.seats}+{self.added_seats}"

    @property
    def grade(self) -> int:
        return ENTRY_GRADE[Level(self.level)]


class Catchment(models.Model):
    """One piece of a school's 学区: a whole village/community, or one property unit (a
    building or flat the bureau assigns apart from its village)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="catchments")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    unit_number = models.CharField(_("property unit number"), max_length=28, blank=True)

    class Meta:
        verbose_name = _("catchment")
        verbose_name_plural = _("catchments")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(division__isnull=False) & models.Q(unit_number=""))
                | (models.Q(division__isnull=True) & ~models.Q(unit_number="")),
                name="enrollment_catchment_one_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_id}: {self.division_id or self.unit_number}"


class Locality(models.Model):
    """Where a village/community lies on the map (its centre): homes are placed there for
    distances."""

    division = models.OneToOneField(Division, on_delete=models.CASCADE, primary_key=True, related_name="+")
    longitude = models.FloatField(_("longitude"))
    latitude = models.FloatField(_("latitude"))

    class Meta:
        verbose_name = _("village location")
        verbose_name_plural = _("village locations")

    def __str__(self) -> str:
        return f"{self.division_id} ({self.longitude:.4f}, {self.latitude:.4f})"


class Registration(models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("registration", "Submitted")
        WITHDRAWN = "withdrawn", pgettext_lazy("registration", "Withdrawn")

    season = models.ForeignKey(Season, on_delete=models.PROTECT, related_name="registrations")
    number = models.CharField(_("registration number"), max_length=24, unique=True)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    guardian = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.SUBMITTED)
    household_number = models.CharField(_("household number"), max_length=20)
    home_division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    # What the platform fetched (see services.facts_gather) and what it concluded.
    facts = models.JSONField(default=dict)
    catchment_school = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="catchment_registrations"
    )
    priority_class = models.PositiveSmallIntegerField(_("priority class"))
    class_rule = models.CharField(max_length=64, blank=True)
    property_registered_on = models.DateField(null=True, blank=True)
    submitted_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["season", "number"]
        constraints = [
            models.UniqueConstraint(fields=["season", "child"], name="enrollment_one_registration_per_child")
        ]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")

    def __str__(self) -> str:
        return self.number


class Choice(models.Model):
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="choices")
    rank = models.PositiveSmallIntegerField()
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["registration", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "rank"], name="enrollment_choice_rank"),
            models.UniqueConstraint(fields=["registration", "school"], name="enrollment_choice_school"),
        ]

    def __str__(self) -> str:
        return f"{self.registration_id} #{self.rank + 1}: {self.school_id}"


class AllocationRun(models.Model):
    season = models.ForeignKey(Season, on_delete=models.PROTECT, related_name="runs")
    number = models.PositiveIntegerField()
    in_force = models.BooleanField(default=False)
    lottery_seed = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stable = models.BooleanField()
    stability = models.CharField(max_length=255)
    figures = models.JSONField(default=dict)
    # Set when the bureau changed seats or enrolling after this run: its result no longer
    # matches the configuration and is not shown to parents until the allocation runs again.
    stale_since = models.DateTimeField(null=True, blank=True)
    stale_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["season", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["season", "number"], name="enrollment_run_number"),
            models.UniqueConstraint(
                fields=["season"], condition=models.Q(in_force=True), name="enrollment_one_run_in_force"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.season_id} run {self.number}"


class Placement(models.Model):
    class How(models.TextChoices):
        CHOICE = "choice", _("One of the parent's choices")
        COORDINATION = "coordination", _("Coordination: the nearest school with a seat")
        APPEAL = "appeal", _("Placed on appeal")
        UNPLACED = "unplaced", _("Not placed")

    run = models.ForeignKey(AllocationRun, on_delete=models.CASCADE, related_name="placements")
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="placements")
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="placements"
    )
    how = models.CharField(max_length=16, choices=How.choices)
    rank = models.SmallIntegerField(default=-1)  # index in the choice list, -1 off the list
    priority_class = models.PositiveSmallIntegerField()  # the class at the school placed in
    distance_m = models.PositiveIntegerField(null=True, blank=True)
    # Why not each better-ranked choice: [{school, rank, own_class, cutoff_class, cutoff_tie, full}]
    reason = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "registration"], name="enrollment_one_placement_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.registration_id} → {self.school_id}"


class Appeal(models.Model):
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="appeals")
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="enrollment_appeal")
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school asked for")
    )
    reason = models.TextField(_("reason"))
    placed_before = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"appeal {self.registration_id} → {self.school_id}"
