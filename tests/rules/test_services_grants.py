"""A rule run by a department reads under the exchange's grants: every field it reads must be
readable by that department (open, conditional under a live grant, or its own); otherwise the
run is refused naming resource.field, and audited. A served run leaves evidence in the
exchange's chain and one audit entry naming the rule, the version, the purpose, the rows."""

from __future__ import annotations

import datetime
import json
from unittest import mock

import pytest
from django.utils import translation

from tests.factories import DepartmentFactory, PersonFactory, UserFactory
from tests.rules.medical import medical_person_rule
from yiwang.core.models import AuditEntry, Role
from yiwang.exchange import services as exchange
from yiwang.exchange.evidence import evidence_chain_verify
from yiwang.exchange.models import ExchangeRead, Grant
from yiwang.exchange.selectors import ReadRefused
from yiwang.rules.definition import definition_parse
from yiwang.rules.models import Parameter
from yiwang.rules.services import (
    parameter_value_add,
    rule_evaluate,
    rule_explain,
    rule_fields_read,
    rule_version_approve,
    rule_version_publish,
    rule_version_save,
)

pytestmark = pytest.mark.django_db
ON = datetime.date(2026, 11, 23)
PURPOSE = "防返贫动态监测：医保自付费用预警"
RULE = medical_person_rule()


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(db):
    yb = DepartmentFactory(code="YB", name="萍乡市医疗保障局", short_name="医保局")
    ga = DepartmentFactory(code="GA", name="萍乡市公安局", short_name="公安局")
    mz = DepartmentFactory(code="MZ", name="萍乡市民政局", short_name="民政局")
    zs = DepartmentFactory(code="ZS", name="萍乡市政数局", short_name="政数局")
    yb_steward = UserFactory(username="yb-steward", role=Role.DATA_STEWARD, role__department=yb)
    ga_steward = UserFactory(username="ga-steward", role=Role.DATA_STEWARD, role__department=ga)
    cdo = UserFactory(username="cdo", role=Role.DATA_STEWARD, role__department=zs)
    mz_user = UserFactory(username="mz-handler", role=Role.DEPARTMENT_HANDLER, role__department=mz)
    persons = exchange.resource_publish(
        actor=ga_steward,
        department=ga,
        code="ga.persons",
        title="人口基础信息",
        subject_type="person",
        key_field="id_number",
        subject_field="id_number",
        fields=[],
        backing="person",
    )
    claims = exchange.resource_publish(
        actor=yb_steward,
        department=yb,
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
            {"name": "diagnosis", "label": "诊断", "type": "string", "sharing_class": "closed"},
        ],
    )
    sick, well = PersonFactory(), PersonFactory()
    rows = [
        {"claim_no": "C1", "id_number": sick.id_number, "settled_on": "2026-05-10", "self_pay": "15000.00"},
        {"claim_no": "C2", "id_number": well.id_number, "settled_on": "2026-05-10", "self_pay": "14999.99"},
    ]
    exchange.records_ingest(
        actor=yb_steward, resource=claims, content="\n".join(json.dumps(row) for row in rows).encode()
    )
    steward = UserFactory(username="rules-steward", role=Role.DATA_STEWARD)
    threshold = Parameter.objects.create(
        code="relapse.medical.threshold_fen", label="医疗自付预警线", unit="fen", basis_document="指导意见"
    )
    parameter_value_add(
        parameter=threshold, value=1500000, valid_from=datetime.date(2024, 1, 1), actor=steward
    )
    return {
        "mz": mz,
        "mz_user": mz_user,
        "cdo": cdo,
        "persons": persons,
        "claims": claims,
        "sick": sick,
        "well": well,
        "steward": steward,
    }


def grant(world, resource_key: str, fields: list[str]) -> Grant:
    request = exchange.access_request_submit(
        actor=world["mz_user"],
        consumer=world["mz"],
        resource=world[resource_key],
        fields=fields,
        purpose=PURPOSE,
        legal_basis="《社会救助暂行办法》第十一条",
        duration_days=30,
    )
    exchange.access_request_decide(actor=world["cdo"], request=request, approve=True)
    request.refresh_from_db()
    return request.grant


def test_the_fields_a_rule_reads_are_its_keys_links_values_and_filters():
    assert rule_fields_read(definition_parse(RULE)) == {
        "ga.persons": {"id_number"},
        "yb.self_pay_claims": {"id_number", "self_pay_fen", "settled_on"},
    }


