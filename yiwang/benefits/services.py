"""The verbs of no-application benefits: load the policies, start a run (find the eligible
with the rule in force, one SQL statement), approve it (four eyes), pay it into the ledger in
resumable chunks, and the beneficiary's decline and objection.

Idempotence: the ledger (Payment) is unique on (policy, period, beneficiary) and every write
to it is insert-or-skip, one chunk per transaction, so a rerun, a crash between chunks or two
runs paying at once never pays anyone twice; a run resumes after the last chunk it committed,
so nobody is missed.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml
from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.benefits.models import (
    Decline,
    Entitlement,
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
from yiwang.core.access import user_roles
from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, FieldErrors, Forbidden, NotFound
from yiwang.core.models import Department, Role

RULES_DIR = Path(__file__).resolve().parent / "rules"
CHUNK = 20_000
SYSTEM = "system:benefits"


# --- policies -------------------------------------------------------------------------------


def policy_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yaml"))


def policy_file_read(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def policies_load(*, paths: list[Path] | None = None) -> list[Policy]:
    """Load every policy's rule file with rules.services.rule_file_load (idempotent: a rule is
    republished only when its definition changed) and keep a Policy row per file. The feeds the
    rules read must be in the exchange's catalog (yiwang.benefits.feeds.feeds_publish)."""
    from yiwang.rules.services import rule_file_load

    policies = []
    for path in paths or policy_files():
        raw = policy_file_read(path)
        meta = raw.get("benefit") or {}
        errors = []
        for key in ("title", "department", "subject_type", "period"):
            if not meta.get(key):
                errors.append((("benefit", key), _("This field is required.")))
        department = Department.objects.filter(code=meta.get("department")).first()
        if meta.get("department") and department is None:
            errors.append((("benefit", "department"), _("Unknown department %s.") % meta.get("department")))
        if meta.get("subject_type") and meta["subject_type"] not in SubjectType.values:
            errors.append((("benefit", "subject_type"), _("Choose person or enterprise.")))
        if meta.get("period") and meta["period"] not in PeriodKind.values:
            errors.append((("benefit", "period"), _("Choose year, month or once.")))
        if errors:
            raise FieldErrors(errors)
        with transaction.atomic():
            version = rule_file_load(raw=raw, source=f"benefits/rules/{path.name}")
            policy, created = Policy.objects.update_or_create(
                code=version.rule.code,
                defaults={
                    "title": meta["title"],
                    "summary": meta.get("summary", ""),
                    "department": department,
                    "subject_type": meta["subject_type"],
                    "period_kind": meta["period"],
                    "amount_divisor": int(meta.get("amount_divisor") or 1),
                    "rule_file": path.name,
                },
            )
            if created:
                audit_record(
                    actor=SYSTEM, action="benefits.policy_load", target=policy, after={"file": path.name}
                )
        policies.append(policy)
    return policies


def grants_ensure(*, actor: Any, policies: list[Policy] | None = None) -> list[Any]:
    """Each policy's department asks the exchange for the fields its rule reads that it may not
    read yet, and `actor` (the chief data officer, or an admin) approves: the runs then read
    under live grants, every read audited with its purpose. Idempotent (nothing asked twice
    while a grant is live). Returns the grants made."""
    from yiwang.exchange import services as exchange
    from yiwang.exchange.models import Resource
    from yiwang.exchange.selectors import readable_fields
    from yiwang.rules.definition import definition_parse
    from yiwang.rules.services import rule_fields_read, rule_in_force

    made = []
    for policy in policies or Policy.objects.filter(is_active=True):
        definition = definition_parse(rule_in_force(code=policy.code).definition)
        for code, wanted in sorted(rule_fields_read(definition).items()):
            resource = Resource.objects.get(code=code)
            names = {field.name for field in resource.fields.all()}
            wanted = {
                name[: -len("_fen")] if name not in names and name.endswith("_fen") else name
                for name in wanted
            }
            missing = sorted(wanted - set(readable_fields(consumer=policy.department, resource=resource)))
            if not missing:
                continue
            with transaction.atomic():
                request = exchange.access_request_submit(
                    actor=SYSTEM,
                    consumer=policy.department,
                    resource=resource,
                    fields=missing,
                    purpose=f"免申即享：{policy.title}（比对享受条件、计算金额）",
                    legal_basis=definition.basis.get("document", "") or policy.title,
                    duration_days=3 * 365,
                )
                made.append(exchange.access_request_decide(actor=actor, request=request, approve=True))
    return made


