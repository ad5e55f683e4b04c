"""Open311 GeoReport v2 at /open311/v2/: every JSON answer validated against the official
JSON Schemas (../shared/data/open311/schema), every XML answer parsed and its element names
checked, errors in Open311's format naming the field, and a plain HTTP client that lists the
services, posts a request and reads its status as the department handles it."""

from __future__ import annotations

import datetime
import json
import urllib.parse
import urllib.request
from xml.etree import ElementTree

import pytest
from django.test import Client
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.hotline.conftest import PASSWORD, request
from tests.shared_data import shared_file
from yiwang.core.services import user_create
from yiwang.core.tokens import api_token_create
from yiwang.hotline.models import Channel, Ticket, TicketKind
from yiwang.hotline.services import ticket_dispatch, ticket_intake, ticket_merge, ticket_move, ticket_rate

BASE = "/open311/v2"
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]


# --- the official schemas ------------------------------------------------------------------------


def _schema_directory():
    return shared_file("open311/schema")


def schema_validator(name: str) -> Draft7Validator:
    """A validator for one of the official schema files, its "$ref"s to the others resolved."""
    directory = _schema_directory()
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT7))
        for path in directory.glob("*.json")
        if path.name != "swagger.json"
    ]
    schema = json.loads((directory / name).read_text())
    return Draft7Validator(
        schema, registry=Registry().with_resources(resources), format_checker=Draft7Validator.FORMAT_CHECKER
    )


def swagger_validator(definition: str, *, array: bool) -> Draft7Validator:
    """A validator for a definition of swagger.json (the POST and token answers have no
    schema file of their own)."""
    swagger = json.loads((_schema_directory() / "swagger.json").read_text())
    schema = dict(swagger["definitions"][definition])
    if array:
        schema = {"type": "array", "items": schema, "minItems": 1}
    return Draft7Validator(schema)


def conforms(validator: Draft7Validator, data) -> None:
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(data)]
    assert not errors, errors


def check_datetimes(request_data: dict) -> None:
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        if request_data[field] is not None:
            moment = datetime.datetime.fromisoformat(request_data[field])
            assert moment.tzinfo is not None, field


def xml(response) -> ElementTree.Element:
    assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
    return ElementTree.fromstring(response.content)


def child_names(element: ElementTree.Element) -> list[str]:
    return [child.tag for child in element]


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def api_key(hotline) -> str:
    system = user_create(actor=None, username="fixmystreet-bridge", password=PASSWORD, roles=[])
    return api_token_create(actor=None, user=system, name="Open311 client")[1]


def form(key: str | None, **overrides) -> dict:
    data = {
        "service_code": "urban-construction",
        "description": "丹江街道建设社区小区门口的路灯坏了一个多月，晚上出行很不方便，请尽快维修。",
        "address_string": "安源区丹江街道建设社区5栋",
        "lat": "27.622531",
        "long": "113.854677",
        "phone": "13807991234",
        "first_name": "先生",
        "last_name": "王",
        "email": "wang@example.cn",
    }
    if key is not None:
        data["api_key"] = key
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def post_request(key: str | None, response_format: str = "json", **overrides):
    return Client().post(f"{BASE}/requests.{response_format}", form(key, **overrides))


def errors_of(response) -> list[str]:
    body = response.json()
    assert isinstance(body, list) and body
    assert all(set(error) == {"code", "description"} for error in body)
    assert all(error["code"] == response.status_code for error in body)
    return [error["description"] for error in body]


# --- discovery and services -------------------------------------------------------------------------


