"""Rule files an application ships with: loaded idempotently, published under the rule-file
account, a changed definition published as a new version, bad files refused whole."""

from __future__ import annotations

import copy

import pytest

from yiwang.core.errors import FieldErrors
from yiwang.core.models import AuditEntry
from yiwang.rules.models import Parameter, ParameterValue, RuleVersion
from yiwang.rules.services import rule_file_load, rule_in_force

pytestmark = pytest.mark.django_db

CATALOG = {"ga.persons": {"id_number": "string", "birth_date": "date"}}
FILE = {
    "kind": "eligibility",
    "parameters": [
        {
            "code": "benefits.elderly.min_age",
            "label": "高龄津贴起始年龄",
            "unit": "years",
            "basis": {"document": "《江西省高龄津贴发放办法》", "article": "第三条"},
            "values": [{"value": 80, "valid_from": "2020-01-01"}],
        }
    ],
    "rule": {
        "code": "benefits.elderly",
        "title": "高龄津贴",
        "subject": "persons",
        "sources": {"persons": {"resource": "ga.persons", "key": "id_number"}},
        "conditions": [
            {
                "id": "age",
                "label": "年龄（周岁）",
                "basis": {"document": "《江西省高龄津贴发放办法》", "article": "第三条"},
                "value": {"age": "persons.birth_date"},
                "op": ">=",
                "than": {"param": "benefits.elderly.min_age"},
            }
        ],
    },
}


def test_a_rule_file_is_published_once_however_often_it_is_loaded():
    first = rule_file_load(raw=FILE, source="benefits/rules/elderly.yaml", catalog=CATALOG)
    again = rule_file_load(raw=copy.deepcopy(FILE), source="benefits/rules/elderly.yaml", catalog=CATALOG)
    assert first.pk == again.pk and first.status == "published" and first.number == 1
    assert rule_in_force(code="benefits.elderly").pk == first.pk
    assert ParameterValue.objects.get(parameter__code="benefits.elderly.min_age").value == 80
    assert AuditEntry.objects.filter(action="rules.version_publish").count() == 1


def test_a_changed_definition_and_a_new_dated_value_become_a_new_version():
    first = rule_file_load(raw=FILE, source="f.yaml", catalog=CATALOG)
    changed = copy.deepcopy(FILE)
    changed["rule"]["title"] = "高龄津贴（2027年起）"
    changed["parameters"][0]["values"] = [
        {"value": 80, "valid_from": "2020-01-01", "valid_to": "2026-12-31"},
        {"value": 75, "valid_from": "2027-01-01"},
    ]
    # the first value's end changes: that is a different value on the same start, refused as overlap
    with pytest.raises(FieldErrors):
        rule_file_load(raw=changed, source="f.yaml", catalog=CATALOG)
    assert RuleVersion.objects.count() == 1  # nothing half-written
    changed["parameters"][0]["values"] = [{"value": 80, "valid_from": "2020-01-01"}]
    second = rule_file_load(raw=changed, source="f.yaml", catalog=CATALOG)
    first.refresh_from_db()
    assert (first.status, second.status, second.number) == ("retired", "published", 2)


def test_a_bad_rule_file_is_refused_with_every_problem_named():
    bad = copy.deepcopy(FILE)
    bad["kind"] = "lottery"
    del bad["parameters"][0]["unit"]
    with pytest.raises(FieldErrors) as refused:
        rule_file_load(raw=bad, source="f.yaml", catalog=CATALOG)
    paths = {path for path, _message in refused.value.errors}
    assert {("kind",), ("parameters", 0, "unit")} <= paths
    unknown = copy.deepcopy(FILE)
    unknown["parameters"] = []
    with pytest.raises(FieldErrors) as refused:
        rule_file_load(raw=unknown, source="f.yaml", catalog=CATALOG)
    assert [path for path, _message in refused.value.errors] == [("rule", "parameters")]
    assert not Parameter.objects.exists() and not RuleVersion.objects.exists()


def test_a_value_not_a_date_is_named_by_its_path():
    bad = copy.deepcopy(FILE)
    bad["parameters"][0]["values"][0]["valid_from"] = "soon"
    with pytest.raises(FieldErrors) as refused:
        rule_file_load(raw=bad, source="f.yaml", catalog=CATALOG)
    assert refused.value.errors[0][0] == ("parameters", 0, "values", 0, "valid_from")