def run_purpose(policy: Policy, period: str) -> str:
    return f"免申即享：{policy.title} {period}"


def period_resolve(
    *, policy: Policy, period: str, evaluated_on: datetime.date | None = None
) -> tuple[str, datetime.date]:
    """(period code, evaluation date): a year "2026" is evaluated on 1 January, a month
    "2026-11" on its first day; a one-off benefit's period is "once", evaluated on the date
    given (today by default)."""
    period = (period or "").strip()
    try:
        if policy.period_kind == PeriodKind.YEAR:
            year = int(period)
            if not 2000 <= year <= 2100:
                raise ValueError
            return str(year), datetime.date(year, 1, 1)
        if policy.period_kind == PeriodKind.MONTH:
            year, month = (int(part) for part in period.split("-"))
            return f"{year:04d}-{month:02d}", datetime.date(year, month, 1)
    except ValueError:
        example = "2026" if policy.period_kind == PeriodKind.YEAR else "2026-11"
        raise FieldErrors.single("period", _("Write the period as %s.") % example) from None
    return "once", evaluated_on or timezone.localdate()


# --- who may do what ------------------------------------------------------------------------


def _department_ids(user: Any, *roles: str) -> set[int]:
    if not user_roles(user):
        return set()
    rows = user.roles.filter(role__in=roles, department__isnull=False).values_list(
        "department_id", "department__parent_id"
    )
    return {department for pair in rows for department in pair if department}


def access_policy_run(user: Any, policy: Policy) -> bool:
    """Start a run: a handler of the policy's department."""
    if Role.ADMIN in user_roles(user):
        return True
    return policy.department_id in _department_ids(user, Role.DEPARTMENT_HANDLER)


def access_run_approve(user: Any, run: Run) -> bool:
    """Approve a run: a handler or supervisor of the policy's department, never the person who
    started it (four eyes)."""
    if getattr(user, "pk", None) == run.started_by_id:
        return False
    if Role.ADMIN in user_roles(user):
        return True
    return run.policy.department_id in _department_ids(user, Role.DEPARTMENT_HANDLER, Role.SUPERVISOR)


def access_policy_view(user: Any, policy: Policy) -> bool:
    """See a policy's runs and lists: its department's staff, supervisors, city leaders."""
    roles = user_roles(user)
    if roles & {Role.ADMIN, Role.CITY_LEADER}:
        return True
    return policy.department_id in _department_ids(user, Role.DEPARTMENT_HANDLER, Role.SUPERVISOR)


# --- runs -------------------------------------------------------------------------------------


def run_start(
    *,
    policy: Policy,
    period: str,
    actor: Any,
    evaluated_on: datetime.date | None = None,
    chunk_size: int = CHUNK,
) -> Run:
    """Start a run of `policy` for `period` with the rule version in force and find the
    eligible (run_compute). Returns the run, awaiting approval."""
    from yiwang.rules.services import rule_in_force

    if not access_policy_run(actor, policy):
        raise Forbidden(_("Only a handler of %s may start a run of this policy.") % policy.department.name)
    if not policy.is_active:
        raise Conflict(_("This policy is not active."))
    code, on = period_resolve(policy=policy, period=period, evaluated_on=evaluated_on)
    version = rule_in_force(code=policy.code)
    with transaction.atomic():
        run = Run.objects.create(
            policy=policy,
            period=code,
            evaluated_on=on,
            rule_version=version,
            started_by=actor,
            started_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="benefits.run_start",
            target=run,
            after={"policy": policy.code, "period": code, "on": on, "rule_version": version.number},
        )
    from yiwang.exchange.selectors import ReadRefused

    try:
        return run_compute(run=run, chunk_size=chunk_size)
    except ReadRefused as refused:
        # The department may not read what the rule needs: no run is left behind.
        with transaction.atomic():
            Run.objects.filter(pk=run.pk, state=RunState.COMPUTING).delete()
            audit_record(
                actor=actor,
                action="benefits.run_refused",
                object_type="benefits.run",
                object_id=run.pk,
                after={"policy": policy.code, "period": code, "reason": str(refused)},
            )
        raise


