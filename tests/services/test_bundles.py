"""一件事 (bundles) end to end through the API: one submission, the steps released along the
DAG (in sequence where one depends on another, in parallel where none does), department
handlers deciding their steps through the case engine, one status, one combined result; a step
that fails stops what depends on it and nothing else; a double submit makes one bundle; a DAG
with a cycle is refused naming the steps."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from tests.factories import PASSWORD, PersonFactory, PropertyFactory, UserFactory
from yiwang.cases.models import Case
from yiwang.certs.models import Certificate
from yiwang.certs.seed import certs_seed
from yiwang.core.errors import Conflict, FieldErrors
from yiwang.core.models import AuditEntry, Department, Role
from yiwang.registry.models import HouseholdMember, Person, Relation
from yiwang.services import bundles
from yiwang.services import cases as states
from yiwang.services.bundles_feeds import birth_record_push
from yiwang.services.models import Application, ApplicationMaterial, Bundle, BundleApplication, Matter

pytestmark = pytest.mark.django_db

DEPARTMENTS = ("ZJ", "SW", "BDCDJ", "SCJG", "GA", "RS", "WJ", "YB")


def client_for(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def post(client: Client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


@pytest.fixture
def bundled(world):
    """The world of tests/services/conftest.py with the certificate types and seals, the demo
    bundles and their matters (and the sharing grants their forms need), a handler in each of
    their departments, and a flat for sale by someone else."""
    certs_seed(samples=False)
    counts = bundles.bundles_demo_seed()
    assert counts["bundles"] == 3
    world.handlers = {
        code: UserFactory(
            username=f"{code.lower()}-handler",
            role=Role.DEPARTMENT_HANDLER,
            role__department=Department.objects.get(code=code),
        )
        for code in DEPARTMENTS
    }
    world.seller = PersonFactory(name="王建国")
    world.for_sale = PropertyFactory(owners=[world.seller])
    # The hospital reported the citizen's daughter, born ten days ago (the father in her household).
    world.father = PersonFactory(name="赵志强", sex="M", division=world.person.division)
    world.birth = birth_record_push(
        mother=world.person,
        father=world.father,
        child_sex="F",
        birth_date=datetime.date.today() - datetime.timedelta(days=10),
        hospital="萍乡市妇幼保健院",
    )
    return world


def transfer_values(world) -> dict:
    """What the buyer types: the unit number (the property and the seller are read by it), the
    price and the tax declared."""
    return {"unit_number": world.for_sale.unit_number, "price": "850000", "tax_amount": "8500"}


ENTERPRISE_VALUES = {"business_scope": "日用陶瓷制品制造、销售", "employee_count": "12"}


def newborn_values() -> dict:
    """What the parent types: the child's name, the relation to the head, the bank."""
    return {"child_name": "李小萌", "relation": "女", "bank": "中国建设银行"}


def submit(user, bundle: str, values: dict, key: str = "k1"):
    response = post(
        client_for(user),
        "/api/services/bundle-applications",
        {"bundle": bundle, "values": values, "submission_key": key},
    )
    assert response.status_code in (200, 201), response.content
    return response


def status(user, reference: str) -> dict:
    response = client_for(user).get(f"/api/services/bundle-applications/{reference}")
    assert response.status_code == 200, response.content
    return response.json()


def steps_by_code(body: dict) -> dict[str, dict]:
    return {step["code"]: step for step in body["steps"]}


def decide(world, body: dict, step_code: str, transition: str = "approve", note: str = ""):
    """The step's department handler accepts it and decides, through /api/cases."""
    step = steps_by_code(body)[step_code]
    handler = world.handlers[step["department"]]
    client = client_for(handler)
    case_id = Case.objects.get(reference=step["reference"]).pk
    detail = client.get(f"/api/cases/{case_id}").json()
    accepted = post(
        client,
        f"/api/cases/{case_id}/transitions",
        {"transition": "accept", "expected_version": detail["version"]},
    )
    assert accepted.status_code == 200, accepted.content
    decided = post(
        client,
        f"/api/cases/{case_id}/transitions",
        {"transition": transition, "expected_version": accepted.json()["version"], "note": note},
    )
    assert decided.status_code == 200, decided.content
    return decided.json()


