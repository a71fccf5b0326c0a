"""Team visibility in Chromium at human pace (issue 19 item 2): a supervisor makes a team-only team
on the Teams page and moves a VIP customer's ticket into it; a member sees it; an outsider agent
does not find it in the queue, in search or in the counts, and opening its address shows the page
a missing ticket gets (404), in English and, for a Chinese colleague, in Chinese."""

from __future__ import annotations

import time
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from tests.e2e.conftest import _seed_agents, run, sign_in, wait_until
from tests.e2e.test_shift_browser import _msg, _ticket_id

PAUSE = 2.0


def _open_count(driver) -> int:
    link = driver.find_element(By.CSS_SELECTOR, "#queue-nav a[data-queue='open'] .count")
    return int(link.text)


def _list_text(driver) -> str:
    return driver.find_element(By.ID, "ticket-list").text


def test_a_supervisor_sees_a_team_only_ticket_and_an_outsider_does_not(server, browser_factory):
    tag = uuid.uuid4().hex[:6]
    run(_seed_agents(server.database, [(f"sam-{tag}@example.com", "Sam Lead", "supervisor", "en"),
                                       (f"oz-{tag}@example.com", "Oz Outsider", "agent", "en")]))
    secret = f"VIP chargeback {tag} for order 8812"
    server.post_messages([_msg(secret, f"vip-{tag}", name=f"Vera {tag}")])
    ticket = _ticket_id(server, secret)

    # the supervisor makes the team, team-only, with Bo as its member
    lead = browser_factory()
    sign_in(lead, server.url, f"sam-{tag}@example.com")
    lead.get(f"{server.url}/inbox/admin/teams")
    new_team = lead.find_elements(By.CSS_SELECTOR, "form[action='/inbox/admin/teams']")[0]
    new_team.find_element(By.NAME, "name").send_keys(f"VIP {tag}")
    time.sleep(PAUSE)
    Select(new_team.find_element(By.NAME, "visibility")).select_by_value("members")
    new_team.find_element(By.CSS_SELECTOR, "button").click()
    wait_until(lambda: "edit=" in lead.current_url, what="the new team's form")
    form = lead.find_element(By.ID, "routing-form")
    form.find_element(By.XPATH, ".//label[contains(., 'Bo Wang')]/input").click()
    time.sleep(PAUSE)
    form.find_element(By.CSS_SELECTOR, "button.primary").click()
    wait_until(lambda: "saved=1" in lead.current_url, what="the team saved")
    row = lead.find_element(By.XPATH, f"//tr[td[1][normalize-space()='VIP {tag}']]")
    assert "Team only" in row.text and "Bo Wang" in row.text

    # ... and moves the ticket into it from the ticket's properties
    lead.get(f"{server.url}/inbox/t/{ticket}")
    time.sleep(PAUSE)
    Select(lead.find_element(By.CSS_SELECTOR, "#properties select[name=team]")).select_by_visible_text(f"VIP {tag}")
    wait_until(lambda: Select(lead.find_element(By.CSS_SELECTOR, "#properties select[name=team]"))
               .first_selected_option.text == f"VIP {tag}", what="the team set")
    time.sleep(PAUSE)
    lead.get(f"{server.url}/inbox/q/open")
    assert secret in _list_text(lead)
    lead_open = _open_count(lead)

    # the outsider: not in the queue, not in search, not counted, and 404 by address
    outsider = browser_factory()
    sign_in(outsider, server.url, f"oz-{tag}@example.com")
    assert secret not in _list_text(outsider)
    assert _open_count(outsider) == lead_open - 1
    assert not outsider.find_elements(By.XPATH, f"//nav[@id='queue-nav']//a[contains(., 'VIP {tag}')]")
    time.sleep(PAUSE)
    search = outsider.find_element(By.NAME, "q")
    search.send_keys("8812")
    time.sleep(PAUSE)
    search.submit()
    wait_until(lambda: "q=8812" in outsider.current_url, what="the search results")
    assert secret not in _list_text(outsider)
    outsider.get(f"{server.url}/inbox/t/{ticket}")
    assert "404" in outsider.title or "404" in outsider.find_element(By.TAG_NAME, "body").text
    assert f"ticket {ticket} does not exist" in outsider.find_element(By.TAG_NAME, "body").text
    assert secret not in outsider.page_source

    # the member (Bo) finds it by search
    member = browser_factory()
    sign_in(member, server.url, "bo@example.com")
    member.get(f"{server.url}/inbox/q/open?q=8812")
    wait_until(lambda: secret in _list_text(member), what="the member's search result")

    # a Chinese outsider gets the same, in Chinese
    li = browser_factory(language="zh-CN")
    sign_in(li, server.url, "li@example.com")
    assert secret not in _list_text(li)
    assert _open_count(li) == lead_open - 1
    time.sleep(PAUSE)
    li.get(f"{server.url}/inbox/t/{ticket}")
    assert f"工单 {ticket} 不存在" in li.find_element(By.TAG_NAME, "body").text
    assert secret not in li.page_source
