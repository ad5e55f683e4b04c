"""The explanation in words: values formatted by their unit, the comparison, 符合/不符合, the legal
basis, a one-sentence summary; the same text in English; the include apps put on their pages."""

from __future__ import annotations

import datetime

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from tests.factories import DepartmentFactory, PersonFactory
from yiwang.core.models import Role
from yiwang.core.services import user_create
from yiwang.exchange import services as exchange
from yiwang.rules.definition import Condition
from yiwang.rules.explain import (
    basis_format,
    condition_unit,
    explanation_display,
    money_format,
    value_format,
)
from yiwang.rules.models import Parameter
from yiwang.rules.services import ConditionResult, Explanation, parameter_value_add, rule_explain

D = datetime.date
BASIS = {"document": "关于健全防止返贫动态监测和帮扶机制的指导意见", "article": "二"}


def medical(found: int, *, eligible: bool) -> Explanation:
    return Explanation(
        subject="360302199001011234",
        eligible=eligible,
        amount=0,
        code="relapse.medical",
        title="医保：自付医疗费用高",
        conditions=[
            ConditionResult(
                id="self_pay",
                label="近12个月个人自付医疗费用合计",
                basis=BASIS,
                value=found,
                op=">=",
                compared_with=1500000,
                passed=eligible,
                unit="fen",
            )
        ],
    )


def test_values_are_formatted_by_their_unit_in_chinese():
    with translation.override("zh-hans"):
        assert money_format(1500000) == "15,000.00 元"
        assert money_format(1499999) == "14,999.99 元"
        assert money_format(-5) == "-0.05 元"
        assert value_format(80, "age") == "80 周岁"
        assert value_format(3, "count") == "3"
        assert value_format(12, "months") == "12 个月"
        assert value_format(True, "boolean") == "是" and value_format(0, "boolean") == "否"
        assert value_format("2026-01-10") == "2026年1月10日"
        assert value_format(D(2026, 1, 10)) == "2026年1月10日"
        assert value_format(None, "fen") == "无记录"
        assert value_format(250, "basis_points") == "2.50%"
        assert value_format(12, "亩") == "12 亩"
        assert basis_format(BASIS) == "《关于健全防止返贫动态监测和帮扶机制的指导意见》 二"
        assert basis_format({"document": "《江西省高龄津贴发放办法》", "article": "3"}) == (
            "《江西省高龄津贴发放办法》 第3条"
        )


def test_the_unit_is_inferred_from_age_parameter_field_count_and_boolean():
    def condition(value: dict, than: dict) -> Condition:
        return Condition(id="c", label="c", basis={}, value=value, op=">=", than=than)

    assert (
        condition_unit(condition({"age": "p.birth_date"}, {"param": "min_age"}), {"min_age": "years"})
        == "age"
    )
    assert condition_unit(
        condition({"field": "e.rate"}, {"param": "max_rate"}), {"max_rate": "permille"}
    ) == ("permille")
    assert condition_unit(condition({"sum": "c.self_pay_fen"}, {"value": 1500000}), {}) == "fen"
    # a date filter on another field does not make the value money, nor a money filter a count money
    assert (
        condition_unit(
            condition(
                {"count": "c", "where": [{"field": "c.amount_fen", "op": ">", "value": 0}]}, {"value": 1}
            ),
            {},
        )
        == "count"
    )
    assert condition_unit(condition({"field": "p.dishonest"}, {"value": False}), {}) == "boolean"
    assert condition_unit(condition({"field": "p.kind"}, {"value": "x"}), {}) == ""


def test_the_summary_names_each_failed_condition_at_the_boundary_and_one_fen_below():
    with translation.override("zh-hans"):
        met = explanation_display(medical(1500000, eligible=True))
        below = explanation_display(medical(1499999, eligible=False))
    assert met.summary == "符合全部条件。"
    assert (met.rows[0].found, met.rows[0].comparison, met.rows[0].verdict) == (
        "15,000.00 元",
        "≥ 15,000.00 元",
        "符合",
    )
    assert below.verdict == "不符合" and below.rows[0].verdict == "不符合"
    assert below.summary == "不符合：近12个月个人自付医疗费用合计为 14,999.99 元，要求 ≥ 15,000.00 元。"
    assert below.subject == "3603**********1234"  # an ID number is masked
    with translation.override("en"):
        english = explanation_display(medical(1499999, eligible=False))
    assert english.summary == (
        "Not met: 近12个月个人自付医疗费用合计 is 14,999.99 yuan, required ≥ 15,000.00 yuan."
    )
    assert english.rows[0].verdict == "Not met"


def test_an_amount_is_in_the_summary():
    paid = Explanation(subject="H1", eligible=True, amount=5000, conditions=[])
    with translation.override("zh-hans"):
        assert explanation_display(paid).summary == "符合全部条件，金额 50.00 元。"


@pytest.mark.django_db
def test_rule_explain_fills_the_units_and_the_include_tells_the_citizen_why(settings):
    department = DepartmentFactory(code="GA9")
    exchange.resource_publish(
        actor=None,
        department=department,
        code="ga.persons",
        title="人口基础信息",
        subject_type="person",
        key_field="id_number",
        subject_field="id_number",
        fields=[],
        backing="person",
    )
    steward = user_create(
        actor=None, username="explain-steward", password="Pw-rules-1", roles=[(Role.DATA_STEWARD, None, None)]
    )
    min_age = Parameter.objects.create(
        code="benefits.elderly.min_age",
        label="起始年龄",
        unit="years",
        basis_document="《江西省高龄津贴发放办法》",
    )
    parameter_value_add(parameter=min_age, value=80, valid_from=D(2020, 1, 1), actor=steward)
    eighty = PersonFactory(birth_date=D(1946, 11, 23))
    younger = PersonFactory(birth_date=D(1946, 11, 24))
    rule = {
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
        "amount": {"value": 10000},
    }
    explained = {
        e.subject: e
        for e in rule_explain(rule, subjects=[eighty.id_number, younger.id_number], on=D(2026, 11, 23))
    }
    assert explained[eighty.id_number].conditions[0].unit == "age"
    assert explained[eighty.id_number].title == "高龄津贴"
    with translation.override("zh-hans"):
        shown = render_to_string(
            "rules/explanation.html",
            {"explanation": explained[younger.id_number], "explanation_audience": "citizen"},
        )
        granted = render_to_string("rules/explanation.html", {"explanation": explained[eighty.id_number]})
    assert "为什么我没有获得高龄津贴" in shown
    assert "79 周岁" in shown and "≥ 80 周岁" in shown and "不符合" in shown
    assert "《江西省高龄津贴发放办法》 第三条" in shown
    assert younger.id_number not in shown
    assert "符合全部条件，金额 100.00 元。" in granted and 'data-eligible="true"' in granted
    with translation.override("en"):
        english = render_to_string(
            "rules/explanation.html",
            {"explanation": explained[younger.id_number], "explanation_audience": "citizen"},
        )
    assert "Why I do not get 高龄津贴" in english and "79 years of age" in english