def states_of(body: dict) -> dict[str, str]:
    return {step["code"]: step["state"] for step in body["steps"]}


# --------------------------------------------------------------------------- the three bundles


def test_bundles_are_listed_with_their_steps_and_dependencies(bundled):
    listed = {item["code"]: item for item in Client().get("/api/services/bundles").json()}
    assert set(listed) == {"bdc-transfer", "enterprise-start", "newborn"}
    transfer = listed["bdc-transfer"]
    assert [
        (s["code"], s["department"], s["depends_on"], s["certificate_type"]) for s in transfer["steps"]
    ] == [
        ("filing", "ZJ", [], "SPFBA"),
        ("tax", "SW", ["filing"], "WSZM"),
        ("registration", "BDCDJ", ["tax"], "BDCQZS"),
    ]
    assert transfer["limit_days"] == 1 + 1 + 3  # promised limits along the chain
    assert all(not step["depends_on"] for step in listed["enterprise-start"]["steps"])
    assert listed["enterprise-start"]["limit_days"] == 1  # four in parallel
    newborn = {s["code"]: s["depends_on"] for s in listed["newborn"]["steps"]}
    assert newborn == {"birth": [], "household": ["birth"], "medical": ["household"], "card": ["household"]}
    assert listed["newborn"]["limit_days"] == 1 + 1 + 5


def test_the_combined_form_asks_each_field_once_filled_from_shared_data(bundled):
    form = client_for(bundled.citizen).get("/api/services/bundles/bdc-transfer/form").json()
    names = [field["name"] for field in form["fields"]]
    assert len(names) == len(set(names))
    fields = {field["name"]: field for field in form["fields"]}
    assert fields["id_number"]["value"] == bundled.person.id_number and not fields["id_number"]["editable"]
    assert fields["phone"]["prefilled"] and fields["phone"]["steps"] == ["filing", "tax", "registration"]
    assert fields["tax_amount"]["steps"] == ["tax"] and not fields["tax_amount"]["prefilled"]
    # Before the buyer typed the unit number only their own data is filled.
    assert form["keys"] == ["unit_number"]
    assert form["total"] == 18 and form["prefilled"] == 9
    # The unit number leads to the property, its owner (the seller) and the seller's certificate
    # number, read from the 不动产登记 register; only the price and the tax are left to type.
    unit = bundled.for_sale.unit_number
    form = (
        client_for(bundled.citizen).get(f"/api/services/bundles/bdc-transfer/form?unit_number={unit}").json()
    )
    fields = {field["name"]: field for field in form["fields"]}
    assert form["total"] == 18 and form["prefilled"] == 15 and form["share"] >= 0.7
    assert [name for name, f in fields.items() if not f["prefilled"]] == [
        "unit_number",
        "price",
        "tax_amount",
    ]
    assert fields["seller"]["value"] == "王建国" and fields["seller"]["source"] == "ga.persons.name"
    assert fields["seller_id_number"]["source"] == "bdcdj.property_owners.owner_id_number"
    assert fields["seller_id_number"]["value"] != bundled.seller.id_number  # someone else's: masked
    assert fields["seller_id_number"]["value"][-4:] == bundled.seller.id_number[-4:]
    assert (
        fields["property_address"]["value"] == bundled.for_sale.address
        and not fields["property_address"]["editable"]
    )
    assert fields["property_use"]["value"] == "residential"
    # The certificate number is closed: only the registration centre's step reads (and asks) it.
    assert fields["seller_certificate_number"]["steps"] == ["registration"]
    assert fields["seller_certificate_number"]["value"] == bundled.for_sale.certificate_number
    # The certificates the earlier steps issue are fetched by the later steps, never uploaded.
    fetched = {(item["step"], item["resource"]) for item in form["fetched"]}
    assert {("tax", "SPFBA"), ("registration", "SPFBA"), ("registration", "WSZM")} <= fetched
    assert [item["name"] for item in form["uploads"]] == ["房屋买卖合同（纸质签订的可上传）"]


