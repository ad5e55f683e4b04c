"""The registry through the JSON API: one error shape, 404 for missing and forbidden alike,
token and session auth, masking per role, nothing half-written."""

import datetime

import pytest
from django.test import Client

from yiwang.core.ids import resident_id_build, uscc_build
from yiwang.core.models import AuditEntry, Department, Division, Role
from yiwang.core.services import user_create
from yiwang.core.tokens import api_token_create
from yiwang.registry.models import Household, Person

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"


@pytest.fixture
def city():
    root = Division.objects.create(code="3603", name="萍乡市", level=1)
    county = Division.objects.create(code="360302", name="安源区", level=2, parent=root)
    town = Division.objects.create(code="360302003", name="八一街街道", level=3, parent=county)
    village = Division.objects.create(
        code="360302003001", name="跃进社区", level=4, parent=town, is_urban=True
    )
    police = Department.objects.create(code="GA", name="萍乡市公安局", short_name="公安局", division=root)
    steward_dept = Department.objects.create(
        code="ZS", name="萍乡市政数局", short_name="政数局", division=root
    )
    return {"village": village, "police": police, "steward_dept": steward_dept}


def _login(username, role, department=None):
    user_create(actor=None, username=username, password=PASSWORD, roles=[(role, department, None)])
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.fixture
def clerk(city):
    return _login("clerk", Role.WINDOW_CLERK)


@pytest.fixture
def steward(city):
    return _login("steward", Role.DATA_STEWARD, city["steward_dept"])


def _person_body(village, **overrides):
    body = {
        "id_number": resident_id_build("360302", datetime.date(1988, 6, 1), 21, "F"),
        "name": "刘晓梅",
        "division": village.code,
        "phone": "13907991234",
        "address": "江西省萍乡市安源区八一街街道跃进社区跃进路12号",
    }
    body.update(overrides)
    return body


def test_invalid_id_number_gives_422_with_field_path(clerk, city):
    bad = _person_body(city["village"], id_number="360302198806010210")
    response = clerk.post("/api/registry/persons", bad, content_type="application/json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert [f["path"] for f in error["fields"]] == ["body.id_number"]
    assert Person.objects.count() == 0


def test_schema_errors_use_the_same_shape(clerk, city):
    response = clerk.post("/api/registry/persons", {"name": "x"}, content_type="application/json")
    assert response.status_code == 422
    paths = {f["path"] for f in response.json()["error"]["fields"]}
    assert {"body.id_number", "body.division"} <= paths


def test_birth_date_must_agree_with_id_and_division_must_exist(clerk, city):
    body = _person_body(city["village"], birth_date="1988-06-02", division="360302999999")
    response = clerk.post("/api/registry/persons", body, content_type="application/json")
    paths = [f["path"] for f in response.json()["error"]["fields"]]
    assert response.status_code == 422
    assert paths == ["body.birth_date", "body.division"]


def test_household_with_one_bad_member_writes_nothing(clerk, city):
    head = _person_body(city["village"], relation="02")
    child = _person_body(
        city["village"],
        relation="30",
        name="刘小雨",
        id_number=resident_id_build("360302", datetime.date(2015, 2, 1), 5, "F")[:-1] + "0",
    )
    body = {"number": "360302003001000123", "division": city["village"].code, "members": [head, child]}
    response = clerk.post("/api/registry/households", body, content_type="application/json")
    assert response.status_code == 422, response.content
    fields = response.json()["error"]["fields"]
    assert fields[0]["path"] == "body.members.1.id_number"
    assert Person.objects.count() == 0
    assert Household.objects.count() == 0
    assert not AuditEntry.objects.filter(action="household.create").exists()


def test_household_created_with_members_and_audited(clerk, city):
    head = _person_body(city["village"], relation="02")
    child = _person_body(
        city["village"],
        relation="30",
        name="刘小雨",
        id_number=resident_id_build("360302", datetime.date(2015, 2, 1), 5, "F"),
    )
    body = {"number": "360302003001000123", "division": city["village"].code, "members": [head, child]}
    response = clerk.post("/api/registry/households", body, content_type="application/json")
    assert response.status_code == 201, response.content
    household = Household.objects.get()
    assert household.head.name == "刘晓梅"
    assert household.members.count() == 2
    assert AuditEntry.objects.filter(action="household.create", object_id=str(household.pk)).count() == 1


def test_masking_per_role_and_unmasked_reads_are_audited(clerk, steward, city):
    created = clerk.post(
        "/api/registry/persons", _person_body(city["village"]), content_type="application/json"
    )
    assert created.status_code == 201
    number = created.json()["id_number"]
    assert "*" not in number  # the window clerk's work needs the full number
    reads_before = AuditEntry.objects.filter(action="personal_data.read_unmasked").count()
    masked = steward.get(f"/api/registry/persons/{number}").json()
    assert masked["id_number"] == number[:4] + "*" * 10 + number[-4:]
    assert masked["phone"] == "139****1234"
    assert masked["address"] == "江西省萍乡市安源区八一街街道****"
    assert AuditEntry.objects.filter(action="personal_data.read_unmasked").count() == reads_before
    full = clerk.get(f"/api/registry/persons/{number}?purpose=窗口核验身份").json()
    assert full["id_number"] == number
    entry = AuditEntry.objects.filter(action="personal_data.read_unmasked").latest("sequence")
    assert entry.purpose == "窗口核验身份"
    assert entry.actor_label == "clerk"
    assert set(entry.after["fields"]) == {"id_number", "birth_date", "phone", "address"}


def test_404_for_missing_and_forbidden_alike(clerk, city):
    created = clerk.post(
        "/api/registry/persons", _person_body(city["village"]), content_type="application/json"
    )
    number = created.json()["id_number"]
    citizen = _login("someone", Role.CITIZEN)
    forbidden = citizen.get(f"/api/registry/persons/{number}")
    missing = citizen.get("/api/registry/persons/360302198001010014")
    assert forbidden.status_code == missing.status_code == 404
    assert (
        forbidden.json()
        == missing.json()
        == {"error": {"code": "not_found", "message": missing.json()["error"]["message"]}}
    )


def test_citizen_sees_own_record_unmasked(clerk, city):
    created = clerk.post(
        "/api/registry/persons", _person_body(city["village"]), content_type="application/json"
    )
    number = created.json()["id_number"]
    citizen = _login("liuxiaomei", Role.CITIZEN)
    Person.objects.filter(id_number=number).update(user=citizen.session["_auth_user_id"])
    assert citizen.get(f"/api/registry/persons/{number}").json()["id_number"] == number


def test_unauthenticated_is_401_in_the_error_shape():
    response = Client().get("/api/registry/persons")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_token_auth_for_systems(city):
    system = user_create(
        actor=None,
        username="zj-system",
        password=PASSWORD,
        roles=[(Role.DEPARTMENT_HANDLER, city["police"], None)],
    )
    _, plain = api_token_create(actor=None, user=system, name="公安户籍系统")
    client = Client()
    body = _person_body(city["village"])
    created = client.post(
        "/api/registry/persons", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}"
    )
    assert created.status_code == 201, created.content
    assert client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {plain}").json()["username"] == "zj-system"
    assert client.get("/api/me", HTTP_AUTHORIZATION="Bearer yw_wrong").status_code == 401


