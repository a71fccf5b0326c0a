"""The inbox in a real browser (Debian's Chromium, headless) against a real server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.conftest import sign_in, sse_connected, wait_until

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _msg(text: str, sender: str = "cust-e2e", **extra):
    body = {"id": f"e2e-{uuid.uuid4().hex[:10]}", "sender": {"id": sender, "name": extra.pop("name", "Customer")},
            "text": text}
    body.update(extra)
    return body


def _open_ticket_with(driver, text: str) -> None:
    row = wait_until(lambda: [r for r in driver.find_elements(By.CSS_SELECTOR, ".ticket-row") if text in r.text],
                     what=f"a queue row with {text!r}")[0]
    row.find_element(By.CSS_SELECTOR, "a.row-link").click()
    wait_until(lambda: "/inbox/t/" in driver.current_url, what="the ticket view")


def test_sign_in_open_ticket_reply_and_see_it_delivered(server, receiver, browser_factory):
    server.post_messages([_msg("Where is my order #5521? 我的订单在哪里？", sender="buyer-1", name="Zhou Min",
                               order_ids=["5521"])])
    driver = browser_factory()
    sign_in(driver, server.url, "bo@example.com")
    _open_ticket_with(driver, "Where is my order")
    wait_until(lambda: sse_connected(driver), what="the live stream")
    box = driver.find_element(By.CSS_SELECTOR, "#reply textarea")
    box.send_keys("Your parcel left our warehouse today. 今天已发货。")
    driver.find_element(By.CSS_SELECTOR, "#reply button[type=submit]").click()
    # the channel delivers it to the far end...
    delivered = wait_until(lambda: [r for r in receiver.requests if r.path == "/replies"
                                    and "今天已发货" in r.json()["text"]], what="the reply at the far end")
    assert delivered[0].json()["recipient"] == "buyer-1"
    # ...and the ticket view shows it delivered, without a reload
    wait_until(lambda: any("今天已发货" in m.text and "Sent" in m.text
                           for m in driver.find_elements(By.CSS_SELECTOR, "article.msg.outbound")),
               what="the reply marked sent in the timeline")


def test_message_arrives_live_in_a_second_session(server, browser_factory):
    first, second = browser_factory(), browser_factory()
    sign_in(first, server.url, "ann@example.com")
    sign_in(second, server.url, "bo@example.com")
    server.post_messages([_msg("first message of a live thread", sender="live-1", thread_id="live-thread")])
    first.get(server.url + "/inbox/q/open")
    _open_ticket_with(first, "first message of a live thread")
    second.get(server.url + "/inbox/q/open")
    wait_until(lambda: sse_connected(first) and sse_connected(second), what="both live streams")
    server.post_messages([_msg("a follow-up that arrives live", sender="live-1", thread_id="live-thread"),
                          _msg("a brand-new ticket arrives live", sender="live-2")])
    wait_until(lambda: "a follow-up that arrives live" in first.find_element(By.ID, "timeline").text,
               what="the new message in the open ticket")
    wait_until(lambda: "a brand-new ticket arrives live" in second.find_element(By.ID, "ticket-list").text,
               what="the new ticket in the other agent's queue")


def test_a_notification_shows_in_the_header_without_a_reload(server, browser_factory):
    driver = browser_factory()
    sign_in(driver, server.url, "ann@example.com")
    driver.get(server.url + "/inbox/admin/rules")
    form = driver.find_element(By.ID, "rule-form")
    form.find_element(By.NAME, "name").send_keys("Tell supervisors about live parcels")
    form.find_element(By.NAME, "event").send_keys("created")
    active = form.find_element(By.NAME, "active")
    if not active.is_selected():
        active.click()
    for name, value in (("conditions", '{"text_contains": ["parcel-live-check"]}'),
                        ("actions", '[{"notify": {"to": "supervisors"}}]')):
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button.primary").click()
    row = wait_until(lambda: [r for r in driver.find_elements(By.CSS_SELECTOR, "tr[data-rule]")
                              if "Tell supervisors about live parcels" in r.text], what="the saved rule")[0]
    rule_id = row.get_attribute("data-rule")
    try:
        driver.get(server.url + "/inbox/q/open")
        wait_until(lambda: sse_connected(driver), what="the live stream")
        badge = driver.find_element(By.ID, "notifications-badge")
        before = int(badge.get_attribute("data-unread"))
        server.post_messages([_msg("where is my parcel-live-check?", sender="notify-1")])
        wait_until(lambda: int(driver.find_element(By.ID, "notifications-badge").get_attribute("data-unread")) == before + 1,
                   what="the badge counting the new notification")
        assert driver.find_element(By.CSS_SELECTOR, "#notifications-badge .count").text == str(before + 1)
    finally:
        driver.get(server.url + "/inbox/admin/rules")
        driver.find_element(By.CSS_SELECTOR, f'tr[data-rule="{rule_id}"] button.danger-text').click()
        wait_until(lambda: not driver.find_elements(By.CSS_SELECTOR, f'tr[data-rule="{rule_id}"]'), what="the rule deleted")


def test_script_payload_is_rendered_inert(server, browser_factory):
    payload = ('<p>Hello <b>agent</b></p><script>window.__pwned = 1</script>'
               '<img src="x" onerror="window.__pwned = 2"><a href="javascript:window.__pwned=3">click</a>')
    server.post_messages([_msg("<script>window.__pwned = 4</script> plain text part", sender="xss-1",
                               html=payload, subject="<img src=x onerror=window.__pwned=5>")])
    driver = browser_factory()
    sign_in(driver, server.url, "bo@example.com")
    _open_ticket_with(driver, "onerror")  # the subject shows as text in the queue
    article = wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "article.msg.inbound"), what="the message")[-1]
    assert "Hello agent" in article.text
    for link in article.find_elements(By.TAG_NAME, "a"):
        link.click()
    assert driver.execute_script("return window.__pwned") is None
    assert not article.find_elements(By.TAG_NAME, "script")
    assert all(not img.get_attribute("onerror") for img in article.find_elements(By.TAG_NAME, "img"))


def test_agent_without_rights_is_refused(server, browser_factory):
    server.post_messages([_msg("a question for the read-only test", sender="ro-1")])
    driver = browser_factory()
    sign_in(driver, server.url, "ro@example.com")
    _open_ticket_with(driver, "a question for the read-only test")
    assert not driver.find_elements(By.CSS_SELECTOR, "#reply")
    assert "read-only access" in driver.find_element(By.CSS_SELECTOR, ".readonly-note").text
    ticket_id = driver.current_url.split("/inbox/t/")[1].split("?")[0]
    # even a hand-made request with a valid CSRF token is refused by the server
    status = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const token = document.querySelector('input[name=_csrf_token]').value;
        const form = new FormData(); form.append('text', 'sneaky'); form.append('_csrf_token', token);
        fetch('/inbox/t/%s/reply', {method: 'POST', body: form}).then(r => done(r.status));
    """ % ticket_id)
    assert status == 403
    driver.get(server.url + "/inbox/admin/macros")
    assert "403" in driver.find_element(By.TAG_NAME, "h1").text