def test_property_transfer_runs_in_sequence_to_one_combined_result(bundled):
    world = bundled
    created = submit(world.citizen, "bdc-transfer", transfer_values(world))
    assert created.status_code == 201
    body = created.json()
    reference = body["reference"]
    assert body["state"] == "in_progress"
    assert states_of(body) == {"filing": "running", "tax": "waiting", "registration": "waiting"}
    assert steps_by_code(body)["tax"]["waits_for"] == ["filing"]
    bundle_case = Case.objects.get(reference=reference)
    assert bundle_case.type_code == states.BUNDLE and bundle_case.department.code == "ZJ"
    filing = Application.objects.get(bundle__case=bundle_case, bundle_step="filing")
    assert filing.case.parent_id == bundle_case.pk and filing.matter.department.code == "ZJ"
    assert filing.values["seller"] == "王建国" and filing.values["id_number"] == world.person.id_number
    assert filing.values["seller_id_number"] == world.seller.id_number
    assert filing.values["property_address"] == world.for_sale.address

    decide(world, body, "filing")
    body = status(world.citizen, reference)
    assert states_of(body) == {"filing": "approved", "tax": "running", "registration": "waiting"}
    assert steps_by_code(body)["filing"]["certificate_number"]
    tax = Application.objects.get(bundle__case=bundle_case, bundle_step="tax")
    # The filed contract is fetched as an e-certificate, never asked again.
    assert ApplicationMaterial.objects.filter(application=tax, fetched_from="SPFBA").exists()
    assert tax.case.parent_id == bundle_case.pk and tax.values["price"] == "850000"

    decide(world, body, "tax")
    body = status(world.citizen, reference)
    assert states_of(body) == {"filing": "approved", "tax": "approved", "registration": "running"}
    decide(world, body, "registration")
    body = status(world.citizen, reference)
    assert body["state"] == "completed" and body["closed_at"]
    assert states_of(body) == {"filing": "approved", "tax": "approved", "registration": "approved"}
    # One combined result: a certificate from each department.
    assert [(c["step"], c["type"]) for c in body["certificates"]] == [
        ("交易备案", "SPFBA"),
        ("税款缴纳", "WSZM"),
        ("登记发证", "BDCQZS"),
    ]
    title = Certificate.objects.get(number=body["certificates"][2]["number"])
    assert title.fields["unit_number"] == world.for_sale.unit_number
    assert Application.objects.filter(bundle__case=bundle_case).count() == 3
    # The applicant's one status page shows it.
    page = client_for(world.citizen).get(f"/services/bundles/{reference}/").content.decode()
    assert 'id="bundle-outcome"' in page and 'data-state="completed"' in page
    assert f"/certs/c/{title.number}/" in page


def test_enterprise_start_runs_its_four_steps_in_parallel(bundled):
    world = bundled
    body = submit(world.agent, "enterprise-start", ENTERPRISE_VALUES).json()
    assert states_of(body) == {
        "licence": "running",
        "seal": "running",
        "tax": "running",
        "insurance": "running",
    }
    bundle_case = Case.objects.get(reference=body["reference"])
    assert bundle_case.department.code == "ZWFW"  # several departments start together
    assert {step["department"] for step in body["steps"]} == {"SCJG", "GA", "SW", "RS"}
    for code in ("seal", "insurance", "licence"):
        decide(world, body, code)
        assert status(world.agent, body["reference"])["state"] == "in_progress"
    decide(world, body, "tax")
    done = status(world.agent, body["reference"])
    assert done["state"] == "completed"
    assert sorted(c["type"] for c in done["certificates"]) == ["DWSBDJ", "GZBA", "SWDJ", "YYZZ"]
    assert {c["type"]: c for c in done["certificates"]}["YYZZ"]["type_name"] == "营业执照"