def test_session_writes_need_csrf(city):
    user_create(actor=None, username="clerk2", password=PASSWORD, roles=[(Role.WINDOW_CLERK, None, None)])
    client = Client(enforce_csrf_checks=True)
    client.login(username="clerk2", password=PASSWORD)
    response = client.post(
        "/api/registry/persons", _person_body(city["village"]), content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Person.objects.count() == 0


def _wrong_check(code):
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def test_enterprise_with_bad_uscc_and_good_one(clerk, city):
    body = {
        "uscc": _wrong_check(uscc_build("360302", "MA35ABCD0")),
        "name": "萍乡市安源区示例陶瓷有限公司",
        "legal_representative_name": "王建国",
        "industry_code": "3073",
        "industry_name": "特种陶瓷制品制造",
        "registered_capital": "500",
        "employee_count": 35,
        "land_area_mu": "12.5",
        "established_on": "2018-04-02",
        "division": city["village"].code,
    }
    bad = clerk.post("/api/registry/enterprises", body, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["path"] == "body.uscc"
    body["uscc"] = uscc_build("360302", "MA35ABCD0")
    good = clerk.post("/api/registry/enterprises", body, content_type="application/json")
    assert good.status_code == 201, good.content
    assert good.json()["uscc"] == body["uscc"]


def test_openapi_page_is_served():
    assert Client().get("/api/docs").status_code == 200
    schema = Client().get("/api/openapi.json").json()
    assert "/api/registry/persons" in schema["paths"]


def test_export_is_masked_per_role_and_unmasked_export_is_audited(clerk, steward, city):
    clerk.post("/api/registry/persons", _person_body(city["village"]), content_type="application/json")
    number = Person.objects.get().id_number
    masked = b"".join(steward.get("/api/registry/exports/persons.csv").streaming_content).decode("utf-8-sig")
    assert number not in masked
    assert number[:4] + "*" * 10 + number[-4:] in masked
    assert "139****1234" in masked
    assert not AuditEntry.objects.filter(action="personal_data.export_unmasked").exists()
    refused = clerk.get("/api/registry/exports/persons.csv")
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["path"] == "query.purpose"
    full = b"".join(clerk.get("/api/registry/exports/persons.csv?purpose=核对户籍").streaming_content).decode(
        "utf-8-sig"
    )
    assert number in full
    entry = AuditEntry.objects.get(action="personal_data.export_unmasked")
    assert (entry.purpose, entry.after["rows"]) == ("核对户籍", 1)


def test_birth_date_is_masked_with_the_id_number(clerk, steward, city):
    clerk.post("/api/registry/persons", _person_body(city["village"]), content_type="application/json")
    number = Person.objects.get().id_number
    assert steward.get(f"/api/registry/persons/{number}").json()["birth_date"] == "1988-**-**"
    assert clerk.get(f"/api/registry/persons/{number}").json()["birth_date"] == "1988-06-01"


def test_a_page_of_unmasked_reads_is_one_audit_entry(clerk, city):
    for n in range(3):
        body = _person_body(
            city["village"], id_number=resident_id_build("360302", datetime.date(1990, 1, 1), n, "M")
        )
        assert clerk.post("/api/registry/persons", body, content_type="application/json").status_code == 201
    before = AuditEntry.objects.filter(action="personal_data.read_unmasked").count()
    page = clerk.get("/api/registry/persons?purpose=窗口查询").json()
    assert page["count"] == 3
    assert all("*" not in item["id_number"] for item in page["items"])
    entries = AuditEntry.objects.filter(action="personal_data.read_unmasked")
    assert entries.count() == before + 1
    latest = entries.latest("sequence")
    assert len(latest.after["objects"]) == 3
    assert latest.purpose == "窗口查询"


def test_writing_without_the_registry_role_is_403_with_a_reason(steward, city):
    response = steward.post(
        "/api/registry/persons", _person_body(city["village"]), content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Person.objects.count() == 0
