"""The order panel at human pace (issue 15): an agent refunds one line of a Shopify order from the
ticket's side panel, reads Shopify's amount in the confirmation, confirms and sees the result; then
cancels the order; a Chinese agent reads Shopify's refusal in Chinese; a read-only agent sees no
money buttons. Real uvicorn, Debian's Chromium, the loopback Shopify of the plugin's tests, a strict
CSP that nothing on the way breaks. Also refreshes docs/screenshots/order-panel-*.png."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.conftest import API_SECRET
from tests.e2e.conftest import AGENTS, Server, _seed_agents, free_port, run, sign_in, wait_until, write_config
from tests.e2e.test_shift_browser import CSP_PROBE, _csp_seen
from tests.plugins.shopify.conftest import SECRET, SHOP
from tests.plugins.shopify.fake_shopify import TOKEN, FakeShopify, make_order, money

IDLE = 2.0
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _order(number: int, email: str) -> dict:
    order = make_order(number, email=email, updated_at="2026-11-22T10:00:00Z", total="64.00", customer_id=70 + number)
    order["lineItems"]["nodes"][0]["originalUnitPriceSet"] = money("25.00")
    order["lineItems"]["nodes"].append({"id": f"gid://shopify/LineItem/{5000 + number}8", "title": "Teapot",
                                        "variantTitle": None, "sku": "TEA-1", "quantity": 2,
                                        "originalUnitPriceSet": money("19.50")})
    return order


async def _backfill(config: Path) -> int:
    from core.config import load_settings
    from core.desk import Desk
    from plugins.shopify import state
    from plugins.shopify.backfill import backfill

    desk = Desk(load_settings(config))
    await desk.start(run_jobs=False)
    try:
        account = desk.registry.account("shopify", "main")
        return await backfill(account, state.client_for(account), 30)
    finally:
        await desk.stop()


@pytest.fixture(scope="module")
def shop() -> Iterator[FakeShopify]:
    fake = FakeShopify().start()
    fake.add(_order(1001, "mia@example.com"))
    fake.add(_order(1002, "wei@example.cn"))
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def store_server(tmp_path_factory: pytest.TempPathFactory, receiver, shop: FakeShopify) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("e2e-orders")
    database = f"sqlite:///{root / 'relaydesk.db'}"
    config = write_config(root / "plugins.toml", database, root / "data", receiver.url + "/replies")
    text = config.read_text().replace('enabled = ["api_channel"]', 'enabled = ["api_channel", "shopify"]')
    # the shop's own contact form posts verified emails: the ticket's customer is the order's
    text = text.replace("[plugins.api_channel.accounts.main]\n", "[plugins.api_channel.accounts.main]\ntrust_contact_details = true\n")
    text += ("\n[plugins.shopify]\nmoney_actions_role = \"agent\"\n\n[plugins.shopify.accounts.main]\n"
             f'shop = "{SHOP}"\naccess_token = {{ env = "TEST_SHOPIFY_TOKEN" }}\n'
             f'webhook_secret = {{ env = "TEST_SHOPIFY_SECRET" }}\nbase_url = "{shop.url}"\nmax_wait_seconds = 5\n')
    config.write_text(text)
    names = ("TEST_SHOPIFY_TOKEN", "TEST_SHOPIFY_SECRET", "RELAYDESK_E2E_SECRET", "RELAYDESK_TEST_API_SECRET")
    saved = {k: os.environ.get(k) for k in names}
    # the server process and this one (which fills the order cache) read the same secrets
    os.environ.update({"TEST_SHOPIFY_TOKEN": TOKEN, "TEST_SHOPIFY_SECRET": SECRET,
                       "RELAYDESK_E2E_SECRET": "e2e-secret-" + "x" * 20, "RELAYDESK_TEST_API_SECRET": API_SECRET})
    srv = Server(config, free_port(), root / "server.log")
    try:
        run(_seed_agents(database, AGENTS))
        srv.post_messages([
            {"id": "o-1", "sender": {"id": "mia", "name": "Mia Keller", "email": "mia@example.com"},
             "text": "Hi, order #1001: one of the two teapots arrived cracked. Can you refund it?"},
            {"id": "o-2", "sender": {"id": "wei", "name": "王伟", "email": "wei@example.cn"},
             "text": "你好，订单 #1002 的茶壶碎了一个，可以退款吗？"}])
        assert run(_backfill(config)) == 2
        yield srv
    finally:
        srv.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _ticket_with(driver, base: str, words: str) -> None:
    driver.get(base + "/inbox/q/open")
    link = wait_until(lambda: next(a for a in driver.find_elements(By.CSS_SELECTOR, ".ticket-row a")
                                   if words in a.text), what=f"the ticket '{words}'")
    link.click()
    wait_until(lambda: "/inbox/t/" in driver.current_url, what="the ticket view")


def _panel(driver):
    return driver.find_element(By.CSS_SELECTOR, ".plugin-panel[data-plugin=shopify]")


def _line_box(driver, title: str):
    return next(label for label in _panel(driver).find_elements(By.CSS_SELECTOR, "label.refund-line")
                if title in label.text)


def _requests(shop: FakeShopify, operation: str) -> list[dict]:
    return [r for r in shop.requests if r["operation"] == operation]


def test_refund_one_line_then_cancel_from_the_panel(store_server, shop, browser_factory):
    driver = browser_factory(console=True)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})
    sign_in(driver, store_server.url, "ann@example.com")
    _ticket_with(driver, store_server.url, "teapots arrived cracked")
    panel = _panel(driver)
    assert "#1001" in panel.text and "Teapot" in panel.text and "another customer" not in panel.text
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", panel)
    panel.find_element(By.XPATH, ".//summary[contains(., 'Refund')]").click()
    time.sleep(IDLE)  # the agent reads the lines
    teapot = _line_box(driver, "Teapot")
    teapot.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    quantity = teapot.find_element(By.CSS_SELECTOR, "input[type=number]")
    quantity.clear()
    time.sleep(IDLE / 2)
    quantity.send_keys("1")
    time.sleep(IDLE)
    form = panel.find_element(By.CSS_SELECTOR, "form[hx-post$='/refund/preview']")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    details = form.find_element(By.XPATH, "./ancestor::details")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", details)
    details.screenshot(str(SCREENSHOTS / "order-panel-refund-form-en.png"))
    assert form.find_element(By.NAME, "restock").is_selected() and form.find_element(By.NAME, "notify").is_selected()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    confirm = wait_until(lambda: _panel(driver).find_element(By.CSS_SELECTOR, ".order-confirm"), what="the confirmation")
    assert "Refund 19.50 USD on order #1001?" in confirm.text and "1 × Teapot" in confirm.text
    assert "Restock: yes" in confirm.text and "Email the customer: yes" in confirm.text
    assert not _requests(shop, "RelaydeskRefundCreate")  # nothing moved yet
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _panel(driver).screenshot(str(SCREENSHOTS / "order-panel-en.png"))
    time.sleep(IDLE)  # the agent reads the amount
    confirm.find_element(By.XPATH, ".//button[contains(., 'Refund 19.50 USD')]").click()
    wait_until(lambda: "Shopify refunded 19.50 USD on order #1001." in _panel(driver).text, what="the refund's result")
    [created] = _requests(shop, "RelaydeskRefundCreate")
    sent = created["variables"]["input"]
    assert sent["refundLineItems"] == [{"lineItemId": "gid://shopify/LineItem/60018", "quantity": 1,
                                        "restockType": "RETURN"}]
    assert sent["notify"] is True and sent["transactions"][0]["amount"] == "19.50"
    assert "Refund 19.50 USD" in _panel(driver).text  # the refreshed order lists the refund

    time.sleep(IDLE)
    panel = _panel(driver)
    panel.find_element(By.XPATH, ".//summary[contains(., 'Cancel order')]").click()
    time.sleep(IDLE)
    Select(panel.find_element(By.NAME, "reason")).select_by_value("INVENTORY")
    notify = panel.find_element(By.CSS_SELECTOR, "form[hx-post$='/cancel/preview'] input[name=notify]")
    notify.click()  # the customer was told by mail already
    time.sleep(IDLE)
    panel.find_element(By.XPATH, ".//button[contains(., 'Review the cancellation')]").click()
    confirm = wait_until(lambda: _panel(driver).find_element(By.CSS_SELECTOR, ".order-confirm"), what="the cancellation")
    assert "Cancel order #1001 and refund 44.50 USD?" in confirm.text and "Items were not available" in confirm.text
    time.sleep(IDLE)
    confirm.find_element(By.XPATH, ".//button[contains(., 'Cancel order #1001')]").click()
    wait_until(lambda: "Shopify is cancelling order #1001" in _panel(driver).text, what="the cancellation's result")
    [cancel] = _requests(shop, "RelaydeskOrderCancel")
    assert cancel["variables"] == {"orderId": "gid://shopify/Order/6001", "reason": "INVENTORY", "refund": True,
                                   "restock": True, "notifyCustomer": False, "staffNote": None}
    assert "Cancel order…" not in _panel(driver).text
    assert _csp_seen(driver) == []


def test_a_chinese_agent_reads_shopifys_refusal_in_chinese(store_server, shop, browser_factory):
    driver = browser_factory("zh", console=True)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})
    sign_in(driver, store_server.url, "li@example.com")
    _ticket_with(driver, store_server.url, "茶壶碎了")
    panel = _panel(driver)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", panel)
    panel.find_element(By.XPATH, ".//summary[contains(., '退款')]").click()
    time.sleep(IDLE)
    _line_box(driver, "Teapot").find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    time.sleep(IDLE)
    panel.find_element(By.XPATH, ".//button[contains(., '计算退款金额')]").click()
    confirm = wait_until(lambda: _panel(driver).find_element(By.CSS_SELECTOR, ".order-confirm"), what="the confirmation")
    assert "为订单 #1002 退款 39.00 USD？" in confirm.text
    _panel(driver).screenshot(str(SCREENSHOTS / "order-panel-zh.png"))
    shop.user_errors["refundCreate"] = [{"field": ["transactions", "0", "gateway"],
                                         "message": "The payment gateway is temporarily unavailable."}]
    time.sleep(IDLE)
    confirm.find_element(By.XPATH, ".//button[contains(., '退款 39.00 USD')]").click()
    wait_until(lambda: "Shopify 拒绝了退款：The payment gateway is temporarily unavailable." in _panel(driver).text,
               what="Shopify's refusal in Chinese")
    assert _csp_seen(driver) == []


def test_a_read_only_agent_sees_the_order_but_no_money_buttons(store_server, browser_factory):
    driver = browser_factory()
    sign_in(driver, store_server.url, "ro@example.com")
    _ticket_with(driver, store_server.url, "茶壶碎了")
    panel = _panel(driver)
    assert "#1002" in panel.text and "Teapot" in panel.text
    assert not panel.find_elements(By.CSS_SELECTOR, "form, button, details")
