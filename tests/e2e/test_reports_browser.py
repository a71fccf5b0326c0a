"""The reports and the planning page in Chromium, in English and in Chinese: the charts Chart.js
draws under the strict Content-Security-Policy, the tables beneath them, the filters."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone

from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from tests.e2e.conftest import _seed_agents, run, sign_in, wait_until


async def _history(database: str) -> None:
    """Ten weeks of tickets before now (the planning page needs six), straight into the database."""
    from core import db
    from core.tables import Customer, Ticket

    await db.connect(database, pool_size=2)
    try:
        rng = random.Random(2)
        customer = (await Customer.insert(Customer(name="Browser history")).returning(Customer.id))[0]["id"]
        now = datetime.now(timezone.utc)
        rows = []
        for d in range(70, 0, -1):
            day = (now - timedelta(days=d)).replace(hour=0, minute=0)
            for _ in range(rng.randint(2, 6) if day.weekday() < 5 else 1):
                at = day + timedelta(hours=rng.randint(1, 12))
                rows.append(Ticket(customer=customer, channel_type="api", status="solved", created_at=at,
                                   updated_at=at, last_message_at=at))
        await Ticket.insert(*rows)
    finally:
        await db.disconnect()


def _charts_drawn(driver) -> bool:
    return driver.execute_script(
        "return document.body.dataset.chartsDrawn === '1' && "
        "Array.from(document.querySelectorAll('canvas[data-chart]')).every(c => c.chart && c.width > 0)")


def test_reports_and_planning_in_both_languages(server, browser_factory):
    run(_seed_agents(server.database, [("zhu@example.com", "朱主管", "supervisor", "zh")]))
    run(_history(server.database))
    server.post_messages([{"id": f"rep-{time.time()}", "sender": {"id": "rep-buyer"}, "text": "Where is my parcel?"}])
    driver = browser_factory(console=True)
    sign_in(driver, server.url, "ann@example.com")
    driver.find_element(By.LINK_TEXT, "Reports").click()
    wait_until(lambda: _charts_drawn(driver), what="the report charts")
    assert driver.find_element(By.CSS_SELECTOR, "table[data-table=overview] tbody th").text == "New tickets"
    time.sleep(1.0)
    Select(driver.find_element(By.NAME, "by")).select_by_value("tag")
    driver.find_element(By.CSS_SELECTOR, "#report-filters button").click()
    wait_until(lambda: "by=tag" in driver.current_url and _charts_drawn(driver), what="the report by tag")
    assert driver.find_element(By.ID, "h-breakdown").get_attribute("textContent") == "By tag"
    driver.find_element(By.LINK_TEXT, "Planning").click()
    wait_until(lambda: _charts_drawn(driver), timeout=60, what="the planning charts")
    assert len(driver.find_elements(By.CSS_SELECTOR, "table[data-table=hourly] tbody tr")) == 24
    problems = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not problems, problems

    chinese = browser_factory(language="zh")
    sign_in(chinese, server.url, "zhu@example.com")
    chinese.find_element(By.LINK_TEXT, "报表").click()
    wait_until(lambda: _charts_drawn(chinese), what="the report charts in Chinese")
    assert chinese.find_element(By.ID, "h-heatmap").get_attribute("textContent") == "按星期和小时的新工单"
    chinese.find_element(By.LINK_TEXT, "人力规划").click()
    wait_until(lambda: _charts_drawn(chinese), timeout=60, what="the planning charts in Chinese")
    assert "所需客服" in chinese.find_element(By.CSS_SELECTOR, "table[data-table=hourly] thead").text
