"""`relaydesk demo` in Chromium at human pace: a newcomer opens an Amazon buyer's ticket, asks which
messages Amazon allows for the order, writes one, reviews it and sends it; then refunds a line of a
Shopify order from another ticket. Everything answers from the demo's own loopback platforms."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By

from plugins.demo.stores import AMAZON_BUYERS
from tests.e2e.conftest import free_port, wait_until
from tests.e2e.test_shift_browser import CSP_PROBE, _csp_seen

ROOT = Path(__file__).resolve().parents[2]
IDLE = 2.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    log = (root / "demo.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "core.cli", "demo", "--port", str(port), "--dir", str(root / "d")],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 40
        while True:
            assert process.poll() is None and time.time() < deadline, (root / "demo.log").read_text()
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _sign_in(driver, base: str) -> None:
    driver.get(base + "/login")
    driver.find_element(By.NAME, "email").send_keys("admin@demo.relaydesk")
    driver.find_element(By.NAME, "password").send_keys("demo")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(lambda: "/inbox/q/" in driver.current_url, what="the inbox after sign-in")


def _open(driver, base: str, words: str) -> None:
    driver.get(base + "/inbox/q/open")
    link = wait_until(lambda: next(a for a in driver.find_elements(By.CSS_SELECTOR, ".ticket-row a") if words in a.text),
                      what=f"the ticket '{words}'")
    link.click()
    wait_until(lambda: "/inbox/t/" in driver.current_url, what="the ticket view")


def test_a_newcomer_messages_an_amazon_buyer_and_refunds_a_shopify_line(demo, browser_factory):
    driver = browser_factory(console=True)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})
    _sign_in(driver, demo)
    buyer = AMAZON_BUYERS[0]
    _open(driver, demo, buyer["name"])
    panel = driver.find_element(By.CSS_SELECTOR, ".plugin-panel[data-plugin=amazon]")
    assert buyer["order"] in panel.text
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", panel)
    time.sleep(IDLE)
    panel.find_element(By.XPATH, ".//button[contains(., 'Message the buyer')]").click()
    summaries = wait_until(lambda: panel.find_elements(By.CSS_SELECTOR, ".amazon-actions summary"),
                           what="the messages Amazon allows")
    assert [s.text for s in summaries] == ["Confirm delivery details", "Report an unexpected problem",
                                           "Ask the buyer to remove negative feedback"]
    assert "legalDisclosure" in panel.text  # listed by Amazon, but it needs an attachment
    summaries[0].click()
    time.sleep(IDLE)
    box = panel.find_element(By.CSS_SELECTOR, ".amazon-actions details[open] textarea")
    for part in ("Your parcel is with DHL ", "and arrives on Friday ", "between 8 and 12."):
        box.send_keys(part)
        time.sleep(IDLE / 2)
    panel.find_element(By.XPATH, ".//details[@open]//button[contains(., 'Review the message')]").click()
    confirm = wait_until(lambda: panel.find_element(By.CSS_SELECTOR, ".order-confirm"), what="the review")
    assert "Send “Confirm delivery details” to the buyer of order" in confirm.text
    assert "Your parcel is with DHL and arrives on Friday between 8 and 12." in confirm.text
    time.sleep(IDLE)
    confirm.find_element(By.XPATH, ".//button[contains(., 'Send to the buyer')]").click()
    wait_until(lambda: "Amazon accepted “Confirm delivery details”" in panel.text, what="Amazon's acceptance")

    _open(driver, demo, "#100")  # a demo customer asking about an order of the demo's Shopify store
    panel = driver.find_element(By.CSS_SELECTOR, ".plugin-panel[data-plugin=shopify]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", panel)
    panel.find_element(By.XPATH, ".//summary[contains(., 'Refund')]").click()
    time.sleep(IDLE)
    panel.find_element(By.CSS_SELECTOR, "label.refund-line input[type=checkbox]").click()
    time.sleep(IDLE)
    panel.find_element(By.XPATH, ".//button[contains(., 'Calculate the refund')]").click()
    confirm = wait_until(lambda: panel.find_element(By.CSS_SELECTOR, ".order-confirm"), what="the refund's amount")
    assert "EUR on order #10" in confirm.text
    amount = confirm.find_element(By.CSS_SELECTOR, "button.primary").text  # "Refund 89.00 EUR"
    time.sleep(IDLE)
    confirm.find_element(By.CSS_SELECTOR, "button.primary").click()
    panel = driver.find_element(By.CSS_SELECTOR, ".plugin-panel[data-plugin=shopify]")
    wait_until(lambda: "Shopify refunded " + amount.removeprefix("Refund ") in panel.text, what="the refund's result")
    assert _csp_seen(driver) == []
