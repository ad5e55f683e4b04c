"""The web shell through Django's test client: login, workbenches, city pages, masking, i18n."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from tests.web.conftest import ID_NUMBER, ID_NUMBER_MASKED, PASSWORD, ROLE_NAMES_ZH
from yiwang.core.models import AuditEntry, Role
from yiwang.registry.models import Enterprise, EnterpriseAgent, Person
from yiwang.web.preferences import LARGE_TYPE_COOKIE
from yiwang.web.workbenches import Section, workbench_get, workbench_section_register

pytestmark = pytest.mark.django_db

ALL_ROLES = list(Role.values)
STAFF_ROLES = [
    Role.WINDOW_CLERK,
    Role.DEPARTMENT_HANDLER,
    Role.HOTLINE_OPERATOR,
    Role.DISPATCHER,
    Role.SUPERVISOR,
    Role.DATA_STEWARD,
    Role.CITY_LEADER,
    Role.ADMIN,
]


def login(client, user):
    response = client.post(reverse("web:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def page_text(response) -> str:
    return response.content.decode()


# --- Home ----------------------------------------------------------------------------------------


def test_home_shows_the_city_figures_in_chinese(client, city):
    response = client.get("/")
    text = page_text(response)
    assert response.status_code == 200
    assert "一网 · 萍乡市数字政府" in text
    for label in ["县区", "乡镇街道", "村社区", "部门", "人口", "户数", "企业", "不动产"]:
        assert label in text
    # 2 counties, 2 towns, 2 villages, 4 departments, 2 persons, 1 household, 1 enterprise, 1 property
    assert '<span class="figure-value">4</span>' in text  # departments
    assert text.count('<span class="figure-value">2</span>') == 4  # counties, towns, villages, persons
    assert text.count('<span class="figure-value">1</span>') == 3
    assert 'lang="zh-hans"' in text


def test_home_works_without_any_data(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert "一网 · 数字政府" in page_text(response)


# --- Login and workbenches -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_login_lands_on_the_roles_own_workbench(client, make_user, role):
    user = make_user(role)
    response = client.post(
        reverse("web:login"), {"username": user.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/workbench/{role}/"
    text = page_text(response)
    assert f"{ROLE_NAMES_ZH[role]}工作台" in text
    assert "您的工作范围" in text


def test_login_with_a_wrong_password_stays_on_the_form(client, make_user):
    user = make_user(Role.CITIZEN)
    response = client.post(reverse("web:login"), {"username": user.username, "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in page_text(response)
    assert "_auth_user_id" not in client.session


def test_login_follows_a_safe_next(client, make_user):
    user = make_user(Role.DATA_STEWARD)
    response = client.post(
        reverse("web:login") + "?next=/city/persons/",
        {"username": user.username, "password": PASSWORD, "next": "/city/persons/"},
    )
    assert response["Location"] == "/city/persons/"


def test_workbench_shows_scope_and_planned_sections(client, make_user, city):
    user = make_user(Role.HOTLINE_OPERATOR)
    login(client, user)
    text = page_text(client.get("/workbench/hotline_operator/"))
    assert "热线话务员工作台" in text
    assert city.hotline_centre.name in text
    assert "来电登记" in text and "工单查询" in text
    assert "即将上线" in text


def test_workbench_scope_names_department_and_division(client, make_user, city):
    user = make_user(Role.WINDOW_CLERK)
    login(client, user)
    text = page_text(client.get("/workbench/window_clerk/"))
    assert "萍乡市行政审批局 · 安源区" in text
    assert "综合受理" in text
    assert reverse("web:divisions") in text  # the clerk's "see the city" section is a real link


def test_city_wide_scope_for_a_role_without_department_or_division(client, make_user):
    login(client, make_user(Role.ADMIN))
    assert "<li>全市</li>" in page_text(client.get("/workbench/admin/"))


def test_citizen_scope_is_their_own_affairs(client, make_user):
    login(client, make_user(Role.CITIZEN))
    text = page_text(client.get("/workbench/citizen/"))
    assert "<li>本人事项</li>" in text and "<li>全市</li>" not in text


def test_enterprise_agent_scope_is_their_enterprises(client, make_user, city):
    agent = make_user(Role.ENTERPRISE_AGENT)
    login(client, agent)
    assert "您的账号尚未关联企业" in page_text(client.get("/workbench/enterprise_agent/"))
    EnterpriseAgent.objects.create(enterprise=Enterprise.objects.get(), user=agent)
    assert "萍乡市安源区示范科技有限公司" in page_text(client.get("/workbench/enterprise_agent/"))


def test_several_roles_get_a_picker(client, make_user):
    user = make_user(Role.HOTLINE_OPERATOR, Role.DISPATCHER)
    login(client, user)
    response = client.get(reverse("web:workbench"))
    text = page_text(response)
    assert response.status_code == 200
    assert "选择工作台" in text
    assert "/workbench/hotline_operator/" in text and "/workbench/dispatcher/" in text
    assert client.get("/workbench/dispatcher/").status_code == 200
    assert "您的其他工作台" in page_text(client.get("/workbench/dispatcher/"))


def test_user_without_a_role_gets_no_workbench_and_403_on_others(client, make_user):
    user = make_user()
    login(client, user)
    assert "暂无工作台" in page_text(client.get(reverse("web:workbench")))
    for role in ALL_ROLES:
        assert client.get(f"/workbench/{role}/").status_code == 403


def test_a_role_is_refused_another_roles_workbench(client, make_user):
    login(client, make_user(Role.CITIZEN))
    response = client.get("/workbench/hotline_operator/")
    assert response.status_code == 403
    assert "无权访问" in page_text(response)
    assert client.get("/workbench/citizen/").status_code == 200


def test_unknown_role_is_404(client, make_user):
    login(client, make_user(Role.CITIZEN))
    assert client.get("/workbench/astronaut/").status_code == 404


def test_anonymous_is_sent_to_login(client, db):
    for url in ["/workbench/", "/workbench/citizen/", "/city/persons/", "/city/divisions/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_superuser_without_assignments_has_the_admin_workbench(client, city):
    from yiwang.core.services import user_create

    user = user_create(actor=None, username="root", password=PASSWORD, is_superuser=True)
    login(client, user)
    response = client.get(reverse("web:workbench"), follow=True)
    assert response.redirect_chain[-1][0] == "/workbench/admin/"
    text = page_text(response)
    assert "系统管理员工作台" in text
    assert "/admin/" in text


def test_logout_is_a_post_and_goes_home(client, make_user):
    login(client, make_user(Role.CITIZEN))
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/workbench/citizen/").status_code == 302


def test_an_application_can_fill_a_workbench_section(client, make_user):
    workbench = workbench_get(Role.HOTLINE_OPERATOR)
    saved = dict(workbench.sections)
    try:
        workbench_section_register(
            Role.HOTLINE_OPERATOR,
            Section(key="call_intake", title="来电登记（已上线）", url_name="web:persons", order=1),
        )
        workbench_section_register(Role.HOTLINE_OPERATOR, Section(key="brand_new", title="新栏目"))
        login(client, make_user(Role.HOTLINE_OPERATOR))
        text = page_text(client.get("/workbench/hotline_operator/"))
        assert '<a href="/city/persons/">来电登记（已上线）</a>' in text
        assert "新栏目" in text
    finally:
        workbench.sections.clear()
        workbench.sections.update(saved)


# --- Navigation ----------------------------------------------------------------------------------


def test_navigation_follows_the_roles(client, make_user):
    text = page_text(client.get("/"))
    assert "我的工作台" not in text and "城市概况" not in text

    login(client, make_user(Role.CITIZEN))
    text = page_text(client.get("/"))
    assert "我的工作台" in text and "城市概况" not in text and "系统管理" not in text
    client.post(reverse("web:logout"))

    login(client, make_user(Role.DATA_STEWARD))
    text = page_text(client.get("/"))
    assert "我的工作台" in text and "城市概况" in text and 'href="/admin/"' not in text
    client.post(reverse("web:logout"))

    login(client, make_user(Role.ADMIN))
    assert 'href="/admin/"' in page_text(client.get("/"))


# --- See the city --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/city/divisions/",
        "/city/departments/",
        "/city/persons/",
        "/city/households/",
        "/city/enterprises/",
        "/city/properties/",
    ],
)
def test_city_pages_are_for_staff_only(client, make_user, url):
    login(client, make_user(Role.CITIZEN))
    assert client.get(url).status_code == 403
    client.post(reverse("web:logout"))
    login(client, make_user(Role.ENTERPRISE_AGENT))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_every_staff_role_sees_the_city(client, make_user, role):
    login(client, make_user(role))
    assert client.get("/city/", follow=True).redirect_chain[-1][0] == "/city/divisions/"
    for url in [
        "/city/divisions/",
        "/city/departments/",
        "/city/persons/",
        "/city/households/",
        "/city/enterprises/",
        "/city/properties/",
    ]:
        assert client.get(url).status_code == 200, url


def test_divisions_tree_with_counts(client, make_user):
    login(client, make_user(Role.CITY_LEADER))
    text = page_text(client.get("/city/divisions/"))
    for name in ["萍乡市", "安源区", "莲花县", "八一街道", "琴亭镇", "跃进社区", "花塘村"]:
        assert name in text
    assert "村社区 2 个" in text  # the city holds two villages
    assert "人口 2" in text
    assert text.index("安源区") < text.index("八一街道") < text.index("跃进社区")


def test_departments_grouped_by_division(client, make_user):
    login(client, make_user(Role.SUPERVISOR))
    text = page_text(client.get("/city/departments/"))
    assert text.index("萍乡市行政审批局") < text.index("安源区住房和城乡建设局")
    assert "3 个部门" in text and "1 个部门" in text


def test_data_steward_sees_masked_person_and_no_audit(client, make_user, city):
    login(client, make_user(Role.DATA_STEWARD))
    before = AuditEntry.objects.filter(action="personal_data.read_unmasked").count()
    text = page_text(client.get("/city/persons/"))
    assert ID_NUMBER_MASKED in text
    assert ID_NUMBER not in text
    assert "138****5678" in text
    assert "13812345678" not in text
    assert "跃进路" not in text  # the address is kept only down to the town
    detail = page_text(client.get(f"/city/persons/{city.person.pk}/"))
    assert ID_NUMBER_MASKED in detail and ID_NUMBER not in detail
    assert AuditEntry.objects.filter(action="personal_data.read_unmasked").count() == before


def test_window_clerk_sees_full_number_and_the_read_is_audited(client, make_user, city):
    clerk = make_user(Role.WINDOW_CLERK)
    login(client, clerk)
    text = page_text(client.get("/city/persons/", {"q": "李"}))
    assert ID_NUMBER in text
    assert ID_NUMBER_MASKED not in text
    entry = AuditEntry.objects.filter(
        action="personal_data.read_unmasked", object_type="registry.person", object_id=str(city.person.pk)
    ).get()
    assert entry.actor_id == clerk.pk
    assert entry.purpose == "registry browse: person list"
    assert "id_number" in entry.after["fields"]

    detail = page_text(client.get(f"/city/persons/{city.person.pk}/"))
    assert ID_NUMBER in detail
    assert AuditEntry.objects.filter(
        action="personal_data.read_unmasked", purpose="registry browse: person detail", actor=clerk
    ).exists()


def test_hotline_operator_sees_phone_but_not_the_id_number(client, make_user, city):
    login(client, make_user(Role.HOTLINE_OPERATOR))
    text = page_text(client.get(f"/city/persons/{city.person.pk}/"))
    assert "13812345678" in text
    assert ID_NUMBER_MASKED in text and ID_NUMBER not in text


def test_person_detail_lists_the_household_members(client, make_user, city):
    login(client, make_user(Role.DATA_STEWARD))
    text = page_text(client.get(f"/city/persons/{city.person.pk}/"))
    assert "王芳" in text and "配偶" in text and "户主" in text
    assert city.household.number in text
    assert "3603**********0026" in text  # the spouse is masked too
    assert client.get("/city/persons/999999/").status_code == 404


def test_household_pages(client, make_user, city):
    login(client, make_user(Role.DEPARTMENT_HANDLER))
    text = page_text(client.get("/city/households/", {"q": "李明"}))
    assert city.household.number in text
    text = page_text(client.get(f"/city/households/{city.household.pk}/"))
    assert "王芳" in text and "李明" in text
    assert "360302199201020026" in text  # a department handler's work needs the number
    assert "跃进路" not in text  # the household's own address is not shown


def test_person_search_by_name_prefix_and_id_number(client, make_user, city):
    login(client, make_user(Role.DATA_STEWARD))
    assert "王芳" not in page_text(client.get("/city/persons/", {"q": "李"}))
    assert "李明" in page_text(client.get("/city/persons/", {"q": ID_NUMBER.lower()}))
    empty = page_text(client.get("/city/persons/", {"q": "赵"}))
    assert "共 0 条" in empty and "李明" not in empty
    in_other_county = page_text(client.get("/city/persons/", {"division": city.other_county.code}))
    assert "李明" not in in_other_county
    assert "李明" in page_text(client.get("/city/persons/", {"division": city.county.code}))


def test_person_list_is_paginated_by_50(client, make_user, city):
    Person.objects.bulk_create(
        Person(
            id_number=f"3603021980010{index:04d}X"[:18],
            name=f"张{index:02d}",
            sex="M",
            birth_date=datetime.date(1980, 1, 1),
            birthplace_code="360302",
            division=city.village,
        )
        for index in range(60)
    )
    login(client, make_user(Role.DATA_STEWARD))
    first = page_text(client.get("/city/persons/"))
    assert "共 62 条" in first
    assert "第 1 页，共 2 页" in first
    assert first.count('href="/city/persons/') >= 50
    second = page_text(client.get("/city/persons/", {"page": 2}))
    assert "第 2 页，共 2 页" in second
    assert second.count("<tr>") == 12 + 1  # 12 rows and the header row


def test_enterprise_and_property_search(client, make_user, city):
    login(client, make_user(Role.DATA_STEWARD))
    assert "萍乡市安源区示范科技有限公司" in page_text(client.get("/city/enterprises/", {"q": "示范"}))
    assert "萍乡市安源区示范科技有限公司" in page_text(
        client.get("/city/enterprises/", {"q": "91360302ma35abcd0x"})
    )
    assert "示范科技" not in page_text(client.get("/city/enterprises/", {"q": "不存在"}))
    assert "360302001001GB00001F00010001" in page_text(client.get("/city/properties/", {"q": "360302001001"}))
    assert "住宅" in page_text(client.get("/city/properties/"))


# --- Language and large type ---------------------------------------------------------------------


def test_language_switch_gives_english(client, make_user, city):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    text = page_text(client.get("/"))
    assert 'lang="en"' in text
    assert "Yiwang · 萍乡市 Digital Government" in text
    assert "Counties and districts" in text and "Log in" in text
    login(client, make_user(Role.HOTLINE_OPERATOR))
    text = page_text(client.get("/workbench/hotline_operator/"))
    assert "Hotline operator workbench" in text and "Call intake" in text
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "热线话务员工作台" in page_text(client.get("/workbench/hotline_operator/"))


def test_large_type_switch(client, db):
    assert 'class="large-type"' not in page_text(client.get("/"))
    response = client.post(reverse("web:large_type"), {"large_type": "1", "next": "/city/persons/"})
    assert response.status_code == 302 and response["Location"] == "/city/persons/"
    assert response.cookies[LARGE_TYPE_COOKIE].value == "1"
    assert '<html lang="zh-hans" class="large-type">' in page_text(client.get("/"))
    client.post(reverse("web:large_type"))  # no value: toggle
    assert 'class="large-type"' not in page_text(client.get("/"))


def test_large_type_ignores_an_unsafe_next(client, db):
    response = client.post(reverse("web:large_type"), {"next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert client.get(reverse("web:large_type")).status_code == 405


def test_no_asset_comes_from_outside(client, make_user):
    login(client, make_user(Role.WINDOW_CLERK))
    for url in ["/", "/login/", "/workbench/window_clerk/", "/city/divisions/", "/city/persons/"]:
        text = page_text(client.get(url))
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, url
