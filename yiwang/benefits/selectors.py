"""The questions of no-application benefits: which policies and runs a member of staff sees,
a run's list, a beneficiary's benefits and the explanation of each ("why did I (not) get
this?"), and the figures per policy, period and county."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.benefits.models import (
    Decline,
    Entitlement,
    EntitlementStatus,
    Notice,
    Objection,
    Payment,
    PaymentOrigin,
    PeriodKind,
    Policy,
    Run,
    RunState,
    SubjectType,
)
from yiwang.benefits.services import (
    access_policy_run,
    access_policy_view,
    access_run_approve,
    beneficiary_keys,
    period_resolve,
)
from yiwang.core.access import user_roles
from yiwang.core.errors import NotFound
from yiwang.core.masking import mask_id_number
from yiwang.core.models import Role


def policies_visible(*, user: Any) -> list[dict[str, Any]]:
    """Every active policy the user may see runs of, with the rule version in force, the latest
    run and whether the user may start one."""
    from yiwang.rules.models import RuleVersion

    rows = []
    versions = dict(
        RuleVersion.objects.filter(status="published", rule__code__startswith="benefits.").values_list(
            "rule__code", "number"
        )
    )
    for policy in Policy.objects.filter(is_active=True).select_related("department"):
        if not access_policy_view(user, policy):
            continue
        rows.append(
            {
                "policy": policy,
                "version": versions.get(policy.code),
                "latest": policy.runs.order_by("-started_at", "-id").first(),
                "may_run": access_policy_run(user, policy),
                "default_period": default_period(policy),
            }
        )
    return rows


def default_period(policy: Policy, today: datetime.date | None = None) -> str:
    today = today or timezone.localdate()
    if policy.period_kind == PeriodKind.YEAR:
        return str(today.year)
    if policy.period_kind == PeriodKind.MONTH:
        return f"{today.year:04d}-{today.month:02d}"
    return "once"


def runs_visible(*, user: Any, state: str = "") -> list[Run]:
    runs = Run.objects.select_related("policy", "policy__department", "started_by", "approved_by")
    if state:
        runs = runs.filter(state=state)
    return [run for run in runs[:200] if access_policy_view(user, run.policy)]


def runs_to_approve(*, user: Any) -> list[Run]:
    return [run for run in runs_visible(user=user, state=RunState.REVIEW) if access_run_approve(user, run)]


def run_for_user(*, run_id: int, user: Any) -> Run:
    run = Run.objects.select_related("policy", "policy__department", "rule_version").filter(pk=run_id).first()
    if run is None or not access_policy_view(user, run.policy):
        raise NotFound(_("Not found."))
    return run


def run_entitlements(*, run: Run, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """The run's list, the beneficiary's name from the registry and the key masked."""
    from yiwang.core.models import Division
    from yiwang.registry.models import Enterprise, Person

    rows = list(
        Entitlement.objects.filter(run=run)
        .order_by("id")
        .values("id", "beneficiary", "division_code", "amount_fen", "status")[offset : offset + limit]
    )
    keys = [row["beneficiary"] for row in rows]
    if run.policy.subject_type == SubjectType.PERSON:
        names = dict(Person.objects.filter(id_number__in=keys).values_list("id_number", "name"))
    else:
        names = dict(Enterprise.objects.filter(uscc__in=keys).values_list("uscc", "name"))
    counties = dict(Division.objects.filter(level=2).values_list("code", "name"))
    for row in rows:
        row["name"] = _mask_name(names.get(row["beneficiary"], ""), run.policy.subject_type)
        row["shown"] = (
            mask_id_number(row["beneficiary"])
            if run.policy.subject_type == SubjectType.PERSON
            else row["beneficiary"]
        )
        row["county"] = counties.get(row["division_code"][:6], "")
        row["status_label"] = EntitlementStatus(row["status"]).label
    return rows


def _mask_name(name: str, subject_type: str) -> str:
    """A person's name as 张*伟 (an enterprise's name is public)."""
    if subject_type != SubjectType.PERSON or len(name) < 2:
        return name
    return name[0] + "*" * (len(name) - 2) + name[-1] if len(name) > 2 else name[0] + "*"


def run_totals_by_county(*, run: Run) -> list[dict[str, Any]]:
    from yiwang.core.models import Division

    counties = dict(Division.objects.filter(level=2).values_list("code", "name"))
    totals: dict[str, dict[str, Any]] = {}
    for division, count, amount in (
        Entitlement.objects.filter(run=run)
        .values_list("division_code")
        .annotate(count=Count("id"), amount=Sum("amount_fen"))
        .values_list("division_code", "count", "amount")
    ):
        code = (division or "")[:6]
        row = totals.setdefault(
            code, {"code": code, "name": counties.get(code, code or "—"), "count": 0, "amount": 0}
        )
        row["count"] += count
        row["amount"] += amount or 0
    return sorted(totals.values(), key=lambda row: row["code"])


# --- the beneficiary's side -------------------------------------------------------------------


@dataclass
class MyBenefit:
    policy: Policy
    beneficiary: str
    period: str
    amount_fen: int
    status: str  # paid, pending
    paid_at: datetime.datetime | None = None
    origin: str = PaymentOrigin.PLATFORM
    notice: str = ""
    unread: bool = False
    declined: bool = False
    objections: list[Objection] = field(default_factory=list)


def my_benefits(*, user: Any) -> list[MyBenefit]:
    """What the user (a citizen, or an agent for their enterprises) has been paid and what is
    pending approval, latest first."""
    keys = beneficiary_keys(user)
    everyone = keys["person"] + keys["enterprise"]
    if not everyone:
        return []
    declined = set(Decline.objects.filter(beneficiary__in=everyone).values_list("policy_id", "beneficiary"))
    objections: dict[tuple, list[Objection]] = {}
    for objection in my_objections(user=user):
        objections.setdefault((objection.policy_id, objection.period, objection.beneficiary), []).append(
            objection
        )
    rows: list[MyBenefit] = []
    paid = set()
    for payment in (
        Payment.objects.filter(beneficiary__in=everyone)
        .select_related("policy", "notice")
        .order_by("-paid_at")
    ):
        notice = getattr(payment, "notice", None)
        paid.add((payment.policy_id, payment.period, payment.beneficiary))
        rows.append(
            MyBenefit(
                policy=payment.policy,
                beneficiary=payment.beneficiary,
                period=payment.period,
                amount_fen=payment.amount_fen,
                status="paid",
                paid_at=payment.paid_at,
                origin=payment.origin,
                notice=notice.message if notice else "",
                unread=bool(notice and notice.read_at is None),
                declined=(payment.policy_id, payment.beneficiary) in declined,
                objections=objections.get((payment.policy_id, payment.period, payment.beneficiary), []),
            )
        )
    pending = (
        Entitlement.objects.filter(
            beneficiary__in=everyone,
            status=EntitlementStatus.PENDING,
            run__state__in=(RunState.REVIEW, RunState.PAYING),
        )
        .select_related("run", "run__policy")
        .order_by("-run__started_at")
    )
    for entitlement in pending:
        key = (entitlement.run.policy_id, entitlement.run.period, entitlement.beneficiary)
        if key in paid:
            continue
        paid.add(key)
        rows.append(
            MyBenefit(
                policy=entitlement.run.policy,
                beneficiary=entitlement.beneficiary,
                period=entitlement.run.period,
                amount_fen=entitlement.amount_fen,
                status="pending",
                declined=(entitlement.run.policy_id, entitlement.beneficiary) in declined,
                objections=objections.get(key, []),
            )
        )
    return rows


def my_objections(*, user: Any) -> list[Objection]:
    from yiwang.cases.selectors import case_state_label

    keys = beneficiary_keys(user)
    objections = list(
        Objection.objects.filter(beneficiary__in=keys["person"] + keys["enterprise"])
        .select_related("case", "policy")
        .order_by("-submitted_at")
    )
    for objection in objections:
        objection.state_label = case_state_label(objection.case)
    return objections


def unread_notices(*, user: Any) -> int:
    keys = beneficiary_keys(user)
    everyone = keys["person"] + keys["enterprise"]
    return Notice.objects.filter(beneficiary__in=everyone, read_at__isnull=True).count() if everyone else 0


def my_subjects(*, user: Any, policy: Policy) -> list[str]:
    keys = beneficiary_keys(user)
    return keys["person" if policy.subject_type == SubjectType.PERSON else "enterprise"]


def benefit_explanation(*, policy: Policy, beneficiary: str, period: str, user: Any) -> Any:
    """The explanation (rules.services.Explanation) of `policy` for `beneficiary` in `period`:
    for a payment, with the rule version of the run that paid it, on its evaluation date; else
    with the rule in force on the period's date. Read under the department's grants and
    audited with the purpose. The user must be the beneficiary or see the policy's runs."""
    from yiwang.rules.services import rule_explain, rule_in_force

    if beneficiary not in my_subjects(user=user, policy=policy) and not access_policy_view(user, policy):
        raise NotFound(_("Not found."))
    payment = (
        Payment.objects.filter(policy=policy, period=period, beneficiary=beneficiary)
        .select_related("run")
        .first()
    )
    if payment is not None and payment.run is not None:
        version, on = payment.run.rule_version, payment.run.evaluated_on
    else:
        entitlement = (
            Entitlement.objects.filter(run__policy=policy, run__period=period, beneficiary=beneficiary)
            .select_related("run", "run__rule_version")
            .order_by("-run__started_at")
            .first()
        )
        if entitlement is not None:
            version, on = entitlement.run.rule_version, entitlement.run.evaluated_on
        else:
            version = rule_in_force(code=policy.code)
            _code, on = period_resolve(policy=policy, period=period)
    explanations = rule_explain(
        version.definition,
        subjects=[beneficiary],
        on=on,
        consumer=policy.department,
        purpose=_("Explaining %(policy)s to the beneficiary") % {"policy": policy.title},
        actor=user,
        version=version,
    )
    if not explanations:
        raise NotFound(_("Not found."))
    explanation = explanations[0]
    divisor = policy.amount_divisor or 1
    if divisor != 1:
        from dataclasses import replace

        explanation = replace(explanation, amount=int(explanation.amount or 0) // divisor)
    return explanation


# --- figures --------------------------------------------------------------------------------------


def access_reports(user: Any) -> bool:
    return bool(user_roles(user) & {Role.CITY_LEADER, Role.SUPERVISOR, Role.ADMIN, Role.DEPARTMENT_HANDLER})


def benefit_figures(*, period: str = "") -> dict[str, Any]:
    """Per policy: beneficiaries paid, amount, paid without an application (found by the
    platform) and after an objection, objections received, and the share paid without an
    application; by period and by county."""
    from yiwang.core.models import Division

    payments = Payment.objects.all()
    objections = Objection.objects.all()
    if period:
        payments = payments.filter(period=period)
        objections = objections.filter(period=period)
    counties = dict(Division.objects.filter(level=2).values_list("code", "name"))
    policies = {policy.pk: policy for policy in Policy.objects.select_related("department")}
    per_policy: dict[int, dict[str, Any]] = {
        pk: {
            "policy": policy,
            "count": 0,
            "amount": 0,
            "platform": 0,
            "objection_paid": 0,
            "objections": 0,
            "share": None,
        }
        for pk, policy in policies.items()
    }
    for policy_id, origin, count, amount in (
        payments.values_list("policy_id", "origin")
        .annotate(count=Count("id"), amount=Sum("amount_fen"))
        .values_list("policy_id", "origin", "count", "amount")
    ):
        row = per_policy[policy_id]
        row["count"] += count
        row["amount"] += amount or 0
        row["platform" if origin == PaymentOrigin.PLATFORM else "objection_paid"] += count
    for policy_id, count in (
        objections.values_list("policy_id").annotate(count=Count("case_id")).values_list("policy_id", "count")
    ):
        per_policy[policy_id]["objections"] = count
    for row in per_policy.values():
        asked = row["platform"] + row["objections"]
        row["share"] = round(row["platform"] * 1000 / asked) / 10 if asked else None
    by_period = [
        {"policy": policies[policy_id], "period": p, "count": count, "amount": amount or 0}
        for policy_id, p, count, amount in payments.values_list("policy_id", "period")
        .annotate(count=Count("id"), amount=Sum("amount_fen"))
        .values_list("policy_id", "period", "count", "amount")
        .order_by("policy_id", "period")
    ]
    county_totals: dict[str, dict[str, Any]] = {}
    for division, count, amount in (
        payments.values_list("division_code")
        .annotate(count=Count("id"), amount=Sum("amount_fen"))
        .values_list("division_code", "count", "amount")
    ):
        code = (division or "")[:6]
        row = county_totals.setdefault(
            code, {"code": code, "name": counties.get(code, code or "—"), "count": 0, "amount": 0}
        )
        row["count"] += count
        row["amount"] += amount or 0
    total_platform = sum(row["platform"] for row in per_policy.values())
    total_asked = total_platform + sum(row["objections"] for row in per_policy.values())
    return {
        "period": period,
        "policies": [per_policy[pk] for pk in sorted(per_policy, key=lambda pk: policies[pk].code)],
        "by_period": by_period,
        "by_county": sorted(county_totals.values(), key=lambda row: row["code"]),
        "count": sum(row["count"] for row in per_policy.values()),
        "amount": sum(row["amount"] for row in per_policy.values()),
        "share": round(total_platform * 1000 / total_asked) / 10 if total_asked else None,
        "periods": sorted(set(Payment.objects.values_list("period", flat=True).distinct())),
    }


def objections_open_count(*, policy: Policy) -> int:
    from yiwang.benefits.cases import DISMISSED, UPHELD

    return Objection.objects.filter(policy=policy).filter(~Q(case__state__in=(UPHELD, DISMISSED))).count()