@pytest.mark.django_db
def test_discovery_in_json_and_xml(hotline):
    body = Client().get(f"{BASE}/discovery.json").json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = xml(Client().get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert child_names(root) == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert child_names(endpoint) == ["specification", "url", "changeset", "type", "formats"]
    assert [node.text for node in endpoint.findall("formats/format")] == ["text/xml", "application/json"]


@pytest.mark.django_db
def test_services_are_the_categories_and_conform_to_the_schema(hotline):
    response = Client().get(f"{BASE}/services.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    services = response.json()
    conforms(schema_validator("services.json"), services)
    for service in services:
        conforms(schema_validator("service.json"), service)
    by_code = {service["service_code"]: service for service in services}
    assert len(by_code) == 7
    urban = by_code["urban-construction"]
    assert urban["service_name"] == "城乡建设" and urban["metadata"] is False and urban["type"] == "realtime"
    assert urban["group"] == "住建局" and "物业" in urban["description"]

    root = xml(Client().get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    assert child_names(root) == ["service"] * 7
    assert child_names(root[0]) == SERVICE_FIELDS
    assert {node.findtext("metadata") for node in root} == {"false"}


@pytest.mark.django_db
def test_a_service_definition_offers_the_ticket_kind_as_an_optional_attribute(hotline):
    body = Client().get(f"{BASE}/services/urban-construction.json").json()
    conforms(schema_validator("service-definition.json"), body)
    (attribute,) = body["attributes"]
    assert attribute["code"] == "kind" and attribute["required"] is False
    assert [value["key"] for value in attribute["values"]] == TicketKind.values
    root = xml(Client().get(f"{BASE}/services/urban-construction.xml"))
    assert root.tag == "service_definition"
    assert child_names(root) == ["service_code", "attributes"]
    attribute = root.find("attributes/attribute")
    assert child_names(attribute) == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ]
    assert child_names(attribute.find("values")) == ["value"] * 6
    assert child_names(attribute.find("values/value")) == ["key", "name"]

    missing = Client().get(f"{BASE}/services/no-such-service.json")
    assert missing.status_code == 404
    assert errors_of(missing)[0].startswith("service_code:")
    missing = Client().get(f"{BASE}/services/no-such-service.xml")
    assert missing.status_code == 404
    root = xml(missing)
    assert root.tag == "errors" and child_names(root.find("error")) == ["code", "description"]
    assert root.findtext("error/code") == "404"


# --- posting and reading requests --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_posted_request_is_a_ticket_and_reads_back_per_the_schema(hotline, api_key):
    response = post_request(api_key)
    assert response.status_code == 200, response.content
    answer = response.json()
    conforms(swagger_validator("RequestResponse", array=True), answer)
    reference = answer[0]["service_request_id"]
    ticket = Ticket.objects.select_related("case").get(case__reference=reference)
    assert ticket.channel == Channel.OPEN311 and ticket.kind == TicketKind.HELP  # the default kind
    assert ticket.category.code == "urban-construction"
    assert ticket.caller_name == "王先生" and ticket.caller_phone == "13807991234"
    assert ticket.division_id.startswith(hotline.town.pk)
    assert "工作日" in answer[0]["service_notice"]

    listing = Client().get(f"{BASE}/requests/{reference}.json").json()
    conforms(schema_validator("requests.json"), listing)
    conforms(schema_validator("request.json"), listing[0])
    data = listing[0]
    check_datetimes(data)
    assert list(data) == REQUEST_FIELDS
    assert data["status"] == "open" and data["service_code"] == "urban-construction"
    assert data["service_name"] == "城乡建设"
    assert data["agency_responsible"] == hotline.centre.name  # waiting for dispatch at the centre
    assert datetime.datetime.fromisoformat(data["expected_datetime"]) == ticket.case.case_deadline
    assert data["address"] == "安源区丹江街道****"  # public: down to the town
    assert (data["lat"], data["long"]) == (27.623, 113.855)  # about 100 m

    root = xml(Client().get(f"{BASE}/requests/{reference}.xml"))
    assert root.tag == "service_requests" and child_names(root) == ["request"]
    assert child_names(root[0]) == REQUEST_FIELDS
    assert root[0].findtext("service_request_id") == reference and root[0].findtext("status") == "open"

    token = answer[0]["token"]
    resolved = Client().get(f"{BASE}/tokens/{token}.json")
    assert resolved.status_code == 200
    conforms(swagger_validator("TokenResponse", array=True), resolved.json())
    assert resolved.json() == [{"service_request_id": reference, "token": token}]
    root = xml(Client().get(f"{BASE}/tokens/{token}.xml"))
    assert root.tag == "service_requests" and child_names(root[0]) == ["service_request_id", "token"]
    assert Client().get(f"{BASE}/tokens/not-a-token.json").status_code == 404
    assert Client().get(f"{BASE}/requests/RX1999-000001.json").status_code == 404


@pytest.mark.django_db
def test_posting_in_xml_and_choosing_the_kind(hotline, api_key):
    response = post_request(api_key, "xml", **{"attribute[kind]": "complaint"})
    assert response.status_code == 200, response.content
    root = xml(response)
    assert root.tag == "service_requests"
    assert child_names(root[0]) == ["service_request_id", "token", "service_notice"]
    reference = root[0].findtext("service_request_id")
    assert Ticket.objects.get(case__reference=reference).kind == TicketKind.COMPLAINT


@pytest.mark.django_db
def test_control_characters_in_the_text_do_not_break_the_xml(hotline, api_key):
    text = "小区门口路灯坏了\x01一个多月，请尽快维修。"
    reference = post_request(api_key, description=text).json()[0]["service_request_id"]
    root = xml(Client().get(f"{BASE}/requests/{reference}.xml"))
    assert root.findtext("request/description") == "小区门口路灯坏了一个多月，请尽快维修。"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "yw_not-a-token"}, 403, "api_key"),
        ({"service_code": None}, 400, "service_code"),
        ({"service_code": "no-such-service"}, 400, "service_code"),
        ({"address_string": None}, 400, "address_string"),  # coordinates alone are not placed
        ({"address_string": None, "lat": None, "long": None}, 400, "address_string"),
        ({"address_string": "北京市朝阳区建国路"}, 400, "address_string"),
        ({"phone": "12345"}, 400, "phone"),
        ({"phone": None}, 400, "phone"),
        ({"description": ""}, 400, "description"),
        ({"description": "长" * 2001}, 400, "description"),
        ({"attribute[kind]": "gossip"}, 400, "attribute[kind]"),
        ({"lat": "north"}, 400, "lat"),
        ({"jurisdiction_id": "beijing.gov.cn"}, 404, "jurisdiction_id"),
    ],
)
def test_bad_posts_are_refused_in_the_open311_error_format_naming_the_field(
    hotline, api_key, overrides, status, field
):
    response = post_request(api_key, **overrides)
    assert response.status_code == status, response.content
    descriptions = errors_of(response)
    assert any(description.startswith(f"{field}:") for description in descriptions), descriptions
    assert Ticket.objects.count() == 0


