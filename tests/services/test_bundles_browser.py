"""A buyer on a phone (zh-CN) applies once for 不动产转移登记一件事 from the catalog, sees the
status page with the later steps waiting, the three departments approve their steps in turn
(through the case engine), and the same page shows the bundle completed with a certificate from
each."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, PersonFactory, PropertyFactory, UserFactory
from yiwang.cases.services import case_transition
from yiwang.certs.seed import certs_seed
from yiwang.core.models import Department, Role
from yiwang.services.bundles import bundles_demo_seed
from yiwang.services.models import Application, BundleApplication

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _approve(handler, application: Application) -> None:
    case = application.case
    case = case_transition(case=case, transition="accept", actor=handler, expected_version=case.version)
    case_transition(case=case, transition="approve", actor=handler, expected_version=case.version)


def test_property_transfer_bundle_on_a_phone(page_factory, live_server, world, screenshot_dir):
    certs_seed(samples=False)
    bundles_demo_seed()
    handlers = {
        code: UserFactory(
            username=f"{code.lower()}-handler",
            role=Role.DEPARTMENT_HANDLER,
            role__department=Department.objects.get(code=code),
        )
        for code in ("ZJ", "SW", "BDCDJ")
    }
    seller = PersonFactory(name="王建国")
    flat = PropertyFactory(owners=[seller])
    base = live_server.url
    page = page_factory(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(f"{base}/login/?next=/services/")
    page.get_by_label("用户名").fill(world.citizen.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/services/")

    # The catalog's 一件事 section leads to the bundle's guide.
    section = page.locator("#bundles")
    assert "高效办成一件事" in section.inner_text()
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "bundles-catalog-phone.png"), full_page=True)
    section.get_by_role("link", name="不动产转移登记一件事").click()
    page.wait_for_load_state()
    assert page.locator("#bundle-name").inner_text() == "不动产转移登记一件事"
    assert page.locator("#bundle-guide-steps > li").count() == 3
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "bundles-guide-phone.png"), full_page=True)

    page.locator("#bundle-apply-link").click()
    page.wait_for_load_state()
    assert page.locator("#autofill-percent").inner_text() == "50%"  # 9 of 18 fields, before the unit
    assert page.locator("#f_phone").input_value() == world.person.phone
    assert "李秀英" in page.locator("#field-name").inner_text()  # locked: from the population base
    # The buyer types the unit number and looks it up: the property and the seller come from
    # the 不动产登记 register, the seller's name from the population base.
    page.locator("#f_unit_number").fill(flat.unit_number)
    page.locator("#lookup-unit_number").click()
    page.wait_for_load_state()
    assert page.locator("#autofill-percent").inner_text() == "83%"  # 15 of 18
    assert "王建国" in page.locator("#field-seller").inner_text()
    assert flat.address in page.locator("#field-property_address").inner_text()
    assert seller.id_number not in page.locator("#field-seller_id_number").inner_text()  # masked
    assert page.locator("#f_unit_number").input_value() == flat.unit_number
    page.locator("#f_price").fill("850000")
    page.locator("#f_tax_amount").fill("8500")
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "bundles-apply-phone.png"), full_page=True)
    page.locator("#submit-bundle").click()
    page.wait_for_url(f"{base}/services/bundles/YJS*/")

    item = BundleApplication.objects.get()
    assert page.locator("#reference").inner_text() == item.case.reference
    assert page.locator("#bundle-state").inner_text() == "办理中"
    steps = page.locator("#bundle-steps > li")
    assert [steps.nth(i).get_attribute("data-state") for i in range(3)] == ["running", "waiting", "waiting"]
    assert "等待前序环节：交易备案" in page.locator('li[data-step="tax"]').inner_text()
    assert "萍乡市住房和城乡建设局" in page.locator('li[data-step="filing"]').inner_text()
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "bundles-status-waiting-phone.png"), full_page=True)

    # The departments decide their steps in turn; each approval releases the next.
    for step, department in (("filing", "ZJ"), ("tax", "SW"), ("registration", "BDCDJ")):
        _approve(handlers[department], Application.objects.get(bundle=item, bundle_step=step))

    page.reload()
    assert page.locator("#bundle-state").inner_text() == "已办结"
    assert [steps.nth(i).get_attribute("data-state") for i in range(3)] == ["approved"] * 3
    assert page.locator("#bundle-outcome").inner_text() == "全部环节已办结。"
    certificates = page.locator("#bundle-certificates li")
    assert certificates.count() == 3
    assert "不动产权证书" in certificates.nth(2).inner_text()
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "bundles-status-completed-phone.png"), full_page=True)

    page.goto(f"{base}/services/mine/")
    row = page.locator(f'#my-bundles tr[data-reference="{item.case.reference}"]')
    assert "不动产转移登记一件事" in row.inner_text() and "3 / 3" in row.inner_text()
    assert page.locator("#my-applications").count() == 0  # the steps are not listed again
    assert _fits(page)
    page.screenshot(path=str(screenshot_dir / "bundles-mine-phone.png"), full_page=True)
