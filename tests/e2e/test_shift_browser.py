"""A shift in the inbox at human pace (issue 15): drafts that survive idle pauses, templates, many
page loads and tabs over plain HTTP/1.1, the Chinese UI, a strict Content-Security-Policy and the
send-time collision check. Real uvicorn, Debian's Chromium."""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e.conftest import run, sign_in, sse_connected, wait_until

IDLE = 2.0  # the pause the issue asks for: long enough for every delayed request of the reply box


def _msg(text: str, sender: str, **extra):
    body = {"id": f"shift-{uuid.uuid4().hex[:10]}", "sender": {"id": sender, "name": extra.pop("name", "Customer")},
            "text": text}
    body.update(extra)
    return body


def _ticket_id(server, text: str) -> int:
    async def find() -> int:
        from core import db
        from core.tables import Message

        await db.connect(server.database, pool_size=1)
        try:
            row = await Message.select(Message.ticket).where(Message.text == text).first()
            return row["ticket"]
        finally:
            await db.disconnect()
    return run(find())


def _new_ticket(server, text: str, sender: str, **extra) -> int:
    server.post_messages([_msg(text, sender, **extra)])
    return _ticket_id(server, text)


def _add_macro(server, shortcut: str, body: str) -> None:
    async def add() -> None:
        from core import db
        from core.tables import Macro

        await db.connect(server.database, pool_size=1)
        try:
            await Macro.insert(Macro(name=f"Template {shortcut}", shortcut=shortcut, body=body))
        finally:
            await db.disconnect()
    run(add())


def _sent(receiver, marker: str) -> list[str]:
    return [r.json()["text"] for r in receiver.requests if r.path == "/replies" and marker in r.json()["text"]]


def _box(driver):
    return driver.find_element(By.CSS_SELECTOR, "#reply textarea")


def _counter(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "[data-counter]").text


def _in_view(driver, element) -> bool:
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight + 1;",
        element)


CSP_PROBE = """
document.addEventListener('securitypolicyviolation', (e) => {
  const seen = JSON.parse(sessionStorage.getItem('csp') || '[]');
  seen.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
  sessionStorage.setItem('csp', JSON.stringify(seen));
});
"""


def _csp_seen(driver) -> list[str]:
    return json.loads(driver.execute_script("return sessionStorage.getItem('csp')") or "[]")


def test_every_response_carries_the_browser_defenses(server):
    """Issue 16 item 6: the policy and headers on pages, fragments, static files, errors and the API."""
    for path in ("/login", "/inbox/q/open", "/static/inbox.js", "/inbox/nowhere", "/health", "/api/v1/tickets"):
        headers = httpx.get(server.url + path).headers
        policy = headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, (path, policy)
        assert "unsafe" not in policy and "default-src 'self'" in policy, (path, policy)
        assert headers.get("x-frame-options") == "DENY" and headers.get("x-content-type-options") == "nosniff"
        assert headers.get("referrer-policy") == "same-origin"


