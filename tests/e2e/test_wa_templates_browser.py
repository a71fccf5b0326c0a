"""A WhatsApp ticket whose 24-hour window has closed, answered with an approved template in Chromium
at human pace (issue 15): the reply box says the window is closed, the agent picks a template,
types its variables with pauses, watches the preview, is told when a variable is empty, sends;
the loopback Graph API receives the template message and the timeline shows the filled text."""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import timedelta
from typing import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.e2e.conftest import AGENTS, Server, _seed_agents, free_port, run, sign_in, wait_until
from tests.plugins.whatsapp.graph_loopback import GraphLoopback
from tests.plugins.whatsapp.wa_helpers import APP_SECRET, PHONE_ID, TOKEN, VERIFY_TOKEN, WABA_ID, envelope, sign, text_message

IDLE = 2.0
ENV = {"RD_E2E_WA_TOKEN": TOKEN, "RD_E2E_WA_SECRET": APP_SECRET, "RD_E2E_WA_VERIFY": VERIFY_TOKEN}
CSP_PROBE = """
document.addEventListener('securitypolicyviolation', (e) => {
  const seen = JSON.parse(sessionStorage.getItem('csp') || '[]');
  seen.push(e.violatedDirective + ' ' + e.blockedURI);
  sessionStorage.setItem('csp', JSON.stringify(seen));
});
"""


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphLoopback]:
    server = GraphLoopback(token=TOKEN).start()
    server.templates = [
        {"name": "order_update", "language": "de", "status": "APPROVED", "category": "UTILITY", "id": "1",
         "components": [{"type": "BODY", "text": "Hallo {{1}}, Ihre Bestellung {{2}} ist unterwegs."}]},
        {"name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY", "id": "2",
         "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.",
                         "example": {"body_text": [["Pablo", "860198-230332"]]}}]},
        {"name": "spring_sale", "language": "en_US", "status": "REJECTED", "category": "MARKETING", "id": "3",
         "components": [{"type": "BODY", "text": "Sale!"}]},
    ]
    yield server
    server.stop()


@pytest.fixture(scope="module")
def wa_server(tmp_path_factory: pytest.TempPathFactory, graph: GraphLoopback) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("e2e-wa")
    database = f"sqlite:///{root / 'relaydesk.db'}"
    config = root / "plugins.toml"
    config.write_text("\n".join([
        "[relaydesk]", f'database = "{database}"', f'data_dir = "{root / "data"}"',
        'secret = { env = "RELAYDESK_E2E_SECRET" }', f'queue_name = "e2e-wa-{uuid.uuid4().hex[:8]}"',
        'outbound_allowlist = ["127.0.0.1"]', "", "[plugins]", 'enabled = ["whatsapp"]', "",
        "[plugins.whatsapp.accounts.main]", f'phone_number_id = "{PHONE_ID}"', f'business_account_id = "{WABA_ID}"',
        'access_token = { env = "RD_E2E_WA_TOKEN" }', 'app_secret = { env = "RD_E2E_WA_SECRET" }',
        'verify_token = { env = "RD_E2E_WA_VERIFY" }', f'base_url = "{graph.url}"', "",
    ]), encoding="utf-8")
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)
    try:
        server = Server(config, free_port(), root / "server.log")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    server.database = database
    run(_seed_agents(database, AGENTS))
    yield server
    server.stop()


def _closed_whatsapp_ticket(server: Server) -> int:
    """A customer wrote on WhatsApp 30 hours ago (the webhook now, its time moved back in the database)."""
    wamid = f"wamid.E2E{uuid.uuid4().hex[:8]}"
    body = json.dumps(envelope([text_message(wamid, text="Is my order on its way?")])).encode()
    res = httpx.post(server.url + "/hooks/whatsapp/main", content=body, headers=sign(body), timeout=10)
    assert res.status_code == 200, res.text
    ticket_id = res.json()["messages"][0]["ticket_id"]

    async def age() -> None:
        from core import clock, db
        from core.tables import Ticket

        await db.connect(server.database, pool_size=1)
        try:
            await Ticket.update({Ticket.last_customer_message_at: clock.now() - timedelta(hours=30),
                                 Ticket.language: "en"}).where(Ticket.id == ticket_id)
        finally:
            await db.disconnect()
    run(age())
    return ticket_id


