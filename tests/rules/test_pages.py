"""The rules workbench pages (/rules/): stewards write drafts (errors named by path) and set
dated parameters; supervisors and city leaders approve and publish; everyone on the
workbench runs a what-if and tries a rule on one subject. Others are refused."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
import yaml
from django.test import Client
from django.utils import translation

from tests.factories import PASSWORD, DepartmentFactory, PersonFactory, UserFactory
from yiwang.core.models import AuditEntry, Role
from yiwang.exchange import services as exchange
from yiwang.rules.models import Parameter, RuleVersion
from yiwang.rules.services import (
    parameter_value_add,
    rule_version_approve,
    rule_version_publish,
    rule_version_save,
)

pytestmark = pytest.mark.django_db
RULE = {
    "code": "benefits.elderly",
    "title": "高龄津贴",
    "subject": "persons",
    "sources": {"persons": {"resource": "ga.persons", "key": "id_number"}},
    "conditions": [
        {
            "id": "age",
            "label": "年满规定年龄",
            "basis": {"document": "《江西省高龄津贴发放办法》", "article": "第三条"},
            "value": {"age": "persons.birth_date"},
            "op": ">=",
            "than": {"param": "benefits.elderly.min_age"},
        }
    ],
    "amount": {"value": 10000},
}


@dataclass
class Workbench:
    steward: object
    supervisor: object
    leader: object
    citizen: object
    eighty: object
    younger: object
    version: RuleVersion
    parameter: Parameter


@pytest.fixture
def workbench(db) -> Workbench:
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
    steward = UserFactory(username="steward", role=Role.DATA_STEWARD, display_name="数据管理员甲")
    supervisor = UserFactory(username="supervisor", role=Role.SUPERVISOR, display_name="督办乙")
    leader = UserFactory(username="leader", role=Role.CITY_LEADER)
    citizen = UserFactory(username="citizen", role=Role.CITIZEN)
    parameter = Parameter.objects.create(
        code="benefits.elderly.min_age",
        label="高龄津贴起始年龄",
        unit="years",
        basis_document="《江西省高龄津贴发放办法》",
        basis_article="第三条",
    )
    parameter_value_add(parameter=parameter, value=80, valid_from=datetime.date(2020, 1, 1), actor=steward)
    version = rule_version_save(definition=RULE, actor=steward, note="首版")
    rule_version_publish(version=rule_version_approve(version=version, actor=supervisor), actor=supervisor)
    today = datetime.date.today()
    eighty = PersonFactory(birth_date=today.replace(year=today.year - 85, month=1, day=1))
    younger = PersonFactory(birth_date=today.replace(year=today.year - 60, month=1, day=1))
    return Workbench(steward, supervisor, leader, citizen, eighty, younger, version, parameter)


def login(user) -> Client:
    client = Client(headers={"accept-language": "zh-hans"})
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_only_the_workbench_roles_see_the_pages(workbench):
    assert Client().get("/rules/").status_code == 302
    assert login(workbench.citizen).get("/rules/").status_code == 403
    assert login(workbench.citizen).get("/rules/benefits.elderly/").status_code == 403
    for user in (workbench.steward, workbench.supervisor, workbench.leader):
        assert login(user).get("/rules/").status_code == 200
    assert login(workbench.steward).get("/rules/nothing.here/").status_code == 404
    page = login(workbench.steward).get("/").content.decode()
    assert 'href="/rules/"' in page  # the menu entry
    assert 'href="/rules/"' not in login(workbench.citizen).get("/").content.decode()


def test_the_list_and_one_rule_with_its_versions_conditions_and_parameters(workbench):
    with translation.override("zh-hans"):
        listing = login(workbench.supervisor).get("/rules/").content.decode()
        page = login(workbench.supervisor).get("/rules/benefits.elderly/").content.decode()
    assert "benefits.elderly" in listing and "高龄津贴" in listing and "政策资格" in listing
    assert "v1" in listing and "80 年" in listing
    assert "年满规定年龄" in page and "≥" in page and "《江西省高龄津贴发放办法》 第三条" in page
    assert "param(benefits.elderly.min_age)" in page and "age(persons.birth_date)" in page
    assert "数据管理员甲" in page and "督办乙" in page and "已发布" in page
    assert "2020-01-01" in page


def test_a_draft_with_an_error_is_shown_by_path_and_saved_once_fixed(workbench):
    client = login(workbench.steward)
    wrong = yaml.safe_load(yaml.safe_dump(RULE))
    wrong["conditions"][0]["value"] = {"age": "persons.birthday"}
    text = yaml.safe_dump(wrong, allow_unicode=True)
    response = client.post("/rules/draft/", {"definition": text, "kind": "eligibility", "note": "v2"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "definition.conditions.0.value.age: ga.persons has no field &#x27;birthday&#x27;" in body
    assert "persons.birthday" in body  # the text is kept for fixing
    broken = client.post("/rules/draft/", {"definition": "code: [unclosed", "kind": "eligibility"})
    assert broken.status_code == 422 and "不是有效的 YAML：第 1 行" in broken.content.decode()
    fixed = client.post(
        "/rules/draft/",
        {"definition": text.replace("birthday", "birth_date"), "kind": "eligibility", "note": "第二版"},
    )
    assert fixed.status_code == 302 and fixed["Location"] == "/rules/benefits.elderly/v2/"
    assert RuleVersion.objects.get(number=2).status == "draft"
    prefilled = client.get("/rules/draft/?from=benefits.elderly").content.decode()
    assert "benefits.elderly" in prefilled and "age: persons.birth_date" in prefilled
    assert login(workbench.supervisor).get("/rules/draft/").status_code == 403


def test_whatif_then_approval_by_another_person_then_publication(workbench):
    stricter = yaml.safe_load(yaml.safe_dump(RULE))
    stricter["amount"] = {"value": 20000}
    draft = rule_version_save(definition=stricter, actor=workbench.steward, note="提高标准")
    steward = login(workbench.steward)
    page = steward.get("/rules/benefits.elderly/v2/").content.decode()
    assert 'id="approve"' not in page and 'id="publish"' not in page
    result = steward.post("/rules/benefits.elderly/v2/whatif/", {"on": datetime.date.today().isoformat()})
    body = result.content.decode()
    assert result.status_code == 200
    assert 'id="current-count">1<' in body and 'id="proposed-count">1<' in body
    assert "100.00 元" in body and "200.00 元" in body
    lowered = steward.post(
        "/rules/benefits.elderly/v1/whatif/",
        {"param:benefits.elderly.min_age": "60", "on": datetime.date.today().isoformat()},
    ).content.decode()
    assert 'id="gained-count">+1<' in lowered
    assert (
        workbench.younger.id_number not in lowered and workbench.younger.id_number[-4:] in lowered
    )  # masked
    bad = steward.post("/rules/benefits.elderly/v1/whatif/", {"param:benefits.elderly.min_age": "sixty"})
    assert bad.status_code == 422
    # a data steward (the author) may not approve
    refused = steward.post("/rules/benefits.elderly/v2/approve/", follow=True).content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft" and "只有督办人员或市领导可以审核规则" in refused
    supervisor = login(workbench.supervisor)
    assert 'id="approve"' in supervisor.get("/rules/benefits.elderly/v2/").content.decode()
    supervisor.post("/rules/benefits.elderly/v2/approve/")
    supervisor.post("/rules/benefits.elderly/v2/publish/")
    draft.refresh_from_db()
    workbench.version.refresh_from_db()
    assert (draft.status, workbench.version.status) == ("published", "retired")
    assert AuditEntry.objects.filter(action="rules.whatif").count() == 2


def test_a_dated_value_is_added_and_an_overlapping_one_refused_with_the_message(workbench):
    client = login(workbench.steward)
    overlapping = client.post(
        "/rules/parameters/benefits.elderly.min_age/", {"value": "75", "valid_from": "2025-01-01"}
    )
    assert overlapping.status_code == 422
    assert "日期重叠" in overlapping.content.decode()
    not_a_date = client.post(
        "/rules/parameters/benefits.elderly.min_age/", {"value": "x", "valid_from": "soon"}
    )
    assert not_a_date.status_code == 422 and "valid_from" in not_a_date.content.decode()
    # close the open value first, then add the next one
    workbench.parameter.values.update(valid_to=datetime.date(2026, 12, 31))
    added = client.post(
        "/rules/parameters/benefits.elderly.min_age/", {"value": "75", "valid_from": "2027-01-01"}
    )
    assert added.status_code == 302
    assert list(workbench.parameter.values.values_list("value", flat=True)) == [80, 75]
    assert (
        login(workbench.supervisor)
        .post("/rules/parameters/benefits.elderly.min_age/", {"value": "70", "valid_from": "2030-01-01"})
        .status_code
        == 403
    )


def test_try_it_on_one_subject_shows_the_explanation(workbench):
    client = login(workbench.supervisor)
    with translation.override("zh-hans"):
        page = client.post(
            "/rules/benefits.elderly/try/", {"subject": workbench.younger.id_number, "version": "1"}
        )
    body = page.content.decode()
    assert page.status_code == 200
    assert "60 周岁" in body and "≥ 80 周岁" in body and "不符合" in body
    assert workbench.younger.id_number not in body.replace(f'value="{workbench.younger.id_number}"', "")
    granted = client.post(
        "/rules/benefits.elderly/try/", {"subject": workbench.eighty.id_number}
    ).content.decode()
    assert "符合全部条件，金额 100.00 元。" in granted
    missing = client.post("/rules/benefits.elderly/try/", {"subject": "H-NOBODY"})
    assert missing.status_code == 422
    assert AuditEntry.objects.filter(action="rules.try").count() == 2