def test_a_shift_on_one_ticket_drafts_survive_pauses_under_a_strict_csp(server, receiver, browser_factory):
    """Issue 15 items 6, 1 and 4 and issue 16 item 6, as an agent works: the ticket opens at its newest
    message with the reply box in view; the draft is never wiped while the agent pauses; after sending,
    the box and its counter are empty and the header shows the new status; and nothing on the way
    (queue, ticket, templates, reply, properties, help, settings, admin pages) breaks the CSP."""
    thread = f"long-{uuid.uuid4().hex[:6]}"
    server.post_messages([_msg(f"long thread message {i:02d} " + "words " * 40, "draft-1", thread_id=thread)
                          for i in range(12)])
    ticket = _ticket_id(server, "long thread message 11 " + "words " * 40)
    driver = browser_factory(console=True)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})
    sign_in(driver, server.url, "ann@example.com")
    driver.get(f"{server.url}/inbox/t/{ticket}")
    newest = driver.find_elements(By.CSS_SELECTOR, "#timeline article.msg")[-1]
    assert "message 11" in newest.text
    wait_until(lambda: _in_view(driver, newest), timeout=3, what="the newest message in view")
    assert _in_view(driver, driver.find_element(By.CSS_SELECTOR, "#reply button[type=submit]"))
    wait_until(lambda: sse_connected(driver), what="the live stream")
    assert "New" in driver.find_element(By.CSS_SELECTOR, ".ticket-head .status").text
    first = "Hello, I checked with the warehouse"
    _box(driver).send_keys(first)
    time.sleep(IDLE)  # the typing-presence request fires 0.5 s after the last key
    assert _box(driver).get_attribute("value") == first
    driver.refresh()  # a reload (or a closed tab) keeps the draft too
    assert _box(driver).get_attribute("value") == first and _counter(driver).startswith(f"{len(first)} /")
    _box(driver).send_keys(Keys.END)
    more = " and your parcel left today. 今天已发货。"
    _box(driver).send_keys(more)
    time.sleep(IDLE)
    text = first + more
    assert _box(driver).get_attribute("value") == text
    assert _counter(driver).startswith(f"{len(text)} /")
    driver.find_element(By.CSS_SELECTOR, "#reply button[type=submit]").click()
    wait_until(lambda: _sent(receiver, "left today"), what="the reply at the far end")
    assert _sent(receiver, "left today") == [text]
    wait_until(lambda: _box(driver).get_attribute("value") == "" and _counter(driver).startswith("0 /"),
               what="the box and its counter emptied after sending")
    wait_until(lambda: "Open" in driver.find_element(By.CSS_SELECTOR, ".ticket-head .status").text,
               what="the header showing the ticket open")
    # more of the inbox under the policy: assign by key (hx-vals), the template search, the help dialog;
    # the agent leaves the reply box first (shortcuts do not fire while typing in it)
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    driver.find_element(By.TAG_NAME, "body").send_keys("a")
    wait_until(lambda: "Ann Chen" in driver.find_element(By.CSS_SELECTOR, "select[name=assignee] option:checked").text,
               what="assigned")
    driver.find_element(By.CSS_SELECTOR, ".macro-search input").click()
    driver.find_element(By.TAG_NAME, "body").click()
    driver.find_element(By.TAG_NAME, "body").send_keys("?")
    for path in ("/inbox/q/open", "/settings", "/inbox/admin/macros", "/inbox/admin/rules", "/inbox/notifications"):
        assert _csp_seen(driver) == [], f"CSP violations before {path}"
        driver.get(server.url + path)
    assert _csp_seen(driver) == []
    assert [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]] == []
    # the probe does hear a violation: an inline script is refused
    driver.execute_script("const s = document.createElement('script'); s.textContent = 'window.__inline = 1';"
                          "document.body.appendChild(s);")
    assert driver.execute_script("return window.__inline") is None
    wait_until(lambda: any("script-src" in v for v in _csp_seen(driver)), what="the probe hearing the inline script")


def test_a_shortcut_pressed_as_a_live_refresh_lands_still_acts(server, browser_factory):
    """A live refresh of the properties panel swaps in a fresh "Assign to me" button, which htmx wires
    up only after its settle delay. The agent's "a" pressed in that moment (as CI once did) assigned
    nothing; it must assign."""
    ticket = _new_ticket(server, f"refresh race {uuid.uuid4().hex[:6]}", "race-1")
    driver = browser_factory()
    sign_in(driver, server.url, "ann@example.com")
    driver.get(f"{server.url}/inbox/t/{ticket}")
    wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "[data-key=a]"), what="the properties panel")
    # press "a" in the same task as the refreshed panel is swapped in, before htmx settles it
    driver.execute_script("""
        document.body.addEventListener('htmx:afterSwap', (e) => {
          if (e.detail.target.id !== 'properties' || window.__pressed) return;
          window.__pressed = !!document.querySelector('[data-key=a]');
          document.dispatchEvent(new KeyboardEvent('keydown', {key: 'a', bubbles: true}));
        });
        htmx.trigger(document.body, 'live-ticket-' + arguments[0]);""", ticket)
    wait_until(lambda: driver.execute_script("return window.__pressed"), what="the key pressed on the fresh panel")
    wait_until(lambda: "Ann Chen" in driver.find_element(By.CSS_SELECTOR, "select[name=assignee] option:checked").text,
               what="assigned by the shortcut")
    driver.refresh()
    assert "Ann Chen" in driver.find_element(By.CSS_SELECTOR, "select[name=assignee] option:checked").text


