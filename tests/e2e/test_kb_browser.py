"""The knowledge base at human pace (issue 22): an admin writes an article in the inbox's rich-text
editor (Quill from npm), publishes it in English, adds and publishes a Chinese version; a customer
finds it in the help center by an English and by a Chinese word and reads it; an agent answering a
shipping question gets the shipping article suggested and inserts its passage into the reply.
Real uvicorn, Debian's Chromium, and no Content-Security-Policy violation on the way."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.conftest import API_SECRET
from tests.e2e.conftest import AGENTS, Server, _seed_agents, free_port, run, sign_in, wait_until, write_config
from tests.e2e.test_shift_browser import CSP_PROBE, _csp_seen

IDLE = 0.6


async def _brand(database: str) -> None:
    from core import db
    from plugins.kb import store, theme

    await db.connect(database, pool_size=2)
    try:
        await theme.save_brand("shop", name="Tea Shop", languages=["en", "zh"], primary_color="#0b6e4f")
        for slug, title, body in [
                ("shipping-times", "How long does shipping take?",
                 "<p>Parcels leave within 24 hours and arrive in 7 to 12 days; tracking shows after 48 hours.</p>"),
                ("sizes", "Size guide", "<p>Our shoes run small: choose one size up.</p>"
                 "<table><tbody><tr><th>EU</th><td>38</td></tr></tbody></table>")]:
            article = await store.save_article(article_id=None, slug=slug, category=None, visibility="public",
                                               brands=[], tags=[])
            await store.save_translation(article, "en", title=title, body_html=body, status="published", author="e2e")
    finally:
        await db.disconnect()


@pytest.fixture(scope="module")
def kb_server(tmp_path_factory: pytest.TempPathFactory, receiver) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("e2e-kb")
    database = f"sqlite:///{root / 'relaydesk.db'}"
    config = write_config(root / "plugins.toml", database, root / "data", receiver.url + "/replies")
    config.write_text(config.read_text().replace('enabled = ["api_channel"]', 'enabled = ["api_channel", "kb"]'))
    names = ("RELAYDESK_E2E_SECRET", "RELAYDESK_TEST_API_SECRET")
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update({"RELAYDESK_E2E_SECRET": "e2e-secret-" + "x" * 20, "RELAYDESK_TEST_API_SECRET": API_SECRET})
    srv = Server(config, free_port(), root / "server.log")
    try:
        run(_seed_agents(database, AGENTS))
        run(_brand(database))
        yield srv
    finally:
        srv.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _type(element, text: str) -> None:
    for word in text.split(" "):
        element.send_keys(word + " ")
        time.sleep(0.05)


def _write(driver, title: str, body: str, slug: str | None = None) -> None:
    editor = wait_until(lambda: driver.find_element(By.CSS_SELECTOR, ".kb-quill .ql-editor"), what="the rich-text editor")
    _type(driver.find_element(By.NAME, "title"), title)
    if slug:
        driver.find_element(By.NAME, "slug").send_keys(slug)
    driver.find_element(By.NAME, "tags").send_keys("customs, shipping")
    time.sleep(IDLE)
    editor.click()
    _type(editor, body)
    driver.find_element(By.CSS_SELECTOR, ".ql-toolbar .ql-bold").click()  # the toolbar works
    _type(editor, "Bold note.")
    Select(driver.find_element(By.NAME, "status")).select_by_value("published")
    time.sleep(IDLE)
    driver.find_element(By.CSS_SELECTOR, "#kb-editor button.primary").click()


def test_publish_in_two_languages_and_find_it(kb_server, browser_factory):
    base = kb_server.url
    admin = browser_factory(console=True)
    admin.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})
    sign_in(admin, base, "ann@example.com")
    admin.get(base + "/inbox/kb")
    admin.find_element(By.LINK_TEXT, "New article").click()
    _write(admin, "Customs duties", "Import duties are paid by the buyer when the parcel arrives.", "customs-duties")
    wait_until(lambda: "/inbox/kb/articles/" in admin.current_url and "lang=en" in admin.current_url,
               what="the saved article")
    assert "Revisions" in admin.page_source and "(current)" in admin.page_source
    time.sleep(IDLE)

    adder = admin.find_element(By.CSS_SELECTOR, "input[name=lang]")
    adder.send_keys("zh")
    adder.submit()
    wait_until(lambda: "lang=zh" in admin.current_url, what="the Chinese editor")
    _write(admin, "海关关税", "进口关税由买家在包裹到达时支付。")
    wait_until(lambda: "lang=zh" in admin.current_url and "Revisions" in admin.page_source, what="the saved Chinese text")
    assert _csp_seen(admin) == [], _csp_seen(admin)

    customer = browser_factory(language="zh-CN", console=True)
    customer.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})
    customer.get(base + "/help/shop")  # Accept-Language picks the Chinese help center
    wait_until(lambda: customer.current_url.endswith("/help/shop/zh/"), what="the Chinese help center")
    box = customer.find_element(By.NAME, "q")
    _type(box, "关税")
    box.submit()
    link = wait_until(lambda: customer.find_element(By.LINK_TEXT, "海关关税"), what="the Chinese result")
    time.sleep(IDLE)
    link.click()
    wait_until(lambda: "进口关税由买家在包裹到达时支付。" in customer.page_source, what="the Chinese article")
    assert customer.find_element(By.CSS_SELECTOR, "article strong").text.strip() == "Bold note."
    english = customer.find_element(By.CSS_SELECTOR, "nav.langs a[hreflang=en]")
    time.sleep(IDLE)
    english.click()
    wait_until(lambda: "Import duties are paid by the buyer" in customer.page_source, what="the English version")

    box = customer.find_element(By.NAME, "q")
    box.clear()
    _type(box, "buyer")
    box.submit()
    wait_until(lambda: customer.find_element(By.LINK_TEXT, "Customs duties"), what="the English result").click()
    wait_until(lambda: "/help/shop/en/articles/" in customer.current_url, what="the English article page")
    customer.find_element(By.CSS_SELECTOR, ".vote button[value=yes]").click()
    wait_until(lambda: "Thanks for your feedback!" in customer.page_source, what="the vote's thanks")
    assert _csp_seen(customer) == [], _csp_seen(customer)


def test_reply_box_suggests_the_shipping_article(kb_server, browser_factory):
    kb_server.post_messages([{"id": "ship-1", "sender": {"id": "ella", "name": "Ella Stone"},
                              "text": "Hello, my parcel has not arrived yet and the tracking shows nothing. "
                                      "How long does shipping take to Germany?"}])
    driver = browser_factory(console=True)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})
    sign_in(driver, kb_server.url, "bo@example.com")
    driver.get(kb_server.url + "/inbox/q/open")
    wait_until(lambda: next(a for a in driver.find_elements(By.CSS_SELECTOR, ".ticket-row a")
                            if "parcel" in a.text or "Ella" in a.text), what="the shipping ticket").click()
    panel = wait_until(lambda: driver.find_element(By.CSS_SELECTOR, ".plugin-panel[data-plugin=kb]"),
                       what="the help articles panel")
    first = panel.find_elements(By.CSS_SELECTOR, ".kb-suggestions > li")[0]
    assert "How long does shipping take?" in first.text
    time.sleep(IDLE)
    first.find_element(By.CSS_SELECTOR, "button[value=passage]").click()
    insert = wait_until(lambda: first.find_element(By.CSS_SELECTOR, "[data-insert]"), what="the passage preview")
    time.sleep(IDLE)
    insert.click()
    area = driver.find_element(By.CSS_SELECTOR, "#reply textarea")
    wait_until(lambda: "Parcels leave within 24 hours" in area.get_attribute("value"), what="the passage in the reply")
    assert _csp_seen(driver) == [], _csp_seen(driver)


def test_a_body_with_a_table_is_edited_as_html_and_keeps_it(kb_server, browser_factory):
    driver = browser_factory()
    sign_in(driver, kb_server.url, "ann@example.com")
    driver.get(kb_server.url + "/inbox/kb")
    driver.find_element(By.LINK_TEXT, "Size guide").click()
    area = wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "textarea[data-kb-editor]"), what="the editor")
    wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "[data-kb-plain-note]").is_displayed(),
               what="the note that the text is edited as HTML")
    assert area.is_displayed() and not driver.find_element(By.CSS_SELECTOR, ".kb-quill-wrap").is_displayed()
    area.send_keys(" ")
    time.sleep(IDLE)
    driver.find_element(By.CSS_SELECTOR, "#kb-editor button.primary").click()
    wait_until(lambda: "lang=en" in driver.current_url and "Revisions" in driver.page_source, what="the saved text")
    page = httpx.get(kb_server.url + "/help/shop/en/search", params={"q": "size guide"})
    link = page.text.split('<ol class="results"><li><a href="', 1)[1].split('"', 1)[0]
    assert "<td>38</td>" in httpx.get(kb_server.url + link).text
