"""Suggested replies at human pace (issue 23): an agent opens a "where is my order" ticket, reads
the intent in the Assist panel, asks for a suggestion, inserts it into the reply box, reads it and
sends it; nothing reaches the customer before the agent sends. Real uvicorn, Debian's Chromium,
the loopback Shopify of the plugin's tests, a strict CSP that nothing on the way breaks."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import API_SECRET
from tests.e2e.conftest import AGENTS, Server, _seed_agents, free_port, run, sign_in, wait_until, write_config
from tests.e2e.test_order_panel_browser import _backfill
from tests.e2e.test_shift_browser import CSP_PROBE, _csp_seen
from tests.plugins.shopify.conftest import SECRET, SHOP
from tests.plugins.shopify.fake_shopify import TOKEN, FakeShopify, make_order

IDLE = 1.5
TRACKING = "https://www.ups.com/track?tracknum=1Z6001"


@pytest.fixture(scope="module")
def shop() -> Iterator[FakeShopify]:
    fake = FakeShopify().start()
    fake.add(make_order(1001, email="mia@example.com", updated_at="2026-11-28T10:00:00Z", customer_id=71,
                        fulfilled_at="2026-11-29T08:00:00Z", tracking_url=TRACKING))
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def assist_server(tmp_path_factory: pytest.TempPathFactory, receiver, shop: FakeShopify) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("e2e-assist")
    database = f"sqlite:///{root / 'relaydesk.db'}"
    config = write_config(root / "plugins.toml", database, root / "data", receiver.url + "/replies")
    text = config.read_text().replace('enabled = ["api_channel"]', 'enabled = ["api_channel", "shopify", "assist"]')
    text = text.replace("[plugins.api_channel.accounts.main]\n", "[plugins.api_channel.accounts.main]\ntrust_contact_details = true\n")
    text += ("\n[plugins.assist]\nwismo_answer_default = \"draft\"\n\n[plugins.shopify.accounts.main]\n"
             f'shop = "{SHOP}"\naccess_token = {{ env = "TEST_SHOPIFY_TOKEN" }}\n'
             f'webhook_secret = {{ env = "TEST_SHOPIFY_SECRET" }}\nbase_url = "{shop.url}"\nmax_wait_seconds = 5\n')
    config.write_text(text)
    names = ("TEST_SHOPIFY_TOKEN", "TEST_SHOPIFY_SECRET", "RELAYDESK_E2E_SECRET", "RELAYDESK_TEST_API_SECRET")
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update({"TEST_SHOPIFY_TOKEN": TOKEN, "TEST_SHOPIFY_SECRET": SECRET,
                       "RELAYDESK_E2E_SECRET": "e2e-secret-" + "x" * 20, "RELAYDESK_TEST_API_SECRET": API_SECRET})
    srv = Server(config, free_port(), root / "server.log")
    try:
        run(_seed_agents(database, AGENTS))
        assert run(_backfill(config)) == 1
        srv.post_messages([{"id": "w-1", "sender": {"id": "mia", "name": "Mia Keller", "email": "mia@example.com"},
                            "text": "Hi, where is my order? I ordered the mug a week ago and nothing has arrived."}])
        yield srv
    finally:
        srv.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _panel(driver):
    return driver.find_element(By.CSS_SELECTOR, ".plugin-panel[data-plugin=assist]")


def test_suggested_reply_is_inserted_read_and_sent_by_the_agent(assist_server, receiver, browser_factory):
    driver = browser_factory(console=True)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})
    sign_in(driver, assist_server.url, "bo@example.com")
    driver.get(assist_server.url + "/inbox/q/open")
    link = wait_until(lambda: next(a for a in driver.find_elements(By.CSS_SELECTOR, ".ticket-row a")
                                   if "where is my order" in a.text), what="the ticket")
    time.sleep(IDLE)
    link.click()
    wait_until(lambda: "/inbox/t/" in driver.current_url, what="the ticket view")
    panel = wait_until(lambda: _panel(driver), what="the Assist panel")
    assert "Where is my order" in panel.text and "neutral" in panel.text
    assert "this channel leaves it to an agent" in panel.text
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", panel)
    time.sleep(IDLE)
    panel.find_element(By.XPATH, ".//button[contains(., 'Suggest a reply')]").click()
    preview = wait_until(lambda: _panel(driver).find_element(By.CSS_SELECTOR, ".assist-suggestion .preview"),
                         what="the suggestion")
    assert "UPS tracking number 1Z6001: " + TRACKING in preview.text
    time.sleep(IDLE)  # the agent reads it
    before = len(receiver.requests)
    preview.find_element(By.CSS_SELECTOR, "[data-insert]").click()
    area = driver.find_element(By.CSS_SELECTOR, "#reply textarea")
    wait_until(lambda: "1Z6001" in area.get_attribute("value"), what="the suggestion in the reply box")
    time.sleep(IDLE * 2)
    assert len(receiver.requests) == before  # inserted, not sent
    area.send_keys("\nBest, Bo")
    time.sleep(IDLE)
    driver.find_element(By.CSS_SELECTOR, "#reply button.primary").click()
    wait_until(lambda: any("1Z6001" in r.body.decode() and "Best, Bo" in r.body.decode()
                           for r in receiver.requests[before:]), timeout=15, what="the reply at the far end")
    assert _csp_seen(driver) == []
