"""Writing rules and parameters: refused at save time with the problem named; four eyes."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

from yiwang.core.errors import Conflict, FieldErrors, Forbidden
from yiwang.core.models import AuditEntry, Role
from yiwang.core.services import user_create
from yiwang.rules.models import Parameter, VersionStatus
from yiwang.rules.services import (
    parameter_value_add,
    parameters_at,
    rule_version_approve,
    rule_version_publish,
    rule_version_save,
)

pytestmark = pytest.mark.django_db
D = datetime.date
MEDICAL = yaml.safe_load(
    (Path(__file__).parent / "cases" / "relapse_medical.yaml").read_text(encoding="utf-8")
)
CATALOG = {
    "ga.households": {"household_no": "string"},
    "ga.household_members": {"household_no": "string", "id_number": "string"},
    "yb.self_pay_claims": {
        "claim_no": "string",
        "id_number": "string",
        "self_pay_fen": "integer",
        "paid_on": "date",
    },
}


def person(role: str, name: str):
    return user_create(
        actor=None, username=name, password="rules-Pw-1", roles=[(role, None, None)] if role else []
    )


@pytest.fixture
def threshold() -> Parameter:
    return Parameter.objects.create(
        code="relapse.medical.threshold_fen", label="医疗自付预警线", unit="fen", basis_document="指导意见"
    )


def _paths(error: FieldErrors) -> dict[str, str]:
    return {".".join(map(str, path)): message for path, message in error.errors}


def test_dated_values_never_overlap(threshold):
    steward = person(Role.DATA_STEWARD, "steward")
    parameter_value_add(
        parameter=threshold, value=1500000, valid_from=D(2024, 1, 1), valid_to=D(2025, 12, 31), actor=steward
    )
    parameter_value_add(parameter=threshold, value=1200000, valid_from=D(2026, 1, 1), actor=steward)
    assert parameters_at({threshold.code}, D(2025, 12, 31)) == {threshold.code: 1500000}
    assert parameters_at({threshold.code}, D(2026, 1, 1)) == {threshold.code: 1200000}
    with pytest.raises(FieldErrors) as caught:
        parameters_at({threshold.code}, D(2023, 12, 31))
    assert "parameters.relapse.medical.threshold_fen" in _paths(caught.value)
    for start, end in ((D(2025, 6, 1), D(2025, 7, 1)), (D(2027, 1, 1), None), (D(2023, 1, 1), D(2024, 1, 1))):
        with pytest.raises(FieldErrors) as caught:
            parameter_value_add(parameter=threshold, value=1, valid_from=start, valid_to=end, actor=steward)
        assert "overlap" in _paths(caught.value)["valid_from"] or "重叠" in _paths(caught.value)["valid_from"]
    with pytest.raises(FieldErrors):
        parameter_value_add(
            parameter=threshold, value=1, valid_from=D(2023, 5, 1), valid_to=D(2023, 4, 1), actor=steward
        )
    assert threshold.values.count() == 2
    with pytest.raises(Forbidden):
        parameter_value_add(
            parameter=threshold,
            value=1,
            valid_from=D(2020, 1, 1),
            valid_to=D(2020, 2, 1),
            actor=person("", "nobody"),
        )


def test_a_rule_naming_an_unknown_field_or_comparing_types_is_refused_at_save(threshold):
    steward = person(Role.DATA_STEWARD, "steward")
    rule = yaml.safe_load(yaml.safe_dump(MEDICAL["rule"]))
    rule["conditions"][0]["value"]["sum"] = "claims.self_pay_yuan"
    rule["conditions"][0]["value"]["where"][0]["value"] = {"value": "last year"}
    rule["sources"]["claims"]["resource"] = "yb.self_pay_claims"
    with pytest.raises(FieldErrors) as caught:
        rule_version_save(definition=rule, actor=steward, catalog=CATALOG)
    paths = _paths(caught.value)
    assert "self_pay_yuan" in paths["definition.conditions.0.value.sum"]
    assert "cannot compare" in paths["definition.conditions.0.value.where.0.value"]
    wrong_type = yaml.safe_load(yaml.safe_dump(MEDICAL["rule"]))
    wrong_type["conditions"][0]["value"] = {"sum": "claims.paid_on"}
    with pytest.raises(FieldErrors) as caught:
        rule_version_save(definition=wrong_type, actor=steward, catalog=CATALOG)
    assert "sum needs a number" in _paths(caught.value)["definition.conditions.0.value.sum"]
    unknown_resource = yaml.safe_load(yaml.safe_dump(MEDICAL["rule"]))
    unknown_resource["sources"]["claims"]["resource"] = "yb.nothing"
    with pytest.raises(FieldErrors) as caught:
        rule_version_save(definition=unknown_resource, actor=steward, catalog=CATALOG)
    assert "definition.sources.claims.resource" in _paths(caught.value)


def test_unknown_parameter_is_refused_and_four_eyes_publish(threshold):
    steward = person(Role.DATA_STEWARD, "steward")
    supervisor = person(Role.SUPERVISOR, "supervisor")
    missing = yaml.safe_load(yaml.safe_dump(MEDICAL["rule"]))
    missing["conditions"][0]["than"] = {"param": "relapse.medical.nothing"}
    with pytest.raises(FieldErrors):
        rule_version_save(definition=missing, actor=steward, catalog=CATALOG)
    first = rule_version_save(definition=MEDICAL["rule"], actor=steward, catalog=CATALOG, note="首版")
    assert first.number == 1 and first.status == VersionStatus.DRAFT
    with pytest.raises(Forbidden):
        rule_version_approve(version=first, actor=steward)  # not one's own
    with pytest.raises(Conflict):
        rule_version_publish(version=first, actor=supervisor)  # not approved yet
    rule_version_publish(version=rule_version_approve(version=first, actor=supervisor), actor=supervisor)
    second = rule_version_save(definition=MEDICAL["rule"], actor=steward, catalog=CATALOG, note="复核")
    rule_version_publish(version=rule_version_approve(version=second, actor=supervisor), actor=supervisor)
    first.refresh_from_db()
    assert (first.status, second.number) == (VersionStatus.RETIRED, 2)
    assert AuditEntry.objects.filter(action="rules.version_publish").count() == 2
