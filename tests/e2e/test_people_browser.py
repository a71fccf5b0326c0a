"""Inviting an agent and signing in through the link (issue 19 item 1), at human pace in Chromium:
the admin invites a colleague on the Agents page, the colleague (a Chinese browser) opens the
link, mistypes the repeat, corrects it after a pause and lands in the inbox; the spent link says so;
a deactivation by the admin ends the colleague's open page's session at once."""

from __future__ import annotations

import time
import uuid

from selenium.webdriver.common.by import By

from tests.e2e.conftest import sign_in, wait_until

PAUSE = 2.0


def _type(element, text: str) -> None:
    for chunk in (text[: len(text) // 2], text[len(text) // 2:]):
        element.send_keys(chunk)
        time.sleep(0.4)


def test_an_invited_colleague_sets_a_password_and_works_until_deactivated(server, browser_factory):
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    admin = browser_factory()
    sign_in(admin, server.url, "ann@example.com")
    admin.find_element(By.LINK_TEXT, "Agents").click()
    wait_until(lambda: "/inbox/admin/agents" in admin.current_url, what="the agents page")
    form = admin.find_element(By.CSS_SELECTOR, "form[action='/inbox/admin/agents']")
    _type(form.find_element(By.NAME, "name"), "Zhang Wei")
    time.sleep(PAUSE)
    _type(form.find_element(By.NAME, "email"), email)
    form.find_element(By.CSS_SELECTOR, "button.primary").click()
    link = wait_until(lambda: admin.find_element(By.CSS_SELECTOR, "#password-link input").get_attribute("value"),
                      what="the invitation link")
    assert admin.find_element(By.CSS_SELECTOR, f"tr[data-agent='{email}']").text.count("Invited") == 1
    path = "/password/" + link.rsplit("/password/", 1)[1]

    colleague = browser_factory(language="zh-CN")
    colleague.get(server.url + path)
    assert "欢迎，Zhang Wei" in colleague.find_element(By.TAG_NAME, "main").text
    _type(colleague.find_element(By.NAME, "password"), "长城 passphrase 2026")
    time.sleep(PAUSE)
    _type(colleague.find_element(By.NAME, "repeat"), "长城 passphrase 2025")
    colleague.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(lambda: "两次输入的密码不一致" in colleague.find_element(By.CSS_SELECTOR, ".flash.error").text,
               what="the mismatch said in Chinese")
    _type(colleague.find_element(By.NAME, "password"), "长城 passphrase 2026")
    time.sleep(PAUSE)
    _type(colleague.find_element(By.NAME, "repeat"), "长城 passphrase 2026")
    colleague.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(lambda: "/inbox/q/" in colleague.current_url, what="the inbox after setting the password")

    other = browser_factory(language="zh-CN")
    other.get(server.url + path)
    assert "此链接已被使用" in other.find_element(By.CSS_SELECTOR, ".flash.error").text

    admin.refresh()
    row = admin.find_element(By.CSS_SELECTOR, f"tr[data-agent='{email}']")
    assert "Active" in row.text
    row.find_element(By.CSS_SELECTOR, "button[value=deactivate]").click()
    wait_until(lambda: "Deactivated" in admin.find_element(By.CSS_SELECTOR, f"tr[data-agent='{email}']").text,
               what="the row saying deactivated")
    colleague.refresh()
    wait_until(lambda: "/login" in colleague.current_url, what="the colleague signed out at once")