def test_newborn_releases_medical_insurance_and_card_together_after_the_household(bundled):
    world = bundled
    body = submit(world.citizen, "newborn", newborn_values()).json()
    reference = body["reference"]
    assert states_of(body) == {
        "birth": "running",
        "household": "waiting",
        "medical": "waiting",
        "card": "waiting",
    }
    decide(world, body, "birth")
    body = status(world.citizen, reference)
    assert states_of(body) == {
        "birth": "approved",
        "household": "running",
        "medical": "waiting",
        "card": "waiting",
    }
    child_number = world.birth["child_id_number"]
    assert not Person.objects.filter(id_number=child_number).exists()
    decide(world, body, "household")
    body = status(world.citizen, reference)
    assert states_of(body) == {
        "birth": "approved",
        "household": "approved",
        "medical": "running",
        "card": "running",
    }
    # 出生登记 entered the child in the population register, in the mother's household.
    child = Person.objects.select_related("membership__household").get(id_number=child_number)
    assert (child.name, child.sex, child.birth_date.isoformat()) == ("李小萌", "F", world.birth["birth_date"])
    assert child.membership.household == world.person.membership.household
    assert child.membership.relation == Relation.DAUGHTER
    assert AuditEntry.objects.filter(
        action="household.member_add", object_id=str(child.membership.household_id)
    ).exists()
    decide(world, body, "card")
    assert status(world.citizen, reference)["state"] == "in_progress"
    decide(world, body, "medical")
    body = status(world.citizen, reference)
    assert body["state"] == "completed"
    assert [c["type"] for c in body["certificates"]] == ["CSYXZM", "HKDJ", "YBCB", "SBK"]


# --------------------------------------------------------------------------- failures


