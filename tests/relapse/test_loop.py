"""The relapse loop at service level: a department's screening flags a household, the warning
becomes a verification case of the household's town, the town cadre confirms it, the household
is monitored with its members read through the exchange, measures suggested by its risk type
are recorded, a review finds the risk gone and the risk is cleared — every step audited."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from tests.relapse.conftest import claim, members_of, push
from yiwang.cases.models import Case, Notification
from yiwang.core.errors import Conflict, FieldErrors, Forbidden
from yiwang.core.models import AuditEntry
from yiwang.relapse import selectors, services
from yiwang.relapse.models import MonitoredHousehold, ScreeningRun, Warning

pytestmark = pytest.mark.django_db

ON = datetime.date(2026, 11, 26)


def test_from_warning_to_risk_cleared(city):
    household = city.household(members=3)
    first, second, _third = members_of(household)
    push(
        "yb.self_pay_claims",
        [
            claim("C1", first, "9000.00", datetime.date(2026, 3, 1)),
            claim("C2", second, "6000.00", datetime.date(2026, 10, 1)),
        ],
    )
    run = services.screen(rule_code="relapse.medical", on=ON)
    assert (run.flagged, run.created) == (1, 1)
    warning = Warning.objects.get()
    assert (warning.household, warning.source, warning.period, warning.town) == (
        household,
        "medical",
        "2026-11",
        city.town,
    )
    found = {finding["id"]: finding["value"] for finding in warning.findings}
    assert (bool(found["rural"]), found["self_pay"]) == (True, 1500000)
    assert all(finding["passed"] and finding["basis"]["document"] for finding in warning.findings)
    case = warning.case
    assert case.department == city.town_office and case.state == "verifying"
    assert case.state_deadline is not None
    assert Notification.objects.filter(case=case, department=city.town_office).exists()

    # Only the household's own town may verify it.
    with pytest.raises(Exception):  # noqa: B017 - the cases engine answers NotFound/Forbidden
        services.warning_confirm(
            warning=warning,
            actor=city.other_cadre,
            risk_types=["illness"],
            note="核实",
            expected_version=case.version,
        )
    with pytest.raises(FieldErrors) as refused:
        services.warning_confirm(
            warning=warning, actor=city.cadre, risk_types=[], note="", expected_version=case.version
        )
    assert {path for path, _message in refused.value.errors} == {("risk_types",), ("note",)}

    monitored = services.warning_confirm(
        warning=warning,
        actor=city.cadre,
        risk_types=["illness"],
        note="入户核实：户主肺癌化疗，家庭收入骤减",
        cadre=city.cadre2,
        expected_version=case.version,
    )
    warning.refresh_from_db()
    assert warning.state == "confirmed" and Case.objects.get(pk=case.pk).state == "confirmed"
    assert monitored.cadre == city.cadre2 and monitored.risk_types == ["illness"]
    assert monitored.member_count == 3
    assert {member["id_number"] for member in monitored.members} == set(members_of(household))
    assert any(member["labourer"] for member in monitored.members)
    assert monitored.next_review_on == services._months_later(monitored.confirmed_on, 1)

    suggestions = selectors.measure_suggestions(risk_types=monitored.risk_types)
    assert [item["kind"] for item in suggestions] == ["medical", "insurance", "subsistence"]
    measure = services.measure_record(
        monitored=monitored,
        actor=city.cadre,
        kind="medical",
        description="大病医疗救助",
        started_on=datetime.date(2026, 11, 27),
        amount_fen=services.fen_from_yuan("8000.50"),
    )
    assert measure.amount_fen == 800050
    with pytest.raises(Forbidden):
        services.measure_record(
            monitored=monitored,
            actor=city.other_cadre,
            kind="medical",
            description="x",
            started_on=ON,
            amount_fen=1,
        )

    # The risk is cleared only after a review found it gone.
    with pytest.raises(Conflict):
        services.risk_clear(monitored=monitored, actor=city.cadre, reason="收入恢复")
    services.review_record(monitored=monitored, actor=city.cadre, risk_remains=True, note="仍在治疗")
    with pytest.raises(Conflict):
        services.risk_clear(monitored=monitored, actor=city.cadre, reason="收入恢复")
    services.review_record(
        monitored=monitored, actor=city.cadre, risk_remains=False, note="已康复返岗，收入稳定"
    )
    with pytest.raises(FieldErrors):
        services.risk_clear(monitored=monitored, actor=city.cadre, reason=" ")
    cleared = services.risk_clear(
        monitored=monitored, actor=city.cadre, reason="已康复返岗，人均纯收入超过监测标准"
    )
    assert cleared.cleared_on is not None and not cleared.is_active
    with pytest.raises(Conflict):
        services.measure_record(
            monitored=cleared, actor=city.cadre, kind="medical", description="x", started_on=ON, amount_fen=1
        )
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "relapse.screen",
        "relapse.warning_raise",
        "relapse.monitor_start",
        "relapse.measure_record",
        "relapse.review",
        "relapse.risk_clear",
        "case.open",
        "case.transition",
    } <= actions

    # Cleared, the household may be monitored again when a new risk arises.
    assert MonitoredHousehold.objects.filter(household=household, cleared_on__isnull=True).count() == 0


def test_a_warning_dismissed_with_its_reason(city):
    household = city.household(members=1)
    (only,) = members_of(household)
    push("yb.self_pay_claims", [claim("D1", only, "15000.00", datetime.date(2026, 9, 1))])
    services.screen(rule_code="relapse.medical", on=ON)
    warning = Warning.objects.get()
    with pytest.raises(FieldErrors):
        services.warning_dismiss(
            warning=warning, actor=city.cadre, reason="", expected_version=warning.case.version
        )
    services.warning_dismiss(
        warning=warning,
        actor=city.cadre,
        reason="已由商业保险报销，家庭收入稳定",
        expected_version=warning.case.version,
    )
    warning.refresh_from_db()
    assert warning.state == "dismissed" and warning.decision_reason == "已由商业保险报销，家庭收入稳定"
    assert not MonitoredHousehold.objects.exists()


def test_rerunning_a_screening_for_the_same_period_creates_nothing_new(city):
    households = [city.household(members=2) for _ in range(3)]
    claims = []
    for index, household in enumerate(households):
        claims.append(claim(f"R{index}", members_of(household)[0], "20000.00", datetime.date(2026, 8, 1)))
    push("yb.self_pay_claims", claims)
    first = services.screen(rule_code="relapse.medical", on=ON)
    again = services.screen(rule_code="relapse.medical", on=ON + datetime.timedelta(days=1))
    assert (first.created, again.flagged, again.created) == (3, 3, 0)
    assert Warning.objects.count() == 3 and Case.objects.count() == 3
    # A new month is a new period: the household is warned again.
    december = services.screen(rule_code="relapse.medical", on=datetime.date(2026, 12, 28))
    assert december.created == 3
    assert sorted(Warning.objects.values_list("period", flat=True)) == ["2026-11"] * 3 + ["2026-12"] * 3
    # A slot runs once.
    slotted = services.screen(
        rule_code="relapse.medical", on=ON, trigger="schedule", slot="relapse.medical@2026-11"
    )
    assert (
        services.screen(rule_code="relapse.medical", on=ON, slot="relapse.medical@2026-11").pk == slotted.pk
    )
    assert ScreeningRun.objects.filter(slot="relapse.medical@2026-11").count() == 1


@pytest.mark.parametrize(("total", "flagged"), [("15000.00", True), ("14999.99", False)])
def test_the_medical_threshold_is_inclusive_to_the_fen(city, total, flagged):
    household = city.household(members=2)
    first, second = members_of(household)
    push(
        "yb.self_pay_claims",
        [
            claim("B1", first, "10000.01", datetime.date(2026, 1, 5)),
            claim("B2", second, str(Decimal(total) - Decimal("10000.01")), datetime.date(2026, 11, 2)),
        ],
    )
    run = services.screen(rule_code="relapse.medical", on=ON)
    assert run.flagged == (1 if flagged else 0)
    assert Warning.objects.filter(household=household).exists() is flagged


def test_urban_households_are_not_screened_by_the_medical_rule(city):
    household = city.household(members=1, rural=False)
    push(
        "yb.self_pay_claims", [claim("U1", members_of(household)[0], "30000.00", datetime.date(2026, 10, 1))]
    )
    assert services.screen(rule_code="relapse.medical", on=ON).flagged == 0