def test_a_burst_of_new_tickets_all_reach_the_open_queue(server, browser_factory):
    """At peak, new tickets arrive faster than the list refreshes. The list refreshes at most every two
    seconds, but once more after a burst: the last ticket of a burst shows up without a reload."""
    driver = browser_factory()
    sign_in(driver, server.url, "ann@example.com")
    driver.get(f"{server.url}/inbox/q/open")
    wait_until(lambda: sse_connected(driver), what="the live stream")
    burst = uuid.uuid4().hex[:6]
    server.post_messages([_msg(f"burst {burst} first", f"burst-{burst}-0")])
    wait_until(lambda: f"burst {burst} first" in driver.find_element(By.ID, "ticket-list").text, what="the first")
    for i in range(1, 4):  # inside the two-second window of the first refresh
        server.post_messages([_msg(f"burst {burst} number {i}", f"burst-{burst}-{i}")])
        time.sleep(0.3)
    wait_until(lambda: f"burst {burst} number 3" in driver.find_element(By.ID, "ticket-list").text, timeout=8,
               what="the last ticket of the burst in the list")


def _agent_client(server, email: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url)
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"email": email, "password": "pw", "_csrf_token": token}).status_code == 302
    return client


def test_a_template_edited_and_sent_is_what_was_shown_and_a_collision_asks_to_look_first(server, receiver,
                                                                                          browser_factory):
    """Issue 15 items 1 and 3 and the send-time collision: an inserted template is not wiped by the
    typing request; the template list closes once a template is picked and when the agent clicks into
    the box; when another agent answered after this one opened the ticket, Send shows that answer and
    sends nothing; Send again sends what the box shows."""
    _add_macro(server, "late", "Sorry for the delay, {{ customer.name }}.")
    ticket = _new_ticket(server, "Still waiting for my order", "tpl-1", name="Mia Tanaka")
    driver = browser_factory()
    sign_in(driver, server.url, "bo@example.com")
    driver.get(f"{server.url}/inbox/t/{ticket}")
    search = driver.find_element(By.CSS_SELECTOR, ".macro-search input")
    search.click()
    search.send_keys("late")
    pick = wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "#macro-results .macro-list button"),
                      what="the template list")
    pick.click()
    insert = wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "#macro-preview [data-insert]"), what="the preview")
    time.sleep(0.5)  # let the search's own delayed request answer: it must not open the list again
    wait_until(lambda: not driver.find_element(By.ID, "macro-results").is_displayed(),
               what="the template list closed once a template is picked")
    hit = driver.execute_script("const r = arguments[0].getBoundingClientRect();"
                                "return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);", insert)
    assert hit == insert, "something covers the Insert button"
    insert.click()
    wait_until(lambda: "Mia Tanaka" in _box(driver).get_attribute("value"), what="the template in the box")
    _box(driver).send_keys(" Your order ships tomorrow.")
    search.click()  # focus alone shows the list again...
    wait_until(lambda: driver.find_element(By.ID, "macro-results").is_displayed(), what="the list reopened")
    _box(driver).click()  # ...and going back to the box closes it
    wait_until(lambda: not driver.find_element(By.ID, "macro-results").is_displayed(),
               what="the list closed when the agent clicks into the reply box")
    time.sleep(IDLE)
    shown = _box(driver).get_attribute("value")
    assert shown == "Sorry for the delay, Mia Tanaka. Your order ships tomorrow."
    # meanwhile Ann answers the same ticket from her own session
    ann = _agent_client(server, "ann@example.com")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', ann.get(f"/inbox/t/{ticket}").text).group(1)
    assert ann.post(f"/inbox/t/{ticket}/reply", data={"text": "Ann's answer coll-ann", "_csrf_token": token}).status_code == 302
    wait_until(lambda: _sent(receiver, "coll-ann"), what="Ann's reply sent")
    driver.find_element(By.CSS_SELECTOR, "#reply button[type=submit]").click()
    warning = wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "#reply .collision"), what="the collision warning")
    assert "coll-ann" in warning.text and "Ann Chen" in warning.text
    assert _sent(receiver, "ships tomorrow") == []
    assert _box(driver).get_attribute("value") == shown
    driver.find_element(By.CSS_SELECTOR, "#reply button[type=submit]").click()
    wait_until(lambda: _sent(receiver, "ships tomorrow"), what="the reply sent after looking")
    assert _sent(receiver, "ships tomorrow") == [shown]
    wait_until(lambda: not driver.find_elements(By.CSS_SELECTOR, "#reply .collision"), what="the warning gone")