@pytest.mark.django_db
def test_every_bad_field_is_named_at_once_in_xml_too(hotline, api_key):
    response = post_request(api_key, "xml", service_code="nope", phone="12345", address_string=None)
    assert response.status_code == 400
    root = xml(response)
    assert root.tag == "errors"
    fields = {error.findtext("description").split(":")[0] for error in root.findall("error")}
    assert fields == {"service_code", "phone", "address_string"}
    assert {error.findtext("code") for error in root.findall("error")} == {"400"}


@pytest.mark.django_db
def test_the_jurisdiction_is_the_city(hotline, api_key, settings):
    assert Client().get(f"{BASE}/services.json?jurisdiction_id=pingxiang.gov.cn").status_code == 200
    assert Client().get(f"{BASE}/services.json?jurisdiction_id=3603").status_code == 200
    wrong = Client().get(f"{BASE}/services.json?jurisdiction_id=shanghai.gov.cn")
    assert wrong.status_code == 404 and errors_of(wrong)[0].startswith("jurisdiction_id:")
    settings.HOTLINE_OPEN311_JURISDICTION = "pxs.example.cn"
    assert Client().get(f"{BASE}/services.json?jurisdiction_id=pxs.example.cn").status_code == 200
    assert post_request(api_key, jurisdiction_id="pxs.example.cn").status_code == 200


@pytest.mark.django_db
def test_status_follows_the_loop_honestly(hotline):
    def status(ticket) -> dict:
        return Client().get(f"{BASE}/requests/{ticket.case.reference}.json").json()[0]

    ticket = ticket_intake(data=request(), channel="web", actor=hotline.citizen, citizen=hotline.citizen)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    assert status(ticket)["agency_responsible"] == hotline.town_office.name
    ticket = ticket_move(ticket=ticket, transition="accept", actor=hotline.handler)
    assert status(ticket)["status"] == "open"
    ticket = ticket_move(ticket=ticket, transition="reply", actor=hotline.handler, note="已更换灯泡。")
    assert (status(ticket)["status"], status(ticket)["status_notes"]) == ("closed", "已更换灯泡。")
    ticket = ticket_rate(ticket=ticket, actor=hotline.citizen, rating="unsatisfied", note="还是不亮")
    assert status(ticket)["status"] == "open"  # reopened under supervision
    ticket = ticket_move(
        ticket=ticket, transition="close_unresolved", actor=hotline.supervisor, note="线路改造需列入明年计划"
    )
    closed = status(ticket)
    conforms(schema_validator("request.json"), closed)
    assert closed["status"] == "closed"
    assert "未解决" in closed["status_notes"] or "not resolved" in closed["status_notes"]
    assert "线路改造需列入明年计划" in closed["status_notes"]
    assert closed["updated_datetime"] is not None

    first = ticket_intake(data=request(), channel="web", actor=hotline.citizen)
    second = ticket_intake(data=request(caller_phone="13907990000"), channel="phone", actor=hotline.operator)
    ticket_merge(ticket=second, into=first, actor=hotline.operator)
    merged = status(second)
    assert merged["status"] == "closed" and first.case.reference in merged["status_notes"]