def test_a_rejected_step_stops_the_later_steps_and_the_applicant_sees_why(bundled):
    world = bundled
    body = submit(world.citizen, "bdc-transfer", transfer_values(world)).json()
    reference = body["reference"]
    reason = "成交价格明显低于市场评估价，请核实后重新申请"
    decide(world, body, "filing", transition="reject", note=reason)
    body = status(world.citizen, reference)
    assert body["state"] == "failed"
    assert states_of(body) == {"filing": "failed", "tax": "blocked", "registration": "blocked"}
    steps = steps_by_code(body)
    assert steps["filing"]["reason"] == reason
    assert steps["tax"]["blocked_by"] == "filing" and steps["registration"]["blocked_by"] == "filing"
    assert "交易备案" in steps["registration"]["label"]
    assert "交易备案" in body["note"] and reason in body["note"]
    # The later steps never started: no application, no case in their departments.
    assert list(
        Application.objects.filter(bundle__case__reference=reference).values_list("bundle_step", flat=True)
    ) == ["filing"]
    page = client_for(world.citizen).get(f"/services/bundles/{reference}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert reason in html and 'data-state="blocked"' in html
    assert "未开始：前序环节未通过（交易备案）" in html


def test_registering_a_newborn_whose_id_number_is_taken_refuses_the_approval_naming_the_field(bundled):
    world = bundled
    body = submit(world.citizen, "newborn", newborn_values()).json()
    decide(world, body, "birth")
    body = status(world.citizen, body["reference"])
    PersonFactory(id_number=world.birth["child_id_number"])  # registered elsewhere meanwhile
    step = steps_by_code(body)["household"]
    client = client_for(world.handlers[step["department"]])
    case = Case.objects.get(reference=step["reference"])
    accepted = post(
        client,
        f"/api/cases/{case.pk}/transitions",
        {"transition": "accept", "expected_version": case.version},
    ).json()
    refused = post(
        client,
        f"/api/cases/{case.pk}/transitions",
        {"transition": "approve", "expected_version": accepted["version"]},
    )
    assert refused.status_code == 422, refused.content
    assert "child_id_number" in refused.content.decode()
    case.refresh_from_db()
    assert case.state != states.APPROVED  # nothing half-written: no certificate, no member
    assert not Certificate.objects.filter(
        holder=world.birth["child_id_number"], certificate_type__code="HKDJ"
    ).exists()
    assert not HouseholdMember.objects.filter(person__id_number=world.birth["child_id_number"]).exists()


def test_newborn_medical_insurance_failing_does_not_stop_the_card(bundled):
    world = bundled
    body = submit(world.citizen, "newborn", newborn_values()).json()
    reference = body["reference"]
    decide(world, body, "birth")
    decide(world, status(world.citizen, reference), "household")
    body = status(world.citizen, reference)
    decide(world, body, "medical", transition="reject", note="新生儿已在外地参保，不得重复参保")
    body = status(world.citizen, reference)
    assert body["state"] == "in_progress"  # the card is still being made
    assert states_of(body) == {
        "birth": "approved",
        "household": "approved",
        "medical": "failed",
        "card": "running",
    }
    decide(world, body, "card")
    body = status(world.citizen, reference)
    assert states_of(body)["card"] == "approved"
    assert body["state"] == "failed"
    assert "医保参保" in body["note"] and "重复参保" in body["note"]
    assert [c["type"] for c in body["certificates"]] == ["CSYXZM", "HKDJ", "SBK"]


def test_a_double_submit_makes_one_bundle(bundled):
    world = bundled
    first = submit(world.citizen, "bdc-transfer", transfer_values(world), key="same")
    again = submit(world.citizen, "bdc-transfer", transfer_values(world), key="same")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["reference"] == again.json()["reference"]
    assert BundleApplication.objects.count() == 1
    assert Application.objects.filter(bundle__isnull=False).count() == 1
    # Through the service as well.
    item = BundleApplication.objects.get()
    assert (
        bundles.bundle_submit(
            bundle=item.bundle, actor=world.citizen, values=transfer_values(world), submission_key="same"
        )
        == item
    )


def test_bad_values_refuse_the_whole_submission_naming_the_field(bundled):
    world = bundled
    values = transfer_values(world) | {"price": "很多", "nonsense": "x", "seller": "张三"}
    values.pop("tax_amount")
    response = post(
        client_for(world.citizen),
        "/api/services/bundle-applications",
        {"bundle": "bdc-transfer", "values": values, "submission_key": "bad"},
    )
    assert response.status_code == 422
    paths = {item["path"] for item in response.json()["error"]["fields"]}
    assert paths == {"body.values.price", "body.values.tax_amount", "body.values.nonsense"}
    # A unit the register does not know is named as such, not as six empty fields.
    values = transfer_values(world) | {"unit_number": "360302001001GB00001F00010001"}
    response = post(
        client_for(world.citizen),
        "/api/services/bundle-applications",
        {"bundle": "bdc-transfer", "values": values, "submission_key": "bad2"},
    )
    assert response.status_code == 422
    errors = response.json()["error"]["fields"]
    assert {item["path"] for item in errors} == {"body.values.unit_number"}
    assert "共享数据中没有" in errors[0]["message"]
    # The buyer cannot buy their own flat.
    values = transfer_values(world) | {"unit_number": world.flat.unit_number}
    response = post(
        client_for(world.citizen),
        "/api/services/bundle-applications",
        {"bundle": "bdc-transfer", "values": values, "submission_key": "bad3"},
    )
    assert response.status_code == 422
    errors = response.json()["error"]["fields"]
    assert [item["path"] for item in errors] == ["body.values.unit_number"]
    assert "登记权利人" in errors[0]["message"]
    assert (
        not BundleApplication.objects.exists() and not Case.objects.filter(type_code=states.BUNDLE).exists()
    )


def test_withdraw_while_no_step_is_under_review(bundled):
    world = bundled
    body = submit(world.agent, "enterprise-start", ENTERPRISE_VALUES, key="w1").json()
    withdrawn = post(
        client_for(world.agent), f"/api/services/bundle-applications/{body['reference']}/withdraw", {}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert set(
        Application.objects.filter(bundle__case__reference=body["reference"]).values_list(
            "case__state", flat=True
        )
    ) == {states.WITHDRAWN}
    second = submit(world.agent, "enterprise-start", ENTERPRISE_VALUES, key="w2").json()
    step = steps_by_code(second)["seal"]
    case = Case.objects.get(reference=step["reference"])
    from yiwang.cases.services import case_transition

    case_transition(case=case, transition="accept", actor=world.handlers["GA"], expected_version=case.version)
    refused = post(
        client_for(world.agent), f"/api/services/bundle-applications/{second['reference']}/withdraw", {}
    )
    assert refused.status_code == 409
    with pytest.raises(Conflict):
        bundles.bundle_withdraw(
            bundle_application=BundleApplication.objects.get(case__reference=second["reference"]),
            actor=world.agent,
        )


def test_only_the_applicant_sees_the_bundle(bundled):
    world = bundled
    body = submit(world.citizen, "bdc-transfer", transfer_values(world)).json()
    assert (
        client_for(world.agent).get(f"/api/services/bundle-applications/{body['reference']}").status_code
        == 404
    )
    assert client_for(world.agent).get(f"/services/bundles/{body['reference']}/").status_code == 404
    assert Client().get(f"/api/services/bundle-applications/{body['reference']}").status_code == 401
    mine = client_for(world.citizen).get("/api/services/bundle-applications").json()
    assert [item["reference"] for item in mine] == [body["reference"]]


# --------------------------------------------------------------------------- the DAG as data


def _steps(*pairs):
    matters = list(Matter.objects.filter(code__startswith="3603-YJS-XSE").order_by("code"))
    return [
        {"code": code, "name": code, "matter": matters[index], "depends_on": list(depends)}
        for index, (code, depends) in enumerate(pairs)
    ]


def test_a_cycle_is_refused_naming_the_steps(bundled):
    with pytest.raises(FieldErrors) as refused:
        bundles.bundle_write(
            code="loop",
            name="循环",
            steps=_steps(("a", ()), ("b", ("a", "c")), ("c", ("b",))),
            actor="test",
        )
    messages = dict(refused.value.errors)
    assert ("steps", 1, "depends_on") in messages and ("steps", 2, "depends_on") in messages
    assert "“b”" in messages[("steps", 1, "depends_on")] and "cycle" in messages[("steps", 1, "depends_on")]
    assert not Bundle.objects.filter(code="loop").exists()


def test_unknown_steps_and_inactive_matters_are_refused_naming_the_step(bundled):
    with pytest.raises(FieldErrors) as refused:
        bundles.bundle_write(code="x", name="x", steps=_steps(("a", ("nope",)), ("a", ())), actor="test")
    messages = dict(refused.value.errors)
    assert "“nope”" in messages[("steps", 0, "depends_on")]
    assert "twice" in messages[("steps", 1, "code")]
    Matter.objects.filter(code="3603-YJS-XSE-01").update(is_active=False)
    with pytest.raises(FieldErrors) as refused:
        bundles.bundle_write(code="x", name="x", steps=_steps(("a", ()), ("b", ("a",))), actor="test")
    assert "not active" in dict(refused.value.errors)[("steps", 0, "matter")]


def test_the_seed_is_idempotent(bundled):
    again = bundles.bundles_demo_seed()
    assert (
        again["matters_created"],
        again["matters_updated"],
        again["bundles_changed"],
        again["grants"],
    ) == (
        0,
        0,
        0,
        0,
    )
    assert Bundle.objects.count() == 3


def test_a_window_clerk_submits_a_bundle_for_an_applicant(bundled):
    from yiwang.services.window import applicant_at_window

    world = bundled
    applicant = applicant_at_window(clerk=world.clerk, subject_key=world.person.id_number)
    item = bundles.bundle_submit(
        bundle=Bundle.objects.get(code="newborn"),
        actor=world.clerk,
        values=newborn_values(),
        submission_key="window-1",
        on_behalf_of=applicant,
    )
    assert item.applicant == world.citizen and item.window_clerk == world.clerk
    first = Application.objects.get(bundle=item, bundle_step="birth")
    assert first.window_clerk == world.clerk and first.applicant == world.citizen
    # The applicant follows it as their own.
    assert status(world.citizen, item.case.reference)["steps"][0]["state"] == "running"


# --------------------------------------------------------------------------- auto-fill and the newborn


def test_the_newborn_form_is_filled_from_the_hospital_report_and_the_registry(bundled):
    world = bundled
    form = client_for(world.citizen).get("/api/services/bundles/newborn/form").json()
    fields = {field["name"]: field for field in form["fields"]}
    # Only the child's name, the relation to the head and the bank are typed.
    assert [name for name, f in fields.items() if not f["prefilled"]] == ["child_name", "relation", "bank"]
    assert form["share"] >= 0.7 and form["prefilled"] == form["total"] - 3
    assert fields["birth_number"]["value"] == world.birth["birth_number"]
    assert fields["birth_number"]["source"] == "wjw.birth_parents.birth_number"
    assert fields["child_sex"]["value"] == "女" and fields["child_sex"]["source"] == "wjw.births.child_sex"
    assert fields["birth_place"]["value"] == "萍乡市妇幼保健院" and not fields["birth_place"]["editable"]
    # The hospital reports numbers; the names come from the population base.
    assert fields["mother_name"]["value"] == world.person.name
    assert fields["father_name"]["value"] == "赵志强" and fields["father_name"]["source"] == "ga.persons.name"
    assert fields["mother_id_number"]["value"] == world.person.id_number  # the applicant's own
    assert fields["father_id_number"]["value"] != world.father.id_number  # someone else's: masked
    # The 公安局's step reads the 卫健委's feed under a grant, and the read is in the evidence.
    from yiwang.exchange.models import ExchangeRead

    assert ExchangeRead.objects.filter(consumer__code="GA", resource__code="wjw.births").exists()


def test_the_newborns_certificates_are_the_childs_not_the_parents(bundled):
    """(a) Each step is about the child: its certificate is issued to the child's pre-assigned
    ID number and name; the parent's own social security card stays valid."""
    from yiwang.certs.models import CertificateStatus
    from yiwang.certs.services import certificate_issue

    world = bundled
    own_card = certificate_issue(
        type_code="SBK",
        holder=world.person.id_number,
        fields={"card_number": world.person.id_number},
        actor="test",
    )
    body = submit(world.citizen, "newborn", newborn_values()).json()
    reference = body["reference"]
    decide(world, body, "birth")
    decide(world, status(world.citizen, reference), "household")
    body = status(world.citizen, reference)
    decide(world, body, "medical")
    decide(world, body, "card")
    body = status(world.citizen, reference)
    assert body["state"] == "completed"
    child = world.birth["child_id_number"]
    issued = Certificate.objects.filter(number__in=[c["number"] for c in body["certificates"]])
    assert {(c.certificate_type.code, c.holder, c.holder_name) for c in issued} == {
        (code, child, "李小萌") for code in ("CSYXZM", "HKDJ", "YBCB", "SBK")
    }
    card = issued.get(certificate_type__code="SBK")
    assert card.fields["card_number"] == child and card.fields["bank"] == "中国建设银行"
    birth = issued.get(certificate_type__code="CSYXZM")
    assert (birth.fields["mother_name"], birth.fields["father_name"]) == (world.person.name, "赵志强")
    own_card.refresh_from_db()
    assert own_card.status == CertificateStatus.VALID
    # The applicant still owns and follows every step; the steps are about the child.
    steps = Application.objects.filter(bundle__case__reference=reference)
    assert {(a.applicant_id, a.subject_key, a.case.subject_key) for a in steps} == {
        (world.citizen.pk, child, child)
    }
    from yiwang.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="services.bundle_step_subject").count() == 4


def test_notes_on_the_timeline_are_stored_in_chinese_whatever_the_request_language(bundled):
    """(d) The tests speak English (conftest); the bundle's notes are still Chinese."""
    world = bundled
    body = submit(world.agent, "enterprise-start", ENTERPRISE_VALUES).json()
    for code in ("licence", "seal", "tax", "insurance"):
        decide(world, body, code)
    case = Case.objects.get(reference=body["reference"])
    note = case.events.filter(to_state="completed").get().note
    assert note.startswith("全部环节已办结：") and "营业执照" in note
    second = submit(world.agent, "enterprise-start", ENTERPRISE_VALUES, key="k2").json()
    post(client_for(world.agent), f"/api/services/bundle-applications/{second['reference']}/withdraw", {})
    case = Case.objects.get(reference=second["reference"])
    assert case.events.filter(to_state="withdrawn").get().note == "申请人撤回。"


def test_every_bundle_is_auto_filled_at_least_70_percent(bundled):
    world = bundled
    rows = bundles.bundle_autofill_measure(user=world.citizen) + bundles.bundle_autofill_measure(
        user=world.agent
    )
    shares = {row["code"]: row["share"] for row in rows}
    assert set(shares) == {"bdc-transfer", "enterprise-start", "newborn"}
    assert all(share >= 0.7 for share in shares.values()), shares
    assert {row["code"]: row["keys"] for row in rows}["bdc-transfer"] == ["unit_number"]
    # The guide shows what shared data can fill.
    page = Client().get("/services/bundles/code/newborn/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="bundle-autofill"' in page and 'id="fillable-percent">86%' in page


def test_the_apply_page_looks_the_property_up_by_its_unit_number(bundled):
    world = bundled
    client = client_for(world.citizen)
    page = client.get("/services/bundles/code/bdc-transfer/apply/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert 'id="lookup-unit_number"' in html and 'id="autofill-pending"' in html
    looked = client.post(
        "/services/bundles/code/bdc-transfer/apply/",
        {"action": "lookup", "submission_key": "x", "f_unit_number": world.for_sale.unit_number},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    html = looked.content.decode()
    assert looked.status_code == 200 and not BundleApplication.objects.exists()
    assert "王建国" in html and world.for_sale.address in html
    assert world.seller.id_number not in html  # masked
    assert 'id="autofill-percent">83%' in html


def test_the_window_clerk_applies_for_the_chosen_applicant_on_the_bundle_page(bundled):
    """(c) The window's chosen applicant is the bundle page's applicant."""
    world = bundled
    clerk = client_for(world.clerk)
    # Without a chosen applicant the clerk is sent back to the window.
    assert clerk.get("/services/bundles/code/newborn/apply/?window=1").url.endswith("/services/window/")
    clerk.post("/services/window/", {"subject_key": world.person.id_number})
    page = clerk.get("/services/bundles/code/newborn/apply/?window=1")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="window-notice"' in html and world.person.name in html
    assert world.birth["birth_number"] in html  # the applicant's data, not the clerk's
    sent = {f"f_{name}": value for name, value in newborn_values().items()}
    done = clerk.post(
        "/services/bundles/code/newborn/apply/", {**sent, "window": "1", "submission_key": "w-1"}
    )
    assert done.status_code == 302 and done.url.endswith("/services/window/")
    item = BundleApplication.objects.get()
    assert item.applicant == world.citizen and item.window_clerk == world.clerk
    assert Application.objects.get(bundle=item, bundle_step="birth").window_clerk == world.clerk


def test_my_applications_list_a_bundle_once(bundled):
    """(e) The steps of a bundle are on its status page, not listed again next to it."""
    world = bundled
    body = submit(world.citizen, "bdc-transfer", transfer_values(world)).json()
    step_reference = steps_by_code(body)["filing"]["reference"]
    page = client_for(world.citizen).get("/services/mine/").content.decode()
    assert f'data-reference="{body["reference"]}"' in page
    assert f'data-reference="{step_reference}"' not in page
    assert 'id="my-applications"' not in page
    status_page = client_for(world.citizen).get(f"/services/bundles/{body['reference']}/").content.decode()
    assert f"/services/applications/{step_reference}/" in status_page


def test_a_newborn_bundle_is_applied_for_once_per_child(bundled):
    world = bundled
    first = submit(world.citizen, "newborn", newborn_values(), key="n1").json()
    again = post(
        client_for(world.citizen),
        "/api/services/bundle-applications",
        {"bundle": "newborn", "values": newborn_values(), "submission_key": "n2"},
    )
    assert again.status_code == 422
    errors = again.json()["error"]["fields"]
    assert [item["path"] for item in errors] == ["body.values.child_id_number"]
    assert first["reference"] in errors[0]["message"]
    assert BundleApplication.objects.count() == 1