def _divisions(subject_type: str, keys: list[str]) -> dict[str, str]:
    from yiwang.registry.models import Enterprise, Person

    model, field = (Person, "id_number") if subject_type == SubjectType.PERSON else (Enterprise, "uscc")
    found: dict[str, str] = {}
    for start in range(0, len(keys), 900):
        found.update(
            model.objects.filter(**{f"{field}__in": keys[start : start + 900]}).values_list(
                field, "division_id"
            )
        )
    return found


def run_compute(*, run: Run, chunk_size: int = CHUNK, fail_after: int | None = None) -> Run:
    """Find the eligible with the run's rule version (one statement over the whole population)
    and store the entitlements, insert-or-skip in chunks: a crash leaves the chunks written,
    and computing again completes them. `fail_after` (tests) raises after that many rows."""
    from yiwang.rules.services import rule_evaluate

    if run.state != RunState.COMPUTING:
        raise Conflict(_("This run has already found its beneficiaries."))
    policy = run.policy
    rows = rule_evaluate(
        run.rule_version.definition,
        on=run.evaluated_on,
        eligible_only=True,
        consumer=policy.department,
        purpose=run_purpose(policy, run.period),
        actor=run.started_by,
        version=run.rule_version,
    )
    divisor = policy.amount_divisor or 1
    table = Entitlement._meta.db_table
    insert = (
        f"INSERT INTO {table} (run_id, beneficiary, division_code, amount_fen, status) "  # noqa: S608
        "VALUES (%s, %s, '', %s, 'pending') ON CONFLICT (run_id, beneficiary) DO NOTHING"
    )
    written = 0
    for start in range(0, len(rows), chunk_size):
        values = []
        for row in rows[start : start + chunk_size]:
            amount = int(row["amount"] or 0) // divisor
            if amount <= 0:
                continue
            values.append((run.pk, str(row["subject"]), amount))
            written += 1
            if fail_after is not None and written > fail_after:
                raise RuntimeError(f"simulated crash after {fail_after} entitlements")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, values)
    # Each beneficiary's division (for the figures by county), from the registry, in one statement.
    from yiwang.registry.models import Enterprise, Person

    model, key = (Person, "id_number") if policy.subject_type == SubjectType.PERSON else (Enterprise, "uscc")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET division_code = COALESCE((SELECT r.division_id FROM {model._meta.db_table} r "  # noqa: S608
            f"WHERE r.{key} = {table}.beneficiary), '') WHERE run_id = %s AND division_code = ''",
            [run.pk],
        )
    with transaction.atomic():
        totals = Entitlement.objects.filter(run=run).aggregate(count=Count("id"), total=Sum("amount_fen"))
        won = Run.objects.filter(pk=run.pk, state=RunState.COMPUTING).update(
            state=RunState.REVIEW,
            computed_at=timezone.now(),
            eligible_count=totals["count"] or 0,
            total_fen=totals["total"] or 0,
        )
        if won:
            audit_record(
                actor=SYSTEM,
                action="benefits.run_compute",
                target=run,
                after={"eligible": totals["count"] or 0, "total_fen": totals["total"] or 0},
            )
    run.refresh_from_db()
    return run


def run_approve(*, run: Run, actor: Any, note: str = "", chunk_size: int = CHUNK) -> Run:
    """The policy's department approves the list (someone other than who started the run) and
    the run pays: the ledger is written and each beneficiary notified (run_pay)."""
    if not access_run_approve(actor, run):
        if getattr(actor, "pk", None) == run.started_by_id:
            raise Forbidden(_("The person who started a run may not approve it (four eyes)."))
        raise Forbidden(
            _("Only a handler or supervisor of %s may approve this run.") % run.policy.department.name
        )
    with transaction.atomic():
        won = Run.objects.filter(pk=run.pk, state=RunState.REVIEW).update(
            state=RunState.PAYING, approved_by=actor, approved_at=timezone.now(), decision_note=note[:255]
        )
        if not won:
            raise Conflict(_("Only a run awaiting approval can be approved."))
        run.refresh_from_db()
        audit_record(
            actor=actor,
            action="benefits.run_approve",
            target=run,
            after={"eligible": run.eligible_count, "total_fen": run.total_fen, "note": note},
        )
    return run_pay(run=run, chunk_size=chunk_size)


def run_reject(*, run: Run, actor: Any, note: str) -> Run:
    """Send a run back: nobody is paid by it (a corrected run may be started again)."""
    if not access_run_approve(actor, run):
        raise Forbidden(
            _("Only a handler or supervisor of %s may decide on this run.") % run.policy.department.name
        )
    if not note.strip():
        raise FieldErrors.single("note", _("Say why the run is rejected."))
    with transaction.atomic():
        won = Run.objects.filter(pk=run.pk, state=RunState.REVIEW).update(
            state=RunState.REJECTED, approved_by=actor, approved_at=timezone.now(), decision_note=note[:255]
        )
        if not won:
            raise Conflict(_("Only a run awaiting approval can be rejected."))
        run.refresh_from_db()
        audit_record(actor=actor, action="benefits.run_reject", target=run, after={"note": note})
    return run


def _notice_text(policy: Policy, period: str) -> str:
    return _(
        "You have received %(policy)s%(period)s, paid directly without an application. "
        "Open it to see the amount and why."
    ) % {"policy": policy.title, "period": "" if period == "once" else f"（{period}）"}


class _ChunkLost(Exception):
    """Another payer committed this chunk first: roll ours back and carry on after theirs."""


def run_pay(*, run: Run, chunk_size: int = CHUNK, fail_after_chunks: int | None = None) -> Run:
    """Write the ledger for an approved run, one chunk of entitlements per transaction, each
    step one set-based statement: the payments insert-or-skip on (policy, period, beneficiary)
    (declined beneficiaries left out), a notice for each payment this run made, the
    entitlements marked paid or skipped (already paid by another run, or declined), and the
    run's cursor moved past the chunk by compare-and-set. Resumable: call it again after a
    crash (or from a second worker) and it continues after the last committed chunk.
    `fail_after_chunks` (tests) raises inside the transaction of the chunk after that many."""
    run.refresh_from_db()
    if run.state not in (RunState.PAYING, RunState.PAID):
        raise Conflict(_("Only an approved run is paid."))
    policy = run.policy
    message = _notice_text(policy, run.period)
    chunks = 0
    while True:
        run.refresh_from_db(fields=["paid_through", "state", "paid_count", "paid_fen", "skipped_count"])
        if run.state == RunState.PAID:
            break
        start = run.paid_through
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT MAX(id), COUNT(*) FROM (SELECT id FROM {Entitlement._meta.db_table} "  # noqa: S608
                "WHERE run_id = %s AND id > %s ORDER BY id LIMIT %s) chunk",
                [run.pk, start, chunk_size],
            )
            last, count = cursor.fetchone()
        if not count:
            with transaction.atomic():
                won = Run.objects.filter(pk=run.pk, state=RunState.PAYING).update(
                    state=RunState.PAID, paid_at=timezone.now()
                )
                if won:
                    audit_record(
                        actor=SYSTEM,
                        action="benefits.run_paid",
                        target=run,
                        after={
                            "paid": run.paid_count,
                            "paid_fen": run.paid_fen,
                            "skipped": run.skipped_count,
                        },
                    )
            break
        try:
            with transaction.atomic():
                _pay_chunk(run, policy, start, int(last), message)
                chunks += 1
                if fail_after_chunks is not None and chunks > fail_after_chunks:
                    raise RuntimeError(f"simulated crash in chunk {chunks}")
        except _ChunkLost:
            continue
    run.refresh_from_db()
    return run


def _pay_chunk(run: Run, policy: Policy, start: int, last: int, message: str) -> None:
    now = timezone.now()
    entitlement, payment, notice, decline = (
        Entitlement._meta.db_table,
        Payment._meta.db_table,
        Notice._meta.db_table,
        Decline._meta.db_table,
    )
    chunk = "e.run_id = %s AND e.id > %s AND e.id <= %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {payment} (policy_id, period, beneficiary, division_code, amount_fen, run_id, origin, paid_at) "  # noqa: S608
            f"SELECT %s, %s, e.beneficiary, e.division_code, e.amount_fen, e.run_id, %s, %s FROM {entitlement} e "
            f"WHERE {chunk} AND NOT EXISTS (SELECT 1 FROM {decline} d WHERE d.policy_id = %s "
            "AND d.beneficiary = e.beneficiary) "
            "ON CONFLICT (policy_id, period, beneficiary) DO NOTHING",
            [policy.pk, run.period, PaymentOrigin.PLATFORM, now, run.pk, start, last, policy.pk],
        )
        # The payments this run holds for the chunk's beneficiaries.
        mine = (
            f"FROM {entitlement} e JOIN {payment} p ON p.policy_id = %s AND p.period = %s "
            f"AND p.beneficiary = e.beneficiary AND p.run_id = e.run_id WHERE {chunk}"
        )
        params = [policy.pk, run.period, run.pk, start, last]
        cursor.execute(
            f"INSERT INTO {notice} (payment_id, beneficiary, message, created_at, read_at) "  # noqa: S608
            f"SELECT p.id, p.beneficiary, %s, %s, NULL {mine} ON CONFLICT (payment_id) DO NOTHING",
            [message, now, *params],
        )
        cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(p.amount_fen), 0) {mine}", params)  # noqa: S608
        paid, paid_fen = cursor.fetchone()
        cursor.execute(f"SELECT COUNT(*) FROM {entitlement} e WHERE {chunk}", [run.pk, start, last])  # noqa: S608
        (size,) = cursor.fetchone()
        won = Run.objects.filter(pk=run.pk, paid_through=start).update(
            paid_through=last,
            paid_count=F("paid_count") + paid,
            paid_fen=F("paid_fen") + int(paid_fen),
            skipped_count=F("skipped_count") + (size - paid),
        )
        if not won:
            raise _ChunkLost
        cursor.execute(
            f"UPDATE {entitlement} SET status = CASE WHEN EXISTS (SELECT 1 FROM {payment} p "  # noqa: S608
            f"WHERE p.policy_id = %s AND p.period = %s AND p.beneficiary = {entitlement}.beneficiary "
            f"AND p.run_id = {entitlement}.run_id) THEN 'paid' ELSE 'skipped' END "
            "WHERE run_id = %s AND id > %s AND id <= %s",
            params,
        )
    audit_record(
        actor=SYSTEM,
        action="benefits.run_pay_chunk",
        target=run,
        after={"through": last, "paid": paid, "paid_fen": int(paid_fen), "skipped": size - paid},
    )