@pytest.mark.django_db
def test_request_lists_filter_per_the_spec_and_leave_reports_to_those_who_may_see_them(hotline, api_key):
    help_request = ticket_intake(data=request(kind="help"), channel="web", actor=hotline.citizen)
    report = ticket_intake(
        data=request(kind="report", text="丹江街道某小区有人违规改建房屋，请查处。"),
        channel="phone",
        actor=hotline.operator,
    )
    answered = ticket_intake(data=request(kind="consultation"), channel="phone", actor=hotline.operator)
    ticket_move(ticket=answered, transition="answer", actor=hotline.operator, note="可到社区服务中心办理。")

    def references(query: str = "", key: str | None = None) -> set[str]:
        url = f"{BASE}/requests.json?{query}" + (f"&api_key={key}" if key else "")
        response = Client().get(url)
        assert response.status_code == 200, response.content
        conforms(schema_validator("requests.json"), response.json())
        for item in response.json():
            check_datetimes(item)
        return {item["service_request_id"] for item in response.json()}

    public = {help_request.case.reference, answered.case.reference}
    assert references() == public  # the report is not public
    assert references("status=open") == {help_request.case.reference}
    assert references("status=closed") == {answered.case.reference}
    assert references("status=open,closed") == public
    ids = f"{help_request.case.reference},{report.case.reference}"
    assert references(f"service_request_id={ids}") == {help_request.case.reference}
    assert references("service_code=transport") == set()
    today = datetime.date.today()
    assert references(f"start_date={today - datetime.timedelta(days=1)}T00:00:00Z") == public
    assert references(f"end_date={today - datetime.timedelta(days=2)}T00:00:00Z") == set()
    assert Client().get(f"{BASE}/requests/{report.case.reference}.json").status_code == 404

    operator_key = api_token_create(actor=None, user=hotline.operator, name="centre")[1]
    assert report.case.reference in references(key=operator_key)
    assert report.case.reference not in references(key=api_key)  # a bridge sees what the public sees

    bad = Client().get(f"{BASE}/requests.json?start_date=yesterday")
    assert bad.status_code == 400 and errors_of(bad)[0].startswith("start_date:")
    bad = Client().get(f"{BASE}/requests.json?status=pending")
    assert bad.status_code == 400 and errors_of(bad)[0].startswith("status:")
    bad = Client().get(f"{BASE}/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z")
    assert bad.status_code == 400 and errors_of(bad)[0].startswith("end_date:")
    root = xml(Client().get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests" and child_names(root) == ["request", "request"]


# --- a standard client over plain HTTP ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_standard_open311_client_lists_services_posts_a_request_and_follows_its_status(
    hotline, api_key, live_server
):
    """Only HTTP, as an Open311 client does it: discovery → services → POST → status; the
    department handles the ticket in between."""

    def get(path: str):
        with urllib.request.urlopen(f"{live_server.url}{BASE}/{path}") as response:
            assert response.status == 200
            return json.loads(response.read())

    endpoint = get("discovery.json")["endpoints"][0]
    assert "application/json" in endpoint["formats"]
    services = get("services.json")
    conforms(schema_validator("services.json"), services)
    service = next(service for service in services if service["service_name"] == "城乡建设")
    if service["metadata"]:
        get(f"services/{service['service_code']}.json")

    body = urllib.parse.urlencode(form(api_key, service_code=service["service_code"])).encode()
    posted = urllib.request.Request(f"{live_server.url}{BASE}/requests.json", data=body, method="POST")
    with urllib.request.urlopen(posted) as response:
        assert response.status == 200
        created = json.loads(response.read())
    request_id = created[0]["service_request_id"]

    status = get(f"requests/{request_id}.json")
    conforms(schema_validator("requests.json"), status)
    assert status[0]["status"] == "open"

    ticket = Ticket.objects.select_related("case").get(case__reference=request_id)
    ticket = ticket_dispatch(ticket=ticket, actor=hotline.dispatcher, department=hotline.town_office)
    ticket = ticket_move(ticket=ticket, transition="accept", actor=hotline.handler)
    assert get(f"requests/{request_id}.json")[0]["status"] == "open"
    ticket_move(ticket=ticket, transition="reply", actor=hotline.handler, note="路灯已修复，感谢反映。")

    status = get(f"requests/{request_id}.json")
    conforms(schema_validator("requests.json"), status)
    assert status[0]["status"] == "closed"
    assert status[0]["status_notes"] == "路灯已修复，感谢反映。"
    assert status[0]["agency_responsible"] == hotline.town_office.name
    listed = get(f"requests.json?service_code={service['service_code']}&status=closed")
    assert [item["service_request_id"] for item in listed] == [request_id]


@pytest.mark.django_db
def test_listing_costs_the_same_queries_for_few_or_many_requests(hotline):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert Client().get(f"{BASE}/requests.json").status_code == 200
        return len(captured)

    for kind in ("help", "complaint"):
        ticket_intake(data=request(kind=kind), channel="web", actor=hotline.citizen)
    few = queries()
    for kind in ("help", "complaint", "help", "complaint"):  # one time-limit lookup per kind
        ticket_intake(data=request(kind=kind), channel="web", actor=hotline.citizen)
    assert queries() == few