def test_keyboard_help_and_assign_to_me(server, browser_factory):
    server.post_messages([_msg("keyboard driven ticket", sender="kb-1")])
    driver = browser_factory()
    sign_in(driver, server.url, "bo@example.com")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys("?")
    wait_until(lambda: driver.find_element(By.ID, "help").get_attribute("open") is not None, what="the help dialog")
    driver.find_element(By.CSS_SELECTOR, "#help form button").click()
    _open_ticket_with(driver, "keyboard driven ticket")
    driver.find_element(By.TAG_NAME, "body").send_keys("a")
    wait_until(lambda: "Bo Wang" in driver.find_element(By.CSS_SELECTOR, "select[name=assignee] option:checked").text,
               what="the ticket assigned to me")
    driver.find_element(By.TAG_NAME, "body").send_keys("n")
    assert driver.switch_to.active_element.tag_name == "textarea"
    assert driver.find_element(By.CSS_SELECTOR, "#reply").get_attribute("class").find("note-mode") >= 0


@pytest.mark.parametrize("language,email", [("en", "ann@example.com"), ("zh", "li@example.com")])
def test_screenshots(showcase, browser_factory, language, email):
    """Screenshots of the inbox and the ticket view for the README, in both languages."""
    driver = browser_factory(language)
    sign_in(driver, showcase.url, email)
    driver.get(showcase.url + "/inbox/q/open")
    wait_until(lambda: sse_connected(driver), what="the live stream")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"inbox-{language}.png"))
    _open_ticket_with(driver, "A-20391")
    wait_until(lambda: sse_connected(driver), what="the live stream")
    driver.save_screenshot(str(SCREENSHOTS / f"ticket-{language}.png"))
    expected = {"en": ("All open", "Internal note"), "zh": ("全部未解决", "内部备注")}[language]
    driver.get(showcase.url + "/inbox/q/open")
    assert expected[0] in driver.page_source
    assert (SCREENSHOTS / f"ticket-{language}.png").stat().st_size > 10_000


def test_live_across_two_web_processes_on_redis(scaled, browser_factory):
    """Scaled mode: the browser is on process A; the message arrives through process B."""
    first, second = scaled
    driver = browser_factory()
    sign_in(driver, first.url, "bo@example.com")
    wait_until(lambda: sse_connected(driver), what="the live stream")
    second.post_messages([_msg("arrived through the other process", sender="multi-1")])
    wait_until(lambda: "arrived through the other process" in driver.find_element(By.ID, "ticket-list").text,
               what="the ticket from process B in process A's browser")
    # the session made on A is valid on B too (Redis session store; cookies ignore the port)
    driver.get(second.url + "/inbox/q/open")
    assert "/login" not in driver.current_url and "arrived through the other process" in driver.page_source