# --- the beneficiary's side ---------------------------------------------------------------------


def beneficiary_keys(user: Any) -> dict[str, list[str]]:
    """The ID number and USCCs a user may see benefits of: their own person; the enterprises
    they act for."""
    from yiwang.registry.models import EnterpriseAgent, Person

    if not getattr(user, "is_authenticated", False):
        return {"person": [], "enterprise": []}
    persons = list(Person.objects.filter(user=user).values_list("id_number", flat=True))
    enterprises = list(EnterpriseAgent.objects.filter(user=user).values_list("enterprise__uscc", flat=True))
    return {"person": persons, "enterprise": enterprises}


def access_beneficiary(user: Any, policy: Policy, beneficiary: str) -> bool:
    keys = beneficiary_keys(user)
    return beneficiary in keys["person" if policy.subject_type == SubjectType.PERSON else "enterprise"]


def benefit_decline(*, policy: Policy, beneficiary: str, actor: Any, reason: str = "") -> Decline:
    """The beneficiary declines a policy: later runs skip them (a payment already made stays)."""
    if not access_beneficiary(actor, policy, beneficiary):
        raise NotFound(_("Not found."))
    with transaction.atomic():
        decline, created = Decline.objects.get_or_create(
            policy=policy,
            beneficiary=beneficiary,
            defaults={"declined_by": actor, "declined_at": timezone.now(), "reason": reason[:255]},
        )
        if not created:
            raise Conflict(_("You have already declined this benefit."))
        audit_record(actor=actor, action="benefits.decline", target=decline, after={"policy": policy.code})
    return decline