def _timed_get(driver, url: str) -> float:
    """Seconds from the start of the navigation to the end of the page's load event, as the page's
    own Navigation Timing tells (webdriver's round trips excluded); infinite when it never loads."""
    try:
        driver.get(url)
    except TimeoutException:
        return float("inf")
    return driver.execute_script("const n = performance.getEntriesByType('navigation')[0];"
                                 "return n.loadEventEnd / 1000;")


def test_thirty_pages_in_one_tab_then_four_tabs_all_stay_live(server, browser_factory):
    """Issue 15 item 2: over plain HTTP/1.1 (uvicorn) Chromium allows six connections per host; the
    live stream must not eat them, page after page and tab after tab."""
    tickets = [_new_ticket(server, f"tab test ticket {i}", f"tabs-{i}") for i in range(3)]
    driver = browser_factory()
    driver.set_page_load_timeout(8)
    sign_in(driver, server.url, "ann@example.com")
    pages = [f"{server.url}/inbox/t/{tickets[i % 3]}" if i % 2 else f"{server.url}/inbox/q/open" for i in range(30)]
    times = [_timed_get(driver, url) for url in pages]
    slow = [(i + 1, round(t, 2)) for i, t in enumerate(times) if t >= 2.0]
    assert slow == [], f"page loads (number, seconds) that took 2 s or more: {slow}"
    wait_until(lambda: sse_connected(driver), what="the live stream after 30 pages")
    # four tabs: two on the same ticket, two on the queue
    urls = [f"{server.url}/inbox/t/{tickets[0]}", f"{server.url}/inbox/q/open", f"{server.url}/inbox/t/{tickets[0]}",
            f"{server.url}/inbox/q/open"]
    driver.get(urls[0])
    handles = [driver.current_window_handle]
    for url in urls[1:]:
        driver.switch_to.new_window("tab")
        assert _timed_get(driver, url) < 2.0
        handles.append(driver.current_window_handle)
    # a follow-up on the open ticket (its tabs' timelines) and a new ticket (the queue tabs' lists);
    # a tab in the background catches up when it is shown again
    follow_up, new_ticket = f"a follow-up for every tab {uuid.uuid4().hex[:6]}", f"new in every tab {uuid.uuid4().hex[:6]}"
    server.post_messages([_msg(follow_up, "tabs-0"), _msg(new_ticket, "tabs-new")])
    for handle, url in zip(handles, urls):
        driver.switch_to.window(handle)
        where, text = ("timeline", follow_up) if "/inbox/t/" in url else ("ticket-list", new_ticket)
        wait_until(lambda: text in driver.find_element(By.ID, where).text, timeout=8,
                   what=f"the live update in the tab on {url}")
    # and one more page still loads in every tab (each tab that comes back to the front also
    # refreshes its live parts, so this load shares the server with those requests)
    for handle in handles:
        driver.switch_to.window(handle)
        assert _timed_get(driver, f"{server.url}/inbox/q/open") < 8.0


def test_chinese_ui_speaks_chinese_and_has_a_favicon(server, browser_factory):
    """Issue 15 item 5."""
    ticket = _new_ticket(server, "zh ui check", "zh-1")
    driver = browser_factory("zh", console=True)
    sign_in(driver, server.url, "li@example.com")
    driver.get(f"{server.url}/inbox/t/999999")
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "工单 999999 不存在" in body and "does not exist" not in body
    driver.get_log("browser")  # that page's own 404 is expected; what follows must load whole
    driver.get(f"{server.url}/inbox/t/{ticket}")
    tags = driver.find_element(By.CSS_SELECTOR, ".panel.customer input[name=tags]")
    assert tags.get_attribute("placeholder") and "VIP, wholesale" not in tags.get_attribute("placeholder")
    icon = driver.find_element(By.CSS_SELECTOR, "link[rel=icon]").get_attribute("href")
    for url in (icon, server.url + "/favicon.ico"):
        answer = httpx.get(url)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/"), url
    failed = [e["message"] for e in driver.get_log("browser") if "favicon" in e["message"] or "404" in e["message"]]
    assert failed == []
