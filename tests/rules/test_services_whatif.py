"""What-if: a draft (or the published version with changed parameters) against the published
version on the same day — who qualifies and the total amount under each, who is gained and
lost. Audited; nothing else written."""

from __future__ import annotations

import copy
import datetime

import pytest

from tests.factories import DepartmentFactory, PersonFactory, UserFactory
from yiwang.core.errors import FieldErrors, Forbidden
from yiwang.core.models import AuditEntry, Role
from yiwang.exchange import services as exchange
from yiwang.rules import services
from yiwang.rules.models import Parameter, RuleVersion
from yiwang.rules.services import (
    parameter_value_add,
    rule_version_approve,
    rule_version_publish,
    rule_version_save,
    rule_whatif,
)

pytestmark = pytest.mark.django_db
ON = datetime.date(2026, 11, 23)
RULE = {
    "code": "benefits.elderly",
    "title": "高龄津贴",
    "subject": "persons",
    "sources": {"persons": {"resource": "ga.persons", "key": "id_number"}},
    "conditions": [
        {
            "id": "age",
            "label": "年龄",
            "basis": {"document": "《江西省高龄津贴发放办法》", "article": "第三条"},
            "value": {"age": "persons.birth_date"},
            "op": ">=",
            "than": {"param": "benefits.elderly.min_age"},
        }
    ],
    "amount": {"band": {"age": "persons.birth_date"}, "bands": [[0, 89, 5000], [90, None, 10000]]},
}


@pytest.fixture
def world(db):
    exchange.resource_publish(
        actor=None,
        department=DepartmentFactory(code="GA"),
        code="ga.persons",
        title="人口基础信息",
        subject_type="person",
        key_field="id_number",
        subject_field="id_number",
        fields=[],
        backing="person",
    )
    steward = UserFactory(username="steward", role=Role.DATA_STEWARD)
    supervisor = UserFactory(username="supervisor", role=Role.SUPERVISOR)
    min_age = Parameter.objects.create(
        code="benefits.elderly.min_age",
        label="起始年龄",
        unit="years",
        basis_document="《江西省高龄津贴发放办法》",
    )
    parameter_value_add(parameter=min_age, value=80, valid_from=datetime.date(2020, 1, 1), actor=steward)
    people = {
        age: PersonFactory(birth_date=datetime.date(2026 - age, 1, 1)).id_number
        for age in (76, 79, 80, 84, 85, 92)
    }
    return {"steward": steward, "supervisor": supervisor, "people": people}


def published(world) -> RuleVersion:
    version = rule_version_save(definition=RULE, actor=world["steward"])
    approved = rule_version_approve(version=version, actor=world["supervisor"])
    return rule_version_publish(version=approved, actor=world["supervisor"])


def test_a_draft_against_the_published_version(world):
    people = world["people"]
    first = published(world)
    stricter = copy.deepcopy(RULE)
    stricter["conditions"][0]["than"] = {"value": 85}
    stricter["amount"]["bands"] = [[0, 89, 6000], [90, None, 12000]]
    draft = rule_version_save(definition=stricter, actor=world["steward"], note="85周岁起")
    result = rule_whatif(version=draft, on=ON, actor=world["supervisor"])
    assert (result.current.version, result.proposed.version) == (first.number, draft.number)
    assert (result.current.count, result.current.amount) == (4, 5000 * 3 + 10000)
    assert (result.proposed.count, result.proposed.amount) == (2, 6000 + 12000)
    assert (result.gained, result.lost, result.amount_changed) == (0, 2, 2)
    assert {item["subject"] for item in result.lost_first} == {people[80], people[84]}
    assert result.lost_first[0]["amount"] == 5000
    assert (result.count_difference, result.amount_difference) == (-2, 18000 - 25000)
    entry = AuditEntry.objects.get(action="rules.whatif")
    assert (entry.after["version"], entry.after["against"], entry.after["lost"]) == (2, 1, 2)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_parameter_change_before_it_is_published(world, monkeypatch):
    people = world["people"]
    current = published(world)
    monkeypatch.setattr(services, "WHATIF_SAMPLE", 1)
    result = rule_whatif(
        version=current, on=ON, actor=world["steward"], parameters={"benefits.elderly.min_age": 76}
    )
    assert result.proposed.parameters == {"benefits.elderly.min_age": 76}
    assert result.current.parameters == {"benefits.elderly.min_age": 80}
    assert (result.gained, result.lost, result.proposed.count) == (2, 0, 6)
    assert result.gained_first == [{"subject": min(people[76], people[79]), "amount": 5000}]  # the first one
    assert Parameter.objects.get().values.count() == 1  # nothing published
    # the boundary: 80 exactly qualifies, one year more does not change it
    same = rule_whatif(
        version=current, on=ON, actor=world["steward"], parameters={"benefits.elderly.min_age": 80}
    )
    assert (same.gained, same.lost, same.proposed.count) == (0, 0, 4)


def test_without_a_published_version_everyone_qualifying_is_gained(world):
    draft = rule_version_save(definition=RULE, actor=world["steward"])
    result = rule_whatif(version=draft, on=ON, actor=world["steward"])
    assert result.current is None and (result.gained, result.proposed.count) == (4, 4)


def test_bad_overrides_and_outsiders_are_refused(world):
    draft = rule_version_save(definition=RULE, actor=world["steward"])
    with pytest.raises(FieldErrors) as refused:
        rule_whatif(
            version=draft,
            on=ON,
            actor=world["steward"],
            parameters={"benefits.other": 1, "benefits.elderly.min_age": "80"},
        )
    assert {path for path, _message in refused.value.errors} == {
        ("parameters", "benefits.other"),
        ("parameters", "benefits.elderly.min_age"),
    }
    with pytest.raises(Forbidden):
        rule_whatif(version=draft, on=ON, actor=UserFactory(username="citizen", role=Role.CITIZEN))
    assert not AuditEntry.objects.filter(action="rules.whatif").exists()