def test_without_a_grant_the_run_is_refused_naming_each_field_and_audited(world):
    with pytest.raises(ReadRefused) as refused:
        rule_evaluate(RULE, on=ON, consumer=world["mz"], purpose=PURPOSE, actor=world["mz_user"])
    message = refused.value.message
    assert "ga.persons.id_number" in message
    assert "yb.self_pay_claims.id_number" in message and "yb.self_pay_claims.self_pay " in message
    assert "settled_on" not in message  # open
    entry = AuditEntry.objects.get(action="rules.read_refused")
    assert (entry.object_id, entry.purpose, entry.after["consumer"]) == (
        "relapse.medical.person",
        PURPOSE,
        "MZ",
    )
    assert not ExchangeRead.objects.exists()
    # half the grants are not enough: the other resource is still named
    grant(world, "persons", ["id_number"])
    with pytest.raises(ReadRefused) as refused:
        rule_evaluate(RULE, on=ON, consumer=world["mz"], purpose=PURPOSE, actor=world["mz_user"])
    assert (
        "ga.persons" not in refused.value.message and "yb.self_pay_claims.self_pay " in refused.value.message
    )


def test_granted_the_run_is_served_with_evidence_and_one_audit_entry(world):
    grant(world, "persons", ["id_number"])
    grant(world, "claims", ["id_number", "self_pay"])
    version = rule_version_save(definition=RULE, actor=world["steward"])
    approver = UserFactory(username="approver", role=Role.SUPERVISOR)
    rule_version_publish(version=rule_version_approve(version=version, actor=approver), actor=approver)
    with pytest.raises(ReadRefused, match="purpose"):
        rule_evaluate(RULE, on=ON, consumer=world["mz"], purpose="  ", actor=world["mz_user"])
    rows = rule_evaluate(
        RULE, on=ON, eligible_only=True, consumer=world["mz"], purpose=PURPOSE, actor=world["mz_user"]
    )
    assert [row["subject"] for row in rows] == [world["sick"].id_number]
    evidence = {read.resource.code: read for read in ExchangeRead.objects.select_related("resource")}
    assert set(evidence) == {"ga.persons", "yb.self_pay_claims"}
    claims = evidence["yb.self_pay_claims"]
    assert (claims.purpose, claims.rows, claims.consumer_id) == (PURPOSE, 1, world["mz"].pk)
    assert claims.fields == ["id_number", "self_pay", "settled_on"]
    assert (claims.request["rule"], claims.request["version"]) == ("relapse.medical.person", 1)
    entry = AuditEntry.objects.get(action="rules.batch_read")
    assert entry.purpose == PURPOSE
    assert (entry.after["rule"], entry.after["version"], entry.after["rows"]) == (
        "relapse.medical.person",
        1,
        1,
    )
    assert evidence_chain_verify()[1] == []
    # the explain face under the same grants: one subject, named in the evidence
    (explained,) = rule_explain(
        RULE, subjects=[world["well"].id_number], on=ON, consumer=world["mz"], purpose=PURPOSE
    )
    assert (explained.eligible, explained.conditions[0].value) == (False, 1499999)
    assert ExchangeRead.objects.filter(subject=world["well"].id_number).count() == 2


def test_an_expired_grant_is_refused_as_expired(world):
    grant(world, "persons", ["id_number"])
    expiring = grant(world, "claims", ["id_number", "self_pay"])
    assert rule_evaluate(RULE, on=ON, consumer=world["mz"], purpose=PURPOSE)
    # The grant's term runs out (the exchange's read cache knows when its answer ends).
    after_expiry = expiring.valid_to + datetime.timedelta(seconds=1)
    with (
        mock.patch("django.utils.timezone.now", return_value=after_expiry),
        pytest.raises(ReadRefused) as refused,
    ):
        rule_evaluate(RULE, on=ON, consumer=world["mz"], purpose=PURPOSE, actor=world["mz_user"])
    assert "expired" in refused.value.message and "yb.self_pay_claims.self_pay " in refused.value.message
    assert AuditEntry.objects.filter(action="rules.read_refused").count() == 1


def test_a_closed_field_is_refused_even_to_a_granted_department(world):
    grant(world, "persons", ["id_number"])
    grant(world, "claims", ["id_number", "self_pay"])
    closed = json.loads(json.dumps(RULE))
    closed["conditions"][0]["value"]["where"].append(
        {"field": "claims.diagnosis", "op": "!=", "value": "I10"}
    )
    with pytest.raises(ReadRefused, match="yb.self_pay_claims.diagnosis is closed"):
        rule_evaluate(closed, on=ON, consumer=world["mz"], purpose=PURPOSE)