def objection_submit(*, policy: Policy, beneficiary: str, period: str, text: str, actor: Any) -> Objection:
    """The beneficiary objects (not paid, wrong amount …): a case of type benefits.objection in
    the policy's department, to be answered within 15 working days."""
    from yiwang.benefits.cases import OBJECTION
    from yiwang.cases.services import case_notify, case_open

    if not access_beneficiary(actor, policy, beneficiary):
        raise NotFound(_("Not found."))
    if not text.strip():
        raise FieldErrors.single("text", _("Say what you object to."))
    if len(text) > 2000:
        raise FieldErrors.single("text", _("At most 2,000 characters."))
    period = (period or "").strip()[:16]
    if not period:
        raise FieldErrors.single("period", _("This field is required."))
    now = timezone.now()
    with transaction.atomic():
        case = case_open(
            case_type=OBJECTION,
            title=_("Objection: %(policy)s %(period)s") % {"policy": policy.title, "period": period},
            department=policy.department,
            actor=actor,
            subject_type=policy.subject_type,
            subject_key=beneficiary,
            data={"policy": policy.code, "period": period},
            note=text.strip(),
            now=now,
        )
        objection = Objection.objects.create(
            case=case,
            policy=policy,
            period=period,
            beneficiary=beneficiary,
            text=text.strip(),
            submitted_by=actor,
            submitted_at=now,
            payment=Payment.objects.filter(policy=policy, period=period, beneficiary=beneficiary).first(),
        )
        case_notify(
            case=case,
            role=Role.DEPARTMENT_HANDLER,
            department=policy.department,
            message=_("New objection %(reference)s to %(policy)s.")
            % {"reference": case.reference, "policy": policy.title},
        )
        audit_record(
            actor=actor,
            action="benefits.objection_submit",
            target=objection,
            after={"case": case.reference, "policy": policy.code, "period": period},
        )
    return objection


