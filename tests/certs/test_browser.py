"""In a real browser (Debian Chromium): a citizen opens their certificate on a phone (the red
seal, the QR code), a stranger opens the URL the QR code carries and sees it verified with the
holder masked; after revocation the same URL says revoked; a stranger cannot open the
certificate page itself."""

from __future__ import annotations

import pytest

from tests.certs.conftest import PASSWORD, birth_fields
from yiwang.certs import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _login(page, base: str, user, next_path: str) -> None:
    page.goto(f"{base}/login/?next={next_path}")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}{next_path}")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_citizen_opens_certificate_and_a_stranger_verifies_it(
    page_factory, live_server, world, screenshot_dir
):
    base = live_server.url
    certificate = services.certificate_issue(
        type_code="CSYXZM", holder=world.person.id_number, fields=birth_fields(), actor=world.handler
    )

    citizen = page_factory(viewport=PHONE, is_mobile=True, has_touch=True)
    _login(citizen, base, world.citizen, "/certs/mine/")
    card = citizen.locator(f'[data-number="{certificate.number}"]')
    assert "出生医学证明" in card.inner_text() and "有效" in card.inner_text()
    citizen.screenshot(path=str(screenshot_dir / "certs-mine-phone.png"), full_page=True)
    card.get_by_role("link", name="出生医学证明").click()
    citizen.wait_for_load_state()
    document = citizen.locator("#certificate")
    assert "李小萍" in document.inner_text() and world.person.id_number in document.inner_text()
    assert document.locator("svg.seal").is_visible() and document.locator("svg.qr").is_visible()
    assert "萍乡市卫生健康委员会" in document.locator("svg.seal").text_content()
    assert _fits(citizen)
    citizen.screenshot(path=str(screenshot_dir / "certs-certificate-phone.png"), full_page=True)
    verify_url = citizen.locator("#verify-link").get_attribute("href")
    assert verify_url.startswith(base) and certificate.token in verify_url

    # A stranger scans the QR code: no login, the holder masked.
    stranger = page_factory(viewport=PHONE, is_mobile=True, has_touch=True)
    stranger.goto(verify_url)
    assert stranger.locator("#outcome").get_attribute("data-outcome") == "valid"
    assert "真实有效" in stranger.locator("#outcome").inner_text()
    assert world.person.id_number not in stranger.content()
    assert "**********" in stranger.locator("#holder-id").inner_text()
    assert stranger.locator("#issuer").inner_text() == "萍乡市卫生健康委员会"
    assert _fits(stranger)
    stranger.screenshot(path=str(screenshot_dir / "certs-verify-stranger-phone.png"), full_page=True)

    # The stranger cannot open the certificate page itself, even logged in.
    _login(stranger, base, world.stranger, "/certs/mine/")
    assert stranger.locator("#no-certificates").is_visible()
    response = stranger.goto(f"{base}/certs/c/{certificate.number}/")
    assert response.status == 404

    # The department revokes it; the QR code's page now says so, with the reason.
    handler = page_factory()
    _login(handler, base, world.handler, f"/certs/c/{certificate.number}/")
    handler.get_by_label("原因（核验者均可看到）").fill("出生日期登记错误")
    handler.get_by_role("button", name="撤销", exact=True).click()
    handler.wait_for_load_state()
    assert handler.locator("#status-stamp").inner_text() == "已撤销"
    handler.screenshot(path=str(screenshot_dir / "certs-certificate-revoked.png"), full_page=True)
    stranger.goto(verify_url)
    assert stranger.locator("#outcome").get_attribute("data-outcome") == "revoked"
    assert "出生日期登记错误" in stranger.locator("#reasons").inner_text()
    stranger.screenshot(path=str(screenshot_dir / "certs-verify-revoked-phone.png"), full_page=True)
