"""The rules workbench clicked through in a real browser (Debian Chromium): a data steward
writes the next version of a rule with a mistake and sees it named by its path, fixes it,
runs the what-if, tries it on one person; a supervisor approves and publishes it."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.rules.test_pages import workbench  # noqa: F401  (the fixture)
from yiwang.rules.models import RuleVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, base: str, user, next_path: str) -> None:
    page.goto(f"{base}/login/?next={next_path}")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}{next_path}")


def test_a_steward_writes_a_rule_and_a_supervisor_publishes_it(
    page_factory,
    live_server,
    workbench,  # noqa: F811
    screenshot_dir,
):
    base = live_server.url
    steward = page_factory()
    _login(steward, base, workbench.steward, "/rules/")
    assert "高龄津贴" in steward.locator("#rules").inner_text()
    steward.screenshot(path=str(screenshot_dir / "rules-list.png"), full_page=True)

    steward.locator("#rules").get_by_role("link", name="benefits.elderly").click()
    steward.wait_for_load_state()
    assert "年满规定年龄" in steward.locator("#conditions").inner_text()
    steward.screenshot(path=str(screenshot_dir / "rules-rule.png"), full_page=True)
    steward.get_by_role("link", name="编写下一版本").click()
    steward.wait_for_load_state()

    # The next version, with a mistake: a field the catalog does not have.
    text = steward.get_by_label("定义（YAML）").input_value()
    assert "age: persons.birth_date" in text
    wrong = text.replace("age: persons.birth_date", "age: persons.birthday").replace(
        "value: 10000", "value: 15000"
    )
    steward.get_by_label("定义（YAML）").fill(wrong)
    steward.get_by_label("变更说明").fill("提高津贴标准至150元")
    steward.get_by_role("button", name="保存草稿").click()
    steward.wait_for_load_state()
    errors = steward.locator("#errors").inner_text()
    assert "definition.conditions.0.value.age: ga.persons has no field 'birthday'" in errors
    assert "persons.birthday" in steward.get_by_label("定义（YAML）").input_value()  # kept for fixing
    steward.screenshot(path=str(screenshot_dir / "rules-draft-error.png"), full_page=True)
    assert RuleVersion.objects.count() == 1

    steward.get_by_label("定义（YAML）").fill(wrong.replace("persons.birthday", "persons.birth_date"))
    steward.get_by_role("button", name="保存草稿").click()
    steward.wait_for_url(f"{base}/rules/benefits.elderly/v2/")
    assert "草稿" in steward.locator("#version-status").inner_text()
    assert steward.locator("#approve").count() == 0  # the author cannot approve

    steward.get_by_role("link", name="模拟测算：与现行版本比较").click()
    steward.wait_for_load_state()
    steward.get_by_role("button", name="开始测算").click()
    steward.wait_for_load_state()
    assert steward.locator("#current-count").inner_text() == "1"
    assert steward.locator("#proposed-count").inner_text() == "1"
    assert steward.locator("#current-amount").inner_text() == "100.00 元"
    assert steward.locator("#proposed-amount").inner_text() == "150.00 元"
    steward.screenshot(path=str(screenshot_dir / "rules-whatif.png"), full_page=True)

    # The same rule tried on one person: the explanation every application shows.
    steward.goto(f"{base}/rules/benefits.elderly/try/")
    steward.get_by_label("身份证号").fill(workbench.younger.id_number)
    steward.get_by_role("button", name="查看解释").click()
    steward.wait_for_load_state()
    explanation = steward.locator(".rule-explanation").inner_text()
    assert "不符合" in explanation and "60 周岁" in explanation and "≥ 80 周岁" in explanation
    steward.screenshot(path=str(screenshot_dir / "rules-try.png"), full_page=True)

    # A supervisor approves and publishes.
    supervisor = page_factory()
    _login(supervisor, base, workbench.supervisor, "/rules/")
    supervisor.locator("#waiting").get_by_role("link", name="高龄津贴").click()
    supervisor.wait_for_url(f"{base}/rules/benefits.elderly/v2/")
    supervisor.get_by_role("button", name="审核通过").click()
    supervisor.wait_for_load_state()
    assert "已审核" in supervisor.locator("#version-status").inner_text()
    supervisor.get_by_role("button", name="发布生效").click()
    supervisor.wait_for_load_state()
    assert "已发布" in supervisor.locator("#version-status").inner_text()
    assert "第 2 版已发布" in supervisor.locator(".messages").inner_text()
    supervisor.screenshot(path=str(screenshot_dir / "rules-published.png"), full_page=True)
    assert list(RuleVersion.objects.order_by("number").values_list("status", flat=True)) == [
        "retired",
        "published",
    ]