def _type_slowly(element, text: str) -> None:
    half = len(text) // 2
    element.send_keys(text[:half])
    time.sleep(IDLE)  # the agent stops to look something up
    element.send_keys(text[half:])


def _preview(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "#tpl-preview .preview-text").text


def test_an_agent_answers_a_closed_whatsapp_window_with_a_filled_template(wa_server, graph, browser_factory):
    ticket = _closed_whatsapp_ticket(wa_server)
    driver = browser_factory(console=True)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})
    sign_in(driver, wa_server.url, "bo@example.com")
    driver.get(f"{wa_server.url}/inbox/t/{ticket}")
    reply_box = driver.find_element(By.ID, "reply").text
    assert "24-hour customer-service window is closed" in reply_box
    panel = driver.find_element(By.ID, "channel-templates")
    assert "Send an approved template" in panel.text
    picker = Select(panel.find_element(By.NAME, "template"))
    labels = [o.text for o in picker.options]
    assert labels[1].startswith("order_update · en_US") and labels[2].startswith("order_update · de")
    assert not any("spring_sale" in label for label in labels)  # rejected: never offered
    time.sleep(IDLE / 2)  # reads the list
    picker.select_by_value("order_update:en_US")
    first = wait_until(lambda: driver.find_element(By.NAME, "var_1"), what="the template's variables")
    assert first.get_attribute("placeholder") == "Pablo"  # Meta's example value as the hint
    assert _preview(driver) == "Hi {{1}}, your order {{2}} has shipped."
    first.click()
    _type_slowly(first, "Dana")
    wait_until(lambda: _preview(driver) == "Hi Dana, your order {{2}} has shipped.", what="the preview with the name")
    time.sleep(IDLE)
    # sending with the order number still empty is refused with a clear message, and nothing goes out
    driver.find_element(By.CSS_SELECTOR, "#channel-templates button[type=submit]").click()
    wait_until(lambda: "fill in variable {{2}}" in driver.find_element(By.ID, "tpl-problems").text,
               what="the refusal of an empty variable")
    assert graph.sends() == []
    second = driver.find_element(By.NAME, "var_2")
    second.click()
    _type_slowly(second, "A-1042")
    wait_until(lambda: _preview(driver) == "Hi Dana, your order A-1042 has shipped.", what="the filled preview")
    assert driver.find_element(By.ID, "tpl-problems").text == ""  # the refusal went away as the agent typed
    time.sleep(IDLE)
    driver.find_element(By.CSS_SELECTOR, "#channel-templates button[type=submit]").click()
    wait_until(lambda: graph.sends(), what="the template at the loopback Graph API")
    [call] = graph.sends()
    assert call.path == f"/v21.0/{PHONE_ID}/messages"
    assert call.json() == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "972987654321",
                           "type": "template", "template": {"name": "order_update", "language": {"code": "en_US"},
                                                            "components": [{"type": "body", "parameters": [
                                                                {"type": "text", "text": "Dana"},
                                                                {"type": "text", "text": "A-1042"}]}]}}
    wait_until(lambda: "Hi Dana, your order A-1042 has shipped." in driver.find_element(By.ID, "timeline").text,
               what="the filled text in the timeline")
    wait_until(lambda: not driver.find_elements(By.NAME, "var_1"), what="the template panel emptied after sending")
    # refresh asks Graph again and keeps the panel working
    listed = len([c for c in graph.calls if c.path.endswith("/message_templates")])
    driver.find_element(By.CSS_SELECTOR, "#channel-templates .tpl-refresh").click()
    wait_until(lambda: len([c for c in graph.calls if c.path.endswith("/message_templates")]) == listed + 1,
               what="the refresh reaching Graph")
    wait_until(lambda: driver.find_element(By.NAME, "template"), what="the refreshed panel")
    assert json.loads(driver.execute_script("return sessionStorage.getItem('csp')") or "[]") == []
    assert [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]] == []
