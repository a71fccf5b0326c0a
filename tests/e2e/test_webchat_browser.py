"""The contact widget at human pace (issue 22): a sample store page on another origin carries one
script tag; the customer opens the widget, searches the help center, then writes with pre-chat
fields; the message arrives as a ticket; the agent's reply appears in the widget live. Real
uvicorn, Debian's Chromium."""

from __future__ import annotations

import http.server
import os
import threading
import time
from typing import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.conftest import API_SECRET
from tests.e2e.conftest import AGENTS, Server, _seed_agents, free_port, run, wait_until, write_config

IDLE = 0.5
STORE_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>Tea Shop</title></head>
<body><h1>茶叶店</h1><p>Green tea, oolong and teapots.</p>
<script src="{desk}/webchat/shop/widget.js" async></script></body></html>"""


async def _setup(database: str) -> str:
    from core import db
    from core.auth import create_token
    from core.tables import Agent
    from plugins.kb import store, theme

    await db.connect(database, pool_size=2)
    try:
        await theme.save_brand("shop", name="Tea Shop", languages=["zh", "en"])
        article = await store.save_article(article_id=None, slug="customs", category=None, visibility="public",
                                           brands=[], tags=[])
        await store.save_translation(article, "zh", title="海关关税", body_html="<p>关税由买家支付。</p>",
                                     status="published", author="e2e")
        agent = await Agent.select(Agent.id).where(Agent.email == "bo@example.com").first()
        return await create_token(agent["id"], "e2e")
    finally:
        await db.disconnect()


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory, receiver) -> Iterator[tuple[Server, str, str]]:
    root = tmp_path_factory.mktemp("e2e-webchat")
    database = f"sqlite:///{root / 'relaydesk.db'}"
    store_port = free_port()
    store_origin = f"http://localhost:{store_port}"  # another origin than the desk's 127.0.0.1
    config = write_config(root / "plugins.toml", database, root / "data", receiver.url + "/replies")
    config.write_text(config.read_text().replace('enabled = ["api_channel"]', 'enabled = ["api_channel", "kb", "webchat"]')
                      + f'\n[plugins.webchat.accounts.shop]\nhelp_brand = "shop"\npow_bits = 10\n'
                        f'allowed_origins = ["{store_origin}"]\n')
    names = ("RELAYDESK_E2E_SECRET", "RELAYDESK_TEST_API_SECRET")
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update({"RELAYDESK_E2E_SECRET": "e2e-secret-" + "x" * 20, "RELAYDESK_TEST_API_SECRET": API_SECRET})
    srv = Server(config, free_port(), root / "server.log")
    page = STORE_PAGE.format(desk=srv.url).encode()

    class Store(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    shop = http.server.ThreadingHTTPServer(("127.0.0.1", store_port), Store)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    try:
        run(_seed_agents(database, AGENTS))
        token = run(_setup(database))
        yield srv, store_origin, token
    finally:
        shop.shutdown()
        srv.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _type(element, text: str) -> None:
    for part in text.split(" "):
        element.send_keys(part + " ")
        time.sleep(0.05)


def test_widget_round_trip(chat_server, browser_factory):
    srv, store_origin, token = chat_server
    driver = browser_factory(language="zh-CN")
    driver.get(store_origin + "/")
    button = wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "button[data-relaydesk-chat]"), what="the widget button")
    time.sleep(IDLE)
    button.click()
    frame = wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "iframe[data-relaydesk-chat]"), what="the chat frame")
    driver.switch_to.frame(frame)
    box = wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "#search input[name=q]"), what="the help search")
    assert "我们能帮您什么？" in driver.page_source  # the store's language
    _type(box, "关税")
    driver.find_element(By.CSS_SELECTOR, "#search button").click()
    wait_until(lambda: driver.find_element(By.LINK_TEXT, "海关关税"), what="the help article in the widget")
    time.sleep(IDLE)
    driver.find_element(By.ID, "to-write").click()
    form = driver.find_element(By.ID, "start")
    _type(form.find_element(By.NAME, "name"), "王伟")
    _type(form.find_element(By.NAME, "email"), "wei@example.cn")
    _type(form.find_element(By.NAME, "order"), "1002")
    _type(form.find_element(By.NAME, "text"), "我的茶壶什么时候发货？")
    time.sleep(IDLE)
    form.find_element(By.CSS_SELECTOR, "button").click()
    wait_until(lambda: "我的茶壶什么时候发货？" in driver.find_element(By.ID, "log").text, timeout=30,
               what="the message in the conversation")

    headers = {"authorization": f"Bearer {token}"}
    tickets = wait_until(lambda: httpx.get(srv.url + "/api/v1/tickets", headers=headers).json()["items"],
                         what="the ticket in the desk")
    ticket = tickets[0]
    messages = httpx.get(f"{srv.url}/api/v1/tickets/{ticket['id']}/messages", headers=headers).json()["items"]
    assert messages[0]["text"] == "我的茶壶什么时候发货？"
    reply = httpx.post(f"{srv.url}/api/v1/tickets/{ticket['id']}/reply", headers=headers,
                       json={"text": "今天下午发货，谢谢您的耐心！"})
    assert reply.status_code == 202, reply.text
    wait_until(lambda: "今天下午发货，谢谢您的耐心！" in driver.find_element(By.ID, "log").text, timeout=15,
               what="the agent's reply in the widget")
    more = driver.find_element(By.CSS_SELECTOR, "#more textarea")
    _type(more, "好的，谢谢")
    driver.find_element(By.CSS_SELECTOR, "#more button").click()
    wait_until(lambda: "好的，谢谢" in driver.find_element(By.ID, "log").text, what="the follow-up in the conversation")