def objection_payment_make(*, case: Any, actor: Any) -> Payment | None:
    """Called inside the uphold transition: pay the objector (once, origin "objection") when
    the rule version in force finds them eligible for the period now; refuse the uphold when
    it does not (the source data must be corrected by the department that keeps it)."""
    from yiwang.rules.services import rule_evaluate, rule_in_force

    objection = Objection.objects.select_related("policy").get(pk=case.pk)
    policy = objection.policy
    existing = Payment.objects.filter(
        policy=policy, period=objection.period, beneficiary=objection.beneficiary
    ).first()
    if existing is not None:
        return existing
    if Decline.objects.filter(policy=policy, beneficiary=objection.beneficiary).exists():
        raise Conflict(_("The beneficiary declined this benefit."))
    _code, on = period_resolve(policy=policy, period=objection.period)
    version = rule_in_force(code=policy.code)
    rows = rule_evaluate(
        version.definition,
        on=on,
        subjects=[objection.beneficiary],
        eligible_only=True,
        consumer=policy.department,
        purpose=_("Objection %s") % case.reference,
        actor=actor,
        version=version,
    )
    amount = int(rows[0]["amount"] or 0) // (policy.amount_divisor or 1) if rows else 0
    if amount <= 0:
        raise Conflict(
            _(
                "The rule in force still finds this beneficiary not eligible for %(period)s: have the "
                "department that keeps the data correct it first, or dismiss the objection with the reason."
            )
            % {"period": objection.period}
        )
    division = _divisions(policy.subject_type, [objection.beneficiary]).get(objection.beneficiary, "")
    now = timezone.now()
    payment = Payment.objects.create(
        policy=policy,
        period=objection.period,
        beneficiary=objection.beneficiary,
        division_code=division,
        amount_fen=amount,
        origin=PaymentOrigin.OBJECTION,
        paid_at=now,
    )
    Notice.objects.create(
        payment=payment,
        beneficiary=objection.beneficiary,
        message=_notice_text(policy, objection.period),
        created_at=now,
    )
    Objection.objects.filter(pk=objection.pk).update(payment=payment)
    audit_record(
        actor=actor,
        action="benefits.objection_pay",
        target=payment,
        after={"case": case.reference, "amount_fen": amount},
    )
    return payment


def notices_read(*, user: Any) -> int:
    """Mark the user's notices read (they opened "my benefits")."""
    keys = beneficiary_keys(user)
    every = keys["person"] + keys["enterprise"]
    if not every:
        return 0
    return Notice.objects.filter(beneficiary__in=every, read_at__isnull=True).update(read_at=timezone.now())
