"""A rule run on the platform's own stored records: a feed pushed to the exchange (money in
yuan, decimal text) and the registry's persons, on the configured database (SQLite here,
PostgreSQL in CI)."""

from __future__ import annotations

import datetime
import json

import pytest

from tests.factories import DepartmentFactory, UserFactory
from tests.rules.medical import BASIS, medical_person_rule
from yiwang.core.models import Role
from yiwang.core.services import user_create
from yiwang.exchange import services as exchange
from yiwang.rules.models import Parameter
from yiwang.rules.relations import platform_relations
from yiwang.rules.services import (
    exchange_catalog,
    parameter_value_add,
    rule_evaluate,
    rule_explain,
    rule_version_save,
)

pytestmark = pytest.mark.django_db
ON = datetime.date(2026, 11, 23)

RULE = medical_person_rule(
    {
        "id": "alive",
        "label": "在世",
        "basis": BASIS,
        "value": {
            "count": "claims",
            "where": [{"field": "claims.settled_on", "op": ">=", "value": {"days_before": 365}}],
        },
        "op": ">=",
        "than": {"value": 1},
    }
)


@pytest.fixture
def feed(db):
    from tests.factories import PersonFactory

    owner = DepartmentFactory(code="YB", name="萍乡市医疗保障局", short_name="医保局")
    steward = UserFactory(username="yb-steward", role=Role.DATA_STEWARD, role__department=owner)
    people = {label: PersonFactory() for label in ("boundary", "below", "old", "none")}
    resource = exchange.resource_publish(
        actor=steward,
        department=owner,
        code="yb.self_pay_claims",
        title="医保结算自付费用",
        subject_type="person",
        key_field="claim_no",
        subject_field="id_number",
        fields=[
            {"name": "claim_no", "label": "结算单号", "type": "string", "sharing_class": "open"},
            {"name": "id_number", "label": "身份证号", "type": "string", "sharing_class": "conditional"},
            {"name": "settled_on", "label": "结算日期", "type": "date", "sharing_class": "open"},
            {"name": "self_pay", "label": "个人自付金额", "type": "decimal", "sharing_class": "conditional"},
        ],
    )
    rows = [
        # exactly 15,000.00 yuan in three claims whose float sum is not 15000.0
        {
            "claim_no": "C1",
            "id_number": people["boundary"].id_number,
            "settled_on": "2026-01-10",
            "self_pay": "4999.99",
        },
        {
            "claim_no": "C2",
            "id_number": people["boundary"].id_number,
            "settled_on": "2026-05-10",
            "self_pay": "5000.01",
        },
        {
            "claim_no": "C3",
            "id_number": people["boundary"].id_number,
            "settled_on": "2026-11-23",
            "self_pay": "5000.00",
        },
        {
            "claim_no": "C4",
            "id_number": people["below"].id_number,
            "settled_on": "2026-09-01",
            "self_pay": "14999.99",
        },
        {
            "claim_no": "C5",
            "id_number": people["old"].id_number,
            "settled_on": "2025-11-22",
            "self_pay": "30000.00",
        },
    ]
    exchange.records_ingest(
        actor=steward, resource=resource, content="\n".join(json.dumps(row) for row in rows).encode()
    )
    return people


def test_a_rule_runs_on_the_stored_feed_in_exact_fen(feed, settings):
    from yiwang.exchange.models import Resource

    steward = user_create(
        actor=None, username="rules-steward", password="Pw-rules-1", roles=[(Role.DATA_STEWARD, None, None)]
    )
    threshold = Parameter.objects.create(
        code="relapse.medical.threshold_fen", label="医疗自付预警线", unit="fen", basis_document="指导意见"
    )
    parameter_value_add(
        parameter=threshold, value=1500000, valid_from=datetime.date(2024, 1, 1), actor=steward
    )
    Resource.objects.create(
        code="ga.persons",
        title="人口基础信息",
        department=DepartmentFactory(code="GA2"),
        subject_type="person",
        key_field="id_number",
        backing="person",
        published_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    )
    catalog = exchange_catalog()
    assert catalog["yb.self_pay_claims"]["self_pay_fen"] == "integer"
    catalog["ga.persons"] = {"id_number": "string"}
    version = rule_version_save(definition=RULE, actor=steward, catalog=catalog)
    assert version.number == 1
    assert set(platform_relations(["ga.persons", "yb.self_pay_claims"])) == {
        "ga.persons",
        "yb.self_pay_claims",
    }
    rows = {row["subject"]: row for row in rule_evaluate(RULE, on=ON)}
    boundary, below, old, none = (feed[k].id_number for k in ("boundary", "below", "old", "none"))
    assert rows[boundary]["v_self_pay"] == 1500000 and bool(rows[boundary]["eligible"])
    assert rows[below]["v_self_pay"] == 1499999 and not bool(rows[below]["eligible"])
    assert rows[old]["v_self_pay"] == 0 and not bool(rows[old]["eligible"])
    assert rows[none]["v_self_pay"] == 0 and not bool(rows[none]["eligible"])
    eligible = [row["subject"] for row in rule_evaluate(RULE, on=ON, eligible_only=True)]
    assert eligible == [boundary]
    (explained,) = rule_explain(RULE, subjects=[below], on=ON)
    assert not explained.eligible
    assert [(c.id, c.value, c.compared_with, c.passed) for c in explained.conditions] == [
        ("self_pay", 1499999, 1500000, False),
        ("alive", 1, 1, True),
    ]
    # What-if: the threshold lowered by one fen qualifies the second person too.
    lowered = rule_evaluate(
        RULE, on=ON, eligible_only=True, parameters={"relapse.medical.threshold_fen": 1499999}
    )
    assert sorted(row["subject"] for row in lowered) == sorted([boundary, below])


@pytest.mark.parametrize(
    "backing", ["person", "household", "enterprise", "property", "household_member", "property_owner"]
)
def test_every_registry_relation_is_valid_sql_with_the_published_field_names(backing):
    from django.db import connection

    from tests.factories import EnterpriseFactory, HouseholdFactory, PropertyFactory
    from yiwang.exchange.backends import BACKENDS
    from yiwang.rules.relations import _registry_sql

    family = HouseholdFactory()
    PropertyFactory(owners=[family.head])
    EnterpriseFactory()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({_registry_sql(backing)}) AS t")
        columns = {column[0] for column in cursor.description}
        assert cursor.fetchall()
    assert columns == {field[0] for field in BACKENDS[backing].fields}
